from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buddy_emotion import landmarks as L
from buddy_emotion.backends.dlib import DlibBackend, bundled_model_card, bundled_model_path, load_model, predict_proba
from buddy_emotion.errors import InvalidArgumentError, MissingDependencyError, ModelFileError
from buddy_emotion.labels import FER2013_ORDER
from buddy_emotion.testing import BackendContract

HINT = "pip install 'buddy-emotion[dlib]'"


class TestDlibContract(BackendContract):
    def make_backend(self) -> DlibBackend:
        pytest.importorskip("dlib")
        if L.predictor_path(68) is None:
            pytest.skip("face-recognition-models is not installed")
        return DlibBackend()


# -- synthetic landmarks ----------------------------------------------------------------------------


def synthetic_face(mouth_corner: float = 0.0) -> np.ndarray:
    """A plausible upright 68-point face in pixels (eyes 40 px apart); ``mouth_corner`` > 0 lowers the
    lip corners (sad), < 0 raises them (smile)."""
    p = np.zeros((68, 2))
    t = np.linspace(np.pi, 0, 17)  # jaw: lower half ellipse from image-left to image-right
    p[0:17] = np.c_[50 + 45 * np.cos(t), 40 + 60 * np.sin(t)]
    p[17:22] = np.c_[np.linspace(12, 42, 5), [30, 26, 24, 25, 27]]
    p[22:27] = np.c_[np.linspace(58, 88, 5), [27, 25, 24, 26, 30]]
    p[27:31] = np.c_[[50] * 4, np.linspace(40, 62, 4)]
    p[31:36] = np.c_[np.linspace(42, 58, 5), [66, 67, 68, 67, 66]]
    for start, cx in ((36, 30.0), (42, 70.0)):
        a = np.array([0, 1, 2, 3, 4, 5]) * np.pi / 3
        p[start:start + 6] = np.c_[cx - 10 * np.cos(a), 40 - 4 * np.sin(a)]
    a = np.arange(12) * np.pi / 6
    p[48:60] = np.c_[50 - 20 * np.cos(a), 82 - 7 * np.sin(a)]
    a = np.arange(8) * np.pi / 4
    p[60:68] = np.c_[50 - 14 * np.cos(a), 82 - 2 * np.sin(a)]
    for i in (48, 60, 54, 64):
        p[i, 1] += mouth_corner
    return p


def _named(pts: np.ndarray) -> dict[str, float]:
    f = L.geometry_features(pts)
    return dict(zip(L.GEOMETRY_NAMES, f[136:]))


@settings(max_examples=40, deadline=None)
@given(angle=st.floats(-35, 35), scale=st.floats(0.3, 5.0), dx=st.floats(-500, 500), dy=st.floats(-500, 500))
def test_geometry_features_invariant_to_similarity(angle: float, scale: float, dx: float, dy: float) -> None:
    p = synthetic_face(3.0)
    th = np.radians(angle)
    r = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    q = (p - 50) @ r.T * scale + [dx, dy]
    np.testing.assert_allclose(L.geometry_features(q), L.geometry_features(p), atol=1e-8)


def test_normalized_frame() -> None:
    n = L.normalize_landmarks(synthetic_face())
    le, re = n[36:42].mean(0), n[42:48].mean(0)
    np.testing.assert_allclose(le, [-0.5, 0.0], atol=1e-12)
    np.testing.assert_allclose(re, [0.5, 0.0], atol=1e-12)


def test_mouth_corner_direction_sad_vs_happy() -> None:
    sad, neutral, happy = (_named(synthetic_face(c)) for c in (6.0, 0.0, -6.0))
    assert sad["mouth_corner_drop"] > neutral["mouth_corner_drop"] > happy["mouth_corner_drop"]
    assert sad["mouth_corner_height"] < neutral["mouth_corner_height"] < happy["mouth_corner_height"]
    assert sad["mouth_corner_angle"] > 0 > happy["mouth_corner_angle"]


def test_inner_brow_raise_direction() -> None:
    p = synthetic_face()
    raised = p.copy()
    raised[[21, 22], 1] -= 5  # inner brow ends up (sadness)
    assert _named(raised)["inner_brow_raise"] > _named(p)["inner_brow_raise"]
    assert _named(raised)["brow_obliqueness"] > _named(p)["brow_obliqueness"]


def test_mirror_is_an_involution_and_keeps_symmetric_features() -> None:
    p = synthetic_face(2.0)
    np.testing.assert_allclose(L.mirror_landmarks(L.mirror_landmarks(p, 100), 100), p)
    n = L.normalize_landmarks(p)
    m = L.mirror_landmarks(n)
    np.testing.assert_allclose(L.geometry_features(m, normalized=True)[136:],
                               L.geometry_features(n, normalized=True)[136:], atol=1e-9)


def test_mirror_features_are_those_of_the_mirrored_face(astronaut_bgr: np.ndarray) -> None:
    import cv2

    _needs_dlib_and_predictor()
    import dlib

    gray = cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY)
    box = DlibBackend().detect(gray)[0]
    fit = dlib.shape_predictor(str(L.predictor_path(68)))
    pts = L.shape_to_array(fit(gray, dlib.rectangle(box.x, box.y, box.right - 1, box.bottom - 1)))
    flipped = np.ascontiguousarray(gray[:, ::-1])
    want = L.expression_features(flipped, L.mirror_landmarks(pts, gray.shape[1]))
    got = L.expression_features(gray, pts, mirror=True)
    plain = L.expression_features(gray, pts)
    n = 136 + len(L.GEOMETRY_NAMES)
    np.testing.assert_allclose(got[:n], want[:n], atol=1e-9)  # geometry: exactly the mirrored face's
    # appearance: HOG of the flipped aligned face, equal up to resampling (about 0.94 correlated; the
    # unflipped face about 0.57)
    assert np.corrcoef(got[n:], want[n:])[0, 1] > 0.9 > np.corrcoef(plain[n:], want[n:])[0, 1] + 0.2


def test_align_face_levels_the_eyes() -> None:
    p = synthetic_face()
    th = np.radians(20)
    r = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    q = (p - 50) @ r.T * 2.0 + [160, 120]
    m = L.align_matrix(q, 48)
    qa = q @ m[:, :2].T + m[:, 2]
    le, re = qa[36:42].mean(0), qa[42:48].mean(0)
    assert abs(le[1] - re[1]) < 1e-9
    assert le[1] == pytest.approx(48 * L.ALIGN_TEMPLATE["eye_y"])
    assert re[0] - le[0] == pytest.approx(48 * L.ALIGN_TEMPLATE["iod"])
    img = np.random.default_rng(0).integers(0, 255, (240, 320), dtype=np.uint8)
    face = L.align_face(img, q, 48)
    assert face.shape == (48, 48) and face.dtype == np.uint8
    assert L.appearance_features(face).shape == (L.N_APPEARANCE,)


def test_plausible_rejects_degenerate_fits() -> None:
    p = synthetic_face()
    assert L.plausible(p, 100, 110)
    assert not L.plausible(np.full((68, 2), 50.0), 100, 110)
    assert not L.plausible(p[:, ::-1].copy(), 100, 110)  # x/y swapped: eyes stacked vertically


def _moved(p: np.ndarray, points: slice | list[int], dy_iod: float) -> np.ndarray:
    """``p`` with ``points`` moved down by ``dy_iod`` inter-ocular distances (40 px in :func:`synthetic_face`)."""
    q = p.copy()
    q[points, 1] += 40 * dy_iod
    return q


def _rotated(p: np.ndarray, degrees: float) -> np.ndarray:
    th = np.radians(degrees)
    r = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    return (p - 50) @ r.T + 50


def _wide_eyes(p: np.ndarray, iod: float) -> np.ndarray:
    """``p`` with the eyes moved apart to ``iod`` px, the mouth and chin lowered to keep its proportions."""
    q = _moved(_moved(p, slice(48, 68), 0.75), [8], 1.0)
    q[36:42, 0] -= (iod - 40) / 2
    q[42:48, 0] += (iod - 40) / 2
    return q


# synthetic_face() in a 200x200 crop: eyes 40 px apart, level; points x 5..95, y 24..100; mouth 1.05 and
# chin 1.5 inter-ocular distances below the eyes
PLAUSIBLE_EDGES = {
    "tilted 38 degrees": (lambda p: _rotated(p, 38), True),
    "tilted 42 degrees": (lambda p: _rotated(p, 42), False),
    "eyes 0.16 of the side apart": (lambda p: (p - 50) * 0.8 + 100, True),
    "eyes 0.14 of the side apart": (lambda p: (p - 50) * 0.7 + 100, False),
    "eyes 0.74 of the side apart": (lambda p: _wide_eyes(p, 148), True),
    "eyes 0.76 of the side apart": (lambda p: _wide_eyes(p, 152), False),
    "reaching 0.24 of the side left": (lambda p: p - [53, 0], True),
    "reaching 0.26 of the side left": (lambda p: p - [57, 0], False),
    "reaching 0.24 of the side below": (lambda p: p + [0, 147], True),
    "reaching 0.26 of the side below": (lambda p: p + [0, 151], False),
    "mouth 0.45 below the eyes": (lambda p: _moved(p, slice(48, 68), -0.6), True),
    "mouth 0.35 below the eyes": (lambda p: _moved(p, slice(48, 68), -0.7), False),
    "mouth 2.45 below the eyes": (lambda p: _moved(_moved(p, slice(48, 68), 1.4), [8], 1.5), True),
    "mouth 2.55 below the eyes": (lambda p: _moved(_moved(p, slice(48, 68), 1.5), [8], 1.5), False),
    "chin above the mouth": (lambda p: _moved(p, [8], -0.5), False),
}


@pytest.mark.parametrize("case", sorted(PLAUSIBLE_EDGES))
def test_plausible_thresholds(case: str) -> None:
    """Each check of a landmark fit sits where documented: eye line within 40 degrees of level, eyes
    0.15..0.75 of the side apart, points within a quarter side of the crop, mouth 0.4..2.5 eye distances
    below the eyes and above the chin."""
    move, expected = PLAUSIBLE_EDGES[case]
    pts = move(synthetic_face())
    assert L.plausible(pts, 200, 200) is expected


class _FixedHog:
    """Stands in for dlib's HOG detector: the same rectangles on every image."""

    def __init__(self, rects: list) -> None:
        self.rects = rects

    def run(self, image: np.ndarray, upsample: int, min_score: float) -> tuple[list, list[float], list[int]]:
        return list(self.rects), [1.0] * len(self.rects), [0] * len(self.rects)


def test_dlib_rectangles_are_inclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    """dlib's ``right``/``bottom`` are the last column/row (width = right - left + 1); a FaceBox's are one
    past it. Boxes from the detector keep the face's size, and a box goes back to the same rectangle."""
    _needs_dlib_and_predictor()
    import dlib

    from buddy_emotion.types import FaceBox

    b = DlibBackend()
    rect = dlib.rectangle(10, 20, 109, 119)  # 100x100
    b._detector = _FixedHog([rect, dlib.rectangle(300, 200, 300, 200)])
    assert b.detect(np.zeros((480, 640), np.uint8)) == [FaceBox(10, 20, 100, 100), FaceBox(300, 200, 1, 1)]
    # found on a copy downscaled by 2: twice the size in frame pixels
    assert b.detect(np.zeros((960, 1280), np.uint8)) == [FaceBox(20, 40, 200, 200), FaceBox(600, 400, 2, 2)]
    fitted: list = []
    real = b._predictor

    def fit(image: np.ndarray, r: dlib.rectangle) -> dlib.full_object_detection:
        fitted.append(r)
        return real(image, r)

    monkeypatch.setattr(b, "_predictor", fit)
    gray = np.zeros((480, 640), np.uint8)
    assert b.landmarks(gray, b.detect(gray)[0]).shape == (68, 2)
    assert fitted == [rect]


def test_detect_extents_keeps_hogs_rectangle_past_the_frame_edge() -> None:
    """HOG reports a face cut by the frame edge with a rectangle that reaches past it: ``detect`` clips it to
    the frame, ``detect_extents`` gives it whole beside the clipped box, in frame pixels."""
    _needs_dlib_and_predictor()
    import dlib

    from buddy_emotion.types import FaceBox

    b = DlibBackend()
    b._detector = _FixedHog([dlib.rectangle(-20, 10, 79, 109), dlib.rectangle(300, 200, 399, 299)])
    gray = np.zeros((480, 640), np.uint8)
    assert b.detect(gray) == [FaceBox(300, 200, 100, 100), FaceBox(0, 10, 80, 100)]
    assert b.detect_extents(gray) == [(FaceBox(300, 200, 100, 100), FaceBox(300, 200, 100, 100)),
                                      (FaceBox(0, 10, 80, 100), FaceBox(-20, 10, 100, 100))]
    big = np.zeros((960, 1280), np.uint8)  # found on a copy downscaled by 2
    assert b.detect_extents(big)[1] == (FaceBox(0, 20, 160, 200), FaceBox(-40, 20, 200, 200))


def test_a_face_cut_by_the_frame_edge_is_fitted_in_hogs_whole_rectangle(monkeypatch: pytest.MonkeyPatch,
                                                                         astronaut_bgr: np.ndarray) -> None:
    """The astronaut with 30% of her face past the left edge: ``analyze`` fits the landmarks in HOG's whole
    rectangle, so they land within a few pixels of those of her whole face (in the clipped rectangle they
    were squeezed into the visible part, 7.7 px off on average); the reported box stays clipped."""
    import cv2

    _needs_dlib_and_predictor()
    b = DlibBackend()
    gray = cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY)
    box = b.detect(gray)[0]
    whole = b.landmarks(gray, box)
    dx = box.x + round(0.3 * box.width)
    fits: list = []
    real = b._predictor

    def fit(image: np.ndarray, rect: object) -> object:
        shape = real(image, rect)
        fits.append((rect, L.shape_to_array(shape)))
        return shape

    monkeypatch.setattr(b, "_predictor", fit)
    faces = b.analyze(np.ascontiguousarray(astronaut_bgr[:, dx:]))
    assert faces and faces[0].box is not None and faces[0].box.x == 0
    rect, pts = fits[0]
    assert rect.left() < 0  # type: ignore[attr-defined]
    assert np.linalg.norm(pts + [dx, 0] - whole, axis=1).mean() < 4.0


# -- model file -------------------------------------------------------------------------------------


def test_bundled_model_is_plain_arrays() -> None:
    path = bundled_model_path()
    assert path.stat().st_size < 2_500_000
    with np.load(path, allow_pickle=False) as z:
        assert {"mean", "scale", "w2", "b2", "prior"} <= set(z.files)
        assert all(z[k].dtype == (np.float16 if k == "w1" else np.float32) for k in z.files)
    model = load_model(path)
    assert all(a.dtype == np.float32 for a in model.values())  # widened once, on load
    x = np.random.default_rng(0).normal(size=(5, model["mean"].shape[0])) * model["scale"] + model["mean"]
    p = predict_proba(model, x)
    assert p.shape == (5, 7)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-6)
    card = bundled_model_card()
    assert card["labels"] == list(FER2013_ORDER)
    assert 0 < card["publictest"]["accuracy"] <= 1
    assert card["fit_failures"]["PublicTest"]["crops"] > 0
    json.dumps(card)


def test_corrupt_or_missing_model(tmp_path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        load_model(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file" * 10)
    with pytest.raises(ModelFileError):
        load_model(bad)
    short = tmp_path / "short.npz"
    np.savez(short, mean=np.zeros(3), scale=np.ones(3), w2=np.zeros((3, 7)), b2=np.zeros(7), prior=np.ones(7))
    with pytest.raises(ModelFileError, match="shapes"):
        load_model(short)


def test_missing_extra_gives_hint(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "dlib", None)  # import dlib -> ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'buddy-emotion\[dlib\]'"):
        DlibBackend()


def test_viability_without_dlib(monkeypatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "dlib" else real(name, *a))
    v = DlibBackend.viability()
    assert not v and HINT in v.reason


def test_registry_creates_it() -> None:
    pytest.importorskip("dlib")
    from buddy_emotion import backends

    if not backends.viability("dlib"):
        pytest.skip(backends.viability("dlib").reason)
    with backends.create("dlib") as b:
        assert isinstance(b, DlibBackend) and b.labels == tuple(sorted(FER2013_ORDER))


# -- real faces ---------------------------------------------------------------------------------------


@pytest.mark.fer
def test_accuracy_on_publictest_crops(fer_npz) -> None:
    pytest.importorskip("dlib")
    with np.load(fer_npz, allow_pickle=False) as d:
        keep = np.flatnonzero(d["usage"] == "PublicTest")[:300]
        images, labels = d["images"][keep], d["labels"][keep]
    b = DlibBackend()
    faces = b.classify_faces(list(images))
    pred = np.array([FER2013_ORDER.index(f.dominant) for f in faces])
    acc = float((pred == labels).mean())
    assert acc > 0.38, acc  # chance 1/7, majority class ~0.25
    assert b.failures <= 10 and b.faces_seen == 300


def test_min_score_drops_a_marginal_false_face() -> None:
    # the astronaut photo after JPEG coding: HOG finds her face (score ~1.5) and, right at the
    # threshold, a larger false face on her suit patch
    pytest.importorskip("dlib")
    skdata = pytest.importorskip("skimage.data")
    import cv2

    if L.predictor_path(68) is None:
        pytest.skip("face-recognition-models is not installed")
    bgr = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)
    ok, jpg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])  # in memory only
    frame = cv2.imdecode(jpg, cv2.IMREAD_COLOR)
    loose = DlibBackend().detect(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    strict = DlibBackend(min_score=0.1).detect(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    assert len(strict) == 1
    assert 170 < strict[0].center[0] < 280 and 70 < strict[0].center[1] < 180  # her face, not the suit
    assert len(loose) >= len(strict)


def _needs_dlib_and_predictor() -> None:
    pytest.importorskip("dlib")
    if L.predictor_path(68) is None:
        pytest.skip("face-recognition-models is not installed")


def test_boxes_found_on_a_downscaled_copy_are_in_frame_pixels(astronaut_bgr: np.ndarray) -> None:
    import cv2

    _needs_dlib_and_predictor()
    big = cv2.resize(cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY), (1024, 1024))  # over detect_width=640
    box = DlibBackend().detect(big)[0]
    assert abs(box.center[0] - 440) < 25 and abs(box.center[1] - 240) < 25, box  # her face, at twice the scale


def test_upsample_finds_faces_too_small_for_hog_at_full_size(astronaut_bgr: np.ndarray) -> None:
    import cv2

    _needs_dlib_and_predictor()
    small = cv2.resize(cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY), None, fx=0.5, fy=0.5,
                       interpolation=cv2.INTER_AREA)  # her face is about 45 px: under HOG's 80-px window
    assert DlibBackend().detect(small) == []
    (box,) = DlibBackend(upsample=1).detect(small)
    assert abs(box.center[0] - 110) < 15 and abs(box.center[1] - 62) < 15, box


def test_mirror_option_averages_in_the_mirror_image(astronaut_bgr: np.ndarray) -> None:
    import cv2

    _needs_dlib_and_predictor()
    crop = cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY)[30:230, 140:320]
    both = DlibBackend().classify_faces([crop])[0].scores
    one = DlibBackend(mirror=False).classify_faces([crop])[0].scores
    assert max(abs(both[k] - one[k]) for k in both) > 0.01


@pytest.mark.parametrize("bad", [float("nan"), 9.0, -3.0])
def test_bad_min_score_is_rejected(bad: float) -> None:
    pytest.importorskip("dlib")
    with pytest.raises(ValueError, match="min_score"):
        DlibBackend(min_score=bad)


# -- argument and file checks -----------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"upsample": 12}, ValueError, "upsample"),  # no longer ends in std::bad_alloc
    ({"upsample": -1}, ValueError, "upsample"),
    ({"upsample": "x"}, ValueError, "upsample"),
    ({"upsample": float("nan")}, ValueError, "upsample"),
    ({"detect_width": float("nan")}, ValueError, "detect_width"),
    ({"detect_width": 32}, ValueError, "detect_width"),
    ({"detect_width": 10**6}, ValueError, "detect_width"),
    ({"min_score": "x"}, ValueError, "min_score"),
    ({"model_path": 5}, TypeError, "model_path"),
    ({"predictor_path": 5}, TypeError, "predictor_path"),
])
def test_bad_options_name_the_argument(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        DlibBackend(**kwargs)


def _write_npz(path, **arrays) -> None:
    np.savez(path, **arrays)


def test_truncated_or_inconsistent_model_files_give_model_file_error(tmp_path) -> None:
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(bundled_model_path().read_bytes()[:5000])
    with pytest.raises(ModelFileError, match="truncated.npz"):
        load_model(truncated)
    good = dict(np.load(bundled_model_path()))
    for name, arrays in {
        "nan.npz": {**good, "mean": np.full_like(good["mean"], np.nan)},
        "scalar.npz": {**good, "mean": np.float32(0)},
        "no_b1.npz": {k: v for k, v in good.items() if k != "b1"} if "w1" in good else {**good, "w1": good["w2"]},
        "no_prior.npz": {k: v for k, v in good.items() if k != "prior"},  # the backend's prior for failed fits
    }.items():
        _write_npz(tmp_path / name, **arrays)
        with pytest.raises(ModelFileError, match=name):
            load_model(tmp_path / name)


def test_load_model_and_predict_proba_reject_bad_arguments() -> None:
    with pytest.raises(TypeError, match="path"):
        load_model(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="model"):
        predict_proba({}, np.zeros((1, 10)))
    model = load_model(bundled_model_path())
    for x in (np.zeros((1, 10)), np.zeros(model["mean"].shape), np.full((1, *model["mean"].shape), np.nan)):
        with pytest.raises(ValueError, match="x must be"):
            predict_proba(model, x)
    assert predict_proba(model, np.zeros((2, *model["mean"].shape))).shape == (2, 7)


def test_failed_fits_are_dropped_on_frames_and_given_the_prior_on_crops(monkeypatch, astronaut_bgr) -> None:
    pytest.importorskip("dlib")
    if L.predictor_path(68) is None:
        pytest.skip("face-recognition-models is not installed")
    b = DlibBackend()
    assert len(b.analyze(astronaut_bgr)) >= 1
    monkeypatch.setattr(L, "plausible", lambda *a, **k: False)  # every fit fails the check
    before = b.failures
    assert b.analyze(astronaut_bgr) == []  # no made-up scores passed off as a reading
    (crop,) = b.classify_faces([np.full((48, 48), 128, np.uint8)])
    prior = b._model["prior"] / b._model["prior"].sum()
    assert [crop.scores[k] for k in FER2013_ORDER] == pytest.approx(list(prior))
    assert b.failures > before


# -- the training code behind the bundled classifier (training/dlib_features.py) ------------------------


def test_numpy_mlp_learns_and_matches_the_backends_inference() -> None:
    from buddy_emotion.training.dlib_features import forward, train_mlp

    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, (7, 20))
    y, yv = np.arange(700) % 7, np.arange(140) % 7
    x = centres[y] + rng.normal(0, 1, (700, 20))
    xv = centres[yv] + rng.normal(0, 1, (140, 20))
    params, info = train_mlp(x, y, xv, xv, yv, hidden=16, epochs=15, lr=3e-3, wd=1e-4, dropout=0.1, batch=64,
                             class_power=0.5, seed=1, log=lambda *_: None)
    assert info["acc"] > 0.9, info  # seven well-separated clusters
    model = {**params, "prior": np.full(7, 1 / 7, np.float32)}  # the prior is for failed fits only
    np.testing.assert_allclose(predict_proba(model, xv), forward(params, xv), atol=1e-5)


@pytest.mark.parametrize("hidden", [0, 16])
def test_training_scores_with_the_backends_forward_pass(hidden: int) -> None:
    from buddy_emotion.training.dlib_features import forward

    rng = np.random.default_rng(3)
    d = 12
    params = {"mean": rng.normal(0, 1, d).astype(np.float32), "scale": rng.uniform(0.5, 2, d).astype(np.float32),
              "w2": rng.normal(0, 1, (hidden or d, 7)).astype(np.float32), "b2": rng.normal(0, 1, 7).astype(np.float32)}
    if hidden:
        params |= {"w1": rng.normal(0, 1, (d, hidden)).astype(np.float32),
                   "b1": rng.normal(0, 1, hidden).astype(np.float32)}
    x = rng.normal(0, 3, (50, d)).astype(np.float32)
    # bit for bit, on the training's parameters (which hold no prior): the epoch is chosen and the card's
    # figures are measured with the very arithmetic the backend runs
    expected = predict_proba({**params, "prior": np.full(7, 1 / 7, np.float32)}, x)
    np.testing.assert_array_equal(forward(params, x), expected)
    np.testing.assert_array_equal(predict_proba(params, x), expected)
    for name in ("mean", "scale", "w2", "b2", *(("b1",) if hidden else ())):  # the arrays it does use are required
        with pytest.raises(InvalidArgumentError, match="classifier's arrays"):
            predict_proba({k: v for k, v in params.items() if k != name}, x)


def test_landmarks_of_registered_crops(fer_npz) -> None:
    _needs_dlib_and_predictor()
    from buddy_emotion.training.dlib_features import build_features, extract_landmarks

    with np.load(fer_npz, allow_pickle=False) as d:
        images = d["images"][np.flatnonzero(d["usage"] == "PublicTest")[:20]]
    out = extract_landmarks(images, progress=False)
    assert out["points"].shape == (20, 68, 2) and out["plausible"].mean() >= 0.8
    inside = (out["points"] >= -12) & (out["points"] <= 60)  # pixels of the 48x48 crops; the chin may pass the edge
    assert inside.all(axis=(1, 2))[out["plausible"]].all()
    a, b = build_features(images, out["points"], progress=False)
    assert a.shape == b.shape == (20, load_model(bundled_model_path())["mean"].shape[0])  # what the model takes
    assert not np.allclose(a, b)  # the mirror image gives other features


def test_mirror_takes_true_or_false_only() -> None:
    pytest.importorskip("dlib")
    with pytest.raises(TypeError, match="mirror"):
        DlibBackend(mirror="no")  # a truthy string would turn mirroring on


@pytest.mark.parametrize("bad", ["bad\x00name.npz", "x" * 5000 + ".npz"])
def test_viability_never_raises_for_a_path_the_os_refuses(bad: str) -> None:
    from buddy_emotion.backends.dlib import DlibBackend

    v = DlibBackend.viability(model_path=bad)
    assert not v.ok and v.reason
