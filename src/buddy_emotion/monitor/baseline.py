"""The per-user :class:`Baseline`: how sad the user's resting face reads, saved as a small JSON file
(numbers only) that the caller chooses."""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
import stat
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from buddy_emotion import _check
from buddy_emotion.errors import ArgumentTypeError, BaselineError, InvalidArgumentError

_BASELINE_FORMAT = "buddy-emotion-baseline"
_BASELINE_VERSION = 1
_MAX_BASELINE_BYTES = 64 * 1024


def raise_level(level: float, margin: float) -> float:
    """``level`` (0..1) raised by ``margin`` (any finite number) in log-odds: ``sigmoid(logit(level) + margin)``.

    Raises:
        ValueError: ``level`` is not a number within 0..1, or ``margin`` not a finite number.
    """
    p = min(max(_check.number("level", level, 0.0, 1.0), 1e-6), 1.0 - 1e-6)
    x = math.log(p / (1.0 - p)) + _check.number("margin", margin)
    try:
        return 1.0 / (1.0 + math.exp(-x))
    except OverflowError:  # x below about -709: the level is 0 to double precision
        return 0.0


def _check_unit(name: str, value: Any) -> float:
    return _check.number(f"baseline {name}", value, 0.0, 1.0, error=BaselineError)


@dataclass(frozen=True)
class Baseline:
    """A user's resting sadness: how sad their calm face reads. Numbers only.

    Attributes:
        level: the ``quantile`` of their calm sadness readings (what the enter level is raised above).
        mean: mean of those readings.
        spread: their interquartile range.
        samples: how many readings it was computed from.
        quantile: which quantile ``level`` is.
        created: when it was computed (seconds; :meth:`from_readings` stamps ``time.time()``; 0.0 when not given).
    """

    level: float
    mean: float
    spread: float
    samples: int
    quantile: float = 0.75
    created: float = 0.0

    def __post_init__(self) -> None:
        for name in ("level", "mean", "spread", "quantile"):
            object.__setattr__(self, name, _check_unit(name, getattr(self, name)))
        object.__setattr__(self, "samples", _check.integer("baseline samples", self.samples, 1, error=BaselineError))
        object.__setattr__(self, "created", _check.number("baseline created", self.created, unit="seconds",
                                                 error=BaselineError))

    @classmethod
    def from_readings(cls, sadness: Iterable[float | None], quantile: float = 0.75,
                      created: float | None = None) -> Baseline:
        """The baseline of some calm sadness readings (None values are skipped).

        Raises:
            TypeError: ``sadness`` is not an iterable of readings (a str, a mapping, an array that is not 1-D),
                or holds something that is not a number or None; ``quantile`` or ``created`` not a number.
            ValueError: no reading, a reading outside 0..1, or ``quantile`` outside 0..1.
        """
        quantile = _check.number("quantile", quantile, 0.0, 1.0)
        if created is not None:
            created = _check.number("created", created, unit="seconds")
        if isinstance(sadness, np.ndarray) and sadness.ndim == 1 and sadness.dtype.kind in "fiu":
            values = sadness.astype(np.float64)  # the monitor's own readings: no per-item checks
        else:
            if (isinstance(sadness, (str, bytes, Mapping)) or not isinstance(sadness, Iterable)
                    or (isinstance(sadness, np.ndarray) and sadness.ndim != 1)):  # a frame, or a 0-d array
                raise ArgumentTypeError("sadness must be an iterable of readings (numbers 0..1 or None), got "
                                        f"{_check.shown(sadness)}")
            items = [s for s in sadness if s is not None]
            bad = [s for s in items if isinstance(s, bool) or not isinstance(s, numbers.Real)]
            if bad:
                raise ArgumentTypeError(f"sadness readings must be numbers within 0..1 (or None), got "
                                        f"{_check.shown(bad[0])}")
            try:
                values = np.array([float(s) for s in items], dtype=np.float64)
            except OverflowError:  # an int too large for a float, e.g. 10**400
                raise InvalidArgumentError("sadness readings must be within 0..1, got a huge integer") from None
        if values.size == 0:
            raise InvalidArgumentError("a baseline needs at least one sadness reading")
        if not np.all(np.isfinite(values)) or values.min() < 0.0 or values.max() > 1.0:
            raise InvalidArgumentError("sadness readings must be within 0..1")
        q25, level, q75 = np.quantile(values, [0.25, quantile, 0.75])
        return cls(level=float(level), mean=float(values.mean()), spread=float(q75 - q25), samples=int(values.size),
                   quantile=float(quantile), created=time.time() if created is None else float(created))

    def as_dict(self) -> dict[str, Any]:
        """What :meth:`save` writes: the fields plus a format name and version."""
        return {"format": _BASELINE_FORMAT, "version": _BASELINE_VERSION, **dataclasses.asdict(self)}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write this baseline to a small JSON file (numbers only) and return its path.

        Raises:
            BaselineError: ``path`` is not a file path, or the file cannot be written.
        """
        p = _check.as_path("path", path, error=BaselineError)
        try:
            p.write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")
        except OSError as e:
            raise BaselineError(f"cannot write baseline file {p}: {e.strerror or e}") from None
        return p

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Baseline:
        """Read a baseline written by :meth:`save`.

        Raises:
            BaselineError: ``path`` is not a file path; the file is missing, not a regular file (a folder, pipe
                or device), too large, unreadable, not JSON, not a baseline, or out of range.
        """
        p = _check.as_path("path", path, error=BaselineError)
        try:
            # a regular file only (a FIFO would block, /dev/zero never end), and never more than the limit
            if not stat.S_ISREG(p.stat().st_mode):
                raise BaselineError(f"baseline path is not a regular file: {p}")
            with p.open("rb") as f:
                raw = f.read(_MAX_BASELINE_BYTES + 1)
            if len(raw) > _MAX_BASELINE_BYTES:
                raise BaselineError(f"{p} is too large to be a baseline file")
            text = raw.decode("utf-8")
        except FileNotFoundError:
            raise BaselineError(f"baseline file not found: {p}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise BaselineError(f"cannot read baseline file {p}: {getattr(e, 'strerror', None) or e}") from None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as e:  # RecursionError: absurdly deep nesting
            raise BaselineError(f"{p} is not valid JSON ({e})") from None
        return cls.from_dict(data, where=str(p))

    @classmethod
    def from_dict(cls, data: Any, where: str = "baseline") -> Baseline:
        """Rebuild a baseline from :meth:`as_dict`'s output (checked like :meth:`load`)."""
        if not isinstance(where, str):
            raise ArgumentTypeError(f"where must be a str naming the data in messages, got {_check.shown(where)}")
        if not isinstance(data, dict) or data.get("format") != _BASELINE_FORMAT:
            raise BaselineError(f"{where} is not a buddy-emotion baseline (no 'format': '{_BASELINE_FORMAT}')")
        if data.get("version") != _BASELINE_VERSION or isinstance(data.get("version"), bool):  # true == 1
            raise BaselineError(f"{where} has baseline version {data.get('version')!r}; "
                                f"this library reads version {_BASELINE_VERSION}")
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in ("level", "mean", "spread", "samples") if n not in data]
        if missing:
            raise BaselineError(f"{where} lacks {', '.join(missing)}")
        unknown = sorted(set(data) - set(names) - {"format", "version"})
        if unknown:  # a baseline holds these numbers and nothing else
            raise BaselineError(f"{where} has unexpected entries: {', '.join(map(str, unknown))[:200]}")
        try:
            return cls(**{n: data[n] for n in names if n in data})
        except BaselineError as e:
            raise BaselineError(f"{where}: {e}") from None
