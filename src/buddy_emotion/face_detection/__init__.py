"""Face detection shared by the local backends, and the crop convention of the FER-2013 models.

The default detector is OpenCV's frontal-face Haar cascade (shipped inside ``opencv-python-headless``
before 5.0, so nothing is downloaded) run on a grey copy of the frame downscaled to 320 px wide, with
4 neighbours and no histogram equalisation. Measured on PublicTest faces pasted into 640x480 frames
(``benchmarks/bench_pipeline.py``), equalisation cost 14-20 points of recall, ran 2-7x slower and
caused a false face on the astronaut sample. ``min_neighbors`` 3, 4 and 5 found 79%, 75% and 73% of
faces of >= 60 px with no false face on empty frames; but 3 also reports the rocket as a face in JPEG
copies of the astronaut (quality 90 and 95), so 4 is the default. Boxes are
returned in pixels of the original frame, largest first.

Crop convention: FER-2013 faces are tight, registered 48x48 grey crops spanning roughly from the
eyebrows to the chin. :func:`crop_face` turns a detector box into such a crop: the box is made square
around its centre, scaled by ``scale`` and shifted down by ``shift`` (both fractions of the box side),
padded by edge replication where it leaves the frame, and resized with area interpolation.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from buddy_emotion.errors import BackendUnavailableError
from buddy_emotion.types import FaceBox

__all__ = ["FaceDetector", "HaarFaceDetector", "crop_face", "downscaled", "FER_CROP_SCALE", "FER_CROP_SHIFT"]

FER_CROP_SCALE = 1.0
"""Side of the square crop relative to the Haar box side (measured on pasted PublicTest faces)."""
FER_CROP_SHIFT = 0.0
"""Downward shift of the crop centre, as a fraction of the box side."""


@runtime_checkable
class FaceDetector(Protocol):
    """Anything with ``detect(gray) -> list[FaceBox]`` (HxW uint8 grey in, frame pixels out, largest first)."""

    def detect(self, gray: np.ndarray) -> list[FaceBox]: ...


def downscaled(gray: np.ndarray, width: int) -> tuple[np.ndarray, float]:
    """``gray`` shrunk (area interpolation) to at most ``width`` pixels wide, and the scale used.

    Divide coordinates found on the copy by the scale to get frame pixels. No copy when it fits.
    """
    import cv2

    h, w = gray.shape[:2]
    scale = min(1.0, width / float(w))
    if scale == 1.0:
        return gray, 1.0
    return cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA), scale


def _cascade_path(name: str) -> Path:
    import cv2

    data = getattr(cv2, "data", None)
    folder = Path(data.haarcascades) if data is not None else None
    if folder is None or not (folder / name).is_file():
        raise BackendUnavailableError(
            f"OpenCV's Haar cascade {name} is missing (opencv-python-headless 5.x dropped them); "
            "install 'opencv-python-headless<5'"
        )
    return folder / name


class HaarFaceDetector:
    """OpenCV Haar cascade on a downscaled grey copy.

    Args:
        detect_width: frames wider than this (pixels) are downscaled to it before detection.
        min_face: smallest face side to report, in pixels of the original frame.
        scale_factor, min_neighbors: the cascade's own parameters.
        cascade: file name inside ``cv2.data.haarcascades``.
        equalize: equalise the histogram first (off: slower and fewer faces found on our benchmark).
    """

    def __init__(self, detect_width: int = 320, min_face: int = 40, scale_factor: float = 1.1,
                 min_neighbors: int = 4, cascade: str = "haarcascade_frontalface_default.xml",
                 equalize: bool = False) -> None:
        import cv2

        if detect_width < 64:
            raise ValueError("detect_width must be at least 64 pixels")
        if min_face < 1:
            raise ValueError("min_face must be a positive number of pixels")
        self.detect_width = int(detect_width)
        self.min_face = int(min_face)
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)
        self.equalize = bool(equalize)
        self._cascade = cv2.CascadeClassifier(str(_cascade_path(cascade)))
        if self._cascade.empty():
            raise BackendUnavailableError(f"OpenCV could not load the Haar cascade {cascade}")
        self._lock = threading.Lock()  # CascadeClassifier is not safe to share across threads

    def detect(self, gray: np.ndarray) -> list[FaceBox]:
        import cv2

        h, w = gray.shape[:2]
        small, scale = downscaled(gray, self.detect_width)
        if self.equalize:
            small = cv2.equalizeHist(small)
        min_side = max(20, int(self.min_face * scale))
        with self._lock:
            found = self._cascade.detectMultiScale(small, scaleFactor=self.scale_factor,
                                                   minNeighbors=self.min_neighbors, minSize=(min_side, min_side))
        boxes: list[FaceBox] = []
        for x, y, bw, bh in (found if len(found) else []):
            box = FaceBox(round(x / scale), round(y / scale), round(bw / scale), round(bh / scale)).clip(w, h)
            if box is not None and box.size >= self.min_face:
                boxes.append(box)
        boxes.sort(key=lambda b: b.area, reverse=True)
        return boxes


def crop_face(gray: np.ndarray, box: FaceBox, size: int = 48, scale: float = FER_CROP_SCALE,
              shift: float = FER_CROP_SHIFT) -> np.ndarray:
    """A ``size`` x ``size`` uint8 grey face crop following the FER-2013 convention (see module doc)."""
    import cv2

    side = max(box.width, box.height) * scale
    cx, cy = box.center
    cy += shift * max(box.width, box.height)
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = max(1, int(round(side)))
    h, w = gray.shape[:2]
    pad = max(0, -x0, -y0, x0 + s - w, y0 + s - h)
    src = gray
    if pad:
        src = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0 += pad
        y0 += pad
    crop = src[y0:y0 + s, x0:x0 + s]
    interp = cv2.INTER_AREA if s > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interp)
