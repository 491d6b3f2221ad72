"""``python -m buddy_emotion.training``: train, then export the FER-2013 CNN.

Example (the command that produced the bundled model is in ``docs/model-card.md``)::

    python -m buddy_emotion.training train --epochs 30 --out-dir runs/fer_cnn
    python -m buddy_emotion.training export runs/fer_cnn/best.keras
    python -m buddy_emotion.training ensemble runs/a/best.keras runs/b/best.keras --out-dir runs/ens
    python -m buddy_emotion.training compact ../shared/data/fer2013/fer2013_dev.npz .carry/fer_webp.npz

Training runs on any Keras 3 backend (``KERAS_BACKEND=jax`` or ``torch`` on a GPU machine without
TensorFlow); exporting needs TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from dataclasses import fields

from buddy_emotion.errors import BuddyEmotionError, MissingDependencyError
from buddy_emotion.labels import parse_label_values
from buddy_emotion.training.fer import TrainConfig

_HELP = {
    "data": "fer2013_dev.npz, or its compact copy",
    "out_dir": "run folder: config, history.csv, best.keras, resume state",
    "epochs": "epochs of the schedule (ignored with --time-budget-s)",
    "batch_size": "faces per step",
    "learning_rate": "peak learning rate of the warm-up + cosine schedule",
    "weight_decay": "L2 on the kernels",
    "label_smoothing": "share of the target spread over all classes",
    "ferplus_weight": "share of the FER+ vote distribution in the target (0: FER-2013 labels only)",
    "widths": "channels per stage (48x48, then 24, 12, 6)",
    "stem_convs": "convolutions at 48x48 before the first pooling",
    "dropout": "before the softmax head",
    "optimizer": "adam, or sgd (Nesterov momentum 0.9)",
    "time_budget_s": "seconds of wall time the schedule spans; training stops there (0: use --epochs)",
    "teachers": ".keras models to distil from (their softmax is averaged)",
    "kd_weight": "share of the distillation term in the loss (0: none)",
    "kd_temperature": "softening of the teacher's and student's outputs",
    "init_from": ".keras model of the same architecture to start from",
    "ema": "per-epoch exponential average of the weights (e.g. 0.8), evaluated and saved instead of them (0: off)",
    "seed": "seed of the weights, the shuffling and the augmentation",
    "limit": "train on the first N Training faces only (smoke runs)",
    "threads": "CPU threads for TensorFlow (0: its default)",
}


#: what each subcommand imports, and the extra that installs it
_NEEDS = {"train": ("keras", "Keras"), "ensemble": ("keras", "Keras"), "export": ("tensorflow", "TensorFlow")}


def require(cmd: str) -> None:
    """Raise :class:`MissingDependencyError` with the pip hint when ``cmd`` cannot import what it needs."""
    module, name = _NEEDS.get(cmd, (None, ""))
    if module is not None and importlib.util.find_spec(module) is None:
        raise MissingDependencyError(f"'{cmd}' needs {name}: pip install 'buddy-emotion[keras]'")


def main(argv: list[str] | None = None, prog: str = "python -m buddy_emotion.training") -> int:
    """Parse ``argv`` and run one subcommand; library errors end it with one line on stderr and status 2."""
    try:
        return _main(argv, prog)
    except BuddyEmotionError as e:
        print(f"{prog}: error: {' '.join(str(e).splitlines())}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None, prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train (resumes from --out-dir if interrupted)")
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        if f.name == "extra":
            continue
        val = getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        doc = _HELP.get(f.name)
        if f.name == "teachers":
            t.add_argument(flag, nargs="*", default=[], metavar="MODEL.keras", help=doc)
        elif f.name == "optimizer":
            t.add_argument(flag, choices=["adam", "sgd"], default=val, help=doc)
        elif isinstance(val, tuple):
            t.add_argument(flag, type=int, nargs="+", default=list(val), help=doc)
        else:
            t.add_argument(flag, type=type(val), default=val, help=f"{doc} (default: %(default)s)")
    en = sub.add_parser("ensemble", help="average trained .keras models into one (then export it)")
    en.add_argument("models", nargs="+")
    en.add_argument("--out-dir", required=True)
    e = sub.add_parser("export", help="export a trained .keras model into the package (tflite + card)")
    e.add_argument("model")
    e.add_argument("--data", default=defaults.data)
    e.add_argument("--dest", default=None, help="folder (default: the package's models/)")
    e.add_argument("--run-dir", default=None, help="training run folder (config, history)")
    e.add_argument("--tta", default="flip", choices=["none", "flip", "zoom+flip", "flip+zoom", "flip+2zoom"],
                   help="test-time augmentation the card prescribes (all are measured)")
    e.add_argument("--class-bias", type=parse_label_values, default={}, metavar="LABEL=NATS",
                   help="decision prior the card prescribes, e.g. sadness=0.1 (default: none)")
    e.add_argument("--docs", default=None, help="model-card page whose figures block to rewrite (docs/model-card.md)")
    c = sub.add_parser("compact", help="write a lossless, smaller copy of the data file (to carry to a GPU machine)")
    c.add_argument("src")
    c.add_argument("dst")
    c.add_argument("--splits", nargs="+", default=["Training", "PublicTest"])
    args = p.parse_args(argv)
    require(args.cmd)
    if args.cmd == "compact":
        from buddy_emotion.training.fer import compact

        print(json.dumps(compact(args.src, args.dst, tuple(args.splits))))
        return 0
    if args.cmd == "train":
        kw = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if f.name != "extra"}
        kw["widths"] = tuple(kw["widths"])
        kw["teachers"] = tuple(kw["teachers"])
        from buddy_emotion.training.fer import train

        best = train(TrainConfig(**kw))
        print(json.dumps({"best": str(best)}))
        return 0
    if args.cmd == "ensemble":
        from buddy_emotion.training.ensemble import build_ensemble

        print(json.dumps({"ensemble": str(build_ensemble(args.models, args.out_dir))}))
        return 0
    from buddy_emotion.training.export import export_bundle

    card = export_bundle(args.model, data=args.data, dest=args.dest, run_dir=args.run_dir, tta=args.tta,
                         class_bias=args.class_bias)
    if args.docs:
        from pathlib import Path

        from buddy_emotion.training.export import update_docs

        update_docs(Path(args.docs), card)
    print(json.dumps(card, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
