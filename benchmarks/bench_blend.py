"""Would blending the dlib landmark classifier into the bundled CNN pay? (A measured "no", kept to re-run.)

    python benchmarks/bench_blend.py [--data ../shared/data/fer2013/fer2013_dev.npz] [--halves 200]

Both backends, as shipped, classify every PublicTest crop once. The blend is a weighted geometric mean
of their probabilities (renormalised): ``p ∝ p_keras^(1-w) * p_dlib^w``. Two tables:

1. per weight ``w``: accuracy, sad recall and sadness AUROC on all of PublicTest (the weight is chosen
   on the data it is scored on, so the best row flatters);
2. choosing ``w`` on a random half and scoring the other half, against the CNN alone: what the blend is
   worth on faces it was not tuned on.

Needs the ``dlib`` extra. The model card (``docs/model-card.md``, "Runs and what paid") gives the figures
and why the blend does not ship (dlib's cost per face and its weight in the default install).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cli import DEFAULT_DATA, at_least, run  # noqa: E402

from buddy_emotion.backends import create  # noqa: E402
from buddy_emotion.evaluation import auroc, load_labelled  # noqa: E402
from buddy_emotion.labels import FER2013_ORDER, SADNESS  # noqa: E402

WEIGHTS = np.round(np.arange(0.0, 0.401, 0.05), 3)
SAD = FER2013_ORDER.index(SADNESS)


def probabilities(name: str, images: list[np.ndarray]) -> np.ndarray:
    """N x 7 probabilities (FER-2013 order) of backend ``name`` on face crops; uniform where it found none."""
    backend = create(name)
    try:
        out = np.full((len(images), len(FER2013_ORDER)), 1.0 / len(FER2013_ORDER))
        for i, image in enumerate(images):
            faces = backend.classify_faces([image])
            if faces:
                out[i] = [faces[0].scores[k] for k in FER2013_ORDER]
        return out
    finally:
        backend.close()


def blend(pk: np.ndarray, pd: np.ndarray, w: float) -> np.ndarray:
    """Weighted geometric mean of two probability arrays, renormalised per row."""
    logp = (1.0 - w) * np.log(pk + 1e-9) + w * np.log(pd + 1e-9)
    p = np.exp(logp - logp.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def figures(p: np.ndarray, true: np.ndarray) -> tuple[float, float, float]:
    """(accuracy, sad recall, sadness AUROC)."""
    pred = p.argmax(axis=1)
    sad = true == SAD
    return float((pred == true).mean()), float((pred[sad] == SAD).mean()), float(auroc(p[:, SAD], sad) or 0.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="fer2013_dev.npz (default: %(default)s)")
    ap.add_argument("--halves", type=at_least(1), default=200,
                    help="random half-splits for the selection check (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the half-splits (default: 0)")
    args = ap.parse_args()

    data = load_labelled(args.data, split="PublicTest")
    images = [data.image(i) for i in range(len(data))]
    true = np.array([FER2013_ORDER.index(k) for k in data.labels])
    pk, pd = probabilities("keras", images), probabilities("dlib", images)

    print(f"PublicTest crops, n={len(true)}; blend p ~ p_keras^(1-w) * p_dlib^w\n")
    print(f"{'w':>5} {'accuracy':>9} {'sad recall':>11} {'sad AUROC':>10}")
    for w in WEIGHTS:
        acc, rec, auc = figures(blend(pk, pd, float(w)), true)
        print(f"{w:5.2f} {acc:9.4f} {rec:11.4f} {auc:10.4f}")

    rng = np.random.default_rng(args.seed)
    chosen, gains = [], []
    for _ in range(args.halves):
        perm = rng.permutation(len(true))
        a, b = perm[: len(true) // 2], perm[len(true) // 2:]
        w = max((float(x) for x in WEIGHTS), key=lambda x: figures(blend(pk[a], pd[a], x), true[a])[2])
        chosen.append(w)
        gains.append(figures(blend(pk[b], pd[b], w), true[b])[2] - figures(pk[b], true[b])[2])
    g = np.array(gains)
    print(f"\nChoosing w on one half by sadness AUROC, scoring the other ({args.halves} random halves):")
    print(f"  chosen w: median {np.median(chosen):.2f}; AUROC gain over the CNN alone: mean {g.mean():+.4f}, "
          f"sd {g.std():.4f}, p10 {np.percentile(g, 10):+.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
