"""Live-stream mode's worker: one background thread that works on the newest item handed to it.

MediaPipe Tasks' ``LIVE_STREAM`` mode in this library's terms. The caller's capture loop hands items over
without waiting (:meth:`LatestWorker.submit`); one thread works on them in order and passes each result to
a callback. An item that arrives while another is still waiting replaces it (the older one is dropped and
counted), so results stay current however slow the work is, and at most two items are held: the one in
work and the newest.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from buddy_emotion import _check
from buddy_emotion.errors import BackendUnavailableError

__all__ = ["LatestWorker"]

log = logging.getLogger("buddy_emotion")

Item = TypeVar("Item")
Result = TypeVar("Result")

EXIT_WAIT = 5.0
"""Seconds the interpreter's exit waits, in all, for the workers still running to finish the item in hand."""

_running: weakref.WeakSet[LatestWorker[Any, Any]] = weakref.WeakSet()
_running_lock = threading.Lock()  # a worker may start in another thread while the exit handler lists them


@atexit.register
def _close_at_exit() -> None:
    """End the workers that were never closed before the interpreter goes. Their threads are daemons, and a
    daemon thread still inside native code (LiteRT) when the interpreter finalises can abort the process."""
    deadline = time.monotonic() + EXIT_WAIT
    with _running_lock:
        workers = list(_running)
    failures = [worker.close(0) for worker in workers]  # all told to stop first, then waited for
    failures += [worker.close(max(0.0, deadline - time.monotonic())) for worker in workers]
    for failure in failures:  # no call is left to raise them: logged, as by Detector.__exit__, not lost
        if failure is not None:
            log.error("live stream closed at exit: a frame's reading failed and was not raised: %s", failure)


class LatestWorker(Generic[Item, Result]):
    """Runs ``work(item)`` on a thread of its own and hands each result to ``deliver(result, item)``.

    * An exception from ``work`` is kept and raised, once, by the next :meth:`submit` (which then does not
      take its item) or :meth:`flush`, or returned by :meth:`close`; the worker goes on with later items. The
      first failure is kept until it is raised; later ones while it waits, and any after :meth:`close` has
      returned, are logged (and counted in ``failures``).
    * An exception from ``deliver`` (the caller's callback) is logged and never raised, as for the monitor's
      callbacks: a broken callback must not stop the stream.
    * Both take any BaseException (a SystemExit, a test's ``pytest.fail()``): none ends the thread.
    * The thread starts with the first item and is a daemon: a worker that is never closed does not keep
      the interpreter alive. At exit, workers not closed are closed, waiting up to :data:`EXIT_WAIT` seconds
      in all for the items in hand; a failure not raised is then logged.
    """

    def __init__(self, work: Callable[[Item], Result], deliver: Callable[[Result, Item], object], *,
                 name: str = "buddy-emotion-live", callback: object = None) -> None:
        self._work, self._deliver, self._name = work, deliver, name
        self._callback = deliver if callback is None else callback  # what a failure of ``deliver`` is logged as
        self._cond = threading.Condition()
        self._pending: list[Item] = []  # the newest item not yet taken up (0 or 1 of them)
        self._busy = False
        self._closed = False
        self._finished = False  # close() has returned: no call is left to raise a failure
        self._failure: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.dropped = 0
        """Items replaced by a newer one before the worker took them up."""
        self.failures = 0
        """Failures of ``work`` since the last one raised, the one kept included."""

    def submit(self, item: Item) -> None:
        """Hand ``item`` over, replacing one still waiting. Raises the kept failure instead, if there is one,
        and BackendUnavailableError once closed, or when the worker thread cannot start (``item`` not taken)."""
        with self._cond:
            self._raise_failure()
            if self._closed:
                raise BackendUnavailableError("the detector is closed: its live stream takes no more frames")
            if self._pending:
                self.dropped += 1
            self._pending[:] = [item]
            if self._thread is None:
                thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                try:
                    thread.start()
                except RuntimeError as e:  # "can't start new thread": a thread limit, interpreter shutdown
                    self._pending.clear()  # kept only once a thread works on it; the next submit tries again
                    raise BackendUnavailableError(f"the live stream cannot start its worker thread: {e}") from e
                self._thread = thread
                with _running_lock:
                    _running.add(self)
            self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every item handed over has been worked on and delivered (``timeout`` in seconds, None
        for no limit); True when done, False when the time ran out. Raises the kept failure, if any.
        Called from the worker's own thread (by ``deliver``, the callback) it does not wait, as that item
        is not done until the callback returns: it returns False at once."""
        limit = _check.timeout("timeout", timeout)
        with self._cond:
            if threading.current_thread() is self._thread:
                idle = False  # waiting here would wait for ever (timeout None) for the callback that waits
            else:
                idle = self._cond.wait_for(lambda: not self._pending and not self._busy, limit)
            self._raise_failure()
        return idle

    def close(self, timeout: float | None = 10.0) -> BaseException | None:
        """Take no more items; let the worker finish the item it holds and the one waiting, then end it (waiting
        up to ``timeout`` seconds). Called from the worker's own thread (by ``deliver``, the callback) it
        cannot wait: the item waiting is dropped (counted in ``dropped``), the thread ends when the callback
        returns, and nothing is worked on after this returns (its owner may then release what ``work`` uses).
        Returns the kept failure (not raised: the caller decides), or None."""
        limit = _check.timeout("timeout", timeout)
        with self._cond:
            self._closed = True
            thread = self._thread
            if thread is threading.current_thread() and self._pending:
                self._pending.clear()  # else read after close() returned, with the backend closed, and its
                self.dropped += 1  # failure kept where no call would ever raise it
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(limit)
        with self._cond:
            failure, self._failure = self._failure, None
            self.failures = 0
            self._finished = True  # a failure from here on (the thread outlived the wait) is logged
        return failure

    @property
    def closed(self) -> bool:
        return self._closed

    def _raise_failure(self) -> None:  # called with the lock held
        failure, self._failure = self._failure, None
        if failure is not None:
            self.failures = 0
            raise failure

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                if not self._pending:
                    return  # closed, and nothing left to do
                item = self._pending.pop()
                self._busy = True
            failure = slip = None
            try:
                failure, slip = self._handle(item)
            finally:
                del item  # a frame is not kept beyond its turn: nor by the tracebacks of its errors
                for error in (failure, slip):
                    if error is not None:
                        _forget_locals(error)
                with self._cond:
                    if failure is not None:
                        self.failures += 1
                        if self._failure is None and not self._finished:
                            self._failure = failure
                        else:  # no call will raise this one: logged, not lost
                            log.error("live stream: a frame's reading failed and %s: %s", "the stream is closed"
                                      if self._finished else "another failure waits to be raised", failure)
                    self._busy = False
                    self._cond.notify_all()
                failure = slip = None

    def _handle(self, item: Item) -> tuple[BaseException | None, BaseException | None]:
        """Work on ``item`` and deliver the result: the failure of ``work``, and the exception of ``deliver``
        (logged here), each None when there was none."""
        # BaseException too: a SystemExit from a plug-in or callback, a test's pytest.fail(), would otherwise end
        # the thread, and with it the stream: later items never taken up, flush() never done, no error raised.
        try:
            result = self._work(item)
        except BaseException as e:
            return e, None
        try:
            self._deliver(result, item)
        except BaseException as e:  # the caller's callback: logged, never raised (as the monitor's callbacks)
            log.exception("live-stream result callback %s failed", _check.named(self._callback))
            return None, e
        return None, None


def _forget_locals(error: BaseException) -> None:
    """Clear the local variables of the frames in the tracebacks of ``error`` and of its causes and contexts,
    all finished: a kept failure (or a logged one a handler buffers) would otherwise keep the item it failed
    on, a frame's pixels, alive through them. The tracebacks still tell where it happened."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        traceback.clear_frames(e.__traceback__)
        todo += [e.__cause__, e.__context__]
