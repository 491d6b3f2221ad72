"""The examples run end to end on a replayed recording (a folder of synthetic frames), and fail cleanly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def recording(tmp_path_factory, astronaut_bgr: np.ndarray) -> Path:
    folder = tmp_path_factory.mktemp("recording")
    for i in range(4):
        cv2.imwrite(str(folder / f"{i:02d}.png"), astronaut_bgr)
    return folder


def run(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_webcam_watch_replays_a_folder_and_stops_at_its_end(recording: Path, tmp_path: Path) -> None:
    out = run("webcam_watch.py", "--camera", str(recording), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("sadness") == 4 and "Traceback" not in out.stderr


def test_chatbot_integration_runs_the_monitor_to_the_end_of_a_recording(recording: Path, tmp_path: Path) -> None:
    out = run("chatbot_integration.py", "--camera", str(recording), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "monitor ended: 4 samples, 0 events" in out.stdout


def test_pi_speaker_on_a_recording_and_without_a_camera(recording: Path, tmp_path: Path) -> None:
    out = run("pi_speaker.py", "--camera", str(recording), "--baseline", str(tmp_path / "me.json"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "monitor ended: 4 samples" in out.stdout
    assert "baseline not saved" in out.stdout and not (tmp_path / "me.json").exists()  # 4 samples: not calibrated
    missing = run("pi_speaker.py", "--camera", str(tmp_path / "no-such-clip.mp4"), cwd=tmp_path)
    assert missing.returncode == 1 and missing.stdout.startswith("camera:") and "Traceback" not in missing.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written: frames stay in memory
    (tmp_path / "me.json").write_text("{not json")
    corrupt = run("pi_speaker.py", "--camera", str(recording), "--baseline", str(tmp_path / "me.json"), cwd=tmp_path)
    assert corrupt.returncode == 0 and "Traceback" not in corrupt.stderr, corrupt.stderr
    assert "baseline not loaded, calibrating afresh" in corrupt.stdout
