"""Synthetic 640x480 test frames shared by the benchmarks: a FER-2013 face pasted onto a background.

Backgrounds:

* ``plain``: a smooth grey gradient plus sensor-like noise (easy for any detector, and cheap for a
  Haar cascade, which rejects flat windows at its first stage).
* ``textured``: a random crop of one of scikit-image's public-domain sample photographs that show no
  person (brick, coffee, coins, grass, gravel, Hubble deep field, IHC slide, moon, motorcycle, page,
  rocket, text, retina, horse), scaled 1-1.6x. Closer to a room behind a webcam user: clutter is what
  makes sliding-window detectors slow and produces false faces.

Frames are grey images in 3-channel BGR (the FER-2013 faces are grey). Nothing is written to disk.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

W, H = 640, 480
TEXTURES = ("brick.png", "coffee.png", "coins.png", "grass.png", "gravel.png", "hubble_deep_field.jpg", "ihc.png",
            "moon.png", "motorcycle_left.png", "page.png", "rocket.jpg", "text.png", "retina.jpg", "horse.png")


@lru_cache(maxsize=1)
def _textures() -> tuple[np.ndarray, ...]:
    import skimage

    folder = Path(skimage.__file__).parent / "data"
    out = []
    for name in TEXTURES:
        im = cv2.imread(str(folder / name), cv2.IMREAD_GRAYSCALE)
        if im is not None:
            out.append(im)
    if not out:
        raise RuntimeError(f"scikit-image's sample images are missing from {folder}")
    return tuple(out)


def background(rng: np.random.Generator, kind: str = "plain") -> np.ndarray:
    """A HxW float32 grey background of ``kind`` ("plain" or "textured")."""
    if kind == "plain":
        gx = np.linspace(rng.uniform(40, 200), rng.uniform(40, 200), W, dtype=np.float32)[None, :]
        gy = np.linspace(rng.uniform(-30, 30), rng.uniform(-30, 30), H, dtype=np.float32)[:, None]
        return gx + gy + rng.normal(0, 4, (H, W)).astype(np.float32)
    if kind != "textured":
        raise ValueError(f"unknown background {kind!r}")
    textures = _textures()
    im = textures[int(rng.integers(len(textures)))]
    s = max(H / im.shape[0], W / im.shape[1]) * rng.uniform(1.0, 1.6)
    im = cv2.resize(im, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR)
    y, x = int(rng.integers(0, im.shape[0] - H + 1)), int(rng.integers(0, im.shape[1] - W + 1))
    return im[y:y + H, x:x + W].astype(np.float32)


def paste(bg: np.ndarray, face: np.ndarray, side: int, x0: int, y0: int, gain: float) -> np.ndarray:
    """``bg`` (HxW float32, changed in place) with ``face`` (grey) upscaled to ``side`` px and times ``gain``
    pasted with its top-left corner at ``(x0, y0)``, as a BGR uint8 frame. The corner may put part of the
    face outside the frame: that part is cut off, as by a camera's field of view."""
    big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    h, w = bg.shape
    fx0, fy0 = max(0, -x0), max(0, -y0)  # first face column / row inside the frame
    fx1, fy1 = min(side, w - x0), min(side, h - y0)
    if fx1 > fx0 and fy1 > fy0:
        bg[y0 + fy0:y0 + fy1, x0 + fx0:x0 + fx1] = big[fy0:fy1, fx0:fx1] * gain
    frame = np.clip(bg, 0, 255).astype(np.uint8)
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def make_frame(face: np.ndarray | None, side: int, rng: np.random.Generator,
               kind: str = "plain") -> tuple[np.ndarray, tuple[int, int]]:
    """A 640x480 BGR frame with ``face`` (grey, 48x48) upscaled to ``side`` px at a random place.

    Returns the frame and the pasted square's top-left corner. ``face=None`` gives an empty frame.
    """
    bg = background(rng, kind)
    if face is None:
        frame = np.clip(bg, 0, 255).astype(np.uint8)
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR), (-1, -1)
    gain = rng.uniform(0.6, 1.3)
    x0, y0 = int(rng.integers(0, W - side)), int(rng.integers(0, H - side))
    return paste(bg, face, side, x0, y0, gain), (x0, y0)
