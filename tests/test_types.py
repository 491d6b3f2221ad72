from __future__ import annotations

import dataclasses

import pytest

from buddy_emotion import EMOTIONS, FaceBox, FaceEmotion, NoReadingReason, SadnessReading
from buddy_emotion.labels import FER2013_ORDER, normalize_label, parse_label_values


def test_canonical_labels() -> None:
    assert EMOTIONS == ("anger", "contempt", "disgust", "fear", "happiness", "neutral", "sadness", "surprise")
    assert "contempt" not in FER2013_ORDER and FER2013_ORDER[4] == "sadness"


@pytest.mark.parametrize("name,want", [("sad", "sadness"), ("Angry", "anger"), (" happy ", "happiness"),
                                       ("contempt", "contempt"), ("surprise", "surprise")])
def test_normalize_label(name: str, want: str) -> None:
    assert normalize_label(name) == want


def test_normalize_label_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="unknown emotion"):
        normalize_label("bored")


def test_parse_label_values() -> None:
    assert parse_label_values("sad=0.1, Fear=-0.25") == {"sadness": 0.1, "fear": -0.25}
    assert parse_label_values("none") == {}
    for bad in ("sad", "sad=x", "bored=0.1", "", "sad=0.1,"):
        with pytest.raises(ValueError):
            parse_label_values(bad)


def test_face_box() -> None:
    b = FaceBox(10, 20, 30, 40)
    assert (b.right, b.bottom, b.area, b.size, b.center) == (40, 60, 1200, 30, (25.0, 40.0))
    assert b.clip(35, 100) == FaceBox(10, 20, 25, 40)
    assert b.clip(5, 5) is None
    assert b.iou(b) == 1.0 and b.iou(FaceBox(100, 100, 5, 5)) == 0.0
    with pytest.raises(ValueError):
        FaceBox(0, 0, 0, 10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.x = 3  # type: ignore[misc]


def test_face_emotion_is_immutable_and_checked() -> None:
    f = FaceEmotion(None, {"sadness": 0.7, "neutral": 0.3}, "x")
    assert f.dominant == "sadness" and f.sadness == 0.7
    with pytest.raises(TypeError):
        f.scores["sadness"] = 0.1  # type: ignore[index]
    with pytest.raises(ValueError, match="unknown emotion"):
        FaceEmotion(None, {"sad": 1.0})
    with pytest.raises(ValueError, match="probability"):
        FaceEmotion(None, {"sadness": float("nan")})
    assert FaceEmotion(None, {"happiness": 1.0}).sadness is None


def test_reading_needs_a_reason_without_value() -> None:
    with pytest.raises(ValueError, match="reason"):
        SadnessReading(None, False, None, None, "x", 0.0)
    r = SadnessReading(None, False, None, None, "x", 0.0, NoReadingReason.NO_FACE)
    assert not r.ok and r.as_dict()["reason"] == "no_face"
