"""What the monitor hands back: samples, timeline points and the :class:`Timeline`, events and run status.
Numbers only; no record holds an image."""

from __future__ import annotations

import collections
import dataclasses
import enum
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from buddy_emotion import _check
from buddy_emotion.errors import ArgumentTypeError
from buddy_emotion.types import NoReadingReason


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
        """True when the sample counted as evidence."""
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
    (gave up, or an unexpected error: see ``last_error``). ``retry_in``: while ``"reconnecting"``, the
    back-off in seconds before the next read (0 for finite sources, which do not wait).

    Counts: ``samples`` are those of the current (or last) loop, from 0 at each :meth:`~SadnessMonitor.run`;
    ``events`` and ``camera_errors`` count since the monitor was made (``events`` includes push mode);
    ``consecutive_errors`` are the camera errors since the last good read.
    """

    state: str
    samples: int = 0
    events: int = 0
    camera_errors: int = 0
    consecutive_errors: int = 0
    last_error: str | None = None
    retry_in: float | None = None


class Timeline:
    """The last ``maxlen`` samples as :class:`TimelinePoint` (a thread-safe ring buffer, numbers only)."""

    def __init__(self, maxlen: int = 3600) -> None:
        self._points: collections.deque[TimelinePoint] = collections.deque(maxlen=_check.integer("maxlen", maxlen, 1))
        self._lock = threading.Lock()

    @property
    def maxlen(self) -> int:
        """How many points the timeline keeps."""
        return int(self._points.maxlen or 0)

    def append(self, point: TimelinePoint) -> None:
        """Add ``point``, dropping the oldest when full."""
        if not isinstance(point, TimelinePoint):
            raise ArgumentTypeError(f"point must be a TimelinePoint, got {type(point).__name__}")
        with self._lock:
            self._points.append(point)

    def clear(self) -> None:
        """Drop every point."""
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
