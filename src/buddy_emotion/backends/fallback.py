"""Backend ``fallback``: serves from the first of several backends that works.

>>> from buddy_emotion import backends
>>> b = backends.create("fallback", backends=["azure", "default"])   # doctest: +SKIP
>>> [f.backend for f in b.analyze(frame)]                             # doctest: +SKIP
['keras']
>>> b.status()[0].error                                               # doctest: +SKIP
"backend 'azure': no key: set AZURE_FACE_KEY and AZURE_FACE_ENDPOINT or pass key= and endpoint="

Members are tried in order. A member that cannot be created here (missing extra, no key, no model) is
skipped for good, its reason kept. A member that fails with a :class:`~buddy_emotion.errors.BackendError`
(service errors, rate limits, time-outs, a retired attribute ...) is marked down for ``cooldown`` seconds,
or for the service's ``Retry-After`` when longer, and the next member answers the same frame; once the
cool-down is over the first member is tried again. Invalid frames are never retried: their
:class:`~buddy_emotion.errors.InvalidFrameError` is raised as it is. Each :class:`FaceEmotion` keeps the
name of the backend that produced it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from buddy_emotion import _check
from buddy_emotion._check import shown
from buddy_emotion.backends.base import EmotionBackend, Viability
from buddy_emotion.errors import (
    ArgumentTypeError,
    BackendError,
    BackendNotFoundError,
    BackendUnavailableError,
    InvalidArgumentError,
    InvalidFrameError,
    RateLimitError,
    ServiceUnavailableError,
)
from buddy_emotion.frames import validate_frame
from buddy_emotion.labels import EMOTIONS
from buddy_emotion.types import FaceEmotion

__all__ = ["FallbackBackend", "MemberStatus"]

_LOG = logging.getLogger(__name__)
_DEFAULT_MEMBERS = ("azure", "default")


@dataclass(frozen=True)
class MemberStatus:
    """State of one member of a :class:`FallbackBackend`.

    Attributes:
        name: the name it was given by (registry name, or the instance's ``name``).
        available: False when it could not be created here (``error`` says why); it is never tried.
        healthy: available, and its last call (if any) succeeded.
        error: one-line reason it is not healthy (None when healthy).
        retry_at: when a failed member is tried again, on the backend's clock (seconds), or None.
        retry_in: seconds from now until ``retry_at`` (0 when due: the next call tries it), or None.
    """

    name: str
    available: bool
    healthy: bool
    error: str | None
    retry_at: float | None
    retry_in: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "available": self.available, "healthy": self.healthy, "error": self.error,
                "retry_at": self.retry_at, "retry_in": self.retry_in}


def _member_list(backends: Any) -> list[Any]:
    """``backends`` as a list: one name or instance, or an iterable of them (items are checked later)."""
    if isinstance(backends, (str, EmotionBackend)):
        return [backends]
    if isinstance(backends, (bytes, Mapping)) or not isinstance(backends, Iterable):
        raise ArgumentTypeError(f"backends must be backend names or EmotionBackend instances, got {shown(backends)}")
    return list(backends)


def _member_options(options: Any) -> dict[str, Mapping[str, Any]]:
    """``options`` checked: None or a mapping of member name -> mapping of keyword arguments."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise ArgumentTypeError(f"options must be a mapping of backend name -> options, got {shown(options)}")
    for name, value in options.items():
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise ArgumentTypeError(f"options[{name!r}] must be a mapping of keyword arguments, got {shown(value)}")
    return dict(options)


class _Member:
    def __init__(self, name: str, backend: EmotionBackend | None, error: str | None) -> None:
        self.name = name
        self.backend = backend
        self.error = error
        self.retry_at: float | None = None

    @property
    def supports_crops(self) -> bool:
        if self.backend is None:
            return False
        flag = getattr(self.backend, "supports_crops", None)
        if isinstance(flag, bool):
            return flag
        return type(self.backend).classify_faces is not EmotionBackend.classify_faces


class FallbackBackend(EmotionBackend):
    """Serve from the first member backend that works; fall back to the next on errors.

    Args:
        backends: member backends in order of preference: registry names (created with
            :func:`buddy_emotion.backends.create`) or backend instances. The fallback owns them all and
            closes them in :meth:`close`.
        cooldown: seconds a failing member is left out before it is tried again (at least the service's
            ``Retry-After`` for rate limits).
        clock: monotonic clock in seconds (injectable for tests).
        options: per-name options for the members it creates, e.g. ``{"azure": {"timeout": 3}}``.

    Raises:
        BackendUnavailableError: no member can be created here (the message gives each one's reason).
        BackendNotFoundError: a name is not registered.
    """

    name: ClassVar[str] = "fallback"

    def __init__(self, backends: Sequence[str | EmotionBackend] = _DEFAULT_MEMBERS, cooldown: float = 60.0,
                 clock: Callable[[], float] = time.monotonic,
                 options: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        backends = _member_list(backends)
        if not backends:
            raise InvalidArgumentError("a fallback needs at least one member backend")
        # inf: a failed member is never tried again
        self.cooldown = _check.number("cooldown", cooldown, 0.0, finite=False, unit="seconds")
        if not callable(clock):
            raise ArgumentTypeError(f"clock must be callable, got {shown(clock)}")
        self._clock = clock
        self._lock = threading.Lock()
        self._closed = False
        options = _member_options(options)
        members: list[_Member] = []
        try:
            for item in backends:
                members.append(self._make_member(item, options))
        except BaseException:
            for m in members:
                if m.backend is not None:
                    m.backend.close()
            raise
        self._members = members
        if not any(m.backend is not None for m in members):
            raise BackendUnavailableError(f"backend 'fallback': no member can run here ({self._summary()})")
        self.labels = tuple(label for label in EMOTIONS
                            if any(label in m.backend.labels for m in members if m.backend is not None))

    @staticmethod
    def _make_member(item: str | EmotionBackend, options: Mapping[str, Mapping[str, Any]]) -> _Member:
        if isinstance(item, EmotionBackend):
            return _Member(item.name, item, None)
        if not isinstance(item, str):
            raise ArgumentTypeError(
                f"fallback members are backend names or EmotionBackend instances, got {shown(item)}")
        if item == "fallback":
            raise InvalidArgumentError("a fallback cannot contain the backend 'fallback' by name")
        from buddy_emotion import backends as registry

        try:
            return _Member(item, registry.create(item, **dict(options.get(item, {}))), None)
        except BackendNotFoundError:
            raise
        except BackendError as e:  # missing extra, no key, no model file ...
            _LOG.info("fallback: skipping %r: %s", item, e)
            return _Member(item, None, _check.one_line(e))

    # -- registry hooks ----------------------------------------------------------------------
    @classmethod
    def viability(cls, backends: Sequence[str | EmotionBackend] = _DEFAULT_MEMBERS, **_: Any) -> Viability:
        """Viable when any member is; the reason lists each member's state. Creates nothing."""
        from buddy_emotion import backends as registry

        try:
            backends = _member_list(backends)
        except TypeError as e:
            return Viability(False, str(e))
        parts, ok = [], False
        for item in backends:
            if isinstance(item, EmotionBackend):
                ok = True
                parts.append(f"{item.name}: ready")
                continue
            try:
                v = registry.viability(item)
            except BackendNotFoundError as e:
                v = Viability(False, str(e))
            ok = ok or v.ok
            parts.append(f"{item}: {'ok' if v.ok else v.reason}")
        lead = "serves from the first that works" if ok else "no member can run here"
        return Viability(ok, f"{lead} ({'; '.join(parts)})")

    # -- state -------------------------------------------------------------------------------
    def status(self) -> list[MemberStatus]:
        """Each member's state, in order of preference."""
        now = self._clock()
        with self._lock:
            out = []
            for m in self._members:
                out.append(MemberStatus(
                    name=m.name, available=m.backend is not None,
                    healthy=m.backend is not None and m.retry_at is None, error=m.error, retry_at=m.retry_at,
                    retry_in=None if m.retry_at is None else max(0.0, m.retry_at - now),
                ))
            return out

    @property
    def members(self) -> list[EmotionBackend]:
        """The member backends that could be created here, in order."""
        return [m.backend for m in self._members if m.backend is not None]

    def _summary(self) -> str:
        now = self._clock()
        parts = []
        for m in self._members:
            if m.backend is None:
                parts.append(f"{m.name}: {m.error}")
            elif m.retry_at is not None:
                wait = f"; retry in {max(0.0, m.retry_at - now):.0f} s" if m.retry_at > now else ""
                parts.append(f"{m.name}: {m.error}{wait}")
            else:
                parts.append(f"{m.name}: ok")
        return "; ".join(parts)

    def _mark_down(self, m: _Member, error: BackendError) -> None:
        wait = self.cooldown
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            wait = max(wait, float(error.retry_after))
        with self._lock:
            m.error = f"{type(error).__name__}: {_check.one_line(error)}"
            m.retry_at = self._clock() + wait
        _LOG.warning("fallback: %s failed, next one answers; retrying it in %.0f s (%s)", m.name, wait, m.error)

    def _mark_up(self, m: _Member) -> None:
        if m.retry_at is not None or m.error is not None:
            with self._lock:
                if m.retry_at is not None:
                    _LOG.info("fallback: %s answers again", m.name)
                m.retry_at = None
                m.error = None

    def _serve(self, call: Callable[[EmotionBackend], list[FaceEmotion]],
               eligible: Callable[[_Member], bool], what: str) -> list[FaceEmotion]:
        if self._closed:
            raise BackendUnavailableError("backend 'fallback' is closed")
        tried = False
        for m in self._members:
            if m.backend is None or not eligible(m):
                continue
            if m.retry_at is not None and self._clock() < m.retry_at:
                continue
            tried = True
            try:
                faces = call(m.backend)
            except InvalidFrameError:
                raise
            except BackendError as e:
                self._mark_down(m, e)
                continue
            self._mark_up(m)
            return [f if f.backend else FaceEmotion(f.box, f.scores, backend=m.name) for f in faces]
        summary = self._summary()
        if not tried and not any(m.backend is not None and eligible(m) for m in self._members):
            raise BackendError(f"backend 'fallback': no member can {what} ({summary})")
        raise ServiceUnavailableError(f"backend 'fallback': every member failed or is cooling down ({summary})")

    # -- API ---------------------------------------------------------------------------------
    def analyze(self, frame: np.ndarray) -> list[FaceEmotion]:
        """Faces of ``frame`` from the first member that answers (see the module doc).

        Raises:
            InvalidFrameError: the frame is not an image (no member is tried).
            ServiceUnavailableError: every member failed or is cooling down (one line on each).
        """
        validate_frame(frame)
        return self._serve(lambda b: b.analyze(frame), lambda m: True, "analyze frames")

    def classify_faces(self, crops: Sequence[np.ndarray]) -> list[FaceEmotion]:
        """Face crops scored by the first member that takes crops (remote services do not).

        Raises:
            BackendError: no member takes face crops.
            InvalidFrameError: a crop is not an image.
            ServiceUnavailableError: every member that takes crops failed or is cooling down.
        """
        return self._serve(lambda b: b.classify_faces(crops), lambda m: m.supports_crops, "classify face crops")

    def close(self) -> None:
        """Close every member. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for m in self._members:
            if m.backend is not None:
                try:
                    m.backend.close()
                except Exception as e:  # one member must not keep the others open
                    _LOG.warning("fallback: closing %s failed: %s", m.name, e)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} members={[m.name for m in self._members]!r}>"
