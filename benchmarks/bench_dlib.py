"""Benchmark of the ``dlib`` backend on one CPU core.

    taskset -c 0 python benchmarks/bench_dlib.py [--repeat 200]

Prints, with median and p95 in milliseconds:

* per face after detection: 68 landmarks + features (+ mirror) + classifier, on a detected face of a
  640x480 frame, and on a 48x48 registered crop (the ``classify_faces`` path: upscale + landmarks + ...);
* HOG face detection per 640x480 frame (scikit-image's astronaut pasted into a grey frame), at the
  backend's default ``detect_width=640`` (full width) and at 320, with ``upsample`` 0 and 1;
* with FER-2013 at hand (``--data``, default ``../shared/data/fer2013/fer2013_dev.npz``): the share of
  ``--faces`` PublicTest faces, pasted at 110, 150 and 190 px into a plain 640x480 frame, that HOG finds
  at each ``min_score`` (what raising it above dlib's default 0 costs).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's library, not an installed one
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cli import DEFAULT_DATA, at_least, run  # noqa: E402


def frame_640x480() -> np.ndarray:
    import cv2
    from skimage import data

    astro = cv2.resize(np.ascontiguousarray(data.astronaut()[:, :, ::-1]), (480, 480), interpolation=cv2.INTER_AREA)
    frame = np.full((480, 640, 3), 128, np.uint8)
    frame[:, 80:560] = astro
    return frame


def timeit(fn: Callable[[], object], repeat: int, warmup: int = 5) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1000.0)
    a = np.asarray(t)
    return float(np.median(a)), float(np.percentile(a, 95))


MIN_SCORES = (0.0, 0.05, 0.1, 0.2)


def found_by_min_score(data: Path, n: int) -> dict[float, float]:
    """Share of the first ``n`` PublicTest faces, pasted into plain frames, that HOG finds at each min score."""
    import cv2

    from buddy_emotion.backends.dlib import DlibBackend
    from buddy_emotion.training.fer import load_split

    faces = load_split(data, "PublicTest")["images"][:n]
    det = DlibBackend(min_score=min(MIN_SCORES))
    best = []
    for i, face in enumerate(faces):
        frame = np.full((480, 640), 120, np.uint8)
        side = 110 + (i % 3) * 40
        frame[100:100 + side, 200:200 + side] = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
        _, scores, _ = det.detector.run(frame, 0, min(MIN_SCORES))
        best.append(max(scores) if len(scores) else -np.inf)
    a = np.asarray(best)
    return {t: float((a >= t).mean()) for t in MIN_SCORES}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=at_least(1), default=200,
                    help="timed runs per face row, a quarter (>= 20) per frame row; 5 untimed first (default: 200)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help="fer2013_dev.npz for the min_score table, skipped when missing (default: %(default)s)")
    ap.add_argument("--faces", type=at_least(1), default=600,
                    help="PublicTest faces for the min_score table (default: %(default)s)")
    args = ap.parse_args()
    import cv2

    cv2.setNumThreads(1)
    from buddy_emotion.backends.dlib import DlibBackend

    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"# {platform.processor() or platform.machine()}, python {platform.python_version()}, "
          f"CPU affinity {affinity}, {args.repeat} runs each")
    frame = frame_640x480()
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    rows: list[tuple[str, float, float]] = []

    b = DlibBackend()
    boxes = b.detect(gray) or DlibBackend(detect_width=640).detect(gray)
    if not boxes:
        raise SystemExit("no face found in the benchmark frame")
    box = boxes[0]

    def per_face() -> None:
        pts = b.landmarks(gray, box)
        b._scores(gray, pts, True)

    rows.append((f"per face after detection (landmarks+features+MLP, mirror avg), box {box.width}px",
                 *timeit(per_face, args.repeat)))
    b_nomirror = DlibBackend(mirror=False)

    def per_face_nomirror() -> None:
        b_nomirror._scores(gray, b_nomirror.landmarks(gray, box), True)

    rows.append(("per face after detection, mirror=False", *timeit(per_face_nomirror, args.repeat)))
    crop = cv2.resize(gray[box.y:box.bottom, box.x:box.right], (48, 48), interpolation=cv2.INTER_AREA)
    rows.append(("per 48x48 crop, classify_faces (upscale to 192 + same)", *timeit(lambda: b.classify_faces([crop]),
                                                                                  args.repeat)))
    pts = b.landmarks(gray, box)
    rows.append(("  of which 68 landmarks only", *timeit(lambda: b.landmarks(gray, box), args.repeat)))
    rows.append(("  of which features+MLP only", *timeit(lambda: b._scores(gray, pts, True), args.repeat)))
    for width, up in ((320, 0), (640, 0), (320, 1)):
        det = DlibBackend(detect_width=width, upsample=up)
        n = len(det.detect(gray))
        rows.append((f"HOG detection per 640x480 frame, detect_width={width}, upsample={up} ({n} face)",
                     *timeit(lambda d=det: d.detect(gray), max(20, args.repeat // 4))))
    rows.append(("full analyze() per 640x480 frame (defaults)",
                 *timeit(lambda: b.analyze(frame), max(20, args.repeat // 4))))

    w = max(len(r[0]) for r in rows)
    print(f"{'what':<{w}}  {'median ms':>9}  {'p95 ms':>7}")
    for name, med, p95 in rows:
        print(f"{name:<{w}}  {med:9.2f}  {p95:7.2f}")
    if args.data.is_file():
        shares = found_by_min_score(args.data, args.faces)
        print(f"\nHOG finds, of {args.faces} PublicTest faces pasted at 110/150/190 px into a plain 640x480 frame:")
        print(f"{'min_score':>9}  {'found':>6}")
        for t, share in shares.items():
            print(f"{t:9.2f}  {share:6.1%}")
    else:
        print(f"\n(no {args.data}: min_score table skipped)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
