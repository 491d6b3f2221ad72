"""One bad value in one argument at a time, for every public callable: the library's own one-line error.

Each case is a valid call (the baseline); the sweep replaces one of its arguments by each value of ``BAD``.
The call must then raise a :class:`BuddyEmotionError` whose message holds no pixels and fits a line, or
succeed where that value is valid for that argument (``ACCEPTS``, None for an optional argument, True for a
flag). It must not hang and must write nothing (it runs in an empty working directory).
``test_every_argument_is_swept`` checks with ``inspect.signature`` that no public argument is left out.
"""

from __future__ import annotations

import inspect
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from buddy_emotion import backends, evaluation, frames, plotting
from buddy_emotion import landmarks as L
from buddy_emotion.backends.azure import AzureFaceBackend
from buddy_emotion.backends.base import require
from buddy_emotion.backends.dlib import DlibBackend
from buddy_emotion.backends.fallback import FallbackBackend
from buddy_emotion.backends.keras import KerasBackend, bundled_model_path
from buddy_emotion.cameras import ImageFolderCamera, OpenCVCamera, PiCamera, VideoFileCamera, open_camera
from buddy_emotion.cameras.retry import CameraRetry, check_schedule
from buddy_emotion.detector import Detector, DetectorOptions
from buddy_emotion.errors import BuddyEmotionError
from buddy_emotion.face_detection import (
    BlazeFaceDetector,
    HaarFaceDetector,
    crop_face,
    default_face_detector,
    downscaled,
)
from buddy_emotion.monitor import (
    Baseline,
    MonitorOptions,
    MonitorSample,
    QualityGate,
    SadnessMonitor,
    assess_reading,
    measure_face,
)
from buddy_emotion.testing import sample_face_frame
from buddy_emotion.types import FaceBox, SadnessReading

FRAME = np.full((48, 64, 3), 7, np.uint8)  # a frame passed where another argument belongs
BAD: dict[str, Any] = {"frame": FRAME, "None": None, "nan": float("nan"), "'x'": "x", "-1": -1,
                       "object()": object(), "[]": [], "True": True}
FACE = sample_face_frame()
GRAY = cv2.cvtColor(FACE, cv2.COLOR_BGR2GRAY)
CROP = cv2.resize(GRAY, (48, 48))
AZURE = {"endpoint": "https://x.cognitiveservices.azure.com", "key": "k" * 32}
PTS = np.random.default_rng(0).uniform(8.0, 40.0, (68, 2))  # 68 landmark pixels of a 48x48 crop


class _Shape:
    """What dlib's shape predictor returns: ``num_parts`` and ``part(i)`` with ``x`` and ``y``."""

    num_parts = 68

    def part(self, i: int) -> Any:
        return type("P", (), {"x": int(PTS[i, 0]), "y": int(PTS[i, 1])})()


class Data:
    """Files the baselines need, made once in a folder outside the working directory of the calls."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        cv2.imwrite(str(folder / "face.png"), FACE)
        (folder / "images").mkdir()
        cv2.imwrite(str(folder / "images" / "a.png"), FACE)
        video = cv2.VideoWriter(str(folder / "v.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 5, (64, 48))
        for _ in range(3):
            video.write(FRAME)
        video.release()
        np.savez(folder / "fer.npz", images=np.zeros((4, 48, 48), np.uint8), labels=np.array([0, 4, 3, 6]),
                 usage=np.array(["Training", "Training", "PublicTest", "PublicTest"]))
        Baseline(0.2, 0.1, 0.05, 60).save(folder / "base.json")
        self._built: dict[str, Any] = {}

    def __call__(self, name: str) -> Path:
        return self.folder / name

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._built:
            self._built[key] = make()
        return self._built[key]


@dataclass(frozen=True)
class In:
    """A baseline value made from :class:`Data` when the case runs (a file, a loaded backend)."""

    make: Callable[[Data], Any]


class Source:
    def detect_sadness(self, frame: np.ndarray, timestamp: float | None = None) -> SadnessReading:
        return _reading(0.0 if timestamp is None else float(timestamp))


class Cam:
    def __init__(self) -> None:
        self.t = 0.0

    def read(self) -> tuple[np.ndarray, float]:
        self.t += 1.0
        return FACE, self.t


def _reading(t: float = 1.0) -> SadnessReading:
    return SadnessReading(0.1, False, FaceBox(10, 10, 100, 100), {"sadness": 0.1}, "s", t, None, 1)


def _cb(_: Any) -> None:
    return None


def _cb2(_: Any, __: Any) -> None:
    return None


def _run_in_thread(camera: Any, **kw: Any) -> Any:
    monitor = SadnessMonitor(Source())
    monitor.start(camera, **kw)
    return monitor.stop(timeout=5)


def _live(d: Data) -> Detector:  # a live-stream detector on the sweep's one KerasBackend
    return d.once("live", lambda: Detector(_keras(d), result_callback=_cb2))


def _keras(d: Data) -> KerasBackend:
    return d.once("keras", KerasBackend)


def _dlib(d: Data) -> DlibBackend:
    return d.once("dlib", DlibBackend)


def _defaults(cls: Any) -> dict[str, Any]:
    return {k: p.default for k, p in inspect.signature(cls).parameters.items()}


@dataclass
class Case:
    name: str
    target: Callable[..., Any]  # what inspect.signature reads
    kwargs: dict[str, Any]  # the valid baseline call
    call: Callable[..., Any] | None = None  # (data, **kwargs) -> result; default: target(**kwargs)
    accepts: dict[str, str] = field(default_factory=dict)  # argument -> bad values (keys of BAD) that are valid


ANY = " ".join(BAD)

CASES = [
    Case("Detector", Detector, {"backend": "default", "threshold": 0.5, "min_face": 40, "result_callback": None}),
    Case("Detector.from_options", Detector.from_options, {"options": DetectorOptions()}),
    Case("Detector.detect_sadness", Detector.detect_sadness, {"frame": FACE, "timestamp": 1.0},
         lambda d, **k: d.once("detector", Detector).detect_sadness(**k), {"frame": "frame", "timestamp": "-1"}),
    Case("Detector.analyze", Detector.analyze, {"frame": FACE},
         lambda d, **k: d.once("detector", Detector).analyze(**k), {"frame": "frame"}),
    Case("Detector.detect_async", Detector.detect_async, {"frame": FACE, "timestamp": 1.0},
         lambda d, **k: _live(d).detect_async(**k),
         {"frame": "frame", "timestamp": "-1"}),
    Case("Detector.flush", Detector.flush, {"timeout": 5.0},
         lambda d, **k: _live(d).flush(**k)),
    Case("Detector.classify_faces", Detector.classify_faces, {"crops": [CROP]},
         lambda d, **k: d.once("detector", Detector).classify_faces(**k), {"crops": "[]"}),
    Case("DetectorOptions", DetectorOptions, {"backend": "default", "threshold": 0.5, "min_face": 40,
                                              "running_mode": "image", "backend_options": {},
                                              "result_callback": None},
         accepts={"backend": "'x'"}),  # a backend name is looked up when the Detector is built
    Case("SadnessMonitor", SadnessMonitor,
         {"detector": Source(), "options": MonitorOptions(), "baseline": In(lambda d: d("base.json")), "on_sad": _cb,
          "on_sample": _cb, "on_status": _cb}, accepts={"detector": "None", "options": "None"}),
    Case("SadnessMonitor.reset", SadnessMonitor.reset, {"keep_baseline": True},
         lambda d, **k: SadnessMonitor(Source()).reset(**k)),
    Case("SadnessMonitor.save_baseline", SadnessMonitor.save_baseline, {"path": In(lambda d: d("saved.json"))},
         lambda d, **k: SadnessMonitor(Source(), baseline=Baseline(0.2, 0.1, 0.05, 60)).save_baseline(**k),
         {"path": "'x'"}),  # a valid file name: the one file a call may write
    Case("SadnessMonitor.load_baseline", SadnessMonitor.load_baseline, {"path": In(lambda d: d("base.json"))},
         lambda d, **k: SadnessMonitor(Source()).load_baseline(**k)),
    *[Case(f"SadnessMonitor.{m}", getattr(SadnessMonitor, m), {"callback": _cb},
           lambda d, m=m, **k: getattr(SadnessMonitor(Source()), m)(**k), {"callback": "None"})  # a decorator
      for m in ("on_sad", "on_sample", "on_status")],
    Case("SadnessMonitor.events", SadnessMonitor.events, {"timeout": 0.01},  # None waits for ever, as documented
         lambda d, **k: list(SadnessMonitor(Source()).events(**k)) if k["timeout"] is not None else None,
         {"timeout": "None"}),
    Case("SadnessMonitor.assess", SadnessMonitor.assess, {"frame": FACE, "timestamp": 1.0, "reading": _reading()},
         lambda d, **k: SadnessMonitor(Source()).assess(**k), {"frame": "frame", "timestamp": "-1"}),
    Case("SadnessMonitor.update", SadnessMonitor.update, {"frame": FACE, "timestamp": 1.0, "reading": _reading()},
         lambda d, **k: SadnessMonitor(Source()).update(**k), {"frame": "frame", "timestamp": "-1"}),
    Case("SadnessMonitor.feed", SadnessMonitor.feed, {"sample": MonitorSample(1.0, 0.1, None, 1, 100, None)},
         lambda d, **k: SadnessMonitor(Source()).feed(**k)),
    Case("SadnessMonitor.run", SadnessMonitor.run,
         {"camera": Cam(), "interval": 0.01, "duration": 0.3, "max_samples": 3, "backoff": 0.01, "max_backoff": 0.02,
          "max_errors": 2}, lambda d, **k: SadnessMonitor(Source()).run(**k)),
    Case("SadnessMonitor.start", SadnessMonitor.start, {"camera": Cam(), "interval": 0.01},
         lambda d, **k: _run_in_thread(**k, max_samples=3)),
    *[Case(f"SadnessMonitor.{m}", getattr(SadnessMonitor, m), {"timeout": 0.5},
           lambda d, m=m, **k: getattr(SadnessMonitor(Source()), m)(**k), {"timeout": "None"})
      for m in ("stop", "wait", "close")],
    Case("MonitorOptions", MonitorOptions, _defaults(MonitorOptions)),
    Case("MonitorOptions.replace", MonitorOptions.replace, {"window": 10.0, "quality": QualityGate()},
         lambda d, **k: MonitorOptions().replace(**k)),
    Case("QualityGate", QualityGate, _defaults(QualityGate)),
    Case("Baseline", Baseline, {"level": 0.2, "mean": 0.1, "spread": 0.05, "samples": 60, "quantile": 0.75,
                                "created": 0.0}, accepts={"created": "-1"}),
    Case("Baseline.from_readings", Baseline.from_readings, {"sadness": [0.1, 0.2], "quantile": 0.75, "created": 1.0},
         accepts={"created": "-1 None"}),
    Case("Baseline.save", Baseline.save, {"path": In(lambda d: d("b.json"))},
         lambda d, **k: Baseline(0.2, 0.1, 0.05, 60).save(**k), {"path": "'x'"}),
    Case("Baseline.load", Baseline.load, {"path": In(lambda d: d("base.json"))}),
    Case("Baseline.from_dict", Baseline.from_dict,
         {"data": Baseline(0.2, 0.1, 0.05, 60).as_dict(), "where": "baseline"}, accepts={"where": "'x'"}),
    Case("measure_face", measure_face, {"gray": GRAY, "box": FaceBox(10, 10, 100, 100), "size": 64},
         accepts={"gray": "frame", "box": "None"}),
    Case("assess_reading", assess_reading,
         {"frame": FACE, "reading": _reading(), "gate": QualityGate(), "quality": None},
         accepts={"frame": "frame None"}),
    Case("load_image", frames.load_image, {"path": In(lambda d: d("face.png"))}),
    Case("validate_frame", frames.validate_frame, {"frame": FACE, "name": "frame"},
         accepts={"frame": "frame", "name": "'x'"}),
    Case("open_camera", open_camera, {"spec": In(lambda d: d("images"))}),
    Case("OpenCVCamera", OpenCVCamera, {"source": 0, "width": None, "height": None, "reconnect_attempts": 5,
                                        "backoff": 0.5, "max_backoff": 8.0, "api_preference": None},
         accepts={"source": "'x'", "api_preference": "-1"}),  # a URL or file opened on open(); cv2.CAP_ANY is -1
    Case("VideoFileCamera", VideoFileCamera, {"path": In(lambda d: d("v.avi")), "step": None},
         accepts={"path": "'x'"}),  # opened on open()
    Case("ImageFolderCamera", ImageFolderCamera,
         {"folder": In(lambda d: d("images")), "fps": 0.5, "loop": False, "extensions": (".png",)},
         accepts={"folder": "'x'", "extensions": "'x'"}),  # listed on open(); 'x' is the extension .x
    Case("PiCamera", PiCamera, {"width": 640, "height": 480, "camera_num": 0, "pixel_format": "RGB888",
                                "controls": None}),
    Case("CameraRetry", CameraRetry,
         {"camera": Cam(), "backoff": 1.0, "max_backoff": 30.0, "max_errors": None, "deadline": None, "stop": None,
          "finite": None, "on_error": None, "on_recover": None, "on_reopen_error": None},
         accepts={"deadline": "-1", "finite": "True"}),  # a deadline in the past: give up at the first error
    Case("check_schedule", check_schedule, {"backoff": 1.0, "max_backoff": 30.0, "max_errors": None},
         accepts={"max_errors": "None"}),
    Case("backends.create", backends.create, {"name": "default"}),
    Case("backends.get_class", backends.get_class, {"name": "default"}),
    Case("backends.register", backends.register,
         {"name": "sweep_toy", "target": "m:C", "extra": None, "install": None, "summary": ""},
         lambda d, **k: (backends.register(**k), backends._REGISTERED.pop(k["name"], None))[0],
         {"name": "'x'", "extra": "'x'", "install": "'x'", "summary": "'x'"}),
    Case("backends.require", require, {"module": "numpy", "extra": None, "backend": "keras", "install": None},
         accepts={"extra": ANY, "backend": ANY, "install": ANY}),  # only a hint in the message when it fails
    Case("bundled_model_path", bundled_model_path, {"runtime": "litert"}),
    Case("KerasBackend", KerasBackend,
         {"model_path": None, "runtime": "litert", "labels": None, "color": "bgr", "input_range": (0.0, 255.0),
          "detector": None, "tta": None, "num_threads": 1, "crop_scale": None, "crop_shift": None, "track": False,
          "class_bias": None}, accepts={"crop_shift": "-1", "tta": "True"}),
    Case("KerasBackend.analyze", KerasBackend.analyze, {"frame": FACE},
         lambda d, **k: _keras(d).analyze(**k), {"frame": "frame"}),
    Case("KerasBackend.classify_faces", KerasBackend.classify_faces, {"crops": [CROP]},
         lambda d, **k: _keras(d).classify_faces(**k), {"crops": "[]"}),
    Case("DlibBackend", DlibBackend, {"upsample": 0, "detect_width": 640, "model_path": None, "predictor_path": None,
                                      "mirror": True, "min_score": 0.0},
         accepts={"min_score": "-1"}),  # dlib's HOG scores may be negative
    *[Case(f"DlibBackend.{m}", getattr(DlibBackend, m), {arg: GRAY},
           lambda d, m=m, **k: getattr(_dlib(d), m)(**k), {arg: "frame"})
      for m, arg in (("detect", "gray"), ("detect_extents", "gray"), ("crop_landmarks", "crop_gray"))],
    Case("DlibBackend.landmarks", DlibBackend.landmarks, {"gray": GRAY, "box": FaceBox(150, 40, 150, 150)},
         lambda d, **k: _dlib(d).landmarks(**k), {"gray": "frame"}),
    Case("AzureFaceBackend", AzureFaceBackend,
         {**AZURE, "timeout": 10.0, "retries": 2, "backoff": 0.5, "max_retry_wait": 5.0,
          "detection_model": "detection_01", "recognition_model": None, "upload": "face", "face_margin": 0.4,
          "max_upload_side": 1920, "jpeg_quality": 90, "max_calls_per_minute": 20, "detector": None,
          "sleep": time.sleep, "clock": time.monotonic},
         accepts={"key": "'x'", "detection_model": "'x' None", "recognition_model": "'x'", "max_upload_side": "None",
                  "max_calls_per_minute": "None"}),  # names and keys: the service decides
    Case("FallbackBackend", FallbackBackend,
         {"backends": ("default",), "cooldown": 60.0, "clock": time.monotonic, "options": None}),
    Case("BlazeFaceDetector", BlazeFaceDetector,
         {"input_size": (256, 192), "min_score": 0.5, "min_face": 20, "num_threads": 1, "model_path": None,
          "track": False, "roi_scale": 2.5, "refresh_every": 5}),
    *[Case(f"BlazeFaceDetector.{m}", getattr(BlazeFaceDetector, m), {arg: GRAY},
           lambda d, m=m, **k: getattr(d.once("blaze", BlazeFaceDetector), m)(**k), {arg: "frame"})
      for m, arg in (("scores", "image"), ("detect", "gray"), ("detect_extents", "gray"))],
    Case("HaarFaceDetector", HaarFaceDetector,
         {"detect_width": 320, "min_face": 40, "scale_factor": 1.1, "min_neighbors": 4,
          "cascade": "haarcascade_frontalface_default.xml", "equalize": False}),
    Case("HaarFaceDetector.detect", HaarFaceDetector.detect, {"gray": GRAY},
         lambda d, **k: d.once("haar", HaarFaceDetector).detect(**k), {"gray": "frame"}),
    Case("default_face_detector", default_face_detector, {"track": False}),
    Case("crop_face", crop_face,
         {"gray": GRAY, "box": FaceBox(10, 10, 100, 100), "size": 48, "scale": 1.0, "shift": 0.0, "pad": "edge"},
         accepts={"gray": "frame", "shift": "-1"}),
    Case("downscaled", downscaled, {"gray": GRAY, "width": 100}, accepts={"gray": "frame"}),
    Case("load_labelled", evaluation.load_labelled,
         {"data": In(lambda d: d("fer.npz")), "split": "Training", "limit": 2}),
    Case("evaluate", evaluation.evaluate,
         {"backend": In(_keras), "data": In(lambda d: evaluation.load_labelled(d("fer.npz"), limit=1)),
          "cropped": True, "progress": False}),
    Case("classification_report", evaluation.classification_report,
         {"true": ["sadness", "happiness"], "scores": [{"sadness": 0.9, "happiness": 0.1}, {"happiness": 0.8}]}),
    Case("auroc", evaluation.auroc, {"scores": [0.1, 0.9, 0.4], "positive": [False, True, False]}),
    Case("time_per_face", evaluation.time_per_face, {"backend": In(_keras), "n": 1, "warmup": 1}),
    Case("sad_bias_figures", evaluation.sad_bias_figures,
         {"probs": np.full((4, 7), 1 / 7), "true": np.array([0, 4, 3, 6]), "bias": 0.1},
         accepts={"bias": "-1"}),
    Case("plot_readings", plotting.plot_readings,
         {"readings": [_reading()], "path": In(lambda d: d("r.png")), "title": "t", "threshold": 0.5, "events": ()},
         accepts={"readings": "[]", "title": "'x'", "events": "[]", "path": "'x'"}),
    Case("plot_timeline", plotting.plot_timeline,
         {"timeline": [_reading()], "path": In(lambda d: d("t.png")), "events": (), "title": "t", "threshold": 0.5},
         accepts={"timeline": "[]", "title": "'x'", "events": "[]", "path": "'x'"}),
    Case("check_plot_path", plotting.check_plot_path, {"path": In(lambda d: d("c.png"))}, accepts={"path": "'x'"}),
    Case("FaceBox", FaceBox, {"x": 1, "y": 1, "width": 10, "height": 10}, accepts={"x": "-1", "y": "-1"}),
    Case("FaceBox.clip", FaceBox.clip, {"frame_width": 100, "frame_height": 100},
         lambda d, **k: FaceBox(1, 1, 10, 10).clip(**k), {"frame_width": "-1", "frame_height": "-1"}),
    Case("FaceBox.iou", FaceBox.iou, {"other": FaceBox(2, 2, 10, 10)},
         lambda d, **k: FaceBox(1, 1, 10, 10).iou(**k)),
    # landmarks: the dlib backend's geometry, public for plug-ins and training
    Case("shape_to_array", L.shape_to_array, {"shape": _Shape()}),
    Case("crop_rect", L.crop_rect, {"width": 48, "height": 48, "rect": L.REGISTERED_RECT}),
    Case("eye_centres", L.eye_centres, {"pts": PTS}),
    Case("normalize_landmarks", L.normalize_landmarks, {"pts": PTS}),
    Case("mirror_landmarks", L.mirror_landmarks, {"pts": PTS, "width": 48}, accepts={"width": "-1"}),
    Case("geometry_features", L.geometry_features, {"pts": PTS, "normalized": False}),
    Case("plausible", L.plausible, {"pts": PTS, "width": 48, "height": 48}),
    Case("align_matrix", L.align_matrix, {"pts": PTS, "size": 48, "eye_y": 0.4, "iod": 0.4}),
    Case("align_face", L.align_face, {"gray": CROP, "landmarks": PTS, "size": 48, "eye_y": 0.4, "iod": 0.4},
         accepts={"gray": "frame"}),
    Case("appearance_features", L.appearance_features, {"aligned": CROP}),
    Case("expression_features", L.expression_features, {"gray": CROP, "pts": PTS, "mirror": False},
         accepts={"gray": "frame"}),
]


def _accepted(case: Case, arg: str, label: str) -> bool:
    if label in case.accepts.get(arg, "").split(" "):
        return True
    default = inspect.signature(case.target).parameters[arg].default
    return (label == "None" and default is None) or (label == "True" and isinstance(default, bool))


def _swept() -> list[Any]:
    return [pytest.param(case, arg, label, id=f"{case.name}({arg}={label})")
            for case in CASES for arg in case.kwargs for label in BAD]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    return Data(tmp_path_factory.mktemp("bad_arguments_data"))


def _public(target: Callable[..., Any]) -> list[str]:
    return [name for name, p in inspect.signature(target).parameters.items()
            if name != "self" and name != "cls" and not name.startswith("_")
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_every_argument_is_swept(case: Case) -> None:
    # a new argument of a public callable must join its baseline here (**options are swept where named)
    assert set(_public(case.target)) <= set(case.kwargs)


class _Hung(BaseException):
    pass


def _raise_hung(*_: Any) -> None:
    raise _Hung


@pytest.mark.parametrize(("case", "arg", "label"), _swept())
def test_one_bad_argument(case: Case, arg: str, label: str, data: Data, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    kwargs = {k: v.make(data) if isinstance(v, In) else v for k, v in case.kwargs.items()}
    kwargs[arg] = BAD[label]
    monkeypatch.chdir(tmp_path)
    previous = signal.signal(signal.SIGALRM, _raise_hung)
    signal.alarm(10)
    try:
        result = case.call(data, **kwargs) if case.call else case.target(**kwargs)
    except _Hung:
        pytest.fail(f"{case.name}({arg}={label}) did not return within 10 s")
    except BuddyEmotionError as e:
        message = str(e)
        assert "7, 7" not in message and "array(" not in message and "[[" not in message, message
        assert len(message) <= 400 and "\n" not in message, message
    else:
        assert _accepted(case, arg, label), f"{case.name}({arg}={label}) was accepted: {result!r}"[:300]
        for close in (getattr(result, "close", None),):
            if callable(close) and not isinstance(result, type):
                close()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written in ([], ["x"] if label == "'x'" else []), f"the call wrote {written}"


@pytest.mark.parametrize("label", list(BAD))
@pytest.mark.parametrize("cls", [KerasBackend, DlibBackend, AzureFaceBackend, FallbackBackend])
def test_viability_reports_a_bad_option_without_pixels(cls: Any, label: str) -> None:
    # viability() answers for any options (it never raises); its reason must not quote a frame's pixels
    names = {KerasBackend: ("runtime", "model_path"), DlibBackend: ("model_path", "predictor_path"),
             AzureFaceBackend: ("endpoint", "key"), FallbackBackend: ("backends",)}[cls]
    for name in names:
        try:
            reason = cls.viability(**{**AZURE, name: BAD[label]}).reason
        except BuddyEmotionError as e:
            reason = str(e)
        assert "7, 7" not in reason and "array(" not in reason and len(reason) <= 400, reason
