from __future__ import annotations

import sys

import numpy as np
import pytest

from buddy_emotion import backends
from buddy_emotion.backends import EmotionBackend, Viability
from buddy_emotion.errors import BackendNotFoundError, MissingDependencyError
from buddy_emotion.types import FaceEmotion


class _Toy(EmotionBackend):
    name = "toy"
    labels = ("happiness", "sadness")

    def __init__(self, sad: float = 0.25) -> None:
        self.sad = sad

    def analyze(self, frame: np.ndarray) -> list[FaceEmotion]:
        return [FaceEmotion(None, {"sadness": self.sad, "happiness": 1 - self.sad}, self.name)]


def test_builtin_names() -> None:
    assert {"default", "keras", "dlib", "azure", "fallback"} <= set(backends.names())


def test_unknown_name() -> None:
    with pytest.raises(BackendNotFoundError, match="no backend named 'nope'; known: "):
        backends.create("nope")
    assert "'" not in str(BackendNotFoundError("plain")).strip("plain")


def test_register_class_and_options() -> None:
    backends.register("toy", _Toy, sad=0.75)
    try:
        b = backends.create("toy")
        assert isinstance(b, _Toy) and b.sad == 0.75
        assert backends.create("toy", sad=0.1).sad == 0.1
        assert backends.available()["toy"] == Viability(True)
    finally:
        backends._REGISTERED.pop("toy")


def test_register_rejects_non_backend() -> None:
    with pytest.raises(TypeError):
        backends.register("bad", int)  # type: ignore[arg-type]


def test_missing_extra_gives_one_line_hint(monkeypatch) -> None:
    backends.register("needs_missing", "buddy_emotion_not_installed_xyz:Backend", extra="dlib")
    try:
        with pytest.raises(MissingDependencyError) as info:
            backends.create("needs_missing")
        msg = str(info.value)
        assert "pip install 'buddy-emotion[dlib]'" in msg and "\n" not in msg
        v = backends.available()["needs_missing"]
        assert not v.ok and "pip install" in v.reason
    finally:
        backends._REGISTERED.pop("needs_missing")


def test_entry_point_backends(monkeypatch) -> None:
    from importlib import metadata

    ep = metadata.EntryPoint("toy_ep", f"{__name__}:_Toy", backends.ENTRY_POINT_GROUP)

    def fake_entry_points(group: str):
        return [ep] if group == backends.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(backends.metadata, "entry_points", fake_entry_points)
    assert "toy_ep" in backends.names()
    assert isinstance(backends.create("toy_ep"), _Toy)


def test_a_plug_in_cannot_take_a_built_in_name(monkeypatch) -> None:
    from importlib import metadata

    ep = metadata.EntryPoint("default", f"{__name__}:_Toy", backends.ENTRY_POINT_GROUP)
    monkeypatch.setattr(backends.metadata, "entry_points",
                        lambda group: [ep] if group == backends.ENTRY_POINT_GROUP else [])
    b = backends.create("default")
    try:
        assert not isinstance(b, _Toy) and b.name == "keras"
    finally:
        b.close()


def test_default_is_viable_offline() -> None:
    v = backends.available()["default"]
    assert v.ok, v.reason


def test_importing_does_not_import_heavy_modules() -> None:
    import subprocess

    code = ("import sys, buddy_emotion; from buddy_emotion import backends; backends.available(); "
            "print(sorted(m for m in ('tensorflow', 'keras', 'dlib', 'picamera2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(("target", "error"), [
    (5, TypeError), (None, TypeError), (int, TypeError), ("no_colon", ValueError), (":Cls", ValueError),
    ("module:", ValueError), ("a module:Cls", ValueError),
])
def test_register_rejects_bad_targets(target: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="target"):
        backends.register("bad_target", target)  # type: ignore[arg-type]
    assert "bad_target" not in backends.names()


def test_register_by_string_target() -> None:
    backends.register("toy_str", f"{__name__}:_Toy", summary="a toy")
    try:
        assert isinstance(backends.create("toy_str"), _Toy) and backends.summary("toy_str") == "a toy"
    finally:
        backends._REGISTERED.pop("toy_str")


class _BadViability(_Toy):
    @classmethod
    def viability(cls, **options) -> Viability:
        return "yes"  # type: ignore[return-value]


def test_available_survives_broken_entries(tmp_path, monkeypatch) -> None:
    from buddy_emotion.errors import BackendError

    (tmp_path / "buddy_boom_plugin.py").write_text("raise RuntimeError('plug-in bug')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(backends._REGISTERED, "boom", backends._Entry("buddy_boom_plugin:Backend"))
    monkeypatch.setitem(backends._REGISTERED, "five", backends._Entry(5))  # type: ignore[arg-type]
    monkeypatch.setitem(backends._REGISTERED, "odd", backends._Entry(f"{__name__}:_BadViability"))
    found = backends.available()
    assert found["default"].ok
    assert not found["boom"].ok and "RuntimeError: plug-in bug" in found["boom"].reason
    assert not found["five"].ok and not found["odd"].ok
    with pytest.raises(BackendError, match="boom"):
        backends.create("boom")


def test_a_class_defined_in_a_function_can_be_registered_and_created() -> None:
    from buddy_emotion import Detector

    class Local(_Toy):
        pass

    backends.register("local_toy", Local, sad=0.9)
    try:
        with Detector("local_toy") as d:
            assert isinstance(d.backend, Local) and d.backend.sad == 0.9
    finally:
        backends._REGISTERED.pop("local_toy")


@pytest.mark.parametrize(("kwargs", "hint"), [({"install": "pip install my-backend"}, "pip install my-backend"),
                                              ({}, "check that it is installed")])
def test_a_plug_ins_own_install_hint(kwargs: dict, hint: str) -> None:
    backends.register("plug", "my_backend_not_installed_xyz:Backend", **kwargs)
    try:
        with pytest.raises(MissingDependencyError, match=hint) as info:
            backends.create("plug")
        assert "buddy-emotion[" not in str(info.value)  # no extra of ours that does not exist
    finally:
        backends._REGISTERED.pop("plug")


def test_require_names_the_plug_ins_command_or_the_module() -> None:
    from buddy_emotion.backends import require

    with pytest.raises(MissingDependencyError, match="install it with: pip install onnxruntime$"):
        require("onnxruntime_not_installed_xyz", None, "mine", install="pip install onnxruntime")
    with pytest.raises(MissingDependencyError, match="install the package that provides onnx_xyz$"):
        require("onnx_xyz", None, "mine")
    with pytest.raises(MissingDependencyError, match=r"pip install 'buddy-emotion\[dlib\]'$"):
        require("dlib_not_installed_xyz", "dlib", "dlib")


def test_the_contract_suite_says_which_rule_a_plug_in_broke() -> None:
    from buddy_emotion.testing import BackendContract

    class Sloppy(_Toy):
        labels = ("happy", "sadness")  # not a canonical name

        def analyze(self, frame: np.ndarray) -> list[FaceEmotion]:
            return [FaceEmotion(None, {"sadness": 0.5, "happiness": 0.2}, self.name)]  # no box, sums to 0.7

    contract = BackendContract()
    with pytest.raises(AssertionError, match=r"canonical names .*unknown: \['happy'\]"):
        contract.test_name_and_labels(Sloppy())
    Sloppy.labels = ("happiness", "sadness")
    with pytest.raises(AssertionError, match="summing to 1, got a sum of 0.7000"):
        contract.test_analyze_finds_the_face(Sloppy())
    with pytest.raises(AssertionError, match=r"a frame without a face must give \[\]"):
        contract.test_analyze_blank_frame_gives_no_face(Sloppy())


def test_register_rejects_an_install_hint_that_is_not_a_string() -> None:
    with pytest.raises(TypeError, match="install"):
        backends.register("bad_install", "my_backend_xyz:Backend", install=["pip", "install", "x"])  # type: ignore[arg-type]
    assert "bad_install" not in backends.names()


def test_a_backend_name_that_is_not_a_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="a backend name must be a string, got int") as info:
        backends.create(5)  # type: ignore[arg-type]
    assert not isinstance(info.value, BackendNotFoundError)


def test_require_turns_a_module_that_fails_to_load_into_the_install_hint(tmp_path, monkeypatch) -> None:
    from buddy_emotion.backends import require

    (tmp_path / "buddy_native_xyz.py").write_text("raise ImportError('libfoo.so.1: cannot open shared object file')\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # installed, but its native library is missing
    with pytest.raises(MissingDependencyError, match=r"libfoo.*pip install 'buddy-emotion\[dlib\]'$"):
        require("buddy_native_xyz", "dlib", "dlib")
