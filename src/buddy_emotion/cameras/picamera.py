"""The Raspberry Pi camera module through picamera2 (imported only when the camera is opened).

picamera2's ``"RGB888"`` format delivers arrays whose channels are in **BGR** order (libcamera names
formats by their little-endian word layout), which is exactly OpenCV's convention, so frames need no
conversion. ``"XRGB8888"`` delivers ``HxWx4`` BGRX arrays; the padding channel is dropped.
Timestamps are ``time.time()`` in seconds when the frame was captured.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from buddy_emotion import _check
from buddy_emotion._check import shown
from buddy_emotion.cameras.base import Camera
from buddy_emotion.errors import ArgumentTypeError, CameraError, InvalidArgumentError

__all__ = ["PiCamera", "PICAMERA2_MISSING", "PICAMERA2_NUMPY_CLASH"]

PICAMERA2_MISSING = (
    "the Raspberry Pi camera needs picamera2: on Raspberry Pi OS run 'sudo apt install python3-picamera2' "
    "and use a virtual environment made with --system-site-packages (see docs/raspberry-pi.md)"
)

PICAMERA2_NUMPY_CLASH = (
    "picamera2 cannot load: apt's simplejpeg was built for the system numpy 1.x, and this environment has "
    "numpy 2 (opencv-python-headless needs it); run 'pip install --upgrade simplejpeg' in the virtual "
    "environment (see docs/raspberry-pi.md)"
)

_FORMATS = ("RGB888", "XRGB8888")


class PiCamera(Camera):
    """A Raspberry Pi camera module (libcamera stack) read through picamera2.

    Args:
        width, height: frame size in pixels.
        camera_num: which camera, on boards with more than one (Pi 5, compute modules).
        pixel_format: ``"RGB888"`` (``HxWx3`` BGR arrays, the default) or ``"XRGB8888"`` (``HxWx4``; the
            4th channel is dropped).
        controls: optional libcamera controls for the configuration, e.g. ``{"FrameRate": 10}``.

    ``read()`` returns ``(HxWx3 uint8 BGR frame, time.time() in seconds)``.
    """

    def __init__(
        self,
        width: int = 640,
        height: int = 480,
        camera_num: int = 0,
        pixel_format: str = "RGB888",
        controls: Mapping[str, Any] | None = None,
        *,
        _clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        width = _check.integer("width", width, 1)
        height = _check.integer("height", height, 1)
        camera_num = _check.integer("camera_num", camera_num, 0)
        if not isinstance(pixel_format, str):
            raise ArgumentTypeError(f"pixel_format must be one of {', '.join(_FORMATS)}, got {shown(pixel_format)}")
        if pixel_format not in _FORMATS:
            raise InvalidArgumentError(f"pixel_format must be one of {', '.join(_FORMATS)}, got {pixel_format!r}")
        if controls is not None and not isinstance(controls, Mapping):
            raise ArgumentTypeError(
                f"controls must be a mapping of libcamera control names to values, got {shown(controls)}")
        if controls is not None and not all(isinstance(k, str) for k in controls):
            raise InvalidArgumentError(
                f"controls must be a mapping of libcamera control names to values, got {shown(controls)}")
        self.width = int(width)
        self.height = int(height)
        self.camera_num = int(camera_num)
        self.pixel_format = pixel_format
        self.controls = dict(controls) if controls else None
        self._clock = _clock
        self._picam: Any = None

    def describe(self) -> str:
        return f"Raspberry Pi camera {self.camera_num}"

    def _open(self) -> None:
        try:
            from picamera2 import Picamera2
        except ImportError:
            raise CameraError(PICAMERA2_MISSING) from None
        except ValueError as e:  # apt's simplejpeg, built for the system numpy 1.x, meeting pip's numpy 2
            if "numpy.dtype size changed" not in str(e):
                raise
            raise CameraError(PICAMERA2_NUMPY_CLASH) from None
        picam: Any = None
        try:
            picam = Picamera2(self.camera_num)
            kwargs: dict[str, Any] = {"main": {"format": self.pixel_format, "size": (self.width, self.height)}}
            if self.controls:
                kwargs["controls"] = dict(self.controls)
            config = picam.create_preview_configuration(**kwargs)
            picam.configure(config)
            picam.start()
        except Exception as e:
            _shutdown(picam)
            reason = " ".join(str(e).split()) or type(e).__name__
            raise CameraError(
                f"cannot open {self.describe()} ({reason}): check the ribbon cable and that the camera is "
                "detected (rpicam-hello --list-cameras), and that no other program is using it"
            ) from None
        self._picam = picam

    def _read(self) -> tuple[np.ndarray, float]:
        try:
            array = self._picam.capture_array("main")
        except Exception as e:
            reason = " ".join(str(e).split()) or type(e).__name__
            self.close()
            raise CameraError(f"{self.describe()} stopped delivering frames ({reason})") from None
        timestamp = self._clock()
        if isinstance(array, np.ndarray) and array.ndim == 3 and array.shape[2] == 4:
            array = array[:, :, :3]
        if isinstance(array, np.ndarray):
            array = np.ascontiguousarray(array)
        return array, timestamp

    def _close(self) -> None:
        _shutdown(self._picam)
        self._picam = None


def _shutdown(picam: Any) -> None:
    if picam is None:
        return
    for method in ("stop", "close"):
        try:
            getattr(picam, method)()
        except Exception:
            pass
