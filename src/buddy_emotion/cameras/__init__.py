"""Frame sources: webcams, the Raspberry Pi camera, video files and image folders.

Every camera's ``read()`` returns ``(frame, timestamp)``: an ``HxWx3`` ``uint8`` **BGR** array and a
timestamp in **seconds** (``time.time()`` for live cameras, media time from the start for files and
folders). Cameras are context managers; finite sources raise :class:`CameraEndOfStream` at the end and
stop iteration cleanly. No camera writes frames to disk.

    from buddy_emotion.cameras import open_camera

    with open_camera("webcam") as cam:
        for frame, ts in cam:
            ...

picamera2 is imported only when a :class:`PiCamera` is opened.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from buddy_emotion import _check
from buddy_emotion._check import shown
from buddy_emotion.cameras.base import Camera, CameraEndOfStream
from buddy_emotion.cameras.files import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, ImageFolderCamera, VideoFileCamera
from buddy_emotion.cameras.opencv import OpenCVCamera, redact_url
from buddy_emotion.cameras.picamera import PiCamera
from buddy_emotion.errors import ArgumentTypeError, CameraError, InvalidArgumentError

__all__ = [
    "Camera",
    "CameraEndOfStream",
    "OpenCVCamera",
    "PiCamera",
    "VideoFileCamera",
    "ImageFolderCamera",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "open_camera",
    "camera_from_spec",
    "SPEC_HELP",
]

SPEC_HELP = (
    "use 'webcam', 'webcam:N' (camera index N), 'pi' or 'pi:N' (Raspberry Pi camera), a /dev/videoN device, "
    "an rtsp:// or http(s):// stream URL, a video file, an image file or a folder of images"
)
"""The camera spec forms :func:`open_camera` accepts, for help texts."""

_STREAM_RE = re.compile(r"^(rtsp|rtsps|rtmp|rtmps|http|https|udp|tcp|srt)://", re.IGNORECASE)
_INDEXED_RE = re.compile(r"^(webcam|pi)(?::(.*))?$", re.IGNORECASE)


def _new(cls: type[Camera], *args: Any, **kw: Any) -> Camera:
    """``cls(*args, **kw)``, after checking that ``cls`` takes those options (a clear error, not Python's)."""
    _check.options_for(f"camera {cls.__name__}", cls, *args, **kw)
    return cls(*args, **kw)


def camera_from_spec(spec: str | int | os.PathLike[str], **kw: Any) -> Camera:
    """The (unopened) camera a spec names; ``kw`` goes to its constructor. See :func:`open_camera`."""
    if isinstance(spec, bool):
        raise ArgumentTypeError(f"a camera spec must be a string or an index, got {shown(spec)}: {SPEC_HELP}")
    if isinstance(spec, int):
        return _new(OpenCVCamera, spec, **kw)
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    if not isinstance(spec, str):
        raise ArgumentTypeError(f"a camera spec must be a string or an index, got {type(spec).__name__}: {SPEC_HELP}")
    text = spec.strip()
    if not text:
        raise InvalidArgumentError(f"empty camera spec: {SPEC_HELP}")

    m = _INDEXED_RE.match(text)
    if m:
        kind, number = m.group(1).lower(), m.group(2)
        index = 0
        if number is not None:
            number = number.strip()
            if not number.isdigit():
                raise InvalidArgumentError(
                    f"bad camera spec {text!r}: '{kind}:' must be followed by a number >= 0, e.g. '{kind}:1'")
            index = int(number)
        if kind == "webcam":
            return _new(OpenCVCamera, index, **kw)
        if number is not None:
            kw.setdefault("camera_num", index)
        return _new(PiCamera, **kw)

    if _STREAM_RE.match(text) or re.match(r"^/dev/video\d+$", text):
        return _new(OpenCVCamera, text, **kw)

    path = Path(text).expanduser()
    try:
        is_dir, is_file = path.is_dir(), path.is_file()
    except OSError as e:  # e.g. a name too long
        raise CameraError(f"not a usable camera spec or path {redact_url(text)[:200]!r}: {e.strerror or e}") from None
    if is_dir:
        return _new(ImageFolderCamera, path, **kw)
    if is_file:
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            return _new(ImageFolderCamera, path, **kw)
        return _new(VideoFileCamera, path, **kw)
    if text.isdigit():
        return _new(OpenCVCamera, int(text), **kw)

    looks_like_path = os.sep in text or "/" in text or bool(path.suffix)
    what = "no such file or folder" if looks_like_path else "unknown camera"
    raise CameraError(f"{what} {redact_url(text)!r}: {SPEC_HELP}")


def open_camera(spec: str | int | os.PathLike[str], **kw: Any) -> Camera:
    """Open the camera a spec names and return it, open (``with open_camera(...) as cam:`` closes it).

    Specs:
        ``"webcam"`` / ``"webcam:N"`` / an int N: :class:`OpenCVCamera` on index 0 / N;
        ``"pi"`` / ``"pi:N"``: :class:`PiCamera` (camera N);
        ``"/dev/videoN"`` or an ``rtsp://``, ``http(s)://`` ... URL: :class:`OpenCVCamera` on it;
        an existing folder or image file: :class:`ImageFolderCamera`;
        any other existing file: :class:`VideoFileCamera`.

    ``kw`` goes to the camera's constructor (e.g. ``width=`` for a webcam, ``fps=`` for an image folder, ``step=``
    for a video file); an option that camera does not take raises :class:`~buddy_emotion.errors.ArgumentTypeError`.

    Raises:
        CameraError: the spec names no camera, file or folder here (the message lists the forms), or the
            camera cannot be opened.
        ImageFileError: a video file, image or folder cannot be read.
        InvalidArgumentError: a malformed spec (``""``, ``"webcam:x"``) or a bad option value (``fps=0``,
            ``width=-5``); a ``ValueError``. :class:`~buddy_emotion.errors.ArgumentTypeError` (also a
            ``TypeError``) for a spec or option of the wrong type (``None``, ``1.5``).
    """
    return camera_from_spec(spec, **kw).open()
