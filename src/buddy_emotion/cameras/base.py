"""The abstract :class:`Camera` every frame source implements.

Conventions shared by all cameras:

* ``read()`` returns ``(frame, timestamp)``: ``frame`` is an ``HxWx3`` ``uint8`` array in OpenCV's **BGR**
  channel order (validated with :func:`~buddy_emotion.frames.validate_frame`); ``timestamp`` is in
  **seconds**, as a float: wall-clock ``time.time()`` for live cameras, media time from the start of the
  source for files and image folders.
* A camera is a context manager: ``with cam:`` opens it and closes it on the way out. ``close()`` may be
  called any number of times.
* Reading a camera that is not open (never opened, closed, or given up after failures) raises
  :class:`~buddy_emotion.errors.CameraError`.
* Finite sources (video files, image folders) raise :class:`CameraEndOfStream` (a ``CameraError``) from
  ``read()`` once they run out; iterating a camera (``for frame, ts in cam``) stops cleanly there instead.
* No camera ever writes a frame to disk.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from types import TracebackType
from typing import TypeVar

import numpy as np

from buddy_emotion.errors import CameraError, InvalidFrameError
from buddy_emotion.frames import to_bgr, validate_frame

__all__ = ["Camera", "CameraEndOfStream"]

_C = TypeVar("_C", bound="Camera")


class CameraEndOfStream(CameraError):
    """A finite source (video file, image folder) has no more frames."""


class Camera(abc.ABC):
    """A source of ``(frame, timestamp)`` pairs: ``HxWx3`` uint8 BGR frames, timestamps in seconds.

    Subclasses implement :meth:`_open`, :meth:`_read` and :meth:`_close`; this class does the state
    keeping (``is_open``, idempotent ``open``/``close``), frame validation and iteration.
    """

    finite: bool = False
    """True for sources that end (files, folders): their ``read()`` raises :class:`CameraEndOfStream`."""

    def __init__(self) -> None:
        self._is_open = False

    # -- subclass hooks -------------------------------------------------------------------------------------

    @abc.abstractmethod
    def _open(self) -> None:
        """Acquire the device or file. Raise ``CameraError`` (or ``ImageFileError`` for files) on failure."""

    @abc.abstractmethod
    def _read(self) -> tuple[np.ndarray, float]:
        """Return the next raw frame and its timestamp in seconds (the frame is validated by :meth:`read`)."""

    @abc.abstractmethod
    def _close(self) -> None:
        """Release the device or file. Must not raise."""

    def describe(self) -> str:
        """A short human-readable name for messages (never contains credentials)."""
        return type(self).__name__

    # -- public API -------------------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True between a successful :meth:`open` and :meth:`close` (or a fatal read failure)."""
        return self._is_open

    def open(self: _C) -> _C:
        """Open the camera (no-op if it is open already) and return it.

        Raises:
            CameraError: the camera cannot be opened; the message says what to check.
            ImageFileError: for file sources, the file or folder is missing or not decodable.
        """
        if not self._is_open:
            self._open()
            self._is_open = True
        return self

    def close(self) -> None:
        """Release the camera. Safe to call more than once, and on a camera that never opened."""
        if self._is_open:
            self._is_open = False
            try:
                self._close()
            except Exception:  # pragma: no cover - closing must not raise
                pass

    def read(self) -> tuple[np.ndarray, float]:
        """The next frame as ``(HxWx3 uint8 BGR array, timestamp in seconds)``.

        Raises:
            CameraError: the camera is not open, or it stopped delivering frames.
            CameraEndOfStream: a finite source has no more frames (a ``CameraError`` subclass).
            ImageFileError: for file sources, a frame or image in the source cannot be decoded.
        """
        if not self._is_open:
            raise CameraError(f"{self.describe()} is not open: call open() first or use it in a 'with' block")
        try:  # an unusable frame, whether _read found it (e.g. a tiny image in a folder) or we do
            frame, timestamp = self._read()
            frame = to_bgr(validate_frame(frame, name=f"frame from {self.describe()}"))
        except InvalidFrameError as e:
            raise CameraError(f"{self.describe()} delivered an unusable frame: {e}") from None
        return frame, float(timestamp)

    def __iter__(self) -> Iterator[tuple[np.ndarray, float]]:
        """Yield ``(frame, timestamp)`` pairs until a finite source ends (live cameras never end by themselves).

        Raises the same errors as :meth:`read`, except that end of stream stops the iteration.
        """
        while True:
            try:
                item = self.read()
            except CameraEndOfStream:
                return
            yield item

    def __enter__(self: _C) -> _C:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "open" if self._is_open else "closed"
        return f"<{self.describe()} ({state})>"
