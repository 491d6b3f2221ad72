"""A real HTTP server on 127.0.0.1 that replays recorded Azure Face ``detect`` exchanges.

The Azure backend's tests point the SDK's endpoint at it, so the SDK's own serialization, headers
(``Ocp-Apim-Subscription-Key``), error parsing and our retries run unchanged; nothing leaves the machine.

A fixture (``tests/fixtures/azure/*.json``, format in that folder's README) holds the expected request
and a list of responses; each request consumes the next response and the last one repeats. Every
request is checked against the fixture's ``request`` part (method, path, query, headers) and must carry
a JPEG body; mismatches are kept in :attr:`ReplayServer.errors` (tests assert it stays empty) and
answered with HTTP 418 so they cannot pass unnoticed.

``detect`` mode answers like the service would for any image: it finds faces with the local Haar
detector in the uploaded JPEG and returns them with the emotion scores of ``one_face.json``.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "azure"
ANY = "<any>"
"""A fixture header value that matches any non-empty value (used for the subscription key)."""

__all__ = ["FIXTURES", "ReplayServer", "RecordedRequest", "load_fixture", "refused_endpoint"]


def load_fixture(name: str | Path) -> dict[str, Any]:
    """A fixture by file name (``"one_face"`` or ``"one_face.json"``) or path."""
    path = Path(name)
    if not path.is_absolute() and path.parent == Path("."):
        path = FIXTURES / (path.name if path.suffix == ".json" else f"{path.name}.json")
    return json.loads(path.read_text(encoding="utf-8"))


def refused_endpoint() -> str:
    """``http://127.0.0.1:PORT`` of a port nobody listens on (connections are refused)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class RecordedRequest:
    """What the replay server received (body kept in memory only)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = field(repr=False)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # CRLF after each chunk
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _any(self) -> None:
        body = self._read_body() if self.command in ("POST", "PUT", "PATCH") else b""
        url = urlsplit(self.path)
        req = RecordedRequest(self.command, url.path, {k: v[-1] for k, v in parse_qs(url.query).items()},
                              {k: v for k, v in self.headers.items()}, body)
        status, headers, payload, delay = self.server.owner._respond(req)
        if delay:
            time.sleep(delay)
        try:
            self.send_response(status)
            for k, v in headers.items():
                if k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (time-out test)
            self.close_connection = True

    do_POST = do_GET = do_PUT = do_DELETE = _any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ReplayServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):  # broken pipes are expected (time-outs); anything else is a bug
            self.owner.errors.append(f"replay server failed: {type(exc).__name__}: {exc}")


class ReplayServer:
    """Replay server on ``127.0.0.1`` (a free port); use as a context manager or call :meth:`close`.

    Args:
        fixture: a fixture name, path or dict to replay, or ``"detect"`` for detect mode.
        expected_key: when set, requests with another subscription key get ``bad_key.json``'s 401.
    """

    def __init__(self, fixture: str | Path | dict[str, Any] = "detect", *, expected_key: str | None = None) -> None:
        self.expected_key = expected_key
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._detector: Any = None
        self.play(fixture)
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="azure-replay")
        self._thread.start()

    @property
    def endpoint(self) -> str:
        """The endpoint to give the backend (``http://127.0.0.1:PORT``)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def play(self, fixture: str | Path | dict[str, Any]) -> None:
        """Replay ``fixture`` from its first response on (``"detect"`` for detect mode)."""
        with self._lock:
            if fixture == "detect":
                self._fixture = load_fixture("one_face")
                self._detect = True
            else:
                self._fixture = copy.deepcopy(fixture) if isinstance(fixture, dict) else load_fixture(fixture)
                self._detect = False
            self._next = 0

    @property
    def calls(self) -> int:
        """Number of requests received."""
        return len(self.requests)

    # -- answering ---------------------------------------------------------------------------
    def _check(self, req: RecordedRequest) -> list[str]:
        want = self._fixture.get("request", {})
        problems = []
        if req.method != want.get("method", "POST"):
            problems.append(f"method {req.method} != {want.get('method', 'POST')}")
        if req.path != want.get("path", "/face/v1.0/detect"):
            problems.append(f"path {req.path!r} != {want.get('path')!r}")
        for k, v in want.get("query", {}).items():
            if req.query.get(k) != v:
                problems.append(f"query {k}={req.query.get(k)!r}, expected {v!r}")
        headers = {k.lower(): v for k, v in req.headers.items()}
        for k, v in want.get("headers", {}).items():
            got = headers.get(k.lower())
            if v == ANY:
                if not got:
                    problems.append(f"header {k} missing")
            elif got is None or got.split(";")[0].strip() != v:
                problems.append(f"header {k}: {got!r}, expected {v!r}")
        if not req.body.startswith(b"\xff\xd8\xff"):
            problems.append(f"body is not a JPEG ({len(req.body)} bytes)")
        return problems

    def _respond(self, req: RecordedRequest) -> tuple[int, dict[str, str], bytes, float]:
        with self._lock:
            self.requests.append(req)
            problems = self._check(req)
            if problems:
                self.errors.extend(problems)
                body = json.dumps({"error": {"code": "ReplayMismatch", "message": "; ".join(problems)}})
                return 418, {"Content-Type": "application/json"}, body.encode(), 0.0
            key = {k.lower(): v for k, v in req.headers.items()}.get("ocp-apim-subscription-key")
            detect = self._detect
            if self.expected_key is not None and key != self.expected_key:
                resp, detect = load_fixture("bad_key")["responses"][0], False
            else:
                responses = self._fixture["responses"]
                resp = responses[min(self._next, len(responses) - 1)]
                self._next += 1
        headers = dict(resp.get("headers", {}))
        if detect:
            body = json.dumps(self._detect_faces(req.body, resp)).encode()
        elif "body_text" in resp:
            body = resp["body_text"].encode("utf-8")
        else:
            body = json.dumps(resp.get("body")).encode("utf-8")
        return int(resp["status"]), headers, body, float(resp.get("delay", 0.0))

    def _detect_faces(self, jpeg: bytes, template: dict[str, Any]) -> list[dict[str, Any]]:
        import cv2
        import numpy as np

        from buddy_emotion.face_detection import HaarFaceDetector

        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
        with self._lock:
            if self._detector is None:
                self._detector = HaarFaceDetector()
            detector = self._detector
        emotion = template["body"][0]["faceAttributes"]["emotion"]
        return [{"faceRectangle": {"top": b.y, "left": b.x, "width": b.width, "height": b.height},
                 "faceAttributes": {"emotion": dict(emotion)}} for b in detector.detect(image)]

    def close(self) -> None:
        """Stop serving. Idempotent."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- test doubles shared by test_backend_azure.py and test_backend_fallback.py --------------------------
NETWORK_ENV = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
               "AZURE_FACE_KEY", "AZURE_FACE_ENDPOINT")
"""Variables that would send the tests through a proxy or to a real Azure resource."""


def clear_network_env(monkeypatch: Any) -> None:
    """Remove :data:`NETWORK_ENV` for one test (pytest's ``monkeypatch``)."""
    for var in NETWORK_ENV:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Autouse in a test module that imports it: no Azure variables reach the tests."""
    clear_network_env(monkeypatch)


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    """A replay server for the ``detect`` route; fails the test if it saw unexpected requests."""
    with ReplayServer("detect") as srv:
        yield srv
        assert srv.errors == [], srv.errors


class FakeSleep:
    """Records the waits it is asked for instead of sleeping (seconds)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class FakeClock:
    """A monotonic clock the test moves by hand (``clock.t += 30``)."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t
