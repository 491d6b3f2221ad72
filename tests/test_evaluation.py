from __future__ import annotations

import json

import numpy as np
import pytest

from buddy_emotion.cli import main
from buddy_emotion.errors import ImageFileError
from buddy_emotion.evaluation import auroc, classification_report, load_labelled

CONTRACT_KEYS = {"n", "faces_found", "accuracy", "macro_f1", "per_class", "confusion", "sad_auroc", "latency_ms"}


def test_auroc_matches_definition() -> None:
    assert auroc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == pytest.approx(0.75)
    assert auroc([0.5, 0.5], [True, False]) == pytest.approx(0.5)
    assert auroc([0.1, 0.2], [True, True]) is None


def test_report_counts() -> None:
    true = [4, 4, 3, 6]
    probs = np.full((4, 7), 0.01)
    for i, k in enumerate([4, 6, 3, 6]):
        probs[i, k] = 0.94
    r = classification_report(true, probs)
    assert r["accuracy"] == 0.75 and r["n"] == 4 and r["faces_found"] == 1.0
    assert r["per_class"]["sadness"]["recall"] == 0.5 and r["per_class"]["sadness"]["n"] == 2
    assert r["confusion"][4][6] == 1 and len(r["confusion"]) == 7


def test_missing_faces_count_as_wrong() -> None:
    r = classification_report(["sadness", "happiness"], [None, {"happiness": 1.0}])
    assert r["accuracy"] == 0.5 and r["faces_found"] == 0.5


def _npz(tmp_path, n: int = 12):
    rng = np.random.default_rng(0)
    p = tmp_path / "faces.npz"
    np.savez(p, images=rng.integers(0, 255, (n, 48, 48), dtype=np.uint8), labels=np.arange(n) % 7,
             usage=np.array(["A", "B"] * (n // 2)))
    return p


def test_load_errors(tmp_path) -> None:
    with pytest.raises(ImageFileError, match="not found"):
        load_labelled(tmp_path / "none.npz")
    with pytest.raises(ImageFileError, match="split"):
        load_labelled(_npz(tmp_path), split="C")
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    with pytest.raises(ImageFileError):
        load_labelled(tmp_path / "bad.npz")
    with pytest.raises(ImageFileError, match="labels.csv"):
        load_labelled(tmp_path)


def test_cli_eval_json_contract(tmp_path, capsys) -> None:
    assert main(["eval", str(_npz(tmp_path)), "--split", "A", "--cropped", "--backend", "default", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert CONTRACT_KEYS <= set(report) and report["n"] == 6
    assert set(report["latency_ms"]) == {"median", "p95"}


def test_cli_eval_folder_of_full_photos(tmp_path, capsys, astronaut_bgr) -> None:
    import cv2

    from buddy_emotion.testing import blank_frame

    cv2.imwrite(str(tmp_path / "astronaut.png"), astronaut_bgr)
    cv2.imwrite(str(tmp_path / "empty.png"), blank_frame())
    (tmp_path / "labels.csv").write_text("path,label\nastronaut.png,happy\nempty.png,neutral\n")
    assert main(["eval", str(tmp_path), "--backend", "default", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["n"] == 2 and report["faces_found"] == 0.5


@pytest.mark.fer
def test_eval_publictest_default(fer_npz, capsys) -> None:
    assert main(["eval", str(fer_npz), "--split", "PublicTest", "--cropped", "--backend", "default",
                 "--limit", "400", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["n"] == 400 and report["faces_found"] == 1.0
    assert report["accuracy"] > 0.45  # chance is ~0.25 for the majority class
    assert report["sad_auroc"] > 0.7


def test_sad_bias_figures_move_the_sad_decision_only() -> None:
    from buddy_emotion.evaluation import sad_bias_figures

    # two faces: a sad one read as neutral by a hair, a neutral one read as neutral clearly
    probs = np.zeros((2, 7))
    probs[0, 4], probs[0, 6] = 0.45, 0.55
    probs[1, 4], probs[1, 6] = 0.10, 0.90
    true = np.array([4, 6])
    assert sad_bias_figures(probs, true, 0.0) == {"accuracy": 0.5, "sad_recall": 0.0, "sad_precision": 0.0}
    assert sad_bias_figures(probs, true, 0.3) == {"accuracy": 1.0, "sad_recall": 1.0, "sad_precision": 1.0}
    assert sad_bias_figures(probs, true, 3.0) == {"accuracy": 0.5, "sad_recall": 1.0, "sad_precision": 0.5}
