"""Measure each face detector's crop convention: how its boxes sit on a FER-2013 registered face.

Training faces (never PublicTest: this sets a constant of the library) are pasted at known places into
640x480 frames; for every face the detector finds, the pasted square's side and centre are expressed in
units of the detector box. The medians are the ``fer_crop = (scale, shift)`` a detector declares
(:func:`buddy_emotion.face_detection.crop_face`).

    python benchmarks/bench_crop.py --data ../shared/data/fer2013/fer2013_dev.npz --limit 1200
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cli import DEFAULT_DATA, at_least, run  # noqa: E402
from synth import make_frame  # noqa: E402

from buddy_emotion.evaluation import load_labelled  # noqa: E402
from buddy_emotion.face_detection import BlazeFaceDetector, HaarFaceDetector  # noqa: E402
from buddy_emotion.frames import to_gray  # noqa: E402
from buddy_emotion.types import FaceBox  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="fer2013_dev.npz (default: %(default)s)")
    ap.add_argument("--limit", type=at_least(1), default=1200, help="first N Training faces (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the placements and backgrounds (default: 0)")
    args = ap.parse_args()
    data = load_labelled(args.data, split="Training", limit=args.limit)
    sides = (80, 120, 180, 260)
    print(f"{'detector':<12} {'found':>6} {'scale':>6} {'(IQR)':>13} {'shift':>6} {'(IQR)':>13} {'dx':>6}")
    for name, det in (("blazeface", BlazeFaceDetector()), ("haar", HaarFaceDetector())):
        rng = np.random.default_rng(args.seed)
        scale, shift, dx, found = [], [], [], 0
        for i in range(len(data)):
            side = sides[i % len(sides)]
            frame, (x0, y0) = make_frame(data.image(i), side, rng, "textured" if i % 2 else "plain")
            truth = FaceBox(x0, y0, side, side)
            boxes = [b for b in det.detect(to_gray(frame)) if b.iou(truth) > 0.3]
            if not boxes:
                continue
            b = boxes[0]
            found += 1
            s = max(b.width, b.height)
            scale.append(side / s)
            shift.append((y0 + side / 2 - b.center[1]) / s)
            dx.append((x0 + side / 2 - b.center[0]) / s)
        q = lambda v: np.percentile(v, [50, 25, 75])  # noqa: E731
        sc, sh = q(scale), q(shift)
        print(f"{name:<12} {found / len(data):>6.3f} {sc[0]:>6.3f} ({sc[1]:.3f}-{sc[2]:.3f}) {sh[0]:>6.3f} "
              f"({sh[1]:.3f}-{sh[2]:.3f}) {np.median(dx):>6.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
