"""Live-stream mode against calling ``detect_sadness`` in the capture loop, on the same replayed frames.

    python benchmarks/bench_live.py                   # the bundled model, then a 200 ms remote stand-in
    taskset -c 0 python benchmarks/bench_live.py      # one core: the worker shares it with the capture loop

A capture loop replays 640x480 frames (scikit-image's astronaut, shrunk to a 200 px face and moved a few
pixels a frame) at ``--fps`` in real time for ``--seconds``. In the ``sync`` rows it calls
``detect_sadness`` on each frame, as a loop without live-stream mode must; in the ``live`` rows it hands
each frame to ``detect_async`` and the readings come back through the callback. Per row: what one call
costs the capture loop (median and p99 ms), frames the loop kept up with (the share delivered on time
against its clock), readings per second, frames dropped by the live-stream worker, and the age of each
reading when its callback ran (median and p95 ms from the frame's hand-over).

Backends: ``default`` (the bundled CNN with flip views) and ``remote``, a stand-in for a slow remote service
such as Azure: the default backend plus ``--delay-ms`` of sleeping per frame (a network round trip). Timings
depend on the machine and its load: compare the rows of one run.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cli import at_least, run  # noqa: E402

from buddy_emotion import Detector, SadnessReading  # noqa: E402
from buddy_emotion.backends.keras import KerasBackend  # noqa: E402


class _Remote(KerasBackend):
    """The bundled model behind a simulated network round trip of ``delay`` seconds per frame."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def analyze(self, frame: np.ndarray) -> list[Any]:
        time.sleep(self.delay)
        return super().analyze(frame)


def _frames(n: int) -> list[np.ndarray]:
    from skimage import data  # scikit-image, as README's first command installs it

    face = cv2.resize(data.astronaut()[:, :, ::-1], (360, 360), interpolation=cv2.INTER_AREA)  # BGR, face ~200 px
    out = []
    for i in range(n):
        frame = np.full((480, 640, 3), 90, np.uint8)
        dx, dy = int(40 + 20 * np.sin(i / 15)), int(40 + 10 * np.cos(i / 20))
        frame[dy:dy + 360, dx + 100:dx + 460] = face
        out.append(frame)
    return out


def _replay(detector: Detector, frames: list[np.ndarray], fps: float, live: bool,
            handed: dict[float, float]) -> dict[str, Any]:
    """Replay ``frames`` at ``fps`` against the wall clock; the loop skips frames it has fallen behind on."""
    step, calls, on_time, readings = 1.0 / fps, [], 0, 0
    start = time.perf_counter()
    for i, frame in enumerate(frames):
        due = start + i * step
        now = time.perf_counter()
        if now > due + step:  # the loop is a frame behind: this frame is gone, as a camera's would be
            continue
        on_time += 1
        if now < due:
            time.sleep(due - now)
        t0 = time.perf_counter()
        if live:
            handed[i * step] = t0
            detector.detect_async(frame, timestamp=i * step)
        else:
            detector.detect_sadness(frame, timestamp=i * step)
            readings += 1
        calls.append(time.perf_counter() - t0)
    if live:
        detector.flush(timeout=60)
    elapsed = time.perf_counter() - start
    return {"calls": np.array(calls) * 1e3, "on_time": on_time / len(frames), "elapsed": elapsed,
            "readings": readings}


def _row(name: str, mode: str, make: Any, frames: list[np.ndarray], fps: float) -> list[str]:
    ages: list[float] = []
    handed: dict[float, float] = {}
    got: list[SadnessReading] = []
    lock = threading.Lock()

    def callback(reading: SadnessReading, frame: np.ndarray) -> None:
        with lock:
            ages.append((time.perf_counter() - handed[reading.timestamp]) * 1e3)
            got.append(reading)

    live = mode == "live"
    with Detector(make(), result_callback=callback if live else None) as detector:
        r = _replay(detector, frames, fps, live, handed)
        dropped = detector.dropped_frames
    n_readings = len(got) if live else r["readings"]
    age = f"{np.median(ages):.0f} / {np.percentile(ages, 95):.0f}" if ages else "-"
    return [name, mode, f"{np.median(r['calls']):.2f} / {np.percentile(r['calls'], 99):.2f}",
            f"{r['on_time']:.0%}", f"{n_readings / r['elapsed']:.1f}", str(dropped) if live else "-", age]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fps", type=at_least(1), default=30, help="frames per second of the replay (30)")
    parser.add_argument("--seconds", type=at_least(1), default=8, help="length of each replay (8)")
    parser.add_argument("--delay-ms", type=at_least(0), default=200,
                        help="round trip of the remote stand-in, in ms (200)")
    args = parser.parse_args()
    frames = _frames(args.fps * args.seconds)
    delay = args.delay_ms / 1e3
    backends = [("default", KerasBackend), (f"remote +{args.delay_ms} ms", lambda: _Remote(delay))]
    Detector().detect_sadness(frames[0])  # warm the model files into the page cache
    rows = [_row(name, mode, make, frames, args.fps) for name, make in backends for mode in ("sync", "live")]
    head = ["backend", "mode", "ms per call in the loop (median / p99)", "frames kept up with",
            "readings / s", "dropped", "reading age, ms (median / p95)"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()  # not on macOS
    print(f"{args.fps} fps for {args.seconds} s, 640x480, {cores} core(s)")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
