"""``SadnessMonitor``: decides when Buddy should speak first, without false alarms.

The question is not "is this frame sad?" but "has this person looked sad long enough that Buddy should
speak now?". One sample is taken every couple of seconds and goes through three stages:

1. **Detection**: the :class:`~buddy_emotion.detector.Detector` reads the main face's sadness.
2. **Quality gate** (:func:`check_quality`): samples with no face, a face too small, blurred (variance of
   the Laplacian of the face), too dark, overexposed, or several faces of similar size are marked with a
   :class:`~buddy_emotion.types.NoReadingReason` and do not count as evidence.
3. **Decision** (:meth:`SadnessMonitor.feed`): the mean of the valid readings of the last ``window``
   seconds must reach the *enter level* (``enter_threshold``, raised for users whose resting face reads
   as sad: ``baseline.level`` raised by ``baseline_margin`` in log-odds), stay above the *exit level*
   (hysteresis) for at least ``min_duration`` seconds and ``min_samples`` valid samples; gaps without a
   valid sample (the user looks away) up to ``max_gap`` seconds are tolerated; after an event nothing
   fires for ``cooldown`` seconds.

Push mode (``monitor.update(frame, timestamp=t)``) serves live cameras, video files and tests alike;
:meth:`SadnessMonitor.run` / :meth:`~SadnessMonitor.start` / :meth:`~SadnessMonitor.stop` drive a camera in
a (background) loop that survives camera errors. Nothing is written to disk except a baseline the caller
saves (:meth:`Baseline.save`); no frame is kept beyond the sample in hand. See ``docs/monitor.md``.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import inspect
import json
import logging
import math
import numbers
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from buddy_emotion import _check
from buddy_emotion.errors import (
    ArgumentTypeError,
    BaselineError,
    CameraError,
    ImageFileError,
    InvalidArgumentError,
    InvalidFrameError,
)
from buddy_emotion.frames import to_gray, validate_frame
from buddy_emotion.types import FaceBox, NoReadingReason, SadnessReading

__all__ = [
    "SadnessMonitor",
    "MonitorOptions",
    "QualityGate",
    "SadnessEvent",
    "MonitorSample",
    "TimelinePoint",
    "Timeline",
    "Baseline",
    "BaselineError",
    "MonitorState",
    "MonitorStatus",
    "FaceQuality",
    "measure_face",
    "check_quality",
    "assess_reading",
    "raise_level",
]

log = logging.getLogger(__name__)

_BASELINE_FORMAT = "buddy-emotion-baseline"
_BASELINE_VERSION = 1
_MAX_BASELINE_BYTES = 64 * 1024
_MEASURE_SIZES = (16, 512)  # QualityGate.measure_size: enough pixels to measure, not megabytes per sample


def _callable_or_none(name: str, value: Any) -> None:
    if value is not None and not callable(value):
        raise ArgumentTypeError(f"{name} must be callable or None, got {type(value).__name__}")


def _store(obj: Any, name: str, checked: Any, keep: tuple[type, ...]) -> None:
    """Put a checked value on a frozen dataclass unless the given one has a type in ``keep`` already
    (``np.int64(5)`` and ``5.0`` become ``5`` for ints, numpy scalars become floats, ints and floats stay)."""
    if type(getattr(obj, name)) not in keep:
        object.__setattr__(obj, name, checked)


# ---------------------------------------------------------------------------------------------------------
# options
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityGate:
    """Per-sample quality checks; a sample that fails one does not count as evidence.

    Measures are taken on the face box cut from the grey frame and resized to ``measure_size`` pixels
    (so they do not depend on the face's size in the frame); without a box, on the whole frame.

    Attributes:
        min_face: shortest face side in frame pixels, a whole number >= 1 (smaller: ``FACE_TOO_SMALL``).
        min_sharpness: variance of the Laplacian of the face over the variance of the face (below:
            ``BLURRED``); see :func:`measure_face`.
        min_brightness: mean grey level of the face (below: ``TOO_DARK``).
        max_brightness: mean grey level of the face (above: ``OVEREXPOSED``).
        max_saturated: share of face pixels at 250 or more (above: ``OVEREXPOSED``).
        min_contrast: standard deviation of the face's grey levels (below: ``TOO_DARK`` when the face is
            darker than mid-grey, ``OVEREXPOSED`` otherwise): a washed-out face.
        multiple_faces: with several faces, ``"dominant"`` uses the largest one when its area is at least
            ``dominance`` times the next one (a person in front, others far behind) and marks the sample
            ``MULTIPLE_FACES`` otherwise; ``"largest"`` always uses the largest; ``"reject"`` marks every
            sample with more than one face.
        dominance: see ``multiple_faces``.
        measure_size: side in pixels of the face patch the measures are taken on (a whole number, 16..512).
    """

    min_face: int = 60
    min_sharpness: float = 0.5
    min_brightness: float = 50.0
    max_brightness: float = 215.0
    max_saturated: float = 0.25
    min_contrast: float = 12.0
    multiple_faces: Literal["dominant", "largest", "reject"] = "dominant"
    dominance: float = 2.0
    measure_size: int = 64

    def __post_init__(self) -> None:
        if not isinstance(self.multiple_faces, str) or self.multiple_faces not in ("dominant", "largest", "reject"):
            raise InvalidArgumentError("multiple_faces must be 'dominant', 'largest' or 'reject', got "
                                       f"{self.multiple_faces!r}")
        _store(self, "min_face", _check.integer("min_face", self.min_face, 1), (int,))
        _store(self, "measure_size", _check.integer("measure_size", self.measure_size, *_MEASURE_SIZES), (int,))
        for name, lo, hi in (("min_sharpness", 0.0, math.inf), ("min_brightness", 0.0, 255.0),
                             ("max_brightness", 0.0, 255.0), ("max_saturated", 0.0, 1.0),
                             ("min_contrast", 0.0, math.inf), ("dominance", 1.0, math.inf)):
            _store(self, name, _check.number(name, getattr(self, name), lo, hi), (int, float))
        if not self.min_brightness < self.max_brightness:
            raise InvalidArgumentError(f"min_brightness ({self.min_brightness}) must be below max_brightness "
                                       f"({self.max_brightness})")


@dataclass(frozen=True)
class MonitorOptions:
    """Settings of a :class:`SadnessMonitor` (all times in seconds, sadness levels 0..1).

    The defaults were tuned for the bundled model with ``benchmarks/bench_monitor.py`` on simulated
    sessions of FER-2013 faces, one sample every 2 s; ``docs/monitor.md`` gives the figures, the reasons
    and which faces each choice was made on.

    Attributes:
        window: the smoothed score is the mean of the valid readings of the last ``window`` seconds.
        min_window_samples: fewer valid readings than this in the window: no smoothed score.
        enter_threshold: smoothed score at which a sad spell begins (for users without a raised baseline).
        exit_threshold: smoothed score below which a spell ends (hysteresis: ``exit < enter``); with a
            raised baseline it moves up with the enter level, keeping the same gap.
        min_duration: a spell must last this long (from its first sad reading) before an event.
        min_samples: ...and hold this many valid readings.
        max_gap: longest stretch without a valid reading (user away, quality-gated samples) that a spell,
            and the smoothing window, survive; longer gaps start afresh.
        cooldown: no event within this long after the previous one.
        baseline_margin: the enter level is at least the baseline level raised by this much in log-odds:
            ``sigmoid(logit(min(baseline.level, max_baseline)) + baseline_margin)``. Log-odds, because a
            fixed step in probability means less evidence near 0.5 than near 0 or 1: 0.6 takes a resting
            level of 0.1 / 0.3 / 0.5 / 0.85 to 0.17 / 0.44 / 0.65 / 0.91.
        baseline_quantile: the baseline level is this quantile of the user's calm readings.
        max_baseline: the baseline level is capped here (a user who is sad during calibration can not
            silence the monitor for good).
        calibration_samples: without a given baseline, the first this many valid readings calibrate it;
            no event fires before. 0: no calibration phase, events may fire from the first sample on the
            plain ``enter_threshold`` (and, with ``adapt_baseline``, the baseline is learned as calm
            readings come).
        adapt_baseline: keep updating the baseline from the last ``baseline_window`` valid readings,
            leaving out those of a spell that may still fire (readings after an event, or during the
            cooldown, are taken in: that look is the user's normal now).
        baseline_window: see ``adapt_baseline``.
        timeline_size: how many recent samples :attr:`SadnessMonitor.timeline` keeps in memory.
        quality: the per-sample :class:`QualityGate`.
    """

    window: float = 20.0
    min_window_samples: int = 3
    enter_threshold: float = 0.35
    exit_threshold: float = 0.25
    min_duration: float = 12.0
    min_samples: int = 4
    max_gap: float = 30.0
    cooldown: float = 600.0
    baseline_margin: float = 0.6
    baseline_quantile: float = 0.75
    max_baseline: float = 0.85
    calibration_samples: int = 60
    adapt_baseline: bool = True
    baseline_window: int = 900
    timeline_size: int = 3600
    quality: QualityGate = field(default_factory=QualityGate)

    def __post_init__(self) -> None:
        for name, lo, hi in (("enter_threshold", 0.0, 1.0), ("exit_threshold", 0.0, 1.0),
                             ("baseline_quantile", 0.0, 1.0), ("baseline_margin", 0.0, 10.0),
                             ("max_baseline", 0.0, 0.99), ("min_duration", 0.0, math.inf), ("cooldown", 0.0, math.inf),
                             ("window", 1e-6, math.inf), ("max_gap", 1e-6, math.inf)):
            _store(self, name, _check.number(name, getattr(self, name), lo, hi), (int, float))
        for name, low in (("min_window_samples", 1), ("min_samples", 1), ("baseline_window", 1),
                          ("timeline_size", 1), ("calibration_samples", 0)):
            _store(self, name, _check.integer(name, getattr(self, name), low), (int,))
        if not isinstance(self.adapt_baseline, (bool, np.bool_)):
            raise ArgumentTypeError(f"adapt_baseline must be True or False, got {self.adapt_baseline!r}")
        _store(self, "adapt_baseline", bool(self.adapt_baseline), (bool,))
        if self.exit_threshold > self.enter_threshold:
            raise InvalidArgumentError(f"exit_threshold ({self.exit_threshold}) must not exceed enter_threshold "
                                       f"({self.enter_threshold})")
        if not isinstance(self.quality, QualityGate):
            raise ArgumentTypeError(f"quality must be a QualityGate, got {type(self.quality).__name__}")

    def replace(self, **changes: Any) -> MonitorOptions:
        """A copy with some fields changed; ``quality_<field>=`` changes a :class:`QualityGate` field."""
        q = {k[len("quality_"):]: changes.pop(k) for k in list(changes) if k.startswith("quality_")}
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ArgumentTypeError(f"unknown monitor option(s): {', '.join(unknown)}")
        if q:
            changes["quality"] = dataclasses.replace(changes.get("quality", self.quality), **q)
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields (numbers and strings only)."""
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceQuality:
    """Image measures of the face patch (see :func:`measure_face` and :class:`QualityGate`)."""

    sharpness: float
    brightness: float
    contrast: float
    saturated: float


@dataclass(frozen=True)
class MonitorSample:
    """One assessed sample: the main face's reading and the quality gate's verdict. Holds no image.

    Attributes:
        timestamp: seconds.
        sadness: the detector's sadness of the main face, or None.
        reason: why the sample does not count (detector's reason or a quality gate), None when it counts.
        face_count: faces found.
        face_size: shorter side of the main face's box in pixels, or None.
        quality: measures of the face patch, or None when there was no face to measure.
    """

    timestamp: float
    sadness: float | None
    reason: NoReadingReason | None
    face_count: int = 0
    face_size: int | None = None
    quality: FaceQuality | None = None

    @property
    def valid(self) -> bool:
        """True when the sample counts as evidence."""
        return self.reason is None and self.sadness is not None


class MonitorState(str, enum.Enum):
    """Where the decision stands after a sample."""

    CALIBRATING = "calibrating"  # learning the user's baseline; no event fires yet
    CALM = "calm"
    SAD = "sad"  # a sad spell is under way, not yet long enough for an event (or in cooldown)
    SPOKEN = "spoken"  # an event fired during the current spell; no other until the spell ends


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    """One sample as the timeline keeps it (numbers only)."""

    timestamp: float
    sadness: float | None
    reason: NoReadingReason | None
    smoothed: float | None
    enter_level: float
    exit_level: float
    state: MonitorState
    event: bool = False

    @property
    def valid(self) -> bool:
        return self.reason is None and self.sadness is not None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (numbers only, no image data)."""
        return {
            "timestamp": self.timestamp,
            "sadness": self.sadness,
            "reason": self.reason.value if self.reason else None,
            "smoothed": self.smoothed,
            "enter_level": self.enter_level,
            "exit_level": self.exit_level,
            "state": self.state.value,
            "event": self.event,
        }


@dataclass(frozen=True)
class SadnessEvent:
    """Buddy should speak now: the person has looked sad long enough. Carries its evidence.

    Attributes:
        timestamp: when the event fired (seconds, the sample's timestamp).
        started_at: when the sad spell began (first reading of the sad stretch).
        duration: ``timestamp - started_at``.
        mean_sadness: mean sadness of the spell's valid readings.
        samples: valid readings in the spell.
        gated_samples: samples in the spell that did not count (no face, blurred, ...).
        smoothed: the smoothed score when the event fired.
        enter_level: the enter level the spell was judged against (with the user's baseline).
        baseline: the user's baseline level, or None when there was none.
    """

    timestamp: float
    started_at: float
    duration: float
    mean_sadness: float
    samples: int
    gated_samples: int
    smoothed: float
    enter_level: float
    baseline: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields (numbers and strings only)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class MonitorStatus:
    """What :meth:`SadnessMonitor.run` is doing.

    ``state``: ``"idle"`` (not running), ``"running"``, ``"reconnecting"`` (camera errors, backing off),
    ``"ended"`` (a finite source ran out), ``"stopped"`` (by :meth:`~SadnessMonitor.stop`), ``"failed"``
    (gave up, or an unexpected error: see ``last_error``).
    """

    state: str
    samples: int = 0
    events: int = 0
    camera_errors: int = 0
    consecutive_errors: int = 0
    last_error: str | None = None
    retry_in: float | None = None


# ---------------------------------------------------------------------------------------------------------
# baseline
# ---------------------------------------------------------------------------------------------------------


def raise_level(level: float, margin: float) -> float:
    """``level`` (0..1) raised by ``margin`` (any finite number) in log-odds: ``sigmoid(logit(level) + margin)``.

    Raises:
        ValueError: ``level`` is not a number within 0..1, or ``margin`` not a finite number.
    """
    p = min(max(_check.number("level", level, 0.0, 1.0), 1e-6), 1.0 - 1e-6)
    x = math.log(p / (1.0 - p)) + _check.number("margin", margin)
    try:
        return 1.0 / (1.0 + math.exp(-x))
    except OverflowError:  # x below about -709: the level is 0 to double precision
        return 0.0


def _check_unit(name: str, value: Any) -> float:
    return _check.number(f"baseline {name}", value, 0.0, 1.0, error=BaselineError)


@dataclass(frozen=True)
class Baseline:
    """A user's resting sadness: how sad their calm face reads. Numbers only.

    Attributes:
        level: the ``quantile`` of their calm sadness readings (what the enter level is raised above).
        mean: mean of those readings.
        spread: their interquartile range.
        samples: how many readings it was computed from.
        quantile: which quantile ``level`` is.
        created: when it was computed (seconds, ``time.time()`` by default).
    """

    level: float
    mean: float
    spread: float
    samples: int
    quantile: float = 0.75
    created: float = 0.0

    def __post_init__(self) -> None:
        for name in ("level", "mean", "spread", "quantile"):
            object.__setattr__(self, name, _check_unit(name, getattr(self, name)))
        object.__setattr__(self, "samples", _check.integer("baseline samples", self.samples, 1, error=BaselineError))
        object.__setattr__(self, "created", _check.number("baseline created", self.created, unit="seconds",
                                                 error=BaselineError))

    @classmethod
    def from_readings(cls, sadness: Iterable[float | None], quantile: float = 0.75,
                      created: float | None = None) -> Baseline:
        """The baseline of some calm sadness readings (None values are skipped).

        Raises:
            TypeError: ``sadness`` is not an iterable of readings.
            ValueError: no reading, a value that is not a number within 0..1, or ``quantile`` outside 0..1.
        """
        quantile = _check.number("quantile", quantile, 0.0, 1.0)
        if created is not None:
            created = _check.number("created", created, unit="seconds")
        if isinstance(sadness, np.ndarray) and sadness.ndim == 1 and sadness.dtype.kind in "fiu":
            values = sadness.astype(np.float64)  # the monitor's own readings: no per-item checks
        else:
            if isinstance(sadness, (str, bytes)) or not isinstance(sadness, Iterable):
                raise ArgumentTypeError("sadness must be an iterable of readings (numbers 0..1 or None), got "
                                        f"{sadness!r}")
            items = [s for s in sadness if s is not None]
            bad = [s for s in items if isinstance(s, bool) or not isinstance(s, numbers.Real)]
            if bad:
                raise InvalidArgumentError(f"sadness readings must be numbers within 0..1, got {bad[0]!r}")
            values = np.array([float(s) for s in items], dtype=np.float64)
        if values.size == 0:
            raise InvalidArgumentError("a baseline needs at least one sadness reading")
        if not np.all(np.isfinite(values)) or values.min() < 0.0 or values.max() > 1.0:
            raise InvalidArgumentError("sadness readings must be within 0..1")
        q25, level, q75 = np.quantile(values, [0.25, quantile, 0.75])
        return cls(level=float(level), mean=float(values.mean()), spread=float(q75 - q25), samples=int(values.size),
                   quantile=float(quantile), created=time.time() if created is None else float(created))

    def as_dict(self) -> dict[str, Any]:
        """What :meth:`save` writes: the fields plus a format name and version."""
        return {"format": _BASELINE_FORMAT, "version": _BASELINE_VERSION, **dataclasses.asdict(self)}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write this baseline to a small JSON file (numbers only) and return its path.

        Raises:
            BaselineError: ``path`` is not a file path, or the file cannot be written.
        """
        p = _check.as_path("path", path, error=BaselineError)
        try:
            p.write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")
        except OSError as e:
            raise BaselineError(f"cannot write baseline file {p}: {e.strerror or e}") from None
        return p

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Baseline:
        """Read a baseline written by :meth:`save`.

        Raises:
            BaselineError: ``path`` is not a file path; the file is missing, not a regular file (a folder, pipe
                or device), too large, unreadable, not JSON, not a baseline, or out of range.
        """
        p = _check.as_path("path", path, error=BaselineError)
        try:
            # a regular file only (a FIFO would block, /dev/zero never end), and never more than the limit
            if not stat.S_ISREG(p.stat().st_mode):
                raise BaselineError(f"baseline path is not a regular file: {p}")
            with p.open("rb") as f:
                raw = f.read(_MAX_BASELINE_BYTES + 1)
            if len(raw) > _MAX_BASELINE_BYTES:
                raise BaselineError(f"{p} is too large to be a baseline file")
            text = raw.decode("utf-8")
        except FileNotFoundError:
            raise BaselineError(f"baseline file not found: {p}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise BaselineError(f"cannot read baseline file {p}: {getattr(e, 'strerror', None) or e}") from None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as e:  # RecursionError: absurdly deep nesting
            raise BaselineError(f"{p} is not valid JSON ({e})") from None
        return cls.from_dict(data, where=str(p))

    @classmethod
    def from_dict(cls, data: Any, where: str = "baseline") -> Baseline:
        """Rebuild a baseline from :meth:`as_dict`'s output (checked like :meth:`load`)."""
        if not isinstance(data, dict) or data.get("format") != _BASELINE_FORMAT:
            raise BaselineError(f"{where} is not a buddy-emotion baseline (no 'format': '{_BASELINE_FORMAT}')")
        if data.get("version") != _BASELINE_VERSION:
            raise BaselineError(f"{where} has baseline version {data.get('version')!r}; "
                                f"this library reads version {_BASELINE_VERSION}")
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in ("level", "mean", "spread", "samples") if n not in data]
        if missing:
            raise BaselineError(f"{where} lacks {', '.join(missing)}")
        unknown = sorted(set(data) - set(names) - {"format", "version"})
        if unknown:  # a baseline holds these numbers and nothing else
            raise BaselineError(f"{where} has unexpected entries: {', '.join(map(str, unknown))[:200]}")
        try:
            return cls(**{n: data[n] for n in names if n in data})
        except BaselineError as e:
            raise BaselineError(f"{where}: {e}") from None


# ---------------------------------------------------------------------------------------------------------
# quality gate
# ---------------------------------------------------------------------------------------------------------


def measure_face(gray: np.ndarray, box: FaceBox | None, size: int = 64) -> FaceQuality:
    """Sharpness, brightness, contrast and saturated share of a face patch.

    ``gray`` is an HxW uint8 frame (a BGR or BGRA frame is turned grey first); the patch is ``box`` cut to
    the frame (the whole frame when None), resized to ``size`` x ``size`` (1..512) so that the measures do
    not depend on the face's size. Sharpness is the variance of the patch's Laplacian divided by the
    variance of the patch itself, so that it does not depend on lighting either (sharp faces score about 1
    to 5, blurred ones below 1).

    Raises:
        InvalidFrameError: ``gray`` is not an accepted image (see :func:`~buddy_emotion.frames.validate_frame`).
        TypeError: ``box`` is not a :class:`FaceBox` or None.
        ValueError: ``size`` is not a whole number within 1..512.
    """
    import cv2

    gray = to_gray(validate_frame(gray, "gray"))
    if box is not None and not isinstance(box, FaceBox):
        raise ArgumentTypeError(f"box must be a FaceBox or None, got {type(box).__name__}")
    size = _check.integer("size", size, 1, _MEASURE_SIZES[1])
    h, w = gray.shape[:2]
    patch = gray
    if box is not None:
        b = box.clip(w, h)
        if b is not None:
            patch = gray[b.y:b.bottom, b.x:b.right]
    if patch.shape[0] != size or patch.shape[1] != size:
        interp = cv2.INTER_AREA if patch.shape[0] > size else cv2.INTER_LINEAR
        patch = cv2.resize(patch, (size, size), interpolation=interp)
    lap = cv2.Laplacian(patch, cv2.CV_32F, ksize=3)
    mean, std = cv2.meanStdDev(patch)
    contrast = float(std[0][0])
    return FaceQuality(
        sharpness=float(lap.var()) / max(contrast * contrast, 1.0),
        brightness=float(mean[0][0]),
        contrast=float(std[0][0]),
        saturated=float(np.count_nonzero(patch >= 250)) / patch.size,
    )


def check_quality(quality: FaceQuality, gate: QualityGate) -> NoReadingReason | None:
    """The first quality gate ``quality`` fails, or None when it passes them all.

    Raises:
        TypeError: ``quality`` is not a :class:`FaceQuality` or ``gate`` not a :class:`QualityGate`.
        ValueError: a measure of ``quality`` is not a finite number (NaN would pass every gate).
    """
    if not isinstance(quality, FaceQuality):
        raise ArgumentTypeError(f"quality must be a FaceQuality, got {type(quality).__name__}")
    if not isinstance(gate, QualityGate):
        raise ArgumentTypeError(f"gate must be a QualityGate, got {type(gate).__name__}")
    for name in ("sharpness", "brightness", "contrast", "saturated"):
        _check.number(f"quality.{name}", getattr(quality, name))
    if quality.brightness < gate.min_brightness:
        return NoReadingReason.TOO_DARK
    if quality.brightness > gate.max_brightness or quality.saturated > gate.max_saturated:
        return NoReadingReason.OVEREXPOSED
    if quality.contrast < gate.min_contrast:
        return NoReadingReason.TOO_DARK if quality.brightness < 128 else NoReadingReason.OVEREXPOSED
    if quality.sharpness < gate.min_sharpness:
        return NoReadingReason.BLURRED
    return None


def assess_reading(frame: np.ndarray | None, reading: SadnessReading, gate: QualityGate,
                   quality: FaceQuality | None = None) -> MonitorSample:
    """Apply the quality gate to a detector's reading of ``frame``.

    ``frame`` is the frame the reading came from (or None); the face patch is measured on it unless
    ``quality`` gives the measures already (e.g. replayed samples). With neither, image checks are skipped.

    Raises:
        InvalidFrameError: ``frame`` is not an accepted image.
        TypeError: ``reading``, ``gate`` or ``quality`` is not of its type.
        ValueError: the reading's timestamp is not a finite number, or its sadness not a number within 0..1.
    """
    if frame is not None:
        frame = validate_frame(frame)
    if not isinstance(reading, SadnessReading):
        raise ArgumentTypeError(f"reading must be a SadnessReading, got {type(reading).__name__}")
    if not isinstance(gate, QualityGate):
        raise ArgumentTypeError(f"gate must be a QualityGate, got {type(gate).__name__}")
    if quality is not None and not isinstance(quality, FaceQuality):
        raise ArgumentTypeError(f"quality must be a FaceQuality or None, got {type(quality).__name__}")
    t = _check.number("reading.timestamp", reading.timestamp, unit="seconds")
    faces = reading.faces
    count = max(_check.integer("reading.face_count", reading.face_count, 0), len(faces))
    box = reading.box
    if box is not None and not isinstance(box, FaceBox):
        raise ArgumentTypeError(f"reading.box must be a FaceBox or None, got {type(box).__name__}")
    size = box.size if box is not None else None
    if reading.reason is not None or reading.sadness is None:
        return MonitorSample(t, None, reading.reason or NoReadingReason.BACKEND_ERROR, count, size)
    sadness = _check.number("reading.sadness", reading.sadness, 0.0, 1.0)
    if count > 1 and gate.multiple_faces != "largest":
        areas = sorted((f.box.area for f in faces if f.box is not None), reverse=True)
        dominant = len(areas) >= 2 and areas[0] >= gate.dominance * areas[1]
        if gate.multiple_faces == "reject" or not dominant:
            return MonitorSample(t, sadness, NoReadingReason.MULTIPLE_FACES, count, size)
    if size is not None and size < gate.min_face:
        return MonitorSample(t, sadness, NoReadingReason.FACE_TOO_SMALL, count, size)
    if quality is None and frame is not None:
        quality = measure_face(to_gray(frame), box, gate.measure_size)
    if quality is not None:
        reason = check_quality(quality, gate)
        if reason is not None:
            return MonitorSample(t, sadness, reason, count, size, quality)
    return MonitorSample(t, sadness, None, count, size, quality)


# ---------------------------------------------------------------------------------------------------------
# timeline
# ---------------------------------------------------------------------------------------------------------


class Timeline:
    """The last ``maxlen`` samples as :class:`TimelinePoint` (a thread-safe ring buffer, numbers only)."""

    def __init__(self, maxlen: int = 3600) -> None:
        self._points: collections.deque[TimelinePoint] = collections.deque(maxlen=_check.integer("maxlen", maxlen, 1))
        self._lock = threading.Lock()

    @property
    def maxlen(self) -> int:
        return int(self._points.maxlen or 0)

    def append(self, point: TimelinePoint) -> None:
        if not isinstance(point, TimelinePoint):
            raise ArgumentTypeError(f"point must be a TimelinePoint, got {type(point).__name__}")
        with self._lock:
            self._points.append(point)

    def clear(self) -> None:
        with self._lock:
            self._points.clear()

    def snapshot(self) -> list[TimelinePoint]:
        """A copy of the points, oldest first."""
        with self._lock:
            return list(self._points)

    def __len__(self) -> int:
        return len(self._points)

    def __iter__(self) -> Iterator[TimelinePoint]:
        return iter(self.snapshot())

    def __getitem__(self, i: int) -> TimelinePoint:
        with self._lock:
            return self._points[i]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Columns as numpy arrays: timestamp, sadness (NaN where none), valid, smoothed (NaN), enter_level,
        exit_level, event, and reason (object array of reason values or None)."""
        pts = self.snapshot()
        nan = float("nan")
        return {
            "timestamp": np.array([p.timestamp for p in pts], dtype=np.float64),
            "sadness": np.array([nan if p.sadness is None else p.sadness for p in pts], dtype=np.float64),
            "valid": np.array([p.valid for p in pts], dtype=bool),
            "smoothed": np.array([nan if p.smoothed is None else p.smoothed for p in pts], dtype=np.float64),
            "enter_level": np.array([p.enter_level for p in pts], dtype=np.float64),
            "exit_level": np.array([p.exit_level for p in pts], dtype=np.float64),
            "event": np.array([p.event for p in pts], dtype=bool),
            "reason": np.array([p.reason.value if p.reason else None for p in pts], dtype=object),
        }

    def __repr__(self) -> str:
        return f"Timeline({len(self)}/{self.maxlen} points)"


# ---------------------------------------------------------------------------------------------------------
# the monitor
# ---------------------------------------------------------------------------------------------------------


class _SadnessDetector(Protocol):
    def detect_sadness(self, frame: np.ndarray, timestamp: float | None = None) -> SadnessReading: ...


class _CameraLike(Protocol):
    def read(self) -> tuple[np.ndarray, float]: ...


class _EventQueue:
    """A subscriber's bounded queue of events (the oldest is dropped when full)."""

    def __init__(self, maxlen: int = 256) -> None:
        self.items: collections.deque[SadnessEvent] = collections.deque(maxlen=maxlen)
        self.closed = False


class SadnessMonitor:
    """Decides, sample by sample, when Buddy should speak first (see the module doc).

    Args:
        detector: a :class:`~buddy_emotion.detector.Detector` (or anything with ``detect_sadness(frame,
            timestamp)``); None creates the default ``Detector()`` (closed by :meth:`close`).
        options: a :class:`MonitorOptions`; keyword arguments override single fields, e.g.
            ``SadnessMonitor(det, cooldown=300)`` (``quality_min_face=80`` for a :class:`QualityGate` field).
        baseline: the user's :class:`Baseline`, or the path of a JSON file saved by :meth:`Baseline.save`;
            None calibrates one from the first ``calibration_samples`` valid readings.
        on_sad: called with each :class:`SadnessEvent` (from the thread that processed the sample).
        on_sample: called with each :class:`TimelinePoint`.
        on_status: called with a :class:`MonitorStatus` whenever :meth:`run`'s state changes.

    Thread-safe: :meth:`update` may be called from several threads (samples are decided one at a time);
    :meth:`events` may be iterated from any thread. Callback errors are logged, never raised.
    """

    def __init__(self, detector: _SadnessDetector | None = None, options: MonitorOptions | None = None, *,
                 baseline: Baseline | str | os.PathLike[str] | None = None,
                 on_sad: Callable[[SadnessEvent], Any] | None = None,
                 on_sample: Callable[[TimelinePoint], Any] | None = None,
                 on_status: Callable[[MonitorStatus], Any] | None = None,
                 **overrides: Any) -> None:
        if options is None:
            options = MonitorOptions()
        elif not isinstance(options, MonitorOptions):
            raise ArgumentTypeError(f"options must be a MonitorOptions, got {type(options).__name__}")
        if overrides:
            options = options.replace(**overrides)
        self.options = options
        self._owns_detector = detector is None
        if detector is None:
            from buddy_emotion.detector import Detector

            detector = Detector()
        if not callable(getattr(detector, "detect_sadness", None)):
            raise ArgumentTypeError("detector must have a detect_sadness(frame, timestamp) method, "
                                    f"got {type(detector).__name__}")
        self.detector = detector
        for name, cb in (("on_sad", on_sad), ("on_sample", on_sample), ("on_status", on_status)):
            _callable_or_none(name, cb)
        if baseline is not None and not isinstance(baseline, (Baseline, str, os.PathLike)):
            raise ArgumentTypeError(f"baseline must be a Baseline, a file path or None, got {type(baseline).__name__}")
        self._sad_callbacks: list[Callable[[SadnessEvent], Any]] = [on_sad] if on_sad else []
        self._sample_callbacks: list[Callable[[TimelinePoint], Any]] = [on_sample] if on_sample else []
        self._status_callbacks: list[Callable[[MonitorStatus], Any]] = [on_status] if on_status else []
        self._lock = threading.RLock()
        self._cond = threading.Condition(threading.Lock())
        self._subscribers: list[_EventQueue] = []
        self.timeline = Timeline(options.timeline_size)
        self.recent_events: collections.deque[SadnessEvent] = collections.deque(maxlen=100)
        """The last 100 events (e.g. for :func:`buddy_emotion.plotting.plot_timeline`)."""
        self._given_baseline: Baseline | None = None
        if baseline is not None:
            self._given_baseline = baseline if isinstance(baseline, Baseline) else Baseline.load(baseline)
        self._calm: collections.deque[float] = collections.deque(maxlen=options.baseline_window)
        self._calib: list[float] = []
        self._baseline = self._given_baseline
        self._samples_total = 0
        self._events_total = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._loop_active = False
        self._status = MonitorStatus("idle")
        self.error: BaseException | None = None
        """The unexpected error that ended :meth:`start`'s background loop, if any."""
        self._reset_temporal()
        self._last_event_t: float | None = None
        self._last_t: float | None = None

    # -- state -----------------------------------------------------------------------------------------

    def _reset_temporal(self) -> None:
        self._window: collections.deque[tuple[float, float]] = collections.deque()
        self._window_sum = 0.0
        self._last_valid_t: float | None = None
        self._spell_active = False
        self._spoken = False
        self._spell_start = 0.0
        self._spell_sum = 0.0
        self._spell_n = 0
        self._spell_gated = 0

    def reset(self, *, keep_baseline: bool = True) -> None:
        """Forget the temporal state (window, spell, cooldown) and the timeline; keep the baseline unless told."""
        with self._lock:
            self._reset_temporal()
            self._last_event_t = None
            self._last_t = None
            self.timeline.clear()
            if not keep_baseline:
                self._baseline = self._given_baseline = None
                self._calm.clear()
                self._calib = []

    @property
    def baseline(self) -> Baseline | None:
        """The user's current baseline (calibrated, loaded, or adapted), or None."""
        with self._lock:
            return self._baseline

    @baseline.setter
    def baseline(self, value: Baseline | None) -> None:
        if value is not None and not isinstance(value, Baseline):
            raise ArgumentTypeError(f"baseline must be a Baseline or None, got {type(value).__name__}")
        with self._lock:
            self._given_baseline = self._baseline = value
            self._calm.clear()
            self._calib = []

    def save_baseline(self, path: str | os.PathLike[str]) -> Path:
        """Save the current baseline to a JSON file (numbers only).

        Raises:
            BaselineError: there is no baseline yet, or the file cannot be written.
        """
        b = self.baseline
        if b is None:
            raise BaselineError("no baseline yet: the monitor learns one from its first calibration_samples "
                                "valid readings")
        return b.save(path)

    def load_baseline(self, path: str | os.PathLike[str]) -> Baseline:
        """Load a baseline saved by :meth:`save_baseline` and use it (raises :class:`BaselineError`)."""
        b = Baseline.load(path)
        self.baseline = b
        return b

    @property
    def calibrating(self) -> bool:
        """True while the monitor learns the user's baseline (no event fires meanwhile)."""
        with self._lock:
            return self._calibrating()

    def _calibrating(self) -> bool:
        return self._baseline is None and self.options.calibration_samples > 0

    def levels(self) -> tuple[float, float]:
        """The current ``(enter, exit)`` levels of the smoothed score, with the user's baseline."""
        with self._lock:
            return self._levels()

    def _levels(self) -> tuple[float, float]:
        o = self.options
        enter = o.enter_threshold
        if self._baseline is not None:
            enter = max(enter, raise_level(min(self._baseline.level, o.max_baseline), o.baseline_margin))
        enter = min(enter, 1.0)
        return enter, max(0.0, enter - (o.enter_threshold - o.exit_threshold))

    @property
    def state(self) -> MonitorState:
        """Where the decision stands now (:class:`MonitorState`: calibrating, calm, sad or spoken)."""
        with self._lock:
            return self._state()

    def _state(self) -> MonitorState:
        if self._spell_active:
            return MonitorState.SPOKEN if self._spoken else MonitorState.SAD
        return MonitorState.CALIBRATING if self._calibrating() else MonitorState.CALM

    @property
    def status(self) -> MonitorStatus:
        """What :meth:`run` is doing (state, camera errors, samples, events)."""
        with self._lock:
            return self._status

    @property
    def running(self) -> bool:
        """True while the background loop started by :meth:`start` runs."""
        t = self._thread
        return t is not None and t.is_alive()

    # -- callbacks and events ----------------------------------------------------------------------------

    def on_sad(self, callback: Callable[[SadnessEvent], Any]) -> Callable[[SadnessEvent], Any]:
        """Register ``callback(event)`` for every event; returns it (usable as a decorator)."""
        _callable_or_none("callback", callback)
        with self._lock:
            self._sad_callbacks.append(callback)
        return callback

    def on_sample(self, callback: Callable[[TimelinePoint], Any]) -> Callable[[TimelinePoint], Any]:
        """Register ``callback(point)`` for every sample; returns it."""
        _callable_or_none("callback", callback)
        with self._lock:
            self._sample_callbacks.append(callback)
        return callback

    def on_status(self, callback: Callable[[MonitorStatus], Any]) -> Callable[[MonitorStatus], Any]:
        """Register ``callback(status)`` for every change of :meth:`run`'s state; returns it."""
        _callable_or_none("callback", callback)
        with self._lock:
            self._status_callbacks.append(callback)
        return callback

    def events(self, timeout: float | None = None) -> Iterator[SadnessEvent]:
        """Iterate over the events from now on, as they fire (thread-safe, one queue per iterator).

        The subscription starts when ``events()`` is called. The iteration ends when the camera loop
        (:meth:`run` or :meth:`start`) ends (:meth:`stop`, end of a finite source, giving up), or, with
        ``timeout``, after ``timeout`` seconds without an event; after a loop has ended, a new iterator
        ends at once. In push mode (:meth:`update`) it yields the events ``update`` returns. Up to 256
        unread events are kept, oldest dropped first.

        Raises:
            ValueError: ``timeout`` is not None or a number of seconds >= 0.
        """
        timeout = _check.timeout("timeout", timeout)
        q = _EventQueue()
        with self._cond:
            # a loop that ran and ended: nothing more will come; before any loop (push mode), wait
            q.closed = not self._loop_active and self.status.state in ("stopped", "ended", "failed")
            self._subscribers.append(q)
        return self._drain(q, timeout)

    def _drain(self, q: _EventQueue, timeout: float | None) -> Iterator[SadnessEvent]:
        try:
            while True:
                with self._cond:
                    if not q.items and not q.closed:
                        self._cond.wait_for(lambda: bool(q.items) or q.closed, timeout)
                    if not q.items:
                        return
                    item = q.items.popleft()
                yield item
        finally:
            with self._cond:
                if q in self._subscribers:
                    self._subscribers.remove(q)

    def __iter__(self) -> Iterator[SadnessEvent]:
        return self.events()

    def _close_subscribers(self) -> None:
        with self._cond:
            for q in self._subscribers:
                q.closed = True
            self._cond.notify_all()

    def _emit(self, callbacks: Sequence[Callable[[Any], Any]], value: Any) -> None:
        for cb in list(callbacks):
            try:
                cb(value)
            except Exception:  # a broken callback must not stop the monitor
                log.exception("SadnessMonitor callback %r failed", cb)

    # -- push mode ---------------------------------------------------------------------------------------

    def assess(self, frame: np.ndarray, timestamp: float | None = None, *,
               reading: SadnessReading | None = None) -> MonitorSample:
        """Run the detector (unless ``reading`` is given) and the quality gate on one frame; no decision.

        Raises:
            InvalidFrameError: ``frame`` is not an accepted image.
            TypeError: ``reading`` is not a :class:`SadnessReading`.
            ValueError: ``timestamp`` is not a finite number.
        """
        frame = validate_frame(frame)
        if reading is not None and not isinstance(reading, SadnessReading):
            raise ArgumentTypeError(f"reading must be a SadnessReading, got {type(reading).__name__}")
        t = _timestamp(timestamp if timestamp is not None or reading is None else reading.timestamp)
        if reading is None:
            reading = self.detector.detect_sadness(frame, timestamp=t)
        sample = assess_reading(frame, reading, self.options.quality)
        if sample.timestamp != t:
            sample = dataclasses.replace(sample, timestamp=t)
        return sample

    def update(self, frame: np.ndarray, timestamp: float | None = None, *,
               reading: SadnessReading | None = None) -> SadnessEvent | None:
        """Process one sample; return a :class:`SadnessEvent` when Buddy should speak now, else None.

        Args:
            frame: the camera frame (HxWx3 uint8 BGR, grey or BGRA). It is not kept.
            timestamp: seconds, a finite real number (default ``time.time()``); samples should come in time
                order: a timestamp earlier than the previous one (e.g. a clock stepped back) starts the temporal
                state (window, spell) afresh; the baseline is kept, and so is the remaining cooldown, carried
                into the new time base.
            reading: the detector's reading of this frame if the caller has it already (not recomputed).

        Raises:
            InvalidFrameError: ``frame`` is not an accepted image.
            TypeError: ``reading`` is not a :class:`SadnessReading`.
            ValueError: ``timestamp`` is not a finite number.
            BackendError: the detector's backend failed.
        """
        return self.feed(self.assess(frame, timestamp, reading=reading))

    def feed(self, sample: MonitorSample) -> SadnessEvent | None:
        """The decision step alone, on an already assessed sample (e.g. replayed or cached ones).

        Raises:
            TypeError: ``sample`` is not a :class:`MonitorSample`, or its reason not a ``NoReadingReason``.
            ValueError: its timestamp is not a finite number, or a counting sample's sadness not within 0..1.
        """
        if not isinstance(sample, MonitorSample):
            raise ArgumentTypeError(f"sample must be a MonitorSample, got {type(sample).__name__}")
        if sample.reason is not None and not isinstance(sample.reason, NoReadingReason):
            raise ArgumentTypeError(f"sample.reason must be a NoReadingReason or None, got {sample.reason!r}")
        t = _timestamp(sample.timestamp, "sample.timestamp")
        with self._lock:
            event, point = self._decide(sample, t)
        self._emit(self._sample_callbacks, point)
        if event is not None:
            self._publish(event)
        return event

    def _decide(self, sample: MonitorSample, t: float) -> tuple[SadnessEvent | None, TimelinePoint]:
        o = self.options
        valid = sample.valid
        s = _check.number("sample.sadness", sample.sadness, 0.0, 1.0) if valid else 0.0
        if self._last_t is not None and t < self._last_t:
            # time went backwards (a clock stepped back): start the window and spell afresh, but carry the
            # cooldown still to run into the new time base, so that no second event fires too soon
            if self._last_event_t is not None:
                self._last_event_t = t - (self._last_t - self._last_event_t)
            self._reset_temporal()
        self._last_t = t
        self._samples_total += 1

        # gaps: too long without a valid reading -> start afresh (spell and smoothing window)
        if self._last_valid_t is not None:
            if t - self._last_valid_t > o.max_gap:
                self._reset_temporal()
        if valid:
            self._window.append((t, s))
            self._window_sum += s
            self._last_valid_t = t
        horizon = t - o.window
        while self._window and self._window[0][0] <= horizon:
            self._window_sum -= self._window.popleft()[1]
        n = len(self._window)
        smoothed = self._window_sum / n if n >= o.min_window_samples else None
        if n == 0:
            self._window_sum = 0.0  # no drift of the running sum

        calibrating = self._calibrating()
        if valid and calibrating:
            self._calib.append(s)
            if len(self._calib) >= o.calibration_samples:
                self._baseline = Baseline.from_readings(self._calib, o.baseline_quantile, created=time.time())
                self._calm.extend(self._calib[-o.baseline_window:])
                self._calib = []
        enter, exit_ = self._levels()

        event: SadnessEvent | None = None
        if not self._spell_active:
            if smoothed is not None and smoothed >= enter and valid:
                self._begin_spell(enter)
        else:
            if valid:
                self._spell_sum += s
                self._spell_n += 1
            else:
                self._spell_gated += 1
            if smoothed is not None and smoothed < exit_:
                self._spell_active = False
                self._spoken = False
        if self._spell_active and not self._spoken and valid and not calibrating and smoothed is not None:
            spell_mean = self._spell_sum / self._spell_n
            cooled = self._last_event_t is None or t - self._last_event_t >= o.cooldown
            # the spell is long enough, its readings on average and the recent window reach the enter
            # level, and this very reading still looks sad (a short strong peak followed by calm readings
            # does not fire while the smoothed score decays)
            if (t - self._spell_start >= o.min_duration and self._spell_n >= o.min_samples
                    and spell_mean >= enter and smoothed >= enter and s >= exit_ and cooled):
                self._spoken = True
                self._last_event_t = t
                self._events_total += 1
                base = self._baseline.level if self._baseline is not None else None
                event = SadnessEvent(t, self._spell_start, t - self._spell_start, spell_mean, self._spell_n,
                                     self._spell_gated, smoothed, enter, base)
                self.recent_events.append(event)

        # adapt the baseline from the user's readings, except those of a spell that may still fire: a spell
        # Buddy already spoke about (or that the cooldown keeps quiet) is the user's state now, and a
        # resting face that reads as sad is learnt instead of firing again after every cooldown
        in_cooldown = self._last_event_t is not None and t - self._last_event_t < o.cooldown
        if (valid and not calibrating and o.adapt_baseline
                and (not self._spell_active or self._spoken or in_cooldown)):
            self._calm.append(s)
            if self._samples_total % 10 == 0 or len(self._calm) < 50:
                self._baseline = self._adapted_baseline()

        point = TimelinePoint(t, float(sample.sadness) if sample.sadness is not None else None, sample.reason,
                              smoothed, enter, exit_, self._state(), event is not None)
        self.timeline.append(point)
        return event, point

    def _begin_spell(self, enter: float) -> None:
        """Open a spell where the window's evidence begins: the reading from which the sum of
        ``sadness - enter`` up to now is largest (a CUSUM-style change point)."""
        items = list(self._window)
        total, best = 0.0, -math.inf
        start_i = len(items) - 1
        for i in range(len(items) - 1, -1, -1):
            total += items[i][1] - enter
            if total >= best:
                best, start_i = total, i
        self._spell_active = True
        self._spoken = False
        self._spell_start = items[start_i][0]
        chosen = [v for _, v in items[start_i:]]
        self._spell_sum = float(sum(chosen))
        self._spell_n = len(chosen)
        self._spell_gated = 0

    def _adapted_baseline(self) -> Baseline | None:
        o = self.options
        if not self._calm:
            return self._baseline
        values = np.fromiter(self._calm, dtype=np.float64, count=len(self._calm))
        fresh = Baseline.from_readings(values, o.baseline_quantile, created=time.time())
        given = self._given_baseline
        if given is None:
            return fresh
        # blend a loaded baseline with what was seen since, weighted by sample counts (the loaded one
        # weighs at most one window)
        w0 = min(given.samples, o.baseline_window)
        w1 = fresh.samples
        mix = lambda a, b: (w0 * a + w1 * b) / (w0 + w1)  # noqa: E731
        return Baseline(level=mix(given.level, fresh.level), mean=mix(given.mean, fresh.mean),
                        spread=mix(given.spread, fresh.spread), samples=w0 + w1, quantile=o.baseline_quantile,
                        created=fresh.created)

    def _publish(self, event: SadnessEvent) -> None:
        with self._cond:
            for q in self._subscribers:
                q.items.append(event)
            self._cond.notify_all()
        with self._lock:
            callbacks = list(self._sad_callbacks)
        self._emit(callbacks, event)

    # -- camera loop -------------------------------------------------------------------------------------

    def _set_status(self, **changes: Any) -> None:
        with self._lock:
            new = dataclasses.replace(self._status, **changes)
            changed = new.state != self._status.state or new.consecutive_errors != self._status.consecutive_errors
            self._status = new
            callbacks = list(self._status_callbacks)
        if changed:
            self._emit(callbacks, new)

    def run(self, camera: _CameraLike, interval: float = 2.0, *, duration: float | None = None,
            max_samples: int | None = None, backoff: float = 1.0, max_backoff: float = 30.0,
            max_errors: int | None = None) -> MonitorStatus:
        """Sample ``camera`` every ``interval`` seconds and decide, until stopped; blocks (see :meth:`start`).

        ``camera`` is anything with ``read() -> (frame, timestamp seconds)`` raising ``CameraError``
        (:mod:`buddy_emotion.cameras`). A camera that is not open yet is opened here, and closed when the
        loop ends; one the caller opened is left open. Live cameras are read every ``interval`` seconds of wall time;
        finite sources (``camera.finite`` true: video files, image folders) are read as fast as they decode
        and sampled every ``interval`` seconds of media time. The loop ends on :meth:`stop`, at the end of a
        finite source (``CameraEndOfStream``), after ``duration`` seconds or ``max_samples`` samples.

        Camera errors are survived: the sample is marked ``CAMERA_ERROR`` in the timeline, the loop waits
        ``backoff`` seconds (doubling up to ``max_backoff``), reopens a camera that closed itself and goes
        on; :attr:`status` and ``on_status`` report it. It gives up (status ``"failed"``) after ``max_errors``
        consecutive errors (default: never for live cameras, 3 for finite sources).

        Returns:
            The final :class:`MonitorStatus`.

        Raises:
            TypeError: ``camera`` has no ``read()`` method.
            ValueError: bad arguments: ``interval``, ``backoff``, ``max_backoff`` not finite numbers > 0,
                ``duration`` not None or a finite number > 0, ``max_samples`` or ``max_errors`` not None or a
                whole number >= 1. Unexpected errors (bugs, a failing detector, a ``read()`` that does not
                return ``(frame, timestamp)``) are re-raised after the status turns ``"failed"``.
        """
        interval, duration, max_samples, backoff, max_backoff, max_errors = self._run_args(
            camera, interval, duration, max_samples, backoff, max_backoff, max_errors)
        finite = bool(getattr(camera, "finite", False))
        if max_errors is None and finite:
            max_errors = 3
        try:
            from buddy_emotion.cameras.base import CameraEndOfStream as _EndOfStream
        except ImportError:  # pragma: no cover - the cameras package is part of the library
            _EndOfStream = None  # type: ignore[assignment,misc]

        self._stop.clear()
        opened_here = getattr(camera, "is_open", True) is False
        if opened_here:
            self._reopen(camera)  # a failure shows as a camera error at the first read, then backoff
        with self._cond:
            self._loop_active = True
            for q in self._subscribers:
                q.closed = False
        start_wall = time.monotonic()
        samples = 0
        errors_in_row = 0
        wait = backoff
        next_media_t: float | None = None
        last_ts: float | None = None
        last_ts_wall = start_wall
        self._set_status(state="running", samples=0, events=self._events_total, consecutive_errors=0,
                         last_error=None, retry_in=None)
        final = "stopped"
        try:
            while not self._stop.is_set():
                if duration is not None and time.monotonic() - start_wall >= duration:
                    break
                if max_samples is not None and samples >= max_samples:
                    break
                tick = time.monotonic()
                try:
                    got = camera.read()
                except (CameraError, ImageFileError, InvalidFrameError) as e:
                    if _EndOfStream is not None and isinstance(e, _EndOfStream):
                        final = "ended"
                        break
                    errors_in_row += 1
                    if finite:  # media time: continue from the last frame's time
                        err_t = 0.0 if last_ts is None else last_ts + (time.monotonic() - last_ts_wall)
                    else:
                        err_t = time.time()
                    self._note_camera_error(err_t)
                    msg = f"{type(e).__name__}: {e}"
                    total_errors = self.status.camera_errors + 1
                    if max_errors is not None and errors_in_row >= max_errors:
                        final = "failed"
                        self._set_status(state="failed", camera_errors=total_errors, consecutive_errors=errors_in_row,
                                         last_error=msg, retry_in=None)
                        break
                    self._set_status(state="reconnecting", camera_errors=total_errors,
                                     consecutive_errors=errors_in_row, last_error=msg, retry_in=wait)
                    log.warning("camera error (%d in a row), retrying in %.1f s: %s", errors_in_row, wait, msg)
                    if self._stop.wait(wait):
                        break
                    wait = min(wait * 2.0, max_backoff)
                    self._reopen(camera)
                    continue
                if errors_in_row:
                    errors_in_row = 0
                    wait = backoff
                    self._set_status(state="running", consecutive_errors=0, retry_in=None)
                if not isinstance(got, (tuple, list)) or len(got) != 2:
                    raise ArgumentTypeError(f"camera.read() must return (frame, timestamp), got {type(got).__name__}")
                frame, ts = got
                del got
                ts = _check.number("camera timestamp", ts, unit="seconds")
                last_ts, last_ts_wall = ts, time.monotonic()
                if finite:
                    if next_media_t is not None and ts + 1e-9 < next_media_t:
                        del frame
                        continue
                    next_media_t = ts + interval
                try:
                    self.update(frame, timestamp=ts)
                except InvalidFrameError as e:
                    self.feed(MonitorSample(ts, None, NoReadingReason.BAD_FRAME))
                    log.warning("unusable frame: %s", e)
                del frame  # no frame is kept beyond the sample in hand
                samples += 1
                self._set_status(samples=samples, events=self._events_total)
                if not finite:
                    self._stop.wait(max(0.0, interval - (time.monotonic() - tick)))
        except BaseException as e:
            final = "failed"
            self._set_status(state="failed", last_error=f"{type(e).__name__}: {e}", retry_in=None)
            raise
        finally:
            if final != "failed":
                self._set_status(state=final, retry_in=None)
            close = getattr(camera, "close", None)
            if opened_here and callable(close):
                try:
                    close()
                except Exception as e:  # closing must not hide how the loop ended
                    log.warning("camera close failed: %s", e)
            with self._cond:
                self._loop_active = False
            self._close_subscribers()
        return self.status

    @staticmethod
    def _run_args(camera: Any, interval: Any, duration: Any, max_samples: Any, backoff: Any, max_backoff: Any,
                  max_errors: Any) -> tuple[float, float | None, int | None, float, float, int | None]:
        """:meth:`run`'s arguments checked (also by :meth:`start`, in the caller's thread)."""
        if not callable(getattr(camera, "read", None)):
            raise ArgumentTypeError(f"camera must have a read() method, got {type(camera).__name__}")
        interval = _positive("interval", interval)
        backoff = _positive("backoff", backoff)
        max_backoff = max(backoff, _positive("max_backoff", max_backoff))
        if duration is not None:
            duration = _positive("duration", duration)
        if max_samples is not None:
            max_samples = _check.integer("max_samples", max_samples, 1)
        if max_errors is not None:
            max_errors = _check.integer("max_errors", max_errors, 1)
        return interval, duration, max_samples, backoff, max_backoff, max_errors

    def _note_camera_error(self, t: float) -> None:
        with self._lock:
            enter, exit_ = self._levels()
            self.timeline.append(TimelinePoint(t, None, NoReadingReason.CAMERA_ERROR, None, enter, exit_,
                                               self._state()))

    @staticmethod
    def _reopen(camera: Any) -> None:
        if getattr(camera, "is_open", True) is False and callable(getattr(camera, "open", None)):
            try:
                camera.open()
            except (CameraError, ImageFileError) as e:
                log.warning("camera reopen failed: %s", e)

    def start(self, camera: _CameraLike, interval: float = 2.0, **run_options: Any) -> SadnessMonitor:
        """Run :meth:`run` in a background daemon thread and return at once (``stop()`` ends it).

        Raises:
            RuntimeError: the monitor is running already.
            TypeError, ValueError: bad arguments, as for :meth:`run` (raised here, before the thread starts).
        """
        try:
            bound = inspect.signature(self.run).bind(camera, interval, **run_options)
        except TypeError as e:
            raise ArgumentTypeError(f"start(): {e}") from None
        bound.apply_defaults()
        self._run_args(**bound.arguments)
        with self._lock:
            if self.running:
                raise RuntimeError("the monitor is running already; stop() it first")
            self.error = None
            self._stop.clear()
            with self._cond:
                self._loop_active = True
                for q in self._subscribers:
                    q.closed = False

            def target() -> None:
                try:
                    self.run(camera, interval, **run_options)
                except BaseException as e:  # kept for the caller; the status says "failed"
                    self.error = e
                    log.exception("SadnessMonitor background loop failed")
                finally:
                    with self._cond:
                        self._loop_active = False
                    self._close_subscribers()

            self._thread = threading.Thread(target=target, name="SadnessMonitor", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> MonitorStatus:
        """Ask the loop to end and wait for the background thread (up to ``timeout`` seconds).

        Raises:
            ValueError: ``timeout`` is not None or a number of seconds >= 0.
        """
        timeout = _check.timeout("timeout", timeout)
        self._stop.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
            if not t.is_alive():
                self._thread = None
        self._close_subscribers()
        return self.status

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the background loop to end by itself (e.g. end of a video); True if it has ended.

        Raises:
            ValueError: ``timeout`` is not None or a number of seconds >= 0.
        """
        timeout = _check.timeout("timeout", timeout)
        t = self._thread
        if t is None:
            return True
        t.join(timeout)
        return not t.is_alive()

    def close(self) -> None:
        """Stop the loop and close a detector the monitor created."""
        self.stop()
        if self._owns_detector:
            close = getattr(self.detector, "close", None)
            if callable(close):
                close()

    def __enter__(self) -> SadnessMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SadnessMonitor(state={self.state.value}, samples={self._samples_total}, events={self._events_total})"


def _timestamp(value: Any, name: str = "timestamp") -> float:
    """``time.time()`` for None, else a finite real number of seconds (not a str, not a bool)."""
    if value is None:
        return time.time()
    return _check.number(name, value, unit="seconds")


def _positive(name: str, value: Any) -> float:
    """A finite number of seconds > 0 (numpy scalars included)."""
    return _check.number(name, value, 0.0, open_lo=True, unit="seconds")
