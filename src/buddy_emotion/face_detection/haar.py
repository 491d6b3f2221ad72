"""OpenCV's frontal-face Haar cascade, run on a downscaled grey copy of the frame.

Measured on PublicTest faces pasted into 640x480 frames (``benchmarks/bench_pipeline.py``), histogram
equalisation cost 14-20 points of recall, ran 2-7x slower and caused a false face on the astronaut
sample. ``min_neighbors`` 3, 4 and 5 found 79%, 75% and 73% of faces of >= 60 px with no false face on
plain empty frames; but 3 also reports the rocket as a face in JPEG copies of the astronaut (quality 90
and 95), so 4 is the default. It is no longer the library's default detector: see
:mod:`buddy_emotion.face_detection.blazeface`.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from buddy_emotion._check import flag, integer, number, shown
from buddy_emotion.errors import ArgumentTypeError, BackendUnavailableError
from buddy_emotion.face_detection import downscaled
from buddy_emotion.frames import to_gray, validate_frame
from buddy_emotion.types import FaceBox

__all__ = ["HaarFaceDetector"]


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
        scale_factor, min_neighbors: the cascade's own parameters (``scale_factor`` > 1, ``min_neighbors`` >= 0).
        cascade: file name inside ``cv2.data.haarcascades``.
        equalize: equalise the histogram first (off: slower and fewer faces found on our benchmark).
    """

    fer_crop = (1.0, 0.0)
    """Crop convention for these boxes (scale, shift): ``benchmarks/bench_crop.py`` measures 1.03 / 0.01 on
    pasted Training faces, close enough to the plain box to keep it."""

    def __init__(self, detect_width: int = 320, min_face: int = 40, scale_factor: float = 1.1,
                 min_neighbors: int = 4, cascade: str = "haarcascade_frontalface_default.xml",
                 equalize: bool = False) -> None:
        import cv2

        self.detect_width = integer("detect_width", detect_width, 64)
        self.min_face = integer("min_face", min_face, 1)
        self.scale_factor = number("scale_factor", scale_factor, 1.0, open_lo=True)
        self.min_neighbors = integer("min_neighbors", min_neighbors, 0)
        if not isinstance(cascade, str):
            raise ArgumentTypeError(
                f"cascade must be a file name (str) inside cv2.data.haarcascades, got {shown(cascade)}")
        self.equalize = flag("equalize", equalize)
        self._cascade = cv2.CascadeClassifier(str(_cascade_path(cascade)))
        if self._cascade.empty():
            raise BackendUnavailableError(f"OpenCV could not load the Haar cascade {cascade}")
        self._lock = threading.Lock()  # CascadeClassifier is not safe to share across threads

    def detect(self, gray: np.ndarray) -> list[FaceBox]:
        import cv2

        gray = to_gray(validate_frame(gray, name="gray"))
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
