"""The fallback backend over the replayed Azure backend and the local default backend."""

from __future__ import annotations

import pytest
from azure_replay import (  # noqa: F401 - fixtures
    FakeClock,
    ReplayServer,
    clear_network_env,
    load_fixture,
    offline_env,
    server,
)

from buddy_emotion import backends
from buddy_emotion.backends.azure import NO_KEY_REASON, AzureFaceBackend
from buddy_emotion.backends.base import EmotionBackend, Viability
from buddy_emotion.backends.fallback import FallbackBackend, MemberStatus
from buddy_emotion.errors import (
    BackendError,
    BackendNotFoundError,
    BackendUnavailableError,
    InvalidFrameError,
    ServiceError,
    ServiceUnavailableError,
)
from buddy_emotion.labels import EMOTIONS
from buddy_emotion.testing import BackendContract, sample_face_frame

KEY = "fallback-test-key-0123456789"
LOCAL = "keras"  # the name the "default" backend puts on its readings


def azure(srv: ReplayServer, **options) -> AzureFaceBackend:
    options.setdefault("backoff", 0.0)
    options.setdefault("retries", 0)
    options.setdefault("sleep", lambda s: None)
    return AzureFaceBackend(srv.endpoint, KEY, **options)


class TestFallbackContract(BackendContract):
    """Azure (replayed, answering) first, the local default second: crops go to the local one."""

    @pytest.fixture(autouse=True)
    def _replay(self, server: ReplayServer) -> None:
        self.server = server

    def make_backend(self) -> FallbackBackend:
        return FallbackBackend([azure(self.server), "default"])


class TestFallbackContractAzureDown(BackendContract):
    """Azure refuses the key: everything is served by the default backend."""

    @pytest.fixture(autouse=True)
    def _replay(self, server: ReplayServer) -> None:
        server.play("bad_key")
        self.server = server

    def make_backend(self) -> FallbackBackend:
        return FallbackBackend([azure(self.server), "default"])


def test_serves_from_azure_while_it_works(server: ReplayServer) -> None:
    with FallbackBackend([azure(server), "default"]) as fb:
        faces = fb.analyze(sample_face_frame())
        assert [f.backend for f in faces] == ["azure"]
        assert fb.labels == EMOTIONS
        assert [s.healthy for s in fb.status()] == [True, True]


@pytest.mark.parametrize("fixture,error", [
    ("emotion_retired", "EmotionAttributeRetiredError"),
    ("bad_key", "AuthenticationError"),
    ("rate_limited", "RateLimitError"),
    ("slow", "ServiceUnavailableError"),
])
def test_falls_back_to_default(server: ReplayServer, fixture: str, error: str) -> None:
    server.play(fixture)
    clock = FakeClock(100.0)
    timeout = 0.2 if fixture == "slow" else 5.0  # the slow answer comes after 2 s
    fb = FallbackBackend([azure(server, timeout=timeout), "default"], cooldown=60.0, clock=clock)
    faces = fb.analyze(sample_face_frame())
    assert len(faces) == 1 and faces[0].backend == LOCAL
    first, second = fb.status()
    assert first.name == "azure" and not first.healthy and first.available
    assert first.error is not None and first.error.startswith(error) and "\n" not in first.error
    assert KEY not in first.error
    assert first.retry_at == pytest.approx(clock.t + 60.0) and first.retry_in == pytest.approx(60.0)
    assert second == MemberStatus("default", True, True, None, None, None)
    calls = server.calls
    fb.analyze(sample_face_frame())  # cooling down: Azure is not asked again
    assert server.calls == calls
    fb.close()


@pytest.mark.parametrize(("code", "message", "error"), [
    ("BadArgument", "Request body is invalid.", "ServiceError: Azure Face rejected the request"),
    ("InvalidImageSize", "Image size is too small.", "ServiceError: Azure Face rejected the uploaded image"),
])
def test_other_400_falls_back_as_a_service_error(server: ReplayServer, code: str, message: str, error: str) -> None:
    fixture = load_fixture("emotion_retired")
    fixture["responses"][0]["body"]["error"] = {"code": code, "message": message}
    server.play(fixture)
    with FallbackBackend([azure(server), "default"], cooldown=60.0, clock=FakeClock(100.0)) as fb:
        assert fb.analyze(sample_face_frame())[0].backend == LOCAL
        first = fb.status()[0]
        assert not first.healthy and first.error is not None and first.error.startswith(error), first.error


def test_cooldown_then_first_is_tried_again(server: ReplayServer) -> None:
    server.play("server_error")
    clock = FakeClock(100.0)
    fb = FallbackBackend([azure(server), "default"], cooldown=60.0, clock=clock)
    assert fb.analyze(sample_face_frame())[0].backend == LOCAL
    server.play("one_face")
    clock.t += 59.0
    assert fb.analyze(sample_face_frame())[0].backend == LOCAL
    assert server.calls == 1 and fb.status()[0].retry_in == pytest.approx(1.0)
    clock.t += 1.5
    assert fb.analyze(sample_face_frame())[0].backend == "azure"
    assert server.calls == 2
    assert fb.status()[0] == MemberStatus("azure", True, True, None, None, None)


def test_rate_limit_retry_after_longer_than_cooldown(server: ReplayServer) -> None:
    server.play("rate_limited")  # Retry-After: 30
    clock = FakeClock(100.0)
    fb = FallbackBackend([azure(server), "default"], cooldown=10.0, clock=clock)
    assert fb.analyze(sample_face_frame())[0].backend == LOCAL
    assert fb.status()[0].retry_at == pytest.approx(clock.t + 30.0)


def test_client_side_limit_falls_back(server: ReplayServer) -> None:
    clock = FakeClock(100.0)
    fb = FallbackBackend([azure(server, max_calls_per_minute=1, clock=clock), "default"], clock=clock)
    assert fb.analyze(sample_face_frame())[0].backend == "azure"
    assert fb.analyze(sample_face_frame())[0].backend == LOCAL
    assert fb.status()[0].error.startswith("RateLimitError")
    assert server.calls == 1


def test_created_by_name_without_key_skips_azure() -> None:
    fb = backends.create("fallback", backends=["azure", "default"])
    first, second = fb.status()
    assert (first.name, first.available, first.healthy) == ("azure", False, False)
    assert NO_KEY_REASON in first.error
    assert second.healthy
    assert fb.analyze(sample_face_frame())[0].backend == LOCAL
    assert fb.labels == tuple(sorted(fb.members[0].labels, key=EMOTIONS.index))
    assert "contempt" not in fb.labels
    fb.close()


def test_member_options_by_name(server: ReplayServer) -> None:
    fb = backends.create("fallback", backends=["azure", "default"],
                         options={"azure": {"endpoint": server.endpoint, "key": KEY, "retries": 0}})
    assert fb.analyze(sample_face_frame())[0].backend == "azure"
    assert fb.labels == EMOTIONS
    assert KEY not in repr(fb)
    fb.close()


def test_all_members_failing(server: ReplayServer) -> None:
    server.play("bad_key")
    fb = FallbackBackend([azure(server)])
    with pytest.raises(ServiceUnavailableError) as info:
        fb.analyze(sample_face_frame())
    msg = str(info.value)
    assert "azure: AuthenticationError" in msg and "retry in 60 s" in msg and "\n" not in msg
    assert KEY not in msg
    with pytest.raises(ServiceUnavailableError, match="cooling down"):
        fb.analyze(sample_face_frame())
    assert server.calls == 1


def test_no_member_can_run() -> None:
    with pytest.raises(BackendUnavailableError, match="no key"):
        FallbackBackend(["azure"])


def test_unknown_member_name() -> None:
    with pytest.raises(BackendNotFoundError):
        FallbackBackend(["azure", "no-such-backend"])
    with pytest.raises(ValueError, match="cannot contain the backend 'fallback'"):
        FallbackBackend(["fallback", "default"])


def test_invalid_frame_is_raised_without_marking_down(server: ReplayServer) -> None:
    fb = FallbackBackend([azure(server), "default"])
    with pytest.raises(InvalidFrameError):
        fb.analyze(None)  # type: ignore[arg-type]
    assert all(s.healthy for s in fb.status()) and server.calls == 0


class _BadFrameBackend(EmotionBackend):
    """A member that itself rejects frames: the fallback must not try the next one."""

    name = "picky"
    labels = ("sadness", "neutral")

    def analyze(self, frame):
        raise InvalidFrameError("picky rejects every frame")


def test_member_invalid_frame_error_is_reraised() -> None:
    fb = FallbackBackend([_BadFrameBackend(), "default"])
    with pytest.raises(InvalidFrameError, match="picky"):
        fb.analyze(sample_face_frame())
    assert fb.status()[0].healthy


def test_labels_are_the_union_of_the_members() -> None:
    fb = FallbackBackend([_BadFrameBackend(), "default"])  # the first member knows two labels only
    assert fb.labels == tuple(label for label in EMOTIONS if label != "contempt")
    fb.close()


def test_members_already_made_are_closed_when_a_later_one_fails() -> None:
    closed: list[str] = []

    class _Tracked(_BadFrameBackend):
        def close(self) -> None:
            closed.append(self.name)

    with pytest.raises(BackendNotFoundError):
        FallbackBackend([_Tracked(), "no-such-backend"])
    assert closed == ["picky"]


def test_classify_faces_goes_to_a_member_that_takes_crops(server: ReplayServer) -> None:
    crop = sample_face_frame()[30:230, 140:320]
    fb = FallbackBackend([azure(server), "default"])
    assert [f.backend for f in fb.classify_faces([crop])] == [LOCAL]
    assert server.calls == 0
    only_azure = FallbackBackend([azure(server)])
    with pytest.raises(BackendError, match="crops") as info:
        only_azure.classify_faces([crop])
    assert not isinstance(info.value, ServiceError)


def test_viability() -> None:
    v = FallbackBackend.viability(backends=["azure"])
    assert isinstance(v, Viability) and not v.ok and "no key" in v.reason
    v = FallbackBackend.viability(backends=["azure", "default"])
    assert v.ok and "azure: no key" in v.reason and "default: ok" in v.reason
    assert backends.viability("fallback").ok


def test_status_as_dict_and_close(server: ReplayServer) -> None:
    member = azure(server)
    fb = FallbackBackend([member, "default"])
    rows = [s.as_dict() for s in fb.status()]
    assert rows[0] == {"name": "azure", "available": True, "healthy": True, "error": None,
                       "retry_at": None, "retry_in": None}
    fb.close()
    fb.close()
    with pytest.raises(BackendUnavailableError, match="closed"):
        member.analyze(sample_face_frame())
    with pytest.raises(BackendUnavailableError, match="closed"):
        fb.analyze(sample_face_frame())


# -- argument checks --------------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"cooldown": "5"}, ValueError, "cooldown"),
    ({"cooldown": float("nan")}, ValueError, "cooldown"),
    ({"cooldown": -1}, ValueError, "cooldown"),
    ({"options": "x"}, TypeError, "options"),
    ({"options": {"default": 5}}, TypeError, r"options\['default'\]"),
    ({"clock": None}, TypeError, "clock"),
    ({"backends": 5}, TypeError, "backends"),
    ({"backends": [5]}, TypeError, "members"),
])
def test_bad_options_name_the_argument(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        FallbackBackend(**{"backends": ["default"], **kwargs})


def test_viability_of_a_bad_member_list_is_not_viable() -> None:
    v = FallbackBackend.viability(backends=5)  # type: ignore[arg-type]
    assert not v.ok and "backends" in v.reason
