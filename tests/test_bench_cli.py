"""The benchmark scripts fail in one line, without a traceback, on a missing data file or a bad option."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
WITH_DATA = ["bench_alignment", "bench_blend", "bench_class_bias", "bench_crop", "bench_edge", "bench_fullframe",
             "bench_monitor", "bench_peers", "bench_pipeline"]


def _run(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCH / f"{script}.py"), *args], capture_output=True, text=True,
                          timeout=120, env=env)


def _error_lines(stderr: str) -> list[str]:  # LiteRT and TensorFlow may log on their own; those lines are not ours
    return [line for line in stderr.splitlines() if line.strip() and "oneDNN" not in line and "absl" not in line]


@pytest.mark.parametrize("script", WITH_DATA)
def test_missing_data_is_one_line(script: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing.npz"
    out = _run(script, "--data", str(missing))
    assert out.returncode != 0
    lines = _error_lines(out.stderr)
    assert len(lines) == 1 and "data not found" in lines[0], out.stderr
    assert list(tmp_path.iterdir()) == []


BAD_OPTIONS = [("bench_crop", ["--limit", "0"]), ("bench_class_bias", ["--halves", "0"]),
               ("bench_fullframe", ["--sides", "700"]), ("bench_edge", ["--cuts", "100"]),
               ("bench_edge", ["--side", "480"]), ("bench_dlib", ["--repeat", "0"]),
               ("bench_monitor", ["--users", "0"]), ("bench_classifier", ["-n", "0"]),
               ("bench_live", ["--fps", "0"])]


@pytest.mark.parametrize(("script", "args"), BAD_OPTIONS)
def test_bad_option_is_refused_by_argparse(script: str, args: list[str]) -> None:
    out = _run(script, *args)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "error: argument" in out.stderr


@pytest.mark.parametrize(("args", "says"), [(["--video", "--backend", "dlib"], "leave out --backend"),
                                             (["--video", "--side", "267"], "--side must be at most 266")])
def test_bench_edge_refuses_video_options_that_do_not_fit(args: list[str], says: str) -> None:
    out = _run("bench_edge", *args, "--data", "missing.npz")
    assert out.returncode == 2 and "Traceback" not in out.stderr and says in out.stderr, out.stderr


def test_missing_dlib_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "dlib.py").write_text('raise ImportError("No module named dlib")\n')
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = _run("bench_dlib", "--repeat", "1", "--data", str(tmp_path / "missing.npz"), env=env)
    assert out.returncode == 2
    lines = _error_lines(out.stderr)
    assert len(lines) == 1 and "pip install 'buddy-emotion[dlib]'" in lines[0], out.stderr


def test_option_types_refuse_the_boundaries_in_their_own_words() -> None:
    import argparse

    sys.path.insert(0, str(BENCH))
    try:
        from _cli import at_least, face_side
    finally:
        sys.path.remove(str(BENCH))
    assert face_side("479") == 479
    for bad, says in [("480", "must fit the 640x480 frame"), ("0", "must be at least 1"),
                      ("x", "expected an integer, got 'x'")]:
        with pytest.raises(argparse.ArgumentTypeError, match=says):
            face_side(bad)
    assert at_least(3)("3") == 3 and at_least(3).__name__ == "integer >= 3"
