"""Backend ``dlib``: dlib's 68 facial landmarks and an expression classifier on their geometry.

Needs the ``dlib`` extra (``pip install 'buddy-emotion[dlib]'``: ``dlib-bin`` and ``face-recognition-models``,
which ships the landmark models). Full frames: dlib's HOG frontal face detector on a downscaled grey copy,
then 68 landmarks per face on the full-resolution frame, fitted in HOG's rectangle before it is clipped to
the frame (a face cut by the frame edge is fitted at its own scale; the reported box is clipped). Face
crops (:meth:`DlibBackend.classify_faces`): HOG detection fails on small, tight crops, so the crop is
upscaled to 192 px and the predictor runs on a fixed rectangle
(:data:`buddy_emotion.landmarks.REGISTERED_RECT`, the registered-crop convention).

Features (:func:`buddy_emotion.landmarks.expression_features`): landmark geometry normalised for position,
scale and in-plane rotation, plus a HOG descriptor of the landmark-aligned face. Classifier: a small MLP
stored as plain arrays (``models/dlib_expression.npz`` + ``.json`` card), run in pure numpy, averaged
with the mirror image. See ``docs/dlib.md``; note the licence of the 68-point model (iBUG 300-W,
non-commercial use only).

A landmark fit that fails the sanity check (:func:`buddy_emotion.landmarks.plausible`) is counted in
:attr:`DlibBackend.failures`. On a full frame such a detection is most likely no face and is not reported;
a crop the caller says is a face gets the training class prior as its scores.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from buddy_emotion import _check
from buddy_emotion import landmarks as L
from buddy_emotion.backends.base import EmotionBackend, Viability, checked_crops, require
from buddy_emotion.errors import (
    ArgumentTypeError,
    BackendUnavailableError,
    InvalidArgumentError,
    MissingDependencyError,
    ModelFileError,
)
from buddy_emotion.face_detection import downscaled
from buddy_emotion.frames import to_gray, validate_frame
from buddy_emotion.labels import FER2013_ORDER
from buddy_emotion.types import FaceBox, FaceEmotion

__all__ = ["DlibBackend", "bundled_model_path", "bundled_model_card", "load_model", "predict_proba"]

HINT = "pip install 'buddy-emotion[dlib]'"
CROP_SIZE = 192
"""Side to which face crops are upscaled before the landmark fit."""


def bundled_model_path() -> Path:
    """Path of the bundled classifier (``models/dlib_expression.npz``)."""
    return Path(str(resources.files("buddy_emotion") / "models" / "dlib_expression.npz"))


def bundled_model_card() -> dict[str, Any]:
    """The bundled classifier's card (features, training command, figures) as a dict."""
    path = bundled_model_path().with_suffix(".json")
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as e:
        raise ModelFileError(f"the dlib model card is missing or corrupt: {path} ({e})") from None


_FORWARD = ("mean", "scale", "w2", "b2")
"""Arrays the forward pass needs (plus ``w1``/``b1`` for a hidden layer)."""
_NEED = (*_FORWARD, "prior")


def load_model(path: str | Path) -> dict[str, np.ndarray]:
    """Load classifier arrays from an ``.npz`` (no pickles) and check their shapes.

    Raises:
        ModelFileError: missing, unreadable or inconsistent file.
        TypeError: ``path`` is not a path.
    """
    p = _check.as_path("path", path)
    if not p.is_file():
        raise ModelFileError(f"dlib classifier not found: {p}")
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k], dtype=np.float32) for k in z.files}
    except Exception as e:  # zipfile, zlib and numpy raise many types for a corrupt file
        raise ModelFileError(f"cannot read dlib classifier {p} ({type(e).__name__}: {e})") from None
    missing = [k for k in _NEED if k not in arrays] + (["b1"] if "w1" in arrays and "b1" not in arrays else [])
    if missing:
        raise ModelFileError(f"{p.name} lacks arrays {sorted(missing)}")
    n_feat = 136 + len(L.GEOMETRY_NAMES) + L.N_APPEARANCE
    shapes = {k: a.shape for k, a in arrays.items()}
    if "w1" in shapes:
        hidden = shapes["w1"][-1] if shapes["w1"] else -1
        ok = shapes["w1"] == (n_feat, hidden) and shapes["b1"] == (hidden,) and shapes["w2"] == (hidden, 7)
    else:
        ok = shapes["w2"] == (n_feat, 7)
    if not (ok and shapes["mean"] == shapes["scale"] == (n_feat,) and shapes["prior"] == shapes["b2"] == (7,)):
        raise ModelFileError(f"{p.name}: array shapes do not fit {n_feat} features and 7 classes")
    if not all(np.isfinite(a).all() for a in arrays.values()):
        raise ModelFileError(f"{p.name} holds NaN or infinite values")
    return arrays


def predict_proba(model: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Pure-numpy forward pass: (N, features) -> (N, 7) float64 probabilities in FER-2013 order.

    ``model`` is what :func:`load_model` returns, or the training's parameters (``prior`` is not used here).
    The arithmetic is float32 up to the logits, then float64. Training selects and scores with this function.

    Raises:
        ValueError: ``model`` lacks the classifier's arrays, or ``x`` is not (N, features) finite numbers.
    """
    if not isinstance(model, dict) or any(k not in model for k in _FORWARD) or ("w1" in model and "b1" not in model):
        raise InvalidArgumentError("model must be a dict of the classifier's arrays, as load_model() returns "
                                   f"(with {', '.join(_FORWARD)}, and b1 with w1)")
    try:
        x = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError):
        raise InvalidArgumentError("x must be an (N, features) array of numbers") from None
    d = np.shape(model["mean"])
    if x.ndim != 2 or x.shape[1:] != d or not np.isfinite(x).all():
        raise InvalidArgumentError(f"x must be an (N, {d[0] if d else '?'}) array of finite numbers, got "
                                   f"shape {x.shape}")
    z = (x - model["mean"]) / model["scale"]
    if "w1" in model:
        z = np.maximum(z @ model["w1"] + model["b1"], 0.0)
    z = z @ model["w2"] + model["b2"]
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z.astype(np.float64))
    return e / e.sum(axis=1, keepdims=True)


class DlibBackend(EmotionBackend):
    """dlib 68-landmark expression backend.

    Args:
        upsample: times dlib's HOG detector upsamples the (downscaled) frame, 0..3; 1 finds faces half as big
            at about four times the cost.
        detect_width: frames wider than this (pixels, 64..8192) are downscaled to it for detection (landmarks
            are still fitted on the full frame).
        model_path: a classifier ``.npz`` in the bundled format; None for the bundled one.
        predictor_path: dlib's ``shape_predictor_68_face_landmarks.dat``; None to take it from
            ``face-recognition-models``.
        mirror: also score the mirror-image features and average (as the bundled model was selected).
        min_score: the HOG detection score a face needs (dlib's own default, 0, keeps marginal detections;
            raise it, e.g. to 0.1, to drop the odd false face on textures, at the cost of some real faces).
    """

    name: ClassVar[str] = "dlib"
    labels: tuple[str, ...] = tuple(sorted(FER2013_ORDER))

    def __init__(self, *, upsample: int = 0, detect_width: int = 640, model_path: str | Path | None = None,
                 predictor_path: str | Path | None = None, mirror: bool = True, min_score: float = 0.0) -> None:
        # upsample beyond 3 makes dlib allocate gigabytes (std::bad_alloc) on ordinary frames
        self.upsample = _check.integer("upsample", upsample, 0, 3)
        self.detect_width = _check.integer("detect_width", detect_width, 64, 8192)
        self.min_score = _check.number("min_score", min_score, -2.0, 5.0)  # a HOG detection score
        if predictor_path is not None:
            predictor_path = _check.as_path("predictor_path", predictor_path)
        if model_path is not None:
            model_path = _check.as_path("model_path", model_path)
        self._dlib = require("dlib", "dlib", "dlib")
        self.mirror = _check.flag("mirror", mirror)
        if predictor_path is None:
            found = L.predictor_path(68)
            if found is None:
                raise MissingDependencyError(
                    "backend 'dlib' needs shape_predictor_68_face_landmarks.dat from face-recognition-models; "
                    f"install it with: {HINT}"
                )
            self.predictor_path = found
        else:
            self.predictor_path = Path(predictor_path)
            if not self.predictor_path.is_file():
                raise ModelFileError(f"landmark model not found: {self.predictor_path}")
        self.model_path = bundled_model_path() if model_path is None else Path(model_path)
        self._model = load_model(self.model_path)
        try:
            self._predictor = self._dlib.shape_predictor(str(self.predictor_path))
        except RuntimeError as e:
            raise ModelFileError(f"dlib cannot load {self.predictor_path.name}: {e}") from None
        parts = self._predictor(np.zeros((32, 32), np.uint8), self._dlib.rectangle(0, 0, 31, 31)).num_parts
        if parts != 68:
            raise ModelFileError(f"{self.predictor_path.name} fits {parts} points, 68 are needed")
        self._detector: Any = None
        self._lock = threading.Lock()
        self._closed = False
        self.failures = 0
        """Landmark fits that failed the sanity check (crops: given the class prior; full frames: dropped)."""
        self.faces_seen = 0
        """Faces analysed (crops and detected faces)."""

    @classmethod
    def viability(cls, model_path: str | Path | None = None, predictor_path: str | Path | None = None,
                  **_: Any) -> Viability:
        if importlib.util.find_spec("dlib") is None:
            return Viability(False, f"dlib is missing: {HINT}")
        if predictor_path is None:
            if importlib.util.find_spec("face_recognition_models") is None:
                return Viability(False, f"face-recognition-models (the landmark model) is missing: {HINT}")
            if L.predictor_path(68) is None:
                return Viability(False, f"shape_predictor_68_face_landmarks.dat not found; reinstall: {HINT}")
        try:
            if predictor_path is not None and not _check.as_path("predictor_path", predictor_path).is_file():
                return Viability(False, f"landmark model not found: {predictor_path}")
            path = bundled_model_path() if model_path is None else _check.as_path("model_path", model_path)
            if not path.is_file():
                return Viability(False, f"classifier not found: {path}")
        except (TypeError, ValueError, OSError) as e:  # not a path, a NUL in it, a name the OS refuses
            return Viability(False, str(e))
        return Viability(True, f"dlib HOG + 68 landmarks, classifier {path.name} (68-point model: non-commercial)")

    # -- pieces ---------------------------------------------------------------------------------
    @property
    def detector(self) -> Any:
        """dlib's HOG frontal face detector (created on first use)."""
        if self._detector is None:
            self._detector = self._dlib.get_frontal_face_detector()
        return self._detector

    def detect(self, gray: np.ndarray) -> list[FaceBox]:
        """HOG face boxes in pixels of ``gray``, clipped to the frame, largest first (on a copy downscaled to
        ``detect_width``)."""
        return [box for box, _ in self.detect_extents(gray)]

    def detect_extents(self, gray: np.ndarray) -> list[tuple[FaceBox, FaceBox]]:
        """``(box, extent)`` per face, in the order of :meth:`detect`: ``box`` clipped to the frame, as
        :meth:`detect` reports it; ``extent`` HOG's rectangle before clipping, which reaches past the frame
        edge where a face cut by it does (its left and top may be negative). Pixels of ``gray``."""
        gray = to_gray(validate_frame(gray, name="gray"))
        h, w = gray.shape[:2]
        small, scale = downscaled(gray, self.detect_width)
        with self._lock:
            rects, _, _ = self.detector.run(np.ascontiguousarray(small), self.upsample, self.min_score)
        found = []
        for r in rects:
            x0, y0 = r.left() / scale, r.top() / scale
            x1, y1 = (r.right() + 1) / scale, (r.bottom() + 1) / scale
            extent = FaceBox(round(x0), round(y0), max(1, round(x1 - x0)), max(1, round(y1 - y0)))
            box = extent.clip(w, h)
            if box is not None:
                found.append((box, extent))
        found.sort(key=lambda f: f[0].area, reverse=True)
        return found

    def landmarks(self, gray: np.ndarray, box: FaceBox) -> np.ndarray:
        """(68, 2) landmark pixels of the face in ``box`` of grey image ``gray`` (``box`` may reach past the
        image edge: dlib's predictor takes such rectangles)."""
        gray = to_gray(validate_frame(gray, name="gray"))
        if not isinstance(box, FaceBox):
            raise ArgumentTypeError(f"box must be a FaceBox, got {_check.shown(box)}")
        rect = self._dlib.rectangle(int(box.x), int(box.y), int(box.right - 1), int(box.bottom - 1))
        with self._lock:
            shape = self._predictor(np.ascontiguousarray(gray), rect)
        return L.shape_to_array(shape)

    def crop_landmarks(self, crop_gray: np.ndarray) -> np.ndarray:
        """(68, 2) landmark pixels of a registered face crop (fitted on a 192 px upscaled copy)."""
        import cv2

        crop_gray = to_gray(validate_frame(crop_gray, name="crop_gray"))
        h, w = crop_gray.shape[:2]
        up = cv2.resize(crop_gray, (CROP_SIZE, CROP_SIZE),
                        interpolation=cv2.INTER_CUBIC if max(h, w) < CROP_SIZE else cv2.INTER_AREA)
        rect = self._dlib.rectangle(*L.crop_rect(CROP_SIZE, CROP_SIZE))
        with self._lock:
            shape = self._predictor(up, rect)
        return L.shape_to_array(shape) * np.array([w / CROP_SIZE, h / CROP_SIZE])

    def _prior(self) -> np.ndarray:
        return self._model["prior"].astype(np.float64) / float(self._model["prior"].sum())

    def _scores(self, gray: np.ndarray, pts: np.ndarray, ok: bool) -> np.ndarray | None:
        """Class probabilities of one landmark fit, or None when the fit is not usable (counted in failures)."""
        self.faces_seen += 1
        if not ok:
            self.failures += 1
            return None
        x = [L.expression_features(gray, pts)]
        if self.mirror:
            x.append(L.expression_features(gray, pts, mirror=True))
        features = np.stack(x)
        if not np.isfinite(features).all():  # a degenerate fit: treated like an implausible one
            self.failures += 1
            return None
        return predict_proba(self._model, features).mean(axis=0)

    def _fit(self, gray: np.ndarray, rect: FaceBox) -> np.ndarray | None:
        """Class probabilities of the face in ``rect`` of a full frame (68 landmarks fitted in it, checked against
        it), or None when the fit fails the check (counted in failures). ``rect`` may reach past the frame."""
        pts = self.landmarks(gray, rect)
        side = max(rect.width, rect.height)
        return self._scores(gray, pts, L.plausible(pts - np.array([rect.x, rect.y]), side, side))

    def _emotion(self, p: np.ndarray, box: FaceBox | None) -> FaceEmotion:
        p = p / p.sum()
        return FaceEmotion(box=box, scores={lab: float(v) for lab, v in zip(FER2013_ORDER, p)}, backend=self.name)

    # -- EmotionBackend ----------------------------------------------------------------------------
    def classify_faces(self, crops: Sequence[np.ndarray]) -> list[FaceEmotion]:
        """Score registered face crops (FER-2013 style: eyebrows to chin; any size, grey/BGR/BGRA)."""
        self._check_open()
        faces = [to_gray(validate_frame(c, name=f"crop {i}")) for i, c in enumerate(checked_crops(crops))]
        out = []
        for g in faces:
            pts = self.crop_landmarks(g)
            h, w = g.shape[:2]
            ok = L.plausible(pts * np.array([CROP_SIZE / w, CROP_SIZE / h]), CROP_SIZE, CROP_SIZE)
            p = self._scores(g, pts, ok)
            out.append(self._emotion(self._prior() if p is None else p, None))  # one result per crop
        return out

    def _check_open(self) -> None:
        if self._closed:
            raise BackendUnavailableError("backend 'dlib' is closed")

    def analyze(self, frame: np.ndarray) -> list[FaceEmotion]:
        self._check_open()
        gray = to_gray(validate_frame(frame))
        out = []
        for box, extent in self.detect_extents(gray):
            p = self._fit(gray, extent)  # on HOG's whole rectangle: a face cut by the frame edge keeps its scale
            if p is not None:  # a fit that fails the check is most likely no face: not reported
                out.append(self._emotion(p, box))
        return out

    def close(self) -> None:
        """Release the detector; later calls raise :class:`BackendUnavailableError`."""
        self._closed = True
        self._detector = None
