from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from buddy_emotion.cli import main


def test_backends_lists_every_backend(capsys) -> None:
    assert main(["backends", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_name = {r["name"]: r for r in rows}
    assert by_name["default"]["viable"] is True
    assert {"azure", "dlib", "keras", "fallback"} <= set(by_name)


def test_analyze_sample_json(capsys, tmp_path) -> None:
    assert main(["analyze", "--sample", "astronaut", "--json", "--annotate", str(tmp_path)]) == 0
    row = json.loads(capsys.readouterr().out.strip())
    assert row["face_count"] == 1 and 0 <= row["sadness"] <= 1 and row["backend"] == "keras"
    out = tmp_path / "sample_astronaut.annotated.png"
    assert cv2.imread(str(out)).shape == (512, 512, 3)


def test_analyze_images_and_folder(tmp_path, capsys, astronaut_bgr) -> None:
    cv2.imwrite(str(tmp_path / "a.jpg"), astronaut_bgr)
    cv2.imwrite(str(tmp_path / "b.png"), np.full((100, 120, 3), 128, np.uint8))
    assert main(["analyze", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and "bad_frame" in lines[1]


def _video(path, frames: list[np.ndarray], fps: float = 5.0) -> None:
    h, w = frames[0].shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for f in frames:
        vw.write(f)
    vw.release()


def test_analyze_video_plot_and_annotate(tmp_path, capsys, astronaut_bgr) -> None:
    pytest.importorskip("matplotlib")
    video = tmp_path / "clip.avi"
    _video(video, [astronaut_bgr] * 6 + [np.full_like(astronaut_bgr, 90)] * 4)
    out = tmp_path / "plot.png"
    assert main(["analyze", str(video), "--json", "--plot", str(out), "--annotate", str(tmp_path / "ann")]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 10 and rows[0]["face_count"] == 1 and rows[-1]["reason"] == "bad_frame"
    assert rows[1]["media_time"] > rows[0]["media_time"]
    assert out.stat().st_size > 1000
    assert (tmp_path / "ann" / "clip.annotated.avi").stat().st_size > 1000
    copy = cv2.VideoCapture(str(tmp_path / "ann" / "clip.annotated.avi"))
    source = cv2.VideoCapture(str(video))
    assert copy.get(cv2.CAP_PROP_FPS) == pytest.approx(source.get(cv2.CAP_PROP_FPS))  # plays at the source's rate
    copy.release()
    source.release()


def test_analyze_video_step_samples_every_n_seconds(tmp_path, capsys, astronaut_bgr) -> None:
    video = tmp_path / "clip.avi"
    _video(video, [astronaut_bgr] * 10, fps=5.0)  # 2 s of video
    assert main(["analyze", str(video), "--json", "--step", "1"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["media_time"] for r in rows] == pytest.approx([0.0, 1.0])


def test_errors_are_one_line(tmp_path, capsys) -> None:
    assert main(["analyze", str(tmp_path / "missing.jpg")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("buddy-emotion: error: file not found") and "\n" not in err
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    assert main(["analyze", str(tmp_path / "bad.jpg")]) == 2
    assert "corrupt" in capsys.readouterr().err
    assert main(["analyze", "--sample", "astronaut", "--backend", "nope"]) == 2
    assert "no backend named 'nope'" in capsys.readouterr().err


def test_watch_image_folder_replay(tmp_path, capsys, astronaut_bgr) -> None:
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), astronaut_bgr)
    assert main(["watch", "--camera", str(tmp_path), "--json", "--interval", "2"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"sadness"' in line]
    assert [r["timestamp"] for r in rows] == [0.0, 2.0, 4.0]


def test_watch_track_replay(tmp_path, capsys, astronaut_bgr) -> None:
    for i in range(4):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), np.roll(astronaut_bgr, 6 * i, axis=1))
    assert main(["watch", "--camera", str(tmp_path), "--json", "--track", "--no-monitor"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"sadness"' in line]
    assert len(rows) == 4 and all(r["sadness"] is not None for r in rows)
    assert main(["watch", "--camera", str(tmp_path), "--track", "--backend", "dlib"]) == 2
    assert "--track applies" in capsys.readouterr().err


def test_watch_dead_camera_one_line(capsys) -> None:
    assert main(["watch", "--camera", "/dev/video97", "--duration", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("buddy-emotion: error:") and "\n" not in err


@pytest.mark.parametrize("module", ["buddy_emotion.cli", "buddy_emotion"])
def test_console_script_runs(module: str) -> None:
    """``python -m buddy_emotion`` is the command where its script is not on PATH (e.g. ``pip --user``)."""
    out = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("buddy-emotion ")
    bad = subprocess.run([sys.executable, "-m", module, "analyze", "no-such-file.png"], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and bad.stderr.strip() == "buddy-emotion: error: file not found: no-such-file.png"


def test_analyze_tta_changes_the_views(capsys) -> None:
    readings = {}
    for tta in ("none", "flip+zoom"):
        assert main(["analyze", "--sample", "astronaut", "--json", "--tta", tta]) == 0
        readings[tta] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert readings["none"]["face_count"] == readings["flip+zoom"]["face_count"] == 1
    assert readings["none"]["sadness"] != readings["flip+zoom"]["sadness"]  # other views, another average


def test_tta_is_refused_for_backends_without_views(capsys, tmp_path) -> None:
    assert main(["analyze", "--sample", "astronaut", "--backend", "dlib", "--tta", "none"]) == 2
    assert "--tta applies to the default and keras backends" in capsys.readouterr().err
    assert main(["eval", str(tmp_path / "none.npz"), "--backend", "azure", "--tta", "flip"]) == 2
    assert "--tta applies to the default and keras backends, not 'azure'" in capsys.readouterr().err


def test_class_bias_option(capsys) -> None:
    readings = {}
    for bias in ("none", "sadness=1.0"):
        assert main(["analyze", "--sample", "astronaut", "--json", "--class-bias", bias]) == 0
        readings[bias] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["sadness"]
    p0, p1 = readings["none"], readings["sadness=1.0"]
    assert p1 / (1 - p1) == pytest.approx(np.e * p0 / (1 - p0), rel=1e-3)
    with pytest.raises(SystemExit):
        main(["analyze", "--sample", "astronaut", "--class-bias", "bored=1"])
    assert "unknown emotion label" in capsys.readouterr().err
    assert main(["analyze", "--sample", "astronaut", "--backend", "dlib", "--class-bias", "none"]) == 2
    assert "--class-bias applies to the default and keras backends, not 'dlib'" in capsys.readouterr().err


def test_cli_tta_choices_are_the_backend_view_sets() -> None:
    from buddy_emotion.backends.keras import TTA_VIEWS
    from buddy_emotion.cli import TTA_CHOICES

    assert tuple(TTA_VIEWS) == TTA_CHOICES


@pytest.mark.parametrize("bias,message", [("sadness=nan", "finite"), ("sadness=9", "within -5..5"),
                                          ("contempt=0.1", "contempt")])
def test_bad_class_bias_is_one_line(capsys, bias: str, message: str) -> None:
    try:
        rc = main(["analyze", "--sample", "astronaut", "--class-bias", bias])
    except SystemExit as e:  # refused by argparse
        rc = e.code
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert rc == 2 and message in err and "Traceback" not in err


def test_annotate_under_a_file_is_one_line(tmp_path, capsys) -> None:
    (tmp_path / "file").write_text("x")
    assert main(["analyze", "--sample", "astronaut", "--annotate", str(tmp_path / "file" / "sub")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("buddy-emotion: error: cannot create the --annotate folder") and "\n" not in err


def test_fifo_is_refused_without_blocking(tmp_path, capsys) -> None:
    import os

    os.mkfifo(tmp_path / "fifo.png")
    assert main(["analyze", str(tmp_path / "fifo.png")]) == 2
    assert "not a regular file" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["watch", "--interval", "nan"], ["watch", "--interval", "inf"],
                                  ["watch", "--interval", "0"], ["watch", "--duration", "-5"],
                                  ["watch", "--duration", "nan"], ["analyze", "--threshold", "nan"],
                                  ["eval", "x.npz", "--limit", "-1"], ["eval", "x.npz", "--limit", "0"],
                                  ["eval", "x.npz", "--limit", "1.5"]])
def test_bad_numbers_are_refused_by_the_parser(capsys, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2 and f"argument {argv[-2]}: expected" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"PK\x03\x04 truncated", b"path,label\n\xff,sad\n"])
def test_corrupt_eval_data_is_one_line(tmp_path, capsys, content: bytes) -> None:
    if content.startswith(b"PK"):
        data = tmp_path / "bad.npz"
        data.write_bytes(content)
    else:
        data = tmp_path
        (tmp_path / "labels.csv").write_bytes(content)
    assert main(["eval", str(data), "--cropped"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("buddy-emotion: error:") and "\n" not in err


def test_annotated_copies_of_same_named_inputs_do_not_overwrite(tmp_path, astronaut_bgr) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        cv2.imwrite(str(tmp_path / sub / "face.png"), astronaut_bgr)
    ann = tmp_path / "ann"
    assert main(["analyze", str(tmp_path / "a" / "face.png"), str(tmp_path / "b" / "face.png"), "--annotate",
                 str(ann)]) == 0
    assert sorted(p.name for p in ann.iterdir()) == ["face.2.annotated.png", "face.annotated.png"]


def test_analyze_threshold_reaches_the_reading(capsys) -> None:
    assert main(["analyze", "--sample", "astronaut", "--json", "--threshold", "0"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["threshold"] == 0.0 and row["is_sad"] is True  # her smile reads about 0.01 sad


def test_eval_passes_class_bias_to_the_backend(tmp_path, capsys) -> None:
    p = tmp_path / "faces.npz"
    rng = np.random.default_rng(0)
    np.savez(p, images=rng.integers(0, 255, (14, 48, 48), dtype=np.uint8), labels=np.arange(14) % 7)
    assert main(["eval", str(p), "--cropped", "--class-bias", "sadness=-5", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["per_class"]["sadness"]["recall"] == 0.0
    assert sum(row[4] for row in report["confusion"]) == 0  # without the bias, noise reads as sad


def test_train_help_is_the_training_commands_help(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["train", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: buddy-emotion train") and "export" in out and "ensemble" in out


@pytest.mark.parametrize(("argv", "missing"), [(["train", "--epochs", "1"], "keras"),
                                               (["export", "model.keras"], "tensorflow")])
def test_train_without_its_extra_gives_the_pip_hint(monkeypatch, capsys, argv, missing) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == missing else find_spec(name, *a))
    assert main(["train", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install 'buddy-emotion[keras]'" in err


@pytest.mark.parametrize("command", ["analyze", "watch"])
def test_a_plot_that_cannot_be_written_stops_the_command_before_any_work(tmp_path, capsys, astronaut_bgr,
                                                                         command) -> None:
    pytest.importorskip("matplotlib")
    video = tmp_path / "clip.avi"
    _video(video, [astronaut_bgr] * 3)
    source = [str(video)] if command == "analyze" else ["--camera", str(video), "--no-monitor"]
    assert main([command, *source, "--plot", str(tmp_path / "missing" / "p.png")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "no folder" in err  # not one reading was taken first


def test_watch_without_matplotlib_says_so_before_the_session(tmp_path, capsys, monkeypatch, astronaut_bgr) -> None:
    import buddy_emotion.plotting as plotting
    from buddy_emotion.errors import MissingDependencyError

    def no_matplotlib(*_: object) -> None:
        raise MissingDependencyError("plotting needs matplotlib: pip install 'buddy-emotion[plot]'")

    monkeypatch.setattr(plotting, "_figure", no_matplotlib)
    video = tmp_path / "clip.avi"
    _video(video, [astronaut_bgr] * 3)
    assert main(["watch", "--camera", str(video), "--plot", str(tmp_path / "p.png")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "buddy-emotion[plot]" in err


def _mixed_folder(folder, astronaut_bgr, bad: tuple[int, ...], n: int = 3):
    folder.mkdir()
    for i in range(n):
        if i in bad:
            (folder / f"{i:03d}.jpg").write_text("not an image")
        else:
            cv2.imwrite(str(folder / f"{i:03d}.jpg"), astronaut_bgr)
    return folder


def test_analyze_goes_on_after_a_bad_file_and_exits_non_zero(tmp_path, capsys, astronaut_bgr) -> None:
    folder = _mixed_folder(tmp_path / "mixed", astronaut_bgr, bad=(1,))
    assert main(["analyze", str(folder), "--json"]) == 2
    out, err = capsys.readouterr()
    assert [json.loads(line)["source"].rsplit("/", 1)[-1] for line in out.splitlines()] == ["000.jpg", "002.jpg"]
    assert "001.jpg" in err and "1 of 3 inputs could not be analyzed" in err


def test_watch_goes_on_after_a_bad_image_in_a_replay(tmp_path, capsys, astronaut_bgr) -> None:
    folder = _mixed_folder(tmp_path / "mixed", astronaut_bgr, bad=(1,))
    assert main(["watch", "--camera", str(folder), "--json", "--interval", "2", "--no-monitor"]) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line)["timestamp"] for line in out.splitlines()] == [0.0, 4.0]
    assert err.count("buddy-emotion: warning:") == 1 and "001.jpg" in err


def test_watch_gives_up_after_three_bad_images_in_a_row(tmp_path, capsys, astronaut_bgr) -> None:
    folder = _mixed_folder(tmp_path / "mixed", astronaut_bgr, bad=(1, 2, 3), n=5)
    assert main(["watch", "--camera", str(folder), "--json", "--interval", "2", "--no-monitor"]) == 2
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1 and err.count("warning:") == 2 and "003.jpg" in err.splitlines()[-1]


def test_watch_waits_doubling_and_reopens_a_live_camera_after_errors(capsys, monkeypatch, astronaut_bgr) -> None:
    import buddy_emotion.cameras as cameras
    from buddy_emotion.errors import CameraError

    class FlakyWebcam:
        finite = False

        def __init__(self) -> None:
            self.is_open, self.opens, self.script = False, 0, ["lost", "lost", "frame", "frame", "stop"]

        def open(self) -> FlakyWebcam:
            self.is_open, self.opens = True, self.opens + 1
            return self

        def close(self) -> None:
            self.is_open = False

        __enter__ = open

        def __exit__(self, *_: object) -> None:
            self.close()

        def read(self) -> tuple[np.ndarray, float]:
            step = self.script.pop(0)
            if step == "lost":
                self.is_open = False  # as a webcam that was unplugged closes itself
                raise CameraError("webcam 0 stopped delivering frames")
            if step == "stop":
                raise KeyboardInterrupt
            return astronaut_bgr, 100.0 + len(self.script)

    cam = FlakyWebcam()
    waits: list[float] = []
    monkeypatch.setattr(cameras, "open_camera", lambda *_a, **_k: cam)
    monkeypatch.setattr("time.sleep", waits.append)
    assert main(["watch", "--camera", "webcam", "--json", "--no-monitor", "--interval", "5"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2 and cam.opens == 3  # the with block's open, then one per lost frame
    assert waits[:2] == [1.0, 2.0] and all(0 <= w <= 5 for w in waits[2:])
    assert "retrying in 1 s" in err and "retrying in 2 s" in err


def test_native_log_lines_stay_off_stderr(tmp_path) -> None:
    """FFmpeg's "moov atom not found" would come before the command's own one-line error."""
    bad = tmp_path / "text.mp4"
    bad.write_text("not a video")
    env = {k: v for k, v in os.environ.items() if k not in ("BUDDY_EMOTION_DEBUG", "OPENCV_FFMPEG_LOGLEVEL")}
    out = subprocess.run([sys.executable, "-m", "buddy_emotion.cli", "analyze", str(bad)], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 2
    assert [line.split(":")[0] for line in out.stderr.splitlines()] == ["buddy-emotion"] * 2, out.stderr


def test_every_option_of_every_command_is_explained() -> None:
    import argparse

    from buddy_emotion.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in sub.choices.items():
        if name == "train":  # its help is the training command's own, tested above
            continue
        for action in parser._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help line"
            if action.default not in (None, False, argparse.SUPPRESS) and action.option_strings:
                assert "default" in action.help, f"{name} {action.option_strings} does not say its default"


@pytest.mark.parametrize("api", ["old", "none"])
def test_quieting_opencv_works_on_every_opencv_the_package_allows(monkeypatch, capsys, api) -> None:
    """OpenCV 4.10-4.12 have cv2.setLogLevel but no cv2.utils.logging; the CLI must run on them."""
    import types

    set_to: list[int] = []
    fake_utils = types.SimpleNamespace()  # no .logging
    monkeypatch.setattr(cv2, "utils", fake_utils)
    if api == "old":
        monkeypatch.setattr(cv2, "setLogLevel", set_to.append, raising=False)
    else:
        monkeypatch.delattr(cv2, "setLogLevel", raising=False)
    monkeypatch.delenv("OPENCV_LOG_LEVEL", raising=False)
    monkeypatch.delenv("BUDDY_EMOTION_DEBUG", raising=False)
    assert main(["backends", "--json"]) == 0
    assert set_to == ([2] if api == "old" else [])


def test_watch_duration_ends_a_session_whose_camera_keeps_failing(capsys, monkeypatch) -> None:
    import buddy_emotion.cameras as cameras
    import buddy_emotion.cli as cli
    from buddy_emotion.errors import CameraError

    class DeadWebcam:
        finite, is_open, reads = False, True, 0

        def __enter__(self) -> DeadWebcam:
            return self

        def __exit__(self, *_: object) -> None:
            pass

        def read(self) -> tuple[np.ndarray, float]:
            self.reads += 1
            if self.reads > 50:  # what Ctrl-C would do, so that a regression fails instead of hanging
                raise KeyboardInterrupt
            raise CameraError("webcam 0 stopped delivering frames")

    clock = [0.0]  # a fake monotonic clock that the waits advance
    monkeypatch.setattr(cameras, "open_camera", lambda *_a, **_k: DeadWebcam())
    monkeypatch.setattr(cli.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(cli.time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))
    assert main(["watch", "--camera", "webcam", "--duration", "10", "--no-monitor"]) == 0
    assert clock[0] == pytest.approx(10.0)  # waits 1 + 2 + 4, then the 3 s left, then stops
    assert capsys.readouterr().err.count("warning:") == 4


class _ScriptedCamera:
    """A camera whose reads follow a script: "ok" a frame, "bad" a CameraError, "lost" a CameraError that
    closes it (as an unplugged webcam does); open() fails while ``failing_opens`` lasts. Then the stream ends."""

    def __init__(self, script: list[str], *, finite: bool, failing_opens: int = 0) -> None:
        self.script, self.finite, self.failing_opens = list(script), finite, failing_opens
        self.is_open, self.open_calls = True, 0

    def open(self) -> _ScriptedCamera:
        from buddy_emotion.errors import CameraError

        self.open_calls += 1
        if self.failing_opens:
            self.failing_opens -= 1
            raise CameraError("the device is busy")
        self.is_open = True
        return self

    def read(self) -> tuple[np.ndarray, float]:
        from buddy_emotion.cameras import CameraEndOfStream
        from buddy_emotion.errors import CameraError

        if not self.is_open:
            raise CameraError("the camera is not open")
        if not self.script:
            raise CameraEndOfStream("end of the script")
        step = self.script.pop(0)
        if step in ("bad", "lost"):
            self.is_open = step == "bad"
            raise CameraError(f"a {step} frame")
        return np.zeros((8, 8, 3), np.uint8), float(len(self.script))


def test_live_camera_backoff_doubles_up_to_its_cap_and_starts_over_after_a_good_frame(monkeypatch, capsys) -> None:
    import buddy_emotion.cli as cli

    waits: list[float] = []
    monkeypatch.setattr(cli.time, "sleep", waits.append)
    cam = _ScriptedCamera(["bad", "bad", "ok", "bad", "bad", "bad", "bad", "bad", "ok"], finite=False)
    frames = list(cli._survive_errors(cam, backoff=1.0, max_backoff=4.0))
    assert len(frames) == 2  # a live camera never gives up
    assert waits == [1.0, 2.0, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert capsys.readouterr().err.count("warning:") == 7


def test_a_replay_never_waits_and_counts_only_bad_frames_in_a_row(monkeypatch, capsys) -> None:
    import buddy_emotion.cli as cli

    waits: list[float] = []
    monkeypatch.setattr(cli.time, "sleep", waits.append)
    cam = _ScriptedCamera(["ok", "bad", "bad", "ok", "bad", "bad", "ok"], finite=True)
    assert len(list(cli._survive_errors(cam))) == 3  # never 3 bad frames in a row: no give-up
    assert waits == []  # a file has nothing to wait for
    assert capsys.readouterr().err.count("warning:") == 4


def test_survive_errors_defaults_wait_1_s_doubling_up_to_30_s(monkeypatch, capsys) -> None:
    """As the module's docstring tells users of ``watch``."""
    import buddy_emotion.cli as cli

    waits: list[float] = []
    monkeypatch.setattr(cli.time, "sleep", waits.append)
    assert len(list(cli._survive_errors(_ScriptedCamera(["bad"] * 7 + ["ok"], finite=False)))) == 1
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_survive_errors_uses_the_schedule_it_is_given_and_raises_when_it_gives_up(monkeypatch, capsys) -> None:
    import buddy_emotion.cli as cli
    from buddy_emotion.errors import CameraError

    waits: list[float] = []
    monkeypatch.setattr(cli.time, "sleep", waits.append)
    cam = _ScriptedCamera(["bad", "bad", "bad", "ok"], finite=False)
    with pytest.raises(CameraError, match="a bad frame"):
        list(cli._survive_errors(cam, backoff=0.5, max_backoff=1.0, max_errors=3))
    assert waits == [0.5, 1.0] and cam.script == ["ok"]
    assert capsys.readouterr().err.splitlines() == ["buddy-emotion: warning: a bad frame; retrying in 0.5 s",
                                                    "buddy-emotion: warning: a bad frame; retrying in 1 s"]


def test_a_camera_error_of_several_lines_is_one_warning_line(monkeypatch, capsys) -> None:
    import buddy_emotion.cli as cli
    from buddy_emotion.errors import CameraError

    class Chatty(_ScriptedCamera):
        def read(self) -> tuple[np.ndarray, float]:
            if self.script == ["bad", "ok"]:
                self.script.pop(0)
                raise CameraError("cannot read webcam 0\nVIDEOIO(V4L2): select() timeout")
            return super().read()

    monkeypatch.setattr(cli.time, "sleep", lambda _s: None)
    assert len(list(cli._survive_errors(Chatty(["bad", "ok"], finite=False)))) == 1
    assert capsys.readouterr().err == ("buddy-emotion: warning: cannot read webcam 0 VIDEOIO(V4L2): select() timeout; "
                                       "retrying in 1 s\n")


def test_a_failed_reopen_is_counted_as_one_more_error_not_raised(monkeypatch, capsys) -> None:
    import buddy_emotion.cli as cli

    monkeypatch.setattr(cli.time, "sleep", lambda _s: None)
    cam = _ScriptedCamera(["lost", "ok"], finite=False, failing_opens=1)
    assert len(list(cli._survive_errors(cam))) == 1
    assert cam.open_calls == 2  # the failed reopen, then one after the read it made fail
    err = capsys.readouterr().err
    assert err.count("warning:") == 2 and "not open" in err


@pytest.mark.parametrize("kind", ["too small an image", "a video that stops"])
def test_analyze_goes_on_after_an_input_that_fails_midway(tmp_path, capsys, monkeypatch, astronaut_bgr,
                                                          kind) -> None:
    import buddy_emotion.cameras as cameras
    from buddy_emotion.errors import CameraError

    if kind == "too small an image":
        bad = tmp_path / "tiny.png"  # readable, but no frame to analyze: InvalidFrameError
        cv2.imwrite(str(bad), np.zeros((2, 2, 3), np.uint8))
    else:
        bad = tmp_path / "clip.avi"
        bad.write_bytes(b"stands for a video")

        class StoppingVideo:  # decodes one frame, then fails as a damaged recording does
            def __init__(self, path, step=None) -> None:
                self.fps = 5.0

            def __enter__(self) -> StoppingVideo:
                return self

            def __exit__(self, *_: object) -> None:
                pass

            def __iter__(self):
                yield astronaut_bgr, 0.0
                raise CameraError("clip.avi stopped delivering frames")

        monkeypatch.setattr(cameras, "VideoFileCamera", StoppingVideo)
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), astronaut_bgr)
    assert main(["analyze", str(bad), str(good), "--json"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out.splitlines()[-1])["source"] == str(good)
    assert "1 of 2 inputs could not be analyzed" in err


def test_plot_with_images_only_is_refused_after_reading_them(tmp_path, capsys, astronaut_bgr) -> None:
    pytest.importorskip("matplotlib")
    image = tmp_path / "face.png"
    cv2.imwrite(str(image), astronaut_bgr)
    assert main(["analyze", str(image), "--plot", str(tmp_path / "p.png")]) == 2
    assert "give a video file" in capsys.readouterr().err and not (tmp_path / "p.png").exists()


def test_plot_with_a_failed_image_reports_the_failure_not_the_missing_video(tmp_path, capsys) -> None:
    pytest.importorskip("matplotlib")
    bad = tmp_path / "text.jpg"
    bad.write_text("not an image")
    assert main(["analyze", str(bad), "--plot", str(tmp_path / "p.png")]) == 2
    err = capsys.readouterr().err
    assert "1 of 1 inputs could not be analyzed" in err and "give a video file" not in err


def test_plot_is_drawn_for_the_videos_that_worked_beside_a_failed_input(tmp_path, capsys, astronaut_bgr) -> None:
    pytest.importorskip("matplotlib")
    video = tmp_path / "clip.avi"
    _video(video, [astronaut_bgr] * 3)
    bad = tmp_path / "text.jpg"
    bad.write_text("not an image")
    assert main(["analyze", str(video), str(bad), "--plot", str(tmp_path / "p.png")]) == 2
    assert (tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")
    assert "1 of 2 inputs could not be analyzed" in capsys.readouterr().err


@pytest.mark.parametrize("setting", ["none", "debug", "users_opencv_level"])
def test_quieting_native_logs_uses_opencvs_logging_api_and_respects_the_users_settings(monkeypatch,
                                                                                      setting) -> None:
    import types

    import buddy_emotion.cli as cli

    set_to: list[int] = []
    monkeypatch.setattr(cv2, "utils", types.SimpleNamespace(
        logging=types.SimpleNamespace(setLogLevel=set_to.append, LOG_LEVEL_ERROR=2)))  # OpenCV >= 4.13
    for name in ("BUDDY_EMOTION_DEBUG", "OPENCV_LOG_LEVEL", "OPENCV_FFMPEG_LOGLEVEL"):
        monkeypatch.setenv(name, "")  # so that teardown restores each as it was
        monkeypatch.delenv(name)
    if setting == "debug":
        monkeypatch.setenv("BUDDY_EMOTION_DEBUG", "1")
    elif setting == "users_opencv_level":
        monkeypatch.setenv("OPENCV_LOG_LEVEL", "INFO")
    cli._quiet_native_logs()
    assert set_to == ([2] if setting == "none" else [])
    assert os.environ.get("OPENCV_FFMPEG_LOGLEVEL") == (None if setting == "debug" else "-8")


def test_a_video_that_cannot_be_opened_gets_no_plot(tmp_path, capsys) -> None:
    pytest.importorskip("matplotlib")
    bad = tmp_path / "broken.avi"
    bad.write_text("not a video")
    out = tmp_path / "p.png"
    assert main(["analyze", str(bad), "--plot", str(out)]) == 2
    assert not out.exists() and "broken.avi" in capsys.readouterr().err


def test_tta_choices_are_the_keras_backends_view_sets() -> None:
    """The CLI lists them by hand (importing the backend would slow every command down): keep them in step."""
    from buddy_emotion.backends.keras import TTA_VIEWS
    from buddy_emotion.cli import TTA_CHOICES

    assert set(TTA_CHOICES) == set(TTA_VIEWS)
