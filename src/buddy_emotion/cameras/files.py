"""Replaying recorded footage: a video file, or a folder of still images.

Both are finite: ``read()`` raises :class:`~buddy_emotion.cameras.base.CameraEndOfStream` at the end and
iteration stops there. Frames are ``HxWx3`` uint8 BGR; timestamps are media time in seconds from the
start of the source (not wall-clock time). Missing or undecodable files raise
:class:`~buddy_emotion.errors.ImageFileError`. Nothing is ever written to disk.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from buddy_emotion import _check
from buddy_emotion._check import shown
from buddy_emotion.cameras.base import Camera, CameraEndOfStream
from buddy_emotion.errors import ArgumentTypeError, ImageFileError, InvalidArgumentError
from buddy_emotion.frames import load_image

__all__ = ["VideoFileCamera", "ImageFolderCamera", "IMAGE_EXTENSIONS", "VIDEO_EXTENSIONS", "natural_sort_key"]

IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm")
"""Image files: what :class:`ImageFolderCamera` picks up by default, :func:`~buddy_emotion.cameras.open_camera`
opens as a still and the CLI reads as one (compared case-insensitively)."""
VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
"""Video files the CLI picks up in a folder (any other file that is not an image is tried as a video)."""

_EPS = 1e-6
_MIN_FPS = 1e-6  # one image every 11.6 days; a smaller rate makes image timestamps overflow to inf
_MIN_STEP = 1e-6  # seconds: no video has frames closer, and a smaller step would overflow the sampling arithmetic


def natural_sort_key(name: str) -> tuple[Any, ...]:
    """Sort key putting ``img2.png`` before ``img10.png`` (digit runs compare as numbers, case ignored)."""
    parts = re.split(r"(\d+)", name.lower())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def _extensions(value: Any) -> tuple[str, ...]:
    """File extensions, lower case with a leading dot: ``"png"`` and ``".PNG"`` both give ``".png"``."""
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Iterable) or isinstance(value, (bytes, bytearray, memoryview)):
        raise ArgumentTypeError(
            f"extensions must be a sequence of file extensions such as ('.png', '.jpg'), got {shown(value)}")
    exts = []
    for e in value:
        if not isinstance(e, str):  # a wrong type: 1, None, b".png"
            raise ArgumentTypeError(f"extensions must hold file extensions (str) such as '.png', got {shown(e)}")
        if not e.strip(". "):  # a wrong value: "", "."
            raise InvalidArgumentError(f"extensions must hold file extensions such as '.png', got {shown(e)}")
        e = e.strip().lower()
        exts.append(e if e.startswith(".") else f".{e}")
    if not exts:
        raise InvalidArgumentError("extensions must name at least one file extension, e.g. ('.png', '.jpg')")
    return tuple(exts)


class VideoFileCamera(Camera):
    """Replay a video file frame by frame, optionally sampling one frame every ``step`` seconds.

    Args:
        path: the video file (anything OpenCV's FFmpeg backend decodes: .mp4, .avi, .mkv, ...).
        step: if given (seconds, at least 1e-6), deliver only the first frame at or after each multiple of
            ``step`` seconds (e.g. ``step=2.0`` samples the video every 2 s); None delivers every frame.

    ``read()`` returns ``(HxWx3 uint8 BGR frame, position in the video in seconds)``; the position comes
    from the container's timestamps (``CAP_PROP_POS_MSEC``), or ``frame_index / fps`` when those are
    missing. At the end it raises ``CameraEndOfStream``.

    Raises:
        ImageFileError: (from ``open``) the file is missing or not a decodable video; (from ``read``)
            the video holds no decodable frame or a frame in it is corrupt.
    """

    finite = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        step: float | None = None,
        *,
        _capture_factory: Callable[[str], Any] | None = None,
    ) -> None:
        super().__init__()
        self.path = _check.as_path("path", path, "a file or folder path")
        self.step = None if step is None else _check.number("step", step, _MIN_STEP)
        self._factory = _capture_factory
        self._capture: Any = None
        self._fps: float | None = None
        self._index = -1  # index of the last grabbed frame
        self._delivered = 0
        self._next_time = 0.0
        self._ended = False

    def describe(self) -> str:
        return f"video file {self.path}"

    @property
    def fps(self) -> float | None:
        """Frames per second the file reports (known once open), or None when it reports none."""
        return self._fps

    def _open(self) -> None:
        import cv2

        p = self.path
        if not p.exists():
            raise ImageFileError(f"video file not found: {p}")
        if p.is_dir():
            raise ImageFileError(f"expected a video file, got a directory: {p} (use ImageFolderCamera for images)")
        try:
            capture = self._factory(str(p)) if self._factory else cv2.VideoCapture(str(p), cv2.CAP_ANY)
        except Exception as e:
            raise ImageFileError(f"cannot open video file {p}: {e}") from None
        if capture is None or not capture.isOpened():
            if capture is not None:
                capture.release()
            raise ImageFileError(f"not a readable video (corrupt or unsupported format): {p}")
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self._fps = fps if math.isfinite(fps) and 0 < fps < 10_000 else None
        self._capture = capture
        self._index = -1
        self._delivered = 0
        self._next_time = 0.0
        self._ended = False

    def _timestamp(self) -> float:
        import cv2

        msec = float(self._capture.get(cv2.CAP_PROP_POS_MSEC) or 0.0)
        if math.isfinite(msec) and msec >= 0 and (msec > 0 or self._index == 0):
            return round(msec / 1000.0, 6)
        if self._fps:
            return round(self._index / self._fps, 6)
        return float(self._index)  # no timestamps and no frame rate: one "second" per frame

    def _read(self) -> tuple[np.ndarray, float]:
        if self._ended:
            raise CameraEndOfStream(f"end of {self.describe()}")
        while True:
            try:
                grabbed = bool(self._capture.grab())
            except Exception:
                grabbed = False
            if not grabbed:
                self._ended = True
                if self._delivered == 0 and self._index < 0:
                    raise ImageFileError(f"no decodable frames in video file (corrupt or unsupported): {self.path}")
                raise CameraEndOfStream(f"end of {self.describe()}")
            self._index += 1
            timestamp = self._timestamp()
            if self.step is not None and timestamp + _EPS < self._next_time:
                continue
            try:
                ok, frame = self._capture.retrieve()
            except Exception:
                ok, frame = False, None
            if not ok or frame is None:
                raise ImageFileError(
                    f"cannot decode frame {self._index} (at {timestamp:.3f} s) of video file {self.path}")
            if self.step is not None and self._next_time <= timestamp + _EPS:
                # straight to the first multiple of step after this frame: a loop adding a tiny step (or one
                # below the float resolution of the time) would run for ages, or for ever
                self._next_time += (math.floor((timestamp + _EPS - self._next_time) / self.step) + 1) * self.step
            self._delivered += 1
            return frame, timestamp

    def _close(self) -> None:
        if self._capture is not None:
            try:
                self._capture.release()
            except Exception:
                pass
        self._capture = None


class ImageFolderCamera(Camera):
    """Replay the still images of a folder (or a single image file) as if they came from a camera.

    Args:
        folder: a folder of images, read in natural order (``img2`` before ``img10``); hidden files are
            skipped. A single image file is accepted too and replays that one image.
        fps: frames per second of the replay (at least 1e-6): image ``i`` gets timestamp ``i / fps`` seconds
            (default 0.5, i.e. one image every 2 s). Nothing sleeps: ``read()`` returns at once.
        loop: True: start again from the first image after the last one, forever (timestamps keep growing).
        extensions: file extensions to pick up, compared case-insensitively.

    The file list is taken when the camera is opened. ``read()`` returns ``(HxWx3 uint8 BGR image,
    index / fps seconds)`` and, unless ``loop``, raises ``CameraEndOfStream`` after the last image.

    Raises:
        ImageFileError: (from ``open``) the folder is missing or holds no image with those extensions;
            (from ``read``) an image is corrupt; the message names the file.
    """

    finite = True

    def __init__(
        self,
        folder: str | os.PathLike[str],
        fps: float = 0.5,
        loop: bool = False,
        extensions: Iterable[str] = IMAGE_EXTENSIONS,
    ) -> None:
        super().__init__()
        self.folder = _check.as_path("folder", folder, "a file or folder path")
        self.fps = _check.number("fps", fps, _MIN_FPS, unit="frames per second")  # i / fps stays finite
        self.loop = _check.flag("loop", loop)
        self.extensions = _extensions(extensions)
        self.finite = not self.loop
        self.files: list[Path] = []
        """The images being replayed, in order (filled in by ``open``)."""
        self._count = 0

    def describe(self) -> str:
        return f"image folder {self.folder}"

    def _open(self) -> None:
        p = self.folder
        if not p.exists():
            raise ImageFileError(f"image folder not found: {p}")
        if p.is_file():
            files = [p]
        elif p.is_dir():
            try:
                entries = list(p.iterdir())
            except OSError as e:
                raise ImageFileError(f"cannot list image folder {p}: {e.strerror or e}") from None
            files = [
                f
                for f in entries
                if not f.name.startswith(".") and f.suffix.lower() in self.extensions and f.is_file()
            ]
            files.sort(key=lambda f: natural_sort_key(f.name))
        else:
            raise ImageFileError(f"not a folder or image file: {p}")
        if not files:
            raise ImageFileError(f"no images ({', '.join(self.extensions)}) in folder {p}")
        self.files = files
        self._count = 0

    def _read(self) -> tuple[np.ndarray, float]:
        n = len(self.files)
        if not self.loop and self._count >= n:
            raise CameraEndOfStream(f"end of {self.describe()} ({n} images)")
        index = self._count
        path = self.files[index % n]
        self._count += 1  # a corrupt image is skipped on the next read
        image = load_image(path)  # ImageFileError naming the file if it is corrupt or vanished
        return image, round(index / self.fps, 6)

    def _close(self) -> None:
        pass
