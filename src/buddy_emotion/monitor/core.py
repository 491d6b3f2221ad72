"""The :class:`SadnessMonitor`: the decision over samples, and the loop that drives a camera."""

from __future__ import annotations

import collections
import dataclasses
import inspect
import logging
import math
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from buddy_emotion import _check
from buddy_emotion.errors import ArgumentTypeError, BaselineError, InvalidArgumentError, InvalidFrameError
from buddy_emotion.frames import validate_frame
from buddy_emotion.monitor.baseline import Baseline, raise_level
from buddy_emotion.monitor.options import MonitorOptions
from buddy_emotion.monitor.quality import assess_reading
from buddy_emotion.monitor.records import (
    MonitorSample,
    MonitorState,
    MonitorStatus,
    SadnessEvent,
    Timeline,
    TimelinePoint,
)
from buddy_emotion.types import NoReadingReason, SadnessReading

log = logging.getLogger(__name__)

MAX_WINDOW_SAMPLES = 10_000
"""Most readings the smoothing window keeps, whatever ``window`` says: timestamps that do not advance (a
frozen camera clock) would otherwise grow it without end."""


def _callable_or_none(name: str, value: Any) -> None:
    if value is not None and not callable(value):
        raise ArgumentTypeError(f"{name} must be callable or None, got {type(value).__name__}")


class SadnessSource(Protocol):
    """What the monitor reads faces with: a :class:`~buddy_emotion.detector.Detector`, or anything with its
    ``detect_sadness``. ``SadnessMonitor.detector`` has this type: narrow it with ``isinstance(..., Detector)``
    to reach a Detector's ``backend`` or ``close()``."""

    def detect_sadness(self, frame: np.ndarray, timestamp: float | None = None) -> SadnessReading: ...


class _CameraLike(Protocol):
    def read(self) -> tuple[np.ndarray, float]: ...


class _EventQueue:
    """A subscriber's bounded queue of events (the oldest is dropped when full)."""

    def __init__(self, maxlen: int = 256) -> None:
        self.items: collections.deque[SadnessEvent] = collections.deque(maxlen=maxlen)
        self.closed = False


class SadnessMonitor:
    """Decides, sample by sample, when Buddy should speak first (see :mod:`buddy_emotion.monitor`).

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

    def __init__(self, detector: SadnessSource | None = None, options: MonitorOptions | None = None, *,
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
        self._close_when_loop_ends = False
        if detector is None:
            from buddy_emotion.detector import Detector

            detector = Detector()
        if not callable(getattr(detector, "detect_sadness", None)):
            raise ArgumentTypeError("detector must have a detect_sadness(frame, timestamp) method, "
                                    f"got {type(detector).__name__}")
        self.detector: SadnessSource = detector
        for name, cb in (("on_sad", on_sad), ("on_sample", on_sample), ("on_status", on_status)):
            _callable_or_none(name, cb)
        if baseline is not None and not isinstance(baseline, (Baseline, str, os.PathLike)):
            raise ArgumentTypeError(f"baseline must be a Baseline, a file path or None, got {type(baseline).__name__}")
        self._sad_callbacks: list[Callable[[SadnessEvent], Any]] = [on_sad] if on_sad else []
        self._sample_callbacks: list[Callable[[TimelinePoint], Any]] = [on_sample] if on_sample else []
        self._status_callbacks: list[Callable[[MonitorStatus], Any]] = [on_status] if on_status else []
        self._lock = threading.RLock()
        self._cond = threading.Condition(threading.Lock())
        # held weakly: an iterator dropped before its first next() (its finally never runs) takes its queue with it
        self._subscribers: weakref.WeakSet[_EventQueue] = weakref.WeakSet()
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
        self._loop_active = False  # a loop is running or about to (start() sets it before its thread begins)
        self._in_loop = False  # run()'s loop itself is under way
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
        self._gated_times: collections.deque[float] = collections.deque(maxlen=MAX_WINDOW_SAMPLES)  # in the window
        self._last_valid_t: float | None = None
        self._spell_active = False
        self._spoken = False
        self._spell_start = 0.0
        self._spell_sum = 0.0
        self._spell_n = 0
        self._spell_gated = 0

    def reset(self, *, keep_baseline: bool = True) -> None:
        """Forget the temporal state (window, spell, cooldown) and the timeline; keep the baseline unless told."""
        keep_baseline = _check.flag("keep_baseline", keep_baseline)
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
        unread events are kept, oldest dropped first; an iterator dropped (garbage) unsubscribes, even
        one never iterated.

        Raises:
            ValueError: ``timeout`` is not None or a number of seconds >= 0.
        """
        timeout = _check.timeout("timeout", timeout)
        q = _EventQueue()
        with self._cond:
            # a loop that ran and ended: nothing more will come; before any loop (push mode), wait
            q.closed = not self._loop_active and self.status.state in ("stopped", "ended", "failed")
            self._subscribers.add(q)
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
                self._subscribers.discard(q)

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
                log.exception("SadnessMonitor callback %s failed", _check.named(cb))

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
            ValueError: its timestamp is not a finite number, or its sadness neither None nor a number within
                0..1 (a gated sample's too: the timeline keeps it).
        """
        if not isinstance(sample, MonitorSample):
            raise ArgumentTypeError(f"sample must be a MonitorSample, got {type(sample).__name__}")
        if sample.reason is not None and not isinstance(sample.reason, NoReadingReason):
            raise ArgumentTypeError("sample.reason must be a NoReadingReason or None, got "
                                    f"{_check.shown(sample.reason)}")
        t = _timestamp(sample.timestamp, "sample.timestamp")
        sadness = _check.optional_number("sample.sadness", sample.sadness, 0.0, 1.0)  # before any state changes
        with self._lock:
            event, point = self._decide(sample, t, sadness)
        self._emit(self._sample_callbacks, point)
        if event is not None:
            self._publish(event)
        return event

    def _decide(self, sample: MonitorSample, t: float,
                sadness: float | None) -> tuple[SadnessEvent | None, TimelinePoint]:
        """The decision on one sample; ``t`` and ``sadness`` are the sample's, checked by :meth:`feed`."""
        o = self.options
        valid = sample.valid
        s = sadness if valid and sadness is not None else 0.0
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
            if len(self._window) > MAX_WINDOW_SAMPLES:  # timestamps that do not advance: keep memory flat
                self._window_sum -= self._window.popleft()[1]
        else:
            self._gated_times.append(t)
        horizon = t - o.window
        while self._window and self._window[0][0] <= horizon:
            self._window_sum -= self._window.popleft()[1]
        while self._gated_times and self._gated_times[0] <= horizon:
            self._gated_times.popleft()
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
            elif (not self._spoken and valid and smoothed is not None and smoothed >= enter
                  and self._spell_sum < enter * self._spell_n):
                # a spell kept open between the levels for long, whose mean has sunk below the enter level,
                # would otherwise dilute the evidence of new sadness (and keep the baseline from adapting):
                # the window reaches the enter level again, so the spell starts afresh where its evidence does
                self._begin_spell(enter)
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

        point = TimelinePoint(t, sadness, sample.reason,
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
        # the gated samples since the spell's start (it may lie before this sample), as the valid ones are
        self._spell_gated = sum(1 for g in self._gated_times if g >= self._spell_start)

    def _adapted_baseline(self) -> Baseline | None:
        o = self.options
        if not self._calm:
            return self._baseline
        values = np.fromiter(self._calm, dtype=np.float64, count=len(self._calm))
        fresh = Baseline.from_readings(values, o.baseline_quantile, created=time.time())
        given = self._given_baseline
        if given is None:
            return fresh
        # blend a loaded baseline with what was seen since, weighted by sample counts
        w1 = fresh.samples
        # the loaded baseline stands for the readings before this session: it fills what the window lacks and
        # slides out as new readings come, so a foreign or stale one is gone after one window
        w0 = min(given.samples, o.baseline_window - w1)
        if w0 <= 0:
            return fresh
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

        Camera errors are survived with the policy ``buddy-emotion watch`` uses
        (:class:`~buddy_emotion.cameras.retry.CameraRetry`): the sample is marked ``CAMERA_ERROR`` in the
        timeline, the loop waits ``backoff`` seconds (doubling up to ``max_backoff``, never past ``duration``;
        finite sources do not wait), reopens a camera that closed itself and goes on; :attr:`status` and
        ``on_status`` report it. It gives up (status ``"failed"``) after ``max_errors`` consecutive errors
        (default: never for live cameras, 3 for finite sources).

        Returns:
            The final :class:`MonitorStatus`.

        Raises:
            TypeError: ``camera`` has no ``read()`` method.
            ValueError: bad arguments: ``interval``, ``backoff``, ``max_backoff`` not finite numbers > 0,
                ``duration`` not None or a finite number > 0, ``max_samples`` or ``max_errors`` not None or a
                whole number >= 1. Unexpected errors (bugs, a failing detector, a ``read()`` that does not
                return ``(frame, timestamp)``) are re-raised after the status turns ``"failed"``;
                ``KeyboardInterrupt`` is re-raised after it turns ``"stopped"``.
            RuntimeError: a loop runs already (:meth:`start`'s, or another ``run()``, also one called from a
                callback).
            InvalidArgumentError: the detector is in live-stream mode (it reads frames you hand it, not a camera).
        """
        interval, duration, max_samples, backoff, max_backoff, max_errors = self._run_args(
            camera, interval, duration, max_samples, backoff, max_backoff, max_errors)
        self._not_live()
        from buddy_emotion.cameras.retry import CameraRetry, reopen  # loaded with the first camera loop

        finite = bool(getattr(camera, "finite", False))
        own_thread = threading.current_thread() is self._thread
        opened_here = getattr(camera, "is_open", True) is False
        with self._cond:
            # one loop at a time: not beside start()'s thread, nor a second blocking run(), nor from a callback
            if self._in_loop or (self._loop_active and not own_thread):
                raise RuntimeError("the monitor is running already; stop() it first")
            self._in_loop = self._loop_active = True
            for q in self._subscribers:
                q.closed = False
        if not own_thread:
            # a blocking run(). start() clears the flag before its thread begins, so that a stop() that comes
            # before this line is not lost
            self._stop.clear()
        start_wall = time.monotonic()
        samples = 0
        next_media_t: float | None = None
        last_ts: float | None = None
        last_tick = 0.0  # time.monotonic() of the read that gave last_ts

        def camera_error(e: Exception, in_row: int, retry_in: float | None) -> None:
            if finite:  # media time: where the frame that failed would have been
                err_t = (0.0 if last_ts is None else last_ts) + in_row * _frame_step(camera, interval)
            elif last_ts is None:
                err_t = time.time()
            else:  # in the camera's own time base (not every live camera stamps time.time())
                err_t = last_ts + (time.monotonic() - last_tick)
            self._note_camera_error(err_t)
            msg = f"{type(e).__name__}: {e}"
            changes = dict(camera_errors=self.status.camera_errors + 1, consecutive_errors=in_row, last_error=msg,
                           retry_in=retry_in)
            if retry_in is None:  # gives up
                self._set_status(state="failed", **changes)
                return
            self._set_status(state="reconnecting", **changes)
            log.warning("camera error (%d in a row), retrying in %.1f s: %s", in_row, retry_in, msg)

        def reopen_failed(e: Exception) -> None:
            log.warning("camera reopen failed: %s", e)

        final = "stopped"
        try:
            # the same policy as `buddy-emotion watch`: the cameras' own, reported here in status and timeline
            reads = CameraRetry(camera, backoff=backoff, max_backoff=max_backoff, max_errors=max_errors,
                                deadline=None if duration is None else start_wall + duration, stop=self._stop,
                                finite=finite, on_error=camera_error, on_reopen_error=reopen_failed,
                                on_recover=lambda: self._set_status(state="running", consecutive_errors=0,
                                                                    retry_in=None))
            self._set_status(state="running", samples=0, events=self._events_total, consecutive_errors=0,
                             last_error=None, retry_in=None)
            if opened_here:
                failed = reopen(camera)  # a failure shows as a camera error at the first read, then backoff
                if failed is not None:
                    reopen_failed(failed)
            for got in reads:
                tick = reads.read_started
                if not isinstance(got, (tuple, list)) or len(got) != 2:
                    raise ArgumentTypeError(f"camera.read() must return (frame, timestamp), got {type(got).__name__}")
                frame, ts = got
                del got
                ts = _check.number("camera timestamp", ts, unit="seconds")
                last_ts, last_tick = ts, tick
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
                if max_samples is not None and samples >= max_samples:
                    break
            if reads.gave_up is not None:
                final = "failed"  # camera_error() has said so
            elif reads.ended:
                final = "ended"
        except KeyboardInterrupt:  # Ctrl-C stops a blocking run(): not a failure
            raise
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
                self._in_loop = self._loop_active = False
            self._close_subscribers()
            self._close_if_asked()
        return self.status

    @staticmethod
    def _run_args(camera: Any, interval: Any, duration: Any, max_samples: Any, backoff: Any, max_backoff: Any,
                  max_errors: Any) -> tuple[float, float | None, int | None, float, float, int | None]:
        """:meth:`run`'s arguments checked (also by :meth:`start`, in the caller's thread)."""
        if not callable(getattr(camera, "read", None)):
            raise ArgumentTypeError(f"camera must have a read() method, got {type(camera).__name__}")
        from buddy_emotion.cameras.retry import check_schedule

        interval = _positive("interval", interval)
        backoff, max_backoff, max_errors = check_schedule(backoff, max_backoff, max_errors)
        if duration is not None:
            duration = _positive("duration", duration)
        if max_samples is not None:
            max_samples = _check.integer("max_samples", max_samples, 1)
        return interval, duration, max_samples, backoff, max_backoff, max_errors

    def _not_live(self) -> None:
        if getattr(self.detector, "running_mode", None) == "live_stream":
            raise InvalidArgumentError("the monitor's camera loop needs a detector it can call for each sample; "
                                       "this one is in live-stream mode: build it without result_callback, or feed "
                                       "the monitor from the callback with update(frame, reading=reading)")

    def _note_camera_error(self, t: float) -> None:
        with self._lock:
            enter, exit_ = self._levels()
            self.timeline.append(TimelinePoint(t, None, NoReadingReason.CAMERA_ERROR, None, enter, exit_,
                                               self._state()))

    def start(self, camera: _CameraLike, interval: float = 2.0, **run_options: Any) -> SadnessMonitor:
        """Run :meth:`run` in a background daemon thread and return at once (``stop()`` ends it).

        Raises:
            RuntimeError: the monitor is running already (:meth:`start`, or a blocking :meth:`run` elsewhere).
            TypeError, ValueError: bad arguments, as for :meth:`run` (raised here, before the thread starts).
        """
        try:
            bound = inspect.signature(self.run).bind(camera, interval, **run_options)
        except TypeError as e:
            raise ArgumentTypeError(f"start(): {e}") from None
        bound.apply_defaults()
        self._run_args(**bound.arguments)
        self._not_live()
        last = self._thread
        if last is not None and last is not threading.current_thread() and not self._loop_active:
            last.join(5.0)  # its loop has ended (events() ended with it); the thread is only finishing up
        with self._lock:
            if self.running or self._loop_active:  # a loop of start(), or a blocking run() in another thread
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
                    self._close_if_asked()  # also when run() failed before its loop began

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

    def close(self, timeout: float | None = 10.0) -> None:
        """Stop the loop (waiting up to ``timeout`` seconds, as :meth:`stop`) and close a detector the monitor
        created. If the background loop has not ended by then (a camera read or a callback that blocks), its
        thread closes the detector when it ends, never under its feet.

        Raises:
            ValueError: ``timeout`` is not None or a number of seconds >= 0.
        """
        self.stop(timeout)
        with self._cond:
            if self._in_loop or self._loop_active:  # start()'s thread, or a blocking run() in another thread
                self._close_when_loop_ends = True  # the loop's end closes it (_close_if_asked)
                return
        self._close_detector()

    def _close_if_asked(self) -> None:
        """At the end of a loop: close the detector if :meth:`close` asked while the loop still ran."""
        with self._cond:
            if not self._close_when_loop_ends or self._in_loop or self._loop_active:
                return
            self._close_when_loop_ends = False
        self._close_detector()

    def _close_detector(self) -> None:
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


def _frame_step(camera: Any, interval: float) -> float:
    """Media seconds between a finite source's frames: its ``step`` (a video read every ``step`` s), else
    ``1 / fps``, else the sampling ``interval``."""
    step: Any = getattr(camera, "step", None)
    if _check.is_real(step) and math.isfinite(step) and step > 0:
        return float(step)
    fps: Any = getattr(camera, "fps", None)
    if _check.is_real(fps) and math.isfinite(fps) and fps > 0:
        return 1.0 / float(fps)
    return interval
