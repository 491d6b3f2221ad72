"""Sadness over time as a PNG: readings, the monitor's smoothed score and levels, gated samples, events.

matplotlib is optional (``pip install 'buddy-emotion[plot]'``) and imported on first use. Figures are drawn
with the Agg canvas directly (no ``pyplot``, no GUI, no change to matplotlib's global backend), so this is
safe in threads and on headless machines. Only the file the caller names is written.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from buddy_emotion import _check
from buddy_emotion._check import shown
from buddy_emotion.errors import ArgumentTypeError, ImageFileError, MissingDependencyError

__all__ = ["plot_timeline", "plot_readings", "check_plot_path"]

_REASON_ROWS = (
    ("no_face", "no face"),
    ("face_too_small", "face too small"),
    ("bad_frame", "bad frame"),
    ("blurred", "blurred"),
    ("too_dark", "too dark"),
    ("overexposed", "overexposed"),
    ("multiple_faces", "several faces"),
    ("backend_error", "backend error"),
    ("camera_error", "camera error"),
)


def _figure(width: float, height: float) -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError(
            "plotting needs matplotlib: pip install 'buddy-emotion[plot]'"
        ) from None
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def check_plot_path(path: str | os.PathLike[str]) -> Path:
    """Check, before any work, that a plot can be written to ``path``; return it as a :class:`Path`.

    For a long run (a video, a live session) whose plot is drawn only at the end: matplotlib must be
    installed, the suffix must be a format it writes (none means PNG), and the folder must exist and be
    writable. Nothing is written.

    Raises:
        MissingDependencyError: matplotlib is not installed (``pip install 'buddy-emotion[plot]'``).
        ImageFileError: the folder is missing or read-only, or the format is unknown.
        TypeError: ``path`` is not a str or path.
    """
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise ArgumentTypeError(f"the plot path must be a non-empty str or path, got {shown(path)}")
    out = Path(os.fspath(path))
    _figure(1, 1)  # matplotlib is importable
    from matplotlib.backend_bases import FigureCanvasBase

    kind = out.suffix[1:].lower()
    if kind and kind not in FigureCanvasBase.get_supported_filetypes():
        raise ImageFileError(f"cannot write a plot as .{kind}: use .png, .svg or .pdf ({out})")
    folder = out.parent
    if not folder.is_dir():
        raise ImageFileError(f"cannot write the plot {out}: no folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ImageFileError(f"cannot write the plot {out}: the folder {folder} is not writable")
    if out.is_dir():
        raise ImageFileError(f"cannot write the plot {out}: it is a folder")
    return out


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _reason_value(reason: Any) -> str | None:
    if reason is None:
        return None
    return str(getattr(reason, "value", reason))


def _level(name: str, value: Any) -> float | None:
    """None, or a number within 0..1 (a sadness or a level), else ValueError naming it."""
    return None if value is None else _check.number(name, value, 0.0, 1.0)


def _checked_points(timeline: Any) -> list[Any]:
    if timeline is None or isinstance(timeline, (str, bytes)):
        raise ArgumentTypeError(f"timeline must be a Timeline or a sequence of points, got {shown(timeline)}")
    try:
        points = list(timeline.snapshot() if hasattr(timeline, "snapshot") else timeline)
    except TypeError:
        raise ArgumentTypeError("timeline must be a Timeline or a sequence of points, got "
                                f"{type(timeline).__name__}") from None
    for i, p in enumerate(points):
        if not isinstance(p, dict) and not hasattr(p, "timestamp"):
            raise ArgumentTypeError(f"timeline point {i} must have a timestamp (a TimelinePoint, reading or "
                                    f"dict), got {shown(p)}")
        _check.number(f"timeline point {i} timestamp", _get(p, "timestamp"), unit="seconds")
        for name in ("sadness", "smoothed", "enter_level", "exit_level"):
            _level(f"timeline point {i} {name}", _get(p, name))
    return points


def _checked_events(events: Any) -> list[Any]:
    if events is None or isinstance(events, (str, bytes)) or not isinstance(events, Iterable):
        raise ArgumentTypeError(f"events must be a sequence of events, got {shown(events)}")
    evs = list(events)
    for i, e in enumerate(evs):
        _check.number(f"event {i} timestamp", _get(e, "timestamp"), unit="seconds")
        if _get(e, "started_at") is not None:
            _check.number(f"event {i} started_at", _get(e, "started_at"), unit="seconds")
    return evs


def _save(fig: Any, out: Path) -> Path:
    try:
        fig.savefig(out, format=(out.suffix[1:].lower() or "png") if out.suffix else "png")
    except (OSError, ValueError) as e:
        raise ImageFileError(f"could not write the plot {out}: {e}") from None
    return out


def plot_timeline(timeline: Iterable[Any], path: str | os.PathLike[str], events: Iterable[Any] = (), *,
                  title: str | None = None, threshold: float | None = None) -> Path:
    """Draw sadness over time and write it to ``path`` (PNG, or any format matplotlib knows by suffix).

    Args:
        timeline: a :class:`~buddy_emotion.monitor.Timeline` or any sequence of points with ``timestamp``,
            ``sadness`` (None when there was none), ``reason`` (None when the sample counted) and, optionally,
            ``smoothed``, ``enter_level``, ``exit_level`` (:class:`~buddy_emotion.monitor.TimelinePoint`,
            :class:`~buddy_emotion.types.SadnessReading` and dicts with those keys all work).
        path: the image file to write.
        events: :class:`~buddy_emotion.monitor.SadnessEvent` objects (or anything with ``timestamp`` and
            optional ``started_at``): drawn as a marker where Buddy spoke and a band over the sad spell.
        title: the figure's title.
        threshold: a fixed sadness level to draw when the points carry no ``enter_level``.

    Returns:
        The path written.

    Raises:
        MissingDependencyError: matplotlib is not installed (``pip install 'buddy-emotion[plot]'``).
        ImageFileError: the file could not be written.
        TypeError, ValueError: ``timeline``, ``events``, ``path`` or ``threshold`` are not what is described
            here (timestamps finite numbers of seconds, sadness and levels None or within 0..1).
    """
    points = _checked_points(timeline)
    evs = _checked_events(events)
    threshold = _level("threshold", threshold)
    if title is not None and not isinstance(title, str):
        raise ArgumentTypeError(f"title must be a str or None, got {shown(title)}")
    out = _check.as_path("path", path)
    fig, ax = _figure(11.0, 4.2)
    nan = math.nan
    ts = [float(_get(p, "timestamp", 0.0)) for p in points]
    t0 = min(ts + [float(_get(e, "started_at", _get(e, "timestamp"))) for e in evs]) if (ts or evs) else 0.0
    span = (max(ts + [float(_get(e, "timestamp")) for e in evs]) - t0) if (ts or evs) else 0.0
    unit, div = ("min", 60.0) if span > 600 else ("s", 1.0)

    def x(t: float) -> float:
        return (t - t0) / div

    xs = [x(t) for t in ts]
    reasons = [_reason_value(_get(p, "reason")) for p in points]
    sad = [_get(p, "sadness") for p in points]
    ok_x = [xi for xi, r, s in zip(xs, reasons, sad) if r is None and s is not None]
    ok_y = [float(s) for r, s in zip(reasons, sad) if r is None and s is not None]
    ax.scatter(ok_x, ok_y, s=9, color="#4c72b0", alpha=0.55, label="sadness (sample)", zorder=3)

    smoothed = [_get(p, "smoothed") for p in points]
    if any(v is not None for v in smoothed):
        ax.plot(xs, [nan if v is None else float(v) for v in smoothed], color="#1f3a93", lw=1.8,
                label="smoothed", zorder=4)
    enter = [_get(p, "enter_level") for p in points]
    if any(v is not None for v in enter):
        ax.step(xs, [nan if v is None else float(v) for v in enter], where="post", color="#c44e52", lw=1.0,
                ls="--", label="enter level")
        exit_ = [_get(p, "exit_level") for p in points]
        if any(v is not None for v in exit_):
            ax.step(xs, [nan if v is None else float(v) for v in exit_], where="post", color="#dd8452", lw=0.8,
                    ls=":", label="exit level")
    elif threshold is not None:
        ax.axhline(float(threshold), color="#c44e52", lw=1.0, ls="--", label=f"threshold {float(threshold):.2f}")

    # quality-gated samples: a row of marks below zero, one row per reason present
    present = [(key, label) for key, label in _REASON_ROWS if key in reasons]
    present += sorted({(r, r) for r in reasons if r is not None and r not in dict(_REASON_ROWS)})
    markers = "xv^sDP*ho+"
    for i, (key, label) in enumerate(present):
        gx = [xi for xi, r in zip(xs, reasons) if r == key]
        ax.scatter(gx, [-0.04 - 0.035 * i] * len(gx), marker=markers[i % len(markers)], s=14, lw=0.8,
                   color=f"C{(i + 2) % 10}", label=f"gated: {label} ({len(gx)})", zorder=3)
    bottom = -0.06 - 0.035 * max(len(present), 0)

    # stretches the monitor judged sad (state "sad" or "spoken"), when the points say
    states = [_reason_value(_get(p, "state")) for p in points]
    first_band = True
    i = 0
    while i < len(points):
        if states[i] in ("sad", "spoken"):
            j = i
            while j + 1 < len(points) and states[j + 1] in ("sad", "spoken"):
                j += 1
            ax.axvspan(xs[i], xs[j], color="#dd8452", alpha=0.12, lw=0, label="sad state" if first_band else None)
            first_band = False
            i = j + 1
        else:
            i += 1

    for j, e in enumerate(evs):
        te = float(_get(e, "timestamp"))
        start = _get(e, "started_at")
        if start is not None:
            ax.axvspan(x(float(start)), x(te), color="#c44e52", alpha=0.18, lw=0,
                       label="evidence of the event" if j == 0 else None)
        ax.axvline(x(te), color="#c44e52", lw=1.6, label="Buddy speaks" if j == 0 else None, zorder=5)

    ax.set_ylim(bottom, 1.02)
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("sadness")
    ax.grid(True, alpha=0.25)
    n_ok, n = len(ok_x), len(points)
    ax.set_title(title or f"sadness over time: {n} samples, {n - n_ok} gated, {len(evs)} event(s)")
    if points or evs:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    return _save(fig, out)


def plot_readings(readings: Sequence[Any], path: str | os.PathLike[str], *, title: str | None = None,
                  threshold: float | None = None, events: Iterable[Any] = ()) -> Path:
    """Draw detector readings (:class:`~buddy_emotion.types.SadnessReading`) over time; see :func:`plot_timeline`.

    Readings without a sadness value are shown as gated samples with their reason; ``threshold`` defaults
    to the readings' own threshold.
    """
    if readings is None or isinstance(readings, (str, bytes)) or not isinstance(readings, Sequence):
        raise ArgumentTypeError(f"readings must be a sequence of SadnessReading, got {shown(readings)}")
    if threshold is None and readings:
        threshold = _get(readings[0], "threshold")
    return plot_timeline(readings, path, events, title=title, threshold=threshold)
