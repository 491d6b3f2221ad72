"""Argument checks shared by the library's public functions (internal).

Numbers: any real number type is accepted (``int``, ``float``, numpy scalars such as ``np.float32``), never
``bool``, ``str`` or NaN; infinities only where a range allows them. Every failure is an
:class:`~buddy_emotion.errors.InvalidArgumentError` (a ``ValueError``; :class:`ArgumentTypeError`, also a
``TypeError``, for a wrong type), or the ``error`` class given, whose message names the argument and what it
must be.
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
import sys
from pathlib import Path
from typing import Any

from buddy_emotion.errors import ArgumentTypeError, InvalidArgumentError

__all__ = ["options_for", "shown", "one_line", "is_real", "number", "integer", "optional_number", "timeout", "as_path",
           "flag"]


def is_real(value: Any) -> bool:
    """True for a real number of any type (int, float, numpy scalars), False for bool and everything else."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def shown(value: Any, limit: int = 80) -> str:
    """``repr(value)`` for messages, but never an array's contents (a frame passed by mistake must not put
    its pixels into an exception, a status or a log): arrays by shape and dtype, long reprs by type."""
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if isinstance(shape, tuple) and shape and dtype is not None:  # not numpy scalars (shape ())
        return f"{type(value).__name__} of shape {shape} and dtype {dtype}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"{type(value).__name__} of {len(value)} bytes"
    try:
        text = repr(value)
    except Exception:
        text = ""
    return text if text and len(text) <= limit else f"a {type(value).__name__}"


def named(callback: object) -> str:
    """``callback`` for a message or a log line, by its name, never its repr: a ``functools.partial`` (or any
    callable object) holding a frame would put that frame's pixels into the log."""
    name = getattr(callback, "__qualname__", None)
    if not isinstance(name, str):
        inner = getattr(callback, "func", None)  # functools.partial
        name = f"{type(callback).__qualname__} of {named(inner)}" if callable(inner) else type(callback).__qualname__
    module = getattr(callback, "__module__", None)
    return f"{module}.{name}" if isinstance(module, str) else name


def one_line(text: object, limit: int = 240) -> str:
    """``str(text)`` on one line (runs of whitespace, newlines included, become one space), cut to ``limit``
    characters with ``...``: for messages that quote a remote service or another library."""
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _type_error(error: type[Exception]) -> type[Exception]:
    """The class for a wrong *type*: :class:`ArgumentTypeError` when the caller kept the default error."""
    return ArgumentTypeError if error is InvalidArgumentError else error


def number(name: str, value: Any, lo: float = -math.inf, hi: float = math.inf, *, finite: bool = True,
           open_lo: bool = False, unit: str = "", error: type[Exception] = InvalidArgumentError) -> float:
    """``value`` as a float within ``lo..hi`` (``lo`` excluded with ``open_lo``); else ``error`` naming ``name``."""
    what = f"a number{f' of {unit}' if unit else ''}"
    if not is_real(value):
        raise _type_error(error)(f"{name} must be {what}, got {shown(value)}")
    try:
        v = float(value)
    except OverflowError:  # an int too large for a float, e.g. 10**400 read from a JSON file
        raise error(f"{name} is out of range (too large), got an integer of {len(str(value))} digits") from None
    if math.isnan(v) or (finite and math.isinf(v)):
        raise error(f"{name} must be a finite number, got {shown(value)}")
    if v < lo or v > hi or (open_lo and v == lo):
        lo_s = f"more than {lo:g}" if open_lo else f"at least {lo:g}"
        if math.isinf(hi):
            rule = lo_s
        elif math.isinf(lo):
            rule = f"at most {hi:g}"
        else:
            rule = f"within {lo:g}..{hi:g}" if not open_lo else f"{lo_s} and at most {hi:g}"
        raise error(f"{name} must be {rule}, got {shown(value)}")
    return v


def integer(name: str, value: Any, lo: int | None = None, hi: int | None = None, *,
            error: type[Exception] = InvalidArgumentError) -> int:
    """``value`` as an int within ``lo..hi``; whole floats (``2.0``) pass, ``2.5``, ``bool`` and ``str`` do not."""
    if not is_real(value):
        raise _type_error(error)(f"{name} must be a whole number, got {shown(value)}")
    if isinstance(value, numbers.Integral):
        v = int(value)  # exact: no trip through float
    elif not math.isfinite(float(value)) or float(value) != int(value):
        raise error(f"{name} must be a whole number, got {shown(value)}")
    else:
        v = int(value)
    if abs(v) > sys.maxsize:  # no size, count or index of this library gets near it (1e300 included)
        got = f"an integer of {len(str(v))} digits" if isinstance(value, numbers.Integral) else repr(value)
        raise error(f"{name} is out of range (too large), got {got}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        if hi is None:
            rule = f"at least {lo}"
        elif lo is None:
            rule = f"at most {hi}"
        else:
            rule = f"within {lo}..{hi}"
        raise error(f"{name} must be {rule}, got {shown(value)}")
    return v


def optional_number(name: str, value: Any, lo: float = -math.inf, hi: float = math.inf, **kw: Any) -> float | None:
    """None stays None; anything else as :func:`number`."""
    return None if value is None else number(name, value, lo, hi, **kw)


def timeout(name: str, value: Any) -> float | None:
    """A wait in seconds for ``threading``: None (wait for ever) or a number >= 0 (inf means None)."""
    if value is None:
        return None
    v = number(name, value, 0.0, finite=False, unit="seconds")
    return None if math.isinf(v) else v


def flag(name: str, value: Any) -> bool:
    """``value`` as a bool: True or False (numpy's too); ``"yes"``, ``1`` or None raise ArgumentTypeError."""
    kind = type(value)
    if isinstance(value, bool) or (kind.__module__ == "numpy" and kind.__name__ in ("bool_", "bool")):
        return bool(value)  # numpy's bool is numpy.bool_ in numpy 1 and numpy.bool in numpy 2
    raise ArgumentTypeError(f"{name} must be True or False, got {shown(value)}")


def as_path(name: str, value: Any, what: str = "a file path", error: type[Exception] = InvalidArgumentError) -> Path:
    """``value`` (str or path-like) as a :class:`Path`, without touching the file system; else ``error``."""
    if not isinstance(value, (str, os.PathLike)):
        raise _type_error(error)(f"{name} must be {what}, got {shown(value)}")
    text = os.fspath(value)
    if not isinstance(text, str):  # a path-like that gives bytes
        raise _type_error(error)(f"{name} must be {what}, got {shown(value)}")
    if "\x00" in text:
        raise error(f"{name} must not contain a NUL character: {text!r}")
    return Path(text)


def options_for(what: str, cls: type, *args: Any, **options: Any) -> None:
    """Check that ``cls(*args, **options)`` names only parameters ``cls`` takes, before building it.

    Raises:
        ArgumentTypeError: an unknown option (the message lists the ones ``cls`` takes) or a missing one.
    """
    sig = inspect.signature(cls)
    try:
        sig.bind(*args, **options)
    except TypeError as e:
        known = ", ".join(p for p in sig.parameters if not p.startswith("_") and p not in ("args", "kwargs"))
        raise ArgumentTypeError(f"{what}: {e}; it takes: {known}") from None
