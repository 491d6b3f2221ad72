"""Train the FER-2013 CNN that the ``keras`` backend (and the embedded default) runs.

Needs the ``keras`` extra (TensorFlow). Nothing here is imported by inference code.

Conventions of the trained model:

* input ``(N, 48, 48, 1)`` float32, grey levels 0..255 (the model rescales itself);
* output ``(N, 7)`` softmax in FER-2013 order: angry, disgust, fear, happy, sad, surprise, neutral;
* faces are tightly cropped and registered as in FER-2013 (see ``buddy_emotion.face_detection``).

Run ``python -m buddy_emotion.training --help`` for the command line.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
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
    dropout: float = 0.4
    seed: int = 1234
    limit: int = 0  # train on the first N Training rows only (smoke runs)
    threads: int = 0  # 0: TensorFlow's default
    extra: dict[str, Any] = field(default_factory=dict)


def load_split(path: str | os.PathLike[str], split: str) -> dict[str, np.ndarray]:
    """Return ``images`` (N,48,48) uint8, ``labels`` (N,) int and ``ferplus`` (N,10) of one split."""
    with np.load(path, allow_pickle=False) as d:
        keep = d["usage"] == split
        out = {"images": d["images"][keep], "labels": d["labels"][keep].astype(np.int64)}
        if "ferplus" in d.files:
            out["ferplus"] = d["ferplus"][keep].astype(np.float32)
    if len(out["labels"]) == 0:
        raise ValueError(f"no rows with usage == {split!r} in {path}")
    return out


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


def build_model(cfg: TrainConfig):  # -> keras.Model
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


def _augment_fn(seed: int):
    """Batch augmentation in TensorFlow ops: flip, affine jitter, brightness/contrast, erasing."""
    import tensorflow as tf
    from keras import layers

    aug = [
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomRotation(0.04, fill_mode="reflect", seed=seed + 1),  # +-15 degrees
        layers.RandomZoom((-0.15, 0.1), fill_mode="reflect", seed=seed + 2),
        layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=seed + 3),
    ]
    gen = tf.random.Generator.from_seed(seed + 4)

    def apply(x, y):
        for layer in aug:
            x = layer(x, training=True)
        n = tf.shape(x)[0]
        # brightness / contrast on the 0..255 scale
        c = gen.uniform((n, 1, 1, 1), 0.7, 1.3)
        b = gen.uniform((n, 1, 1, 1), -30.0, 30.0)
        mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
        x = (x - mean) * c + mean + b
        # random erasing: one 8..20 px square on half of the images
        size = gen.uniform((n, 1, 1, 1), 8.0, 20.0)
        cy = gen.uniform((n, 1, 1, 1), 0.0, 48.0)
        cx = gen.uniform((n, 1, 1, 1), 0.0, 48.0)
        on = tf.cast(gen.uniform((n, 1, 1, 1)) < 0.5, tf.float32)
        yy = tf.reshape(tf.range(48, dtype=tf.float32), (1, 48, 1, 1))
        xx = tf.reshape(tf.range(48, dtype=tf.float32), (1, 1, 48, 1))
        box = tf.cast(tf.abs(yy - cy) < size / 2, tf.float32) * tf.cast(tf.abs(xx - cx) < size / 2, tf.float32)
        fill = gen.uniform((n, 1, 1, 1), 0.0, 255.0)
        x = x * (1 - box * on) + fill * box * on
        return tf.clip_by_value(x, 0.0, 255.0), y

    return apply


def evaluate_probs(model, images: np.ndarray, tta: bool = True, batch: int = 512) -> np.ndarray:
    """Softmax of ``model`` on (N,48,48) uint8 faces, averaged with the mirrored face when ``tta``."""
    x = images.astype(np.float32)[..., None]
    p = model.predict(x, batch_size=batch, verbose=0)
    if tta:
        p = (p + model.predict(x[:, :, ::-1], batch_size=batch, verbose=0)) / 2.0
    return p


def train(cfg: TrainConfig) -> Path:
    """Train (resuming from ``out_dir`` if a run was interrupted) and return the best model's path."""
    if cfg.threads:
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(cfg.threads))
    import keras
    import tensorflow as tf

    if cfg.threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(cfg.threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # TensorFlow already ran in this process: its thread pools are fixed now
            pass
    keras.utils.set_random_seed(cfg.seed)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    best = out / "best.keras"
    history = out / "history.csv"
    wall_file = out / "wall_time_s.txt"
    resuming = (out / "backup").is_dir()  # BackupAndRestore leaves it only when a run was cut short
    if not resuming and best.is_file() and history.is_file():
        with history.open() as fh:
            done = sum(1 for _ in fh) - 1
        if done >= cfg.epochs:
            print(f"{out} already holds a finished run of {done} epochs; nothing to do")
            return best
    if not resuming:  # a fresh run: do not mix in an older run's log and time
        history.unlink(missing_ok=True)
        wall_file.unlink(missing_ok=True)
    wall_before = float(wall_file.read_text().strip()) if resuming and wall_file.is_file() else 0.0
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))

    tr = load_split(cfg.data, "Training")
    va = load_split(cfg.data, "PublicTest")
    if cfg.limit:
        tr = {k: v[: cfg.limit] for k, v in tr.items()}
    y_tr = soft_targets(tr["labels"], tr.get("ferplus"), cfg)
    y_va = np.eye(7, dtype=np.float32)[va["labels"]]

    ds = (
        tf.data.Dataset.from_tensor_slices((tr["images"].astype(np.float32)[..., None], y_tr))
        .shuffle(len(y_tr), seed=cfg.seed, reshuffle_each_iteration=True)
        .batch(cfg.batch_size, drop_remainder=True)
        .map(_augment_fn(cfg.seed), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    val = (va["images"].astype(np.float32)[..., None], y_va)

    steps = (len(y_tr) // cfg.batch_size) * cfg.epochs
    warm = min(len(y_tr) // cfg.batch_size, steps // 10)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, max(1, steps - warm), alpha=0.01, warmup_target=cfg.learning_rate, warmup_steps=warm
    )
    model = build_model(cfg)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    model.summary(print_fn=lambda s, **_: print(s))
    t0 = time.time()

    def log_wall_time(epoch: int, logs: Any = None) -> None:  # survives an interruption, unlike a final write
        wall_file.write_text(f"{wall_before + time.time() - t0:.0f}\n")

    callbacks = [
        keras.callbacks.BackupAndRestore(str(out / "backup")),
        keras.callbacks.ModelCheckpoint(str(best), monitor="val_accuracy", save_best_only=True, mode="max"),
        keras.callbacks.CSVLogger(str(history), append=True),
        keras.callbacks.LambdaCallback(on_epoch_end=log_wall_time),
    ]
    model.fit(ds, epochs=cfg.epochs, validation_data=val, callbacks=callbacks, verbose=2)
    return best


def summarize(model_path: str | os.PathLike[str], data: str, tta: bool = True) -> dict[str, Any]:
    """PublicTest figures of a saved Keras model: accuracy, per-class recall, sadness AUROC."""
    import keras

    from buddy_emotion.evaluation import classification_report

    model = keras.models.load_model(model_path)
    va = load_split(data, "PublicTest")
    probs = evaluate_probs(model, va["images"], tta=tta)
    return classification_report(va["labels"], probs)
