"""Result types: face boxes, a face's emotion scores, and a sadness reading. All immutable."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from buddy_emotion._check import integer, is_real, number, shown
from buddy_emotion.errors import ArgumentTypeError, InvalidArgumentError
from buddy_emotion.labels import EMOTIONS, SADNESS

__all__ = ["FaceBox", "FaceEmotion", "SadnessReading", "NoReadingReason", "Scores"]


@dataclass(frozen=True, order=True)
class FaceBox:
    """An axis-aligned face box in pixels of the input frame: top-left corner ``(x, y)``, ``width``, ``height``.

    Other finite real numbers are truncated to ints (as ``int()`` does); None, str, bool, NaN and inf raise
    ValueError, as does a size that is not positive.
    """

    x: int
    y: int
    width: int
    height: int

    def __post_init__(self) -> None:
        for name in ("x", "y", "width", "height"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                if not is_real(value):
                    raise ArgumentTypeError(f"FaceBox {name} must be a finite number of pixels, got {shown(value)}")
                if not math.isfinite(value):
                    raise InvalidArgumentError(f"FaceBox {name} must be a finite number of pixels, got {shown(value)}")
                object.__setattr__(self, name, int(value))  # float coordinates are truncated, as int() does
        if self.width <= 0 or self.height <= 0:
            raise InvalidArgumentError(f"a face box needs a positive size, got {self.width}x{self.height}")

    @property
    def right(self) -> int:
        """One past the last column (``x + width``)."""
        return self.x + self.width

    @property
    def bottom(self) -> int:
        """One past the last row (``y + height``)."""
        return self.y + self.height

    @property
    def area(self) -> int:
        """Area in square pixels."""
        return self.width * self.height

    @property
    def size(self) -> int:
        """The shorter side in pixels (what "face too small" is judged on)."""
        return min(self.width, self.height)

    @property
    def center(self) -> tuple[float, float]:
        """Centre ``(x, y)`` in pixels."""
        return (self.x + self.width / 2.0, self.y + self.height / 2.0)

    def clip(self, frame_width: int, frame_height: int) -> FaceBox | None:
        """This box cut to the frame; None if nothing of it is inside."""
        frame_width, frame_height = integer("frame_width", frame_width), integer("frame_height", frame_height)
        x0, y0 = max(self.x, 0), max(self.y, 0)
        x1, y1 = min(self.right, frame_width), min(self.bottom, frame_height)
        if x1 <= x0 or y1 <= y0:
            return None
        return FaceBox(x0, y0, x1 - x0, y1 - y0)

    def iou(self, other: FaceBox) -> float:
        """Intersection over union with ``other`` (0..1)."""
        if not isinstance(other, FaceBox):
            raise ArgumentTypeError(f"other must be a FaceBox, got {shown(other)}")
        ix = max(0, min(self.right, other.right) - max(self.x, other.x))
        iy = max(0, min(self.bottom, other.bottom) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union else 0.0

    def as_dict(self) -> dict[str, int]:
        """JSON-ready dict: ``x``, ``y``, ``width``, ``height`` in pixels."""
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height}


class Scores(dict[str, float]):
    """Emotion label -> probability (0..1), read-only.

    A ``dict`` subclass so that results go through ``json.dumps``, ``pickle`` (process pools),
    ``copy.deepcopy`` and ``dataclasses.asdict`` as they are; every method that would change it raises
    ``TypeError``. ``dict(scores)`` gives a mutable copy.
    """

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("emotion scores are read-only; dict(scores) gives a copy you can change")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _read_only  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __copy__(self) -> Scores:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Scores:
        return self


def _freeze_scores(scores: Mapping[str, float]) -> Mapping[str, float]:
    if not isinstance(scores, Mapping):
        raise ArgumentTypeError("scores must be a mapping of emotion label -> probability, got "
                                f"{type(scores).__name__}")
    out: dict[str, float] = {}
    for label, value in scores.items():
        if label not in EMOTIONS:
            raise InvalidArgumentError(f"unknown emotion label {label!r}; expected one of {', '.join(EMOTIONS)}")
        v = float(value) if is_real(value) else math.nan
        if not math.isfinite(v) or v < -1e-6 or v > 1 + 1e-6:
            raise InvalidArgumentError(f"score of {label!r} must be a probability in 0..1, got {shown(value)}")
        out[label] = min(max(v, 0.0), 1.0)
    return Scores(out)


@dataclass(frozen=True)
class FaceEmotion:
    """One face and its emotion probabilities.

    ``scores`` maps each label the backend supports (a subset of :data:`buddy_emotion.EMOTIONS`)
    to a probability (a read-only :class:`Scores` dict); they sum to about 1. ``box`` is None when the
    input was already a face crop.
    """

    box: FaceBox | None
    scores: Mapping[str, float]
    backend: str = ""

    def __post_init__(self) -> None:
        if self.box is not None and not isinstance(self.box, FaceBox):
            raise ArgumentTypeError(f"box must be a FaceBox or None, got {type(self.box).__name__}")
        object.__setattr__(self, "scores", _freeze_scores(self.scores))
        if not self.scores:
            raise InvalidArgumentError("scores must hold at least one emotion label")
        if not isinstance(self.backend, str):
            raise ArgumentTypeError(f"backend must be a str (the backend's name), got {type(self.backend).__name__}")

    @property
    def dominant(self) -> str:
        """The most probable label."""
        return max(self.scores, key=self.scores.__getitem__)

    @property
    def sadness(self) -> float | None:
        """Probability of sadness, or None if the backend cannot tell sadness."""
        return self.scores.get(SADNESS)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (no image data)."""
        return {
            "box": self.box.as_dict() if self.box else None,
            "scores": dict(self.scores),
            "dominant": self.dominant,
            "backend": self.backend,
        }


class NoReadingReason(str, enum.Enum):
    """Why a :class:`SadnessReading` has no sadness value (or, for quality gates, does not count)."""

    def __str__(self) -> str:  # print(reading.reason) shows "no_face", as in JSON output
        return self.value

    NO_FACE = "no_face"
    FACE_TOO_SMALL = "face_too_small"
    BAD_FRAME = "bad_frame"  # a valid array with nothing to see: uniform, e.g. a covered lens
    BLURRED = "blurred"
    TOO_DARK = "too_dark"
    OVEREXPOSED = "overexposed"
    MULTIPLE_FACES = "multiple_faces"
    BACKEND_ERROR = "backend_error"
    CAMERA_ERROR = "camera_error"


@dataclass(frozen=True)
class SadnessReading:
    """How sad the main face of one frame looks.

    Attributes:
        sadness: probability of sadness 0..1, or None when there is no value (see ``reason``).
        is_sad: True when ``sadness`` reaches the detector's threshold.
        box: the main face's box in frame pixels, or None.
        scores: all emotion probabilities of the main face (read-only :class:`Scores`), or None.
        backend: name of the backend that produced it.
        timestamp: seconds (``time.time()`` unless the caller gave one).
        reason: why there is no value, or None when there is one.
        face_count: number of faces found in the frame.
        threshold: the sadness threshold ``is_sad`` was judged against.
        faces: every face found, largest first, as :class:`FaceEmotion` (not part of ``as_dict`` or equality).
    """

    sadness: float | None
    is_sad: bool
    box: FaceBox | None
    scores: Mapping[str, float] | None
    backend: str
    timestamp: float
    reason: NoReadingReason | None = None
    face_count: int = 0
    threshold: float = 0.5
    faces: tuple[FaceEmotion, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.sadness is not None:
            number("sadness", self.sadness, 0.0, 1.0)
        number("timestamp", self.timestamp)
        number("threshold", self.threshold, 0.0, 1.0)
        integer("face_count", self.face_count, 0)
        if self.box is not None and not isinstance(self.box, FaceBox):
            raise ArgumentTypeError(f"box must be a FaceBox or None, got {type(self.box).__name__}")
        if self.reason is not None and not isinstance(self.reason, NoReadingReason):
            raise ArgumentTypeError(f"reason must be a NoReadingReason or None, got {shown(self.reason)}")
        if self.scores is not None:
            object.__setattr__(self, "scores", _freeze_scores(self.scores))
        if self.sadness is None and self.reason is None:
            raise InvalidArgumentError("a reading without a sadness value needs a reason")

    @property
    def ok(self) -> bool:
        """True when the reading has a sadness value."""
        return self.sadness is not None

    @property
    def dominant(self) -> str | None:
        """The main face's most probable label (like fer's ``top_emotion``), or None without scores."""
        return max(self.scores, key=self.scores.__getitem__) if self.scores else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (no image data)."""
        return {
            "timestamp": self.timestamp,
            "sadness": self.sadness,
            "is_sad": self.is_sad,
            "reason": self.reason.value if self.reason else None,
            "box": self.box.as_dict() if self.box else None,
            "scores": dict(self.scores) if self.scores is not None else None,
            "dominant": self.dominant,
            "face_count": self.face_count,
            "backend": self.backend,
            "threshold": self.threshold,
        }
