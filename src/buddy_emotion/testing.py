"""A reusable contract test-suite for emotion backends (needs the ``test`` extra: pytest, scikit-image).

Every backend's tests subclass :class:`BackendContract`, including third-party ones::

    from buddy_emotion.testing import BackendContract

    class TestMyBackend(BackendContract):
        def make_backend(self):
            return MyBackend()

Set ``supports_crops = False`` for backends that only take full frames (remote services).

What the suite checks (each failure says which rule broke):

- ``name`` is a non-empty str; ``labels`` are distinct names from :data:`buddy_emotion.labels.EMOTIONS`.
- ``viability()`` returns a :class:`~buddy_emotion.backends.Viability` with a str reason.
- ``analyze(frame)`` returns a list of :class:`~buddy_emotion.types.FaceEmotion`: at least one face, with a box
  inside the frame, on :meth:`BackendContract.face_frame`, and ``[]`` on a frame without a face. Scores use
  the backend's labels and sum to 1 (within 0.02); ``FaceEmotion.backend`` names the backend.
- Grey (HxW) and BGRA frames give the same faces as BGR (and BGRA the same scores);
  :func:`buddy_emotion.frames.validate_frame` and :func:`~buddy_emotion.frames.to_bgr` do the work.
- Bad frames (:data:`BAD_FRAMES`: None, a path, empty, float, NaN, wrong shapes, tiny) raise
  :class:`~buddy_emotion.errors.InvalidFrameError`: call ``validate_frame`` first.
- ``classify_faces(crops)`` gives one FaceEmotion per crop (box None), ``[]`` for no crops, and
  ``InvalidFrameError`` for a bad crop; or, with ``supports_crops = False``, raises ``BackendError``.
- ``close()`` may be called twice; afterwards ``analyze`` raises
  :class:`~buddy_emotion.errors.BackendUnavailableError` whose message says "closed", and ``with`` closes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from buddy_emotion.backends.base import EmotionBackend, Viability
from buddy_emotion.errors import BackendError, BackendUnavailableError, InvalidFrameError
from buddy_emotion.labels import EMOTIONS
from buddy_emotion.types import FaceEmotion

__all__ = ["BackendContract", "sample_face_frame", "blank_frame", "BAD_FRAMES"]


def sample_face_frame() -> np.ndarray:
    """scikit-image's public-domain ``astronaut`` (512x512, one frontal face) as uint8 BGR."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


def blank_frame(width: int = 320, height: int = 240) -> np.ndarray:
    """A frame with no face: a smooth grey gradient with mild noise, uint8 BGR."""
    rng = np.random.default_rng(0)
    grad = np.linspace(60, 190, width, dtype=np.float32)[None, :].repeat(height, 0)
    img = grad + rng.normal(0, 3, (height, width)).astype(np.float32)
    return np.repeat(np.clip(img, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)


BAD_FRAMES: dict[str, object] = {
    "none": None,
    "path": "face.jpg",
    "list": [[0, 1], [2, 3]],
    "empty": np.zeros((0, 0, 3), np.uint8),
    "float": np.zeros((64, 64, 3), np.float32),
    "nan": np.full((64, 64, 3), np.nan),
    "1d": np.zeros(64, np.uint8),
    "5ch": np.zeros((64, 64, 5), np.uint8),
    "4d": np.zeros((2, 64, 64, 3), np.uint8),
    "tiny": np.zeros((2, 2, 3), np.uint8),
    "int64": np.zeros((64, 64, 3), np.int64),
}


class BackendContract:
    """Tests every :class:`EmotionBackend` must pass. Subclass and implement :meth:`make_backend`."""

    supports_crops: bool = True
    """False for backends that take full frames only (``classify_faces`` then raises BackendError)."""

    def make_backend(self) -> EmotionBackend:
        raise NotImplementedError("subclasses return the backend under test")

    def face_frame(self) -> np.ndarray:
        """A frame with exactly one clear face (default: the astronaut)."""
        return sample_face_frame()

    def face_crop(self) -> np.ndarray:
        """A face crop for ``classify_faces`` (default: the astronaut's face)."""
        return self.face_frame()[30:230, 140:320]

    @pytest.fixture
    def backend(self) -> Iterator[EmotionBackend]:
        b = self.make_backend()
        try:
            yield b
        finally:
            b.close()

    def _check_emotion(self, backend: EmotionBackend, face: FaceEmotion) -> None:
        assert isinstance(face, FaceEmotion), f"a face must be a FaceEmotion, got {type(face).__name__}"
        assert set(face.scores) <= set(backend.labels), (
            f"scores {sorted(face.scores)} must use the backend's labels {list(backend.labels)}")
        total = sum(face.scores.values())
        assert abs(total - 1.0) < 0.02, f"scores must be probabilities summing to 1, got a sum of {total:.4f}"
        assert face.backend, "FaceEmotion.backend must name the backend"

    def test_name_and_labels(self, backend: EmotionBackend) -> None:
        assert isinstance(backend.name, str) and backend.name, f"name must be a non-empty str, got {backend.name!r}"
        unknown = sorted(set(backend.labels) - set(EMOTIONS))
        assert backend.labels and not unknown, (
            f"labels must be canonical names from buddy_emotion.labels.EMOTIONS {EMOTIONS}; unknown: {unknown}")
        assert len(set(backend.labels)) == len(backend.labels), f"labels repeat: {list(backend.labels)}"

    def test_viability_is_reported(self, backend: EmotionBackend) -> None:
        v = type(backend).viability()
        assert isinstance(v, Viability), f"viability() must return a Viability, got {type(v).__name__}"
        assert isinstance(v.reason, str), f"Viability.reason must be a str, got {v.reason!r}"

    def test_analyze_finds_the_face(self, backend: EmotionBackend) -> None:
        frame = self.face_frame()
        faces = backend.analyze(frame)
        assert isinstance(faces, list), f"analyze() must return a list, got {type(faces).__name__}"
        assert faces, "analyze() found no face in face_frame(), which holds one clear face"
        h, w = frame.shape[:2]
        for face in faces:
            self._check_emotion(backend, face)
            assert face.box is not None, "faces found in a frame must have a box"
            assert 0 <= face.box.x < face.box.right <= w and 0 <= face.box.y < face.box.bottom <= h, (
                f"box {face.box} must lie within the {w}x{h} frame")

    def test_analyze_blank_frame_gives_no_face(self, backend: EmotionBackend) -> None:
        faces = backend.analyze(blank_frame())
        assert faces == [], f"a frame without a face must give [], got {faces!r}"

    def test_analyze_accepts_grey_and_bgra(self, backend: EmotionBackend) -> None:
        import cv2

        frame = self.face_frame()
        faces = backend.analyze(frame)
        grey = backend.analyze(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
        assert len(grey) == len(faces), (
            f"a grey (HxW) frame must give as many faces as BGR: {len(grey)} against {len(faces)} "
            "(frames.validate_frame and frames.to_bgr handle grey and BGRA)")
        # BGRA holds the same B, G, R planes: the same faces and scores
        bgra = backend.analyze(cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA))
        assert [f.box for f in bgra] == [f.box for f in faces], "BGRA must give the same boxes as BGR"
        for a, b in zip(bgra, faces):
            assert dict(a.scores) == pytest.approx(dict(b.scores), abs=1e-6), "BGRA must give the scores of BGR"

    @pytest.mark.parametrize("kind", sorted(BAD_FRAMES))
    def test_analyze_rejects_bad_frames(self, backend: EmotionBackend, kind: str) -> None:
        with pytest.raises(InvalidFrameError):
            backend.analyze(BAD_FRAMES[kind])  # type: ignore[arg-type]

    def test_classify_faces(self, backend: EmotionBackend) -> None:
        crop = self.face_crop()
        if not self.supports_crops:
            with pytest.raises(BackendError):
                backend.classify_faces([crop])
            return
        out = backend.classify_faces([crop, crop[:, ::-1].copy()])
        assert len(out) == 2, f"classify_faces() must give one FaceEmotion per crop: 2 crops, {len(out)} results"
        for face in out:
            assert face.box is None, "a crop's FaceEmotion has no box (box=None)"
            self._check_emotion(backend, face)
        assert backend.classify_faces([]) == [], "classify_faces([]) must give []"

    def test_classify_faces_rejects_bad_crops(self, backend: EmotionBackend) -> None:
        if not self.supports_crops:
            pytest.skip("backend takes full frames only")
        with pytest.raises(InvalidFrameError):
            backend.classify_faces([None])  # type: ignore[list-item]

    def test_close_is_idempotent(self) -> None:
        b = self.make_backend()
        b.close()
        b.close()

    def test_use_after_close_says_so(self) -> None:
        b = self.make_backend()
        b.close()
        with pytest.raises(BackendUnavailableError, match="closed"):
            b.analyze(blank_frame())
        with self.make_backend() as b:  # leaving the with block closes it
            pass
        with pytest.raises(BackendUnavailableError, match="closed"):
            b.analyze(blank_frame())
