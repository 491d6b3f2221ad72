from __future__ import annotations

import sys

import numpy as np
import pytest

from buddy_emotion import backends
from buddy_emotion.backends.keras import KerasBackend, bundled_model_card, bundled_model_path
from buddy_emotion.errors import MissingDependencyError, ModelFileError
from buddy_emotion.testing import BackendContract


class TestKerasLiteRT(BackendContract):
    def make_backend(self) -> KerasBackend:
        return KerasBackend()


class TestDefaultBackend(BackendContract):
    def make_backend(self):
        return backends.create("default")


class TestKerasTensorFlow(BackendContract):
    """The same contract on the TensorFlow runtime (the bundled .keras file), where TensorFlow is installed."""

    def make_backend(self) -> KerasBackend:
        pytest.importorskip("tensorflow")
        return KerasBackend(runtime="tensorflow")


def test_bundled_files_and_card() -> None:
    assert bundled_model_path("litert").stat().st_size < 5_000_000
    card = bundled_model_card()
    assert card["output"]["labels"][4] == "sadness"
    assert 0 < card["publictest"]["accuracy"] <= 1


def test_labels_have_no_contempt() -> None:
    b = KerasBackend()
    assert "contempt" not in b.labels and "sadness" in b.labels and len(b.labels) == 7


def test_viability_says_when_the_model_file_is_missing(tmp_path) -> None:
    v = KerasBackend.viability(model_path=tmp_path / "none.tflite")
    assert not v.ok and "not found" in v.reason
    assert KerasBackend.viability().ok


def test_missing_model_file(tmp_path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        KerasBackend(tmp_path / "nope.tflite")


def test_corrupt_model_file(tmp_path) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"this is not a flatbuffer" * 10)
    with pytest.raises(ModelFileError):
        KerasBackend(bad)


def test_litert_rejects_keras_file() -> None:
    with pytest.raises(ModelFileError, match="tflite"):
        KerasBackend(bundled_model_path("tensorflow"), runtime="litert")


def test_wrong_label_count() -> None:
    with pytest.raises(ModelFileError, match="labels"):
        KerasBackend(labels=["happy", "sad"])


def test_own_model_with_label_order(tmp_path) -> None:
    # the bundled model under a permuted label order: the scores follow the given names
    order = ["neutral", "surprise", "sad", "happy", "fear", "disgust", "angry"]
    b = KerasBackend(bundled_model_path("litert"), labels=order, tta=False)
    ref = KerasBackend(tta=False, class_bias={})  # a file of your own gets no prior
    crop = np.random.default_rng(1).integers(0, 255, (48, 48), dtype=np.uint8)
    got = b.classify_faces([crop])[0].scores
    want = ref.classify_faces([crop])[0].scores
    assert got["neutral"] == pytest.approx(want["anger"], abs=1e-6)
    assert got["sadness"] == pytest.approx(want["fear"], abs=1e-6)


def test_tensorflow_runtime_missing_gives_hint(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # import tensorflow -> ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'buddy-emotion\[keras\]'"):
        KerasBackend(runtime="tensorflow")


def test_litert_missing_names_the_package_not_the_keras_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # a broken install
    with pytest.raises(MissingDependencyError, match="pip install ai-edge-litert") as info:
        KerasBackend()
    assert "[keras]" not in str(info.value)  # that extra installs TensorFlow, not LiteRT


def test_tensorflow_runtime_agrees_with_litert() -> None:
    pytest.importorskip("tensorflow")
    crops = [np.random.default_rng(i).integers(0, 255, (48, 48), dtype=np.uint8) for i in range(3)]
    lite = KerasBackend(runtime="litert").classify_faces(crops)
    tf_ = KerasBackend(runtime="tensorflow").classify_faces(crops)
    for a, b in zip(lite, tf_):
        for k in a.scores:
            assert a.scores[k] == pytest.approx(b.scores[k], abs=0.02)


def test_tensorflow_runtime_agrees_with_litert_on_a_batch_of_real_faces(fer_npz) -> None:
    pytest.importorskip("tensorflow")
    import keras

    with np.load(fer_npz) as d:
        faces = list(d["images"][d["usage"] == "PublicTest"][:64])
    lite = KerasBackend(runtime="litert", tta=False).classify_faces(faces)
    tf_ = KerasBackend(runtime="tensorflow", tta=False).classify_faces(faces)  # one batch of 64
    diff = max(abs(a.scores[k] - b.scores[k]) for a, b in zip(lite, tf_) for k in a.scores)
    assert diff < 0.06  # int8 against float: a float16 model run as stored was off by up to 0.66 here
    stored = keras.models.load_model(bundled_model_path("tensorflow"), compile=False)
    assert {str(w.dtype) for w in stored.weights} == {"float16"}  # half the bytes on disk


def test_tta_views_average_the_transformed_faces() -> None:
    import cv2

    face = np.random.default_rng(5).integers(0, 256, (48, 48), dtype=np.uint8)
    plain = KerasBackend(tta=False)

    def probs(img: np.ndarray) -> np.ndarray:
        scores = plain.classify_faces([img])[0].scores
        return np.array([scores[k] for k in sorted(scores)])

    m = cv2.getRotationMatrix2D((23.5, 23.5), 0.0, 1.08)
    zoomed = cv2.warpAffine(face, m, (48, 48), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    expected = (probs(face) + probs(face[:, ::-1].copy()) + probs(zoomed)) / 3
    views = KerasBackend(tta=[(1.0, False), (1.0, True), (1.08, False)])
    got = views.classify_faces([face])[0].scores
    np.testing.assert_allclose([got[k] for k in sorted(got)], expected, atol=2e-3)
    assert views.tta and not plain.tta
    assert KerasBackend(tta=True).views == ((1.0, False), (1.0, True))


def test_tta_by_name() -> None:
    from buddy_emotion.backends.keras import TTA_VIEWS

    assert KerasBackend(tta="none").views == ((1.0, False),)
    assert KerasBackend(tta="flip+zoom").views == TTA_VIEWS["flip+zoom"] and len(TTA_VIEWS["flip+zoom"]) == 4
    with pytest.raises(ValueError, match="flip\\+zoom"):  # the error lists the names
        KerasBackend(tta="zoom")


def test_bundled_tta_follows_the_card() -> None:
    from buddy_emotion.backends.keras import bundled_model_card

    card = bundled_model_card()
    expected = tuple((float(z), bool(f)) for z, f in card.get("tta_views", [[1.0, False], [1.0, True]]))
    assert KerasBackend().views == expected
    assert KerasBackend(bundled_model_path("litert")).views == ((1.0, False),)  # your own file: no TTA unless asked


def test_class_bias_multiplies_the_odds_of_its_label() -> None:
    faces = list(np.random.default_rng(8).integers(0, 256, (5, 48, 48), dtype=np.uint8))
    raw = KerasBackend(class_bias={}).classify_faces(faces)
    biased = KerasBackend(class_bias={"sad": 0.7}).classify_faces(faces)
    for r, b in zip(raw, biased):
        assert sum(b.scores.values()) == pytest.approx(1.0)
        odds = b.sadness / (1 - b.sadness) / (r.sadness / (1 - r.sadness))
        assert odds == pytest.approx(np.exp(0.7), rel=1e-6)
        others = [k for k in r.scores if k != "sadness"]  # the other labels keep their ratios
        assert b.scores[others[0]] / b.scores[others[1]] == pytest.approx(r.scores[others[0]] / r.scores[others[1]])


def test_bundled_class_bias_follows_the_card() -> None:
    card_bias = bundled_model_card().get("class_bias", {})
    assert KerasBackend().class_bias == card_bias
    assert KerasBackend(bundled_model_path("litert")).class_bias == {}  # your own file: no prior unless asked
    assert KerasBackend(class_bias={}).class_bias == {}


@pytest.mark.parametrize("bad", [{"bored": 0.1}, {"contempt": 0.1}, {"sadness": "x"}, {"sadness": float("nan")},
                                 {"sadness": 9.0}, [("sadness", 0.1)]])
def test_bad_class_bias_is_rejected(bad: object) -> None:
    with pytest.raises(ValueError):
        KerasBackend(class_bias=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [[], [(3.0, False)], "mirror", [(1.0,)], 5])
def test_bad_tta_is_rejected(bad: object) -> None:
    with pytest.raises(ValueError):
        KerasBackend(tta=bad)


@pytest.mark.parametrize("kwargs", [{"crop_scale": 0.0}, {"crop_scale": 9.0}, {"crop_shift": 2.0}])
def test_bad_crop_convention_is_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        KerasBackend(**kwargs)


def test_analyze_classifies_the_crop_its_convention_cuts(astronaut_bgr: np.ndarray) -> None:
    import cv2

    from buddy_emotion.face_detection import crop_face

    b = KerasBackend(tta=False)
    (face,) = b.analyze(astronaut_bgr)
    assert face.box is not None
    gray = cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY)
    crop = crop_face(gray, face.box, scale=b.crop_scale, shift=b.crop_shift)
    assert dict(face.scores) == pytest.approx(dict(b.classify_faces([crop])[0].scores), abs=1e-6)


def test_input_range_maps_both_ends() -> None:
    # (10, 137.5) maps a grey level p to 10 + p / 2, so a face 2k gives the input the default (0, 255) gives k + 10
    k = np.random.default_rng(3).integers(0, 100, (48, 48)).astype(np.uint8)
    got = KerasBackend(bundled_model_path(), input_range=(10.0, 137.5), tta=False).classify_faces([2 * k])
    want = KerasBackend(bundled_model_path(), tta=False).classify_faces([k + 10])
    assert dict(got[0].scores) == pytest.approx(dict(want[0].scores), abs=1e-5)


def test_crop_convention_defaults_to_the_detectors() -> None:
    from buddy_emotion.face_detection import BlazeFaceDetector, HaarFaceDetector

    assert (KerasBackend().crop_scale, KerasBackend().crop_shift) == BlazeFaceDetector.fer_crop
    haar = KerasBackend(detector=HaarFaceDetector())
    assert (haar.crop_scale, haar.crop_shift) == HaarFaceDetector.fer_crop
    assert KerasBackend(crop_scale=1.3).crop_scale == 1.3


@pytest.fixture(scope="module")
def channel_model(tmp_path_factory) -> str:
    """A 3-channel TFLite model whose class k is the brightest input channel k (to see the colour order)."""
    pytest.importorskip("tensorflow")
    import keras
    import tensorflow as tf

    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3, activation="softmax")])
    model.layers[-1].set_weights([np.eye(3, dtype=np.float32) * 0.05, np.zeros(3, np.float32)])
    path = tmp_path_factory.mktemp("model") / "channels.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return str(path)


@pytest.mark.parametrize(("color", "winner"), [("bgr", "neutral"), ("rgb", "happiness")])
def test_three_channel_model_gets_colour_in_its_order(channel_model, color: str, winner: str) -> None:
    red = np.zeros((40, 40, 3), np.uint8)
    red[..., 2] = 255  # BGR: pure red
    b = KerasBackend(channel_model, labels=["happy", "sad", "neutral"], color=color, tta=False)
    scores = b.classify_faces([red])[0].scores
    assert max(scores, key=scores.__getitem__) == winner

    class Box:  # a detector that finds the red square in a grey room
        fer_crop = (1.0, 0.0)

        def detect(self, gray: np.ndarray) -> list:
            from buddy_emotion.types import FaceBox

            return [FaceBox(100, 60, 40, 40)]

    frame = np.full((240, 320, 3), 90, np.uint8)
    frame[60:100, 100:140] = red
    b = KerasBackend(channel_model, labels=["happy", "sad", "neutral"], color=color, tta=False, detector=Box())
    (face,) = b.analyze(frame)
    assert max(face.scores, key=face.scores.__getitem__) == winner
    assert face.scores[winner] > 0.9


# -- argument checks --------------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"input_range": (float("nan"), float("nan"))}, ValueError, "input_range"),
    ({"input_range": (0.0, float("inf"))}, ValueError, "input_range"),
    ({"input_range": (0,)}, ValueError, "input_range"),
    ({"input_range": None}, ValueError, "input_range"),
    ({"input_range": (1.0, 1.0)}, ValueError, "input_range"),
    ({"input_range": ("0", 1)}, ValueError, "input_range"),
    ({"detector": "x"}, TypeError, "detector"),
    ({"model_path": 123}, TypeError, "model_path"),
    ({"labels": 5}, TypeError, "labels"),
    ({"num_threads": "x"}, ValueError, "num_threads"),
    ({"num_threads": -1}, ValueError, "num_threads"),
    ({"crop_scale": "x"}, ValueError, "crop_scale"),
    ({"crop_shift": float("nan")}, ValueError, "crop_shift"),
])
def test_bad_options_name_the_argument(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        KerasBackend(**kwargs)


def test_numpy_scalar_options_are_valid() -> None:
    b = KerasBackend(input_range=(np.float32(0), np.int64(255)), num_threads=np.int64(2),
                     crop_scale=np.float64(1.1), crop_shift=np.float32(0.0))
    assert b.input_range == (0.0, 255.0) and b.crop_scale == pytest.approx(1.1) and b.crop_shift == 0.0


@pytest.mark.parametrize("bad", [5, None, "face.png"])
def test_classify_faces_rejects_what_is_not_a_sequence_of_images(bad: object) -> None:
    from buddy_emotion.errors import InvalidFrameError

    with pytest.raises(InvalidFrameError, match="crops"):
        KerasBackend().classify_faces(bad)  # type: ignore[arg-type]


def test_track_takes_true_or_false_only() -> None:
    with pytest.raises(TypeError, match="track"):
        KerasBackend(track="no")  # a truthy string would turn tracking on


@pytest.mark.parametrize("name", ["haar", "opencv", "mtcnn"])
def test_a_detector_given_by_name_is_told_which_class_to_pass(name: str) -> None:
    from buddy_emotion import Detector

    with pytest.raises(TypeError, match=r"HaarFaceDetector\(\).*BlazeFaceDetector"):
        Detector(detector=name)


def test_a_wrong_detector_that_is_not_a_name_gets_no_by_name_hint() -> None:
    from buddy_emotion.backends.base import checked_detector

    with pytest.raises(TypeError, match="face detector") as info:
        checked_detector("detector", 42)
    assert "not chosen by name" not in str(info.value)


def test_a_closed_backend_does_not_load_a_new_face_detector() -> None:
    """close() dropped the detector, and the ``detector`` property then quietly built a new one (a model
    loaded into a closed backend), e.g. when Detector.reset() ran after close."""
    from buddy_emotion import Detector
    from buddy_emotion.errors import BackendUnavailableError

    b = KerasBackend()
    b.close()
    with pytest.raises(BackendUnavailableError, match="closed"):
        b.detector  # noqa: B018
    assert b._detector is None
    d = Detector()
    d.close()
    with pytest.raises(BackendUnavailableError, match="closed"):
        d.reset()


def test_close_drops_a_face_detector_that_was_loaded() -> None:
    from buddy_emotion.errors import BackendUnavailableError

    b = KerasBackend()
    assert b.detector is not None  # loaded before close
    b.close()
    with pytest.raises(BackendUnavailableError, match="closed"):
        b.detector  # noqa: B018


# faces partly outside the frame: the astronaut with part of its face cut off by one edge
def _cut(frame: np.ndarray, box, edge: str, share: float) -> tuple[slice, slice]:
    """The rows and columns of ``frame`` that leave ``share`` of ``box``'s side past ``edge``."""
    k = round(share * box.width)
    return {"left": (slice(None), slice(box.x + k, None)), "right": (slice(None), slice(None, box.right - k)),
            "top": (slice(box.y + k, None), slice(None)), "bottom": (slice(None, box.bottom - k), slice(None))}[edge]


@pytest.mark.parametrize(("edge", "share"), [("left", 0.3), ("right", 0.15), ("top", 0.15), ("bottom", 0.3)])
def test_a_face_cut_by_the_frame_edge_is_cropped_like_the_same_face_whole(edge: str, share: float) -> None:
    """Where the cut frame still shows the face, the crop the model gets matches the whole face's crop,
    far closer than a crop around the visible part (the reported box) does; that box stays in the frame."""
    from buddy_emotion.face_detection import crop_face
    from buddy_emotion.frames import to_gray
    from buddy_emotion.testing import sample_face_frame

    backend = KerasBackend()
    crops: list[np.ndarray] = []
    predict = backend._predict
    backend._predict = lambda faces: crops.extend(faces) or predict(faces)  # type: ignore[method-assign]
    frame = sample_face_frame()
    (whole,) = backend.analyze(frame)
    rows, cols = _cut(frame, whole.box, edge, share)
    part = np.ascontiguousarray(frame[rows, cols])
    (face,) = backend.analyze(part)
    h, w = part.shape[:2]
    assert 0 <= face.box.x and face.box.right <= w and 0 <= face.box.y and face.box.bottom <= h
    assert face.box == backend.detector.detect(to_gray(part))[0]  # the detector's box, reported as it is
    shown = np.zeros(frame.shape[:2], np.uint8)
    shown[rows, cols] = 255
    scale, shift = backend.crop_scale, backend.crop_shift
    visible = crop_face(shown, whole.box, scale=scale, shift=shift) == 255  # the whole crop's pixels still seen
    assert 0.5 < visible.mean() < 0.95
    ref, got = crops[0].astype(float), crops[1].astype(float)
    around_box = crop_face(to_gray(part), face.box, scale=scale, shift=shift).astype(float)
    diff = float(np.abs(got - ref)[visible].mean())
    assert diff < 0.6 * float(np.abs(around_box - ref)[visible].mean()), diff


def test_min_face_judges_the_reported_box_of_a_cut_face() -> None:
    """The Detector's min_face is judged on the box inside the frame, not on the whole face's extent."""
    from buddy_emotion import Detector
    from buddy_emotion.frames import to_gray
    from buddy_emotion.testing import sample_face_frame
    from buddy_emotion.types import NoReadingReason

    backend = KerasBackend()
    frame = sample_face_frame()
    (whole,) = backend.analyze(frame)
    part = np.ascontiguousarray(frame[_cut(frame, whole.box, "bottom", 0.3)])
    (box, extent), = backend.detector.detect_extents(to_gray(part))  # what analyze sees
    assert box.size < 0.8 * extent.size
    too_small = Detector(backend, min_face=box.size + 1).detect_sadness(part)
    assert too_small.reason is NoReadingReason.FACE_TOO_SMALL and too_small.box == box
    assert Detector(backend, min_face=box.size).detect_sadness(part).reason is None


class _Extents:
    """A detector that reports ``box`` and gives ``extent`` as the whole face."""

    def __init__(self, box, extent) -> None:
        self.box, self.extent = box, extent

    def detect(self, gray: np.ndarray) -> list:
        return [self.box]

    def detect_extents(self, gray: np.ndarray) -> list:
        return [(self.box, self.extent)]


def test_a_crop_of_the_extent_that_misses_the_frame_falls_back_to_the_box() -> None:
    from buddy_emotion.face_detection import crop_face
    from buddy_emotion.types import FaceBox

    frame = np.random.default_rng(0).integers(0, 256, (120, 160), dtype=np.uint8)
    box, extent = FaceBox(0, 40, 24, 40), FaceBox(-176, 40, 200, 200)  # a sliver of a large face
    crops: list[np.ndarray] = []
    backend = KerasBackend(detector=_Extents(box, extent), crop_scale=0.5)
    predict = backend._predict
    backend._predict = lambda faces: crops.extend(faces) or predict(faces)  # type: ignore[method-assign]
    (face,) = backend.analyze(frame)
    assert face.box == box
    assert np.array_equal(crops[0], crop_face(frame, box, scale=0.5, shift=backend.crop_shift))
    # an extent whose crop reaches the frame is used, the part past the frame filled with the mean
    backend._detector = _Extents(box, FaceBox(-16, 40, 40, 40))
    backend.analyze(frame)
    assert np.array_equal(crops[1], crop_face(frame, FaceBox(-16, 40, 40, 40), scale=0.5, shift=backend.crop_shift,
                                              pad="mean"))


def test_a_face_barely_past_the_edge_is_cropped_around_its_box() -> None:
    """Under a tenth of the face outside, the face keeps the crop around its box; from a tenth, the whole
    face's crop with the mean fill."""
    from buddy_emotion.face_detection import crop_face
    from buddy_emotion.types import FaceBox

    frame = np.random.default_rng(1).integers(0, 256, (120, 160), dtype=np.uint8)
    crops: list[np.ndarray] = []
    box = FaceBox(0, 40, 37, 40)
    backend = KerasBackend(detector=_Extents(box, FaceBox(-3, 40, 40, 40)))  # 7.5% of it outside
    predict = backend._predict
    backend._predict = lambda faces: crops.extend(faces) or predict(faces)  # type: ignore[method-assign]
    backend.analyze(frame)
    assert np.array_equal(crops[0], crop_face(frame, box, scale=backend.crop_scale, shift=backend.crop_shift))
    backend._detector = _Extents(box, FaceBox(-5, 40, 42, 40))  # 11.9%: the whole face's crop
    backend.analyze(frame)
    assert np.array_equal(crops[1], crop_face(frame, FaceBox(-5, 40, 42, 40), scale=backend.crop_scale,
                                              shift=backend.crop_shift, pad="mean"))


@pytest.mark.parametrize("pairs", [[(1, 2)], [None], [("a",)], [np.zeros((480, 640), np.uint8)]])
def test_a_detector_giving_other_than_box_pairs_is_refused_in_one_line(pairs: list) -> None:
    from buddy_emotion.errors import ArgumentTypeError
    from buddy_emotion.types import FaceBox

    class Odd(_Extents):
        def detect_extents(self, gray: np.ndarray) -> list:
            return pairs

    backend = KerasBackend(detector=Odd(FaceBox(0, 0, 40, 40), FaceBox(0, 0, 40, 40)))
    with pytest.raises(ArgumentTypeError, match=r"Odd\.detect_extents must give \(FaceBox, FaceBox\) pairs") as e:
        backend.analyze(np.random.default_rng(0).integers(0, 256, (120, 160), dtype=np.uint8))
    assert "\n" not in str(e.value) and len(str(e.value)) < 200  # an array is named by shape, not by its pixels


def test_a_large_batch_of_crops_runs_in_pieces_with_the_same_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    """LiteRT failed inside XNNPack ("failed to reshape") on ~30,000 crops at once; rows now go in pieces."""
    import buddy_emotion.backends.keras as keras_backend

    rng = np.random.default_rng(3)
    crops = [rng.integers(0, 256, (48, 48), dtype=np.uint8) for _ in range(7)]
    backend = KerasBackend()
    whole = [f.scores for f in backend.classify_faces(crops)]
    sizes: list[int] = []
    run = backend._run
    monkeypatch.setattr(keras_backend, "_MAX_BATCH", 4)
    monkeypatch.setattr(backend, "_run", lambda batch: sizes.append(len(batch)) or run(batch))
    pieces = [f.scores for f in backend.classify_faces(crops)]
    assert sizes == [4, 4, 4, 2]  # 7 crops x 2 views (flip) = 14 rows
    for a, b in zip(whole, pieces):
        assert a.keys() == b.keys() and all(abs(a[k] - b[k]) < 1e-4 for k in a)


@pytest.mark.parametrize(("options", "error"), [
    ({"input_range": 5}, "ArgumentTypeError"), ({"input_range": (1, 2, 3)}, "InvalidArgumentError"),
    ({"tta": 5}, "ArgumentTypeError"), ({"tta": [(1.0,)]}, "InvalidArgumentError"),
    ({"class_bias": 5}, "ArgumentTypeError"), ({"class_bias": ["sad"]}, "ArgumentTypeError"),
])
def test_a_wrong_type_of_option_is_a_type_error_and_a_wrong_value_a_value_error(options: dict, error: str) -> None:
    from buddy_emotion.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError) as info:
        KerasBackend(**options)
    assert type(info.value).__name__ == error
