"""Options of the sadness monitor: :class:`QualityGate` (which samples count) and :class:`MonitorOptions`
(the decision's levels and times, in seconds)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from buddy_emotion import _check
from buddy_emotion.errors import ArgumentTypeError, InvalidArgumentError

_MEASURE_SIZES = (16, 512)  # QualityGate.measure_size: enough pixels to measure, not megabytes per sample


def _store(obj: Any, name: str, checked: Any, keep: tuple[type, ...]) -> None:
    """Put a checked value on a frozen dataclass unless the given one has a type in ``keep`` already
    (``np.int64(5)`` and ``5.0`` become ``5`` for ints, numpy scalars become floats, ints and floats stay)."""
    if type(getattr(obj, name)) not in keep:
        object.__setattr__(obj, name, checked)


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
        if not isinstance(self.multiple_faces, str):
            raise ArgumentTypeError("multiple_faces must be 'dominant', 'largest' or 'reject', got "
                                    f"{_check.shown(self.multiple_faces)}")
        if self.multiple_faces not in ("dominant", "largest", "reject"):
            raise InvalidArgumentError("multiple_faces must be 'dominant', 'largest' or 'reject', got "
                                       f"{_check.shown(self.multiple_faces)}")
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
            no event fires before. 0: no calibration phase. With ``adapt_baseline`` (the default) the
            baseline is then learned from the first reading on, and readings before a spell opens count
            as calm, so a user who already looks sad at the start becomes the baseline and is not
            reported. With ``adapt_baseline=False`` (and no baseline given) events fire on the plain
            ``enter_threshold`` from the first samples.
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
        _store(self, "adapt_baseline", _check.flag("adapt_baseline", self.adapt_baseline), (bool,))
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
