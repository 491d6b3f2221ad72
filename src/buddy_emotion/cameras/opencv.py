"""USB/built-in webcams, V4L2 devices and network streams through OpenCV's ``cv2.VideoCapture``.

Frames are ``HxWx3`` uint8 BGR (OpenCV's native order); timestamps are ``time.time()`` in seconds at the
moment the frame was read. After a failed read the camera reconnects with exponential back-off.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from buddy_emotion import _check
from buddy_emotion._check import shown
from buddy_emotion.cameras.base import Camera
from buddy_emotion.errors import ArgumentTypeError, CameraError, InvalidArgumentError

__all__ = ["OpenCVCamera", "redact_url"]

CaptureFactory = Callable[[Any, int], Any]
"""``(source, api_preference) -> capture`` with cv2.VideoCapture's ``isOpened/read/set/release`` methods."""

_INT = (int, np.integer)  # numpy integers are whole numbers too
_URL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def redact_url(source: object) -> str:
    """``str(source)`` with any password in a URL replaced by ``***`` (for messages and logs)."""
    text = str(source)
    if not _URL_RE.match(text):
        return text
    try:
        parts = urlsplit(text)
        if parts.password is None:
            return text
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        netloc = f"{parts.username or ''}:***@{host}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    except ValueError:
        return f"{text.split('://', 1)[0]}://***"


def _default_capture_factory(source: Any, api_preference: int) -> Any:
    import cv2

    return cv2.VideoCapture(source, api_preference)


class OpenCVCamera(Camera):
    """A camera read through ``cv2.VideoCapture``: a device index, a ``/dev/videoN`` path or a stream URL.

    Args:
        source: camera index (0 is the default webcam; a digit string counts as an index), a device path
            such as ``/dev/video2``, or a stream URL (``rtsp://``, ``http://``...).
        width, height: requested frame size in pixels; the camera may choose the nearest mode it supports.
        reconnect_attempts: how many times to reconnect after a failed read before giving up (0: never).
        backoff: seconds to wait before the first reconnect; the wait doubles each attempt...
        max_backoff: ...up to this many seconds.
        api_preference: a ``cv2.CAP_*`` backend (e.g. ``cv2.CAP_V4L2``); None lets OpenCV choose.

    ``read()`` returns ``(HxWx3 uint8 BGR frame, time.time() in seconds)``. When every reconnect fails it
    raises :class:`~buddy_emotion.errors.CameraError` and the camera is closed.

    ``_capture_factory``, ``_sleep`` and ``_clock`` replace ``cv2.VideoCapture``, ``time.sleep`` and
    ``time.time`` (for tests).
    """

    def __init__(
        self,
        source: int | str = 0,
        width: int | None = None,
        height: int | None = None,
        reconnect_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        api_preference: int | None = None,
        *,
        _capture_factory: CaptureFactory | None = None,
        _sleep: Callable[[float], None] = time.sleep,
        _clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        if isinstance(source, bool) or not isinstance(source, (int, np.integer, str)):
            raise ArgumentTypeError(f"camera source must be an index or a device path/URL, got {type(source).__name__}")
        if isinstance(source, _INT):
            source = int(source)
        if isinstance(source, str):
            source = source.strip()
            if not source:
                raise InvalidArgumentError(
                    "camera source is an empty string; use an index such as 0, /dev/video0 or a URL")
            if source.isdigit():
                source = int(source)
        if isinstance(source, int) and source < 0:
            raise InvalidArgumentError(f"camera index must be 0 or more, got {source}")
        width = None if width is None else _check.integer("width", width, 1)
        height = None if height is None else _check.integer("height", height, 1)
        reconnect_attempts = _check.integer("reconnect_attempts", reconnect_attempts, 0)
        backoff = _check.number("backoff", backoff, 0.0, unit="seconds")
        max_backoff = _check.number("max_backoff", max_backoff, 0.0, unit="seconds")
        if api_preference is not None and (isinstance(api_preference, bool)
                                           or not isinstance(api_preference, _INT)):
            raise ArgumentTypeError(f"api_preference must be a cv2.CAP_* constant or None, got {shown(api_preference)}")
        self.source: int | str = source
        self.width = None if width is None else int(width)
        self.height = None if height is None else int(height)
        self.reconnect_attempts = int(reconnect_attempts)
        self.backoff = float(backoff)
        self.max_backoff = max(float(max_backoff), float(backoff))
        self.api_preference = None if api_preference is None else int(api_preference)
        self.reconnects = 0
        """How many times the camera reconnected successfully since it was created."""
        self._factory: CaptureFactory = _capture_factory or _default_capture_factory
        self._sleep = _sleep
        self._clock = _clock
        self._capture: Any = None

    def describe(self) -> str:
        if isinstance(self.source, int):
            return f"camera {self.source}"
        if _URL_RE.match(self.source):
            return f"stream {redact_url(self.source)}"
        return f"camera {self.source}"

    def _open_failure_message(self) -> str:
        src = self.source
        if isinstance(src, int):
            return (
                f"cannot open camera {src}: check that a camera is plugged in, that no other program "
                f"(a video call, another script) is using it, that you may read /dev/video{src} on Linux "
                f"(add your user to the 'video' group), and that {src} is the right index (try 'webcam:1')"
            )
        if _URL_RE.match(src):
            return (
                f"cannot open stream {redact_url(src)}: check the address, that the camera or server is "
                "reachable from this machine, and the user name and password"
            )
        if src.startswith("/dev/"):
            return (
                f"cannot open camera {src}: check that the device exists (ls /dev/video*), that no other "
                "program is using it, and that you may read it (add your user to the 'video' group)"
            )
        return f"cannot open video source {src}: check that it exists and that OpenCV can read it"

    def _connect(self) -> Any:
        """A new, opened capture with the requested size set, or CameraError."""
        import cv2

        api = cv2.CAP_ANY if self.api_preference is None else self.api_preference
        try:
            capture = self._factory(self.source, api)
        except Exception as e:
            raise CameraError(f"{self._open_failure_message()} ({type(e).__name__}: {e})") from None
        try:
            opened = bool(capture is not None and capture.isOpened())
        except Exception:
            opened = False
        if not opened:
            _release(capture)
            raise CameraError(self._open_failure_message())
        try:
            if self.width is not None:
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            if self.height is not None:
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            # read every couple of seconds, a queue of frames would hand out one captured long ago;
            # one buffer keeps the frame recent where the backend honours it (V4L2 does; others ignore it)
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        except Exception:  # a camera that refuses a setting still delivers frames with its own
            pass
        return capture

    def _try_read(self) -> np.ndarray | None:
        if self._capture is None:
            return None
        try:
            ok, frame = self._capture.read()
        except Exception:
            return None
        if not ok or not isinstance(frame, np.ndarray) or frame.size == 0:
            return None
        return frame

    def _open(self) -> None:
        self._capture = self._connect()

    def _read(self) -> tuple[np.ndarray, float]:
        frame = self._try_read()
        if frame is not None:
            return frame, self._clock()
        delay = self.backoff
        for _attempt in range(self.reconnect_attempts):
            self._sleep(min(delay, self.max_backoff))
            delay *= 2
            _release(self._capture)
            self._capture = None
            try:
                self._capture = self._connect()
            except CameraError:
                continue
            frame = self._try_read()
            if frame is not None:
                self.reconnects += 1
                return frame, self._clock()
        self.close()
        tried = (f"{self.reconnect_attempts} reconnect attempts failed" if self.reconnect_attempts
                 else "reconnecting is off")
        raise CameraError(
            f"{self.describe()} stopped delivering frames and {tried}: check that it is still plugged in "
            "(or the stream is reachable) and that no other program took it over"
        )

    def _close(self) -> None:
        _release(self._capture)
        self._capture = None


def _release(capture: Any) -> None:
    if capture is None:
        return
    try:
        capture.release()
    except Exception:
        pass
