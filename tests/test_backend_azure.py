"""Azure Face backend, against recorded exchanges replayed by a real HTTP server on 127.0.0.1.

The SDK's real client talks HTTP to ``tests/azure_replay.py``; nothing leaves the machine.
"""

from __future__ import annotations

import builtins
import importlib.util
import io
import json
import logging
import socket
import sys
import tempfile
import time
import traceback
from pathlib import Path

import cv2
import numpy as np
import pytest
from azure_replay import (
    FIXTURES,
    FakeClock,
    FakeSleep,
    ReplayServer,
    load_fixture,
    offline_env,  # noqa: F401 - autouse fixture
    refused_endpoint,
    server,  # noqa: F401 - fixture
)

from buddy_emotion import backends
from buddy_emotion.backends.azure import NO_KEY_REASON, AzureFaceBackend
from buddy_emotion.backends.base import Viability
from buddy_emotion.errors import (
    AuthenticationError,
    BackendError,
    BackendUnavailableError,
    EmotionAttributeRetiredError,
    InvalidFrameError,
    MissingDependencyError,
    RateLimitError,
    ServiceError,
    ServiceUnavailableError,
)
from buddy_emotion.labels import EMOTIONS
from buddy_emotion.testing import BAD_FRAMES, BackendContract, blank_frame, sample_face_frame
from buddy_emotion.types import FaceBox

KEY = "k3y-0123456789abcdef-SECRET"
def make(srv: ReplayServer, **options) -> AzureFaceBackend:
    options.setdefault("upload", "frame")  # most replays check what the service sees of a whole frame
    options.setdefault("backoff", 0.0)
    options.setdefault("sleep", FakeSleep())
    return AzureFaceBackend(srv.endpoint, KEY, **options)


def two_face_frame() -> np.ndarray:
    face = sample_face_frame()
    return np.ascontiguousarray(np.hstack([face, face[:, ::-1]]))


class TestAzureContract(BackendContract):
    """The contract suite against the replay server in detect mode (it answers like the service would)."""

    supports_crops = False

    @pytest.fixture(autouse=True)
    def _replay(self, server: ReplayServer) -> None:
        self.server = server

    def make_backend(self) -> AzureFaceBackend:
        return make(self.server)


# -- replayed fixtures --------------------------------------------------------------------------
def test_one_face_maps_rectangle_scores_and_request(server: ReplayServer) -> None:
    server.play("one_face")
    faces = make(server).analyze(sample_face_frame())
    assert len(faces) == 1
    face = faces[0]
    assert face.box == FaceBox(176, 66, 98, 98)
    assert face.backend == "azure" and face.dominant == "happiness"
    assert set(face.scores) == set(EMOTIONS)
    assert face.scores["happiness"] == pytest.approx(0.921, abs=1e-3)
    assert sum(face.scores.values()) == pytest.approx(1.0)
    (req,) = server.requests
    assert (req.method, req.path) == ("POST", "/face/v1.0/detect")
    assert req.query["returnFaceAttributes"] == "emotion"
    assert req.query["returnFaceId"] == "false"  # the service keeps no face features
    assert req.query["detectionModel"] == "detection_01"
    assert "faceIdTimeToLive" not in req.query
    headers = {k.lower(): v for k, v in req.headers.items()}
    assert headers["ocp-apim-subscription-key"] == KEY
    assert headers["content-type"] == "application/octet-stream"
    image = cv2.imdecode(np.frombuffer(req.body, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (512, 512, 3)


def test_two_faces_largest_first(server: ReplayServer) -> None:
    server.play("two_faces")
    faces = make(server).analyze(two_face_frame())
    assert [f.box for f in faces] == [FaceBox(173, 61, 106, 106), FaceBox(749, 64, 99, 99)]
    assert faces[1].dominant == "sadness" and faces[1].sadness == pytest.approx(0.768, abs=1e-3)


def test_faces_are_sorted_largest_first_whatever_order_the_service_gives(server: ReplayServer) -> None:
    fixture = load_fixture("two_faces")
    fixture["responses"][0]["body"].reverse()
    server.play(fixture)
    faces = make(server).analyze(two_face_frame())
    assert [f.box for f in faces] == [FaceBox(173, 61, 106, 106), FaceBox(749, 64, 99, 99)]


def test_no_face_gives_empty_list(server: ReplayServer) -> None:
    server.play("no_face")
    assert make(server).analyze(sample_face_frame()) == []


def test_retired_emotion_explains_and_names_local_backends(server: ReplayServer) -> None:
    server.play("emotion_retired")
    sleep = FakeSleep()
    with pytest.raises(EmotionAttributeRetiredError) as info:
        make(server, sleep=sleep).analyze(sample_face_frame())
    msg = str(info.value)
    assert "30 June 2023" in msg and "'default'" in msg and "BadArgument" in msg and "grandfathered" in msg
    assert "\n" not in msg and KEY not in msg
    assert server.calls == 1 and sleep.waits == []  # not retried


def test_retired_emotion_answered_with_403_is_still_called_retired(server: ReplayServer) -> None:
    fixture = load_fixture("emotion_retired")
    fixture["responses"][0]["status"] = 403
    server.play(fixture)
    with pytest.raises(EmotionAttributeRetiredError):
        make(server).analyze(sample_face_frame())


def test_retired_hint_mentions_detection_model(server: ReplayServer) -> None:
    fixture = load_fixture("emotion_retired")
    fixture["request"]["query"] = {"returnFaceAttributes": "emotion", "detectionModel": "detection_03"}
    server.play(fixture)
    with pytest.raises(EmotionAttributeRetiredError, match="detection_01"):
        make(server, detection_model="detection_03").analyze(sample_face_frame())


def _answer_400(server: ReplayServer, code: str, message: str, status: int = 400) -> None:
    fixture = load_fixture("emotion_retired")
    fixture["responses"][0]["status"] = status
    fixture["responses"][0]["body"]["error"] = {"code": code, "message": message}
    server.play(fixture)


# The messages are the documented ones (Face API error codes; "Only face attributes ..." as answered for
# detection_03; "Invalid argument returnFaceAttributes." as answered for an attribute the service refuses),
# except the two that say "deprecated" and "retired", which are invented: the real retirement text is unknown.
@pytest.mark.parametrize(("code", "message"), [
    ("BadArgument", "Invalid argument returnFaceAttributes."),
    ("BadArgument", "Invalid argument returnFaceAttributes: 'emotion' is not supported."),
    ("BadArgument", "Only face attributes 'accessories,blur,exposure,glasses,headpose,mask,noise,occlusion,"
                    "qualityforrecognition' are supported by detection_01."),
    ("BadArgument", "Emotion is deprecated."),
    ("BadArgument", "This feature has been retired."),
    ("UnsupportedFeature", "Feature is not supported."),
])
def test_400_about_the_attribute_is_called_retired(server: ReplayServer, code: str, message: str) -> None:
    _answer_400(server, code, message)
    with pytest.raises(EmotionAttributeRetiredError) as info:
        make(server).analyze(sample_face_frame())
    assert message[:20] in str(info.value) and server.calls == 1


@pytest.mark.parametrize(("code", "message"), [
    ("BadArgument", "Invalid argument detectionModel."),
    ("BadArgument", "'recognitionModel' is invalid."),
    ("BadArgument", "Request body is invalid."),
    ("BadArgument", "JSON parsing error."),
    ("BadArgument", "Content-Type application/xml is not supported."),
    ("BadArgument", "Argument targetFace out of range."),
    ("BadArgument", ""),
    ("InvalidURL", "Invalid image URL."),
])
def test_other_bad_argument_is_not_called_retired(server: ReplayServer, code: str, message: str) -> None:
    _answer_400(server, code, message)
    with pytest.raises(ServiceError, match="rejected the request") as info:
        make(server).analyze(sample_face_frame())
    assert not isinstance(info.value, EmotionAttributeRetiredError)
    assert f"HTTP 400 {code}" in str(info.value) and message in str(info.value) and server.calls == 1


@pytest.mark.parametrize(("code", "message"), [
    ("InvalidImage", "Decoding error, image format unsupported."),
    ("InvalidImageSize", "Image size is too small."),
    ("InvalidImageSize", "Image size is too big."),
])
def test_bad_image_is_a_service_error_that_says_so(server: ReplayServer, code: str, message: str) -> None:
    _answer_400(server, code, message)
    sleep = FakeSleep()
    with pytest.raises(ServiceError, match="rejected the uploaded image") as info:
        make(server, sleep=sleep).analyze(sample_face_frame())
    assert not isinstance(info.value, EmotionAttributeRetiredError)
    msg = str(info.value)
    assert f"HTTP 400 {code}: {message}" in msg and "1 KB" in msg and "max_upload_side" in msg and "\n" not in msg
    assert server.calls == 1 and sleep.waits == []  # the same image would be refused again


# Invented answers, one for each part of the rule in _is_retirement's docstring.
@pytest.mark.parametrize(("code", "message", "retired"), [
    ("InvalidRequest", "Emotion recognition requires Limited Access approval.", True),  # names emotion
    ("BadArgument", "This feature is deprecated.", True),
    ("BadArgument", "This feature is no longer available.", True),
    ("InvalidImage", "The image has no face attributes to detect.", False),  # image errors, whatever they say
    ("InvalidRequest", "This API version is no longer supported.", False),  # "gone" counts in a BadArgument only
    ("BadArgument", "Image format is not supported.", False),  # names another argument
    ("BadArgument", "detectionModel detection_02 is deprecated.", False),
])
def test_what_counts_as_the_retirement(code: str, message: str, retired: bool) -> None:
    from buddy_emotion.backends.azure import _is_retirement

    assert _is_retirement(code, message) is retired


def test_face_without_emotion_attribute(server: ReplayServer) -> None:
    server.play("face_without_emotion")
    with pytest.raises(EmotionAttributeRetiredError, match="no emotion attribute"):
        make(server).analyze(sample_face_frame())


def test_bad_key_gives_authentication_error(server: ReplayServer) -> None:
    server.play("bad_key")
    with pytest.raises(AuthenticationError) as info:
        make(server).analyze(sample_face_frame())
    assert "401" in str(info.value) and "AZURE_FACE_KEY" in str(info.value)
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    assert server.calls == 1


def test_wrong_key_is_refused_by_the_server(server: ReplayServer) -> None:
    server.expected_key = "the-right-key"
    with pytest.raises(AuthenticationError):
        make(server).analyze(sample_face_frame())
    server.expected_key = KEY
    assert len(make(server).analyze(sample_face_frame())) == 1


def test_403_is_an_authentication_error(server: ReplayServer) -> None:
    fixture = load_fixture("bad_key")
    fixture["responses"][0].update(status=403, body={"error": {"code": "403", "message": "Forbidden"}})
    server.play(fixture)
    with pytest.raises(AuthenticationError, match="403"):
        make(server).analyze(sample_face_frame())


def test_429_honours_retry_after_then_succeeds(server: ReplayServer) -> None:
    server.play("rate_limited_then_ok")
    sleep = FakeSleep()
    faces = make(server, sleep=sleep).analyze(sample_face_frame())
    assert len(faces) == 1 and server.calls == 2
    assert sleep.waits == [1.0]


def test_429_with_long_retry_after_raises_at_once(server: ReplayServer) -> None:
    server.play("rate_limited")
    sleep = FakeSleep()
    with pytest.raises(RateLimitError) as info:
        make(server, sleep=sleep, max_retry_wait=5.0).analyze(sample_face_frame())
    assert info.value.retry_after == 30.0 and "429" in str(info.value)
    assert server.calls == 1 and sleep.waits == []


def test_429_retry_after_from_message_and_http_date() -> None:
    from email.utils import formatdate

    from buddy_emotion.backends.azure import _retry_after

    assert _retry_after({}, "Rate limit is exceeded. Try again in 26 seconds.") == 26.0
    assert _retry_after({"Retry-After": "7"}, "") == 7.0
    assert 50 < _retry_after({"Retry-After": formatdate(time.time() + 60, usegmt=True)}, "") <= 60
    assert _retry_after({}, "no hint") is None


def test_500_is_retried_with_backoff_then_unavailable(server: ReplayServer) -> None:
    server.play("server_error")
    sleep = FakeSleep()
    with pytest.raises(ServiceUnavailableError, match=r"HTTP 500.*after 4 attempts"):
        make(server, retries=3, backoff=0.5, sleep=sleep).analyze(sample_face_frame())
    assert server.calls == 4 and sleep.waits == [0.5, 1.0, 2.0]  # doubling, not growing by a step


def test_501_is_not_retried(server: ReplayServer) -> None:
    fixture = load_fixture("server_error")
    fixture["responses"][0]["status"] = 501  # not implemented: trying again will not help
    server.play(fixture)
    sleep = FakeSleep()
    with pytest.raises(ServiceUnavailableError, match="HTTP 501"):
        make(server, retries=3, backoff=0.5, sleep=sleep).analyze(sample_face_frame())
    assert server.calls == 1 and sleep.waits == []


def test_503_then_success(server: ReplayServer) -> None:
    fixture = load_fixture("server_error")
    fixture["responses"][0]["status"] = 503
    fixture["responses"].append(load_fixture("one_face")["responses"][0])
    server.play(fixture)
    sleep = FakeSleep()
    assert len(make(server, backoff=0.25, sleep=sleep).analyze(sample_face_frame())) == 1
    assert server.calls == 2 and sleep.waits == [0.25]


def test_slow_answer_times_out(server: ReplayServer) -> None:
    server.play("slow")
    t0 = time.monotonic()
    with pytest.raises(ServiceUnavailableError, match=r"timed out after 0.2 s \(after 2 attempts\)"):
        make(server, timeout=0.2, retries=1).analyze(sample_face_frame())
    assert time.monotonic() - t0 < 1.5
    assert server.calls == 2


def test_refused_connection() -> None:
    sleep = FakeSleep()
    b = AzureFaceBackend(refused_endpoint(), KEY, retries=2, backoff=0.1, sleep=sleep)
    with pytest.raises(ServiceUnavailableError, match="refused") as info:
        b.analyze(sample_face_frame())
    assert sleep.waits == [0.1, 0.2] and KEY not in str(info.value)


def test_dns_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def fake_getaddrinfo(host, *args, **kwargs):
        if str(host).endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    b = AzureFaceBackend("https://face.invalid", KEY, retries=1, sleep=FakeSleep())
    with pytest.raises(ServiceUnavailableError, match="cannot resolve host face.invalid"):
        b.analyze(sample_face_frame())


def test_malformed_json(server: ReplayServer) -> None:
    server.play("malformed_json")
    with pytest.raises(ServiceError, match="malformed JSON") as info:
        make(server).analyze(sample_face_frame())
    assert not isinstance(info.value, ServiceUnavailableError)
    assert server.calls == 1


def test_malformed_scores(server: ReplayServer) -> None:
    fixture = load_fixture("one_face")
    fixture["responses"][0]["body"][0]["faceAttributes"]["emotion"]["sadness"] = 7.5
    server.play(fixture)
    with pytest.raises(ServiceError, match="malformed emotion scores"):
        make(server).analyze(sample_face_frame())


# -- limiter -----------------------------------------------------------------------------------
def test_client_side_limiter_raises_without_calling(server: ReplayServer) -> None:
    clock = FakeClock()
    b = make(server, max_calls_per_minute=2, clock=clock)
    frame = sample_face_frame()
    b.analyze(frame)
    clock.t += 10
    b.analyze(frame)
    clock.t += 5
    with pytest.raises(RateLimitError) as info:
        b.analyze(frame)
    assert info.value.retry_after == pytest.approx(45.0)
    assert "free tier" in str(info.value) and "max_calls_per_minute" in str(info.value)
    assert server.calls == 2
    clock.t += 45
    b.analyze(frame)
    assert server.calls == 3


def test_limiter_can_be_disabled(server: ReplayServer) -> None:
    b = make(server, max_calls_per_minute=None, clock=FakeClock())
    small = cv2.resize(blank_frame(), (64, 48))
    for _ in range(21):
        b.analyze(small)
    assert server.calls == 21


# -- privacy and bandwidth -----------------------------------------------------------------------
def test_key_never_in_repr_errors_or_logs(server: ReplayServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    b = make(server, retries=1)
    texts = [repr(b), str(b)]
    for fixture in ("one_face", "bad_key", "server_error", "rate_limited", "rate_limited_then_ok",
                    "malformed_json", "emotion_retired"):
        server.play(fixture)
        try:
            b.analyze(sample_face_frame())
        except BackendError as e:
            texts += [str(e), repr(e), "".join(traceback.format_exception(e))]
    echo = load_fixture("bad_key")  # a service that echoes the key back must not leak it either
    echo["responses"][0]["body"]["error"]["message"] = f"key {KEY} is not valid"
    server.play(echo)
    with pytest.raises(AuthenticationError) as info:
        b.analyze(sample_face_frame())
    assert "***" in str(info.value)
    texts += [str(info.value), caplog.text] + [r.getMessage() for r in caplog.records]
    assert len(caplog.records) > 0
    for text in texts:
        assert KEY not in text


def test_jpeg_in_memory_nothing_written(server: ReplayServer, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    real_open = builtins.open

    def guarded_open(file, mode="r", *args, **kwargs):
        if any(c in str(mode) for c in "wax+"):
            raise AssertionError(f"the backend opened {file!r} for writing")
        return real_open(file, mode, *args, **kwargs)

    def forbidden(*args, **kwargs):
        raise AssertionError("the backend wrote an image file")

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(cv2, "imwrite", forbidden)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", forbidden)
    monkeypatch.setattr(tempfile, "mkstemp", forbidden)
    b = make(server)
    assert len(b.analyze(sample_face_frame())) == 1
    b.close()
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
    assert server.requests[0].body[:3] == b"\xff\xd8\xff"


def test_upload_face_sends_only_the_face_and_maps_back(server: ReplayServer) -> None:
    from buddy_emotion.face_detection import HaarFaceDetector

    frame = two_face_frame()
    b = make(server, upload="face")
    faces = b.analyze(frame)
    sent = cv2.imdecode(np.frombuffer(server.requests[0].body, np.uint8), cv2.IMREAD_COLOR)
    assert sent.shape[0] * sent.shape[1] < frame.shape[0] * frame.shape[1] / 4
    main = HaarFaceDetector().detect(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))[0]
    assert len(faces) == 1 and faces[0].box.iou(main) > 0.7


class _FixedDetector:
    def __init__(self, boxes: list[FaceBox]) -> None:
        self.boxes = boxes

    def detect(self, gray: np.ndarray) -> list[FaceBox]:
        return list(self.boxes)


def test_upload_face_mapping_is_exact(server: ReplayServer) -> None:
    fixture = load_fixture("one_face")
    fixture["responses"][0]["body"][0]["faceRectangle"] = {"left": 32, "top": 48, "width": 96, "height": 80}
    server.play(fixture)
    # face 50x50 at (200, 100), margin 0.4 -> 20 px: crop (180, 80) 90x90, upscaled to 160x160
    b = make(server, upload="face", face_margin=0.4, detector=_FixedDetector([FaceBox(200, 100, 50, 50)]))
    (face,) = b.analyze(sample_face_frame())
    sent = cv2.imdecode(np.frombuffer(server.requests[0].body, np.uint8), cv2.IMREAD_COLOR)
    assert sent.shape[:2] == (160, 160)
    assert face.box == FaceBox(180 + 18, 80 + 27, 54, 45)


def test_upload_face_without_local_face_sends_nothing(server: ReplayServer) -> None:
    b = make(server, upload="face", detector=_FixedDetector([]))
    assert b.analyze(sample_face_frame()) == []
    assert server.calls == 0


def test_large_frames_are_downscaled_and_boxes_mapped_back(server: ReplayServer) -> None:
    server.play("one_face")
    frame = cv2.resize(sample_face_frame(), (1024, 1024))
    (face,) = make(server, max_upload_side=512).analyze(frame)
    sent = cv2.imdecode(np.frombuffer(server.requests[0].body, np.uint8), cv2.IMREAD_COLOR)
    assert sent.shape[:2] == (512, 512)
    assert face.box == FaceBox(352, 132, 196, 196)


def test_jpeg_quality_reaches_the_encoder(server: ReplayServer) -> None:
    """A lower ``jpeg_quality`` uploads fewer bytes of the same frame, and a JPEG that decodes to it."""
    server.play("one_face")
    frame = sample_face_frame()
    sizes = {}
    for quality in (95, 20):
        make(server, jpeg_quality=quality).analyze(frame)
        body = server.requests[-1].body
        sent = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
        assert sent is not None and sent.shape == frame.shape
        sizes[quality] = len(body)
    assert sizes[20] < sizes[95] * 0.8


@pytest.mark.parametrize("options", [{}, {"recognition_model": "recognition_04"}, {"detection_model": "detection_03"}])
def test_model_options_reach_the_query(server: ReplayServer, options: dict[str, str]) -> None:
    """``detection_model`` is always sent; ``recognition_model`` only when given (not the SDK's default)."""
    fixture = load_fixture("one_face")
    fixture["request"]["query"] = {"returnFaceAttributes": "emotion"}
    server.play(fixture)
    make(server, **options).analyze(sample_face_frame())
    (req,) = server.requests
    assert req.query["detectionModel"] == options.get("detection_model", "detection_01")
    assert req.query.get("recognitionModel") == options.get("recognition_model")


def test_bad_frames_never_reach_the_service(server: ReplayServer) -> None:
    b = make(server)
    for frame in BAD_FRAMES.values():
        with pytest.raises(InvalidFrameError):
            b.analyze(frame)  # type: ignore[arg-type]
    assert server.calls == 0


def test_classify_faces_is_unsupported(server: ReplayServer) -> None:
    with pytest.raises(BackendError, match="full frames"):
        make(server).classify_faces([sample_face_frame()[30:230, 140:320]])


# -- configuration -------------------------------------------------------------------------------
def test_create_from_env(server: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_FACE_ENDPOINT", server.endpoint + "/")
    monkeypatch.setenv("AZURE_FACE_KEY", KEY)
    with backends.create("azure", backoff=0.0) as b:
        assert isinstance(b, AzureFaceBackend) and b.endpoint == server.endpoint
        assert KEY not in repr(b) and server.endpoint in repr(b)
        assert len(b.analyze(sample_face_frame())) == 1


def test_create_with_arguments(server: ReplayServer) -> None:
    b = backends.create("azure", endpoint=server.endpoint, key=KEY, timeout=3.0, retries=0,
                        detection_model="detection_01", upload="face")
    assert (b.timeout, b.retries, b.upload) == (3.0, 0, "face")
    assert b.labels == EMOTIONS
    assert b._client.config.connection.timeout == 3.0


def test_no_key_or_endpoint() -> None:
    with pytest.raises(BackendUnavailableError, match="AZURE_FACE_KEY"):
        AzureFaceBackend("https://x.cognitiveservices.azure.com")
    with pytest.raises(BackendUnavailableError, match="AZURE_FACE_ENDPOINT"):
        AzureFaceBackend(key=KEY)
    with pytest.raises(ValueError, match="endpoint"):
        AzureFaceBackend("x.cognitiveservices.azure.com", KEY)
    with pytest.raises(ValueError, match="upload"):
        AzureFaceBackend("https://x.cognitiveservices.azure.com", KEY, upload="everything")  # type: ignore[arg-type]


def test_viability_without_key_is_one_line_and_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("viability() must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    v = AzureFaceBackend.viability()
    assert v == Viability(False, NO_KEY_REASON)
    assert v.reason == "no key: set AZURE_FACE_KEY and AZURE_FACE_ENDPOINT or pass key= and endpoint="
    assert backends.viability("azure") == v
    assert not AzureFaceBackend.viability(key=KEY).ok
    assert "AZURE_FACE_ENDPOINT" in AzureFaceBackend.viability(key=KEY).reason
    monkeypatch.setenv("AZURE_FACE_KEY", KEY)
    monkeypatch.setenv("AZURE_FACE_ENDPOINT", "https://x.cognitiveservices.azure.com")
    ok = AzureFaceBackend.viability()
    assert ok.ok and KEY not in ok.reason and "x.cognitiveservices.azure.com" in ok.reason


def test_viability_without_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.startswith("azure.cognitiveservices") else real(name, *a))
    v = AzureFaceBackend.viability(key=KEY, endpoint="https://x.cognitiveservices.azure.com")
    assert not v.ok and "pip install 'buddy-emotion[azure]'" in v.reason


def test_missing_sdk_raises_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "azure.cognitiveservices.vision.face", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'buddy-emotion\[azure\]'"):
        AzureFaceBackend("https://x.cognitiveservices.azure.com", KEY)
    monkeypatch.delenv("AZURE_FACE_KEY", raising=False)
    monkeypatch.delenv("AZURE_FACE_ENDPOINT", raising=False)
    with pytest.raises(MissingDependencyError, match=r"pip install 'buddy-emotion\[azure\]'"):
        AzureFaceBackend()  # without the extra, the hint comes first, not "no key"


def test_sdk_retries_are_off_and_http_logger_disabled(server: ReplayServer) -> None:
    b = make(server)
    policy = b._client.config.retry_policy.policy
    assert policy.total == 0 and not policy.status_forcelist
    assert b._client.config.enable_http_logger is False


def test_closed_backend(server: ReplayServer) -> None:
    from buddy_emotion.backends.azure import _REDACT

    b = make(server)
    closed: list[bool] = []
    real_close = b._client.close

    def close() -> None:
        closed.append(True)
        real_close()

    b._client.close = close
    holders = _REDACT._keys[KEY]  # backends still open with this key (other tests leave some open)
    b.close()
    assert closed == [True] and _REDACT._keys.get(KEY, 0) == holders - 1  # session closed, key let go
    b.close()  # idempotent: the key is let go once
    assert _REDACT._keys.get(KEY, 0) == holders - 1
    with pytest.raises(BackendUnavailableError, match="closed"):
        b.analyze(sample_face_frame())


# -- fixtures and record mode --------------------------------------------------------------------
REQUIRED_CASES = ("one_face", "two_faces", "no_face", "emotion_retired", "bad_key", "rate_limited_then_ok",
                  "server_error", "slow", "malformed_json")


@pytest.mark.parametrize("name", REQUIRED_CASES)
def test_fixture_files_follow_the_documented_shapes(name: str) -> None:
    fx = load_fixture(name)
    assert fx["request"]["path"] == "/face/v1.0/detect"
    assert fx["request"]["query"]["returnFaceAttributes"] == "emotion"
    assert fx["request"]["headers"]["Ocp-Apim-Subscription-Key"] == "<any>"
    assert fx["request_line"].startswith("POST /face/v1.0/detect?")
    for resp in fx["responses"]:
        body = resp.get("body")
        if resp["status"] == 200 and body is not None:
            for face in body:
                assert set(face["faceRectangle"]) == {"top", "left", "width", "height"}
                assert set(face["faceAttributes"]["emotion"]) == set(EMOTIONS)
        elif resp["status"] != 200:
            assert set(body["error"]) == {"code", "message"}


def test_record_script_round_trip(server: ReplayServer, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("azure_record", FIXTURES / "record.py")
    record = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(record)
    server.expected_key = KEY
    paths = record.record(server.endpoint, KEY, tmp_path, ["one_face", "no_face", "bad_key"])
    assert sorted(p.name for p in paths) == ["bad_key.json", "no_face.json", "one_face.json"]
    for p in paths:
        assert KEY not in p.read_text()
    assert json.loads((tmp_path / "bad_key.json").read_text())["responses"][0]["status"] == 401
    with ReplayServer(tmp_path / "one_face.json") as again:
        faces = AzureFaceBackend(again.endpoint, KEY, upload="frame").analyze(sample_face_frame())
        assert len(faces) == 1 and faces[0].box.iou(FaceBox(176, 66, 98, 98)) > 0.9
        again.play(tmp_path / "no_face.json")
        assert AzureFaceBackend(again.endpoint, KEY, upload="frame").analyze(sample_face_frame()) == []
        assert again.errors == []


# -- argument and reply checks ------------------------------------------------------------------------
EP = "https://x.cognitiveservices.azure.com"
NAN = float("nan")


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"endpoint": 123}, TypeError, "endpoint"),
    ({"key": 123}, TypeError, "key"),
    ({"detection_model": 1}, TypeError, "detection_model"),
    ({"timeout": "10"}, ValueError, "timeout"),
    ({"retries": None}, ValueError, "retries"),
    ({"retries": NAN}, ValueError, "retries"),
    ({"retries": 1000}, ValueError, "retries"),
    ({"backoff": NAN}, ValueError, "backoff"),
    ({"backoff": float("inf")}, ValueError, "backoff"),
    ({"max_retry_wait": NAN}, ValueError, "max_retry_wait"),
    ({"face_margin": NAN}, ValueError, "face_margin"),
    ({"jpeg_quality": "abc"}, ValueError, "jpeg_quality"),
    ({"max_upload_side": NAN}, ValueError, "max_upload_side"),
    ({"max_calls_per_minute": NAN}, ValueError, "max_calls_per_minute"),
    ({"max_calls_per_minute": -1}, ValueError, "max_calls_per_minute"),
    ({"detector": "x"}, TypeError, "detector"),
    ({"sleep": None}, TypeError, "sleep"),
])
def test_bad_options_name_the_argument(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        AzureFaceBackend(**{"endpoint": EP, "key": KEY, **kwargs})
    assert not AzureFaceBackend.viability(key=123).ok  # type: ignore[arg-type]


def test_numpy_scalar_options_are_valid() -> None:
    b = AzureFaceBackend(EP, KEY, timeout=np.float32(3), retries=np.int64(1), max_calls_per_minute=np.int64(5),
                         max_upload_side=np.int64(640), max_retry_wait=float("inf"))
    assert (b.timeout, b.retries, b.max_calls_per_minute, b.max_upload_side) == (3.0, 1, 5, 640)
    assert AzureFaceBackend(EP, KEY, max_calls_per_minute=0).max_calls_per_minute is None


def _stubbed(detect) -> AzureFaceBackend:
    b = AzureFaceBackend(EP, KEY, sleep=FakeSleep(), max_calls_per_minute=None)
    b._client.face.detect_with_stream = detect
    return b


def _reply(sadness: object = 0.8, left: object = 10, width: object = 100):
    from types import SimpleNamespace

    emotion = SimpleNamespace(anger=0.0, contempt=0.0, disgust=0.0, fear=0.0, happiness=0.1, neutral=0.1,
                              sadness=sadness, surprise=0.0)
    face = SimpleNamespace(face_rectangle=SimpleNamespace(left=left, top=10, width=width, height=100),
                           face_attributes=SimpleNamespace(emotion=emotion))
    return lambda **kw: [face]


def test_scores_are_renormalised_to_sum_to_one() -> None:
    (face,) = _stubbed(_reply(sadness=0.3)).analyze(sample_face_frame())  # the reply sums to 0.5
    assert sum(face.scores.values()) == pytest.approx(1.0)
    assert face.sadness == pytest.approx(0.6)


@pytest.mark.parametrize("reply", [{"sadness": "high"}, {"sadness": NAN}, {"sadness": [1]}, {"left": "a"},
                                   {"width": NAN}, {"width": float("inf")}, {"left": None}])
def test_unusable_service_reply_is_a_service_error(reply: dict) -> None:
    with pytest.raises(ServiceError, match="Azure Face returned"):
        _stubbed(_reply(**reply)).analyze(sample_face_frame())
    assert len(_stubbed(_reply()).analyze(sample_face_frame())) == 1


@pytest.mark.parametrize("exc", [RuntimeError("sdk bug"), KeyError("faceRectangle"), AttributeError("x")])
def test_unexpected_sdk_exception_is_wrapped_with_its_cause(exc: Exception) -> None:
    def detect(**kw):
        raise exc

    with pytest.raises(ServiceError, match=type(exc).__name__) as info:
        _stubbed(detect).analyze(sample_face_frame())
    assert info.value.__cause__ is exc and KEY not in str(info.value)


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RateLimitError("ours", retry_after=1.0)])
def test_interrupts_and_own_errors_pass_through(exc: BaseException) -> None:
    def detect(**kw):
        raise exc

    with pytest.raises(type(exc)) as info:
        _stubbed(detect).analyze(sample_face_frame())
    assert info.value is exc


def test_non_finite_retry_after_is_ignored() -> None:
    from buddy_emotion.backends.azure import _retry_after

    assert _retry_after({"Retry-After": "inf"}, "") is None
    assert _retry_after({"Retry-After": "nan"}, "Try again in 3 seconds") == 3.0


def test_default_upload_is_the_face_only(server: ReplayServer) -> None:
    b = AzureFaceBackend(server.endpoint, KEY, backoff=0.0, sleep=FakeSleep())
    assert b.upload == "face"  # privacy first: the room stays on the machine unless asked
    b.close()


# -- findings of the remote-backend audit ---------------------------------------------------------------
@pytest.mark.parametrize(("retry_after", "waited"), [("1e300", 86400.0), ("Fri, 31 Dec 9999 23:59:59 GMT", 86400.0),
                                                     ("-5", 0.25)])
def test_absurd_retry_after_is_cut_to_a_day_or_ignored(server: ReplayServer, retry_after: str,
                                                       waited: float) -> None:
    """A huge ``Retry-After`` used to reach ``time.sleep`` (OverflowError) and a negative one skipped the back-off."""
    fixture = load_fixture("rate_limited")
    fixture["responses"][0]["headers"]["Retry-After"] = retry_after
    fixture["responses"][0]["body"]["error"]["message"] = "Rate limit is exceeded."
    server.play(fixture)
    sleep = FakeSleep()
    with pytest.raises(RateLimitError) as info:
        make(server, retries=1, backoff=0.25, max_retry_wait=float("inf"), sleep=sleep).analyze(sample_face_frame())
    assert sleep.waits == [waited] and server.calls == 2
    assert info.value.retry_after == (None if waited == 0.25 else 86400.0)


@pytest.mark.parametrize(("limit", "box", "shape"), [
    (128, FaceBox(200, 100, 50, 50), (128, 128)),  # a 90x90 crop upscaled towards 160 px, no further than 128
    # the 100x40 face with its 40 px margins is a 180x120 crop: upscaled (its shorter side is under 160 px)
    # until its longer side reaches the limit, 200 px, so 133 px high
    (200, FaceBox(200, 100, 100, 40), (133, 200)),
])
def test_upscaled_face_crop_keeps_to_max_upload_side(server: ReplayServer, limit: int, box: FaceBox,
                                                      shape: tuple[int, int]) -> None:
    server.play("one_face")
    b = make(server, upload="face", max_upload_side=limit, detector=_FixedDetector([box]))
    b.analyze(sample_face_frame())
    sent = cv2.imdecode(np.frombuffer(server.requests[0].body, np.uint8), cv2.IMREAD_COLOR)
    assert sent.shape[:2] == shape


def test_tls_failure_is_not_retried() -> None:
    """A plain-HTTP port behind an https:// endpoint fails the same way each time: one attempt, one clear line."""
    with ReplayServer("one_face") as srv:
        sleep = FakeSleep()
        b = AzureFaceBackend(srv.endpoint.replace("http://", "https://"), KEY, retries=2, backoff=0.5, sleep=sleep,
                             upload="frame")
        with pytest.raises(ServiceUnavailableError, match=r"TLS with 127\.0\.0\.1:\d+ failed") as info:
            b.analyze(sample_face_frame())
    assert sleep.waits == [] and "after" not in str(info.value) and KEY not in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("endpoint", ["https://user:s3cr3t-pw@x.cognitiveservices.azure.com",
                                      "https://x.cognitiveservices.azure.com/?code=s3cr3t-pw",
                                      "https://x.cognitiveservices.azure.com/#s3cr3t-pw", "user:s3cr3t-pw@x"])
def test_endpoint_with_secrets_is_refused_without_showing_them(endpoint: str) -> None:
    """They used to show in repr(), in 404 and network messages and in viability()."""
    with pytest.raises(ValueError, match="endpoint") as info:
        AzureFaceBackend(endpoint, KEY)
    assert "s3cr3t" not in str(info.value)
    v = AzureFaceBackend.viability(endpoint=endpoint, key=KEY)
    assert not v.ok and "s3cr3t" not in v.reason


def test_documented_worst_case_counts_the_waits_of_429s() -> None:
    """docs/azure.md's worst case with the defaults: every attempt near ``timeout``, each retry after a 429 that
    asks for ``max_retry_wait`` (the longest wait the backend accepts) or the back-off, whichever is longer."""
    import inspect
    import re

    defaults = {k: p.default for k, p in inspect.signature(AzureFaceBackend).parameters.items()}
    retries, timeout = defaults["retries"], defaults["timeout"]
    worst = (retries + 1) * timeout + sum(max(defaults["max_retry_wait"], defaults["backoff"] * 2 ** i)
                                          for i in range(retries))
    text = (Path(__file__).resolve().parents[1] / "docs" / "azure.md").read_text(encoding="utf-8")
    stated = re.search(r"Worst case.*?= ([\d.]+) s", text, re.DOTALL)
    assert stated is not None and float(stated.group(1)) == pytest.approx(worst)


@pytest.mark.parametrize("endpoint", ["https://", "https:///face/v1.0"])
def test_endpoint_without_a_host_is_refused(endpoint: str) -> None:
    with pytest.raises(ValueError, match="must look like https://NAME"):
        AzureFaceBackend(endpoint, KEY)
    assert not AzureFaceBackend.viability(endpoint=endpoint, key=KEY).ok


def test_retry_after_from_the_message_is_cut_to_a_day() -> None:
    from buddy_emotion.backends.azure import _retry_after

    assert _retry_after({}, "Try again in 99999999 seconds.") == 86400.0
    assert _retry_after({"Retry-After": "Fri, 31 Dec 99999999999999999999 23:59:59 GMT"}, "") is None  # overflow
