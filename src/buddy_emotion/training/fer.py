"""Train the FER-2013 CNN that the ``keras`` backend (and the embedded default) runs.

Needs Keras 3 on any backend: TensorFlow (the ``keras`` extra) on a CPU machine, or JAX / PyTorch on a GPU
machine without TensorFlow (``KERAS_BACKEND=jax``; see ``scripts/train_gpu.sh``). Augmentation is a Keras
layer in ``keras.ops``, so it runs on the accelerator. Exporting (``export.py``) needs TensorFlow. Nothing
here is imported by inference code.

Conventions of the trained model:

* input ``(N, 48, 48, 1)`` float32, grey levels 0..255 (the model rescales itself);
* output ``(N, 7)`` softmax in FER-2013 order: angry, disgust, fear, happy, sad, surprise, neutral;
* faces are tightly cropped and registered as in FER-2013 (see ``buddy_emotion.face_detection``).

Run ``python -m buddy_emotion.training --help`` for the command line.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from buddy_emotion.errors import InvalidArgumentError, ModelFileError
from buddy_emotion.labels import FER2013_ORDER

# FER+ vote columns: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF
_FERPLUS_TO_FER = {4: 0, 5: 1, 6: 2, 1: 3, 3: 4, 2: 5, 0: 6}


@dataclass
class TrainConfig:
    """Everything that decides a training run (stored beside its checkpoints and in the model card)."""

    data: str = "../shared/data/fer2013/fer2013_dev.npz"
    out_dir: str = "runs/fer_cnn"
    epochs: int = 40
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    ferplus_weight: float = 0.0
    widths: tuple[int, ...] = (32, 64, 128, 192)
    stem_convs: int = 1  # convolutions at full 48x48 resolution before the first pooling
    dropout: float = 0.4
    optimizer: str = "adam"  # "adam", or "sgd" (Nesterov momentum 0.9)
    time_budget_s: float = 0.0  # > 0: the schedule spans this much wall time and training stops there
    teachers: tuple[str, ...] = ()  # trained .keras models whose averaged softmax the student learns too
    kd_weight: float = 0.0  # share of the distillation term in the loss (0: no distillation)
    kd_temperature: float = 2.0
    init_from: str = ""  # a .keras model of the same architecture to start from
    ema: float = 0.0  # > 0: per-epoch exponential average of the weights, evaluated and saved instead of them
    seed: int = 1234
    limit: int = 0  # train on the first N Training rows only (smoke runs)
    threads: int = 0  # 0: the framework's default
    extra: dict[str, Any] = field(default_factory=dict)


def load_split(path: str | os.PathLike[str], split: str) -> dict[str, np.ndarray]:
    """Return ``images`` (N,48,48) uint8, ``labels`` (N,) int and ``ferplus`` (N,10) of one split.

    Reads ``fer2013_dev.npz`` or its lossless compact copy written by :func:`compact` (WebP-coded faces), or
    FER-2013's own ``.csv`` as Kaggle hands it out (``fer2013.csv``; no FER+ votes there, so no ``ferplus``).
    """
    if Path(path).suffix.lower() == ".csv":
        from buddy_emotion.evaluation import load_labelled

        rows = load_labelled(path, split=split)  # ImageFileError, naming the line, for a corrupt row
        images = np.stack([rows.image(i) for i in range(len(rows))])
        if images.shape[1:] != (48, 48):
            raise InvalidArgumentError(f"{path}: FER-2013 faces are 48x48, these are {images.shape[1:]}")
        return {"images": images, "labels": np.array([FER2013_ORDER.index(c) for c in rows.labels], np.int64)}
    try:
        with np.load(path, allow_pickle=False) as d:
            keep = d["usage"] == split
            if "blob" in d.files:
                images = _decode_rows(d["blob"], d["offsets"], np.flatnonzero(keep))
            else:
                images = d["images"][keep]
            out = {"images": images, "labels": d["labels"][keep].astype(np.int64)}
            if "ferplus" in d.files:
                out["ferplus"] = d["ferplus"][keep].astype(np.float32)
    except (OSError, ValueError, KeyError, AttributeError) as e:  # missing, not an npz, or other arrays
        raise InvalidArgumentError(f"{path} is not a readable fer2013_dev.npz or compact copy: {e}") from None
    if len(out["labels"]) == 0:
        raise InvalidArgumentError(f"no rows with usage == {split!r} in {path}")
    return out


def _decode_rows(blob: np.ndarray, offsets: np.ndarray, rows: np.ndarray) -> np.ndarray:
    import cv2

    out = np.empty((len(rows), 48, 48), np.uint8)
    for i, r in enumerate(rows):
        img = cv2.imdecode(blob[offsets[r]:offsets[r + 1]], cv2.IMREAD_GRAYSCALE)
        if img is None or img.shape != (48, 48):
            raise ValueError(f"row {r} of the compact data file does not decode to a 48x48 face")
        out[i] = img
    return out


def compact(src: str | os.PathLike[str], dst: str | os.PathLike[str],
            splits: tuple[str, ...] = ("Training", "PublicTest")) -> dict[str, Any]:
    """Write a lossless, smaller copy of ``src`` (faces as WebP lossless), for carrying to a GPU machine.

    FER-2013 itself must never enter the repository: write ``dst`` to an ignored folder. Every face is
    decoded again and compared with the original before the file is written.
    """
    import cv2

    if not Path(src).is_file():
        raise InvalidArgumentError(f"{src}: no such file")
    with np.load(src, allow_pickle=False) as d:
        keep = np.isin(d["usage"], list(splits))
        images = d["images"][keep]
        arrays = {k: d[k][keep] for k in ("labels", "usage", "ferplus") if k in d.files}
    chunks = [np.asarray(cv2.imencode(".webp", img, [cv2.IMWRITE_WEBP_QUALITY, 101])[1], np.uint8).ravel()
              for img in images]
    offsets = np.zeros(len(chunks) + 1, np.int64)
    offsets[1:] = np.cumsum([len(c) for c in chunks])
    blob = np.concatenate(chunks)
    if not np.array_equal(_decode_rows(blob, offsets, np.arange(len(images))), images):
        raise RuntimeError("WebP round trip is not lossless here; not writing the compact file")
    np.savez_compressed(dst, blob=blob, offsets=offsets, **arrays)
    return {"rows": len(images), "bytes": Path(dst).stat().st_size, "splits": list(splits)}


def soft_targets(labels: np.ndarray, ferplus: np.ndarray | None, cfg: TrainConfig) -> np.ndarray:
    """Targets: one-hot FER labels smoothed, optionally mixed with the FER+ vote distribution."""
    n = len(labels)
    onehot = np.zeros((n, 7), np.float32)
    onehot[np.arange(n), labels] = 1.0
    eps = cfg.label_smoothing
    target = onehot * (1.0 - eps) + eps / 7.0
    if cfg.ferplus_weight > 0 and ferplus is not None:
        votes = np.zeros((n, 7), np.float32)
        for src, dst in _FERPLUS_TO_FER.items():
            votes[:, dst] = ferplus[:, src]
        total = votes.sum(axis=1, keepdims=True)
        has = total[:, 0] > 0
        dist = np.where(has[:, None], votes / np.maximum(total, 1.0), target)
        w = cfg.ferplus_weight
        target = (1.0 - w) * target + w * dist
    return target


def build_model(cfg: TrainConfig) -> Any:  # a keras.Model
    """A VGG-style CNN: conv-BN-ReLU pairs, max-pool between stages, global average pool."""
    import keras
    from keras import layers

    reg = keras.regularizers.l2(cfg.weight_decay) if cfg.weight_decay else None

    def conv(x, ch):
        x = layers.Conv2D(ch, 3, padding="same", use_bias=False, kernel_regularizer=reg)(x)
        x = layers.BatchNormalization()(x)
        return layers.ReLU()(x)

    inp = keras.Input((48, 48, 1), name="face")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inp)
    w = cfg.widths
    for _ in range(max(1, cfg.stem_convs)):
        x = conv(x, w[0])
    x = layers.MaxPooling2D()(x)  # 24x24
    for i, ch in enumerate(w[1:]):
        x = conv(x, ch)
        x = conv(x, ch)
        if i < len(w) - 2:
            x = layers.MaxPooling2D()(x)  # 12, 6
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(cfg.dropout)(x)
    out = layers.Dense(7, activation="softmax", kernel_regularizer=reg, name="emotion")(x)
    return keras.Model(inp, out, name="buddy_fer_cnn")


def _augment_layer(seed: int):
    """Batch augmentation as a Keras layer in ``keras.ops`` (any backend, on the accelerator when there is one).

    Per face: mirror (p=0.5), rotation within +-15 degrees, zoom 0.9-1.15x, shift within +-10% (one affine
    warp, reflected borders); contrast 0.7-1.3x and brightness +-30 grey levels; one 8-20 px square erased
    to a random grey on half of the faces. Inactive outside training.
    """
    import keras
    from keras import ops

    class FerAugment(keras.layers.Layer):
        def __init__(self, seed: int = 0, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, x, training=None):
            if not training:
                return x
            n = ops.shape(x)[0]

            def u(lo: float, hi: float, shape: tuple = ()):
                return keras.random.uniform((n, *shape), lo, hi, seed=self.seed_generator)

            flip = ops.where(u(0.0, 1.0) < 0.5, -1.0, 1.0)
            theta = u(-np.pi / 12, np.pi / 12)
            scale = u(0.9, 1.15)
            tx, ty = u(-4.8, 4.8), u(-4.8, 4.8)
            c = 23.5
            cos, sin = ops.cos(theta) / scale, ops.sin(theta) / scale
            a0, a1 = cos * flip, -sin  # output (x, y) -> input: rotate and scale about the centre, mirrored
            b0, b1 = sin * flip, cos
            zeros = ops.zeros_like(a0)
            transform = ops.stack([a0, a1, c + tx - a0 * c - a1 * c, b0, b1, c + ty - b0 * c - b1 * c,
                                   zeros, zeros], axis=1)
            x = ops.image.affine_transform(x, transform, interpolation="bilinear", fill_mode="reflect")
            contrast, bright = u(0.7, 1.3, (1, 1, 1)), u(-30.0, 30.0, (1, 1, 1))
            mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
            x = (x - mean) * contrast + mean + bright
            size = u(8.0, 20.0, (1, 1, 1))
            cy, cx = u(0.0, 48.0, (1, 1, 1)), u(0.0, 48.0, (1, 1, 1))
            on = ops.cast(u(0.0, 1.0, (1, 1, 1)) < 0.5, x.dtype)
            grid = ops.arange(48, dtype="float32")
            box = (ops.cast(ops.abs(ops.reshape(grid, (1, 48, 1, 1)) - cy) < size / 2, x.dtype)
                   * ops.cast(ops.abs(ops.reshape(grid, (1, 1, 48, 1)) - cx) < size / 2, x.dtype))
            fill = u(0.0, 255.0, (1, 1, 1))
            x = x * (1 - box * on) + fill * box * on
            return ops.clip(x, 0.0, 255.0)

    return FerAugment(seed, name="augment")


def _distillation_loss(weight: float, temperature: float):
    """Loss on ``concat([student_probs, teacher_probs])``: label cross-entropy plus tempered KL to the teacher."""
    from keras import ops

    t = float(temperature)

    def loss(y_true, y_pred):
        s, teacher = y_pred[:, :7], y_pred[:, 7:]
        s_log = ops.log(ops.clip(s, 1e-7, 1.0))
        ce = -ops.sum(y_true * s_log, axis=-1)
        s_t = ops.log_softmax(s_log / t, axis=-1)
        t_t = ops.softmax(ops.log(ops.clip(teacher, 1e-7, 1.0)) / t, axis=-1)
        kd = -ops.sum(t_t * s_t, axis=-1) * t * t
        return (1.0 - weight) * ce + weight * kd

    return loss


def learning_rate_at(progress: float, peak: float, warmup: float = 0.03) -> float:
    """Linear warm-up from 10% of ``peak`` over the first ``warmup`` of the run, then cosine to 1% of it."""
    p = min(max(progress, 0.0), 1.0)
    if p < warmup:
        return peak * (0.1 + 0.9 * p / warmup)
    return peak * (0.01 + 0.99 * 0.5 * (1.0 + float(np.cos(np.pi * (p - warmup) / (1.0 - warmup)))))


def evaluate_probs(model: Any, images: np.ndarray, tta: bool = True, batch: int = 512) -> np.ndarray:
    """Softmax of ``model`` on (N,48,48) uint8 faces, averaged with the mirrored face when ``tta``."""
    x = images.astype(np.float32)[..., None]
    p = model.predict(x, batch_size=batch, verbose=0)
    if tta:
        p = (p + model.predict(x[:, :, ::-1], batch_size=batch, verbose=0)) / 2.0
    return p


def _load_teachers(paths: tuple[str, ...]) -> list[Any]:  # keras.Model
    import keras

    from buddy_emotion.backends.keras import widen_to_float32

    teachers = []
    for i, path in enumerate(paths):
        try:
            t = widen_to_float32(keras, keras.models.load_model(path, compile=False))  # float16 files run in float32
        except (OSError, ValueError) as e:
            raise ModelFileError(f"--teachers {path}: not a loadable .keras model ({e})") from None
        if tuple(t.input_shape) != (None, 48, 48, 1) or tuple(t.output_shape) != (None, 7):
            raise ModelFileError(f"--teachers {path} maps {t.input_shape} to {t.output_shape}; "
                                 "a teacher maps (None, 48, 48, 1) faces to (None, 7) probabilities")
        t.trainable = False
        t.name = f"teacher_{i}"
        teachers.append(t)
    return teachers


def _hardware() -> str:
    """What the run trains on, for the model card: the accelerator's name, or the CPU count."""
    import keras

    try:
        if keras.backend.backend() == "jax":
            import jax

            dev = jax.devices()[0]
            if dev.platform != "cpu":
                return f"1 {dev.device_kind} ({dev.platform}, JAX)"
        elif keras.backend.backend() == "torch":
            import torch

            if torch.cuda.is_available():
                return f"1 {torch.cuda.get_device_name(0)} (PyTorch)"
        elif keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                return f"{len(gpus)} GPU (TensorFlow)"
    except Exception:  # noqa: BLE001  (a card detail: never fail a run over it)
        return f"{os.cpu_count()} CPU cores (accelerator unknown)"
    return f"{os.cpu_count()} x86 CPU cores (no GPU)"


#: options a resumed run may change: where the data (or its compact copy) and the run are, and the CPU threads
_FREE_ON_RESUME = ("data", "out_dir", "threads", "extra")


def _check_config(cfg: TrainConfig) -> None:
    """Refuse missing files and options that contradict each other, before anything is written."""
    if not Path(cfg.data).is_file():
        raise InvalidArgumentError(f"--data {cfg.data}: no such file")
    if Path(cfg.out_dir).exists() and not Path(cfg.out_dir).is_dir():
        raise InvalidArgumentError(f"--out-dir {cfg.out_dir} is a file, not a folder")
    if cfg.time_budget_s < 0 or (cfg.epochs < 1 and not cfg.time_budget_s):
        raise InvalidArgumentError(f"--epochs must be >= 1 (or --time-budget-s > 0), got {cfg.epochs} "
                                   f"and {cfg.time_budget_s}")
    if bool(cfg.teachers) != (cfg.kd_weight > 0):
        raise InvalidArgumentError("--teachers and --kd-weight go together: distillation needs a teacher "
                                   f"and a weight > 0, got {len(cfg.teachers)} teacher(s) and {cfg.kd_weight}")
    if not 0.0 <= cfg.kd_weight <= 1.0 or not 0.0 <= cfg.ema < 1.0:
        raise InvalidArgumentError(f"--kd-weight must be in [0, 1] and --ema in [0, 1), got {cfg.kd_weight} "
                                   f"and {cfg.ema}")
    for path in (*cfg.teachers, *([cfg.init_from] if cfg.init_from else [])):
        if not Path(path).is_file():
            raise ModelFileError(f"{path}: no such model file")


def _resume_epoch(out: Path, cfg: TrainConfig) -> int:
    """The epoch an interrupted run in ``out`` goes on at (0: nothing to resume).

    A backup cut short while being written falls back to the one before it (``double_checkpoint``); a
    damaged backup with nothing to fall back on, or options other than the interrupted run's, are refused.
    """
    backup = out / "backup"
    if not backup.is_dir():
        return 0
    import h5py

    weights, meta = backup / "latest.weights.h5", backup / "training_metadata.json"
    problem = ""
    for w, m in ((weights, meta), (Path(f"{weights}.bkp"), Path(f"{meta}.bkp"))):
        try:
            with h5py.File(w, "r"):
                pass
            epoch = int(json.loads(m.read_text())["epoch"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            problem = problem or f"{type(e).__name__}: {e}"
            continue
        if w != weights:  # the latest backup was cut short: go on from the one before
            shutil.copyfile(w, weights)
            shutil.copyfile(m, meta)
        break
    else:
        raise InvalidArgumentError(f"{backup} is damaged ({problem}); delete it to start the run over")
    saved_path = out / "config.json"
    saved = json.loads(saved_path.read_text()) if saved_path.is_file() else {}
    now = json.loads(json.dumps(asdict(cfg)))  # tuples as lists, as config.json has them
    changed = [f"--{k.replace('_', '-')} {saved[k]} (now {now[k]})" for k in now
               if k not in _FREE_ON_RESUME and k in saved and saved[k] != now[k]]
    if changed:
        raise InvalidArgumentError(f"{out} holds an interrupted run with other options: {', '.join(changed)}; "
                                   f"rerun it with its own options, or delete {backup} to start over")
    return epoch


_HISTORY_FIELDS = ["epoch", "loss", "learning_rate", "val_accuracy", "val_accuracy_flip", "val_accuracy_flip_raw",
                   "wall_s"]
"""Columns of a run's ``history.csv`` (one row per epoch)."""


def _set_threads(threads: int) -> None:
    """Import Keras with TensorFlow's thread pools set to ``threads`` (0: TensorFlow's choice)."""
    if threads:
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(threads))
    import keras

    if threads and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # TensorFlow already ran in this process: its thread pools are fixed now
            pass


def _kept_history(history: Path, start_epoch: int) -> list[dict[str, str]]:
    """The rows of ``history`` before ``start_epoch``, written back as the whole log (a resumed run goes on
    from the backup's epoch, and a fallback to an older backup may have dropped the last row's epoch)."""
    rows: list[dict[str, str]] = []
    if history.is_file():
        with history.open() as fh:
            rows = [r for r in csv.DictReader(fh) if int(r["epoch"]) < start_epoch]
    with history.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=_HISTORY_FIELDS)
        w.writeheader()
        w.writerows(rows)
    return rows


def _compiled_models(cfg: TrainConfig, start_epoch: int) -> tuple[Any, Any]:  # (student, what fit() trains)
    """The student (from ``init_from`` if given) and the compiled model that trains it: the student behind
    the augmentation layer, beside the teachers' averaged output when distilling."""
    import keras

    model = build_model(cfg)
    if cfg.init_from:
        try:
            start = keras.models.load_model(cfg.init_from, compile=False).get_weights()
        except (OSError, ValueError) as e:
            raise ModelFileError(f"--init-from {cfg.init_from}: not a loadable .keras model ({e})") from None
        try:
            model.set_weights([np.asarray(w, np.float32) for w in start])
        except ValueError as e:
            raise InvalidArgumentError(f"--init-from {cfg.init_from} does not match --widths {list(cfg.widths)} "
                                       f"--stem-convs {cfg.stem_convs}: {e}") from None
    inp = keras.Input((48, 48, 1), name="face")
    augmented = _augment_layer(cfg.seed + start_epoch)(inp)  # one augmentation, seen by the student and its teachers
    student = model(augmented)
    if cfg.teachers and cfg.kd_weight > 0:
        t_out = [t(augmented, training=False) for t in _load_teachers(tuple(cfg.teachers))]
        teacher = t_out[0] if len(t_out) == 1 else keras.layers.Average()(t_out)
        wrapper = keras.Model(inp, keras.layers.Concatenate()([student, teacher]))
        loss: Any = _distillation_loss(cfg.kd_weight, cfg.kd_temperature)
    else:
        wrapper = keras.Model(inp, student)
        loss = keras.losses.CategoricalCrossentropy()
    if cfg.optimizer == "sgd":
        opt = keras.optimizers.SGD(cfg.learning_rate, momentum=0.9, nesterov=True)
    elif cfg.optimizer == "adam":
        opt = keras.optimizers.Adam(cfg.learning_rate)
    else:
        raise InvalidArgumentError(f"optimizer must be 'adam' or 'sgd', got {cfg.optimizer!r}")
    wrapper.compile(optimizer=opt, loss=loss)
    return model, wrapper


def train(cfg: TrainConfig) -> Path:
    """Train (resuming from ``out_dir`` if a run was interrupted) and return the best model's path.

    The best epoch is chosen on PublicTest accuracy with flip test-time augmentation. The learning
    rate follows :func:`learning_rate_at` over ``epochs`` or, when ``time_budget_s`` is set, over wall
    time (a GPU run then stops when its budget is spent; the epochs it ran are in ``history.csv``).

    A resumed run goes on from the last backed-up epoch with its optimizer state, log, best accuracy,
    wall time and ``ema`` average; its shuffling and augmentation draw fresh streams (seeded with the
    seed plus that epoch), so it is reproducible but not identical to a run that was never interrupted.
    """
    _check_config(cfg)
    _set_threads(cfg.threads)
    import keras

    out = Path(cfg.out_dir)
    start_epoch = _resume_epoch(out, cfg)  # BackupAndRestore leaves its folder only when a run was cut short
    resuming = start_epoch > 0
    keras.utils.set_random_seed(cfg.seed + start_epoch)  # a resumed run does not replay epoch 0's draws
    tr = load_split(cfg.data, "Training")  # before anything is written: a bad file leaves no run behind
    va = load_split(cfg.data, "PublicTest")
    if cfg.ferplus_weight > 0 and "ferplus" not in tr:
        raise InvalidArgumentError(f"--ferplus-weight {cfg.ferplus_weight} needs FER+ votes, which {cfg.data} does "
                                   "not hold (Kaggle's fer2013.csv has none): use --ferplus-weight 0")
    out.mkdir(parents=True, exist_ok=True)
    best = out / "best.keras"
    history = out / "history.csv"
    wall_file = out / "wall_time_s.txt"
    ema_file = out / "backup" / "ema.npz"  # the --ema average, beside the backup it belongs to
    if not resuming and best.is_file() and history.is_file():
        with history.open() as fh:
            done = sum(1 for _ in fh) - 1
        if done >= cfg.epochs or cfg.time_budget_s:
            print(f"{out} already holds a finished run of {done} epochs; nothing to do")
            return best
    if not resuming:  # a fresh run: do not mix in an older run's log and time
        history.unlink(missing_ok=True)
        wall_file.unlink(missing_ok=True)
    rows = _kept_history(history, start_epoch) if resuming else []
    fields_ = _HISTORY_FIELDS
    wall_before = float(rows[-1]["wall_s"]) if rows else 0.0
    record = asdict(cfg)
    record["extra"] = {"keras_backend": keras.backend.backend(), "hardware": _hardware(), **cfg.extra}
    (out / "config.json").write_text(json.dumps(record, indent=2))

    if cfg.limit:
        tr = {k: v[: cfg.limit] for k, v in tr.items()}
    y_tr = soft_targets(tr["labels"], tr.get("ferplus"), cfg)
    x_tr = tr["images"].astype(np.float32)[..., None]

    model, wrapper = _compiled_models(cfg, start_epoch)
    model.summary(print_fn=lambda s, **_: print(s))
    x_va = va["images"].astype(np.float32)[..., None]

    def flip_accuracy() -> tuple[float, float]:
        p = model.predict(x_va, batch_size=1024, verbose=0)
        acc = float(np.mean(p.argmax(1) == va["labels"]))
        p = (p + model.predict(x_va[:, :, ::-1], batch_size=1024, verbose=0)) / 2.0
        return acc, float(np.mean(p.argmax(1) == va["labels"]))

    class Schedule(keras.callbacks.Callback):
        """Sets the learning rate each epoch, evaluates on PublicTest, keeps the best model and the log."""

        def __init__(self) -> None:
            super().__init__()
            self.best = -1.0
            self.t0 = time.time()
            self.epoch_s = 0.0
            self.lr = 0.0
            self.average: list[np.ndarray] | None = None  # the --ema weights
            self.average_epoch = -1  # the last epoch in them
            self.best = max((float(r["val_accuracy_flip"]) for r in rows), default=-1.0)
            if resuming and cfg.ema > 0 and ema_file.is_file():
                with np.load(ema_file) as d:
                    if int(d["epoch"]) < start_epoch:
                        self.average_epoch = int(d["epoch"])
                        self.average = [d[f"arr_{i}"] for i in range(len(d.files) - 1)]

        def _elapsed(self) -> float:
            return wall_before + time.time() - self.t0

        def on_train_begin(self, logs: Any = None) -> None:
            self.t0 = time.time()  # the budget counts from here: data loading and model building are not in it
            if resuming and int(rows[-1]["epoch"] if rows else -1) < start_epoch - 1:
                # cut short after the backup of an epoch but before its evaluation: evaluate it now
                self.start = self.t0
                self.lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
                self.on_epoch_end(start_epoch - 1)

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.start = time.time()
            if cfg.time_budget_s:
                progress = self._elapsed() / cfg.time_budget_s
            else:
                progress = epoch / max(1, cfg.epochs)
            self.lr = learning_rate_at(progress, cfg.learning_rate)
            self.model.optimizer.learning_rate = self.lr

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            raw_flip = ""
            if cfg.ema > 0:  # evaluate and keep the averaged weights; train on with the raw ones
                raw = model.get_weights()
                raw_flip = f"{flip_accuracy()[1]:.5f}"
                if self.average_epoch < epoch:  # not in the average yet (a resumed run may have it there)
                    self.average = raw if self.average is None else [
                        cfg.ema * a + (1.0 - cfg.ema) * w for a, w in zip(self.average, raw)]
                    self.average_epoch = epoch
                    partial = ema_file.with_name("ema.partial.npz")
                    np.savez(partial, *self.average, epoch=epoch)
                    os.replace(partial, ema_file)
                model.set_weights(self.average)
            try:
                acc, acc_flip = flip_accuracy()
                if acc_flip > self.best:
                    self.best = acc_flip
                    partial = best.with_name("best.partial.keras")  # a cut-short save never replaces the best
                    model.save(partial)
                    os.replace(partial, best)
            finally:
                if cfg.ema > 0:
                    model.set_weights(raw)
            new = not history.is_file()
            with history.open("a", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=fields_)
                if new:
                    w.writeheader()
                w.writerow({"epoch": epoch, "loss": f"{(logs or {}).get('loss', float('nan')):.5f}",
                            "learning_rate": f"{self.lr:.6g}", "val_accuracy": f"{acc:.5f}",
                            "val_accuracy_flip": f"{acc_flip:.5f}", "val_accuracy_flip_raw": raw_flip,
                            "wall_s": f"{self._elapsed():.1f}"})
            wall_file.write_text(f"{self._elapsed():.0f}\n")  # survives an interruption
            print(f"epoch {epoch}: loss {(logs or {}).get('loss', float('nan')):.4f} lr {self.lr:.2e} "
                  f"PublicTest {acc:.4f} / flip {acc_flip:.4f} (best {self.best:.4f}) {self._elapsed():.0f} s",
                  flush=True)
            self.epoch_s = time.time() - self.start
            if cfg.time_budget_s and self._elapsed() + 1.1 * self.epoch_s > cfg.time_budget_s:
                self.model.stop_training = True

    epochs = 100_000 if cfg.time_budget_s else cfg.epochs
    callbacks = [keras.callbacks.BackupAndRestore(str(out / "backup"), double_checkpoint=True), Schedule()]
    wrapper.fit(x_tr, y_tr, batch_size=cfg.batch_size, epochs=epochs, shuffle=True, callbacks=callbacks, verbose=0)
    return best  # BackupAndRestore deleted its folder when the run ended

