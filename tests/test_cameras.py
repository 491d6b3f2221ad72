"""Tests for buddy_emotion.cameras, with synthetic frames and fake devices only (no hardware)."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from buddy_emotion.cameras import (
    Camera,
    CameraEndOfStream,
    ImageFolderCamera,
    OpenCVCamera,
    PiCamera,
    VideoFileCamera,
    camera_from_spec,
    open_camera,
)
from buddy_emotion.errors import ArgumentTypeError, CameraError, ImageFileError, InvalidArgumentError

H, W = 24, 32


def solid(value: int, h: int = H, w: int = W) -> np.ndarray:
    """A synthetic BGR frame whose channels differ, so channel order can be checked."""
    frame = np.zeros((h, w, 3), np.uint8)
    frame[:, :, 0] = value  # blue
    frame[:, :, 1] = 255 - value  # green
    frame[:, :, 2] = 77  # red
    return frame


def write_images(folder: Path, names: list[str]) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    values = {}
    for i, name in enumerate(names):
        values[name] = 10 + 20 * i
        assert cv2.imwrite(str(folder / name), solid(values[name]))
    return values


def write_video(path: Path, n: int, fps: float = 10.0) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (W, H))
    assert writer.isOpened()
    for i in range(n):
        writer.write(solid(min(255, 10 + 20 * i)))
    writer.release()


def assert_bgr_frame(frame: np.ndarray, shape: tuple[int, int] = (H, W)) -> None:
    assert isinstance(frame, np.ndarray)
    assert frame.dtype == np.uint8
    assert frame.shape == (*shape, 3)


# --- image folders -----------------------------------------------------------------------------------------


def test_folder_replays_in_natural_order_with_index_over_fps_timestamps(tmp_path: Path) -> None:
    values = write_images(tmp_path / "imgs", ["img10.png", "img2.png", "img1.jpg"])
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    (tmp_path / "imgs" / ".hidden.png").write_bytes(b"junk")
    with ImageFolderCamera(tmp_path / "imgs") as cam:
        assert [p.name for p in cam.files] == ["img1.jpg", "img2.png", "img10.png"]
        got = list(cam)
    assert [ts for _, ts in got] == [0.0, 2.0, 4.0]  # default fps 0.5: one image every 2 s
    for (frame, _), name in zip(got, ["img1.jpg", "img2.png", "img10.png"]):
        assert_bgr_frame(frame)
        assert abs(int(frame[0, 0, 0]) - values[name]) <= 3  # jpg is lossy
        assert abs(int(frame[0, 0, 2]) - 77) <= 3


def test_folder_extensions_ignore_case_and_reopening_replays_from_the_start(tmp_path: Path) -> None:
    values = write_images(tmp_path, ["a.PNG", "b.Jpg"])
    cam = ImageFolderCamera(tmp_path)
    for _ in range(2):  # open, replay, close, and again
        with cam:
            got = list(cam)
        assert [ts for _, ts in got] == [0.0, 2.0]
        assert abs(int(got[0][0][0, 0, 0]) - values["a.PNG"]) <= 3


@pytest.mark.parametrize("fps", [1e-310, 1e-7, 0.0, -1.0])
def test_folder_fps_too_small_for_finite_timestamps_is_refused(tmp_path: Path, fps: float) -> None:
    """fps=1e-310 gave the second image an infinite timestamp, which stopped the monitor later on."""
    write_images(tmp_path, ["a.png", "b.png"])
    with pytest.raises(ValueError, match="fps"):
        ImageFolderCamera(tmp_path, fps=fps)
    assert ImageFolderCamera(tmp_path, fps=1e-6).fps == 1e-6


def test_folder_end_of_stream_and_custom_fps(tmp_path: Path) -> None:
    write_images(tmp_path, ["a.png", "b.png"])
    cam = ImageFolderCamera(tmp_path, fps=4)
    cam.open()
    assert cam.read()[1] == 0.0
    assert cam.read()[1] == 0.25
    with pytest.raises(CameraEndOfStream):
        cam.read()
    with pytest.raises(CameraError):  # end of stream is a CameraError too
        cam.read()
    assert list(cam) == []  # iteration stops cleanly
    cam.close()


def test_folder_loop_keeps_going_with_growing_timestamps(tmp_path: Path) -> None:
    values = write_images(tmp_path, ["a.png", "b.png"])
    (tmp_path / "c.png").mkdir()  # a folder named like an image is not one
    assert ImageFolderCamera(tmp_path).finite and not ImageFolderCamera(tmp_path, loop=True).finite
    with ImageFolderCamera(tmp_path, fps=1, loop=True) as cam:
        got = [cam.read() for _ in range(5)]
    assert [ts for _, ts in got] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert [int(f[0, 0, 0]) for f, _ in got] == [values["a.png"], values["b.png"]] * 2 + [values["a.png"]]


def test_folder_corrupt_image_names_the_file_and_can_be_skipped(tmp_path: Path) -> None:
    write_images(tmp_path, ["1.png", "3.png"])
    (tmp_path / "2.png").write_bytes(os.urandom(300))
    with ImageFolderCamera(tmp_path) as cam:
        cam.read()
        with pytest.raises(ImageFileError, match=r"2\.png"):
            cam.read()
        frame, ts = cam.read()  # the replay goes on after the bad file
        assert ts == 4.0
        assert_bgr_frame(frame)


def test_folder_missing_and_empty(tmp_path: Path) -> None:
    with pytest.raises(ImageFileError, match="not found"):
        ImageFolderCamera(tmp_path / "nope").open()
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no images here")
    with pytest.raises(ImageFileError, match=r"no images .*empty"):
        ImageFolderCamera(tmp_path / "empty").open()


def test_single_image_file_replays_once(tmp_path: Path) -> None:
    write_images(tmp_path, ["only.png"])
    with ImageFolderCamera(tmp_path / "only.png") as cam:
        assert len(list(cam)) == 1


def test_bad_arguments_raise_invalid_argument_error(tmp_path: Path) -> None:
    """A bad option is the caller's mistake (a ValueError), not a camera failure: ``except CameraError`` misses it."""
    for make in (lambda: ImageFolderCamera(tmp_path, fps=0), lambda: VideoFileCamera(tmp_path / "v.avi", step=-1),
                 lambda: OpenCVCamera(-1), lambda: OpenCVCamera(0, width=-5), lambda: PiCamera(width=0),
                 lambda: open_camera(str(tmp_path), fps=0)):
        with pytest.raises(InvalidArgumentError) as info:
            make()
        assert isinstance(info.value, ValueError) and not isinstance(info.value, CameraError)


# --- video files -------------------------------------------------------------------------------------------


def test_video_replays_every_frame_with_media_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    write_video(path, 10, fps=10)
    with VideoFileCamera(path) as cam:
        got = list(cam)
    assert len(got) == 10
    assert [ts for _, ts in got] == pytest.approx([i / 10 for i in range(10)], abs=1e-3)
    for i, (frame, _) in enumerate(got):
        assert_bgr_frame(frame)
        assert abs(int(frame[H // 2, W // 2, 0]) - (10 + 20 * i)) <= 6


def test_video_step_samples_every_n_seconds(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    write_video(path, 10, fps=10)  # 1 s of video
    with VideoFileCamera(path, step=0.3) as cam:
        got = list(cam)
        with pytest.raises(CameraEndOfStream):
            cam.read()
    assert [ts for _, ts in got] == pytest.approx([0.0, 0.3, 0.6, 0.9], abs=1e-3)
    assert abs(int(got[1][0][H // 2, W // 2, 0]) - (10 + 20 * 3)) <= 6  # frame 3 is at 0.3 s


def test_video_missing_and_corrupt(tmp_path: Path) -> None:
    with pytest.raises(ImageFileError, match="not found"):
        VideoFileCamera(tmp_path / "missing.avi").open()
    bad = tmp_path / "bad.avi"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(ImageFileError, match="bad.avi"):
        with VideoFileCamera(bad) as cam:
            cam.read()


# --- OpenCV cameras with a fake capture ---------------------------------------------------------------------


class FakeCapture:
    """Stands in for cv2.VideoCapture: scripted reads, shared across reconnects."""

    def __init__(self, script: list[bool], opened: bool = True) -> None:
        self.script = script  # shared list: True = a good frame, False = a failed read
        self.opened = opened
        self.released = False
        self.props: dict[int, float] = {}

    def isOpened(self) -> bool:  # noqa: N802 - cv2's name
        return self.opened and not self.released

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def read(self) -> tuple[bool, np.ndarray | None]:
        good = self.script.pop(0) if self.script else True
        return (True, solid(100)) if good else (False, None)

    def release(self) -> None:
        self.released = True


class FakeFactory:
    def __init__(self, script: list[bool], opened: bool = True) -> None:
        self.script = script
        self.opened = opened
        self.calls: list[tuple[Any, int]] = []
        self.captures: list[FakeCapture] = []

    def __call__(self, source: Any, api: int) -> FakeCapture:
        self.calls.append((source, api))
        cap = FakeCapture(self.script, self.opened)
        self.captures.append(cap)
        return cap


def test_opencv_open_failure_says_what_to_check() -> None:
    factory = FakeFactory([], opened=False)
    cam = OpenCVCamera(3, _capture_factory=factory)
    with pytest.raises(CameraError) as info:
        cam.open()
    message = str(info.value)
    assert "camera 3" in message and "plugged in" in message and "other program" in message
    assert "/dev/video3" in message and "index" in message
    assert "\n" not in message
    assert not cam.is_open and factory.captures[0].released


def test_opencv_stream_failure_hides_the_password() -> None:
    cam = OpenCVCamera("rtsp://user:secret@10.0.0.5:554/live", _capture_factory=FakeFactory([], opened=False))
    with pytest.raises(CameraError) as info:
        cam.open()
    assert "secret" not in str(info.value) and "10.0.0.5" in str(info.value)


def test_opencv_reads_frames_sets_size_and_live_timestamps() -> None:
    factory = FakeFactory([True, True])
    with OpenCVCamera(0, width=640, height=480, _capture_factory=factory, _clock=lambda: 1234.5) as cam:
        frame, ts = cam.read()
    assert_bgr_frame(frame)
    assert ts == 1234.5
    assert factory.calls == [(0, cv2.CAP_ANY)]
    assert factory.captures[0].props == {cv2.CAP_PROP_FRAME_WIDTH: 640, cv2.CAP_PROP_FRAME_HEIGHT: 480,
                                         cv2.CAP_PROP_BUFFERSIZE: 1}  # a recent frame, not a queued one
    assert factory.captures[0].released  # the context manager closed it


def test_opencv_reconnects_with_exponential_backoff() -> None:
    sleeps: list[float] = []
    factory = FakeFactory([False, False, False, True])  # 1 failed read + 2 failed reconnects, then fine
    cam = OpenCVCamera(0, backoff=0.5, max_backoff=8.0, _capture_factory=factory, _sleep=sleeps.append)
    with cam:
        frame, _ = cam.read()
        assert_bgr_frame(frame)
        assert cam.is_open
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(factory.captures) == 4  # the first connection + 3 reconnects
    assert all(c.released for c in factory.captures)
    assert cam.reconnects == 1


def test_opencv_gives_up_after_attempts_and_backoff_is_capped() -> None:
    sleeps: list[float] = []
    factory = FakeFactory([False] * 20)
    cam = OpenCVCamera(
        0, reconnect_attempts=6, backoff=1.0, max_backoff=4.0, _capture_factory=factory, _sleep=sleeps.append
    )
    cam.open()
    with pytest.raises(CameraError, match="6 reconnect attempts failed"):
        cam.read()
    assert sleeps == [1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert not cam.is_open
    with pytest.raises(CameraError, match="not open"):
        cam.read()


def test_opencv_reconnect_survives_devices_that_do_not_reopen() -> None:
    sleeps: list[float] = []
    script = [False]
    attempts = {"n": 0}

    def factory(source: Any, api: int) -> FakeCapture:
        attempts["n"] += 1
        return FakeCapture(script, opened=attempts["n"] in (1, 3))  # reopen fails once, then works

    with OpenCVCamera(0, backoff=0.1, _capture_factory=factory, _sleep=sleeps.append) as cam:
        cam.read()
    assert sleeps == [0.1, 0.2]


# --- Raspberry Pi camera with a fake picamera2 -----------------------------------------------------------


def install_fake_picamera2(monkeypatch: pytest.MonkeyPatch, channels: int = 3) -> dict[str, Any]:
    record: dict[str, Any] = {}

    class Picamera2:
        def __init__(self, camera_num: int = 0) -> None:
            record["camera_num"] = camera_num
            record["instance"] = self
            self.started = False
            self.closed = False

        def create_preview_configuration(self, main: dict[str, Any], **kw: Any) -> dict[str, Any]:
            record["main"] = main
            record["extra"] = kw
            return {"main": dict(main), **kw}

        def configure(self, config: dict[str, Any]) -> None:
            record["configured"] = config

        def start(self) -> None:
            self.started = True

        def capture_array(self, name: str = "main") -> np.ndarray:
            w, h = record["main"]["size"]
            bgr = solid(40, h, w)
            if channels == 4:
                return np.dstack([bgr, np.full((h, w), 255, np.uint8)])
            return bgr

        def stop(self) -> None:
            self.started = False

        def close(self) -> None:
            self.closed = True

    module = types.ModuleType("picamera2")
    module.Picamera2 = Picamera2  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "picamera2", module)
    return record


def test_picamera_configures_rgb888_and_returns_bgr(monkeypatch: pytest.MonkeyPatch) -> None:
    record = install_fake_picamera2(monkeypatch)
    with PiCamera(width=64, height=48, _clock=lambda: 99.0) as cam:
        frame, ts = cam.read()
        assert record["instance"].started
    assert record["main"] == {"format": "RGB888", "size": (64, 48)}
    assert record["configured"]["main"]["format"] == "RGB888"
    assert_bgr_frame(frame, (48, 64))
    assert frame[0, 0].tolist() == [40, 215, 77]  # channel order untouched: BGR
    assert ts == 99.0
    assert record["instance"].closed and not record["instance"].started


def test_picamera_xrgb8888_drops_the_fourth_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    record = install_fake_picamera2(monkeypatch, channels=4)
    with PiCamera(width=32, height=24, pixel_format="XRGB8888") as cam:
        frame, _ = cam.read()
    assert record["main"]["format"] == "XRGB8888"
    assert_bgr_frame(frame)
    assert frame.flags["C_CONTIGUOUS"]
    assert frame[0, 0].tolist() == [40, 215, 77]


def test_picamera_without_picamera2_is_a_one_line_camera_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)  # makes `import picamera2` raise ImportError
    cam = PiCamera()  # constructing never imports picamera2
    with pytest.raises(CameraError) as info:
        cam.open()
    message = str(info.value)
    assert "picamera2" in message and "sudo apt install python3-picamera2" in message
    assert "\n" not in message
    assert not cam.is_open


def _picamera2_import_raises(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Make ``import picamera2`` raise ``error`` while the module loads, as a broken install does."""
    import importlib.abc
    import importlib.machinery

    class Failing(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
            return importlib.machinery.ModuleSpec(name, self) if name == "picamera2" else None

        def create_module(self, spec: Any) -> None:
            return None

        def exec_module(self, module: Any) -> None:
            raise error

    monkeypatch.delitem(sys.modules, "picamera2", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Failing(), *sys.meta_path])


def test_picamera2_broken_by_a_numpy_clash_says_how_to_fix_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """On Raspberry Pi OS Bookworm, apt's simplejpeg (numpy 1.x) fails to import beside pip's numpy 2."""
    clash = "numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, got 88"
    _picamera2_import_raises(monkeypatch, ValueError(clash))
    with pytest.raises(CameraError, match="pip install --upgrade simplejpeg") as info:
        PiCamera().open()
    assert "\n" not in str(info.value)


def test_importing_cameras_does_not_import_picamera2() -> None:
    import subprocess

    code = "import sys, buddy_emotion.cameras; print('picamera2' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


# --- open_camera ---------------------------------------------------------------------------------------------


def test_open_camera_spec_parsing(tmp_path: Path) -> None:
    cam = camera_from_spec("webcam")
    assert isinstance(cam, OpenCVCamera) and cam.source == 0 and not cam.is_open
    cam = camera_from_spec("webcam:2", width=320)
    assert isinstance(cam, OpenCVCamera) and cam.source == 2 and cam.width == 320
    assert camera_from_spec(1).source == 1  # type: ignore[attr-defined]
    assert camera_from_spec("/dev/video4").source == "/dev/video4"  # type: ignore[attr-defined]
    url = "rtsp://cam.local:554/stream"
    assert camera_from_spec(url).source == url  # type: ignore[attr-defined]
    assert isinstance(camera_from_spec("http://cam.local/mjpg"), OpenCVCamera)
    pi = camera_from_spec("pi")
    assert isinstance(pi, PiCamera) and pi.camera_num == 0
    assert camera_from_spec("pi:1").camera_num == 1  # type: ignore[attr-defined]

    write_images(tmp_path / "imgs", ["a.png"])
    write_video(tmp_path / "v.avi", 3)
    assert isinstance(camera_from_spec(str(tmp_path / "imgs"), fps=2), ImageFolderCamera)
    assert isinstance(camera_from_spec(tmp_path / "imgs" / "a.png"), ImageFolderCamera)
    video = camera_from_spec(str(tmp_path / "v.avi"), step=1.0)
    assert isinstance(video, VideoFileCamera) and video.step == 1.0

    for bad, error in (("webcam:x", InvalidArgumentError), ("webcam:-1", InvalidArgumentError),
                       ("", InvalidArgumentError), ("bogus", CameraError), (str(tmp_path / "nope.mp4"), CameraError),
                       (None, ArgumentTypeError), (1.5, ArgumentTypeError), (True, ArgumentTypeError)):
        with pytest.raises(error) as info:  # a malformed spec is a bad argument; one naming no camera, a camera error
            camera_from_spec(bad)  # type: ignore[arg-type]
        assert "webcam:N" in str(info.value) or "webcam:1" in str(info.value)


def test_open_camera_returns_an_open_camera(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_images(tmp_path, ["a.png", "b.png"])
    with open_camera(str(tmp_path)) as cam:
        assert cam.is_open
        assert len(list(cam)) == 2
    assert not cam.is_open

    factory = FakeFactory([True])
    cam = open_camera("webcam:1", _capture_factory=factory)
    assert cam.is_open and factory.calls[0][0] == 1
    cam.close()

    install_fake_picamera2(monkeypatch)
    with open_camera("pi", width=32, height=24) as pi:
        assert_bgr_frame(pi.read()[0])


# --- life cycle ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["folder", "video", "opencv", "pi"])
def test_context_manager_closes_and_read_after_close_raises(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "folder":
        write_images(tmp_path, ["a.png", "b.png"])
        cam: Camera = ImageFolderCamera(tmp_path)
    elif kind == "video":
        write_video(tmp_path / "v.avi", 3)
        cam = VideoFileCamera(tmp_path / "v.avi")
    elif kind == "opencv":
        cam = OpenCVCamera(0, _capture_factory=FakeFactory([]))
    else:
        install_fake_picamera2(monkeypatch)
        cam = PiCamera(width=32, height=24)
    with pytest.raises(CameraError, match="not open"):
        cam.read()  # never opened
    with cam as entered:
        assert entered is cam and cam.is_open
        assert_bgr_frame(cam.read()[0])
    assert not cam.is_open
    with pytest.raises(CameraError, match="not open"):
        cam.read()
    cam.close()  # idempotent
    cam.close()


def test_exception_inside_with_block_still_closes(tmp_path: Path) -> None:
    factory = FakeFactory([])
    with pytest.raises(RuntimeError):
        with OpenCVCamera(0, _capture_factory=factory) as cam:
            raise RuntimeError("boom")
    assert not cam.is_open and factory.captures[0].released


def test_cameras_never_write_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    write_images(src / "imgs", ["a.png", "b.jpg", "c.bmp"])
    write_video(src / "v.avi", 5)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)

    def snapshot() -> set[tuple[str, int, int]]:
        return {(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in tmp_path.rglob("*")}

    before = snapshot()
    for spec in (str(src / "imgs"), str(src / "v.avi"), str(src / "imgs" / "a.png")):
        with open_camera(spec) as cam:
            for _ in cam:
                pass
    with OpenCVCamera(0, _capture_factory=FakeFactory([True, False, True]), _sleep=lambda s: None) as cam:
        cam.read()
        cam.read()
    assert snapshot() == before
    assert list(work.iterdir()) == []


@pytest.mark.parametrize(("make", "match"), [
    (lambda p: ImageFolderCamera(p, extensions=[1]), "extensions"),
    (lambda p: ImageFolderCamera(p, extensions=None), "extensions"),
    (lambda p: ImageFolderCamera(p, extensions=["."]), "extensions"),
    (lambda p: ImageFolderCamera(None), "folder"),
    (lambda p: ImageFolderCamera(p, fps=float("nan")), "fps"),
    (lambda p: ImageFolderCamera(p, fps="2"), "fps"),
    (lambda p: VideoFileCamera(None), "path"),
    (lambda p: VideoFileCamera(p / "v.avi", step=float("inf")), "step"),
    (lambda p: PiCamera(controls="x"), "controls"),
    (lambda p: PiCamera(controls=5), "controls"),
    (lambda p: OpenCVCamera(0, api_preference="x"), "api_preference"),
])
def test_bad_arguments_name_the_argument(tmp_path: Path, make: Any, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        make(tmp_path)


def test_a_frame_passed_as_a_camera_argument_is_named_by_shape_not_by_its_pixels() -> None:
    frame = np.full((480, 640, 3), 7, np.uint8)
    for make in (lambda: OpenCVCamera(0, width=frame), lambda: OpenCVCamera(0, api_preference=frame),
                 lambda: PiCamera(controls=frame), lambda: PiCamera(pixel_format=frame)):
        with pytest.raises(ArgumentTypeError, match=r"ndarray of shape \(480, 640, 3\) and dtype uint8") as info:
            make()
        assert "7, 7" not in str(info.value)


def test_numpy_scalars_and_bare_extensions_are_valid(tmp_path: Path) -> None:
    cam = ImageFolderCamera(tmp_path, fps=np.float32(2), extensions=["PNG", ".jpg"])
    assert cam.fps == 2.0 and cam.extensions == (".png", ".jpg")
    assert VideoFileCamera(tmp_path / "v.avi", step=np.float32(0.5)).step == 0.5
    assert (PiCamera(width=np.int64(320)).width, PiCamera(camera_num=np.int64(1)).camera_num) == (320, 1)
    cv = OpenCVCamera(np.int64(1), width=np.int32(320), reconnect_attempts=np.int64(2), backoff=np.float32(0.5))
    assert (cv.source, cv.width, cv.reconnect_attempts, cv.backoff) == (1, 320, 2, 0.5)


def test_a_tiff_still_opens_as_an_image_like_the_cli_reads_it(tmp_path) -> None:
    from buddy_emotion import cli
    from buddy_emotion.cameras import IMAGE_EXTENSIONS, ImageFolderCamera, camera_from_spec

    still = tmp_path / "still.tif"
    cv2.imwrite(str(still), np.full((40, 60, 3), 120, np.uint8))
    assert isinstance(camera_from_spec(str(still)), ImageFolderCamera)  # was tried as a video
    assert cli.IMAGE_EXTENSIONS is IMAGE_EXTENSIONS


@pytest.mark.parametrize(("make", "error"), [
    pytest.param(lambda p: ImageFolderCamera(p, extensions=5), ArgumentTypeError, id="extensions=5"),
    pytest.param(lambda p: ImageFolderCamera(p, extensions=()), InvalidArgumentError, id="extensions=()"),
    pytest.param(lambda p: ImageFolderCamera(p, extensions=[1, None]), ArgumentTypeError, id="extensions=[1, None]"),
    pytest.param(lambda p: ImageFolderCamera(p, extensions=[".png", b".jpg"]), ArgumentTypeError,
                 id="extensions=[str, bytes]"),
    pytest.param(lambda p: ImageFolderCamera(p, extensions=bytearray(b"png")), ArgumentTypeError,
                 id="extensions=bytearray"),
    pytest.param(lambda p: ImageFolderCamera(p, extensions=[".png", " . "]), InvalidArgumentError,
                 id="extensions=[blank]"),
    pytest.param(lambda p: OpenCVCamera(1.5), ArgumentTypeError, id="source=1.5"),
    pytest.param(lambda p: OpenCVCamera("  "), InvalidArgumentError, id="source=blank"),
    pytest.param(lambda p: OpenCVCamera(0, reconnect_attempts=-1), InvalidArgumentError, id="reconnect_attempts"),
    pytest.param(lambda p: OpenCVCamera(0, backoff=-1.0), InvalidArgumentError, id="backoff"),
    pytest.param(lambda p: OpenCVCamera(0, max_backoff=float("nan")), InvalidArgumentError, id="max_backoff"),
    pytest.param(lambda p: PiCamera(camera_num=-1), InvalidArgumentError, id="camera_num"),
    pytest.param(lambda p: PiCamera(pixel_format="YUV420"), InvalidArgumentError, id="pixel_format"),
    # a wrong type is an ArgumentTypeError, as everywhere else in the library
    pytest.param(lambda p: OpenCVCamera(0, width="640"), ArgumentTypeError, id="width='640'"),
    pytest.param(lambda p: OpenCVCamera(0, height=480.5), InvalidArgumentError, id="height=480.5"),
    pytest.param(lambda p: OpenCVCamera(0, reconnect_attempts=None), ArgumentTypeError, id="reconnect_attempts=None"),
    pytest.param(lambda p: OpenCVCamera(0, backoff="1"), ArgumentTypeError, id="backoff='1'"),
    pytest.param(lambda p: OpenCVCamera(0, api_preference=2.0), ArgumentTypeError, id="api_preference=2.0"),
    pytest.param(lambda p: PiCamera(width="640"), ArgumentTypeError, id="pi width='640'"),
    pytest.param(lambda p: PiCamera(height=0), InvalidArgumentError, id="pi height=0"),
    pytest.param(lambda p: PiCamera(camera_num=True), ArgumentTypeError, id="camera_num=True"),
    pytest.param(lambda p: PiCamera(pixel_format=5), ArgumentTypeError, id="pixel_format=5"),
    pytest.param(lambda p: PiCamera(controls=["FrameRate"]), ArgumentTypeError, id="controls=list"),
    pytest.param(lambda p: PiCamera(controls={1: 10}), InvalidArgumentError, id="controls key"),
])
def test_a_bad_argument_is_a_value_or_type_error_of_its_kind_never_a_camera_error(tmp_path: Path, make: Any,
                                                                                 error: type) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        make(tmp_path)
    assert type(info.value) is error  # a wrong type is a TypeError too, a wrong value only a ValueError


def test_picamera2_failing_with_another_value_error_is_not_a_numpy_clash(monkeypatch: pytest.MonkeyPatch) -> None:
    _picamera2_import_raises(monkeypatch, ValueError("a bug of picamera2's own"))
    with pytest.raises(ValueError, match="a bug of picamera2's own"):
        PiCamera().open()


def test_video_step_jumps_to_the_next_sample_instead_of_looping(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    write_video(path, 10, fps=10)
    with pytest.raises(InvalidArgumentError, match="step must be at least"):
        VideoFileCamera(path, step=1e-30)  # a loop adding it would never reach the next frame's time
    with VideoFileCamera(path, step=1e-6) as cam:  # every frame, without a million additions per frame
        assert len(list(cam)) == 10


@pytest.mark.parametrize("loop", ["false", "no", None, 0, 1])
def test_folder_loop_must_be_true_or_false(tmp_path: Path, loop: Any) -> None:
    write_images(tmp_path, ["a.png"])
    with pytest.raises(ArgumentTypeError, match="loop must be True or False"):
        ImageFolderCamera(tmp_path, loop=loop)


def test_folder_image_too_small_is_a_camera_error_and_the_next_one_is_read(tmp_path: Path) -> None:
    write_images(tmp_path, ["a.png", "c.png"])
    cv2.imwrite(str(tmp_path / "b.png"), solid(50, 2, 2))  # decodes, but no frame to analyze
    with ImageFolderCamera(tmp_path) as cam:
        cam.read()
        with pytest.raises(CameraError, match="b.png is too small"):  # as read() documents, not InvalidFrameError
            cam.read()
        assert cam.read()[1] == 4.0


def test_a_spec_the_os_refuses_as_a_name_is_a_camera_error(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="not a usable camera spec"):
        open_camera(str(tmp_path / ("x" * 5000)))  # OSError: file name too long


def test_a_refused_name_with_a_password_is_redacted_and_cut_short() -> None:
    with pytest.raises(CameraError, match="not a usable camera spec") as info:
        open_camera("ftp://user:secret@host/" + "x" * 5000)  # not a stream scheme: taken as a path, too long
    assert "secret" not in str(info.value) and len(str(info.value)) < 400


class _StampedCapture:
    """Stands in for cv2.VideoCapture of a video whose frames have the given times (seconds)."""

    def __init__(self, stamps: list[float]) -> None:
        self.stamps, self.i = stamps, -1

    def isOpened(self) -> bool:  # noqa: N802 - cv2's name
        return True

    def get(self, prop: int) -> float:
        return self.stamps[self.i] * 1000.0 if prop == cv2.CAP_PROP_POS_MSEC and self.i >= 0 else 0.0

    def grab(self) -> bool:
        self.i += 1
        return self.i < len(self.stamps)

    def retrieve(self) -> tuple[bool, np.ndarray]:
        return True, solid(100)

    def release(self) -> None:
        pass


def test_video_step_a_frame_a_hair_before_a_multiple_counts_for_it(tmp_path: Path) -> None:
    """A frame within 1e-6 s before a multiple of step is that multiple's frame: the next one is the
    first frame at or after the following multiple, not the very next frame."""
    path = tmp_path / "clip.avi"
    path.write_bytes(b"x")
    stamps = [0.0, 0.333333, 0.4, 0.5, 0.666667, 0.7]  # multiples of 1/3: 0.3333333.., 0.6666666..
    with VideoFileCamera(path, step=1 / 3, _capture_factory=lambda p: _StampedCapture(stamps)) as cam:
        assert [t for _, t in cam] == [0.0, 0.333333, 0.666667]
