"""The per-sample quality gate: measures of the face patch and the verdict on a reading."""

from __future__ import annotations

import numpy as np

from buddy_emotion import _check
from buddy_emotion.errors import ArgumentTypeError
from buddy_emotion.frames import to_gray, validate_frame
from buddy_emotion.monitor.options import _MEASURE_SIZES, QualityGate
from buddy_emotion.monitor.records import FaceQuality, MonitorSample
from buddy_emotion.types import FaceBox, NoReadingReason, SadnessReading


def measure_face(gray: np.ndarray, box: FaceBox | None, size: int = 64) -> FaceQuality:
    """Sharpness, brightness, contrast and saturated share of a face patch.

    ``gray`` is an HxW uint8 frame (a BGR or BGRA frame is turned grey first); the patch is ``box`` cut to
    the frame (the whole frame when None), resized to ``size`` x ``size`` (1..512) so that the measures do
    not depend on the face's size. Sharpness is the variance of the patch's Laplacian divided by the
    variance of the patch itself, so that it does not depend on lighting either (sharp faces score about 1
    to 5, blurred ones below 1).

    Raises:
        InvalidFrameError: ``gray`` is not an accepted image (see :func:`~buddy_emotion.frames.validate_frame`).
        TypeError: ``box`` is not a :class:`FaceBox` or None.
        ValueError: ``size`` is not a whole number within 1..512.
    """
    import cv2

    gray = to_gray(validate_frame(gray, "gray"))
    if box is not None and not isinstance(box, FaceBox):
        raise ArgumentTypeError(f"box must be a FaceBox or None, got {type(box).__name__}")
    size = _check.integer("size", size, 1, _MEASURE_SIZES[1])
    h, w = gray.shape[:2]
    patch = gray
    if box is not None:
        b = box.clip(w, h)
        if b is not None:
            patch = gray[b.y:b.bottom, b.x:b.right]
    if patch.shape[0] != size or patch.shape[1] != size:
        interp = cv2.INTER_AREA if patch.shape[0] > size else cv2.INTER_LINEAR
        patch = cv2.resize(patch, (size, size), interpolation=interp)
    lap = cv2.Laplacian(patch, cv2.CV_32F, ksize=3)
    mean, std = cv2.meanStdDev(patch)
    contrast = float(std[0][0])
    return FaceQuality(
        sharpness=float(lap.var()) / max(contrast * contrast, 1.0),
        brightness=float(mean[0][0]),
        contrast=contrast,
        saturated=float(np.count_nonzero(patch >= 250)) / patch.size,
    )


def check_quality(quality: FaceQuality, gate: QualityGate) -> NoReadingReason | None:
    """The first quality gate ``quality`` fails, or None when it passes them all.

    Raises:
        TypeError: ``quality`` is not a :class:`FaceQuality` or ``gate`` not a :class:`QualityGate`.
        ValueError: a measure of ``quality`` is not a finite number (NaN would pass every gate).
    """
    if not isinstance(quality, FaceQuality):
        raise ArgumentTypeError(f"quality must be a FaceQuality, got {type(quality).__name__}")
    if not isinstance(gate, QualityGate):
        raise ArgumentTypeError(f"gate must be a QualityGate, got {type(gate).__name__}")
    for name in ("sharpness", "brightness", "contrast", "saturated"):
        _check.number(f"quality.{name}", getattr(quality, name))
    if quality.brightness < gate.min_brightness:
        return NoReadingReason.TOO_DARK
    if quality.brightness > gate.max_brightness or quality.saturated > gate.max_saturated:
        return NoReadingReason.OVEREXPOSED
    if quality.contrast < gate.min_contrast:
        return NoReadingReason.TOO_DARK if quality.brightness < 128 else NoReadingReason.OVEREXPOSED
    if quality.sharpness < gate.min_sharpness:
        return NoReadingReason.BLURRED
    return None


def assess_reading(frame: np.ndarray | None, reading: SadnessReading, gate: QualityGate,
                   quality: FaceQuality | None = None) -> MonitorSample:
    """Apply the quality gate to a detector's reading of ``frame``.

    ``frame`` is the frame the reading came from (or None); the face patch is measured on it unless
    ``quality`` gives the measures already (e.g. replayed samples). With neither, image checks are skipped.

    Raises:
        InvalidFrameError: ``frame`` is not an accepted image.
        TypeError: ``reading``, ``gate`` or ``quality`` is not of its type.
        ValueError: the reading's timestamp is not a finite number, or its sadness not a number within 0..1.
    """
    if frame is not None:
        frame = validate_frame(frame)
    if not isinstance(reading, SadnessReading):
        raise ArgumentTypeError(f"reading must be a SadnessReading, got {type(reading).__name__}")
    if not isinstance(gate, QualityGate):
        raise ArgumentTypeError(f"gate must be a QualityGate, got {type(gate).__name__}")
    if quality is not None and not isinstance(quality, FaceQuality):
        raise ArgumentTypeError(f"quality must be a FaceQuality or None, got {type(quality).__name__}")
    t = _check.number("reading.timestamp", reading.timestamp, unit="seconds")
    faces = reading.faces
    count = max(_check.integer("reading.face_count", reading.face_count, 0), len(faces))
    box = reading.box
    if box is not None and not isinstance(box, FaceBox):
        raise ArgumentTypeError(f"reading.box must be a FaceBox or None, got {type(box).__name__}")
    size = box.size if box is not None else None
    if reading.reason is not None or reading.sadness is None:
        return MonitorSample(t, None, reading.reason or NoReadingReason.BACKEND_ERROR, count, size)
    sadness = _check.number("reading.sadness", reading.sadness, 0.0, 1.0)
    if count > 1 and gate.multiple_faces != "largest":
        areas = sorted((f.box.area for f in faces if f.box is not None), reverse=True)
        dominant = len(areas) >= 2 and areas[0] >= gate.dominance * areas[1]
        if gate.multiple_faces == "reject" or not dominant:
            return MonitorSample(t, sadness, NoReadingReason.MULTIPLE_FACES, count, size)
    if size is not None and size < gate.min_face:
        return MonitorSample(t, sadness, NoReadingReason.FACE_TOO_SMALL, count, size)
    if quality is None and frame is not None:
        quality = measure_face(to_gray(frame), box, gate.measure_size)
    if quality is not None:
        reason = check_quality(quality, gate)
        if reason is not None:
            return MonitorSample(t, sadness, reason, count, size, quality)
    return MonitorSample(t, sadness, None, count, size, quality)
