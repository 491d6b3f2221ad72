"""Backend ``azure``: Azure Face API ``detect`` with the ``emotion`` attribute (extra ``azure``).

Microsoft retired the emotion attribute on 30 June 2023 (Responsible AI standard; Face is now Limited
Access): for most resources a request for it fails with ``400 BadArgument``, which this backend turns
into :class:`~buddy_emotion.errors.EmotionAttributeRetiredError` naming the local backends when the answer
points at the attribute; other 400s (a bad image, a bad request) stay plain ``ServiceError``. Grandfathered
resources, Azure Stack and compatible endpoints still answer, and this backend serves them. See
``docs/azure.md``.

Privacy: frames are JPEG-encoded in memory and streamed to the service; nothing touches the disk.
With ``upload="face"`` only the main face (found locally) plus a margin is sent, and the boxes the
service returns are mapped back to frame pixels. ``returnFaceId`` is always false, so the service keeps
no face features. The subscription key never appears in reprs, logs or error messages.
"""

from __future__ import annotations

import email.utils
import importlib.util
import io
import logging
import math
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import numpy as np

from buddy_emotion import _check
from buddy_emotion._check import shown
from buddy_emotion.backends.base import EmotionBackend, Viability, checked_detector, require
from buddy_emotion.errors import (
    ArgumentTypeError,
    AuthenticationError,
    BackendUnavailableError,
    BuddyEmotionError,
    EmotionAttributeRetiredError,
    InvalidArgumentError,
    RateLimitError,
    ServiceError,
    ServiceUnavailableError,
)
from buddy_emotion.face_detection import FaceDetector, default_face_detector
from buddy_emotion.frames import to_bgr, to_gray, validate_frame
from buddy_emotion.labels import EMOTIONS
from buddy_emotion.types import FaceBox, FaceEmotion

__all__ = ["AzureFaceBackend", "ENDPOINT_ENV", "KEY_ENV", "NO_KEY_REASON"]

_LOG = logging.getLogger(__name__)

ENDPOINT_ENV = "AZURE_FACE_ENDPOINT"
KEY_ENV = "AZURE_FACE_KEY"
NO_KEY_REASON = f"no key: set {KEY_ENV} and {ENDPOINT_ENV} or pass key= and endpoint="
NO_ENDPOINT_REASON = f"no endpoint: set {ENDPOINT_ENV} or pass endpoint="
_SDK = "azure.cognitiveservices.vision.face"
_INSTALL = "pip install 'buddy-emotion[azure]'"
LOCAL_BACKENDS = ("default", "keras", "dlib")
"""Backends that run on this machine, named in the retirement error."""
_MIN_UPLOAD_SIDE = 160
"""Face crops smaller than this (pixels, shorter side) are upscaled: the service wants >= 1 KB and 36 px faces."""
_RETRYABLE_STATUS = frozenset({408, 500, 502, 503, 504})
_MAX_RETRY_AFTER = 86400.0
"""Longest ``Retry-After`` taken from the service (seconds): a longer one (up to 1e300) is cut to a day."""

Upload = Literal["frame", "face"]


class _RedactKeys(logging.Filter):
    """Replaces live subscription keys in log records by ``***``.

    Installed on this module's logger and on the loggers of msrest, requests and urllib3, which log
    service messages and (with msrest's HTTP logger, which redacts only ``Authorization``) headers.
    """

    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[str, int] = {}
        self._lock = threading.Lock()
        self._installed = False

    def add(self, key: str) -> None:
        with self._lock:
            self._keys[key] = self._keys.get(key, 0) + 1
            if not self._installed:
                for name in _REDACTED_LOGGERS:
                    logging.getLogger(name).addFilter(self)
                self._installed = True

    def discard(self, key: str) -> None:
        with self._lock:
            n = self._keys.get(key, 0) - 1
            if n > 0:
                self._keys[key] = n
            else:
                self._keys.pop(key, None)

    def filter(self, record: logging.LogRecord) -> bool:
        keys = list(self._keys)
        if keys:
            try:
                message = record.getMessage()
            except Exception:  # a broken record is not ours to fix
                return True
            redacted = message
            for key in keys:
                redacted = redacted.replace(key, "***")
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


_REDACTED_LOGGERS = (__name__, "msrest", "msrest.exceptions", "msrest.http_logger", "msrest.service_client",
                     "msrest.universal_http", "msrest.universal_http.requests", "msrest.pipeline",
                     "msrest.pipeline.requests", "msrest.pipeline.universal", "requests", "urllib3.connectionpool")
_REDACT = _RedactKeys()


@dataclass(frozen=True)
class _Upload:
    """What is sent: the image's offset in the frame (pixels) and its scale (upload px per frame px)."""

    jpeg: bytes
    x0: int
    y0: int
    scale: float


class _CallLimiter:
    """Sliding one-minute window of call times; over budget raises RateLimitError instead of sleeping."""

    def __init__(self, per_minute: int | None, clock: Callable[[], float], period: float = 60.0) -> None:
        self.per_minute = per_minute
        self.period = period
        self._clock = clock
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.per_minute:
            return
        with self._lock:
            now = self._clock()
            while self._calls and now - self._calls[0] >= self.period:
                self._calls.popleft()
            if len(self._calls) >= self.per_minute:
                wait = max(0.0, self._calls[0] + self.period - now)
                raise RateLimitError(
                    f"client-side limit of {self.per_minute} Azure Face calls a minute reached (the free tier's "
                    f"quota); retry after {wait:.1f} s, or raise max_calls_per_minute= (None disables it)",
                    retry_after=wait,
                )
            self._calls.append(now)


class AzureFaceBackend(EmotionBackend):
    """Azure Face ``detect`` with ``returnFaceAttributes=emotion``; full frames only.

    Args:
        endpoint: the resource's endpoint, e.g. ``https://NAME.cognitiveservices.azure.com`` (default: env
            ``AZURE_FACE_ENDPOINT``).
        key: the subscription key (default: env ``AZURE_FACE_KEY``). Never logged or shown.
        timeout: seconds per HTTP attempt (connect and read each).
        retries: extra attempts (0..10) after a 5xx, 408, time-out, refused or dropped connection or DNS failure
            (not after a TLS failure), and after a 429 whose ``Retry-After`` is at most ``max_retry_wait`` (no
            ``Retry-After``: after the back-off). The SDK's own retries are disabled.
        backoff: seconds before the first retry, doubled for each further one.
        max_retry_wait: a 429 asking to wait longer than this (seconds; inf: any) raises RateLimitError at once.
        detection_model: the service's detection model; only ``detection_01`` returns emotions.
        recognition_model: sent only when given (no face ids are requested, so it rarely matters).
        upload: ``"face"`` (default, the private choice) sends only the main face found by the local
            detector, with ``face_margin`` around it (no local face: nothing is sent, no faces returned);
            ``"frame"`` sends the whole frame, so the service sees (and scores) every face in the room.
        face_margin: margin added on each side of the main face, as a fraction of its side.
        max_upload_side: frames whose longer side exceeds this (pixels) are downscaled before upload
            (boxes are mapped back), and small face crops are not upscaled past it; None sends full resolution.
        jpeg_quality: JPEG quality 1..100.
        max_calls_per_minute: client-side limit (the free tier allows 20 calls a minute); a call over it
            raises RateLimitError with ``retry_after`` immediately, never sleeps. None or 0 disables it.
        detector: local face detector for ``upload="face"`` (default: the library's default detector).
        sleep, clock: injectable ``time.sleep`` and ``time.monotonic`` (tests).

    Raises:
        MissingDependencyError: the SDK is not installed.
        BackendUnavailableError: no key or no endpoint.
        ValueError: an option is out of range or not a number, or the endpoint holds a user:password@, ?query or
            #fragment (they would show in messages); TypeError: an option has the wrong type.
    """

    name: ClassVar[str] = "azure"
    labels: tuple[str, ...] = EMOTIONS

    def __init__(self, endpoint: str | None = None, key: str | None = None, *, timeout: float = 10.0,
                 retries: int = 2, backoff: float = 0.5, max_retry_wait: float = 5.0,
                 detection_model: str = "detection_01", recognition_model: str | None = None,
                 upload: Upload = "face", face_margin: float = 0.4, max_upload_side: int | None = 1920,
                 jpeg_quality: int = 90, max_calls_per_minute: int | None = 20,
                 detector: FaceDetector | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        for arg, value in (("endpoint", endpoint), ("key", key), ("detection_model", detection_model),
                           ("recognition_model", recognition_model)):
            if value is not None and not isinstance(value, str):
                raise ArgumentTypeError(f"{arg} must be a string or None, got {type(value).__name__}")
        for arg, fn in (("sleep", sleep), ("clock", clock)):
            if not callable(fn):
                raise ArgumentTypeError(f"{arg} must be callable, got {shown(fn)}")
        # the missing SDK first: its pip hint is what a user without the extra needs, keys or not
        face_mod = require(_SDK, "azure", "azure")
        models = require(f"{_SDK}.models", "azure", "azure")
        auth = require("msrest.authentication", "azure", "azure")
        msrest_exc = require("msrest.exceptions", "azure", "azure")
        endpoint = endpoint if endpoint is not None else os.environ.get(ENDPOINT_ENV)
        key = key if key is not None else os.environ.get(KEY_ENV)
        if not key or not key.strip():
            raise BackendUnavailableError(f"backend 'azure': {NO_KEY_REASON}")
        if not endpoint or not endpoint.strip():
            raise BackendUnavailableError(f"backend 'azure': {NO_ENDPOINT_REASON}")
        endpoint = endpoint.strip().rstrip("/")
        problem = _endpoint_problem(endpoint)
        if problem:
            raise InvalidArgumentError(f"endpoint {problem}")
        parts = urlsplit(endpoint)
        if parts.path.rstrip("/").endswith("/face/v1.0"):
            endpoint = endpoint[: -len("/face/v1.0")]  # the SDK adds it
        if not isinstance(upload, str):
            raise ArgumentTypeError(f"upload must be 'frame' or 'face', got {shown(upload)}")
        if upload not in ("frame", "face"):
            raise InvalidArgumentError(f"upload must be 'frame' or 'face', got {shown(upload)}")

        self.endpoint = endpoint
        self.timeout = _check.number("timeout", timeout, 0.0, open_lo=True, unit="seconds")
        self.retries = _check.integer("retries", retries, 0, 10)
        self.backoff = _check.number("backoff", backoff, 0.0, unit="seconds")
        # inf: honour any Retry-After
        self.max_retry_wait = _check.number("max_retry_wait", max_retry_wait, 0.0, finite=False, unit="seconds")
        self.detection_model = detection_model
        self.recognition_model = recognition_model
        self.upload: Upload = upload
        self.face_margin = _check.number("face_margin", face_margin, 0.0)
        self.max_upload_side = (None if max_upload_side is None
                                else _check.integer("max_upload_side", max_upload_side, 64))
        self.jpeg_quality = _check.integer("jpeg_quality", jpeg_quality, 1, 100)
        self.max_calls_per_minute = (None if max_calls_per_minute is None
                                     else _check.integer("max_calls_per_minute", max_calls_per_minute, 0) or None)
        self._detector = checked_detector("detector", detector)
        self._sleep = sleep
        self._limiter = _CallLimiter(self.max_calls_per_minute, clock)
        self.__key = key.strip()  # only for redaction; name-mangled so subclasses and reprs do not meet it
        self._closed = True  # until the client exists

        self._APIErrorException = models.APIErrorException
        self._ClientRequestError = msrest_exc.ClientRequestError
        self._DeserializationError = msrest_exc.DeserializationError
        self._ClientException = msrest_exc.ClientException
        client = face_mod.FaceClient(self.endpoint, auth.CognitiveServicesCredentials(self.__key))
        config = client.config
        config.connection.timeout = self.timeout
        # Our own bounded retries replace msrest's (3 retries, up to 90 s back-off, on every 5xx and 408).
        # The Retry object may already sit in the session's adapters, so it is changed in place into
        # requests' own default: no retries, read errors raised as they are.
        policy = config.retry_policy.policy
        policy.total, policy.connect, policy.read, policy.status = 0, 0, False, 0
        policy.status_forcelist, policy.backoff_factor = frozenset(), 0
        # msrest's HTTP logger redacts only "Authorization": it would log Ocp-Apim-Subscription-Key.
        config.enable_http_logger = False
        self._client: Any = client
        _REDACT.add(self.__key)
        self._closed = False

    # -- registry hooks ----------------------------------------------------------------------
    @classmethod
    def viability(cls, endpoint: str | None = None, key: str | None = None, **_: Any) -> Viability:
        """Viable when the SDK is installed and a key and endpoint are set; calls no service."""
        try:
            found = importlib.util.find_spec(_SDK) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return Viability(False, f"the Azure Face SDK is not installed: {_INSTALL}")
        key = key if key is not None else os.environ.get(KEY_ENV)
        endpoint = endpoint if endpoint is not None else os.environ.get(ENDPOINT_ENV)
        for arg, value in (("key", key), ("endpoint", endpoint)):
            if value is not None and not isinstance(value, str):
                return Viability(False, f"{arg} must be a string, got {type(value).__name__}")
        if not key or not key.strip():
            return Viability(False, NO_KEY_REASON)
        if not endpoint or not endpoint.strip():
            return Viability(False, NO_ENDPOINT_REASON)
        problem = _endpoint_problem(endpoint.strip())
        if problem:
            return Viability(False, f"{ENDPOINT_ENV} or endpoint= {problem}")
        host = urlsplit(endpoint.strip()).netloc
        return Viability(True, f"endpoint {host}; the emotion attribute answers only for grandfathered access")

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.name!r} endpoint={self.endpoint!r} upload={self.upload!r} "
                f"detection_model={self.detection_model!r}>")

    @property
    def detector(self) -> FaceDetector:
        """The local face detector used by ``upload="face"`` (created on first use)."""
        if self._detector is None:
            self._detector = default_face_detector()
        return self._detector

    # -- helpers -----------------------------------------------------------------------------
    def _redact(self, text: object) -> str:
        s = _check.one_line(text, 300)
        return s.replace(self.__key, "***") if self.__key else s

    def _encode(self, image: np.ndarray) -> bytes:
        import cv2

        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise ServiceError("could not JPEG-encode the frame for Azure Face")
        return buf.tobytes()

    def _prepare(self, frame: np.ndarray) -> _Upload | None:
        """The JPEG to send and how it sits in the frame; None when ``upload="face"`` finds no face."""
        import cv2

        bgr = to_bgr(frame)
        h, w = bgr.shape[:2]
        x0, y0, image = 0, 0, bgr
        if self.upload == "face":
            boxes = self.detector.detect(to_gray(frame))
            if not boxes:
                return None
            main = boxes[0]
            m = int(round(self.face_margin * max(main.width, main.height)))
            x0, y0 = max(0, main.x - m), max(0, main.y - m)
            x1, y1 = min(w, main.right + m), min(h, main.bottom + m)
            image = bgr[y0:y1, x0:x1]
        ih, iw = image.shape[:2]
        scale = 1.0
        if self.max_upload_side is not None and max(ih, iw) > self.max_upload_side:
            scale = self.max_upload_side / max(ih, iw)
        elif self.upload == "face" and min(ih, iw) < _MIN_UPLOAD_SIDE:
            scale = _MIN_UPLOAD_SIDE / min(ih, iw)
            if self.max_upload_side is not None:  # the upscaled crop must not outgrow the limit either
                scale = max(1.0, min(scale, self.max_upload_side / max(ih, iw)))
        if scale != 1.0:
            size = (max(1, round(iw * scale)), max(1, round(ih * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
            scale = image.shape[1] / iw
        return _Upload(self._encode(np.ascontiguousarray(image)), x0, y0, scale)

    def _detect(self, jpeg: bytes) -> list[Any]:
        """One ``detect`` call (the JPEG streamed from memory); SDK errors pass through."""
        self._limiter.acquire()
        return self._client.face.detect_with_stream(
            image=io.BytesIO(jpeg),
            return_face_id=False,
            return_face_landmarks=False,
            return_face_attributes=["emotion"],
            recognition_model=self.recognition_model,
            detection_model=self.detection_model,
            face_id_time_to_live=None,
        ) or []

    def _call(self, jpeg: bytes) -> list[Any]:
        """``detect`` with bounded retries; raises only this library's errors."""
        attempt = 0
        while True:
            try:
                return self._detect(jpeg)
            except BuddyEmotionError:
                raise
            except Exception as exc:  # the SDK's and requests' errors, translated below
                error, wait = self._translate(exc, attempt)
            if wait is None or attempt >= self.retries:
                if isinstance(error, ServiceUnavailableError) and attempt:
                    error = ServiceUnavailableError(f"{error} (after {attempt + 1} attempts)")
                _LOG.warning("azure: %s", error)
                raise error from error.__cause__  # None (no chained context) unless _translate kept one
            _LOG.info("azure: %s; retrying in %.2f s (attempt %d of %d)", error, wait, attempt + 2, self.retries + 1)
            if wait > 0:
                self._sleep(wait)
            attempt += 1

    def _translate(self, exc: Exception, attempt: int) -> tuple[ServiceError, float | None]:
        """This library's error for an SDK exception, and the wait before a retry (None: do not retry)."""
        backoff = self.backoff * (2 ** attempt)
        if isinstance(exc, self._APIErrorException):
            return self._translate_status(exc, backoff)
        if isinstance(exc, self._DeserializationError):
            what = exc.args[0] if exc.args and isinstance(exc.args[0], str) else exc
            return ServiceError(f"Azure Face answered with malformed JSON ({self._redact(what)}); "
                                "is the endpoint a Face API?"), None
        if isinstance(exc, self._ClientRequestError):
            what, transient = self._describe_network_error(exc)
            return ServiceUnavailableError(what), (backoff if transient else None)
        if isinstance(exc, self._ClientException):
            return ServiceError(f"Azure Face request failed: {self._redact(exc)}"), None
        if isinstance(exc, (OSError, ValueError)):  # e.g. a JSON error that escaped msrest
            return ServiceError(f"Azure Face request failed ({type(exc).__name__}: {self._redact(exc)})"), None
        error = ServiceError(f"Azure Face request failed unexpectedly ({type(exc).__name__}: {self._redact(exc)})")
        error.__cause__ = exc  # an SDK or library bug: keep the original for the traceback
        return error, None

    def _describe_network_error(self, exc: Exception) -> tuple[str, bool]:
        """One line on a failed connection, and whether trying again may help (not for a TLS failure)."""
        import socket
        import ssl

        chain: list[BaseException] = []
        e: BaseException | None = getattr(exc, "inner_exception", None) or exc
        while e is not None and e not in chain and len(chain) < 12:
            chain.append(e)
            nxt = getattr(e, "inner_exception", None) or getattr(e, "reason", None)
            if not isinstance(nxt, BaseException):
                nxt = e.__cause__ or e.__context__
            e = nxt
        names = {type(x).__name__ for x in chain}
        host = urlsplit(self.endpoint).netloc
        if names & {"Timeout", "ReadTimeout", "ConnectTimeout", "ReadTimeoutError", "ConnectTimeoutError",
                    "TimeoutError", "timeout"}:
            what = f"timed out after {self.timeout:g} s"
        elif any(isinstance(x, socket.gaierror) for x in chain) or "NameResolutionError" in names:
            what = f"cannot resolve host {host} (DNS failure; check {ENDPOINT_ENV} and the network)"
        elif any(isinstance(x, ConnectionRefusedError) for x in chain):
            what = f"connection to {host} refused"
        elif tls := [x for x in chain if isinstance(x, ssl.SSLError)]:  # the same answer on every attempt
            return (f"Azure Face is unreachable: TLS with {host} failed ({type(tls[-1]).__name__}: "
                    f"{self._redact(tls[-1])}); check that {ENDPOINT_ENV} is the https:// endpoint and its "
                    "certificate is trusted"), False
        else:
            inner = chain[-1] if chain else exc
            what = f"connection to {host} failed ({type(inner).__name__}: {self._redact(inner)})"
        return f"Azure Face is unreachable: {what}", True

    def _translate_status(self, exc: Any, backoff: float) -> tuple[ServiceError, float | None]:
        response = getattr(exc, "response", None)
        status = int(getattr(response, "status_code", 0) or 0)
        headers = getattr(response, "headers", None) or {}
        err = getattr(getattr(exc, "error", None), "error", None)
        code = str(getattr(err, "code", "") or "")
        message = str(getattr(err, "message", "") or "") or str(getattr(exc, "message", "") or exc)
        detail = self._redact(f"{code}: {message}" if code and code != str(status) else message)
        if status in (400, 403) and _is_retirement(code, message):
            hint = ("" if self.detection_model == "detection_01" else
                    f"; note that only detection_model='detection_01' returns emotions, not {self.detection_model!r}")
            return EmotionAttributeRetiredError(
                f"Azure Face no longer returns the emotion attribute for this resource (HTTP {status} {detail}): "
                "Microsoft retired it on 30 June 2023 under its Responsible AI standard and Face is now Limited "
                "Access; only grandfathered resources, Azure Stack or compatible endpoints still return it. "
                f"Use a local backend instead: {', '.join(repr(n) for n in LOCAL_BACKENDS)}, or "
                f"backends.create('fallback', backends=['azure', 'default']){hint}"
            ), None
        if status == 400 and code.lower().startswith("invalidimage"):  # InvalidImage, InvalidImageSize
            return ServiceError(
                f"Azure Face rejected the uploaded image (HTTP 400 {detail}); it takes JPEG, PNG, GIF or BMP files "
                "of 1 KB to 6 MB (lower max_upload_side or jpeg_quality for a large frame)"
            ), None
        if status in (401, 403):
            return AuthenticationError(
                f"Azure Face refused the credentials (HTTP {status} {detail}); check {KEY_ENV} and that "
                f"{ENDPOINT_ENV} is the endpoint of the same resource"
            ), None
        if status == 429:
            retry_after = _retry_after(headers, message)
            when = f"retry after {retry_after:g} s" if retry_after is not None else "no Retry-After given"
            error = RateLimitError(f"Azure Face rate limit (HTTP 429 {detail}); {when} "
                                   "(the free tier allows 20 calls a minute)", retry_after=retry_after)
            wait = retry_after if retry_after is not None else backoff
            return error, (wait if wait <= self.max_retry_wait else None)
        if status in _RETRYABLE_STATUS or status >= 500:
            return ServiceUnavailableError(f"Azure Face is unavailable (HTTP {status} {detail})"), \
                (backoff if status in _RETRYABLE_STATUS else None)
        if status == 404:
            return ServiceError(f"Azure Face: no detect operation at {self.endpoint}/face/v1.0/detect "
                                f"(HTTP 404 {detail}); check {ENDPOINT_ENV}"), None
        return ServiceError(f"Azure Face rejected the request (HTTP {status} {detail})"), None

    def _to_emotion(self, face: Any, upload: _Upload, width: int, height: int) -> FaceEmotion | None:
        rect = getattr(face, "face_rectangle", None)
        attrs = getattr(face, "face_attributes", None)
        emotion = getattr(attrs, "emotion", None)
        if emotion is None:
            raise EmotionAttributeRetiredError(
                "Azure Face found a face but returned no emotion attribute: this resource no longer gets it "
                "(retired 30 June 2023; Limited Access). Use a local backend instead: "
                f"{', '.join(repr(n) for n in LOCAL_BACKENDS)}"
            )
        raw = {label: getattr(emotion, label, None) for label in EMOTIONS}
        scores = {k: _reply_number(v) for k, v in raw.items() if v is not None}
        if (not scores or not all(-1e-6 <= v <= 1 + 1e-6 for v in scores.values())  # NaN fails too
                or sum(scores.values()) <= 0):
            raise ServiceError(f"Azure Face returned malformed emotion scores: {self._redact(raw)}")
        total = sum(scores.values())
        scores = {k: min(max(v / total, 0.0), 1.0) for k, v in scores.items()}
        sides = [getattr(rect, a, None) for a in ("left", "top", "width", "height")]
        if None in sides:
            raise ServiceError("Azure Face returned a face without a faceRectangle")
        left, top, rw, rh = (_reply_number(v) for v in sides)
        if not all(math.isfinite(v) and abs(v) < 1e9 for v in (left, top, rw, rh)):
            raise ServiceError(f"Azure Face returned a malformed faceRectangle: {self._redact(sides)}")
        s = upload.scale
        x, y = round(left / s) + upload.x0, round(top / s) + upload.y0
        box = FaceBox(x, y, max(1, round(rw / s)), max(1, round(rh / s))).clip(width, height)
        if box is None:
            return None
        return FaceEmotion(box=box, scores=scores, backend=self.name)

    # -- API ---------------------------------------------------------------------------------
    def analyze(self, frame: np.ndarray) -> list[FaceEmotion]:
        """Every face the service finds in ``frame`` (uint8 BGR, grey or BGRA), largest first.

        Raises:
            InvalidFrameError: before any request, for a bad frame.
            BackendUnavailableError: the backend is closed.
            EmotionAttributeRetiredError: the resource no longer gets the emotion attribute.
            AuthenticationError: HTTP 401/403 (the key is never in the message).
            RateLimitError: HTTP 429 (``retry_after`` from ``Retry-After``) or the client-side limit.
            ServiceUnavailableError: 5xx, time-outs, refused connections, DNS failures (after the retries), TLS
                failures.
            ServiceError: malformed JSON, an image the service refuses (HTTP 400 ``InvalidImage``,
                ``InvalidImageSize``) and other rejected requests.
        """
        frame = validate_frame(frame)
        if self._closed:
            raise BackendUnavailableError("backend 'azure' is closed")
        upload = self._prepare(frame)
        if upload is None:
            return []
        h, w = frame.shape[:2]
        faces = self._call(upload.jpeg)
        if not isinstance(faces, list):
            raise ServiceError(f"Azure Face answered with {type(faces).__name__}, expected a list of faces")
        out = [e for e in (self._to_emotion(f, upload, w, h) for f in faces) if e is not None]
        out.sort(key=lambda e: e.box.area if e.box else 0, reverse=True)
        return out

    def close(self) -> None:
        """Close the HTTP session. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._client.close()
        except Exception:  # closing must never fail
            pass
        _REDACT.discard(self.__key)


def _endpoint_problem(endpoint: str) -> str | None:
    """What is wrong with ``endpoint`` (to follow "endpoint"), or None; never quotes a secret it holds."""
    parts = urlsplit(endpoint)
    if "@" in parts.netloc or parts.query or parts.fragment:  # it would show in reprs and messages
        return ("must be scheme, host and path only, without user:password@, ?query or #fragment "
                "(e.g. https://NAME.cognitiveservices.azure.com)")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        got = f", got {endpoint!r}" if "@" not in endpoint else ""
        return f"must look like https://NAME.cognitiveservices.azure.com{got}"
    return None


def _reply_number(value: Any) -> float:
    """A number from the service's reply as a float (NaN for anything that is not one, caught by the caller)."""
    if isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan


_OTHER_ARGUMENTS = ("detectionmodel", "recognitionmodel", "faceidtimetolive", "targetface", "request body",
                    "json", "image", "url", "media", "content")
"""Words of a 400 about something other than the attribute (Face's documented ``BadArgument`` messages)."""


def _is_retirement(code: str, message: str) -> bool:
    """Whether a 400/403 ``code`` and ``message`` say that the emotion attribute is refused.

    True when the answer points at the attribute (``emotion``, ``returnFaceAttributes``, "face attributes"),
    or is ``UnsupportedFeature``, or is a ``BadArgument`` that says something is retired, deprecated or
    unsupported without naming another argument. False for image errors (``InvalidImage``,
    ``InvalidImageSize``) and for other ``BadArgument`` answers (request body, JSON, models, ``targetFace``).
    The real retirement text is unconfirmed, so a 400 naming ``returnFaceAttributes`` counts as retirement.
    """
    if code.lower().startswith("invalidimage"):
        return False
    lowered = message.lower()
    if "emotion" in lowered or "attribute" in lowered or code == "UnsupportedFeature":
        return True
    says_gone = any(w in lowered for w in ("retired", "deprecated", "unsupported", "not supported", "no longer"))
    return code == "BadArgument" and says_gone and not any(w in lowered for w in _OTHER_ARGUMENTS)


def _retry_after(headers: Any, message: str) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or HTTP date), else from "Try again in N seconds".

    Negative and non-finite values are ignored; anything longer than a day counts as a day.
    """
    value = None
    try:
        value = headers.get("Retry-After") or headers.get("retry-after")
    except AttributeError:
        pass
    if value:
        value = str(value).strip()
        try:
            seconds = float(value)
            if math.isfinite(seconds) and seconds >= 0:  # a negative one is as meaningless as NaN
                return min(seconds, _MAX_RETRY_AFTER)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
                return min(max(0.0, when.timestamp() - time.time()), _MAX_RETRY_AFTER)
            except (TypeError, ValueError, OverflowError):
                pass
    m = re.search(r"try again in (\d+(?:\.\d+)?) seconds?", message or "", re.IGNORECASE)
    return min(float(m.group(1)), _MAX_RETRY_AFTER) if m else None
