"""Live-stream mode: ``Detector(result_callback=...)`` and ``detect_async`` (MediaPipe Tasks' LIVE_STREAM)."""

from __future__ import annotations

import functools
import gc
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
import traceback
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from buddy_emotion import (
    BackendError,
    BackendUnavailableError,
    Detector,
    DetectorOptions,
    FaceBox,
    FaceEmotion,
    InvalidFrameError,
    SadnessMonitor,
    SadnessReading,
)
from buddy_emotion.backends import EmotionBackend
from buddy_emotion.errors import ArgumentTypeError, InvalidArgumentError, ServiceError


class _Gated(EmotionBackend):
    """Reads a face whose sadness is the frame's first pixel / 255; waits for ``gate`` when it is cleared, and
    fails on frames whose first pixel is 13. Remembers the first pixel of every frame it read."""

    name = "gated"
    labels = ("happiness", "sadness")

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()
        self.seen: list[int] = []
        self.threads: set[str] = set()
        self.closed = False

    def analyze(self, frame: np.ndarray) -> list[FaceEmotion]:
        self.started.set()
        assert self.gate.wait(10)
        value = int(frame.flat[0])
        self.seen.append(value)
        self.threads.add(threading.current_thread().name)
        if value == 13:
            raise ServiceError("the service answered 500")
        sad = value / 255
        return [FaceEmotion(FaceBox(10, 10, 80, 80), {"sadness": sad, "happiness": 1 - sad}, "gated")]

    def close(self) -> None:
        self.closed = True


def _frame(value: int) -> np.ndarray:
    frame = np.random.default_rng(value).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    frame.flat[0] = value
    return frame


def _thread(detector: Detector) -> threading.Thread:
    thread = detector._live._thread  # type: ignore[union-attr]
    assert thread is not None
    return thread


class _Collect:
    def __init__(self) -> None:
        self.readings: list[SadnessReading] = []
        self.frames: list[np.ndarray] = []

    def __call__(self, reading: SadnessReading, frame: np.ndarray) -> None:
        self.readings.append(reading)
        self.frames.append(frame)


def test_readings_arrive_in_order_with_their_timestamps_and_frames() -> None:
    backend, got = _Gated(), _Collect()
    with Detector(backend, result_callback=got) as d:
        assert d.running_mode == "live_stream"
        for i, value in enumerate((40, 200, 120)):
            d.detect_async(_frame(value), timestamp=10.0 + i)
            assert d.flush(timeout=10)  # one at a time: nothing dropped
        assert [r.timestamp for r in got.readings] == [10.0, 11.0, 12.0]
        assert [r.sadness for r in got.readings] == pytest.approx([40 / 255, 200 / 255, 120 / 255])
        assert [r.is_sad for r in got.readings] == [False, True, False]
        assert [int(f.flat[0]) for f in got.frames] == [40, 200, 120]
        assert np.array_equal(got.frames[1], _frame(200)) and d.dropped_frames == 0
        assert backend.threads == {"buddy-emotion-live"}  # read on the worker, not the caller's thread
    # the readings are the ones detect_sadness gives for the same frames and times
    with Detector(_Gated()) as same:
        assert same.detect_sadness(_frame(200), timestamp=11.0) == got.readings[1]


def test_a_frame_waiting_while_the_backend_is_busy_gives_way_to_the_newest() -> None:
    backend, got = _Gated(), _Collect()
    with Detector(backend, result_callback=got) as d:
        backend.gate.clear()
        d.detect_async(_frame(1), timestamp=1.0)
        assert backend.started.wait(10)  # the worker holds frame 1
        for value in (2, 3, 4, 5):  # the caller does not wait, whatever the backend's speed
            t0 = time.monotonic()
            d.detect_async(_frame(value), timestamp=float(value))
            assert time.monotonic() - t0 < 2
        backend.gate.set()
        assert d.flush(timeout=10)
        assert backend.seen == [1, 5] and [r.timestamp for r in got.readings] == [1.0, 5.0]
        assert d.dropped_frames == 3


def test_the_frame_is_copied_so_the_caller_may_reuse_its_buffer() -> None:
    backend, got = _Gated(), _Collect()
    buffer = _frame(30)
    with Detector(backend, result_callback=got) as d:
        backend.gate.clear()
        d.detect_async(buffer, timestamp=1.0)
        buffer[:] = 0  # the capture loop writes its next frame into the same array
        buffer.flat[0] = 250
        backend.gate.set()
        assert d.flush(timeout=10)
    assert backend.seen == [30] and got.frames[0] is not buffer and int(got.frames[0].flat[0]) == 30


def test_flush_reports_a_timeout_and_no_timestamp_means_the_time_of_handing_over() -> None:
    backend, got = _Gated(), _Collect()
    with Detector(backend, result_callback=got) as d:
        backend.gate.clear()
        before = time.time()
        d.detect_async(_frame(9))
        after = time.time()
        assert d.flush(timeout=0.05) is False
        time.sleep(0.1)
        backend.gate.set()
        assert d.flush() is True
    assert before <= got.readings[0].timestamp <= after  # stamped when handed over, not when read


def test_a_backend_failure_is_raised_once_by_the_next_call_and_the_stream_goes_on() -> None:
    backend, got = _Gated(), _Collect()
    with Detector(backend, result_callback=got) as d:
        d.detect_async(_frame(13), timestamp=1.0)
        deadline = time.monotonic() + 10
        while d._live.failures == 0 and time.monotonic() < deadline:  # type: ignore[union-attr]
            time.sleep(0.01)
        with pytest.raises(ServiceError, match="500"):
            d.detect_async(_frame(50), timestamp=2.0)  # raised instead of taking this frame
        d.detect_async(_frame(60), timestamp=3.0)  # raised once: the stream goes on
        assert d.flush(timeout=10)
        assert backend.seen == [13, 60] and [r.timestamp for r in got.readings] == [3.0]
        d.detect_async(_frame(13), timestamp=4.0)
        with pytest.raises(BackendError, match="500"):
            d.flush(timeout=10)
        assert d.flush(timeout=10)  # and only once


def test_close_reads_what_was_handed_over_and_raises_a_failure_not_yet_raised() -> None:
    backend, got = _Gated(), _Collect()
    d = Detector(backend, result_callback=got)
    backend.gate.clear()
    d.detect_async(_frame(20), timestamp=1.0)
    assert backend.started.wait(10)
    d.detect_async(_frame(21), timestamp=2.0)  # waiting when close() is called
    threading.Timer(0.1, backend.gate.set).start()
    d.close()
    assert [r.timestamp for r in got.readings] == [1.0, 2.0]  # nothing handed over is lost
    assert not _thread(d).is_alive()
    with pytest.raises(BackendUnavailableError, match="closed"):
        d.detect_async(_frame(22), timestamp=3.0)
    d.close()  # twice is fine

    failing = Detector(_Gated(), result_callback=got)
    failing.detect_async(_frame(13), timestamp=1.0)
    with pytest.raises(ServiceError, match="500"):
        failing.close()
    assert not _thread(failing).is_alive()


def test_leaving_a_with_block_on_an_exception_keeps_that_exception_and_logs_the_streams(
        caplog: pytest.LogCaptureFixture) -> None:
    backend = _Gated()
    with pytest.raises(KeyError), caplog.at_level(logging.ERROR, "buddy_emotion"):
        with Detector(backend, result_callback=_Collect()) as d:
            d.detect_async(_frame(13), timestamp=1.0)
            while not backend.seen:
                time.sleep(0.01)
            raise KeyError("the caller's own error")
    assert "500" in caplog.text and backend.closed is False  # an instance passed in stays open


def test_a_failing_callback_is_logged_and_the_stream_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    got: list[float] = []

    def callback(reading: SadnessReading, frame: np.ndarray) -> None:
        got.append(reading.timestamp)
        if len(got) == 1:
            raise RuntimeError("a bug in the caller's callback")

    with caplog.at_level(logging.ERROR, "buddy_emotion"), Detector(_Gated(), result_callback=callback) as d:
        for t in (1.0, 2.0):
            d.detect_async(_frame(80), timestamp=t)
            assert d.flush(timeout=10)  # not raised here either
    assert got == [1.0, 2.0] and "a bug in the caller's callback" in caplog.text
    assert "<locals>.callback" in caplog.text  # the log names the caller's function, not a wrapper


def test_a_callback_may_close_the_detector_or_hand_over_another_frame() -> None:
    later: list[float] = []

    def again(reading: SadnessReading, frame: np.ndarray) -> None:
        later.append(reading.timestamp)
        if reading.timestamp < 3:
            d.detect_async(frame, timestamp=reading.timestamp + 1)

    with Detector(_Gated(), result_callback=again) as d:
        d.detect_async(_frame(70), timestamp=1.0)
        deadline = time.monotonic() + 10
        while len(later) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert d.flush(timeout=10)
    assert later == [1.0, 2.0, 3.0]

    closed = threading.Event()

    def close_it(reading: SadnessReading, frame: np.ndarray) -> None:
        e.close()  # from the worker's own thread: must not wait for itself
        closed.set()

    e = Detector(_Gated(), result_callback=close_it)
    e.detect_async(_frame(70), timestamp=1.0)
    assert closed.wait(10)


def test_frames_and_timestamps_are_checked_when_handed_over() -> None:
    with Detector(_Gated(), result_callback=_Collect()) as d:
        with pytest.raises(InvalidFrameError):
            d.detect_async(None)  # type: ignore[arg-type]
        with pytest.raises(InvalidFrameError, match="dtype uint8"):
            d.detect_async(np.zeros((100, 100, 3), np.float32))
        with pytest.raises(InvalidArgumentError, match="timestamp"):
            d.detect_async(_frame(1), timestamp=float("nan"))
        with pytest.raises(InvalidArgumentError, match="timeout"):
            d.flush(timeout=-1)
        assert d.dropped_frames == 0 and d.flush(timeout=1)


def test_each_mode_has_its_own_calls() -> None:
    with Detector(_Gated(), result_callback=_Collect()) as live:
        with pytest.raises(InvalidArgumentError, match=r"live-stream mode: hand frames to detect_async\(\)"):
            live.detect_sadness(_frame(1))
        with pytest.raises(InvalidArgumentError, match="live-stream mode"):
            live.analyze(_frame(1))
    with Detector(_Gated()) as plain:
        assert plain.running_mode == "image" and plain.flush() is True and plain.dropped_frames == 0
        with pytest.raises(InvalidArgumentError, match=r"detect_async\(\) needs live-stream mode"):
            plain.detect_async(_frame(1))
    with pytest.raises(ArgumentTypeError, match="result_callback must be callable"):
        Detector(_Gated(), result_callback=42)  # type: ignore[arg-type]


def test_options_name_the_mode_and_its_callback() -> None:
    got = _Collect()
    with pytest.raises(InvalidArgumentError, match="needs a result_callback"):
        DetectorOptions(running_mode="live_stream")
    with pytest.raises(InvalidArgumentError, match="only that mode takes one"):
        DetectorOptions(result_callback=got)
    with pytest.raises(ArgumentTypeError, match="result_callback must be callable"):
        DetectorOptions(running_mode="live_stream", result_callback="print")  # type: ignore[arg-type]
    options = DetectorOptions(running_mode="live_stream", result_callback=got, backend_options={"tta": False})
    assert hash(options) == hash(DetectorOptions(running_mode="live_stream", result_callback=got,
                                                 backend_options={"tta": False}))
    assert "result_callback=" in repr(options) and "result_callback" not in repr(DetectorOptions())
    with Detector.from_options(options) as d:  # the default backend tracks the face, as in video mode
        assert d.running_mode == "live_stream" and d.backend.track  # type: ignore[attr-defined]


def test_live_stream_on_the_default_backend_reads_the_astronaut(astronaut_bgr: np.ndarray) -> None:
    got = _Collect()
    with Detector(track=True) as video:
        expected = [video.detect_sadness(astronaut_bgr, timestamp=t) for t in (1.0, 2.0)]
    with Detector.from_options(DetectorOptions(running_mode="live_stream", result_callback=got)) as d:
        for t in (1.0, 2.0):
            d.detect_async(astronaut_bgr, timestamp=t)
            assert d.flush(timeout=30)
    assert got.readings == expected and got.readings[0].ok


def test_frames_are_let_go_once_their_callback_returns() -> None:
    refs: list[weakref.ref[np.ndarray]] = []

    def keep_a_weak_ref(reading: SadnessReading, frame: np.ndarray) -> None:
        refs.append(weakref.ref(frame))

    with Detector(_Gated(), result_callback=keep_a_weak_ref) as d:
        for t in range(5):
            d.detect_async(_frame(t + 1), timestamp=float(t))
            assert d.flush(timeout=10)
        gc.collect()
        assert all(r() is None for r in refs)  # the detector holds no frame between calls


def test_the_monitor_decides_on_live_stream_readings() -> None:
    events: list[Any] = []
    monitor: SadnessMonitor

    def feed(reading: SadnessReading, frame: np.ndarray) -> None:
        event = monitor.update(frame, reading=reading)
        if event is not None:
            events.append(event)

    with Detector(_Gated(), result_callback=feed) as d:
        monitor = SadnessMonitor(d, baseline=None, min_duration=6.0, calibration_samples=0)
        for i in range(20):
            d.detect_async(_frame(240), timestamp=2.0 * i)  # a sad face every 2 s
            assert d.flush(timeout=10)
    assert len(events) == 1 and events[0].samples >= 4


def test_a_detector_dropped_without_close_is_collected_and_its_thread_ends() -> None:
    def make() -> tuple[weakref.ref[Detector], threading.Thread]:
        d = Detector(_Gated(), result_callback=_Collect())
        d.detect_async(_frame(5), timestamp=1.0)
        assert d.flush(timeout=10)
        return weakref.ref(d), _thread(d)

    ref, thread = make()
    gc.collect()
    assert ref() is None
    thread.join(10)
    assert not thread.is_alive()


def test_the_monitor_refuses_to_run_a_camera_with_a_live_stream_detector() -> None:
    class Cam:
        def read(self) -> tuple[np.ndarray, float]:
            raise AssertionError("not read: refused before the loop")

    with Detector(_Gated(), result_callback=_Collect()) as d:
        monitor = SadnessMonitor(d)
        for call in (lambda: monitor.run(Cam(), max_samples=1), lambda: monitor.start(Cam())):
            with pytest.raises(InvalidArgumentError, match=r"live-stream mode: build it without result_callback"):
                call()
        assert not monitor.running


def _run_script(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    """Run ``source`` (indented) as a script of its own, with this checkout's library: for what happens at exit."""
    script = tmp_path / "forgotten.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")})


def test_the_interpreter_exit_waits_for_a_detector_never_closed(tmp_path: Path) -> None:
    # the worker is a daemon thread: without the wait it would be cut off at exit (inside LiteRT, that can
    # abort the process); with it, the frame in hand and the one waiting are read before the process ends
    out = _run_script(tmp_path, """
        import threading
        import time
        import numpy as np
        from buddy_emotion import Detector, FaceBox, FaceEmotion
        from buddy_emotion.backends import EmotionBackend

        class Slow(EmotionBackend):
            name, labels = "slow", ("happiness", "sadness")
            started = threading.Event()

            def analyze(self, frame):
                self.started.set()
                time.sleep(0.3)
                return [FaceEmotion(FaceBox(0, 0, 60, 60), {"sadness": 0.5, "happiness": 0.5}, "slow")]

        d = Detector(Slow(), result_callback=lambda reading, frame: print("read", reading.timestamp, flush=True))
        frame = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
        d.detect_async(frame, 1.0)
        assert Slow.started.wait(10)  # in hand (a sleep could end first on a busy machine: 1.0 then dropped)
        d.detect_async(frame, 2.0)
        print("exit", flush=True)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["exit", "read", "1.0", "read", "2.0"]


def test_flush_from_the_callback_does_not_wait_for_itself() -> None:
    got: list[bool] = []

    def flush_it(reading: SadnessReading, frame: np.ndarray) -> None:
        got.append(d.flush())  # no timeout: it waited for ever for this very callback to return

    with Detector(_Gated(), result_callback=flush_it) as d:
        d.detect_async(_frame(70), timestamp=1.0)
        assert d.flush(timeout=10)
    assert got == [False]


class _Exit(_Gated):
    def analyze(self, frame: np.ndarray) -> list[FaceEmotion]:
        if int(frame.flat[0]) == 99:
            raise SystemExit("a plug-in that calls sys.exit()")
        return super().analyze(frame)


def test_a_base_exception_from_the_backend_or_the_callback_does_not_end_the_stream(
        caplog: pytest.LogCaptureFixture) -> None:
    got: list[float] = []

    def callback(reading: SadnessReading, frame: np.ndarray) -> None:
        got.append(reading.timestamp)
        if reading.timestamp == 1.0:
            raise SystemExit("a callback that calls sys.exit()")

    with caplog.at_level(logging.ERROR, "buddy_emotion"), Detector(_Exit(), result_callback=callback) as d:
        d.detect_async(_frame(50), timestamp=1.0)
        assert d.flush(timeout=10)  # logged, as any exception of the callback
        d.detect_async(_frame(99), timestamp=2.0)
        with pytest.raises(SystemExit, match="sys.exit"):
            d.flush(timeout=10)  # kept and raised, as any failure of the backend
        d.detect_async(_frame(60), timestamp=3.0)
        assert d.flush(timeout=10)  # the worker went on
        assert _thread(d).is_alive()
    assert got == [1.0, 3.0] and "a callback that calls sys.exit()" in caplog.text


class _KeepsRefs(_Gated):
    """Fails as _Gated, and keeps a weak reference to every frame it read."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[weakref.ref[np.ndarray]] = []

    def analyze(self, frame: np.ndarray) -> list[FaceEmotion]:
        self.refs.append(weakref.ref(frame))
        if int(frame.flat[0]) == 14:
            raise RuntimeError("a plug-in's own bug")
        return super().analyze(frame)


def test_a_failed_frame_is_let_go_though_its_error_is_kept(caplog: pytest.LogCaptureFixture) -> None:
    backend = _KeepsRefs()

    def callback(reading: SadnessReading, frame: np.ndarray) -> None:
        raise ValueError("a bug in the caller's callback")  # logged: caplog keeps the record and its traceback

    with caplog.at_level(logging.ERROR, "buddy_emotion"), Detector(backend, result_callback=callback) as d:
        for value in (13, 14):  # a library error, a plug-in's own (chained to a BackendError)
            d.detect_async(_frame(value), timestamp=1.0)
            deadline = time.monotonic() + 10
            while d._live.failures == 0 and time.monotonic() < deadline:  # type: ignore[union-attr]
                time.sleep(0.01)
            gc.collect()
            assert backend.refs[-1]() is None, "held"  # not held by the failure waiting to be raised
            with pytest.raises(BackendError) as raised:
                d.flush(timeout=10)
            gc.collect()
            assert backend.refs[-1]() is None, "held"  # nor by the error the caller holds
            assert "analyze" in "".join(traceback.format_exception(raised.value))  # which still says where
        d.detect_async(_frame(50), timestamp=2.0)
        assert d.flush(timeout=10)
        gc.collect()
        assert backend.refs[-1]() is None, "held"
        assert "a bug in the caller's callback" in caplog.text


def test_closing_from_the_callback_drops_the_frame_waiting_rather_than_read_it_on_a_closed_backend(
        monkeypatch: pytest.MonkeyPatch) -> None:
    backend, got = _Gated(), _Collect()
    first, then = threading.Event(), threading.Event()

    def close_it(reading: SadnessReading, frame: np.ndarray) -> None:
        got(reading, frame)
        first.set()
        assert then.wait(10)
        d.close()

    d = Detector(backend, result_callback=close_it)
    monkeypatch.setattr(d, "_owns_backend", True)  # as the default backend: close() closes it
    d.detect_async(_frame(20), timestamp=1.0)
    assert first.wait(10)
    d.detect_async(_frame(21), timestamp=2.0)  # waits while the callback of frame 20 runs
    then.set()
    _thread(d).join(10)
    assert not _thread(d).is_alive() and backend.closed
    assert backend.seen == [20] and [r.timestamp for r in got.readings] == [1.0]
    assert d.dropped_frames == 1 and d._live._failure is None  # type: ignore[union-attr]


def test_a_worker_thread_that_cannot_start_is_a_library_error_and_the_next_frame_tries_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    got = _Collect()

    def cannot_start(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    with Detector(_Gated(), result_callback=got) as d:
        with monkeypatch.context() as m:
            m.setattr(threading.Thread, "start", cannot_start)  # a thread limit, or interpreter shutdown
            with pytest.raises(BackendUnavailableError, match="cannot start its worker thread"):
                d.detect_async(_frame(1), timestamp=1.0)
        assert d.flush(timeout=1)  # nothing was taken
        d.detect_async(_frame(2), timestamp=2.0)
        assert d.flush(timeout=10)
    assert [r.timestamp for r in got.readings] == [2.0] and not _thread(d).is_alive()  # and close() ended it


class _Tracker:
    def __init__(self) -> None:
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1


def test_a_frame_stamped_by_the_clock_does_not_restart_the_stream_as_in_video_mode() -> None:
    for live in (False, True):
        backend = _Gated()
        backend.detector = _Tracker()  # type: ignore[attr-defined]  # what Detector.reset() resets
        with Detector(backend, result_callback=_Collect() if live else None) as d:
            for t in (1.0, None, 2.0, 0.5):  # the clock's time.time() is no timestamp the caller gave
                if live:
                    d.detect_async(_frame(30), timestamp=t)
                    assert d.flush(timeout=10)
                else:
                    d.detect_sadness(_frame(30), timestamp=t)
        assert backend.detector.resets == 1, live  # type: ignore[attr-defined]  # 2.0 -> 0.5 only


def test_a_failure_not_raised_when_the_interpreter_exits_is_logged(tmp_path: Path) -> None:
    out = _run_script(tmp_path, """
        import threading
        import numpy as np
        from buddy_emotion import Detector
        from buddy_emotion.backends import EmotionBackend
        from buddy_emotion.errors import ServiceError

        class Failing(EmotionBackend):
            name, labels = "failing", ("happiness", "sadness")
            read = threading.Event()

            def analyze(self, frame):
                self.read.set()
                raise ServiceError("the service answered 500")

        d = Detector(Failing(), result_callback=print)
        d.detect_async(np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8), 1.0)
        assert Failing.read.wait(10)  # failed, or failing: kept, or about to be, with no call left to raise it
    """)
    assert out.returncode == 0, out.stderr
    assert "reading failed and was not raised: the service answered 500" in out.stderr


def test_a_failing_callback_is_logged_by_its_name_never_its_repr(caplog: pytest.LogCaptureFixture) -> None:
    background = _frame(7)  # e.g. a frame to draw on, bound with functools.partial

    def draw(on: np.ndarray, reading: SadnessReading, frame: np.ndarray) -> None:
        raise RuntimeError("a bug in the caller's callback")

    with caplog.at_level(logging.ERROR, "buddy_emotion"):
        with Detector(_Gated(), result_callback=functools.partial(draw, background)) as d:
            d.detect_async(_frame(80), timestamp=1.0)
            assert d.flush(timeout=10)
    message = caplog.records[0].getMessage()
    assert "partial of" in message and "<locals>.draw" in message
    assert "array" not in message and "[[" not in message  # no pixels of the bound frame


def test_options_and_the_monitor_name_a_callback_without_its_pixels(caplog: pytest.LogCaptureFixture) -> None:
    small = np.full((3, 3), 7, np.uint8)  # short enough for numpy to print in full

    def draw(on: np.ndarray, *args: Any) -> None:
        raise RuntimeError("broken")

    options = DetectorOptions(running_mode="live_stream", result_callback=functools.partial(draw, small))
    assert "partial of" in repr(options) and "<locals>.draw" in repr(options)
    assert "array" not in repr(options) and "7, 7" not in repr(options)
    monitor = SadnessMonitor(_Source(), on_sample=functools.partial(draw, small), calibration_samples=0)
    with caplog.at_level(logging.ERROR, "buddy_emotion"):
        monitor.update(_frame(100), timestamp=1.0)
    assert "partial of" in caplog.text and "array(" not in caplog.text and "7, 7" not in caplog.text


class _Source:
    def detect_sadness(self, frame: np.ndarray, timestamp: float | None = None) -> SadnessReading:
        return SadnessReading(0.1, False, FaceBox(10, 10, 80, 80), {"sadness": 0.1, "happiness": 0.9}, "s",
                              float(timestamp or 0.0), None, 1)


def _wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert condition()


def test_a_second_failure_while_one_waits_to_be_raised_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    backend = _Gated()
    with caplog.at_level(logging.ERROR, "buddy_emotion"), Detector(backend, result_callback=_Collect()) as d:
        backend.gate.clear()
        d.detect_async(_frame(13), timestamp=1.0)
        assert backend.started.wait(10)
        d.detect_async(_frame(13), timestamp=2.0)  # waits, and fails after the first has failed
        backend.gate.set()
        _wait_for(lambda: len(backend.seen) == 2 and d._live.failures == 2)  # type: ignore[union-attr]
        with pytest.raises(ServiceError):
            d.flush(timeout=10)  # the first
        assert d.flush(timeout=10)
    assert "another failure waits to be raised" in caplog.text and "500" in caplog.text


def test_failures_no_call_can_raise_any_more_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    # a detector collected without close(): its kept failure
    def forgotten() -> None:
        d = Detector(_Gated(), result_callback=_Collect())
        d.detect_async(_frame(13), timestamp=1.0)
        _wait_for(lambda: d._live.failures == 1)  # type: ignore[union-attr]

    with caplog.at_level(logging.ERROR, "buddy_emotion"):
        forgotten()
        gc.collect()
    assert "dropped without close()" in caplog.text and "500" in caplog.text
    caplog.clear()

    # a worker that outlives close()'s wait, then fails
    from buddy_emotion._live import LatestWorker

    release = threading.Event()

    def work(item: int) -> int:
        release.wait(10)
        raise ServiceError("the service answered 503")

    worker: LatestWorker[int, int] = LatestWorker(work, lambda result, item: None)
    worker.submit(1)
    with caplog.at_level(logging.ERROR, "buddy_emotion"):
        assert worker.close(0.05) is None  # gave up waiting: nothing kept yet
        release.set()
        _wait_for(lambda: worker.failures == 1)
    assert "the stream is closed" in caplog.text and "503" in caplog.text
