"""Does dlib landmark alignment raise the Keras CNN's accuracy on full frames?

PublicTest faces are upscaled, rotated in-plane by up to ``--max-angles`` degrees and pasted into
640x480 frames (see ``bench_fullframe.py``). On every frame where the Haar detector finds the face, the
CNN classifies (a) the usual crop around the detector box (``crop_face``) and (b) the face aligned by
dlib's 68 landmarks (eyes level, FER-2013 registration: ``landmarks.align_face``). Same faces, same
boxes, same model: only the crop differs. Needs the ``dlib`` extra.

    python benchmarks/bench_alignment.py --limit 400
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cli import DEFAULT_DATA, at_least, face_side, run  # noqa: E402
from bench_fullframe import make_frame  # noqa: E402

from buddy_emotion.backends.dlib import DlibBackend  # noqa: E402
from buddy_emotion.backends.keras import KerasBackend  # noqa: E402
from buddy_emotion.evaluation import classification_report, load_labelled  # noqa: E402
from buddy_emotion.face_detection import HaarFaceDetector, crop_face  # noqa: E402
from buddy_emotion.landmarks import align_face  # noqa: E402


def rotated(face: np.ndarray, angle: float) -> np.ndarray:
    h, w = face.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(face, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="fer2013_dev.npz (default: %(default)s)")
    ap.add_argument("--limit", type=at_least(1), default=400, help="first N PublicTest faces (default: %(default)s)")
    ap.add_argument("--sides", type=face_side, nargs="+", default=[120, 200],
                    help="face sides in px, one row each (default: %(default)s)")
    ap.add_argument("--max-angles", type=float, nargs="+", default=[0.0, 20.0],
                    help="largest in-plane rotation in degrees, one row each (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the placements and rotations (default: 0)")
    args = ap.parse_args()

    data = load_labelled(args.data, split="PublicTest", limit=args.limit)
    faces = [data.image(i) for i in range(len(data))]
    cnn = KerasBackend()
    haar = HaarFaceDetector()
    dlib_backend = DlibBackend()
    print(f"{'max angle':>9} {'face px':>7} {'found':>6} {'n':>5} {'crop acc':>8} {'aligned acc':>11} "
          f"{'crop AUROC':>10} {'aligned AUROC':>13}")
    for max_angle in args.max_angles:
        for side in args.sides:
            rng = np.random.default_rng(args.seed + side + int(max_angle))
            truth, plain, aligned = [], [], []
            for face, label in zip(faces, data.labels):
                angle = rng.uniform(-max_angle, max_angle)
                frame, _ = make_frame(rotated(face, angle), side, rng)
                gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
                boxes = haar.detect(gray)
                if not boxes:
                    continue
                box = boxes[0]
                pts = dlib_backend.landmarks(gray, box)
                a = crop_face(gray, box)
                b = align_face(gray, pts, size=48)
                out = cnn.classify_faces([a, b])
                truth.append(label)
                plain.append(dict(out[0].scores))
                aligned.append(dict(out[1].scores))
            n = len(truth)
            if not n:
                print(f"{max_angle:>9.0f} {side:>7} {0:>6.3f} {0:>5}")
                continue
            ra, rb = classification_report(truth, plain), classification_report(truth, aligned)
            print(f"{max_angle:>9.0f} {side:>7} {n / len(faces):>6.3f} {n:>5} {ra['accuracy']:>8.3f} "
                  f"{rb['accuracy']:>11.3f} {ra['sad_auroc']!s:>10} {rb['sad_auroc']!s:>13}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
