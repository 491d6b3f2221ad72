"""The shared argument checks: real numbers of any type in, bools, strings and NaN out, with the name said."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from buddy_emotion import _check
from buddy_emotion._check import as_path, integer, number, optional_number, timeout
from buddy_emotion.errors import ArgumentTypeError, InvalidArgumentError


@pytest.mark.parametrize("value", [1, 1.5, np.float32(1.5), np.int64(1), np.float64(0.0)])
def test_number_takes_any_real_type(value: object) -> None:
    assert number("x", value, 0, 2) == pytest.approx(float(value))  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "kw", "says"), [
    (True, {}, "a number"), ("1", {}, "a number"), (None, {}, "a number"), (float("nan"), {}, "finite"),
    (math.inf, {}, "finite"), (3, {"lo": 0, "hi": 1}, "within 0..1"), (0, {"lo": 0, "open_lo": True}, "more than 0"),
    (-1, {"lo": 0}, "at least 0"), (5, {"hi": 2}, "at most 2"),
])
def test_number_rejects_with_the_name(value: object, kw: dict, says: str) -> None:
    with pytest.raises(ValueError, match=f"speed must be .*{says}"):
        number("speed", value, **kw)


def test_number_infinity_where_allowed_and_own_error_class() -> None:
    assert number("x", math.inf, 0, finite=False) == math.inf
    with pytest.raises(KeyError):
        number("x", "no", error=KeyError)


@pytest.mark.parametrize("value", [2.5, True, "3", float("nan"), None])
def test_integer_rejects_non_whole_values(value: object) -> None:
    with pytest.raises(ValueError, match="n must be a whole number"):
        integer("n", value)


def test_integer_bounds_and_types() -> None:
    assert integer("n", np.int64(3), 1, 5) == 3 and integer("n", 4.0) == 4
    with pytest.raises(ValueError, match="n must be within 1..5"):
        integer("n", 6, 1, 5)


def test_optional_number_and_timeout() -> None:
    assert optional_number("d", None) is None and optional_number("d", 2, 0) == 2.0
    assert timeout("t", None) is None and timeout("t", math.inf) is None and timeout("t", 0) == 0.0
    for bad in (float("nan"), -1, "1"):
        with pytest.raises(ValueError, match="^t must"):
            timeout("t", bad)


def test_as_path() -> None:
    assert as_path("path", "a/b.json") == Path("a/b.json") and as_path("path", Path("x")) == Path("x")
    for bad, kind, says in ((None, ArgumentTypeError, "a file path"), (b"a", ArgumentTypeError, "a file path"),
                            (3, ArgumentTypeError, "a file path"), ("a\x00b", InvalidArgumentError, "NUL")):
        with pytest.raises(kind, match=says):
            as_path("path", bad)
    with pytest.raises(OSError, match="folder must be a folder"):  # the caller's error class, not re-wrapped
        as_path("folder", None, what="a folder", error=OSError)


def test_bad_arguments_raise_the_librarys_own_errors(tmp_path) -> None:
    # the README's promise: except BuddyEmotionError catches bad arguments too (they stay Value/TypeErrors)
    from buddy_emotion import BuddyEmotionError, Detector, SadnessMonitor
    from buddy_emotion.cameras import open_camera
    from buddy_emotion.errors import ArgumentTypeError, InvalidArgumentError
    from buddy_emotion.monitor import MonitorOptions

    frame = np.zeros((48, 48, 3), np.uint8)
    cases = [
        (lambda: Detector(threshold=2), InvalidArgumentError),
        (lambda: Detector(tta="bogus"), InvalidArgumentError),
        (lambda: Detector(foo=1), ArgumentTypeError),
        (lambda: open_camera("webcam", fps=5), ArgumentTypeError),
        (lambda: Detector().detect_sadness(frame, timestamp="x"), ArgumentTypeError),
        (lambda: MonitorOptions(enter_threshold=float("nan")), InvalidArgumentError),
        (lambda: SadnessMonitor(Detector(), on_sad="nope"), ArgumentTypeError),  # type: ignore[arg-type]
    ]
    for call, kind in cases:
        with pytest.raises(kind) as info:
            call()
        assert isinstance(info.value, BuddyEmotionError)
    assert issubclass(ArgumentTypeError, TypeError) and issubclass(InvalidArgumentError, ValueError)


def test_unknown_options_are_named_with_the_ones_taken() -> None:
    from buddy_emotion import backends
    from buddy_emotion.errors import ArgumentTypeError

    with pytest.raises(ArgumentTypeError, match="backend 'default'.*'foo'.*it takes: model_path") as info:
        backends.create("default", foo=1)
    assert "_" not in str(info.value).split("it takes:")[1].replace("model_path", "").split(",")[0]


def test_integers_too_large_for_a_float_are_refused_not_overflowed() -> None:
    with pytest.raises(ValueError, match="x is out of range"):
        number("x", 10**400)
    with pytest.raises(ValueError, match="n is out of range"):
        integer("n", 10**400)
    assert integer("n", 2**62 + 1) == 2**62 + 1  # exact: no trip through float


def test_flag_takes_true_or_false_only() -> None:
    from buddy_emotion._check import flag

    assert flag("x", True) is True and flag("x", False) is False
    for bad in ("yes", "False", 1, 0, None):
        with pytest.raises(ArgumentTypeError, match="x must be True or False"):
            flag("x", bad)


def test_flag_takes_numpys_bool_as_a_plain_bool() -> None:
    from buddy_emotion._check import flag

    assert flag("x", np.bool_(True)) is True and flag("x", np.bool_(False)) is False


def test_whole_floats_too_large_for_any_count_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="n is out of range .* got 1e\\+300"):
        integer("n", 1e300)
    with pytest.raises(InvalidArgumentError, match="out of range"):
        integer("n", -1e300)
    assert integer("n", 2.0**40) == 2**40


def test_shown_keeps_short_reprs_and_numpy_scalars() -> None:
    from buddy_emotion._check import shown

    assert shown(np.float64(1.5)) == repr(np.float64(1.5))  # a numpy scalar is a number, not an array
    assert "shape" not in shown(np.int64(3))
    text = "x" * 78  # repr is 80 characters: the limit
    assert shown(text) == repr(text)
    assert shown(text + "x") == "a str"
    assert shown(12345.25) == "12345.25"


def test_shown_hides_contents_of_arrays_and_bytes_and_survives_bad_reprs() -> None:
    from buddy_emotion._check import shown

    assert shown(np.zeros((4, 5), np.uint8)) == "ndarray of shape (4, 5) and dtype uint8"
    assert shown(b"ab") == "bytes of 2 bytes" and shown(bytearray(3)) == "bytearray of 3 bytes"

    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    class Blank:
        def __repr__(self) -> str:
            return ""

    assert shown(Broken()) == "a Broken" and shown(Blank()) == "a Blank"


def test_messages_of_the_checks_hold_no_pixels() -> None:
    from buddy_emotion._check import flag

    frame = np.full((30, 30, 3), 123, np.uint8)
    for call in (lambda: flag("loop", frame), lambda: as_path("path", frame), lambda: as_path("path", b"\x7b" * 9),
                 lambda: integer("n", frame), lambda: number("x", frame)):
        with pytest.raises(TypeError) as info:
            call()
        assert "123" not in str(info.value) and "[[" not in str(info.value) and "{" not in str(info.value)


def test_integer_bound_is_sys_maxsize() -> None:
    import sys

    assert integer("n", sys.maxsize) == sys.maxsize and integer("n", -sys.maxsize) == -sys.maxsize
    with pytest.raises(ValueError, match="too large"):
        integer("n", sys.maxsize + 1)


def test_one_line_joins_whitespace_and_cuts_long_text() -> None:
    assert _check.one_line("a\n  b\tc") == "a b c"
    assert _check.one_line("x" * 300, 10) == "xxxxxxx..."
    assert _check.one_line(ValueError("two\nlines")) == "two lines"


def test_one_line_keeps_text_of_exactly_the_limit_and_cuts_at_240_by_default() -> None:
    assert _check.one_line("x" * 240) == "x" * 240
    assert _check.one_line("x" * 241) == "x" * 237 + "..."
    assert _check.one_line("abcde", 5) == "abcde"


_FRAME = np.full((48, 64, 3), 7, np.uint8)  # a frame passed where another argument belongs


def _frame_in_every_argument() -> list:
    from buddy_emotion import backends, evaluation, plotting
    from buddy_emotion.backends.fallback import FallbackBackend
    from buddy_emotion.backends.keras import KerasBackend
    from buddy_emotion.cameras import ImageFolderCamera, open_camera
    from buddy_emotion.face_detection import crop_face
    from buddy_emotion.types import FaceBox

    def _azure() -> type:
        pytest.importorskip("azure.cognitiveservices.vision.face", reason="the azure extra")
        from buddy_emotion.backends.azure import AzureFaceBackend

        return AzureFaceBackend

    f = _FRAME
    calls = {
        "load_labelled(data)": lambda tmp: evaluation.load_labelled(f),
        "load_labelled(split)": lambda tmp: evaluation.load_labelled(tmp / "x.npz", split=f),
        "register(name)": lambda tmp: backends.register(f, "m:C"),
        "register(target)": lambda tmp: backends.register("x", f),
        "register(extra)": lambda tmp: backends.register("x", "m:C", extra=f),
        "create(name)": lambda tmp: backends.create(f),
        "KerasBackend(runtime)": lambda tmp: KerasBackend(runtime=f),
        "KerasBackend(color)": lambda tmp: KerasBackend(color=f),
        "KerasBackend(labels)": lambda tmp: KerasBackend(labels=f),
        "KerasBackend(input_range)": lambda tmp: KerasBackend(input_range=f),
        "KerasBackend(tta)": lambda tmp: KerasBackend(tta=f),
        "KerasBackend(class_bias)": lambda tmp: KerasBackend(class_bias=f),
        "KerasBackend(detector)": lambda tmp: KerasBackend(detector=f),
        "FallbackBackend(backends)": lambda tmp: FallbackBackend(backends=f),
        "FallbackBackend(options)": lambda tmp: FallbackBackend(options=f),
        "FallbackBackend(clock)": lambda tmp: FallbackBackend(clock=f),
        "open_camera(spec)": lambda tmp: open_camera(f),
        "ImageFolderCamera(extensions)": lambda tmp: ImageFolderCamera(tmp, extensions=f),
        "plot_timeline(timeline)": lambda tmp: plotting.plot_timeline(f, tmp / "x.png"),
        "plot_readings(readings)": lambda tmp: plotting.plot_readings(f, tmp / "x.png"),
        "check_plot_path(path)": lambda tmp: plotting.check_plot_path(f),
        "crop_face(pad)": lambda tmp: crop_face(f[..., 0], FaceBox(1, 1, 20, 20), pad=f),
        "AzureFaceBackend(upload)": lambda tmp: _azure()(endpoint="https://x.cognitiveservices.azure.com",
                                                         key="k" * 32, upload=f),
    }
    return [pytest.param(call, id=name) for name, call in calls.items()]


@pytest.mark.parametrize("call", _frame_in_every_argument())
def test_a_frame_passed_by_mistake_gives_the_librarys_error_without_its_pixels(tmp_path: Path, call) -> None:
    # a face image is private: numpy's repr of it must not reach an exception (and from there a log), and
    # numpy's own "truth value of an array is ambiguous" is not an error of this library
    from buddy_emotion.errors import BuddyEmotionError

    with pytest.raises(BuddyEmotionError) as info:
        call(tmp_path)
    message = str(info.value)
    assert "7, 7" not in message and "array(" not in message
    assert "ndarray" in message
    assert not list(tmp_path.iterdir())  # nothing written
