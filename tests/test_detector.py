from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from buddy_emotion import BackendUnavailableError, Detector, FaceBox, FaceEmotion, InvalidFrameError, NoReadingReason
from buddy_emotion.backends import EmotionBackend
from buddy_emotion.errors import ArgumentTypeError
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
    assert r.ok and r.face_count == 1 and r.backend == "keras"
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


def test_video_mode_starts_afresh_when_time_goes_back(astronaut_bgr: np.ndarray) -> None:
    with Detector(track=True) as d:
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
