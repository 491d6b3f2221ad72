"""Facial landmarks: where dlib's models live, geometry features, landmark alignment (numpy + OpenCV only).

The 68 points follow the iBUG 300-W layout (0-based): jaw 0-16, right brow 17-21, left brow 22-26
(subject's right is image left), nose bridge 27-30, nostrils 31-35, eyes 36-41 and 42-47, outer lips 48-59,
inner lips 60-67.

* :func:`predictor_path` finds ``shape_predictor_68_face_landmarks.dat`` (or the 5-point model) inside the
  ``face-recognition-models`` distribution without importing it (its ``__init__`` needs ``pkg_resources``).
* :func:`normalize_landmarks` removes position, scale and in-plane rotation: origin at the mid-point of
  the eye centres, x axis along the eye line, unit = inter-ocular distance.
* :func:`geometry_features` turns 68 points into the expression features of the ``dlib`` backend
  (see ``docs/dlib.md``): every normalised point plus named measures (mouth-corner depression, lip
  stretch and opening, inner-brow raise and furrow, eye aperture, nasolabial shape ...).
* :func:`align_face` rotates and scales a face so the eyes are level at a fixed place: the FER-2013
  registration (eyes at 38.5% height), usable by every backend that takes 48x48 crops.
* :func:`appearance_features` is a HOG descriptor (``cv2.HOGDescriptor``) of the aligned face.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from buddy_emotion import _check
from buddy_emotion._check import shown
from buddy_emotion.errors import ArgumentTypeError, InvalidArgumentError, InvalidFrameError

__all__ = [
    "predictor_path", "models_dir", "shape_to_array", "normalize_landmarks", "mirror_landmarks",
    "geometry_features", "GEOMETRY_NAMES", "align_face", "ALIGN_TEMPLATE", "appearance_features",
    "plausible", "crop_rect", "REGISTERED_RECT", "expression_features", "eye_centres", "align_matrix", "MIRROR_68",
    "N_APPEARANCE",
]

# ---------------------------------------------------------------------------------------------
# model files


def models_dir() -> Path | None:
    """The ``models`` folder of the installed ``face-recognition-models`` distribution, or None."""
    try:
        spec = importlib.util.find_spec("face_recognition_models")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    roots: list[str] = list(spec.submodule_search_locations or [])
    if spec.origin:
        roots.append(str(Path(spec.origin).parent))
    for root in roots:
        folder = Path(root) / "models"
        if folder.is_dir():
            return folder
    return None


def predictor_path(points: Literal[68, 5] = 68) -> Path | None:
    """Path of dlib's 68- (default) or 5-point shape predictor from ``face-recognition-models``, or None."""
    folder = models_dir()
    if folder is None:
        return None
    path = folder / f"shape_predictor_{int(points)}_face_landmarks.dat"
    return path if path.is_file() else None


# ---------------------------------------------------------------------------------------------
# argument checks (the functions below are public: a wrong argument gets the library's own error)


def _points(pts: Any, name: str = "pts", *, batch: bool = True) -> np.ndarray:
    """``pts`` as a float64 (68, 2) array (or (N, 68, 2) with ``batch``) of finite numbers."""
    if pts is None or isinstance(pts, (str, bytes)):
        raise ArgumentTypeError(f"{name} must be (68, 2) landmark points, got {shown(pts)}")
    try:
        p = np.asarray(pts, dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"{name} must be (68, 2) landmark points, got {shown(pts)}") from None
    if p.shape[-2:] != (68, 2) or p.ndim not in ((2, 3) if batch else (2,)):
        what = "(68, 2) or (N, 68, 2)" if batch else "(68, 2)"
        raise InvalidArgumentError(f"{name} must be {what} landmark points, got an array of shape {p.shape}")
    if not np.isfinite(p).all():
        raise InvalidArgumentError(f"{name} must be finite numbers (no NaN or inf)")
    return p


def _gray(image: Any, name: str, *, colour: bool = False) -> np.ndarray:
    """``image`` if it is an HxW uint8 array (or HxWx3 BGR with ``colour``) of at least 2x2 pixels."""
    if not isinstance(image, np.ndarray):
        raise InvalidFrameError(f"{name} must be a uint8 numpy array, got {shown(image)}")
    shape_ok = image.ndim == 2 or (colour and image.ndim == 3 and image.shape[2] == 3)
    if image.dtype != np.uint8 or not shape_ok or min(image.shape[:2]) < 2:
        want = "HxW grey or HxWx3 BGR" if colour else "HxW grey"
        raise InvalidFrameError(f"{name} must be an {want} uint8 image, got {shown(image)}")
    return image


# ---------------------------------------------------------------------------------------------
# landmark geometry


def shape_to_array(shape: object) -> np.ndarray:
    """A ``dlib.full_object_detection`` as a float64 (n, 2) array of (x, y) pixels."""
    if not callable(getattr(shape, "part", None)) or not hasattr(shape, "num_parts"):
        raise ArgumentTypeError(f"shape must be a dlib.full_object_detection, got {shown(shape)}")
    n = shape.num_parts  # type: ignore[attr-defined]
    return np.array([(shape.part(i).x, shape.part(i).y) for i in range(n)], dtype=np.float64)  # type: ignore[attr-defined]


REGISTERED_RECT: tuple[float, float, float, float] = (0.04, 0.12, 0.96, 1.0)
"""Face rectangle (left, top, right, bottom as fractions of the side) given to the shape predictor for a
registered FER-style crop: the median box of dlib's HOG detector on FER-2013 crops padded by a border."""


def crop_rect(width: int, height: int, rect: tuple[float, float, float, float] = REGISTERED_RECT
              ) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) pixels of the face rectangle of a registered ``width`` x ``height`` crop."""
    width, height = _check.integer("width", width, 1), _check.integer("height", height, 1)
    if not isinstance(rect, (tuple, list)):
        raise ArgumentTypeError(f"rect must be (left, top, right, bottom) fractions, got {shown(rect)}")
    if len(rect) != 4:
        raise InvalidArgumentError(f"rect must be (left, top, right, bottom) fractions, got {shown(rect)}")
    left, top, right, bottom = (_check.number(f"rect[{i}]", v) for i, v in enumerate(rect))
    return (int(round(left * (width - 1))), int(round(top * (height - 1))),
            int(round(right * (width - 1))), int(round(bottom * (height - 1))))


def _mirror_index() -> np.ndarray:
    m = list(range(68))
    pairs = [(i, 16 - i) for i in range(8)]  # jaw
    pairs += [(17 + i, 26 - i) for i in range(5)]  # brows
    pairs += [(31, 35), (32, 34)]  # nostrils
    pairs += [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]  # eyes
    pairs += [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58)]  # outer lips
    pairs += [(60, 64), (61, 63), (65, 67)]  # inner lips
    for a, b in pairs:
        m[a], m[b] = b, a
    return np.array(m)


MIRROR_68 = _mirror_index()
"""Index permutation that maps the 68 points of a face onto those of its mirror image."""


def eye_centres(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the image-left (subject's right, 36-41) and image-right (42-47) eyes."""
    pts = _points(pts, batch=False)
    return pts[36:42].mean(axis=0), pts[42:48].mean(axis=0)


def normalize_landmarks(pts: np.ndarray) -> np.ndarray:
    """(68, 2) points (or (N, 68, 2)) in a frame with origin between the eyes, eye line on +x, unit = IOD."""
    p = _points(pts)
    single = p.ndim == 2
    if single:
        p = p[None]
    le, re = p[:, 36:42].mean(axis=1), p[:, 42:48].mean(axis=1)
    c = (le + re) / 2.0
    d = re - le
    iod = np.hypot(d[:, 0], d[:, 1])
    iod = np.where(iod > 1e-9, iod, 1.0)
    cos, sin = d[:, 0] / iod, d[:, 1] / iod
    q = p - c[:, None, :]
    x = (q[..., 0] * cos[:, None] + q[..., 1] * sin[:, None]) / iod[:, None]
    y = (-q[..., 0] * sin[:, None] + q[..., 1] * cos[:, None]) / iod[:, None]
    out = np.stack([x, y], axis=-1)
    return out[0] if single else out


def mirror_landmarks(pts: np.ndarray, width: float | None = None) -> np.ndarray:
    """Landmarks of the mirror image: x -> (width - 1 - x) (or -x in normalised frames), points permuted."""
    p = _points(pts).copy()
    width = _check.optional_number("width", width)
    p[..., 0] = -p[..., 0] if width is None else (width - 1) - p[..., 0]
    return p[..., MIRROR_68, :]


def _dist(n: np.ndarray, a: int, b: int) -> np.ndarray:
    return np.hypot(n[:, a, 0] - n[:, b, 0], n[:, a, 1] - n[:, b, 1])


GEOMETRY_NAMES: tuple[str, ...] = (
    "mouth_corner_drop",  # corners below the lip centre (+: sad/disgust, -: smile)
    "mouth_corner_height",  # corner height below the eye line (smile raises the corners)
    "lip_stretch",  # mouth width
    "mouth_open_inner",  # inner lip gap (surprise, fear)
    "mouth_open_outer",  # outer lip height
    "upper_lip_raise",  # nose-to-upper-lip (disgust raises it)
    "lower_lip_to_chin",  # chin raise (sadness pushes the chin up: shorter)
    "jaw_drop",  # nose tip to chin
    "inner_brow_raise",  # inner brow height above the eye line (sadness, fear, surprise)
    "outer_brow_raise",  # outer brow height (surprise)
    "brow_obliqueness",  # inner minus outer brow height (sadness: inner up)
    "brow_furrow",  # distance between inner brow ends (anger: small)
    "brow_to_eye",  # brow lowered onto the eye (anger)
    "eye_aperture",  # eye opening / eye width (surprise, fear: wide; happiness, disgust: narrowed)
    "nasolabial_width",  # nostril wing to mouth corner, horizontal
    "nasolabial_height",  # nostril wing to mouth corner, vertical
    "nostril_width",  # nostril flare (disgust, anger)
    "mouth_corner_angle",  # angle of the lip-corner slope, centre to corners
    "lower_lip_curve",  # lower lip curvature (pouting)
    "face_height",  # eye line to chin (head pitch proxy)
)
"""Names of the engineered geometry features (after the 136 normalised coordinates)."""


def geometry_features(pts: np.ndarray, *, normalized: bool = False) -> np.ndarray:
    """Feature vector(s) of 68 landmarks: 136 normalised coordinates then :data:`GEOMETRY_NAMES`.

    Invariant to translation, scale and in-plane rotation. ``pts`` is (68, 2) or (N, 68, 2) pixels
    (or already normalised if ``normalized``). Image y grows downwards, so "raise" features are
    heights above the eye line (positive up).
    """
    p = _points(pts)
    single = p.ndim == 2
    n = (p if _check.flag("normalized", normalized) else normalize_landmarks(p))
    if single:
        n = n[None]
    y = n[..., 1]
    corners_y = (y[:, 48] + y[:, 54]) / 2.0
    lip_centre_y = (y[:, 62] + y[:, 66] + y[:, 51] + y[:, 57]) / 4.0
    eye_ap = ((_dist(n, 37, 41) + _dist(n, 38, 40)) / (2 * _dist(n, 36, 39) + 1e-9)
              + (_dist(n, 43, 47) + _dist(n, 44, 46)) / (2 * _dist(n, 42, 45) + 1e-9)) / 2.0
    eye_top = (y[:, 37] + y[:, 38] + y[:, 43] + y[:, 44]) / 4.0
    inner_brow = -(y[:, 21] + y[:, 22]) / 2.0
    outer_brow = -(y[:, 17] + y[:, 26]) / 2.0
    nasolab_w = (np.abs(n[:, 48, 0] - n[:, 31, 0]) + np.abs(n[:, 54, 0] - n[:, 35, 0])) / 2.0
    nasolab_h = ((y[:, 48] - y[:, 31]) + (y[:, 54] - y[:, 35])) / 2.0
    half_w = _dist(n, 48, 54) / 2.0 + 1e-9
    corner_angle = np.arctan2(corners_y - (y[:, 51] + y[:, 57]) / 2.0, half_w)
    lower_curve = (y[:, 57] - (y[:, 55] + y[:, 59]) / 2.0)
    named = np.stack([
        corners_y - lip_centre_y,
        -corners_y,
        _dist(n, 48, 54),
        _dist(n, 62, 66),
        _dist(n, 51, 57),
        y[:, 51] - y[:, 33],
        y[:, 8] - y[:, 57],
        y[:, 8] - y[:, 33],
        inner_brow,
        outer_brow,
        inner_brow - outer_brow,
        _dist(n, 21, 22),
        eye_top - (y[:, 19] + y[:, 24]) / 2.0,
        eye_ap,
        nasolab_w,
        nasolab_h,
        _dist(n, 31, 35),
        corner_angle,
        lower_curve,
        y[:, 8],
    ], axis=1)
    out = np.concatenate([n.reshape(len(n), -1), named], axis=1)
    return out[0] if single else out


def plausible(pts: np.ndarray, width: int, height: int) -> bool:
    """Sanity check of a landmark fit on a registered crop: eyes apart, nearly level, face inside the crop."""
    pts = _points(pts, batch=False)
    w = _check.number("width", width, 0.0, open_lo=True)
    h = _check.number("height", height, 0.0, open_lo=True)
    le, re = eye_centres(pts)
    d = re - le
    iod = float(np.hypot(*d))
    if not (0.15 * w <= iod <= 0.75 * w) or d[0] <= 0:
        return False
    if abs(np.degrees(np.arctan2(d[1], d[0]))) > 40:
        return False
    lo = np.array([-0.25 * w, -0.25 * h])
    hi = np.array([1.25 * w, 1.25 * h])
    if np.any(pts < lo) or np.any(pts > hi):
        return False
    n = normalize_landmarks(pts)
    mouth_y = n[48:68, 1].mean()
    return bool(0.4 < mouth_y < 2.5 and n[8, 1] > mouth_y)


# ---------------------------------------------------------------------------------------------
# alignment and appearance

ALIGN_TEMPLATE: dict[str, float] = {"eye_y": 0.385, "iod": 0.374}
"""Where :func:`align_face` puts the eyes, as fractions of the output side: eye-line height and
inter-ocular distance (the mean of dlib fits on FER-2013 Training crops, i.e. FER's registration)."""


def align_matrix(pts: np.ndarray, size: int, eye_y: float | None = None, iod: float | None = None) -> np.ndarray:
    """2x3 similarity transform taking image pixels to an aligned ``size`` x ``size`` face."""
    size = _check.integer("size", size, 1)
    eye_y = ALIGN_TEMPLATE["eye_y"] if eye_y is None else _check.number("eye_y", eye_y, 0.0, 1.0)
    iod = ALIGN_TEMPLATE["iod"] if iod is None else _check.number("iod", iod, 0.0, 1.0, open_lo=True)
    le, re = eye_centres(pts)
    d = re - le
    dist = float(np.hypot(*d)) or 1.0
    s = iod * size / dist
    cos, sin = d[0] / dist * s, d[1] / dist * s
    c = (le + re) / 2.0
    # rotate by -angle, scale by s, move the eye mid-point to (size/2, eye_y*size)
    m = np.array([[cos, sin, 0.0], [-sin, cos, 0.0]])
    m[:, 2] = np.array([size / 2.0, eye_y * size]) - m[:, :2] @ c
    return m


def align_face(gray: np.ndarray, landmarks: np.ndarray, size: int = 48, *, eye_y: float | None = None,
               iod: float | None = None) -> np.ndarray:
    """A ``size`` x ``size`` uint8 grey face with the eyes level and at a fixed place and spacing.

    The default placement (:data:`ALIGN_TEMPLATE`) reproduces FER-2013's registration, so the result can go
    straight into the FER-trained CNN. Borders are replicated where the face leaves the image.
    """
    import cv2

    gray = _gray(gray, "gray", colour=True)
    m = align_matrix(_points(landmarks, "landmarks", batch=False), size, eye_y, iod)
    src = gray if gray.ndim == 2 else cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    return cv2.warpAffine(src, m, (size, size), flags=cv2.INTER_AREA if m[0, 0] ** 2 + m[0, 1] ** 2 < 1
                          else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


_HOG_SIZE = 64


@lru_cache(maxsize=1)
def _hog() -> object:
    import cv2

    # 64x64 window, 16x16 blocks with 8 px stride, 8x8 cells, 9 orientation bins: 7*7*36 = 1764 values
    return cv2.HOGDescriptor((_HOG_SIZE, _HOG_SIZE), (16, 16), (8, 8), (8, 8), 9)


N_APPEARANCE = 7 * 7 * 36
"""Length of :func:`appearance_features`."""


def appearance_features(aligned: np.ndarray) -> np.ndarray:
    """HOG of an aligned grey face (resized to 64x64): float32 vector of :data:`N_APPEARANCE` values."""
    import cv2

    face = _gray(aligned, "aligned")
    if face.shape[:2] != (_HOG_SIZE, _HOG_SIZE):
        face = cv2.resize(face, (_HOG_SIZE, _HOG_SIZE), interpolation=cv2.INTER_LINEAR)
    return np.asarray(_hog().compute(np.ascontiguousarray(face)), dtype=np.float32).ravel()  # type: ignore[attr-defined]


def expression_features(gray: np.ndarray, pts: np.ndarray, *, mirror: bool = False) -> np.ndarray:
    """The ``dlib`` backend's input vector for one face: :func:`geometry_features` then the HOG of the face
    aligned to 48x48 (:func:`align_face`, :func:`appearance_features`). ``pts`` are pixels of ``gray``.

    ``mirror`` gives the vector of the mirror-image face (landmarks mirrored, aligned face flipped).
    """
    pts = _points(pts, batch=False)
    norm = normalize_landmarks(pts)
    face = align_face(gray, pts, 48)
    if _check.flag("mirror", mirror):
        norm = mirror_landmarks(norm)
        face = np.ascontiguousarray(face[:, ::-1])
    return np.concatenate([geometry_features(norm, normalized=True), appearance_features(face).astype(np.float64)])
