"""The abstract emotion backend every implementation derives from."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from buddy_emotion._check import shown
from buddy_emotion.errors import (
    ArgumentTypeError,
    BackendError,
    InvalidArgumentError,
    InvalidFrameError,
    MissingDependencyError,
)
from buddy_emotion.types import FaceEmotion

__all__ = ["EmotionBackend", "Viability", "require", "install_hint"]


@dataclass(frozen=True)
class Viability:
    """Whether a backend can run here; ``reason`` says why not (or how it runs) in one line."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


def install_hint(extra: str | None = None, install: str | None = None) -> str | None:
    """``install`` as given, else ``pip install 'buddy-emotion[EXTRA]'`` for a buddy-emotion extra, else None."""
    if install:
        return install
    return f"pip install 'buddy-emotion[{extra}]'" if extra else None


def require(module: str, extra: str | None, backend: str, *, install: str | None = None) -> ModuleType:
    """Import an optional dependency, or raise :class:`MissingDependencyError` with the install hint.

    ``extra`` is a buddy-emotion extra (``"dlib"`` gives ``pip install 'buddy-emotion[dlib]'``). A plug-in
    passes ``extra=None`` and its own command, e.g. ``install="pip install onnxruntime"``.

    Raises:
        ArgumentTypeError, InvalidArgumentError: ``module`` is not a non-empty module name.
    """
    if not isinstance(module, str):
        raise ArgumentTypeError(f"module must be a module name, got {shown(module)}")
    if not module.strip():
        raise InvalidArgumentError("module must be a module name, got ''")
    try:
        return importlib.import_module(module)
    except ImportError as e:
        hint = install_hint(extra, install)
        raise MissingDependencyError(
            f"backend {shown(backend)} needs {module} ({type(e).__name__}: {e}); "
            + (f"install it with: {hint}" if hint else f"install the package that provides {module}")
        ) from None


def checked_crops(crops: Any) -> list[Any]:
    """``crops`` as a list of (unvalidated) images: a sequence of images or an (N, H, W[, C]) array."""
    if (crops is None or isinstance(crops, (str, bytes)) or not isinstance(crops, Iterable)
            or isinstance(crops, np.ndarray) and crops.ndim not in (3, 4)):
        raise InvalidFrameError(f"crops must be a sequence of face images (or an (N,H,W[,C]) array), got "
                                f"{type(crops).__name__}")
    return list(crops)


def checked_detector(name: str, detector: Any) -> Any:
    """``detector`` if it is None or has a callable ``detect``; else a TypeError naming ``name``."""
    if detector is not None and not callable(getattr(detector, "detect", None)):
        hint = ("; detectors are not chosen by name: pass an instance from buddy_emotion.face_detection, "
                "HaarFaceDetector() (OpenCV) or BlazeFaceDetector() (the default)") if isinstance(detector, str) else ""
        raise ArgumentTypeError(f"{name} must be a face detector (an object with a detect(gray) method) or None, "
                                f"got {shown(detector)}{hint}")
    return detector


class EmotionBackend(ABC):
    """Detects faces in a frame and scores their emotions.

    Subclasses set :attr:`name` and :attr:`labels`, implement :meth:`analyze` and, for local models,
    :meth:`classify_faces`, and override :meth:`viability` when they need something that may be absent.
    Frames follow :mod:`buddy_emotion.frames` (uint8 BGR, grey or BGRA). Backends are context managers;
    :meth:`close` frees what they hold.
    """

    name: ClassVar[str] = "abstract"
    labels: tuple[str, ...] = ()
    """The canonical labels this backend can output (a subset of :data:`buddy_emotion.EMOTIONS`)."""

    @classmethod
    def viability(cls, **options: Any) -> Viability:
        """Can this backend run here with these options? Cheap: imports nothing heavy, calls no service."""
        return Viability(True)

    @abstractmethod
    def analyze(self, frame: np.ndarray) -> list[FaceEmotion]:
        """Detect every face of a full frame and score its emotions (largest face first).

        Returns an empty list when there is no face. Raises InvalidFrameError for bad frames.
        """

    def classify_faces(self, crops: Sequence[np.ndarray]) -> list[FaceEmotion]:
        """Score images that are already face crops (one :class:`FaceEmotion` each, ``box`` None).

        Remote backends that only take full frames raise :class:`BackendError`.
        """
        raise BackendError(f"backend {self.name!r} cannot classify face crops; give it full frames with analyze()")

    def close(self) -> None:  # noqa: B027 - a no-op default for backends that hold nothing
        """Release models, sessions or connections. Idempotent."""

    def __enter__(self) -> EmotionBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
