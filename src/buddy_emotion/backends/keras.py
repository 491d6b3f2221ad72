"""Backend ``keras``: a CNN trained on FER-2013, run by LiteRT (default) or TensorFlow.

The bundled model (``buddy_emotion/models/fer_cnn.tflite`` and ``.keras``) is the library's embedded
default: offline, no keys, and on the LiteRT runtime TensorFlow is never imported. See
``docs/model-card.md`` for how it was trained and what it scores.

Input convention of the bundled model: 48x48 grey face crops, float32 grey levels 0..255, taken from a
detector box as :func:`buddy_emotion.face_detection.crop_face` describes; output softmax over the seven
FER-2013 classes. Your own model can use other sizes and colour orders: pass ``labels``, ``color`` and
``input_range``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from buddy_emotion import _check
from buddy_emotion._check import shown
from buddy_emotion._runtime import quiet_stderr as _quiet_stderr
from buddy_emotion.backends.base import EmotionBackend, Viability, checked_crops, checked_detector, require
from buddy_emotion.errors import (
    ArgumentTypeError,
    BackendUnavailableError,
    InvalidArgumentError,
    MissingDependencyError,
    ModelFileError,
)
from buddy_emotion.face_detection import FaceDetector, crop_face, default_face_detector, fer_crop_of
from buddy_emotion.frames import to_bgr, to_gray, validate_frame
from buddy_emotion.labels import FER2013_ORDER, normalize_label
from buddy_emotion.types import FaceBox, FaceEmotion

__all__ = ["KerasBackend", "bundled_model_path", "bundled_model_card", "TTA_VIEWS"]

TTA_VIEWS: dict[str, tuple[tuple[float, bool], ...]] = {
    "none": ((1.0, False),),
    "flip": ((1.0, False), (1.0, True)),
    "zoom+flip": ((1.08, False), (1.08, True)),
    "flip+zoom": ((1.0, False), (1.0, True), (1.08, False), (1.08, True)),
    "flip+2zoom": ((1.0, False), (1.0, True), (0.92, False), (0.92, True), (1.08, False), (1.08, True)),
}
"""Named test-time augmentation view sets, ``(zoom about the crop centre, mirror)`` per view; the
``tta`` argument of :class:`KerasBackend` takes these names. Each view is one more network pass."""

Runtime = Literal["litert", "tensorflow"]

_MAX_BATCH = 1024
"""Most rows (faces x test-time views) given to the model at once; larger batches run in pieces."""

_CUT_FACE = 0.1
"""Share of a face's area outside the frame (by the detector's whole-face estimate) from which the face is
cropped around that estimate; a face barely past the edge keeps the crop around its box. Set before
measuring; ``benchmarks/bench_edge.py`` measures the rule."""


def _checked_runtime(runtime: Any) -> Runtime:
    if not isinstance(runtime, str):
        raise ArgumentTypeError(f"runtime must be 'litert' or 'tensorflow', got {shown(runtime)}")
    if runtime not in ("litert", "tensorflow"):
        raise InvalidArgumentError(f"runtime must be 'litert' or 'tensorflow', got {shown(runtime)}")
    return runtime  # type: ignore[return-value]


def bundled_model_path(runtime: Runtime = "litert") -> Path:
    """Path of the bundled model file for ``runtime`` (``.tflite`` for LiteRT, ``.keras`` for TensorFlow)."""
    runtime = _checked_runtime(runtime)
    name = "fer_cnn.tflite" if runtime == "litert" else "fer_cnn.keras"
    return Path(str(resources.files("buddy_emotion") / "models" / name))


def bundled_model_card() -> dict[str, Any]:
    """The bundled model's card (training data, command, figures) as a dict."""
    path = Path(str(resources.files("buddy_emotion") / "models" / "fer_cnn.json"))
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as e:
        raise ModelFileError(f"the bundled model card is missing or corrupt: {path} ({e})") from None


def _softmax_if_needed(p: np.ndarray) -> np.ndarray:
    p = p.astype(np.float64, copy=False)
    if np.all(p >= 0) and np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        return p / p.sum(axis=1, keepdims=True)
    e = np.exp(p - p.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cast_model(keras: Any, model: Any, dtype: str) -> Any:
    """A copy of ``model`` whose layers hold and compute in ``dtype`` ("float32" or "float16")."""

    def recast(layer: Any) -> Any:
        config = layer.get_config()
        config["dtype"] = dtype
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=recast)
    copy.set_weights([np.asarray(w).astype(dtype) for w in model.get_weights()])
    return copy


def widen_to_float32(keras: Any, model: Any) -> Any:
    """``model`` itself if all its weights are float32, else a float32 copy (compute in float32).

    The bundled ``.keras`` stores float16 weights (half the bytes). Run as stored, TensorFlow's CPU
    graph mode gives wrong outputs for some batches of such a model, so it is widened on load.
    """
    if all(str(w.dtype) == "float32" for w in model.weights):
        return model
    return cast_model(keras, model, "float32")


def _closed_run(x: np.ndarray) -> np.ndarray:
    raise BackendUnavailableError("backend 'keras' is closed")


class KerasBackend(EmotionBackend):
    """FER-2013 CNN backend.

    Args:
        model_path: a ``.tflite`` (LiteRT or TensorFlow runtime) or ``.keras``/``.h5`` (TensorFlow runtime)
            file; None for the bundled model.
        runtime: ``"litert"`` (default: ``ai-edge-litert``, light, no TensorFlow) or ``"tensorflow"``
            (needs ``pip install 'buddy-emotion[keras]'``).
        labels: the model's output classes in order, any common naming (default FER-2013's order).
        color: the channel order of a model that takes 3 channels, ``"bgr"`` or ``"rgb"``: such a model gets
            colour crops cut from the frame (a grey frame is replicated into 3 channels); a 1-channel model
            gets grey crops.
        input_range: grey levels 0..255 are mapped linearly onto this range ``(lo, hi)``, two finite numbers
            with ``lo < hi`` (float models).
        detector: face detector for full frames (default: :func:`~buddy_emotion.face_detection.default_face_detector`,
            BlazeFace).
        track: video mode for the default detector: frames are taken as one stream and the next face is
            first searched around the last one (:class:`~buddy_emotion.face_detection.BlazeFaceDetector`).
        tta: test-time augmentation: classify several views of each face and average. ``False``: the face
            alone; ``True``: the face and its mirror image; a name from :data:`TTA_VIEWS` (``"flip+zoom"``:
            four views); or a sequence of ``(zoom, mirror)`` views, zoom being a scale about the crop
            centre (``(1.08, False)`` magnifies by 8%). Default: the views the
            bundled model card names, none for your own model. Each view costs one more network pass.
        class_bias: a decision prior, in nats per label, added to the log of the averaged probabilities
            before they are renormalised: ``{"sadness": 0.1}`` multiplies the odds of sadness against
            every other class by e**0.1 = 1.105. It moves which label wins, never how faces rank by
            one label's score. Default: the ``class_bias`` of the bundled model card, none for your own
            model; ``{}`` gives the network's raw averaged probabilities.
        num_threads: CPU threads for LiteRT (0..256; 0 counts as 1).
        crop_scale, crop_shift: the crop convention (see :mod:`buddy_emotion.face_detection`); default: the
            detector's own ``fer_crop``.
    """

    name: ClassVar[str] = "keras"

    def __init__(self, model_path: str | Path | None = None, *, runtime: Runtime = "litert",
                 labels: Sequence[str] | None = None, color: Literal["bgr", "rgb"] = "bgr",
                 input_range: tuple[float, float] = (0.0, 255.0), detector: FaceDetector | None = None,
                 tta: bool | str | Sequence[tuple[float, bool]] | None = None, num_threads: int = 1,
                 crop_scale: float | None = None, crop_shift: float | None = None, track: bool = False,
                 class_bias: Mapping[str, float] | None = None) -> None:
        runtime = _checked_runtime(runtime)
        if not isinstance(color, str):
            raise ArgumentTypeError(f"color must be 'bgr' or 'rgb', got {shown(color)}")
        if color not in ("bgr", "rgb"):
            raise InvalidArgumentError(f"color must be 'bgr' or 'rgb', got {shown(color)}")
        self.runtime: Runtime = runtime
        bundled = model_path is None
        self.model_path = bundled_model_path(runtime) if bundled else _check.as_path("model_path", model_path)
        if not self.model_path.is_file():
            where = "the bundled model" if bundled else "model file"
            raise ModelFileError(f"{where} not found: {self.model_path}")
        if labels is not None and (isinstance(labels, str) or not isinstance(labels, Sequence)):
            raise ArgumentTypeError(f"labels must be a sequence of label names or None, got {shown(labels)}")
        names = FER2013_ORDER if labels is None else tuple(normalize_label(x) for x in labels)
        if len(set(names)) != len(names):
            raise InvalidArgumentError(f"labels must be distinct, got {names}")
        self._out_labels = names
        self.labels = tuple(sorted(set(names)))
        self.color = color
        self.input_range = self._parse_range(input_range)
        self.views = self._parse_views(tta, bundled)
        self.class_bias = self._parse_bias(class_bias, bundled, names)
        # odds multipliers per output, or None: computed once, applied to every batch
        self._prior = (np.exp([self.class_bias.get(n, 0.0) for n in names]) if any(self.class_bias.values())
                       else None)
        self.tta = len(self.views) > 1
        # crop_scale: a multiple of the box side; crop_shift: a fraction of it
        self._crop = (_check.optional_number("crop_scale", crop_scale, 0.2, 5.0),
                      _check.optional_number("crop_shift", crop_shift, -1.0, 1.0))
        threads = _check.integer("num_threads", num_threads, 0, 256)
        self.track = _check.flag("track", track)
        if self.track and detector is not None:
            raise InvalidArgumentError("track applies to the default detector; pass "
                                       "BlazeFaceDetector(track=True) instead")
        self._detector = checked_detector("detector", detector)
        self._lock = threading.Lock()
        self._closed = False
        self._run: Callable[[np.ndarray], np.ndarray]
        if runtime == "litert":
            self._load_litert(threads)
        else:
            self._load_tensorflow()
        if self._n_out != len(names):
            raise ModelFileError(
                f"{self.model_path.name} outputs {self._n_out} classes but {len(names)} labels were given"
            )

    # -- loading -----------------------------------------------------------------------------
    @classmethod
    def viability(cls, runtime: str = "litert", model_path: str | Path | None = None, **_: Any) -> Viability:
        if not isinstance(runtime, str) or runtime not in ("litert", "tensorflow"):
            return Viability(False, f"runtime must be 'litert' or 'tensorflow', got {shown(runtime)}")
        if runtime == "tensorflow" and importlib.util.find_spec("tensorflow") is None:
            return Viability(False, "runtime 'tensorflow' needs TensorFlow: pip install 'buddy-emotion[keras]'")
        if runtime == "litert" and importlib.util.find_spec("ai_edge_litert") is None:
            return Viability(False, "LiteRT is missing (a core dependency): pip install ai-edge-litert")
        if model_path is not None and not isinstance(model_path, (str, os.PathLike)):
            return Viability(False, f"model_path must be a file path, got {shown(model_path)}")
        path = bundled_model_path(runtime) if model_path is None else Path(model_path)  # type: ignore[arg-type]
        if not path.is_file():
            return Viability(False, f"model file not found: {path}")
        return Viability(True, f"{runtime} runtime, model {path.name}")

    def _load_litert(self, num_threads: int) -> None:
        if self.model_path.suffix.lower() != ".tflite":
            raise ModelFileError(
                f"the litert runtime needs a .tflite model, got {self.model_path.name}; "
                "use runtime='tensorflow' or export it to .tflite"
            )
        try:
            interpreter_mod = importlib.import_module("ai_edge_litert.interpreter")
        except ImportError:  # a core dependency: only a broken install lacks it
            raise MissingDependencyError(
                f"backend {self.name!r} with runtime='litert' needs LiteRT, a core dependency: "
                "pip install ai-edge-litert (or reinstall buddy-emotion)"
            ) from None
        try:
            with _quiet_stderr():  # LiteRT prints an INFO line about XNNPACK to fd 2
                it = interpreter_mod.Interpreter(model_path=str(self.model_path), num_threads=max(1, num_threads))
                it.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise ModelFileError(f"LiteRT cannot load {self.model_path.name}: {e}") from None
        inp, out = it.get_input_details()[0], it.get_output_details()[0]
        self._set_input_shape(tuple(int(v) for v in inp["shape"]))
        self._in_dtype = np.dtype(inp["dtype"])
        self._in_quant = inp.get("quantization", (0.0, 0))
        self._out_quant = out.get("quantization", (0.0, 0))
        self._n_out = int(out["shape"][-1])
        self._batch = int(inp["shape"][0])

        def run(x: np.ndarray) -> np.ndarray:
            if x.shape[0] != self._batch:
                it.resize_tensor_input(inp["index"], [x.shape[0], *x.shape[1:]])
                it.allocate_tensors()
                self._batch = x.shape[0]
            scale, zero = self._in_quant
            if self._in_dtype != np.float32:
                x = np.clip(np.round(x / scale + zero), np.iinfo(self._in_dtype).min, np.iinfo(self._in_dtype).max)
            it.set_tensor(inp["index"], x.astype(self._in_dtype, copy=False))
            it.invoke()
            y = it.get_tensor(out["index"])
            if y.dtype != np.float32:
                oscale, ozero = self._out_quant
                y = (y.astype(np.float32) - ozero) * oscale
            return np.array(y, dtype=np.float32)

        self._run = run

    def _load_tensorflow(self) -> None:
        tf = require("tensorflow", "keras", "keras")
        suffix = self.model_path.suffix.lower()
        if suffix == ".tflite":
            try:
                it = tf.lite.Interpreter(model_path=str(self.model_path))
                it.allocate_tensors()
            except (ValueError, RuntimeError) as e:
                raise ModelFileError(f"TensorFlow Lite cannot load {self.model_path.name}: {e}") from None
            self._in_dtype = np.dtype(np.float32)
            inp, out = it.get_input_details()[0], it.get_output_details()[0]
            self._set_input_shape(tuple(int(v) for v in inp["shape"]))
            self._n_out = int(out["shape"][-1])

            def run_lite(x: np.ndarray) -> np.ndarray:
                it.resize_tensor_input(inp["index"], list(x.shape))
                it.allocate_tensors()
                it.set_tensor(inp["index"], x.astype(np.float32))
                it.invoke()
                return np.array(it.get_tensor(out["index"]), dtype=np.float32)

            self._run = run_lite
            return
        keras = require("keras", "keras", "keras")
        try:
            model = keras.models.load_model(str(self.model_path), compile=False)
        except Exception as e:  # keras raises many types for a bad file
            raise ModelFileError(f"Keras cannot load {self.model_path.name}: {e}") from None
        model = widen_to_float32(keras, model)
        self._set_input_shape((1, *(int(v) for v in model.input_shape[1:])))
        self._n_out = int(model.output_shape[-1])
        self._in_dtype = np.dtype(np.float32)
        fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        self._run = lambda x: np.asarray(fn(tf.constant(x, dtype=tf.float32)), dtype=np.float32)

    def _set_input_shape(self, shape: tuple[int, ...]) -> None:
        if len(shape) != 4 or shape[3] not in (1, 3):
            raise ModelFileError(f"{self.model_path.name} must take (N, H, W, 1 or 3) images, takes {shape}")
        self.input_size = (shape[2], shape[1])  # (width, height)
        self._channels = shape[3]

    # -- inference ----------------------------------------------------------------------------
    @property
    def detector(self) -> FaceDetector:
        """The face detector used by :meth:`analyze` (created on first use; after :meth:`close`,
        :class:`BackendUnavailableError`: a closed backend does not load a new one)."""
        if self._detector is None:
            if self._closed:
                raise BackendUnavailableError(f"backend {self.name!r} is closed")
            self._detector = default_face_detector(track=self.track)
        return self._detector

    @property
    def crop_scale(self) -> float:
        """Crop side relative to the detector box side (see :func:`~buddy_emotion.face_detection.crop_face`)."""
        return fer_crop_of(self.detector)[0] if self._crop[0] is None else float(self._crop[0])

    @property
    def crop_shift(self) -> float:
        """Downward shift of the crop centre, as a fraction of the box side."""
        return fer_crop_of(self.detector)[1] if self._crop[1] is None else float(self._crop[1])

    def _face_pixels(self, image: np.ndarray) -> np.ndarray:
        """A validated uint8 image as the model's channels: grey (H, W), or BGR/RGB (H, W, 3) in ``color``."""
        if self._channels == 1:
            return to_gray(image)
        bgr = to_bgr(image)
        return np.ascontiguousarray(bgr[:, :, ::-1]) if self.color == "rgb" else bgr

    def _prepare(self, face: np.ndarray) -> np.ndarray:
        import cv2

        w, h = self.input_size
        if face.shape[:2] != (h, w):
            interp = cv2.INTER_AREA if face.shape[0] > h else cv2.INTER_LINEAR
            face = cv2.resize(face, (w, h), interpolation=interp)
        x = face.astype(np.float32)
        lo, hi = self.input_range
        if (lo, hi) != (0.0, 255.0):
            x = x * ((hi - lo) / 255.0) + lo
        return x if x.ndim == 3 else x[:, :, None]

    @staticmethod
    def _parse_range(value: Any) -> tuple[float, float]:
        """``input_range`` as two finite floats ``lo < hi``."""
        try:
            lo, hi = value
        except (TypeError, ValueError) as e:  # not iterable: a wrong type; not two items: a wrong value
            error = ArgumentTypeError if isinstance(e, TypeError) else InvalidArgumentError
            raise error(f"input_range must be two numbers (lo, hi), got {shown(value)}") from None
        lo, hi = _check.number("input_range[0]", lo), _check.number("input_range[1]", hi)
        if not lo < hi:
            raise InvalidArgumentError(f"input_range must have lo < hi, got {shown(value)}")
        return lo, hi

    @staticmethod
    def _parse_views(tta: Any, bundled: bool) -> tuple[tuple[float, bool], ...]:
        if tta is None:
            if not bundled:
                return TTA_VIEWS["none"]
            card = bundled_model_card()
            views = card.get("tta_views")
            if views is None:
                return TTA_VIEWS["flip"] if card.get("tta", True) else TTA_VIEWS["none"]
            tta = views
        if tta is True or tta is False:
            return TTA_VIEWS["flip" if tta else "none"]
        if isinstance(tta, str):
            if tta not in TTA_VIEWS:
                raise InvalidArgumentError(f"tta must be one of {', '.join(TTA_VIEWS)} by name, got {shown(tta)}")
            return TTA_VIEWS[tta]
        try:
            views = tuple((float(z), bool(m)) for z, m in tta)
        except (TypeError, ValueError) as e:  # not iterable: a wrong type; not pairs: a wrong value
            error = ArgumentTypeError if isinstance(e, TypeError) else InvalidArgumentError
            raise error(f"tta must be True, False or a sequence of (zoom, mirror) pairs, got {shown(tta)}") from None
        if not views or any(not 0.5 <= z <= 2.0 for z, _ in views):
            raise InvalidArgumentError(f"tta views need a zoom within 0.5..2, got {shown(tta)}")
        return views

    @staticmethod
    def _parse_bias(bias: Mapping[str, float] | None, bundled: bool, names: tuple[str, ...]) -> dict[str, float]:
        if bias is None:
            bias = bundled_model_card().get("class_bias", {}) if bundled else {}
        if not isinstance(bias, Mapping):
            raise ArgumentTypeError(f"class_bias must be a mapping label -> nats, got {shown(bias)}")
        out: dict[str, float] = {}
        for label, value in bias.items():
            name = normalize_label(label)
            if name not in names:
                raise InvalidArgumentError(f"class_bias names {label!r}, which is not among the model's labels {names}")
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise InvalidArgumentError(
                    f"class_bias[{label!r}] must be a number of nats, got {shown(value)}") from None
            if not -5.0 <= v <= 5.0:  # also rejects nan
                raise InvalidArgumentError(f"class_bias[{label!r}] must be within -5..5 nats, got {shown(value)}")
            out[name] = v
        return out

    def _view(self, x: np.ndarray, zoom: float, mirror: bool) -> np.ndarray:
        if zoom != 1.0:
            import cv2

            h, w = x.shape[:2]
            m = cv2.getRotationMatrix2D((w / 2.0 - 0.5, h / 2.0 - 0.5), 0.0, zoom)
            x = cv2.warpAffine(x, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            if x.ndim == 2:
                x = x[:, :, None]
        return x[:, ::-1] if mirror else x

    def _predict(self, faces: list[np.ndarray]) -> np.ndarray:
        batch = np.stack([self._view(self._prepare(f), z, m) for z, m in self.views for f in faces])
        with self._lock:  # in pieces: LiteRT's XNNPack fails to reshape for tens of thousands of rows
            probs = np.concatenate([self._run(batch[i:i + _MAX_BATCH]) for i in range(0, len(batch), _MAX_BATCH)])
        probs = _softmax_if_needed(probs).reshape(len(self.views), len(faces), -1).mean(axis=0)
        if self._prior is not None:
            probs = probs * self._prior
            probs /= probs.sum(axis=1, keepdims=True)
        return probs

    def _to_emotions(self, probs: np.ndarray, boxes: Sequence[Any]) -> list[FaceEmotion]:
        out = []
        for p, box in zip(probs, boxes):
            scores = {label: float(v) for label, v in zip(self._out_labels, p)}
            out.append(FaceEmotion(box=box, scores=scores, backend=self.name))
        return out

    def classify_faces(self, crops: Sequence[np.ndarray]) -> list[FaceEmotion]:
        """Score face crops (each any size, uint8 grey/BGR/BGRA; resized to the model's input)."""
        self._check_open()
        faces = [self._face_pixels(validate_frame(c, name=f"crop {i}")) for i, c in enumerate(checked_crops(crops))]
        if not faces:
            return []
        return self._to_emotions(self._predict(faces), [None] * len(faces))

    def _check_open(self) -> None:
        if self._closed:
            raise BackendUnavailableError(f"backend {self.name!r} is closed")

    def analyze(self, frame: np.ndarray) -> list[FaceEmotion]:
        self._check_open()
        image = validate_frame(frame)
        gray = to_gray(image)
        found = self._detect(gray)
        if not found:
            return []
        pixels = gray if self._channels == 1 else self._face_pixels(image)
        faces = [self._face_crop(pixels, box, extent) for box, extent in found]
        return self._to_emotions(self._predict(faces), [box for box, _ in found])

    def _detect(self, gray: np.ndarray) -> list[tuple[FaceBox, FaceBox]]:
        """``(box, extent)`` per face: the box the detector reports (clipped to the frame) and its estimate
        of the whole face, which reaches past the frame edge where the face does. A detector without
        ``detect_extents`` gives its box as the extent."""
        detector = self.detector
        extents = getattr(detector, "detect_extents", None)
        if not callable(extents):
            return [(box, box) for box in detector.detect(gray)]
        pairs = list(extents(gray))
        for pair in pairs:
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(b, FaceBox) for b in pair)):
                raise ArgumentTypeError(f"{type(detector).__name__}.detect_extents must give (FaceBox, FaceBox) "
                                        f"pairs, got {shown(pair)}")
        return pairs

    def _face_crop(self, pixels: np.ndarray, box: FaceBox, extent: FaceBox) -> np.ndarray:
        """The FER-2013 crop of one face. Around ``box``; but when at least :data:`_CUT_FACE` of the face's
        ``extent`` lies outside the frame, around the extent, its missing part filled with the mean level of
        the rest (``pad="mean"``), so that the face keeps the scale and centre it has when seen whole. Back
        to ``box`` when the extent's crop would miss the frame (a sliver of a face, a ``crop_scale`` well
        below 1)."""
        size, scale, shift = self.input_size[0], self.crop_scale, self.crop_shift
        if box.area <= (1.0 - _CUT_FACE) * extent.area:
            try:
                return crop_face(pixels, extent, size=size, scale=scale, shift=shift, pad="mean")
            except InvalidArgumentError:
                pass
        return crop_face(pixels, box, size=size, scale=scale, shift=shift)

    def close(self) -> None:
        """Release the model and the face detector; later calls raise :class:`BackendUnavailableError`."""
        self._closed = True
        self._run = _closed_run
        self._detector = None

