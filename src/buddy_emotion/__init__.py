"""buddy-emotion: tells, reliably and cheaply, when the person in front of a camera looks sad.

Quick start::

    import cv2
    from buddy_emotion import Detector

    detector = Detector()                      # embedded FER-2013 CNN, offline, no keys
    reading = detector.detect_sadness(cv2.imread("face.jpg"))
    print(reading.sadness, reading.is_sad, reading.reason)

Frames are numpy uint8 arrays in OpenCV's convention (HxWx3 BGR, HxW grey, HxWx4 BGRA); times are
seconds. Heavy parts (backends, cameras, the monitor) are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from buddy_emotion._version import __version__
from buddy_emotion.errors import (
    ArgumentTypeError,
    AuthenticationError,
    BackendError,
    BackendNotFoundError,
    BackendUnavailableError,
    BaselineError,
    BuddyEmotionError,
    CameraError,
    EmotionAttributeRetiredError,
    ImageFileError,
    InvalidArgumentError,
    InvalidFrameError,
    MissingDependencyError,
    ModelFileError,
    RateLimitError,
    ServiceError,
    ServiceUnavailableError,
)
from buddy_emotion.labels import EMOTIONS, FER2013_ORDER
from buddy_emotion.types import FaceBox, FaceEmotion, NoReadingReason, SadnessReading

if TYPE_CHECKING:
    from buddy_emotion.backends.base import EmotionBackend
    from buddy_emotion.cameras import Camera, open_camera
    from buddy_emotion.detector import Detector, DetectorOptions
    from buddy_emotion.frames import load_image
    from buddy_emotion.monitor import Baseline, MonitorOptions, QualityGate, SadnessEvent, SadnessMonitor

__all__ = [
    "__version__",
    "Detector",
    "DetectorOptions",
    "SadnessMonitor",
    "MonitorOptions",
    "QualityGate",
    "SadnessEvent",
    "Baseline",
    "EmotionBackend",
    "Camera",
    "open_camera",
    "load_image",
    "EMOTIONS",
    "FER2013_ORDER",
    "FaceBox",
    "FaceEmotion",
    "SadnessReading",
    "NoReadingReason",
    "ArgumentTypeError",
    "BaselineError",
    "BuddyEmotionError",
    "InvalidArgumentError",
    "InvalidFrameError",
    "ImageFileError",
    "CameraError",
    "BackendError",
    "BackendNotFoundError",
    "BackendUnavailableError",
    "MissingDependencyError",
    "ModelFileError",
    "ServiceError",
    "AuthenticationError",
    "RateLimitError",
    "ServiceUnavailableError",
    "EmotionAttributeRetiredError",
]

_LAZY = {
    "Detector": "buddy_emotion.detector",
    "DetectorOptions": "buddy_emotion.detector",
    "SadnessMonitor": "buddy_emotion.monitor",
    "MonitorOptions": "buddy_emotion.monitor",
    "QualityGate": "buddy_emotion.monitor",
    "SadnessEvent": "buddy_emotion.monitor",
    "Baseline": "buddy_emotion.monitor",
    "EmotionBackend": "buddy_emotion.backends.base",
    "Camera": "buddy_emotion.cameras",
    "open_camera": "buddy_emotion.cameras",
    "load_image": "buddy_emotion.frames",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'buddy_emotion' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
