"""What a sadness bias (a decision prior, in nats) trades on PublicTest, and how well its choice holds.

    python benchmarks/bench_class_bias.py [--data ../shared/data/fer2013/fer2013_dev.npz] [--halves 300]

The bundled model runs once on every PublicTest face with no bias (``class_bias={}``); the bias is then
applied to the averaged probabilities exactly as :class:`~buddy_emotion.backends.keras.KerasBackend`
does. Two tables:

1. per bias: accuracy, sad recall and precision, and sadness AUROC (which no bias can move: it changes
   which label wins, never how faces rank by sadness);
2. a check of choosing a bias on the test data: on random halves of PublicTest, the largest bias that
   costs no accuracy on one half is applied to the other half, against no bias and against the
   model card's fixed bias. It estimates what the choice is worth on faces it was not chosen on.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cli import DEFAULT_DATA, at_least, run  # noqa: E402

from buddy_emotion.backends.keras import KerasBackend, bundled_model_card  # noqa: E402
from buddy_emotion.evaluation import auroc, load_labelled, sad_bias_figures  # noqa: E402
from buddy_emotion.labels import FER2013_ORDER, SADNESS  # noqa: E402

GRID = np.round(np.arange(0.0, 0.401, 0.025), 3)
SAD = FER2013_ORDER.index(SADNESS)


def figures(probs: np.ndarray, true: np.ndarray, bias: float) -> tuple[float, float, float]:
    """(accuracy, sad recall, sad precision) with ``bias`` nats added to the sadness log-probability."""
    f = sad_bias_figures(probs, true, bias)
    return f["accuracy"], f["sad_recall"], f["sad_precision"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="fer2013_dev.npz (default: %(default)s)")
    ap.add_argument("--halves", type=at_least(1), default=300,
                    help="random half-splits for the selection check (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the half-splits (default: 0)")
    ap.add_argument("--json", action="store_true", help="print both tables as JSON")
    args = ap.parse_args()

    data = load_labelled(args.data, split="PublicTest")
    backend = KerasBackend(class_bias={})  # in chunks: one batch of all 3,589 faces peaks at ~5 GB
    faces = [f for i in range(0, len(data), 256)
             for f in backend.classify_faces([data.image(j) for j in range(i, min(i + 256, len(data)))])]
    probs = np.array([[f.scores[k] for k in FER2013_ORDER] for f in faces])
    true = np.array([FER2013_ORDER.index(k) for k in data.labels])
    card_bias = float(bundled_model_card().get("class_bias", {}).get(SADNESS, 0.0))

    sweep = []
    for b in GRID:
        acc, rec, prec = figures(probs, true, float(b))
        odds = probs[:, SAD] * np.exp(b) / np.clip(1.0 - probs[:, SAD], 1e-12, None)  # sadness odds, biased
        sweep.append({"bias": float(b), "accuracy": acc, "sad_recall": rec, "sad_precision": prec,
                      "sad_auroc": auroc(odds, true == SAD)})

    rng = np.random.default_rng(args.seed)
    rows = []
    for _ in range(args.halves):
        perm = rng.permutation(len(true))
        a, b = perm[: len(true) // 2], perm[len(true) // 2:]
        base_a = figures(probs[a], true[a], 0.0)[0]
        chosen = max(float(x) for x in GRID if figures(probs[a], true[a], float(x))[0] >= base_a - 1e-9)
        rows.append((chosen, *figures(probs[b], true[b], chosen)[:2], *figures(probs[b], true[b], card_bias)[:2],
                     *figures(probs[b], true[b], 0.0)[:2]))
    r = np.array(rows)
    check = {
        "halves": args.halves,
        "chosen_bias_median": float(np.median(r[:, 0])),
        "chosen_bias_iqr": [float(v) for v in np.percentile(r[:, 0], [25, 75])],
        "rule_accuracy_change_mean": float((r[:, 1] - r[:, 5]).mean()),
        "rule_accuracy_change_p10": float(np.percentile(r[:, 1] - r[:, 5], 10)),
        "rule_sad_recall_change_mean": float((r[:, 2] - r[:, 6]).mean()),
        "card_bias": card_bias,
        "card_accuracy_change_mean": float((r[:, 3] - r[:, 5]).mean()),
        "card_accuracy_change_p10": float(np.percentile(r[:, 3] - r[:, 5], 10)),
        "card_sad_recall_change_mean": float((r[:, 4] - r[:, 6]).mean()),
    }
    if args.json:
        print(json.dumps({"sweep": sweep, "selection_check": check}, indent=2))
        return 0
    print(f"PublicTest, n={len(true)}, bundled model, the card's TTA views; bias in nats on sadness\n")
    print(f"{'bias':>6} {'accuracy':>9} {'sad recall':>11} {'sad precision':>14} {'sad AUROC':>10}")
    for s in sweep:
        mark = "  <- model card" if abs(s["bias"] - card_bias) < 1e-9 else ""
        print(f"{s['bias']:6.3f} {s['accuracy']:9.4f} {s['sad_recall']:11.4f} {s['sad_precision']:14.4f} "
              f"{s['sad_auroc']:10.4f}{mark}")
    print(f"\nChoosing on one half, scoring on the other ({args.halves} random halves):")
    print(f"  the largest bias costing no accuracy on the chosen half: median {check['chosen_bias_median']:.3f} "
          f"(IQR {check['chosen_bias_iqr'][0]:.3f}-{check['chosen_bias_iqr'][1]:.3f})")
    print(f"  {'bias':<22} {'accuracy change':>16} {'(p10)':>8} {'sad recall change':>18}")
    print(f"  {'that rule':<22} {check['rule_accuracy_change_mean']:+16.4f} {check['rule_accuracy_change_p10']:+8.4f} "
          f"{check['rule_sad_recall_change_mean']:+18.4f}")
    print(f"  {'model card ' + format(card_bias, 'g'):<22} {check['card_accuracy_change_mean']:+16.4f} "
          f"{check['card_accuracy_change_p10']:+8.4f} {check['card_sad_recall_change_mean']:+18.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
