"""Full-frame accuracy of a backend: PublicTest faces pasted into larger synthetic frames.

Each 48x48 FER-2013 PublicTest face is upscaled to a side S (pixels), pasted at a random position into
a 640x480 frame (plain or textured background, see ``synth.py``) with a random lighting gain, and the
full pipeline runs (default detector, crop, classify the largest face). A face not found counts as
wrong. The table compares crop conventions (``crop_scale``, ``crop_shift``; default: the detector's own
``fer_crop``) against the same faces classified as ready crops.

    python benchmarks/bench_fullframe.py --data ../shared/data/fer2013/fer2013_dev.npz --limit 600

Nothing is written to disk; the FER-2013 images are read at run time only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cli import DEFAULT_DATA, at_least, face_side, run  # noqa: E402
from synth import make_frame  # noqa: E402

from buddy_emotion.backends.keras import KerasBackend  # noqa: E402
from buddy_emotion.evaluation import classification_report, load_labelled  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="fer2013_dev.npz (default: %(default)s)")
    ap.add_argument("--limit", type=at_least(1), default=600, help="first N PublicTest faces (default: %(default)s)")
    ap.add_argument("--sides", type=face_side, nargs="+", default=[80, 140, 220],
                    help="face sides in px, one row each (default: %(default)s)")
    ap.add_argument("--crop-scales", type=float, nargs="+", default=[0.0, 1.1, 1.3],
                    help="0 means the detector's own fer_crop")
    ap.add_argument("--crop-shifts", type=float, nargs="+", default=[None],
                    help="crop shift with each scale (default: the detector's own)")
    ap.add_argument("--background", choices=["plain", "textured"], default="plain",
                    help="synthetic background (synth.py; default: plain)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the placements (default: 0)")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = ap.parse_args()

    data = load_labelled(args.data, split="PublicTest", limit=args.limit)
    faces = [data.image(i) for i in range(len(data))]
    crop_ref = KerasBackend()
    ref = classification_report(data.labels, [dict(f.scores) for f in crop_ref.classify_faces(faces)])
    rows = [{"setting": "ready 48x48 crops", "side": "-", "found": 1.0, "accuracy": ref["accuracy"],
             "sad_auroc": ref["sad_auroc"]}]
    for scale, shift in [(a, b) for a in args.crop_scales for b in args.crop_shifts]:
        backend = KerasBackend(crop_scale=scale or None, crop_shift=shift)
        scale, shift = backend.crop_scale, backend.crop_shift
        for side in args.sides:
            rng = np.random.default_rng(args.seed + side)
            scores = []
            for face in faces:
                frame, _ = make_frame(face, side, rng, args.background)
                found = backend.analyze(frame)
                scores.append(dict(found[0].scores) if found else None)
            rep = classification_report(data.labels, scores)
            rows.append({"setting": f"full frame, crop {scale:.2f}/{shift:+.2f}", "side": side,
                         "found": rep["faces_found"], "accuracy": rep["accuracy"], "sad_auroc": rep["sad_auroc"]})
            print(f"  done crop {scale:.2f}/{shift:+.2f} side {side}: found {rep['faces_found']:.3f} "
                  f"acc {rep['accuracy']:.3f}", file=sys.stderr)
    if args.json:
        print(json.dumps(rows))
    else:
        print(f"{'setting':<32} {'face px':>7} {'found':>6} {'accuracy':>8} {'sad AUROC':>9}")
        for r in rows:
            print(f"{r['setting']:<32} {r['side']!s:>7} {r['found']:>6.3f} {r['accuracy']:>8.3f} {r['sad_auroc']!s:>9}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
