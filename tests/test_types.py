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


@pytest.mark.parametrize("bad", [None, 5, "sad=nan", "sad=inf", "fear=-inf"])
def test_parse_label_values_rejects_non_text_and_non_finite(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_label_values(bad)  # type: ignore[arg-type]
    assert parse_label_values("NONE") == {}


def test_normalize_label_rejects_non_str() -> None:
    with pytest.raises(ValueError, match="str"):
        normalize_label(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("args", [(float("nan"), 0, 10, 10), (0, 0, float("inf"), 10), ("a", 0, 10, 10),
                                  (None, 0, 10, 10), (True, 0, 10, 10)])
def test_face_box_rejects_non_numbers(args: tuple) -> None:
    with pytest.raises(ValueError, match="FaceBox"):
        FaceBox(*args)


def test_face_box_accepts_numpy_and_float_numbers() -> None:
    import numpy as np

    assert FaceBox(np.int64(1), np.float32(2.0), 2.7, np.uint8(4)) == FaceBox(1, 2, 2, 4)


@pytest.mark.parametrize("box,scores,exc", [(None, None, TypeError), (None, [("sadness", 1.0)], TypeError),
                                            (None, {"sadness": "x"}, ValueError), (None, {}, ValueError),
                                            ("abc", {"sadness": 1.0}, TypeError),
                                            ((0, 0, 5, 5), {"sadness": 1.0}, TypeError)])
def test_face_emotion_checks_box_and_scores(box: object, scores: object, exc: type) -> None:
    with pytest.raises(exc, match="box|scores|score of|emotion label"):
        FaceEmotion(box, scores)  # type: ignore[arg-type]


@pytest.mark.parametrize("kwargs", [{"sadness": float("nan")}, {"sadness": 5.0}, {"sadness": -0.1},
                                    {"sadness": "0.5"}, {"timestamp": float("nan")}, {"timestamp": float("inf")},
                                    {"timestamp": "12"}, {"box": "abc"}, {"threshold": 2.0}, {"face_count": -1},
                                    {"reason": "no_face"}])
def test_reading_checks_its_fields(kwargs: dict) -> None:
    fields = {"sadness": 0.2, "is_sad": False, "box": None, "scores": None, "backend": "x", "timestamp": 0.0,
              "face_count": 1, **kwargs}
    with pytest.raises((ValueError, TypeError), match=next(iter(kwargs))):
        SadnessReading(**fields)
    import numpy as np

    assert SadnessReading(np.float32(0.5), True, FaceBox(0, 0, 9, 9), None, "x", np.float64(1.0)).ok


def test_clip_of_a_box_touching_the_frame_edge_from_outside_is_none() -> None:
    assert FaceBox(10, 10, 5, 5).clip(10, 100) is None  # starts at the right edge: nothing inside
    assert FaceBox(-5, 0, 5, 5).clip(10, 100) is None  # ends at the left edge
    assert FaceBox(8, 0, 5, 5).clip(10, 100) == FaceBox(8, 0, 2, 5)


def test_scores_above_one_are_refused() -> None:
    with pytest.raises(ValueError):
        FaceEmotion(None, {"sadness": 1.2})


def _reading_with_a_face() -> SadnessReading:
    face = FaceEmotion(FaceBox(1, 2, 50, 50), {"sadness": 0.7, "neutral": 0.2, "happiness": 0.1}, "keras")
    return SadnessReading(0.7, True, face.box, face.scores, "keras", 12.5, None, 1, 0.5, (face,))


def test_results_pickle_and_deepcopy_for_process_pools() -> None:
    import copy
    import pickle

    r = _reading_with_a_face()
    for clone in (pickle.loads(pickle.dumps(r)), copy.deepcopy(r)):
        assert clone == r and clone.faces == r.faces and dict(clone.scores or {}) == dict(r.scores or {})
        with pytest.raises(TypeError):
            clone.faces[0].scores["sadness"] = 0.1  # type: ignore[index]


def test_scores_serialise_as_they_are() -> None:
    import json

    r = _reading_with_a_face()
    assert json.loads(json.dumps(r.scores)) == {"sadness": 0.7, "neutral": 0.2, "happiness": 0.1}
    assert json.loads(json.dumps(r.faces[0].scores)) == dict(r.faces[0].scores)
    assert dataclasses.asdict(r)["scores"] == {"sadness": 0.7, "neutral": 0.2, "happiness": 0.1}
    scores = r.scores
    assert scores is not None
    for mutate in (lambda: scores.update(sadness=0.1), lambda: scores.pop("sadness"),  # type: ignore[attr-defined]
                   lambda: scores.clear(), lambda: scores.setdefault("fear", 0.1)):  # type: ignore[attr-defined]
        with pytest.raises(TypeError, match="read-only"):
            mutate()
    assert dict(scores) == {"sadness": 0.7, "neutral": 0.2, "happiness": 0.1}


def test_reading_dominant_is_the_main_faces_top_label() -> None:
    r = _reading_with_a_face()
    assert r.dominant == "sadness" and r.as_dict()["dominant"] == "sadness"
    empty = SadnessReading(None, False, None, None, "x", 0.0, NoReadingReason.NO_FACE)
    assert empty.dominant is None and empty.as_dict()["dominant"] is None


def test_every_changing_dict_method_of_scores_is_refused() -> None:
    scores = _reading_with_a_face().scores
    assert scores is not None

    def ior() -> None:
        s = scores
        s |= {"fear": 0.1}  # type: ignore[operator]

    def delete() -> None:
        del scores["sadness"]  # type: ignore[attr-defined]

    for mutate in (delete, ior, lambda: scores.popitem()):  # type: ignore[attr-defined]
        with pytest.raises(TypeError, match="read-only"):
            mutate()
    assert dict(scores) == {"sadness": 0.7, "neutral": 0.2, "happiness": 0.1}


def test_reading_dominant_is_the_most_probable_not_the_last_label() -> None:
    r = SadnessReading(0.2, False, None, {"happiness": 0.7, "sadness": 0.2, "neutral": 0.1}, "keras", 1.0)
    assert r.dominant == "happiness" and r.as_dict()["dominant"] == "happiness"
    no_scores = SadnessReading(None, False, None, {}, "x", 0.0, NoReadingReason.NO_FACE)
    assert no_scores.dominant is None and no_scores.as_dict()["dominant"] is None
