"""What `pip install .` gets: the wheel and the sdist that hatchling builds from this checkout.

The bundled models must reach a non-editable install (the README's first command), the core install must
stay free of TensorFlow and the other heavy extras (the Pi target), and nothing that is not part of the
repository (training runs, benchmark caches, FER-2013 arrays) may be shipped.
"""

from __future__ import annotations

import email
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("hatchling", reason="the test extra installs hatchling")

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "torch", "dlib", "azure", "matplotlib", "picamera2", "keras", "mediapipe")


def _tracked(prefix: str) -> set[str]:
    """The repository's files under ``prefix``: tracked, or new and not ignored (a test not yet added)."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", prefix], cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    return set(out.stdout.split())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-d", str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


def test_the_wheel_ships_every_tracked_package_file_and_nothing_else(built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["wheel"]) as whl:
        names = whl.namelist()
    package = {n for n in names if n.startswith("buddy_emotion/")}
    expected = {p.removeprefix("src/") for p in _tracked("src/buddy_emotion")}
    assert package == expected
    for needed in ("buddy_emotion/py.typed", "buddy_emotion/models/fer_cnn.tflite",
                   "buddy_emotion/models/face_detection_back.tflite", "buddy_emotion/models/fer_cnn.json",
                   "buddy_emotion/models/NOTICE"):
        assert needed in package
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_the_core_install_needs_no_heavy_dependency(built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["wheel"]) as whl:
        (meta_name,) = [n for n in whl.namelist() if n.endswith(".dist-info/METADATA")]
        meta = email.message_from_bytes(whl.read(meta_name))
        (entry_name,) = [n for n in whl.namelist() if n.endswith(".dist-info/entry_points.txt")]
        entry_points = whl.read(entry_name).decode()
    requires = meta.get_all("Requires-Dist") or []
    core = [r for r in requires if "extra ==" not in r]
    assert core, "the core install has dependencies (numpy, OpenCV, LiteRT)"
    assert any(r.startswith("ai-edge-litert") for r in core)
    assert not [r for r in core if r.lower().startswith(HEAVY)]
    extras = set(meta.get_all("Provides-Extra") or [])
    assert {"keras", "dlib", "azure", "pi", "plot", "test"} <= extras
    assert "buddy-emotion = buddy_emotion.cli:main" in entry_points


def test_the_sdist_holds_only_tracked_files(built: dict[str, Path]) -> None:
    with tarfile.open(built["sdist"]) as sdist:
        names = {m.name.split("/", 1)[1] for m in sdist.getmembers() if m.isfile() and "/" in m.name}
    names.discard("PKG-INFO")
    untracked = names - _tracked(".")
    assert not untracked
    assert "src/buddy_emotion/models/fer_cnn.tflite" in names and "README.md" in names
