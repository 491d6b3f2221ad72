"""Frame validation, colour conversion and image-file loading.

A *frame* is a numpy ``uint8`` array in OpenCV's convention: ``HxWx3`` BGR, ``HxW`` grey (``HxWx1``
too) or ``HxWx4`` BGRA. Anything else raises :class:`~buddy_emotion.errors.InvalidFrameError`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from buddy_emotion._check import as_path, shown
from buddy_emotion.errors import ArgumentTypeError, ImageFileError, InvalidFrameError

__all__ = ["validate_frame", "to_gray", "to_bgr", "load_image", "MIN_SIDE", "MAX_SIDE", "MAX_PIXELS"]

MIN_SIDE = 8
"""Smallest accepted frame side in pixels."""
MAX_SIDE = 16384
"""Largest accepted frame side in pixels."""
MAX_PIXELS = 64_000_000
"""Largest accepted frame area in pixels."""


def validate_frame(frame: Any, name: str = "frame") -> np.ndarray:
    """Check that ``frame`` is an accepted image and return it (no copy).

    Raises:
        InvalidFrameError: with a one-line reason (None, not an array, wrong dtype or shape, too small or large).
        ArgumentTypeError: ``name`` is not a str.
    """
    if not isinstance(name, str):
        raise ArgumentTypeError(f"name must be a str naming the frame in messages, got {shown(name)}")
    if frame is None:
        raise InvalidFrameError(f"{name} is None (did the camera or cv2.imread fail?)")
    if isinstance(frame, (str, bytes, os.PathLike)):
        raise InvalidFrameError(f"{name} is a path, not an image array; load it first with buddy_emotion.load_image()")
    if not isinstance(frame, np.ndarray):
        if type(frame).__module__.split(".")[0] == "PIL":  # PIL images are RGB(A); frames are BGR
            raise InvalidFrameError(f"{name} is a PIL image, not a numpy array; convert it with "
                                    f"numpy.asarray(image.convert('RGB'))[:, :, ::-1] (PIL is RGB, frames are BGR)")
        raise InvalidFrameError(f"{name} must be a numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        hint = " (NaN or float images are not accepted: convert to uint8 0..255)" if frame.dtype.kind in "fc" else ""
        raise InvalidFrameError(f"{name} must have dtype uint8, got {frame.dtype}{hint}")
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if not (frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] in (3, 4))):
        raise InvalidFrameError(
            f"{name} must be HxW grey, HxWx3 BGR or HxWx4 BGRA, got shape {tuple(frame.shape)}"
        )
    h, w = frame.shape[:2]
    if h == 0 or w == 0:
        raise InvalidFrameError(f"{name} is empty (shape {tuple(frame.shape)})")
    if h < MIN_SIDE or w < MIN_SIDE:
        raise InvalidFrameError(f"{name} is too small ({w}x{h} px, at least {MIN_SIDE}x{MIN_SIDE})")
    if h > MAX_SIDE or w > MAX_SIDE or h * w > MAX_PIXELS:
        raise InvalidFrameError(f"{name} is too large ({w}x{h} px; at most {MAX_SIDE} a side, {MAX_PIXELS} pixels)")
    return frame


def to_gray(frame: np.ndarray) -> np.ndarray:
    """HxW uint8 grey version of a frame (the frame itself if it is grey already).

    Raises:
        InvalidFrameError: ``frame`` is not an accepted image (see :func:`validate_frame`).
    """
    import cv2

    frame = validate_frame(frame)
    if frame.ndim == 2:
        return frame
    code = cv2.COLOR_BGR2GRAY if frame.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
    return cv2.cvtColor(frame, code)


def to_bgr(frame: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 BGR version of a frame (the frame itself if it is BGR already).

    Raises:
        InvalidFrameError: ``frame`` is not an accepted image (see :func:`validate_frame`).
    """
    import cv2

    frame = validate_frame(frame)
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return frame


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file into an HxWx3 uint8 BGR frame.

    Raises:
        ImageFileError: ``path`` is not a path, or the file is missing, a directory, not a regular file (a
            pipe or device), unreadable, or not a decodable image.
    """
    import cv2

    p = as_path("path", path, "an image file path (str or path-like)", ImageFileError)
    try:
        missing, folder = not p.exists(), p.is_dir()
    except OSError as e:  # e.g. a name too long
        raise ImageFileError(f"path is not a usable file path: {path!r} ({e})") from None
    if missing:
        raise ImageFileError(f"image file not found: {p}")
    if folder:
        raise ImageFileError(f"expected an image file, got a directory: {p}")
    if not p.is_file():  # a pipe or device would block or never end
        raise ImageFileError(f"not a regular file (a pipe or device?): {p}")
    try:
        data = np.fromfile(p, dtype=np.uint8)
    except OSError as e:
        raise ImageFileError(f"cannot read image file {p}: {e.strerror or e}") from None
    if data.size == 0:
        raise ImageFileError(f"image file is empty: {p}")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise ImageFileError(f"not a readable image (corrupt or unsupported format): {p}")
    return validate_frame(image, name=str(p))
