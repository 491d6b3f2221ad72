from __future__ import annotations

import copy
import dataclasses
import math
import pickle
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from buddy_emotion import (
    BackendUnavailableError,
    Detector,
    DetectorOptions,
    FaceBox,
    FaceEmotion,
    InvalidFrameError,
    NoReadingReason,
    backends,
)
from buddy_emotion.backends import EmotionBackend
from buddy_emotion.errors import ArgumentTypeError, InvalidArgumentError
from buddy_emotion.testing import blank_frame


class _Scripted(EmotionBackend):
    name = "scripted"
    labels = ("happiness", "sadness")

    def __init__(self, faces: list[FaceEmotion]) -> None:
        self.faces = faces
        self.closed = False

    def analyze(self, frame: np.ndarray) -> list[FaceEmotion]:
        return list(self.faces)

    def close(self) -> None:
        self.closed = True


def _face(x: int, size: int, sad: float) -> FaceEmotion:
    return FaceEmotion(FaceBox(x, 10, size, size), {"sadness": sad, "happiness": 1 - sad}, "scripted")


FRAME = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)


def test_main_face_is_the_largest() -> None:
    d = Detector(_Scripted([_face(0, 50, 0.9), _face(100, 80, 0.2)]))
    r = d.detect_sadness(FRAME, timestamp=5.0)
    assert r.sadness == pytest.approx(0.2) and not r.is_sad
    assert r.box == FaceBox(100, 10, 80, 80) and r.face_count == 2 and r.timestamp == 5.0
    assert [f.box.width for f in r.faces] == [80, 50]


def test_threshold_and_reasons() -> None:
    # the threshold is the detector's own (0.6 is sad at the default 0.5) and inclusive
    r = Detector(_Scripted([_face(0, 60, 0.6)]), threshold=0.7).detect_sadness(FRAME)
    assert r.sadness == pytest.approx(0.6) and not r.is_sad and r.threshold == 0.7
    assert Detector(_Scripted([_face(0, 60, 0.7)]), threshold=0.7).detect_sadness(FRAME).is_sad
    assert Detector(_Scripted([_face(0, 60, 0.6)]), threshold=0.55).detect_sadness(FRAME).is_sad
    assert Detector(_Scripted([]), min_face=40).detect_sadness(FRAME).reason is NoReadingReason.NO_FACE
    assert Detector(_Scripted([_face(0, 40, 0.9)]), min_face=40).detect_sadness(FRAME).reason is None  # inclusive
    assert Detector(_Scripted([_face(0, 39, 0.9)]), min_face=40).detect_sadness(FRAME).reason is (
        NoReadingReason.FACE_TOO_SMALL)
    small = Detector(_Scripted([_face(0, 20, 0.9)]), min_face=40).detect_sadness(FRAME)
    assert small.reason is NoReadingReason.FACE_TOO_SMALL and small.sadness is None and not small.is_sad
    black = Detector(_Scripted([_face(0, 60, 0.9)])).detect_sadness(np.zeros((100, 100, 3), np.uint8))
    assert black.reason is NoReadingReason.BAD_FRAME


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        Detector(_Scripted([]), threshold=1.5)
    with pytest.raises(InvalidFrameError):
        Detector(_Scripted([])).detect_sadness(None)  # type: ignore[arg-type]


def test_backend_without_sadness_is_refused() -> None:
    class _Happy(_Scripted):
        labels = ("happiness",)

    with pytest.raises(ValueError, match="sadness"):
        Detector(_Happy([]))


def test_instance_backend_is_not_closed_by_detector() -> None:
    b = _Scripted([])
    with Detector(b):
        pass
    assert not b.closed


def test_default_detector_on_astronaut(astronaut_bgr: np.ndarray) -> None:
    with Detector() as d:
        r = d.detect_sadness(astronaut_bgr)
        assert d.detect_sadness(blank_frame()).reason is NoReadingReason.NO_FACE
    assert r.ok and r.face_count == 1 and r.backend == "keras" and d.backend_name == "keras"  # as README says
    # her face: roughly x 170..280, y 60..170 in the 512x512 image
    assert r.box is not None and 150 < r.box.center[0] < 300 and 50 < r.box.center[1] < 200
    assert abs(sum(r.scores.values()) - 1) < 1e-3
    with pytest.raises(BackendUnavailableError, match="closed"):  # the with block closed it
        d.detect_sadness(astronaut_bgr)


def test_default_path_never_imports_tensorflow(tmp_path) -> None:
    code = (
        "import sys, numpy as np\n"
        "from buddy_emotion import Detector\n"
        "from skimage import data\n"
        "r = Detector().detect_sadness(np.ascontiguousarray(data.astronaut()[:, :, ::-1]))\n"
        "assert r.ok\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.strip() == "False False"
    assert list(tmp_path.iterdir()) == []  # nothing written to disk


@pytest.mark.parametrize("kwargs", [{"threshold": "0.7"}, {"threshold": None}, {"threshold": True},
                                    {"threshold": float("nan")}, {"min_face": float("nan")},
                                    {"min_face": float("inf")}, {"min_face": "abc"}, {"min_face": None}])
def test_bad_options_name_the_argument(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Detector(_Scripted([]), **kwargs)


@pytest.mark.parametrize(("args", "kwargs", "says"), [((None,), {}, "backend name must be a string"),
                                                    ((5,), {}, "backend name must be a string"),
                                                    (("default",), {"track": "yes"}, "track must be True or False"),
                                                    (("default",), {"track": 1}, "track must be True or False")])
def test_a_wrong_type_is_a_type_error(args: tuple, kwargs: dict, says: str) -> None:
    with pytest.raises(ArgumentTypeError, match=says) as info:
        Detector(*args, **kwargs)
    assert isinstance(info.value, TypeError) and not isinstance(info.value, KeyError)


@pytest.mark.parametrize("ts", [float("nan"), float("inf"), "12", "abc", [1.0], True])
def test_timestamp_must_be_a_finite_number(ts: object) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        Detector(_Scripted([_face(0, 60, 0.5)])).detect_sadness(FRAME, timestamp=ts)  # type: ignore[arg-type]


def test_numpy_timestamp_is_valid() -> None:
    r = Detector(_Scripted([_face(0, 60, 0.5)])).detect_sadness(FRAME, timestamp=np.float32(3.0))
    assert r.timestamp == 3.0


@pytest.mark.parametrize("junk", [None, ["x"], "abc", {"sadness": 0.5}])
def test_backend_returning_junk_gives_backend_error(junk: object) -> None:
    from buddy_emotion.errors import BackendError

    class _Junk(_Scripted):
        def analyze(self, frame: np.ndarray) -> list[FaceEmotion]:
            return junk  # type: ignore[return-value]

    with pytest.raises(BackendError, match="analyze"):
        Detector(_Junk([])).detect_sadness(FRAME, 0.0)


def test_a_plug_ins_own_exception_reaches_the_caller_as_a_backend_error() -> None:
    from buddy_emotion.errors import BackendError

    class _Exploding(_Scripted):
        def analyze(self, frame: np.ndarray) -> list[FaceEmotion]:
            raise RuntimeError("model exploded")

    d = Detector(_Exploding([]))
    for call in (lambda: d.analyze(FRAME), lambda: d.detect_sadness(FRAME, 0.0)):
        with pytest.raises(BackendError, match="'scripted' failed: RuntimeError: model exploded") as info:
            call()
        assert isinstance(info.value.__cause__, RuntimeError)


def test_a_face_without_a_sadness_score_is_a_backend_error_naming_the_labels() -> None:
    from buddy_emotion.errors import BackendError

    face = FaceEmotion(FaceBox(10, 10, 80, 80), {"happiness": 1.0}, "scripted")
    with pytest.raises(BackendError, match=r"without 'sadness' \(scores: happiness; its labels: happiness, sadness\)"):
        Detector(_Scripted([face])).detect_sadness(FRAME, 0.0)


def test_reset_starts_a_new_stream_in_video_mode(astronaut_bgr: np.ndarray) -> None:
    with Detector(track=True) as d:
        assert d.detect_sadness(astronaut_bgr).ok
        tracker = d.backend.detector  # type: ignore[attr-defined]
        assert tracker._last is not None  # following her face
        d.reset()
        assert tracker._last is None  # the next frame is searched whole
        assert d.detect_sadness(astronaut_bgr).ok
    with Detector() as plain:
        plain.reset()  # no video mode: nothing to forget


@pytest.mark.parametrize("make", [lambda: Detector(track=True),
                                  lambda: Detector.from_options(DetectorOptions(running_mode="video"))])
def test_video_mode_starts_afresh_when_time_goes_back(astronaut_bgr: np.ndarray, make: Callable[[], Detector]) -> None:
    with make() as d:
        tracker = d.backend.detector  # type: ignore[attr-defined]
        assert d.detect_sadness(astronaut_bgr, timestamp=5.0).ok
        assert d.detect_sadness(astronaut_bgr, timestamp=6.0).ok and tracker._last is not None
        d.detect_sadness(np.zeros_like(astronaut_bgr), timestamp=0.0)  # a replay from the start: bad frame
        assert tracker._last is None  # the tracked face was forgotten


def test_classify_faces_scores_crops_in_order_without_detection(astronaut_bgr: np.ndarray) -> None:
    import cv2

    from buddy_emotion.face_detection import crop_face

    d = Detector()
    box = d.analyze(astronaut_bgr)[0].box
    assert box is not None
    crop = crop_face(cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY), box)
    crops = [crop, crop[:, ::-1], np.full((48, 48), 128, np.uint8)]  # a blank crop is still scored
    faces = d.classify_faces(crops)
    assert [f.box for f in faces] == [None, None, None]
    assert all(abs(sum(f.scores.values()) - 1) < 1e-3 and f.sadness is not None for f in faces)
    assert faces[0].scores == d.backend.classify_faces([crop])[0].scores  # the backend's own answer
    assert [f.scores for f in d.classify_faces(np.stack(crops))] == [f.scores for f in faces]  # an (N,H,W) array
    assert d.classify_faces([]) == []


@pytest.mark.parametrize("bad", [None, "face.png", np.zeros((48, 48), np.uint8), [None], [np.zeros((48, 48))]])
def test_classify_faces_refuses_what_is_not_a_sequence_of_images(bad: object) -> None:
    with pytest.raises(InvalidFrameError):
        Detector().classify_faces(bad)  # type: ignore[arg-type]


def test_classify_faces_wraps_plug_in_failures_and_refuses_a_wrong_count() -> None:
    from buddy_emotion.errors import BackendError

    crop = np.full((48, 48), 100, np.uint8)
    with pytest.raises(BackendError, match="cannot classify face crops"):  # the base class: full frames only
        Detector(_Scripted([])).classify_faces([crop])

    class _Exploding(_Scripted):
        def classify_faces(self, crops: object) -> list[FaceEmotion]:
            raise RuntimeError("model exploded")

    with pytest.raises(BackendError, match="'scripted' failed: RuntimeError: model exploded") as info:
        Detector(_Exploding([])).classify_faces([crop])
    assert isinstance(info.value.__cause__, RuntimeError)

    class _Short(_Scripted):
        def classify_faces(self, crops: object) -> list[FaceEmotion]:
            return [FaceEmotion(None, {"sadness": 0.5, "happiness": 0.5}, "scripted")]

    with pytest.raises(BackendError, match="1 results for 2 crops"):
        Detector(_Short([])).classify_faces([crop, crop])

    class _Junk(_Scripted):
        def classify_faces(self, crops: object) -> list[FaceEmotion]:
            return ["x"]  # type: ignore[list-item]

    with pytest.raises(BackendError, match=r"classify_faces\(\) returned a str item"):
        Detector(_Junk([])).classify_faces([crop])


def test_classify_faces_hands_a_plug_in_a_checked_list_and_returns_a_list() -> None:
    """A plug-in that does not check its input gets a list (a generator is read once), never ``None``; a tuple
    it returns comes back as the documented list."""
    seen: list[object] = []

    class _Echo(_Scripted):
        def classify_faces(self, crops: object) -> list[FaceEmotion]:
            seen.append(crops)
            return tuple(FaceEmotion(None, {"sadness": 0.5, "happiness": 0.5}, "scripted")  # type: ignore[return-value]
                         for _ in crops)  # type: ignore[attr-defined]

    crop = np.full((48, 48), 100, np.uint8)
    faces = Detector(_Echo([])).classify_faces(c for c in [crop, crop])  # type: ignore[arg-type]
    assert isinstance(faces, list) and len(faces) == 2
    assert isinstance(seen[0], list)
    with pytest.raises(InvalidFrameError):
        Detector(_Echo([])).classify_faces(None)  # type: ignore[arg-type]
    assert len(seen) == 1


class _Recorded(_Scripted):
    """Remembers the options each instance was built with (registered by name in the tests below)."""

    built: list[dict[str, Any]] = []

    def __init__(self, *, tta: bool = True, class_bias: dict | None = None, track: bool = False) -> None:
        super().__init__([_face(0, 60, 0.6)])
        self.built.append({"tta": tta, "class_bias": class_bias, "track": track})


class _Untracked(_Recorded):
    def __init__(self, *, tta: bool = True) -> None:  # no face tracker
        super().__init__(tta=tta)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    monkeypatch.setitem(backends._REGISTERED, "recorded", backends._Entry(_Recorded))
    monkeypatch.setitem(backends._REGISTERED, "untracked", backends._Entry(_Untracked))
    monkeypatch.setattr(_Recorded, "built", [])
    return _Recorded.built


@pytest.mark.parametrize(("options", "args", "kwargs"), [
    (DetectorOptions("recorded"), ("recorded",), {}),
    (DetectorOptions("recorded", threshold=0.7, min_face=60,
                     backend_options={"tta": False, "class_bias": {"sadness": 0.1}}),
     ("recorded",), {"threshold": 0.7, "min_face": 60, "tta": False, "class_bias": {"sadness": 0.1}}),
    (DetectorOptions("recorded", running_mode="video", backend_options={"tta": False}),
     ("recorded",), {"track": True, "tta": False}),
])
def test_options_build_what_the_keyword_form_builds(recorded: list, options: DetectorOptions, args: tuple,
                                                    kwargs: dict) -> None:
    by_options, by_keywords = Detector.from_options(options), Detector(*args, **kwargs)
    assert recorded[0] == recorded[1] and len(recorded) == 2  # the backend got the same options
    assert (by_options.threshold, by_options.min_face) == (by_keywords.threshold, by_keywords.min_face)
    assert repr(by_options) == repr(by_keywords)
    assert by_options.detect_sadness(FRAME, 1.0) == by_keywords.detect_sadness(FRAME, 1.0)


def test_options_in_video_mode_build_the_tracker_of_track_true(astronaut_bgr: np.ndarray) -> None:
    options = DetectorOptions(threshold=0.3, running_mode="video", backend_options={"tta": False})
    with Detector.from_options(options) as a, Detector(threshold=0.3, track=True, tta=False) as b:
        assert a.backend.detector.track and b.backend.detector.track  # type: ignore[attr-defined]
        assert a.backend.views == b.backend.views  # type: ignore[attr-defined]
        assert a.detect_sadness(astronaut_bgr, 1.0) == b.detect_sadness(astronaut_bgr, 1.0)
    with Detector.from_options(DetectorOptions()) as plain:
        assert not plain.backend.detector.track  # type: ignore[attr-defined]


def test_video_mode_on_a_backend_without_a_tracker_is_refused(recorded: list) -> None:
    with pytest.raises(InvalidArgumentError, match="running_mode='video' needs a backend with a face tracker; "
                                                   "backend 'untracked' has none"):
        Detector.from_options(DetectorOptions("untracked", running_mode="video"))
    assert recorded == []  # refused before building anything
    assert Detector.from_options(DetectorOptions("untracked")).backend_name == "scripted"


@pytest.mark.parametrize(("name", "value", "error"), [
    ("backend", None, ArgumentTypeError), ("backend", 5, ArgumentTypeError), ("backend", "", InvalidArgumentError),
    ("threshold", 1.5, InvalidArgumentError), ("threshold", -0.1, InvalidArgumentError),
    ("threshold", math.nan, InvalidArgumentError), ("threshold", "0.5", ArgumentTypeError),
    ("threshold", True, ArgumentTypeError), ("threshold", None, ArgumentTypeError),
    ("min_face", 0, InvalidArgumentError), ("min_face", 2.5, InvalidArgumentError),
    ("min_face", math.inf, InvalidArgumentError), ("min_face", "40", ArgumentTypeError),
    ("running_mode", "live_stream", InvalidArgumentError), ("running_mode", "VIDEO", InvalidArgumentError),
    ("running_mode", None, ArgumentTypeError), ("running_mode", 1, ArgumentTypeError),
    ("backend_options", None, ArgumentTypeError), ("backend_options", [("tta", False)], ArgumentTypeError),
    ("backend_options", {1: False}, ArgumentTypeError), ("backend_options", {"track": True}, InvalidArgumentError),
    ("backend_options", {"threshold": 0.3}, InvalidArgumentError),
])
def test_options_refuse_bad_values_naming_the_field(name: str, value: object, error: type) -> None:
    with pytest.raises(error, match=name):
        DetectorOptions(**{name: value})
    with pytest.raises(error):  # replace() checks again
        dataclasses.replace(DetectorOptions(), **{name: value})


def test_options_are_immutable_and_copy_what_they_are_given() -> None:
    given = {"tta": False}
    options = DetectorOptions(threshold=np.float32(0.25), min_face=np.int64(50), backend_options=given)
    given["tta"] = True  # the caller's dict is not the options' one
    assert options.backend_options == {"tta": False}
    assert type(options.threshold) is float and type(options.min_face) is int
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.threshold = 0.9  # type: ignore[misc]
    with pytest.raises(TypeError):
        options.backend_options["tta"] = True  # type: ignore[index]
    changed = dataclasses.replace(options, running_mode="video")
    assert changed.running_mode == "video" and changed.backend_options == {"tta": False} and options != changed
    text = repr(options)
    assert text == ("DetectorOptions(backend='default', threshold=0.25, min_face=50, running_mode='image', "
                    "backend_options={'tta': False})")
    assert eval(text, {"DetectorOptions": DetectorOptions}) == options
    assert pickle.loads(pickle.dumps(options)) == options == copy.deepcopy(options)
    # hashable like MonitorOptions (a dict key, a set member), equal options hashing alike
    assert len({options, DetectorOptions(threshold=0.25, min_face=50, backend_options={"tta": False}),
                changed}) == 2


def test_options_copies_keep_every_field_and_equal_options_hash_alike() -> None:
    options = DetectorOptions("recorded", threshold=0.7, min_face=60, running_mode="video",
                              backend_options={"tta": False, "num_threads": 2})
    for copied in (pickle.loads(pickle.dumps(options)), copy.deepcopy(options), copy.copy(options)):
        assert repr(copied) == repr(options) and copied == options
    reordered = dataclasses.replace(options, backend_options={"num_threads": 2, "tta": False})
    assert reordered == options and hash(reordered) == hash(options)  # a dict's order is not part of equality


def test_options_with_unhashable_values_still_hash_and_equal_ones_hash_alike() -> None:
    # class_bias is a dict and labels a list: the options stay usable as a dict key or a set member
    options = DetectorOptions(backend_options={"class_bias": {"sad": 0.2, "neutral": -0.1},
                                               "labels": ["sad", "happy"], "weights": np.arange(3.0)})
    same = DetectorOptions(backend_options={"weights": np.arange(3.0), "labels": ["sad", "happy"],
                                            "class_bias": {"neutral": -0.1, "sad": 0.2}})
    assert hash(options) == hash(same)
    other = DetectorOptions(backend_options={"class_bias": {"sad": 0.3, "neutral": -0.1},
                                             "labels": ["sad", "happy"], "weights": np.arange(3.0)})
    assert hash(other) != hash(options)
    plain = DetectorOptions(backend_options={"class_bias": {"sad": 0.2}})
    assert {plain: 1}[DetectorOptions(backend_options={"class_bias": {"sad": 0.2}})] == 1
    assert len({plain, DetectorOptions(backend_options={"class_bias": {"sad": 0.2}}),
                DetectorOptions(backend_options={"class_bias": {"sad": 0.1}})}) == 2


def test_options_go_through_from_options_alone() -> None:
    options = DetectorOptions(threshold=0.7)
    for call in (lambda: Detector(options), lambda: Detector(threshold=0.7, options=options)):  # type: ignore[arg-type]
        with pytest.raises(ArgumentTypeError, match=r"Detector.from_options\(options\), without other arguments"):
            call()
    with pytest.raises(TypeError):
        Detector.from_options(options, threshold=0.6)  # type: ignore[call-arg]
    with pytest.raises(ArgumentTypeError, match="options must be a DetectorOptions, got {'threshold': 0.7}"):
        Detector.from_options({"threshold": 0.7})  # type: ignore[arg-type]


def test_detector_options_is_exported_lazily() -> None:
    code = ("import sys, buddy_emotion\n"
            "print('buddy_emotion.detector' in sys.modules, buddy_emotion.DetectorOptions.__name__, "
            "'DetectorOptions' in buddy_emotion.__all__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "DetectorOptions", "True"]
