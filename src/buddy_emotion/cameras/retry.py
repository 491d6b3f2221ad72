"""One policy for camera read errors: :class:`CameraRetry`, used by ``SadnessMonitor.run`` and ``buddy-emotion watch``.

Iterating a :class:`CameraRetry` reads its camera until the source ends, and survives read errors
(:class:`~buddy_emotion.errors.CameraError`, :class:`~buddy_emotion.errors.ImageFileError`, an unusable
frame's :class:`~buddy_emotion.errors.InvalidFrameError`). For each error in a row it:

1. reports it: ``on_error(error, in_row, retry_in)``, ``retry_in`` in seconds, None when it gives up;
2. gives up after ``max_errors`` errors in a row (default: 3 for finite sources, never for live cameras):
   :attr:`~CameraRetry.gave_up` holds the last error and the iteration ends, without raising;
3. waits ``backoff`` seconds before the next read, doubling with each error in a row up to
   ``max_backoff`` (finite sources do not wait: a file has nothing to wait for). The wait never goes past
   ``deadline``, and a ``stop`` event set during it ends the iteration at once;
4. reopens a camera that closed itself (``is_open`` false, ``open()``, see :func:`reopen`); a reopen that
   fails is reported to ``on_reopen_error`` and the next read counts the error.

A good read resets the count and the wait (``on_recover()`` when there were errors). The iteration also
ends at :class:`~buddy_emotion.cameras.CameraEndOfStream` (:attr:`~CameraRetry.ended`), at ``deadline``
(``time.monotonic()`` seconds) and when ``stop`` is set; both are checked before every read. Any other
exception from ``read()`` (``KeyboardInterrupt`` included) goes to the caller.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from buddy_emotion import _check
from buddy_emotion.cameras.base import CameraEndOfStream
from buddy_emotion.errors import ArgumentTypeError, CameraError, ImageFileError, InvalidFrameError

__all__ = ["CameraRetry", "RETRYABLE_ERRORS", "FINITE_MAX_ERRORS", "check_schedule", "reopen"]

RETRYABLE_ERRORS: tuple[type[Exception], ...] = (CameraError, ImageFileError, InvalidFrameError)
"""What a read may raise and be retried (``CameraEndOfStream`` is a ``CameraError`` but ends instead)."""

FINITE_MAX_ERRORS = 3
"""Errors in a row after which a finite source (a video file, an image folder) is given up by default."""


def check_schedule(backoff: Any, max_backoff: Any, max_errors: Any) -> tuple[float, float, int | None]:
    """``(backoff, max_backoff, max_errors)`` checked: seconds > 0 (``max_backoff`` raised to ``backoff`` if
    lower), and None or a whole number >= 1.

    Raises:
        InvalidArgumentError, ArgumentTypeError: a value is not one of those.
    """
    backoff = _check.number("backoff", backoff, 0.0, open_lo=True, unit="seconds")
    max_backoff = max(backoff, _check.number("max_backoff", max_backoff, 0.0, open_lo=True, unit="seconds"))
    if max_errors is not None:
        max_errors = _check.integer("max_errors", max_errors, 1)
    return backoff, max_backoff, max_errors


def reopen(camera: Any) -> Exception | None:
    """Open ``camera`` again if it closed itself (``is_open`` is False and it has ``open()``).

    Returns:
        The ``CameraError`` or ``ImageFileError`` that ``open()`` raised, or None (reopened, or nothing to do).
    """
    if getattr(camera, "is_open", True) is False and callable(getattr(camera, "open", None)):
        try:
            camera.open()
        except (CameraError, ImageFileError) as e:
            return e
    return None


def _callback(name: str, value: Any) -> None:
    if value is not None and not callable(value):
        raise ArgumentTypeError(f"{name} must be callable or None, got {type(value).__name__}")


class CameraRetry:
    """Read ``camera`` and survive its read errors (the policy is in this module's docstring).

    Iterate it once: ``for got in CameraRetry(cam): ...`` yields what ``camera.read()`` returned (a
    ``(frame, timestamp)`` pair for the library's cameras). When the loop ends by itself, :attr:`ended`
    (end of stream) or :attr:`gave_up` (too many errors in a row) says why; neither means the deadline
    or ``stop``.

    Args:
        camera: anything with ``read()``; ``finite`` (a source that ends), ``is_open`` and ``open()`` are
            used when it has them.
        backoff: seconds to wait after the first error in a row, doubled for each further one.
        max_backoff: the longest wait in seconds.
        max_errors: errors in a row before giving up; None: 3 for finite sources, never for live cameras.
        deadline: ``time.monotonic()`` seconds at which the iteration ends, errors or not; None: never.
        stop: a ``threading.Event`` (anything with ``is_set()`` and ``wait(seconds) -> bool``): set, it ends
            the iteration before the next read or during a wait. Without it the waits are ``time.sleep``.
        finite: whether ``camera`` is a finite source; None reads ``camera.finite`` (False if it has none).
        on_error: ``on_error(error, in_row, retry_in)`` for each error: ``retry_in`` is the back-off step in
            seconds (0 for finite sources; the wait may be cut short by ``deadline`` or ``stop``), None when
            this error gives up.
        on_recover: ``on_recover()`` at the first good read after errors.
        on_reopen_error: ``on_reopen_error(error)`` when reopening a closed camera fails.

    Raises:
        ArgumentTypeError: ``camera`` has no ``read()``, ``stop`` is not an event, a callback is not callable,
            ``finite`` is not a bool.
        InvalidArgumentError: ``backoff`` or ``max_backoff`` not a finite number > 0, ``max_errors`` not None
            or a whole number >= 1, ``deadline`` not None or a finite number.
    """

    def __init__(self, camera: Any, *, backoff: float = 1.0, max_backoff: float = 30.0,
                 max_errors: int | None = None, deadline: float | None = None,
                 stop: threading.Event | None = None, finite: bool | None = None,
                 on_error: Callable[[Exception, int, float | None], Any] | None = None,
                 on_recover: Callable[[], Any] | None = None,
                 on_reopen_error: Callable[[Exception], Any] | None = None) -> None:
        if not callable(getattr(camera, "read", None)):
            raise ArgumentTypeError(f"camera must have a read() method, got {type(camera).__name__}")
        self.backoff, self.max_backoff, max_errors = check_schedule(backoff, max_backoff, max_errors)
        self.deadline = _check.optional_number("deadline", deadline, unit="seconds")
        if stop is not None and not (callable(getattr(stop, "wait", None)) and callable(getattr(stop, "is_set", None))):
            raise ArgumentTypeError(f"stop must be a threading.Event or None, got {type(stop).__name__}")
        for name, cb in (("on_error", on_error), ("on_recover", on_recover), ("on_reopen_error", on_reopen_error)):
            _callback(name, cb)
        self.camera = camera
        self.finite = bool(getattr(camera, "finite", False)) if finite is None else _check.flag("finite", finite)
        self.max_errors = max_errors if max_errors is not None else (FINITE_MAX_ERRORS if self.finite else None)
        """Errors in a row before giving up, the default resolved; None: never."""
        self.stop = stop
        self.on_error, self.on_recover, self.on_reopen_error = on_error, on_recover, on_reopen_error
        self.consecutive_errors = 0
        """Read errors since the last good read."""
        self.read_started = 0.0
        """``time.monotonic()`` when the last read began (0.0 before the first): for pacing and for timing a
        failed read."""
        self.ended = False
        """True once the source has ended (``CameraEndOfStream``)."""
        self.gave_up: Exception | None = None
        """The error that made the loop give up (``max_errors`` in a row), or None."""

    def _stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` (never past the deadline); True if ``stop`` was set meanwhile."""
        if self.deadline is not None:
            seconds = max(0.0, min(seconds, self.deadline - time.monotonic()))
        if self.stop is not None:
            return bool(self.stop.wait(seconds))
        time.sleep(seconds)
        return False

    def __iter__(self) -> Iterator[Any]:
        wait = self.backoff
        while not self._stopped() and (self.deadline is None or time.monotonic() < self.deadline):
            self.read_started = time.monotonic()
            try:
                got = self.camera.read()
            except CameraEndOfStream:
                self.ended = True
                return
            except RETRYABLE_ERRORS as e:
                self.consecutive_errors += 1
                if self.max_errors is not None and self.consecutive_errors >= self.max_errors:
                    self.gave_up = e
                    if self.on_error is not None:
                        self.on_error(e, self.consecutive_errors, None)
                    return
                if self.on_error is not None:
                    self.on_error(e, self.consecutive_errors, 0.0 if self.finite else wait)
                if not self.finite:
                    if self._wait(wait):
                        return
                    wait = min(wait * 2.0, self.max_backoff)
                failed = reopen(self.camera)
                if failed is not None and self.on_reopen_error is not None:
                    self.on_reopen_error(failed)
                continue
            if self.consecutive_errors:
                self.consecutive_errors, wait = 0, self.backoff
                if self.on_recover is not None:
                    self.on_recover()
            yield got
