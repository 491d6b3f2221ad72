"""Tests for buddy_emotion.cameras.retry: the one retry policy for camera read errors (fake cameras, a fake clock)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from buddy_emotion.cameras import CameraEndOfStream
from buddy_emotion.cameras.retry import CameraRetry, check_schedule, reopen
from buddy_emotion.errors import (
    ArgumentTypeError,
    CameraError,
    ImageFileError,
    InvalidArgumentError,
    InvalidFrameError,
)

FRAME = np.zeros((8, 8, 3), np.uint8)


class Clock:
    """A fake ``time.monotonic`` that ``time.sleep`` advances; ``log`` records waits, reads and opens in order."""

    def __init__(self) -> None:
        self.t = 0.0
        self.log: list[str] = []

    def sleep(self, seconds: float) -> None:
        if seconds < 0:  # as time.sleep does
            raise ValueError("sleep length must be non-negative")
        self.log.append(f"wait {seconds:g}")
        self.t += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(time, "monotonic", lambda: c.t)
    monkeypatch.setattr(time, "sleep", c.sleep)
    return c


class Scripted:
    """Reads follow a script: "ok" a frame, "bad" a CameraError, "lost" a CameraError that closes the camera,
    "file" an ImageFileError, "frame" an InvalidFrameError, "bug" a RuntimeError; then the stream ends (finite
    sources) or every read fails (live ones). open() fails while ``failing_opens`` lasts."""

    def __init__(self, script: list[str], *, finite: bool = False, failing_opens: int = 0,
                 clock: Clock | None = None) -> None:
        self.script, self.finite, self.failing_opens, self.clock = list(script), finite, failing_opens, clock
        self.is_open, self.reads, self.opens = True, 0, 0

    def _note(self, what: str) -> None:
        if self.clock is not None:
            self.clock.log.append(what)

    def open(self) -> Scripted:
        self.opens += 1
        self._note("open")
        if self.failing_opens:
            self.failing_opens -= 1
            raise CameraError("the device is busy")
        self.is_open = True
        return self

    def read(self) -> tuple[np.ndarray, float]:
        self.reads += 1
        self._note("read")
        if not self.is_open:
            raise CameraError("the camera is not open")
        if not self.script:
            if self.finite:
                raise CameraEndOfStream("end of the script")
            raise CameraError("no more frames")
        step = self.script.pop(0)
        if step in ("bad", "lost"):
            self.is_open = step == "bad"
            raise CameraError(f"a {step} frame")
        if step == "file":
            raise ImageFileError("a corrupt image")
        if step == "frame":
            raise InvalidFrameError("an unusable frame")
        if step == "bug":
            raise RuntimeError("a bug in the camera")
        return FRAME, float(self.reads)


class Reports:
    """Collects what a CameraRetry reports."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, int, float | None]] = []
        self.recovered = 0
        self.reopen_errors: list[str] = []

    def kwargs(self) -> dict[str, Any]:
        return {"on_error": lambda e, n, w: self.errors.append((str(e), n, w)),
                "on_recover": self.recover, "on_reopen_error": lambda e: self.reopen_errors.append(str(e))}

    def recover(self) -> None:
        self.recovered += 1


def test_a_live_camera_waits_doubling_up_to_the_cap_and_starts_over_after_a_good_read(clock: Clock) -> None:
    r = Reports()
    cam = Scripted(["bad", "bad", "ok", "bad", "bad", "bad", "bad", "ok"])
    reads = CameraRetry(cam, backoff=1.0, max_backoff=4.0, deadline=100.0, **r.kwargs())
    assert len(list(reads)) == 2  # then it fails until the deadline: a live camera never gives up
    assert [w for w in clock.log if w.startswith("wait")][:6] == ["wait 1", "wait 2", "wait 1", "wait 2", "wait 4",
                                                                   "wait 4"]
    assert [(n, w) for _, n, w in r.errors][:6] == [(1, 1.0), (2, 2.0), (1, 1.0), (2, 2.0), (3, 4.0), (4, 4.0)]
    assert r.recovered == 2 and reads.gave_up is None and not reads.ended and clock.t == 100.0


def test_one_good_read_ends_a_run_of_errors_and_only_a_read_after_errors_is_a_recovery(clock: Clock) -> None:
    r = Reports()
    cam = Scripted(["ok", "bad", "ok", "ok", "bad", "ok", "bad", "ok"], finite=True)
    reads = CameraRetry(cam, **r.kwargs())
    assert len(list(reads)) == 5 and reads.ended and reads.gave_up is None  # 3 errors, never 2 in a row
    assert [n for _, n, _ in r.errors] == [1, 1, 1] and r.recovered == 3


def test_a_finite_source_never_waits_and_gives_up_after_three_bad_reads_in_a_row(clock: Clock) -> None:
    r = Reports()
    cam = Scripted(["ok", "bad", "bad", "ok", "bad", "file", "frame", "ok"], finite=True)
    reads = CameraRetry(cam, **r.kwargs())
    assert len(list(reads)) == 2  # ends without raising
    assert not any(w.startswith("wait") for w in clock.log)
    assert [(n, w) for _, n, w in r.errors] == [(1, 0.0), (2, 0.0), (1, 0.0), (2, 0.0), (3, None)]
    assert isinstance(reads.gave_up, InvalidFrameError) and reads.max_errors == 3 and not reads.ended
    assert cam.script == ["ok"]  # nothing read after giving up


def test_max_errors_gives_up_on_a_live_camera_and_overrides_the_finite_default(clock: Clock) -> None:
    live = CameraRetry(Scripted(["bad", "bad", "ok"]), max_errors=2)
    assert list(live) == [] and str(live.gave_up) == "a bad frame" and clock.log.count("wait 1") == 1
    replay = CameraRetry(Scripted(["bad"] * 5 + ["ok"], finite=True), max_errors=6)
    assert len(list(replay)) == 1 and replay.ended and replay.gave_up is None
    assert CameraRetry(Scripted([])).max_errors is None and CameraRetry(Scripted([]), finite=True).max_errors == 3


def test_the_end_of_a_finite_source_ends_the_loop_without_an_error(clock: Clock) -> None:
    r = Reports()
    reads = CameraRetry(Scripted(["ok", "ok"], finite=True), **r.kwargs())
    assert len(list(reads)) == 2 and reads.ended and reads.gave_up is None and r.errors == []


def test_a_camera_that_closed_itself_is_reopened_after_the_wait_and_a_failed_reopen_counts_at_the_next_read(
        clock: Clock) -> None:
    r = Reports()
    cam = Scripted(["lost", "ok"], failing_opens=1, clock=clock)
    reads = CameraRetry(cam, deadline=100.0, **r.kwargs())
    assert len(list(reads)) == 1
    assert clock.log[:7] == ["read", "wait 1", "open", "read", "wait 2", "open", "read"]
    assert r.reopen_errors == ["the device is busy"]
    assert [(e, n) for e, n, _ in r.errors][:2] == [("a lost frame", 1), ("the camera is not open", 2)]
    assert r.recovered == 1


def test_a_camera_without_is_open_or_open_is_never_reopened(clock: Clock) -> None:
    class Bare:
        def __init__(self) -> None:
            self.n = 0

        def read(self) -> tuple[np.ndarray, float]:
            self.n += 1
            if self.n == 1:
                raise CameraError("a glitch")
            raise KeyboardInterrupt  # stands for Ctrl-C: goes to the caller

    with pytest.raises(KeyboardInterrupt):
        list(CameraRetry(Bare()))
    assert clock.log == ["wait 1"]


def test_a_read_that_fails_after_the_deadline_waits_no_more(clock: Clock) -> None:
    class Hanging(Scripted):
        def read(self) -> tuple[np.ndarray, float]:
            clock.t += 7.0  # the read blocks past the deadline, then fails
            return super().read()

    r = Reports()
    reads = CameraRetry(Hanging([]), deadline=5.0, **r.kwargs())
    assert list(reads) == [] and reads.gave_up is None
    assert clock.log == ["wait 0"] and clock.t == 7.0 and len(r.errors) == 1  # not a wait of -2 s


def test_the_deadline_cuts_the_last_wait_short_and_ends_the_loop(clock: Clock) -> None:
    r = Reports()
    cam = Scripted([], clock=clock)  # a live camera that keeps failing
    reads = CameraRetry(cam, deadline=10.0, **r.kwargs())
    assert list(reads) == []
    assert [w for w in clock.log if w.startswith("wait")] == ["wait 1", "wait 2", "wait 4", "wait 3"]
    assert clock.t == 10.0 and cam.reads == 4 and [w for _, _, w in r.errors] == [1.0, 2.0, 4.0, 8.0]


def test_a_stop_during_a_wait_ends_the_loop_at_once_without_a_reopen() -> None:
    stop = threading.Event()
    cam = Scripted(["lost", "ok"])
    reads = CameraRetry(cam, backoff=30.0, stop=stop, on_error=lambda *_: threading.Timer(0.05, stop.set).start())
    t0 = time.monotonic()
    assert list(reads) == []
    assert time.monotonic() - t0 < 5.0 and cam.opens == 0 and reads.gave_up is None
    cam = Scripted(["ok"])
    assert list(CameraRetry(cam, stop=stop)) == [] and cam.reads == 0  # set before: no read at all


def test_other_errors_go_to_the_caller_and_are_not_counted(clock: Clock) -> None:
    r = Reports()
    reads = CameraRetry(Scripted(["bad", "bug"]), **r.kwargs())
    with pytest.raises(RuntimeError, match="a bug in the camera"):
        list(reads)
    assert len(r.errors) == 1 and reads.consecutive_errors == 1


def test_read_started_is_the_time_each_read_began(clock: Clock) -> None:
    class Slow(Scripted):
        def read(self) -> tuple[np.ndarray, float]:
            clock.t += 0.5
            return super().read()

    reads = CameraRetry(Slow(["ok", "ok"], finite=True))
    started = [reads.read_started for _ in reads]
    assert started == [0.0, 0.5]


def test_reopen_opens_only_a_closed_camera_and_returns_its_error() -> None:
    cam = Scripted([], failing_opens=1)
    assert reopen(cam) is None and cam.opens == 0  # open already
    cam.is_open = False
    assert str(reopen(cam)) == "the device is busy"
    assert reopen(cam) is None and cam.is_open and cam.opens == 2
    assert reopen(object()) is None  # no is_open: nothing to do


def test_reopen_leaves_a_camera_without_is_open_alone_and_returns_a_file_sources_error() -> None:
    class NoFlag:
        opens = 0

        def open(self) -> None:
            self.opens += 1

    cam = NoFlag()
    assert reopen(cam) is None and cam.opens == 0  # it cannot say that it closed itself

    class ClosedVideo:
        is_open = False

        def open(self) -> None:
            raise ImageFileError("video file not found: clip.mp4")  # what a file source's open() raises

    failed = reopen(ClosedVideo())
    assert isinstance(failed, ImageFileError) and str(failed) == "video file not found: clip.mp4"


def test_check_schedule_raises_max_backoff_to_backoff() -> None:
    assert check_schedule(np.float32(2.0), 1, np.int64(4)) == (2.0, 2.0, 4)
    assert check_schedule(1, 30, None) == (1.0, 30.0, None)


@pytest.mark.parametrize(("kwargs", "error", "named"), [
    ({"camera": object()}, ArgumentTypeError, "camera"),
    ({"backoff": 0}, InvalidArgumentError, "backoff"),
    ({"backoff": float("nan")}, InvalidArgumentError, "backoff"),
    ({"max_backoff": "30"}, ArgumentTypeError, "max_backoff"),
    ({"max_errors": 0}, InvalidArgumentError, "max_errors"),
    ({"max_errors": 2.5}, InvalidArgumentError, "max_errors"),
    ({"deadline": float("inf")}, InvalidArgumentError, "deadline"),
    ({"stop": True}, ArgumentTypeError, "stop"),
    ({"stop": SimpleNamespace(wait=lambda seconds: False)}, ArgumentTypeError, "stop"),  # no is_set()
    ({"finite": 1}, ArgumentTypeError, "finite"),
    ({"on_error": "print"}, ArgumentTypeError, "on_error"),
    ({"on_recover": 1}, ArgumentTypeError, "on_recover"),
    ({"on_reopen_error": 1}, ArgumentTypeError, "on_reopen_error"),
])
def test_bad_arguments_raise_the_librarys_errors_naming_them(kwargs: dict[str, Any], error: type[Exception],
                                                             named: str) -> None:
    camera = kwargs.pop("camera", Scripted([]))
    with pytest.raises(error, match=named) as info:
        CameraRetry(camera, **kwargs)
    assert "\n" not in str(info.value)
