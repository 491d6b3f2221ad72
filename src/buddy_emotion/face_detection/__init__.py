"""Face detection shared by the local backends, and the crop convention of the FER-2013 models.

Two detectors, both offline and shipped with the core install:

* :class:`BlazeFaceDetector` (the default): MediaPipe's BlazeFace back-camera model on LiteRT, on a
  256x192 copy of the frame. Its weights (315 KB, Apache-2.0) ship inside this package; see
  :mod:`buddy_emotion.face_detection.blazeface` for why and where they come from.
* :class:`HaarFaceDetector`: OpenCV's frontal-face Haar cascade (inside ``opencv-python-headless`` < 5).

``benchmarks/bench_pipeline.py`` compares them with the ``fer`` package's pipeline. Boxes are returned in
pixels of the original frame, largest first.

Crop convention: FER-2013 faces are tight, registered 48x48 grey crops spanning roughly from the
eyebrows to the chin. :func:`crop_face` turns a detector box into such a crop: the box is made square
around its centre, scaled by ``scale`` and shifted down by ``shift`` (both fractions of the box side),
padded by edge replication where it leaves the frame, and resized with area interpolation. Each
detector has its own box geometry, so each carries the ``fer_crop = (scale, shift)`` measured for it
(``benchmarks/bench_crop.py``).

Faces partly outside the frame: boxes are reported clipped to the frame. Where at least a tenth of the
face lies outside (by the detector's unclipped estimate of the whole face, ``detect_extents``, which
BlazeFace gives), the ``keras`` backend crops around that estimate instead, so that the face keeps the
scale and centre of the same face seen whole, and fills the missing part with the mean grey of the rest
(``pad="mean"``): replicating the frame's edge across a third of the crop cost accuracy
(``benchmarks/bench_edge.py``, ``docs/model-card.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from buddy_emotion._check import integer, number, shown
from buddy_emotion.errors import ArgumentTypeError, InvalidArgumentError
from buddy_emotion.frames import validate_frame
from buddy_emotion.types import FaceBox

if TYPE_CHECKING:
    from buddy_emotion.face_detection.blazeface import BlazeFaceDetector
    from buddy_emotion.face_detection.haar import HaarFaceDetector

__all__ = ["FaceDetector", "BlazeFaceDetector", "HaarFaceDetector", "default_face_detector", "crop_face",
           "fer_crop_of", "downscaled", "FER_CROP_SCALE", "FER_CROP_SHIFT", "MAX_CROP_RATIO"]

FER_CROP_SCALE = 1.0
"""Crop side relative to the box side for a detector that declares no ``fer_crop`` (Haar's measured value)."""
FER_CROP_SHIFT = 0.0
"""Downward shift of the crop centre, as a fraction of the box side, likewise."""
MAX_CROP_RATIO = 8
""":func:`crop_face` refuses a crop side larger than this many times the frame's longer side."""


@runtime_checkable
class FaceDetector(Protocol):
    """Anything with ``detect(gray) -> list[FaceBox]`` (HxW uint8 grey in, frame pixels out, largest first).

    A detector may also carry ``fer_crop = (scale, shift)``: the :func:`crop_face` arguments that turn
    its boxes into FER-2013-like crops. Without it the Haar values are used.

    It may also have ``detect_extents(gray) -> list[tuple[FaceBox, FaceBox]]``: per face, in the order of
    ``detect``, the box ``detect`` reports (clipped to the frame) and the detector's estimate of the whole
    face, which may reach past the frame edge. The ``keras`` backend then crops a face with a tenth or more
    of it outside the frame around that estimate, and still reports the box.
    """

    def detect(self, gray: np.ndarray) -> list[FaceBox]: ...


def fer_crop_of(detector: object) -> tuple[float, float]:
    """The ``(scale, shift)`` crop convention that suits ``detector``'s boxes."""
    crop = getattr(detector, "fer_crop", None)
    if crop is None:
        return FER_CROP_SCALE, FER_CROP_SHIFT
    if not isinstance(crop, (tuple, list)) or len(crop) != 2:
        raise InvalidArgumentError(f"fer_crop of {type(detector).__name__} must be a pair (scale, shift), got {crop!r}")
    return number("fer_crop scale", crop[0], 0.0, open_lo=True), number("fer_crop shift", crop[1])


def default_face_detector(*, track: bool = False) -> FaceDetector:
    """A new instance of the library's default detector (:class:`BlazeFaceDetector`); ``track``: video mode."""
    from buddy_emotion.face_detection.blazeface import BlazeFaceDetector

    return BlazeFaceDetector(track=track)


def __getattr__(name: str) -> Any:
    if name == "HaarFaceDetector":
        from buddy_emotion.face_detection.haar import HaarFaceDetector

        return HaarFaceDetector
    if name == "BlazeFaceDetector":
        from buddy_emotion.face_detection.blazeface import BlazeFaceDetector

        return BlazeFaceDetector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def downscaled(gray: np.ndarray, width: int) -> tuple[np.ndarray, float]:
    """``gray`` shrunk (area interpolation) to at most ``width`` pixels wide, and the scale used.

    Divide coordinates found on the copy by the scale to get frame pixels. No copy when it fits.

    Raises:
        InvalidFrameError: ``gray`` is not an accepted frame.
        ValueError: ``width`` is not a whole number >= 1.
    """
    import cv2

    gray = validate_frame(gray, name="gray")
    width = integer("width", width, 1)
    h, w = gray.shape[:2]
    scale = min(1.0, width / float(w))
    if scale == 1.0:
        return gray, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), scale


def crop_face(gray: np.ndarray, box: FaceBox, size: int = 48, scale: float = FER_CROP_SCALE,
              shift: float = FER_CROP_SHIFT, *, pad: str = "edge") -> np.ndarray:
    """A ``size`` x ``size`` uint8 face crop following the FER-2013 convention (see module doc).

    ``gray`` is the frame the box was found in: usually grey (H, W); a colour (H, W, 3) frame gives a colour
    crop, for models that take colour. ``pad`` fills the part of the crop outside the frame: ``"edge"``
    replicates the frame's border pixels, ``"mean"`` uses the mean level of the part inside (per channel).

    Raises:
        InvalidFrameError: ``gray`` is not an accepted frame.
        TypeError: ``box`` is not a :class:`FaceBox`.
        ValueError: ``size`` < 1, ``scale`` <= 0, a non-finite ``scale`` or ``shift``, a ``pad`` other than
            ``"edge"`` or ``"mean"``, or a crop that lies outside the frame or is more than
            :data:`MAX_CROP_RATIO` times the frame's longer side.
    """
    import cv2

    gray = validate_frame(gray, name="gray")
    if not isinstance(box, FaceBox):
        raise ArgumentTypeError(f"box must be a FaceBox, got {type(box).__name__}")
    size = integer("size", size, 1)
    scale = number("scale", scale, 0.0, open_lo=True)
    shift = number("shift", shift)
    if not isinstance(pad, str):
        raise ArgumentTypeError(f"pad must be 'edge' or 'mean', got {shown(pad)}")
    if pad not in ("edge", "mean"):
        raise InvalidArgumentError(f"pad must be 'edge' or 'mean', got {shown(pad)}")
    side = max(box.width, box.height) * scale
    cx, cy = box.center
    cy += shift * max(box.width, box.height)
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = max(1, int(round(side)))
    h, w = gray.shape[:2]
    if s > MAX_CROP_RATIO * max(h, w):
        raise InvalidArgumentError(f"the crop of box {box} at scale {scale:g} is {s} px, more than "
                                   f"{MAX_CROP_RATIO} times the {w}x{h} frame")
    if x0 >= w or y0 >= h or x0 + s <= 0 or y0 + s <= 0:
        raise InvalidArgumentError(f"box {box} (crop at x={x0}, y={y0}, side {s}) lies outside the {w}x{h} frame")
    # only the part inside the frame, padded where the crop leaves the frame
    crop = gray[max(y0, 0):min(y0 + s, h), max(x0, 0):min(x0 + s, w)]
    top, left, bottom, right = max(0, -y0), max(0, -x0), max(0, y0 + s - h), max(0, x0 + s - w)
    if top or left or bottom or right:
        if pad == "edge":
            crop = cv2.copyMakeBorder(crop, top, bottom, left, right, cv2.BORDER_REPLICATE)
        else:
            mean = [float(v) for v in np.atleast_1d(crop.mean(axis=(0, 1)))]
            crop = cv2.copyMakeBorder(crop, top, bottom, left, right, cv2.BORDER_CONSTANT, value=mean)
    interp = cv2.INTER_AREA if s > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interp)
