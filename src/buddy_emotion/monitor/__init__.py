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

The package, one part per file: ``options`` (:class:`QualityGate`, :class:`MonitorOptions`), ``quality``
(the gate), ``baseline`` (:class:`Baseline`), ``records`` (samples, timeline, events, status) and ``core``
(:class:`SadnessMonitor`). Import from ``buddy_emotion.monitor``; the split is not part of the API.
"""

from __future__ import annotations

from buddy_emotion.errors import BaselineError
from buddy_emotion.monitor.baseline import Baseline, raise_level
from buddy_emotion.monitor.core import SadnessMonitor, SadnessSource
from buddy_emotion.monitor.options import MonitorOptions, QualityGate
from buddy_emotion.monitor.quality import assess_reading, check_quality, measure_face
from buddy_emotion.monitor.records import (
    FaceQuality,
    MonitorSample,
    MonitorState,
    MonitorStatus,
    SadnessEvent,
    Timeline,
    TimelinePoint,
)

__all__ = [
    "SadnessMonitor",
    "SadnessSource",
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
