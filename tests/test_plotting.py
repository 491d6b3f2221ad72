"""Tests of buddy_emotion.plotting (needs matplotlib, which the test extra installs)."""

from __future__ import annotations

import builtins
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from buddy_emotion.errors import ImageFileError, MissingDependencyError
from buddy_emotion.monitor import MonitorState, SadnessEvent, SadnessMonitor, TimelinePoint
from buddy_emotion.plotting import check_plot_path, plot_readings, plot_timeline
from buddy_emotion.types import FaceBox, NoReadingReason, SadnessReading

pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Scripted:
    def __init__(self, f: Any) -> None:
        self.f = f

    def detect_sadness(self, frame: np.ndarray, timestamp: float | None = None) -> SadnessReading:
        v = self.f(timestamp)
        if v is None:
            return SadnessReading(None, False, None, None, "s", timestamp or 0.0, NoReadingReason.NO_FACE)
        return SadnessReading(v, v >= 0.5, None, {"sadness": v}, "s", timestamp or 0.0, None, 1)


def run_monitor(seconds: float = 1200) -> SadnessMonitor:
    rng = np.random.default_rng(0)

    def f(t: float) -> float | None:
        if 500 <= t < 520:
            return None  # stepped away
        base = 0.8 if 300 <= t < 420 else 0.1
        return float(np.clip(base + rng.normal(0, 0.05), 0, 1))

    m = SadnessMonitor(Scripted(f), calibration_samples=10)
    frame = np.repeat(np.random.default_rng(1).integers(40, 220, (48, 48), dtype=np.uint8)[:, :, None], 3, 2)
    blurred = np.full((48, 48, 3), 120, np.uint8)
    blurred[::2] = 124  # almost flat: gated as blurred / washed out
    for i in range(int(seconds / 2)):
        m.update(blurred if i % 37 == 5 else frame, timestamp=2.0 * i)
    return m


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 5_000


def test_plot_timeline_with_events_and_gated_samples(tmp_path: Path) -> None:
    m = run_monitor()
    assert m.recent_events, "the scripted session should produce an event"
    assert any(not p.valid for p in m.timeline)
    out = plot_timeline(m.timeline, tmp_path / "timeline.png", events=m.recent_events, title="test session")
    assert out == tmp_path / "timeline.png"
    assert_png(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["timeline.png"]  # nothing else written


def test_plot_timeline_draws_every_sample_the_gated_ones_and_the_events(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from buddy_emotion import plotting

    made: list[tuple[Any, Any]] = []
    real = plotting._figure

    def keep(*args: Any) -> tuple[Any, Any]:  # the real figure, kept so that its axes can be read back
        made.append(real(*args))
        return made[-1]

    monkeypatch.setattr(plotting, "_figure", keep)
    m = run_monitor()
    plot_timeline(m.timeline, tmp_path / "t.png", events=m.recent_events)
    ax = made[0][1]
    labels = ax.get_legend_handles_labels()[1]
    assert "Buddy speaks" in labels and "enter level" in labels and "smoothed" in labels
    gated = [label for label in labels if label.startswith("gated: ")]
    assert sum(int(label.rsplit("(", 1)[1].rstrip(")")) for label in gated) == sum(not p.valid for p in m.timeline)
    samples = [c for c in ax.collections if c.get_label() == "sadness (sample)"]
    assert len(samples) == 1 and len(samples[0].get_offsets()) == sum(p.valid for p in m.timeline)


def test_plot_timeline_accepts_plain_sequences_and_dicts(tmp_path: Path) -> None:
    pts = [TimelinePoint(float(t), 0.2, None, 0.2, 0.5, 0.4, MonitorState.CALM) for t in range(0, 60, 2)]
    pts.append(TimelinePoint(60.0, None, NoReadingReason.CAMERA_ERROR, None, 0.5, 0.4, MonitorState.CALM))
    ev = SadnessEvent(58.0, 30.0, 28.0, 0.7, 12, 1, 0.65, 0.5, None)
    assert_png(plot_timeline(pts, tmp_path / "a.png", events=[ev]))
    dicts = [{"timestamp": float(t), "sadness": 0.3, "reason": None} for t in range(10)]
    dicts.append({"timestamp": 10.0, "sadness": None, "reason": "no_face"})
    assert_png(plot_timeline(dicts, tmp_path / "b.png", threshold=0.5))


def test_plot_empty_timeline(tmp_path: Path) -> None:
    out = plot_timeline([], tmp_path / "empty.png")
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_plot_long_timeline_uses_minutes(tmp_path: Path) -> None:
    pts = [TimelinePoint(float(t), 0.1, None, 0.1, 0.5, 0.4, MonitorState.CALM) for t in range(0, 7200, 2)]
    assert_png(plot_timeline(pts, tmp_path / "long.png"))


def test_plot_readings(tmp_path: Path) -> None:
    readings = [
        SadnessReading(0.1 + 0.01 * i, False, FaceBox(10, 10, 80, 80), {"sadness": 0.1 + 0.01 * i}, "keras",
                       float(i), None, 1, 0.5)
        for i in range(40)
    ]
    readings.append(SadnessReading(None, False, None, None, "keras", 40.0, NoReadingReason.NO_FACE, 0, 0.5))
    assert_png(plot_readings(readings, tmp_path / "r.png", title="video"))
    assert_png(plot_readings(readings, tmp_path / "r2.png", threshold=0.3, events=[]))


def test_plot_svg_by_suffix(tmp_path: Path) -> None:
    out = plot_timeline([TimelinePoint(0.0, 0.2, None, None, 0.5, 0.4, MonitorState.CALM)], tmp_path / "t.svg")
    assert out.read_text().lstrip().startswith("<?xml")


def test_unwritable_path_raises_image_file_error(tmp_path: Path) -> None:
    with pytest.raises(ImageFileError):
        plot_timeline([], tmp_path / "no" / "such" / "dir" / "x.png")


def test_check_plot_path_finds_what_would_fail_later_and_writes_nothing(tmp_path: Path) -> None:
    assert check_plot_path(tmp_path / "ok.svg") == tmp_path / "ok.svg"
    assert check_plot_path(str(tmp_path / "no_suffix")) == tmp_path / "no_suffix"  # PNG
    for bad, says in ((tmp_path / "no" / "x.png", "no folder"), (tmp_path / "x.xyz", "as .xyz"),
                      (tmp_path, "is a folder")):
        with pytest.raises(ImageFileError, match=says):
            check_plot_path(bad)
    with pytest.raises(TypeError):
        check_plot_path(None)  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_missing_matplotlib_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for mod in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(MissingDependencyError, match=r"buddy-emotion\[plot\]"):
        plot_timeline([], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_plotting_does_not_import_pyplot_or_touch_the_global_backend(tmp_path: Path) -> None:
    # the backend is read raw: matplotlib.get_backend() would itself import pyplot to resolve it
    code = ("import sys, matplotlib; from buddy_emotion.plotting import plot_timeline; "
            "raw = lambda: dict.__getitem__(matplotlib.rcParams, 'backend'); "
            "before = raw(); plot_timeline([], sys.argv[1]); "
            "print('matplotlib.pyplot' in sys.modules, raw() is before)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.png")], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == ["False", "True"], out.stderr
    assert (tmp_path / "x.png").read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize(("args", "kw", "says"), [
    ((None,), {}, "timeline must be"),
    (([1, 2, 3],), {}, "timeline point 0 must have a timestamp"),
    (([{"timestamp": float("nan"), "sadness": 0.2}],), {}, "timeline point 0 timestamp must be a finite"),
    (([{"timestamp": None, "sadness": 0.2}],), {}, "timeline point 0 timestamp must be a number"),
    (([{"timestamp": 1.0, "sadness": 5.0}],), {}, "timeline point 0 sadness must be within 0..1"),
    (([{"timestamp": 1.0, "sadness": "x"}],), {}, "sadness must be a number"),
    (([],), {"events": None}, "events must be"),
    (([],), {"events": [{"timestamp": None}]}, "event 0 timestamp"),
    (([],), {"threshold": float("nan")}, "threshold must be a finite"),
    (([],), {"threshold": "x"}, "threshold must be a number"),
])
def test_bad_timelines_are_refused_before_drawing(tmp_path: Path, args: tuple, kw: dict, says: str) -> None:
    out = tmp_path / "plot.png"
    with pytest.raises((TypeError, ValueError), match=says):
        plot_timeline(*args, out, **kw)
    assert not out.exists()


def test_bad_path_or_readings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="path must be a file path"):
        plot_timeline([], None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="readings must be a sequence"):
        plot_readings(None, tmp_path / "r.png")  # type: ignore[arg-type]


def test_check_plot_path_takes_an_upper_case_suffix_and_refuses_an_empty_path(tmp_path: Path) -> None:
    assert check_plot_path(tmp_path / "P.PNG") == tmp_path / "P.PNG"
    with pytest.raises(TypeError, match="non-empty"):
        check_plot_path("")


def test_check_plot_path_refuses_a_folder_it_may_not_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setattr(os, "access", lambda *_a, **_k: False)  # a read-only folder (root could write anyway)
    with pytest.raises(ImageFileError, match="not writable"):
        check_plot_path(tmp_path / "p.png")
