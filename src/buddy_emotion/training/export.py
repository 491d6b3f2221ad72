"""Export a trained Keras model into the package: ``fer_cnn.keras``, ``fer_cnn.tflite`` and the model card.

The shipped LiteRT file uses dynamic-range quantization: int8 weights, activations quantized on the fly,
float32 in and out. Against float16 weights it is half the size and 3.7x faster on one x86 core (XNNPACK
runs the convolutions in int8) for the same accuracy; a full-integer export with a representative data
set was no faster and rounds the softmax to steps of 1/256. The card records the PublicTest figures of
the shipped ``.tflite`` as run by the ``keras`` backend (the same code path as ``buddy-emotion eval``),
with and without flip test-time augmentation, and those of the float16 and float32 exports for what
quantization costs.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from buddy_emotion.backends.keras import TTA_VIEWS


def _convert(saved_model: str, kind: str) -> bytes:
    """``kind``: "dynamic" (int8 weights, the shipped one), "float16" or "float32"."""
    import tensorflow as tf

    conv = tf.lite.TFLiteConverter.from_saved_model(saved_model)
    if kind in ("dynamic", "float16"):
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if kind == "float16":
        conv.target_spec.supported_types = [tf.float16]
    return bytes(conv.convert())


def _command(config: dict[str, Any]) -> str:
    from buddy_emotion.training.ensemble import _command as command

    return command(config)


def _litert_report(tflite: Path, data: str, tta: Any, class_bias: dict[str, float] | None = None) -> dict[str, Any]:
    from buddy_emotion.backends.keras import KerasBackend
    from buddy_emotion.evaluation import evaluate, load_labelled

    backend = KerasBackend(tflite, runtime="litert", tta=tta, class_bias=class_bias or {})
    return evaluate(backend, load_labelled(data, split="PublicTest"), cropped=True)


BIAS_SWEEP = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
"""Sadness biases (nats) the card reports, to show what the chosen one trades."""


def _bias_sweep(tflite: Path, data: str, tta: Any) -> dict[str, dict[str, float]]:
    """PublicTest accuracy and sad recall/precision per sadness bias, from one pass of the network."""
    from buddy_emotion.backends.keras import KerasBackend
    from buddy_emotion.evaluation import load_labelled, sad_bias_figures
    from buddy_emotion.labels import FER2013_ORDER

    images = load_labelled(data, split="PublicTest")
    backend = KerasBackend(tflite, runtime="litert", tta=tta, class_bias={})
    faces = backend.classify_faces([images.image(i) for i in range(len(images))])
    probs = np.array([[f.scores[k] for k in FER2013_ORDER] for f in faces])
    true = np.array([FER2013_ORDER.index(k) for k in images.labels])
    return {f"{b:g}": {k: round(v, 4) for k, v in sad_bias_figures(probs, true, b).items()} for b in BIAS_SWEEP}


def _latency_ms(tflite: Path, tta: Any) -> float:  # the bias costs one multiply: not timed apart
    from buddy_emotion.backends.keras import KerasBackend
    from buddy_emotion.evaluation import time_per_face

    return round(time_per_face(KerasBackend(tflite, runtime="litert", tta=tta, num_threads=1))[0], 3)


def save_float16(model: Any, path: Path) -> None:  # model: keras.Model
    """Save ``model`` as a ``.keras`` file with float16 weights: half the bytes of float32.

    The ``keras`` backend widens it back to float32 on load (run in float16, TensorFlow's CPU graph
    mode gives wrong outputs for some batches). The ``.tflite`` is converted from the float32 model.
    """
    import keras

    from buddy_emotion.backends.keras import cast_model

    cast_model(keras, model, "float16").save(path)


def export_bundle(model_path: str, data: str, dest: str | None = None, run_dir: str | None = None,
                  tta: str = "flip", class_bias: dict[str, float] | None = None) -> dict[str, Any]:
    """Write the bundle into ``dest`` (default: the package's ``models/``) and return the model card.

    ``tta`` names the view set (:data:`buddy_emotion.backends.keras.TTA_VIEWS`) the card tells the backend
    to use; all are measured. ``class_bias`` (nats per label, see :class:`~buddy_emotion.backends.keras.KerasBackend`)
    is the decision prior the card tells the backend to apply; the figures are measured with it, and a
    sweep of sadness biases is reported beside them.
    """
    if tta not in TTA_VIEWS:
        raise ValueError(f"tta must be one of {sorted(TTA_VIEWS)}, got {tta!r}")
    import keras

    out = Path(dest) if dest else Path(str(resources.files("buddy_emotion") / "models"))
    out.mkdir(parents=True, exist_ok=True)
    from buddy_emotion.backends.keras import widen_to_float32

    trained = widen_to_float32(keras, keras.models.load_model(model_path, compile=False))  # a float16 file too
    # a fresh, uncompiled copy: no optimizer state in the shipped file
    model = keras.models.clone_model(trained)
    model.set_weights(trained.get_weights())
    save_float16(model, out / "fer_cnn.keras")
    bias = {k: float(v) for k, v in (class_bias or {}).items()}
    with tempfile.TemporaryDirectory() as tmp:
        model.export(os.path.join(tmp, "sm"), format="tf_saved_model", verbose=False)
        sm = os.path.join(tmp, "sm")
        (out / "fer_cnn.tflite").write_bytes(_convert(sm, "dynamic"))
        others: dict[str, Any] = {}
        for kind in ("float16", "float32"):
            path = Path(tmp) / f"{kind}.tflite"
            path.write_bytes(_convert(sm, kind))
            others[kind] = {"bytes": path.stat().st_size,
                            "tta_accuracy": _litert_report(path, data, True, bias)["accuracy"],
                            "ms_tta": _latency_ms(path, True)}
    tfl = out / "fer_cnn.tflite"
    reports = {name: _litert_report(tfl, data, views, bias) for name, views in TTA_VIEWS.items()}
    latency = {name: _latency_ms(tfl, views) for name, views in TTA_VIEWS.items()}
    best = reports[tta]
    config: dict[str, Any] = {}
    history: list[dict[str, str]] = []
    wall = None
    if run_dir:
        rd = Path(run_dir)
        if (rd / "config.json").is_file():
            config = json.loads((rd / "config.json").read_text())
        if (rd / "history.csv").is_file():
            with (rd / "history.csv").open() as fh:
                history = list(csv.DictReader(fh))
        if (rd / "wall_time_s.txt").is_file():
            wall = float((rd / "wall_time_s.txt").read_text().strip())
        elif history and history[-1].get("wall_s"):
            wall = float(history[-1]["wall_s"])
    card: dict[str, Any] = {
        "name": "buddy_fer_cnn",
        "architecture": (f"average of {len(config['ensemble_of'])} " if config.get("ensemble_of") else "")
        + "VGG-style CNN, conv-BN-ReLU, widths " + str(config.get("widths", "")),
        "params": int(model.count_params()),
        "input": {"shape": [48, 48, 1], "dtype": "float32", "range": [0, 255], "color": "grey",
                  "crop": "FER-2013 registration; see buddy_emotion.face_detection.crop_face"},
        "output": {"labels": ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"],
                   "activation": "softmax"},
        "data": {"file": "fer2013_dev.npz", "train": "Training (28,709)", "select": "PublicTest (3,589)",
                 "labels": "FER-2013 labels, smoothed" + (
                     f", mixed with FER+ votes (weight {config.get('ferplus_weight')})"
                     if config.get("ferplus_weight") else "")},
        "training": {
            "command": (" && ".join(m["command"] for m in config["ensemble_of"])
                        + " && python -m buddy_emotion.training ensemble "
                        + " ".join(m["model"] for m in config["ensemble_of"]) + f" --out-dir {Path(run_dir or '.')}"
                        if config.get("ensemble_of") else config.get("extra", {}).get("command") or _command(config)),
            "config": config,
            "epochs_run": ([m["config"].get("epochs") for m in config["ensemble_of"]] if config.get("ensemble_of")
                           else len(history)),
            "best_epoch_val_accuracy": max((float(h["val_accuracy"]) for h in history), default=None),
            "best_epoch_val_accuracy_flip": max((float(h["val_accuracy_flip"]) for h in history
                                                 if h.get("val_accuracy_flip")), default=None),
            "wall_time_s": wall,
            "hardware": config.get("extra", {}).get("hardware", "2 x86 CPU cores (no GPU)"),
        },
        "tta": tta != "none",
        "tta_name": tta,
        "tta_views": [list(v) for v in TTA_VIEWS[tta]],
        "class_bias": bias,
        "publictest_by_sad_bias": _bias_sweep(tfl, data, tta),
        "publictest": {k: best[k] for k in ("n", "accuracy", "macro_f1", "per_class", "confusion", "sad_auroc")},
        "publictest_by_tta": {name: {"accuracy": r["accuracy"], "sad_auroc": r["sad_auroc"],
                                     "sad_recall": r["per_class"]["sadness"]["recall"], "ms_per_face": latency[name]}
                              for name, r in reports.items()},
        "quantization": "dynamic range (int8 weights, float32 in/out)",
        "other_exports": others,
        "size_bytes": {"tflite": tfl.stat().st_size, "keras": (out / "fer_cnn.keras").stat().st_size},
        "keras_weights": "float16 (widened to float32 on load by the keras backend)",
        "latency_ms_one_core": {"litert_tta": latency[tta], "litert_no_tta": latency["none"]},
    }
    (out / "fer_cnn.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card


def render_markdown(card: dict[str, Any]) -> str:
    """The model card as a Markdown table block (pasted into docs/model-card.md)."""
    pt = card["publictest"]
    lines = [
        f"| PublicTest accuracy (7 classes, n={pt['n']}) | {pt['accuracy']:.4f} |",
        f"| macro F1 | {pt['macro_f1']:.4f} |",
        f"| sadness AUROC (one-vs-rest) | {pt['sad_auroc']} |",
        f"| test-time augmentation | {card.get('tta_name', card['tta'])} |",
        f"| class bias (nats added to a label's log probability) | "
        f"{', '.join(f'{k} {v:+g}' for k, v in card.get('class_bias', {}).items()) or 'none'} |",
        *(f"| TTA {name}: accuracy / sad AUROC / sad recall / ms per face | {r['accuracy']} / {r['sad_auroc']} / "
          f"{r['sad_recall']} / {r['ms_per_face']} |" for name, r in card.get("publictest_by_tta", {}).items()),
        *(f"| sadness bias {b}: accuracy / sad recall / sad precision | {r['accuracy']} / {r['sad_recall']} / "
          f"{r['sad_precision']} |" for b, r in card.get("publictest_by_sad_bias", {}).items()),
        f"| parameters | {card['params']:,} |",
        f"| .tflite ({card['quantization']}) bytes | {card['size_bytes']['tflite']:,} |",
        *(f"| {kind} export: bytes / TTA accuracy / ms per face | {o['bytes']:,} / {o['tta_accuracy']} / "
          f"{o['ms_tta']} |" for kind, o in card.get("other_exports", {}).items()),
        f"| ms per face, one core, LiteRT (TTA / no TTA) | {card['latency_ms_one_core']['litert_tta']} / "
        f"{card['latency_ms_one_core']['litert_no_tta']} |",
        f"| epochs | {card['training']['epochs_run']} |",
        f"| training wall time | {card['training']['wall_time_s']} s on {card['training']['hardware']} |",
        "",
        "| class | precision | recall | F1 | n |",
        "|---|---|---|---|---|",
    ]
    for label, m in pt["per_class"].items():
        lines.append(f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['n']} |")
    lines += ["", "Confusion (rows true, columns predicted; anger, disgust, fear, happiness, sadness, surprise, "
              "neutral):", "", "```"]
    lines += [" ".join(f"{v:4d}" for v in row) for row in pt["confusion"]]
    lines += ["```"]
    return "\n".join(lines)


START, END = "<!-- card:start -->", "<!-- card:end -->"


def update_docs(page: Path, card: dict[str, Any]) -> None:
    """Rewrite the figures between the card markers of ``page`` (the prose around them stays)."""
    text = page.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{page} has no {START} ... {END} block")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    page.write_text(f"{head}{START}\n{render_markdown(card)}\n{END}{tail}", encoding="utf-8")
