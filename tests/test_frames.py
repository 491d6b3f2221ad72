from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from buddy_emotion import Detector, InvalidFrameError, load_image
from buddy_emotion.errors import BuddyEmotionError, ImageFileError
from buddy_emotion.frames import to_bgr, to_gray, validate_frame
from buddy_emotion.testing import BAD_FRAMES


@pytest.mark.parametrize("kind", sorted(BAD_FRAMES))
def test_bad_frames_raise_invalid_frame_error(kind: str) -> None:
    with pytest.raises(InvalidFrameError) as info:
        validate_frame(BAD_FRAMES[kind])
    assert "\n" not in str(info.value)


def test_messages_say_what_was_wrong() -> None:
    with pytest.raises(InvalidFrameError, match="None"):
        validate_frame(None)
    with pytest.raises(InvalidFrameError, match="load_image"):
        validate_frame("face.jpg")
    with pytest.raises(InvalidFrameError, match="uint8"):
        validate_frame(np.zeros((10, 10, 3), np.float64))
    with pytest.raises(InvalidFrameError, match="shape"):
        validate_frame(np.zeros((10, 10, 2), np.uint8))
    with pytest.raises(InvalidFrameError, match="too large"):
        validate_frame(np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), (20000, 20000), (0, 0)))
    with pytest.raises(InvalidFrameError, match="too large"):  # each side allowed, too many pixels in all
        validate_frame(np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), (9000, 9000), (0, 0)))


@pytest.mark.parametrize("shape", [(48, 64), (48, 64, 1), (48, 64, 3), (48, 64, 4)])
def test_accepted_layouts_convert(shape: tuple[int, ...]) -> None:
    frame = np.random.default_rng(0).integers(0, 255, shape, dtype=np.uint8)
    f = validate_frame(frame)
    if len(shape) == 3 and shape[2] >= 3:  # BGR or BGRA: the B, G, R planes in that order
        bgr = frame[..., :3]
        grey = cv2.cvtColor(np.ascontiguousarray(bgr), cv2.COLOR_BGR2GRAY)
    else:  # grey: copied into all three planes
        grey = frame.reshape(48, 64)
        bgr = np.repeat(grey[..., None], 3, axis=2)
    np.testing.assert_array_equal(to_bgr(f), bgr)
    np.testing.assert_array_equal(to_gray(f), grey)


def test_validate_does_not_copy() -> None:
    frame = np.zeros((32, 32, 3), np.uint8)
    assert validate_frame(frame) is frame


def test_load_image_errors(tmp_path) -> None:
    with pytest.raises(ImageFileError, match="not found"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageFileError, match="directory"):
        load_image(tmp_path)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageFileError, match="empty"):
        load_image(empty)
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 20)
    with pytest.raises(ImageFileError, match="corrupt"):
        load_image(corrupt)


def test_load_image_roundtrip(tmp_path) -> None:
    import cv2

    img = np.random.default_rng(0).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    p = tmp_path / "ünïcode.png"
    assert cv2.imencode(".png", img)[1].tofile(str(p)) is None
    assert np.array_equal(load_image(p), img)


_arrays = hnp.arrays(
    dtype=st.sampled_from([np.uint8, np.int16, np.float32, np.float64, np.bool_]),
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=40),
    elements=None,
)


@settings(max_examples=150, deadline=None)
@given(_arrays)
def test_fuzz_validate_frame(arr: np.ndarray) -> None:
    try:
        out = validate_frame(arr)
    except InvalidFrameError:
        return
    assert out.dtype == np.uint8 and out.ndim in (2, 3)


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()


@settings(max_examples=60, deadline=None)
@given(st.one_of(_arrays, st.none(), st.text(max_size=5), st.integers(), st.lists(st.integers(), max_size=3)))
def test_fuzz_detect_sadness_only_library_errors(detector: Detector, value: object) -> None:
    try:
        reading = detector.detect_sadness(value)  # type: ignore[arg-type]
    except BuddyEmotionError:
        return
    assert reading.sadness is None or 0.0 <= reading.sadness <= 1.0


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.uint8, st.tuples(st.integers(8, 120), st.integers(8, 120), st.sampled_from([1, 3, 4]))))
def test_fuzz_valid_frames_always_give_a_reading(detector: Detector, frame: np.ndarray) -> None:
    reading = detector.detect_sadness(frame, timestamp=1.0)
    assert reading.timestamp == 1.0
    assert (reading.sadness is None) == (reading.reason is not None)


@pytest.mark.parametrize("func", [to_gray, to_bgr])
@pytest.mark.parametrize("bad", [None, "x", np.zeros((32, 32, 3), np.float32), np.zeros((32, 32, 2), np.uint8)])
def test_colour_helpers_validate_the_frame(func, bad) -> None:
    with pytest.raises(InvalidFrameError):
        func(bad)


@pytest.mark.parametrize("bad", [None, 123, b"/tmp/x.png", ["x.png"], "bad\x00name.png"])
def test_load_image_rejects_non_paths(bad) -> None:
    with pytest.raises(ImageFileError, match="path"):
        load_image(bad)


def test_load_image_refuses_a_fifo_without_blocking(tmp_path) -> None:
    import os

    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    with pytest.raises(ImageFileError, match="not a regular file"):
        load_image(fifo)


def test_a_pil_image_gets_the_conversion_in_the_message() -> None:
    from PIL import Image

    with pytest.raises(InvalidFrameError, match=r"PIL image.*\[:, :, ::-1\]"):
        validate_frame(Image.new("RGB", (32, 32)))
