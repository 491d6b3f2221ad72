"""The face detectors: the vendored BlazeFace model, its decoding, input checks and crop convention."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from buddy_emotion.errors import InvalidFrameError, ModelFileError
from buddy_emotion.face_detection import (
    BlazeFaceDetector,
    FaceDetector,
    HaarFaceDetector,
    crop_face,
    default_face_detector,
    fer_crop_of,
)
from buddy_emotion.face_detection.blazeface import MODEL_FILE, MODEL_SHA256, _shrink, model_sha256
from buddy_emotion.testing import BAD_FRAMES, blank_frame, sample_face_frame
from buddy_emotion.types import FaceBox

# The astronaut's face in scikit-image's 512x512 image, by eye: roughly x 170-270, y 60-180.
ASTRONAUT_FACE = FaceBox(170, 60, 100, 120)


@pytest.fixture(scope="module")
def blaze() -> BlazeFaceDetector:
    return BlazeFaceDetector()


def test_vendored_model_is_the_mediapipe_file() -> None:
    assert model_sha256() == MODEL_SHA256
    assert MODEL_FILE.stat().st_size == 315332


def test_default_detector_is_blazeface() -> None:
    det = default_face_detector()
    assert isinstance(det, BlazeFaceDetector)
    assert isinstance(det, FaceDetector)
    assert fer_crop_of(det) == BlazeFaceDetector.fer_crop
    assert fer_crop_of(object()) == (1.0, 0.0)


@pytest.mark.parametrize("colour", [True, False])
def test_finds_the_astronaut(blaze: BlazeFaceDetector, colour: bool) -> None:
    frame = sample_face_frame()
    image = frame if colour else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    found = blaze.scores(image)
    assert len(found) == 1
    box, conf = found[0]
    assert box.iou(ASTRONAUT_FACE) > 0.4, box
    assert 0.5 < conf <= 1.0


@pytest.mark.parametrize(("top", "pad_right", "box", "conf"), [
    (0, 0, FaceBox(178, 77, 98, 98), 0.9285),  # the sample frame, 512x512
    (60, 300, FaceBox(174, 16, 102, 102), 0.9519),  # 240x812, the face near the letterbox padding above
])
def test_golden_output_of_the_pinned_model(blaze: BlazeFaceDetector, top: int, pad_right: int, box: FaceBox,
                                           conf: float) -> None:
    """What the vendored model (pinned by its SHA-256) gives on fixed frames: the input's colour order,
    range and letterbox padding all move these numbers."""
    frame = cv2.copyMakeBorder(sample_face_frame()[top:top + 240 if top else None], 0, 0, 0, pad_right,
                               cv2.BORDER_CONSTANT, value=0)
    (found, score), = blaze.scores(frame)
    assert found.iou(box) > 0.9 and score == pytest.approx(conf, abs=0.003)
    assert BlazeFaceDetector(min_score=score + 0.02).scores(frame) == []  # min_score reaches the model


@pytest.mark.parametrize("shape", [(480, 640), (720, 1280), (640, 480), (300, 300)])
def test_letterboxing_maps_boxes_back_to_the_frame(blaze: BlazeFaceDetector, shape: tuple[int, int]) -> None:
    """The same face placed in frames of other shapes is found at the same place.

    The detector sees the frame at 256x192, so what counts is the face's size relative to the frame.
    """
    h, w = shape
    side = int(0.8 * min(h, w))
    k = side / 512
    face = cv2.resize(sample_face_frame(), (side, side))
    frame = np.full((h, w, 3), 90, np.uint8)
    y0, x0 = (h - side) // 2, (w - side) // 3
    frame[y0:y0 + side, x0:x0 + side] = face
    boxes = blaze.detect(frame)
    assert boxes, shape
    f = ASTRONAUT_FACE
    expected = FaceBox(x0 + f.x * k, y0 + f.y * k, f.width * k, f.height * k)
    assert boxes[0].iou(expected) > 0.35, (shape, boxes[0])


def test_no_face_on_blank_and_noise(blaze: BlazeFaceDetector) -> None:
    rng = np.random.default_rng(1)
    assert blaze.detect(blank_frame(640, 480)) == []
    assert blaze.detect(rng.integers(0, 256, (480, 640), dtype=np.uint8)) == []
    assert blaze.detect(np.zeros((480, 640), np.uint8)) == []


def test_min_face_filters_small_faces() -> None:
    frame = sample_face_frame()
    assert BlazeFaceDetector(min_face=20).detect(frame)
    assert BlazeFaceDetector(min_face=400).detect(frame) == []
    assert HaarFaceDetector(min_face=20).detect(frame)
    assert HaarFaceDetector(min_face=400).detect(frame) == []


def test_subpixel_candidates_give_no_box_instead_of_an_error() -> None:
    """A weak candidate under half a pixel wide rounds to a 0x0 box: it is dropped, not an InvalidArgumentError."""
    detector = BlazeFaceDetector(min_score=0.1, min_face=1)
    assert detector._boxes([([10.0, 10.0, 0.35, 0.35], 0.2), ([5.0, 5.0, 12.0, 0.4], 0.2)], 0, 0, 57, 35) == []
    assert detector._boxes([([5.0, 5.0, 0.4, 12.0], 0.2)], 0, 0, 57, 35) == []  # narrow, not flat
    # a candidate of half a pixel or more rounds to a 1-pixel side: kept when min_face allows it
    assert detector._boxes([([10.0, 10.0, 0.7, 0.7], 0.2)], 0, 0, 57, 35) == [(FaceBox(10, 10, 1, 1),
                                                                            FaceBox(10, 10, 1, 1), 0.2)]
    # end to end: on this 57x35 noise frame the model gives a 0.35 px candidate of score 0.11
    noise = np.random.default_rng(2).integers(0, 256, (35, 57, 3), dtype=np.uint8)
    assert all(box.width >= 1 and box.height >= 1 for box in detector.detect(noise))


def test_bgra_input(blaze: BlazeFaceDetector) -> None:
    bgra = cv2.cvtColor(sample_face_frame(), cv2.COLOR_BGR2BGRA)
    assert len(blaze.detect(bgra)) == 1


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
@pytest.mark.parametrize("cls", [BlazeFaceDetector, HaarFaceDetector])
def test_bad_input_is_rejected(name: str, cls: type) -> None:
    with pytest.raises(InvalidFrameError):
        cls().detect(BAD_FRAMES[name])


@pytest.mark.parametrize("kwargs", [{"input_size": (250, 192)}, {"input_size": (32, 32)}, {"min_score": 0.0},
                                    {"min_score": 1.0}, {"min_face": 0}])
def test_bad_options_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        BlazeFaceDetector(**kwargs)


def test_bad_model_files(tmp_path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        BlazeFaceDetector(model_path=tmp_path / "missing.tflite")
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a flatbuffer" * 10)
    with pytest.raises(ModelFileError):
        BlazeFaceDetector(model_path=junk)
    from buddy_emotion.backends.keras import bundled_model_path

    with pytest.raises(ModelFileError, match="BlazeFace"):
        BlazeFaceDetector(model_path=bundled_model_path())  # an emotion model, not a detector


def test_other_input_sizes_work() -> None:
    small = BlazeFaceDetector(input_size=(160, 128))
    assert small.detect(sample_face_frame())  # a large face: found at the small size too


def test_thread_safe(blaze: BlazeFaceDetector) -> None:
    frame = sample_face_frame()
    expected = blaze.detect(frame)
    results: list[list[FaceBox]] = []

    def work() -> None:
        for _ in range(20):
            results.append(blaze.detect(frame))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 80
    assert all(r == expected for r in results)


def test_crop_face_follows_the_detector_convention(blaze: BlazeFaceDetector) -> None:
    frame = sample_face_frame()
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    box = blaze.detect(gray)[0]
    scale, shift = blaze.fer_crop
    crop = crop_face(gray, box, scale=scale, shift=shift)
    assert crop.shape == (48, 48) and crop.dtype == np.uint8
    # a crop at the frame's edge is padded, not shrunk
    edge = crop_face(gray, FaceBox(0, 0, 40, 40), scale=2.0)
    assert edge.shape == (48, 48)



@pytest.mark.parametrize("track", [False, True])
@pytest.mark.parametrize(("edge", "share"), [("left", 0.3), ("right", 0.15), ("top", 0.15), ("bottom", 0.3)])
def test_extent_of_a_face_cut_by_the_frame_edge_is_the_whole_face(edge: str, share: float, track: bool) -> None:
    """The astronaut with part of its face past one edge: the box stays inside the frame, as detect gives
    it, and the extent is the network's box before clipping, which matches the whole face's box."""
    gray = cv2.cvtColor(sample_face_frame(), cv2.COLOR_BGR2GRAY)
    whole = BlazeFaceDetector().detect(gray)[0]
    k = round(share * whole.width)
    x0, y0 = {"left": (whole.x + k, 0), "top": (0, whole.y + k)}.get(edge, (0, 0))
    x1, y1 = {"right": (whole.right - k, 512), "bottom": (512, whole.bottom - k)}.get(edge, (512, 512))
    part = np.ascontiguousarray(gray[y0:y1, x0:x1])
    det = BlazeFaceDetector(track=track)
    for _ in range(2):  # in video mode: a whole-frame search, then a search of the region around the face
        (box, extent), = det.detect_extents(part)
        assert box == extent.clip(x1 - x0, y1 - y0)
        back = FaceBox(extent.x + x0, extent.y + y0, extent.width, extent.height)  # in the whole frame's pixels
        seen = FaceBox(box.x + x0, box.y + y0, box.width, box.height)
        assert back.iou(whole) > max(0.8, seen.iou(whole) + 0.05)
    assert det.full_searches == (1 if track else 2)
    still = BlazeFaceDetector()
    assert [b for b, _ in still.detect_extents(part)] == still.detect(part)

@pytest.mark.fer
def test_finds_pasted_fer_faces(fer_npz) -> None:
    """Most PublicTest faces pasted at 140 px into a 640x480 frame are found, where the pasted square is."""
    from buddy_emotion.evaluation import load_labelled

    fer_data = load_labelled(str(fer_npz), split="PublicTest", limit=60)
    det = BlazeFaceDetector()
    rng = np.random.default_rng(3)
    hits = 0
    n = 60
    for i in range(n):
        face = cv2.resize(fer_data.image(i), (140, 140), interpolation=cv2.INTER_CUBIC)
        frame = np.full((480, 640), int(rng.integers(60, 200)), np.uint8)
        x0, y0 = int(rng.integers(0, 500)), int(rng.integers(0, 340))
        frame[y0:y0 + 140, x0:x0 + 140] = face
        boxes = det.detect(frame)
        hits += bool(boxes) and boxes[0].iou(FaceBox(x0, y0, 140, 140)) > 0.3
    assert hits >= 0.9 * n


def _moving_astronaut(steps: int, size: tuple[int, int] = (640, 480),
                      side: int = 300) -> list[tuple[np.ndarray, FaceBox]]:
    """The astronaut drifting across a grey frame, with where its face is in each frame."""
    w, h = size
    face = cv2.resize(sample_face_frame(), (side, side))
    k = side / 512
    out = []
    for i in range(steps):
        x0, y0 = 20 + 12 * i, 30 + 5 * i
        frame = np.full((h, w, 3), 100, np.uint8)
        frame[y0:y0 + side, x0:x0 + side] = face
        f = ASTRONAUT_FACE
        out.append((frame, FaceBox(x0 + f.x * k, y0 + f.y * k, f.width * k, f.height * k)))
    return out


def test_video_mode_follows_a_moving_face() -> None:
    tracker = BlazeFaceDetector(track=True, refresh_every=5)
    still = BlazeFaceDetector()
    for frame, truth in _moving_astronaut(12):
        tracked, full = tracker.detect(frame), still.detect(frame)
        assert len(tracked) == 1 and tracked[0].iou(truth) > 0.4
        assert tracked[0].iou(full[0]) > 0.6
    assert tracker.full_searches == 3  # calls 1, 6 and 11; the other nine searched around the last face
    assert still.full_searches == 12


def test_video_mode_searches_the_whole_frame_when_the_face_leaves() -> None:
    tracker = BlazeFaceDetector(track=True)
    (frame, _), = _moving_astronaut(1)
    assert tracker.detect(frame)
    empty = np.full_like(frame, 100)
    assert tracker.detect(empty) == []
    assert tracker.full_searches == 2  # the region search found nothing, so the whole frame was searched
    assert tracker.detect(empty) == [] and tracker.full_searches == 3


def test_video_mode_restarts_on_a_new_frame_size_and_on_reset() -> None:
    tracker = BlazeFaceDetector(track=True)
    (a, _), = _moving_astronaut(1)
    (b, _), = _moving_astronaut(1, size=(800, 600))
    tracker.detect(a)
    tracker.detect(b)
    assert tracker.full_searches == 2
    tracker.detect(b)
    assert tracker.full_searches == 2
    tracker.reset()
    tracker.detect(b)
    assert tracker.full_searches == 3


def test_video_mode_sees_a_new_face_at_the_next_refresh() -> None:
    tracker = BlazeFaceDetector(track=True, refresh_every=3)
    head = sample_face_frame()[30:210, 140:300]  # the astronaut's head, 160x180
    small = np.full((480, 640, 3), 100, np.uint8)
    small[300:435, 500:620] = cv2.resize(head, (120, 135))
    both = small.copy()
    both[20:335, 20:300] = cv2.resize(head, (280, 315))
    assert tracker.detect(small)[0].x > 400
    sizes = [tracker.detect(both)[0].width for _ in range(3)]
    assert sizes[-1] > 2 * sizes[0]  # the large face took over within refresh_every calls


@pytest.mark.parametrize("kwargs", [{"roi_scale": 1.0}, {"refresh_every": 0}])
def test_bad_tracking_options(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        BlazeFaceDetector(track=True, **kwargs)


def test_keras_backend_video_mode() -> None:
    from buddy_emotion.backends.keras import KerasBackend

    backend = KerasBackend(track=True)
    assert isinstance(backend.detector, BlazeFaceDetector) and backend.detector.track
    frames = _moving_astronaut(4)
    for frame, truth in frames:
        faces = backend.analyze(frame)
        assert len(faces) == 1 and faces[0].box.iou(truth) > 0.4
    assert backend.detector.full_searches == 1
    with pytest.raises(ValueError):
        KerasBackend(track=True, detector=HaarFaceDetector())


@pytest.mark.parametrize(("shape", "size"), [
    ((480, 640, 3), (256, 192)),  # a webcam frame: halved once, then bilinear
    ((1080, 1920, 3), (256, 144)),  # halved twice
    ((481, 639), (256, 192)),  # odd sides, grey
    ((100, 120, 3), (128, 107)),  # a small region: enlarged
    ((192, 256, 3), (256, 192)),  # already the size: returned as is
])
def test_shrink_matches_an_area_resize(shape: tuple[int, ...], size: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    smooth = cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (0, 0), 3)
    small = _shrink(smooth, *size)
    assert small.shape[:2] == (size[1], size[0]) and small.dtype == np.uint8
    ref = cv2.resize(smooth, size, interpolation=cv2.INTER_AREA)
    assert np.abs(small.astype(int) - ref.astype(int)).mean() < 2.0


GRAY = cv2.cvtColor(sample_face_frame(), cv2.COLOR_BGR2GRAY)


@pytest.mark.parametrize("gray,box,kwargs,exc", [
    (None, FaceBox(0, 0, 50, 50), {}, InvalidFrameError),
    (GRAY.astype(np.float64), FaceBox(0, 0, 50, 50), {}, InvalidFrameError),
    (GRAY, None, {}, TypeError),
    (GRAY, FaceBox(0, 0, 50, 50), {"size": 0}, ValueError),
    (GRAY, FaceBox(0, 0, 50, 50), {"size": -1}, ValueError),
    (GRAY, FaceBox(0, 0, 50, 50), {"scale": float("nan")}, ValueError),
    (GRAY, FaceBox(0, 0, 50, 50), {"scale": 0.0}, ValueError),
    (GRAY, FaceBox(0, 0, 50, 50), {"shift": float("inf")}, ValueError),
    (GRAY, FaceBox(200000, 200000, 50, 50), {}, ValueError),  # would pad to 160 GB
    (GRAY, FaceBox(-300, 0, 100, 100), {}, ValueError),
    (GRAY, FaceBox(0, 0, 100000, 100000), {}, ValueError),  # a crop far larger than the frame
    (GRAY, FaceBox(0, 0, 50, 50), {"pad": "reflect"}, ValueError),
    (GRAY, FaceBox(0, 0, 50, 50), {"pad": None}, ValueError),
])
def test_crop_face_rejects_bad_input(gray, box, kwargs: dict, exc: type) -> None:
    with pytest.raises(exc):
        crop_face(gray, box, **kwargs)


@pytest.mark.parametrize("box,scale,shift", [
    (FaceBox(0, 0, 40, 40), 2.0, 0.0), (FaceBox(480, 490, 30, 20), 1.19, -0.105), (FaceBox(-20, 100, 60, 80), 1.5, 0.3),
    (FaceBox(100, 100, 80, 80), 1.0, 0.0), (FaceBox(0, 0, 512, 512), 5.0, 1.0)])
def test_crop_face_pads_like_replicating_the_whole_frame(box: FaceBox, scale: float, shift: float) -> None:
    """The crop equals the same square cut from the frame padded on every side by edge replication."""
    side = max(box.width, box.height) * scale
    cx, cy = box.center
    cy += shift * max(box.width, box.height)
    x0, y0, s = int(round(cx - side / 2)), int(round(cy - side / 2)), max(1, int(round(side)))
    pad = max(0, -x0, -y0, x0 + s - GRAY.shape[1], y0 + s - GRAY.shape[0])
    big = cv2.copyMakeBorder(GRAY, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    want = big[y0 + pad:y0 + pad + s, x0 + pad:x0 + pad + s]
    want = cv2.resize(want, (48, 48), interpolation=cv2.INTER_AREA if s > 48 else cv2.INTER_LINEAR)
    assert np.array_equal(crop_face(GRAY, box, scale=scale, shift=shift), want)



@pytest.mark.parametrize("colour", [False, True])
def test_crop_face_pad_mean_fills_the_outside_with_the_inside_mean(colour: bool) -> None:
    """``pad="mean"``: the part of the crop past the frame is the mean of the part inside, per channel; the
    part inside is the same as with edge padding."""
    frame = sample_face_frame() if colour else GRAY
    box = FaceBox(-100, 150, 200, 200)  # the crop is 200 px: its left 100 columns lie past the frame's left edge
    got = crop_face(frame, box, size=200, scale=1.0, pad="mean").astype(float)
    inside = frame[150:350, 0:100].astype(float)
    assert np.allclose(got[:, :100], inside.mean(axis=(0, 1)), atol=0.5)
    assert np.array_equal(got[:, 100:], inside)
    assert np.array_equal(crop_face(frame, box, size=200, scale=1.0, pad="edge")[:, 100:], inside)
    inner = FaceBox(100, 100, 80, 80)  # nothing to fill: both pads give the same crop
    assert np.array_equal(crop_face(frame, inner, pad="mean"), crop_face(frame, inner))

@pytest.mark.parametrize("gray,width,exc", [(GRAY, 0, ValueError), (GRAY, -5, ValueError),
                                            (GRAY, float("nan"), ValueError), (GRAY, "x", ValueError),
                                            (None, 100, InvalidFrameError)])
def test_downscaled_rejects_bad_input(gray, width, exc: type) -> None:
    from buddy_emotion.face_detection import downscaled

    with pytest.raises(exc):
        downscaled(gray, width)


def test_downscaled_keeps_at_least_one_pixel() -> None:
    from buddy_emotion.face_detection import downscaled

    small, scale = downscaled(np.zeros((8, 4000), np.uint8), 1)
    assert small.shape == (1, 1) and scale == 1 / 4000


@pytest.mark.parametrize("kwargs", [{"scale_factor": 1.0}, {"scale_factor": 0.5}, {"scale_factor": float("nan")},
                                    {"scale_factor": "1.1"}, {"detect_width": "x"}, {"detect_width": float("nan")},
                                    {"min_face": float("nan")}, {"min_neighbors": -1}, {"cascade": None}])
def test_haar_options_fail_at_construction(kwargs: dict) -> None:
    with pytest.raises((ValueError, TypeError), match=next(iter(kwargs))):
        HaarFaceDetector(**kwargs)


@pytest.mark.parametrize("kwargs", [{"input_size": None}, {"input_size": (256,)}, {"input_size": ("a", "b")},
                                    {"min_score": "x"}, {"min_score": float("nan")}, {"min_face": float("nan")},
                                    {"num_threads": "x"}, {"roi_scale": float("nan")}, {"refresh_every": 0.5},
                                    {"model_path": 123}])
def test_blazeface_options_name_the_argument(kwargs: dict) -> None:
    with pytest.raises((ValueError, TypeError), match=next(iter(kwargs))):
        BlazeFaceDetector(**kwargs)


@pytest.mark.parametrize("crop", [(1,), "ab", (float("nan"), 0.0), (0.0, 0.0), (1.0, "x")])
def test_fer_crop_of_checks_the_pair(crop: object) -> None:
    from types import SimpleNamespace

    with pytest.raises(ValueError, match="fer_crop"):
        fer_crop_of(SimpleNamespace(fer_crop=crop))


class _FakeInterpreter:
    """Stands in for LiteRT: returns fixed raw outputs (box offsets, score logits) whatever the input."""

    def __init__(self, boxes: np.ndarray, logits: np.ndarray, boxes_out: int, scores_out: int) -> None:
        self.outputs = {boxes_out: boxes[None], scores_out: logits[None, :, None]}

    def set_tensor(self, index: int, value: np.ndarray) -> None:
        pass

    def invoke(self) -> None:
        pass

    def get_tensor(self, index: int) -> np.ndarray:
        return self.outputs[index]


def _candidates(rects: list[tuple[float, float, float, float]], logits: list[float]) -> list[tuple[list[float], float]]:
    """What ``_Net.run`` keeps of raw outputs holding ``rects`` (x, y, w, h in input pixels) at the first
    anchors, with ``logits``; every other anchor is far below the score threshold."""
    from buddy_emotion.face_detection.blazeface import _Net

    net = _Net(MODEL_FILE, (256, 192), 1, 0.5)
    raw = np.zeros((len(net.anchors), 16), np.float32)
    scores = np.full(len(net.anchors), -10.0, np.float32)
    for i, ((x, y, w, h), logit) in enumerate(zip(rects, logits)):
        raw[i, :4] = (x + w / 2 - net.anchors[i, 0], y + h / 2 - net.anchors[i, 1], w, h)
        scores[i] = logit
    net.it = _FakeInterpreter(raw, scores, net.boxes_out, net.scores_out)
    return net.run(np.zeros((192, 256), np.uint8))  # the input's size: no letterbox, scale 1


def test_nms_merges_overlapping_candidates() -> None:
    """Greedy NMS at IoU 0.3: a box overlapping a better one at IoU 0.5 goes, one at IoU 0.2 stays."""
    best, overlapping, neighbour = (50, 50, 60, 60), (70, 50, 60, 60), (90, 50, 60, 60)  # IoU with best: .5, .2
    found = _candidates([neighbour, overlapping, best], [1.0, 2.0, 3.0])
    assert [tuple(round(v) for v in rect) for rect, _ in found] == [best, neighbour]
    assert [conf for _, conf in found] == pytest.approx([1 / (1 + np.exp(-3.0)), 1 / (1 + np.exp(-1.0))])
    assert len(_candidates([best, best], [3.0, 3.0])) == 1  # duplicates merge whatever their order


@pytest.mark.parametrize("roi_scale", [1.5, 4.0])
def test_video_mode_region_is_roi_scale_times_the_face(roi_scale: float) -> None:
    """The region searched after a found face is a square ``roi_scale`` times the face's longer side."""
    frame = np.roll(_moving_astronaut(1)[0][0], (90, 150), axis=(0, 1))  # the face mid-frame: the region is not clipped
    tracker = BlazeFaceDetector(track=True, roi_scale=roi_scale)
    (box,) = tracker.detect(frame)
    assert tracker._roi_net is not None
    real_run = tracker._roi_net.run
    regions: list[tuple[int, ...]] = []

    def spy(image: np.ndarray) -> list[tuple[list[float], float]]:
        regions.append(image.shape[:2])
        return real_run(image)

    tracker._roi_net.run = spy  # type: ignore[method-assign]
    tracker.detect(frame)
    side = roi_scale * max(box.width, box.height)
    assert len(regions) == 1 and regions[0][0] == regions[0][1]
    assert abs(regions[0][0] - side) <= 2, (regions, box)


@pytest.mark.parametrize(("cls", "name"), [(HaarFaceDetector, "equalize"), (BlazeFaceDetector, "track")])
def test_switches_take_true_or_false_only(cls: type, name: str) -> None:
    with pytest.raises(TypeError, match=name):
        cls(**{name: "no"})  # a truthy string would turn the switch on
