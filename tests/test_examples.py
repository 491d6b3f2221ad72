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


def test_webcam_watch_samples_a_video_every_interval_of_its_own_time(astronaut_bgr: np.ndarray,
                                                                     tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"  # 5 s at 10 fps: readings at 0, 2 and 4 s, not 50
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (256, 256))
    for _ in range(50):
        writer.write(cv2.resize(astronaut_bgr, (256, 256)))
    writer.release()
    out = run("webcam_watch.py", "--camera", str(video), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert [float(line.split()[1]) for line in out.stdout.splitlines()] == [0.0, 2.0, 4.0], out.stdout


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


def test_asyncio_chatbot_runs_to_the_end_of_a_recording_and_fails_cleanly(recording: Path, tmp_path: Path) -> None:
    out = run("asyncio_chatbot.py", "--camera", str(recording), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "monitor ended: 4 samples, 0 events" in out.stdout and "Buddy:" not in out.stdout
    missing = run("asyncio_chatbot.py", "--camera", str(tmp_path / "no-such-clip.mp4"), cwd=tmp_path)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stdout.startswith("camera or model problem: no such file")


@pytest.mark.parametrize("example", ["asyncio_chatbot.py", "chatbot_integration.py", "pi_speaker.py"])
def test_chatbot_stops_and_says_why_when_the_monitor_gives_up_on_its_camera(example: str, astronaut_bgr: np.ndarray,
                                                                            tmp_path: Path) -> None:
    folder = tmp_path / "recording"
    folder.mkdir()
    cv2.imwrite(str(folder / "00.png"), astronaut_bgr)
    for i in (1, 2, 3):  # three frames in a row that do not decode: a replay gives up
        (folder / f"{i:02d}.png").write_bytes(b"not a png")
    cv2.imwrite(str(folder / "04.png"), astronaut_bgr)
    out = run(example, "--camera", str(folder), cwd=tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert out.stdout.splitlines() == ["monitor failed: 1 samples, 0 events",
                                       f"camera or model problem: ImageFileError: not a readable image (corrupt or "
                                       f"unsupported format): {folder / '03.png'}"]


def test_asyncio_chatbot_hands_an_event_from_the_monitor_thread_to_the_event_loop(fer_npz: Path,
                                                                                   tmp_path: Path) -> None:
    """70 calm samples calibrate the baseline, then 20 sad ones: the coroutine speaks once, mid-recording."""
    from buddy_emotion import Detector

    data = np.load(fer_npz)
    public = data["usage"] == "PublicTest"
    images, labels = data["images"][public], data["labels"][public]

    def frame(face: np.ndarray) -> np.ndarray:
        f = np.full((480, 640), 120, np.uint8)
        f[120:360, 200:440] = cv2.resize(face, (240, 240), interpolation=cv2.INTER_CUBIC)
        return cv2.cvtColor(f, cv2.COLOR_GRAY2BGR)

    with Detector() as detector:  # the clearest faces of each kind, so the test is about the bridge
        def by_sadness(label: int) -> list[int]:
            ids = np.flatnonzero(labels == label)[:200]
            return sorted(ids, key=lambda i: detector.detect_sadness(frame(images[i])).sadness or 0.0)

        calm, sad = by_sadness(3)[:70], by_sadness(4)[-20:]
    folder = tmp_path / "recording"
    folder.mkdir()
    for k, i in enumerate([*calm, *sad]):  # frames exist only in this test's temporary folder
        cv2.imwrite(str(folder / f"{k:03d}.png"), frame(images[i]))
    out = run("asyncio_chatbot.py", "--camera", str(folder), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("Buddy: You seem a bit down") == 1
    assert "monitor ended: 90 samples, 1 events" in out.stdout
    assert out.stdout.index("Buddy:") < out.stdout.index("monitor ended")
