"""Classification cost per face of the bundled model (after detection), and cold start.

Run on one core, as the issue's target is stated:

    taskset -c 0 python benchmarks/bench_classifier.py

Prints a table: runtime, test-time augmentation (none, or the model card's views), median and p95 ms per
face, and model file size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cli import at_least, run  # noqa: E402

from buddy_emotion.backends.keras import KerasBackend, bundled_model_path  # noqa: E402
from buddy_emotion.evaluation import time_per_face  # noqa: E402


def cold_start() -> float:
    code = ("import time; t=time.perf_counter(); import numpy as np; from buddy_emotion.backends.keras import "
            "KerasBackend; b=KerasBackend(); b.classify_faces([np.zeros((48,48),np.uint8)]); "
            "print(time.perf_counter()-t)")
    src = str(Path(__file__).resolve().parents[1] / "src")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"})
    return float(out.stdout.strip()) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=at_least(1), default=500, help="timed calls per row, after 20 untimed (default: 500)")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = ap.parse_args()
    rows = []
    runtimes = ["litert"]
    try:
        import tensorflow  # noqa: F401

        runtimes.append("tensorflow")
    except ImportError:
        pass
    for runtime in runtimes:
        for tta in (False, None):  # None: the views the model card names
            backend = KerasBackend(runtime=runtime, tta=tta, num_threads=1)
            med, p95 = time_per_face(backend, args.n)
            rows.append({"runtime": runtime, "tta": f"{len(backend.views)} view(s)", "median_ms": round(med, 3),
                         "p95_ms": round(p95, 3), "model_bytes": bundled_model_path(runtime).stat().st_size})
    cold = cold_start()
    if args.json:
        print(json.dumps({"rows": rows, "cold_start_ms": round(cold, 1)}))
        return 0
    print(f"{'runtime':<11} {'TTA':<9} {'median ms/face':>14} {'p95 ms':>8} {'model bytes':>12}")
    for r in rows:
        print(f"{r['runtime']:<11} {str(r['tta']):<9} {r['median_ms']:>14.3f} {r['p95_ms']:>8.3f} "
              f"{r['model_bytes']:>12}")
    print(f"cold start (import + load + first face, LiteRT, fresh process): {cold:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
