"""The one-call API: ``Detector().detect_sadness(frame)``."""

from __future__ import annotations

import inspect
import logging
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from buddy_emotion import backends as _backends
from buddy_emotion._check import integer, named, number, shown
from buddy_emotion._live import LatestWorker
from buddy_emotion.backends.base import EmotionBackend, checked_crops
from buddy_emotion.errors import (
    ArgumentTypeError,
    BackendError,
    BackendUnavailableError,
    BuddyEmotionError,
    InvalidArgumentError,
)
from buddy_emotion.frames import validate_frame
from buddy_emotion.labels import SADNESS
from buddy_emotion.types import FaceEmotion, NoReadingReason, SadnessReading

__all__ = ["Detector", "DetectorOptions", "DEFAULT_THRESHOLD", "ResultCallback"]

log = logging.getLogger("buddy_emotion")

DEFAULT_THRESHOLD = 0.5
"""Sadness probability at or above which a single reading counts as sad (``is_sad``)."""

RunningMode = Literal["image", "video", "live_stream"]
_MODES = ("image", "video", "live_stream")

ResultCallback = Callable[[SadnessReading, np.ndarray], object]
"""Live-stream mode's ``result_callback(reading, frame)``: the reading of one frame handed to
:meth:`Detector.detect_async`, and the detector's copy of that frame (for the monitor's quality gate, or to
draw on). It runs on the detector's worker thread; what it returns is ignored."""


@dataclass(frozen=True, repr=False)
class DetectorOptions:
    """Everything :meth:`Detector.from_options` builds a detector from, checked here (MediaPipe Tasks' style).

    Attributes:
        backend: a registered backend name (looked up when the detector is built). A backend instance is
            not an option: pass it to ``Detector(backend)``.
        threshold: sadness probability (0..1) at which ``is_sad`` is True.
        min_face: faces whose shorter side is below this many pixels (a whole number >= 1) give
            ``FACE_TOO_SMALL``.
        running_mode: ``"image"``: every frame on its own. ``"video"``: successive frames of one stream; the
            backend's face tracker follows the face (``track=True``; ``default`` and ``keras`` have one,
            other backends are refused when the detector is built), and a ``detect_sadness`` timestamp
            earlier than the last one starts a new stream. ``"live_stream"``: the frames of one stream handed
            over without waiting (:meth:`Detector.detect_async`); a worker thread reads the newest one and
            passes each reading to ``result_callback``. It tracks the face where the backend can (any
            backend is taken: a slow remote one is where not waiting pays most).
        backend_options: passed to the backend (e.g. ``{"tta": False}``); kept as a read-only copy.
            ``track`` is set by ``running_mode``, not here.
        result_callback: live-stream mode's ``result_callback(reading, frame)`` (:data:`ResultCallback`);
            required in that mode and refused in the others.

    ``dataclasses.replace(options, threshold=0.6)`` gives a checked copy; the repr can be pasted back as code (but for
    a ``result_callback``, shown by its name in angle brackets: never its repr, which could hold a frame).
    """

    backend: str = "default"
    threshold: float = DEFAULT_THRESHOLD
    min_face: int = 40
    running_mode: RunningMode = "image"
    backend_options: Mapping[str, Any] = field(default_factory=dict)
    result_callback: ResultCallback | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.backend, str):
            raise ArgumentTypeError(f"backend must be a backend name, got {shown(self.backend)}")
        if not self.backend:
            raise InvalidArgumentError("backend must be a non-empty backend name")
        object.__setattr__(self, "threshold", number("threshold", self.threshold, 0.0, 1.0))
        object.__setattr__(self, "min_face", integer("min_face", self.min_face, 1))
        if not isinstance(self.running_mode, str):
            raise ArgumentTypeError(f"running_mode must be one of {_MODES}, got {shown(self.running_mode)}")
        if self.running_mode not in _MODES:
            raise InvalidArgumentError(f"running_mode must be one of {_MODES}, got {self.running_mode!r}")
        if self.result_callback is not None and not callable(self.result_callback):
            raise ArgumentTypeError(f"result_callback must be callable, got {shown(self.result_callback)}")
        if (self.result_callback is None) == (self.running_mode == "live_stream"):
            raise InvalidArgumentError("running_mode='live_stream' needs a result_callback, and only that mode "
                                       "takes one")
        if not isinstance(self.backend_options, Mapping):
            raise ArgumentTypeError(f"backend_options must be a mapping, got {shown(self.backend_options)}")
        own = {f.name for f in fields(self)}
        for key in self.backend_options:
            if not isinstance(key, str):
                raise ArgumentTypeError(f"backend_options keys must be option names, got {shown(key)}")
            if key == "track":
                raise InvalidArgumentError("backend_options: set track with running_mode='video'")
            if key in own:
                raise InvalidArgumentError(f"backend_options: {key} is a DetectorOptions field, set it there")
        object.__setattr__(self, "backend_options", MappingProxyType(dict(self.backend_options)))

    def __repr__(self) -> str:
        callback = "" if self.result_callback is None else f", result_callback=<{named(self.result_callback)}>"
        return (f"DetectorOptions(backend={self.backend!r}, threshold={self.threshold!r}, "
                f"min_face={self.min_face!r}, running_mode={self.running_mode!r}, "
                f"backend_options={dict(self.backend_options)!r}{callback})")

    def __hash__(self) -> int:  # a mappingproxy has no hash: hash a frozen form of the options' items
        return hash((self.backend, self.threshold, self.min_face, self.running_mode,
                     _frozen(self.backend_options), _frozen(self.result_callback)))

    def __reduce__(self) -> tuple[Any, ...]:  # a mappingproxy cannot be pickled or copied: rebuild from a dict
        return (DetectorOptions, (self.backend, self.threshold, self.min_face, self.running_mode,
                                  dict(self.backend_options), self.result_callback))


def _frozen(value: Any) -> Hashable:
    """A hashable stand-in for an option value that compares equal wherever the value does: mappings by their
    items (in any order), lists and tuples by their items, sets as frozensets, NumPy arrays by dtype, shape
    and bytes; a value that has no hash of its own (and is none of those) hashes by its type alone."""
    if isinstance(value, Mapping):
        return ("mapping", frozenset((_frozen(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("sequence", tuple(_frozen(v) for v in value))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(_frozen(v) for v in value))
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    try:
        hash(value)
    except TypeError:
        return ("unhashable", type(value).__qualname__)
    return value


_LiveItem = tuple[np.ndarray, float, bool]
"""A frame handed to :meth:`Detector.detect_async`, its timestamp, and whether the caller gave it (not the clock)."""


def _live_worker(detector: Detector, callback: ResultCallback) -> LatestWorker[_LiveItem, SadnessReading]:
    """The live-stream worker of ``detector``. It holds the detector weakly, so that a detector dropped without
    ``close()`` is still collected, and its thread then ends (unless ``callback`` itself holds the detector)."""
    ref = weakref.ref(detector)

    def work(item: _LiveItem) -> SadnessReading:
        owner = ref()
        if owner is None:
            raise BackendUnavailableError("the detector is gone")
        return owner._detect(*item)

    worker: LatestWorker[_LiveItem, SadnessReading] = LatestWorker(
        work, lambda reading, item: callback(reading, item[0]), callback=callback)
    weakref.finalize(detector, _close_dropped, worker).atexit = False  # at exit, _live waits for the frame in hand
    return worker


def _close_dropped(worker: LatestWorker[Any, Any]) -> None:
    """Close the worker of a detector collected without ``close()``; a failure not raised yet is logged."""
    failure = worker.close(0)
    if failure is not None:
        log.error("live stream of a detector dropped without close(): a frame's reading failed and was not "
                  "raised: %s", failure)


class Detector:
    """Finds the main face of a frame and tells how sad it looks.

    Args:
        backend: ``"default"`` (the embedded FER-2013 CNN, offline), another registered name, or an
            :class:`~buddy_emotion.backends.EmotionBackend` instance (not closed by the detector).
        threshold: sadness probability (0..1) at which ``is_sad`` is True.
        min_face: faces whose shorter side is below this many pixels give ``FACE_TOO_SMALL``.
        **backend_options: passed to :func:`buddy_emotion.backends.create` when ``backend`` is a name. For
            ``"default"``/``"keras"`` (:class:`~buddy_emotion.backends.keras.KerasBackend`): ``track=True``
            (video mode: successive frames of one stream; the face is searched near the last one first, see
            :meth:`reset`), ``tta`` (test-time views), ``class_bias``, ``detector``, ``num_threads``,
            ``model_path`` with ``labels``. An option the backend does not take raises ``ArgumentTypeError``.
        result_callback: live-stream mode (:meth:`detect_async`): ``result_callback(reading, frame)`` gets the
            reading of each frame the worker thread reads (:data:`ResultCallback`). Add ``track=True`` for the
            default backend's face tracker, as ``running_mode="live_stream"`` does.

    :meth:`from_options` builds the same detector from one :class:`DetectorOptions` value.
    The main face is the largest one (by box area); every face is in ``reading.faces``.
    A Detector is thread-safe; it is a context manager that closes a backend it created.
    """

    def __init__(self, backend: str | EmotionBackend = "default", *, threshold: float = DEFAULT_THRESHOLD,
                 min_face: int = 40, result_callback: ResultCallback | None = None,
                 **backend_options: Any) -> None:
        if isinstance(backend, DetectorOptions) or isinstance(backend_options.get("options"), DetectorOptions):
            raise ArgumentTypeError("build a detector from DetectorOptions with Detector.from_options(options), "
                                    "without other arguments")
        self.threshold = number("threshold", threshold, 0.0, 1.0)
        self.min_face = integer("min_face", min_face, 1)
        if result_callback is not None and not callable(result_callback):
            raise ArgumentTypeError(f"result_callback must be callable or None, got {shown(result_callback)}")
        if isinstance(backend, EmotionBackend):
            if backend_options:
                raise ArgumentTypeError("backend options only apply when the backend is given by name")
            self.backend, self._owns_backend = backend, False
        else:
            self.backend, self._owns_backend = _backends.create(backend, **backend_options), True
        if SADNESS not in self.backend.labels:
            raise InvalidArgumentError(f"backend {self.backend.name!r} cannot tell sadness (labels: "
                                       f"{self.backend.labels})")
        self._lock = threading.Lock()
        self._last_ts: float | None = None  # the last timestamp a caller gave (video mode: new stream on a step back)
        self._live: LatestWorker[_LiveItem, SadnessReading] | None = None
        if result_callback is not None:
            self._live = _live_worker(self, result_callback)

    @classmethod
    def from_options(cls, options: DetectorOptions) -> Detector:
        """The detector the keyword form builds from the same values: ``Detector(options.backend,
        threshold=..., min_face=..., **options.backend_options)``, with ``track=True`` in video mode.

        Raises:
            ArgumentTypeError: ``options`` is not a :class:`DetectorOptions`, or an option the backend does not take.
            InvalidArgumentError: ``running_mode="video"`` with a backend that has no face tracker.
            BackendError: as :func:`buddy_emotion.backends.create` (unknown name, missing extra, ...).
        """
        if not isinstance(options, DetectorOptions):
            raise ArgumentTypeError(f"options must be a DetectorOptions, got {shown(options)}")
        backend_options = dict(options.backend_options)
        if options.running_mode != "image":
            tracks = "track" in inspect.signature(_backends.get_class(options.backend)).parameters
            if options.running_mode == "video" and not tracks:
                raise InvalidArgumentError(f"running_mode='video' needs a backend with a face tracker; backend "
                                           f"{options.backend!r} has none: use running_mode='image'")
            if tracks:
                backend_options["track"] = True
        return cls(options.backend, threshold=options.threshold, min_face=options.min_face,
                   result_callback=options.result_callback, **backend_options)

    @property
    def running_mode(self) -> RunningMode:
        """``"live_stream"`` with a ``result_callback``; else ``"video"`` when the backend tracks the face
        (``track=True``), else ``"image"``."""
        if self._live is not None:
            return "live_stream"
        return "video" if getattr(self.backend, "track", False) is True else "image"

    @property
    def backend_name(self) -> str:
        """The registry name of the backend's class (``"keras"`` for the default one)."""
        return self.backend.name

    def reset(self) -> None:
        """Start a new stream in video mode (``track=True``, ``running_mode="video"``): forget the tracked face,
        so that the next frame is searched whole. Call it when switching cameras or videos. A no-op without
        video mode."""
        reset = getattr(getattr(self.backend, "detector", None), "reset", None)
        if callable(reset):
            reset()

    def analyze(self, frame: np.ndarray) -> list[FaceEmotion]:
        """Every face of ``frame`` (uint8 BGR, grey or BGRA) with its emotions, largest first.

        Raises:
            InvalidFrameError: ``frame`` is not an accepted image.
            BackendError: the backend failed (an exception of its own is chained as ``__cause__``), or
                returned something other than a list of FaceEmotion.
        """
        self._not_live("analyze")
        return self._analyze(validate_frame(frame))

    def _analyze(self, frame: np.ndarray) -> list[FaceEmotion]:
        faces = self._call("analyze", frame)
        return sorted(faces, key=lambda f: f.box.area if f.box else 0, reverse=True)

    def _not_live(self, method: str) -> None:
        if self._live is not None:
            raise InvalidArgumentError(f"this detector runs in live-stream mode: hand frames to detect_async(), "
                                       f"not {method}()")

    def classify_faces(self, crops: Sequence[np.ndarray] | np.ndarray) -> list[FaceEmotion]:
        """Emotions of faces you cropped already (no face detection): one :class:`FaceEmotion` per crop, in
        order, each with ``box`` None.

        Args:
            crops: a sequence of face images (uint8 BGR, grey or BGRA, any size) or an (N, H, W[, C]) uint8
                array. Cut them the way the backend's training faces were cut: for the bundled CNN,
                FER-2013's tight, registered crop from the eyebrows to the chin (``docs/model-card.md``);
                :func:`buddy_emotion.face_detection.crop_face` makes such a crop from a detector box.

        Raises:
            InvalidFrameError: ``crops`` is not a sequence of accepted images.
            BackendError: the backend cannot classify crops (``azure`` takes full frames only), failed, or
                did not return one FaceEmotion per crop.
        """
        crops = checked_crops(crops)
        faces = self._call("classify_faces", crops)
        if len(faces) != len(crops):
            raise BackendError(f"backend {self.backend.name!r}: classify_faces() returned {len(faces)} results "
                               f"for {len(crops)} crops")
        return faces

    def _call(self, method: str, arg: Any) -> list[FaceEmotion]:
        """``self.backend.<method>(arg)``, checked to be a list of FaceEmotion; a plug-in's own exception
        becomes a BackendError (chained), so callers catch one error class."""
        with self._lock:
            try:
                faces = getattr(self.backend, method)(arg)
            except BuddyEmotionError:
                raise
            except Exception as e:  # a plug-in's own failure: still one error class for the caller to catch
                raise BackendError(f"backend {self.backend.name!r} failed: {type(e).__name__}: {e}") from e
        if not isinstance(faces, (list, tuple)):
            raise BackendError(f"backend {self.backend.name!r}: {method}() returned {type(faces).__name__}, "
                               "not a list of FaceEmotion")
        for f in faces:
            if not isinstance(f, FaceEmotion):
                raise BackendError(f"backend {self.backend.name!r}: {method}() returned a {type(f).__name__} "
                                   "item, not a FaceEmotion")
        return list(faces)

    def detect_sadness(self, frame: np.ndarray, timestamp: float | None = None) -> SadnessReading:
        """How sad the main (largest) face of ``frame`` looks.

        Args:
            frame: HxWx3 uint8 BGR (OpenCV's convention), HxW grey or HxWx4 BGRA.
            timestamp: seconds to stamp the reading with: None (``time.time()``) or a finite number. In
                video mode (``track=True``, ``running_mode="video"``) a timestamp earlier than the last one given
                starts a new stream (:meth:`reset`), e.g. a video replayed from its start.

        Returns:
            A :class:`SadnessReading`; when there is no value its ``reason`` says why (no face, face
            too small, a uniform frame).

        Raises:
            InvalidFrameError: ``frame`` is not an accepted image.
            ValueError: ``timestamp`` is not None or a finite number, or the detector is in live-stream mode.
            BackendError: the backend failed (e.g. a remote service error), or scored the main face
                without a sadness score.
        """
        self._not_live("detect_sadness")
        ts = time.time() if timestamp is None else number("timestamp", timestamp)
        return self._detect(validate_frame(frame), ts, timestamp is not None)

    def _detect(self, frame: np.ndarray, ts: float, given: bool = True) -> SadnessReading:
        """:meth:`detect_sadness` on a checked frame and timestamp (``given``: the caller's, not the clock's)."""
        if given:
            if self._last_ts is not None and ts < self._last_ts:
                self.reset()  # time went back: another stream, or the same one replayed
            self._last_ts = ts
        name = self.backend.name
        if int(frame.max()) - int(frame.min()) < 8:  # nothing to see: covered lens, black or blank frame
            return SadnessReading(None, False, None, None, name, ts, NoReadingReason.BAD_FRAME, 0, self.threshold)
        faces = tuple(self._analyze(frame))
        if not faces:
            return SadnessReading(None, False, None, None, name, ts, NoReadingReason.NO_FACE, 0, self.threshold)
        main = faces[0]
        backend_name = main.backend or name
        if main.box is not None and main.box.size < self.min_face:
            return SadnessReading(None, False, main.box, None, backend_name, ts, NoReadingReason.FACE_TOO_SMALL,
                                  len(faces), self.threshold, faces)
        sad = main.sadness
        if sad is None:  # the backend's labels promise sadness, so this face breaks its contract
            raise BackendError(f"backend {backend_name!r} scored a face without 'sadness' (scores: "
                               f"{', '.join(main.scores) or 'none'}; its labels: {', '.join(self.backend.labels)})")
        return SadnessReading(sad, sad >= self.threshold, main.box, main.scores, backend_name, ts, None,
                              len(faces), self.threshold, faces)

    def detect_async(self, frame: np.ndarray, timestamp: float | None = None) -> None:
        """Live-stream mode: hand ``frame`` to the worker thread and return at once; its reading goes to the
        ``result_callback``. A frame still waiting when the next one comes is dropped in its favour
        (:attr:`dropped_frames`), so readings keep up with the stream however slow the backend is.

        Args:
            frame: as :meth:`detect_sadness`; checked here, then copied, so the caller may reuse its buffer.
                The copy is released once the callback returns.
            timestamp: seconds, as :meth:`detect_sadness`; None stamps the frame with ``time.time()`` now,
                when it is handed over. A timestamp earlier than the last one given starts a new stream.

        Raises:
            InvalidFrameError: ``frame`` is not an accepted image.
            ValueError: ``timestamp`` is not None or a finite number, or the detector has no ``result_callback``.
            BackendError: the backend failed on an earlier frame (the error is raised once, here or by
                :meth:`flush`, and this frame is not taken); ``BackendUnavailableError`` once closed, or when
                the worker thread cannot start (this frame is not taken; the next call tries again).
        """
        if self._live is None:
            raise InvalidArgumentError("detect_async() needs live-stream mode: build the detector with "
                                       "result_callback=... (or running_mode='live_stream'); else use detect_sadness()")
        ts = time.time() if timestamp is None else number("timestamp", timestamp)
        frame = np.array(validate_frame(frame), order="C", copy=True)
        self._live.submit((frame, ts, timestamp is not None))

    def flush(self, timeout: float | None = None) -> bool:
        """Live-stream mode: wait until every frame handed over has been read and its callback has returned
        (``timeout`` in seconds, None for no limit). True when done, False when the time ran out; a no-op
        (True) in the other modes. Called from the ``result_callback`` it returns False at once: the frame
        whose callback is running is not done, and waiting for it would wait for ever.

        Raises:
            BackendError: the backend failed on a frame since the last error raised (raised once).
        """
        return True if self._live is None else self._live.flush(timeout)

    @property
    def dropped_frames(self) -> int:
        """Live-stream mode: frames replaced by a newer one before the worker read them (0 in other modes)."""
        return 0 if self._live is None else self._live.dropped

    def close(self) -> None:
        """Close the backend if this detector created it. In live-stream mode first read the frames still
        handed over (waiting up to 10 s) and end the worker thread; then raise a backend error that
        :meth:`detect_async` has not raised yet, so that none is lost. Called from the ``result_callback``
        it cannot wait for the frame still waiting: that one is dropped (:attr:`dropped_frames`)."""
        failure = self._close_live()
        if self._owns_backend:
            self.backend.close()
        if failure is not None:
            raise failure

    def _close_live(self) -> BaseException | None:
        return None if self._live is None else self._live.close()

    def __enter__(self) -> Detector:
        return self

    def __exit__(self, kind: object, error: object, tb: object) -> None:
        if error is None:
            self.close()
            return
        failure = self._close_live()  # an exception is on its way: do not replace it, log the stream's
        if failure is not None:
            log.error("live stream: a frame's reading failed and was not raised: %s", failure)
        if self._owns_backend:
            self.backend.close()

    def __repr__(self) -> str:
        return f"Detector(backend={self.backend.name!r}, threshold={self.threshold})"
