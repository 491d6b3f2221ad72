"""Emotion labels.

The canonical labels are Azure Face's eight, in alphabetical order (:data:`EMOTIONS`).
FER-2013 uses seven integer classes in its own order (:data:`FER2013_ORDER`) and has no contempt.
"""

from __future__ import annotations

import math
from typing import Final

from buddy_emotion.errors import ArgumentTypeError, InvalidArgumentError

__all__ = ["EMOTIONS", "FER2013_ORDER", "SADNESS", "normalize_label", "parse_label_values"]

EMOTIONS: Final[tuple[str, ...]] = (
    "anger",
    "contempt",
    "disgust",
    "fear",
    "happiness",
    "neutral",
    "sadness",
    "surprise",
)
"""The canonical labels (Azure Face's eight)."""

SADNESS: Final = "sadness"

FER2013_ORDER: Final[tuple[str, ...]] = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
"""Canonical names of FER-2013's integer classes 0..6 (angry, disgust, fear, happy, sad, surprise, neutral)."""

_ALIASES: Final[dict[str, str]] = {
    "angry": "anger",
    "anger": "anger",
    "contempt": "contempt",
    "disgust": "disgust",
    "disgusted": "disgust",
    "fear": "fear",
    "fearful": "fear",
    "scared": "fear",
    "happy": "happiness",
    "happiness": "happiness",
    "neutral": "neutral",
    "sad": "sadness",
    "sadness": "sadness",
    "surprise": "surprise",
    "surprised": "surprise",
}


def normalize_label(name: str) -> str:
    """Map a label in any common naming (``"sad"``, ``"Sadness"``, ``"angry"`` ...) to its canonical name.

    Raises:
        ValueError: the name is not an emotion label this library knows.
        TypeError: ``name`` is not a str.
    """
    if not isinstance(name, str):
        raise ArgumentTypeError(f"emotion label must be a str, got {type(name).__name__}")
    try:
        return _ALIASES[name.strip().lower()]
    except KeyError:
        raise InvalidArgumentError(f"unknown emotion label {name!r}; expected one of {', '.join(EMOTIONS)}") from None


def parse_label_values(text: str) -> dict[str, float]:
    """Parse ``"sadness=0.1,fear=-0.2"`` (or ``"none"``: an empty mapping) into canonical label -> finite number.

    Raises:
        ValueError: ``text`` is not of that form, a number is not finite, or a label is unknown.
        TypeError: ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise ArgumentTypeError(
            f"label values must be a str like 'sadness=0.1,fear=-0.2' or 'none', got {type(text).__name__}")
    if text.strip().lower() == "none":
        return {}
    out: dict[str, float] = {}
    for part in text.split(","):
        label, sep, value = part.partition("=")
        try:
            number: float | None = float(value)
        except ValueError:
            number = None
        if number is not None and not math.isfinite(number):
            raise InvalidArgumentError(f"the value of {label.strip()!r} must be a finite number, got {value.strip()!r}")
        if not sep or number is None:
            raise InvalidArgumentError(f"expected none or LABEL=NUMBER[,LABEL=NUMBER...], got {text!r}")
        out[normalize_label(label)] = number
    return out
