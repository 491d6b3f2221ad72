"""Smoke test of ``benchmarks/bench_monitor.py``: the script runs end to end and its figures add up."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture()
def bench_monitor():  # the benchmark module, imported from benchmarks/
    sys.path.insert(0, str(BENCH))
    try:
        import bench_monitor

        yield bench_monitor
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.fer
def test_two_draws_are_scored_together(bench_monitor, fer_npz: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--data", str(fer_npz), "--users", "2", "--calm-hours", "0.3", "--spells", "3", "--variants", "1",
              "--json"]
    runs = {}
    for seeds in (["--seed", "0"], ["--seed", "1"], ["--seeds", "0", "1"]):
        assert bench_monitor.main([*common, *seeds]) == 0
        runs[" ".join(seeds)] = json.loads(capsys.readouterr().out)
    both, a, b = runs["--seeds 0 1"], runs["--seed 0"], runs["--seed 1"]
    assert both["seeds"] == [0, 1] and both["users"] == 4
    assert both["false_events"] == a["false_events"] + b["false_events"]
    assert both["calm_hours"] == pytest.approx(a["calm_hours"] + b["calm_hours"])
    for length in ("60", "90", "120"):
        assert both["spells"][length]["n"] == a["spells"][length]["n"] + b["spells"][length]["n"]
    assert 0.0 <= both["pool"]["face_found_all"] <= 1.0
    for run in (a, b, both):  # every 90-s spell missed within 30 s is explained once
        s90 = run["spells"]["90"]
        missed = round(s90["n"] * (1 - s90["caught_30s"])) if s90["n"] else 0
        assert sum(run["misses_90"].values()) == missed
    assert both["misses_90"] == {k: a["misses_90"][k] + b["misses_90"][k] for k in a["misses_90"]}


@pytest.mark.fer
def test_cache_holds_numbers_and_is_reused(bench_monitor, fer_npz: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    args = ["--data", str(fer_npz), "--users", "1", "--calm-hours", "0.2", "--spells", "1", "--variants", "1",
            "--json", "--cache-dir", str(tmp_path)]
    assert bench_monitor.main(args) == 0
    first = json.loads(capsys.readouterr().out)
    files = list(tmp_path.iterdir())
    assert len(files) == 1
    with np.load(files[0], allow_pickle=False) as z:  # no strings, no pixels: numbers only
        assert all(z[k].dtype.kind in "iuf" for k in z.files)
    assert bench_monitor.main(args) == 0
    second = json.loads(capsys.readouterr().out)
    assert list(tmp_path.iterdir()) == files
    assert second["pool"] == first["pool"] and second["spells"] == first["spells"]


def test_cache_key_covers_the_code_that_makes_the_readings(bench_monitor) -> None:
    from buddy_emotion.detector import Detector

    names = {(p.parent.name, p.name) for p in bench_monitor._code_files(Detector("default"))}
    for needed in [("benchmarks", "bench_monitor.py"), ("buddy_emotion", "detector.py"), ("buddy_emotion", "frames.py"),
                   ("face_detection", "__init__.py"), ("face_detection", "blazeface.py"), ("monitor", "quality.py"),
                   ("backends", "keras.py")]:
        assert needed in names, needed
    assert any(name.endswith(".tflite") for _, name in names)  # the emotion model and BlazeFace's
