"""Evaluate a backend on labelled faces: the figures behind ``buddy-emotion eval``.

Data is an ``.npz`` with ``images`` (N,H,W or N,H,W,3 uint8), ``labels`` (FER-2013 integer order)
and optional ``usage`` (split names); FER-2013's own ``.csv`` as Kaggle hands it out (``fer2013.csv``:
columns ``emotion,pixels,Usage``, or ``icml_face_data.csv``: ``emotion, Usage, pixels``; each ``pixels``
a square grey image as space-separated 0..255 values, row by row); or a folder with ``labels.csv``
(columns ``path,label``; label names in FER-2013 or Azure naming). Report keys are a contract (see
:func:`evaluate`).
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from buddy_emotion._check import flag, integer, number, shown
from buddy_emotion.backends.base import EmotionBackend
from buddy_emotion.errors import ArgumentTypeError, BuddyEmotionError, ImageFileError, InvalidArgumentError
from buddy_emotion.frames import load_image
from buddy_emotion.labels import EMOTIONS, FER2013_ORDER, SADNESS, normalize_label

__all__ = ["LabelledImages", "load_labelled", "evaluate", "classification_report", "auroc", "time_per_face",
           "sad_bias_figures"]

#: how many unreadable images' errors a report quotes (``unreadable_examples``)
UNREADABLE_EXAMPLES = 10


@dataclass
class LabelledImages:
    """Labelled images, loaded lazily for folders. ``labels`` are canonical names."""

    labels: list[str]
    _array: np.ndarray | None = None
    _paths: list[Path] | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` as a uint8 array (read from its file for folders)."""
        if self._array is not None:
            return self._array[i]
        assert self._paths is not None
        return load_image(self._paths[i])

    def name(self, i: int) -> str:
        """Image ``i``'s file path, or ``#i`` for ``.npz`` rows."""
        return str(self._paths[i]) if self._paths is not None else f"#{i}"


def load_labelled(data: str | os.PathLike[str], split: str | None = None, limit: int | None = None) -> LabelledImages:
    """Load an ``.npz``, FER-2013's ``.csv`` or a folder with ``labels.csv`` (see module doc).

    Args:
        data: the ``.npz`` or ``.csv`` file, or the folder.
        split: rows whose ``usage`` (``Usage`` in the CSV) equals this, e.g. ``"PrivateTest"`` (not for
            folders); None: all rows.
        limit: the first ``limit`` (>= 1) rows only; None: all.

    Raises:
        ImageFileError: not a path, missing or corrupt file, wrong arrays, unknown split or labels.
        ValueError: ``split`` or ``limit`` is not valid.
    """
    if not isinstance(data, (str, os.PathLike)):
        raise ImageFileError(f"data must be the path of an .npz file or a folder, got {shown(data)}")
    if split is not None and not isinstance(split, str):
        raise ArgumentTypeError(f"split must be a str or None, got {shown(split)}")
    if limit is not None:
        limit = integer("limit", limit, 1)
    p = Path(os.fspath(data))
    try:
        missing, folder = not p.exists(), p.is_dir()
    except OSError as e:  # e.g. a name too long
        raise ImageFileError(f"data is not a usable path: {p} ({e.strerror or e})") from None
    if missing:
        raise ImageFileError(f"data not found: {p}")
    if folder:
        return _load_folder(p, split, limit)
    if not p.is_file():  # a pipe or device would block or never end
        raise ImageFileError(f"data must be an .npz file or a folder, got a pipe or device: {p}")
    try:
        with p.open("rb") as fh:
            magic = fh.read(6)
    except OSError as e:
        raise ImageFileError(f"cannot read {p}: {e.strerror or e}") from None
    if not magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):  # numpy would try it as a pickle, and say so
        if p.suffix.lower() == ".csv":
            return _load_fer_csv(p, split, limit)
        raise ImageFileError(f"{p} is not an .npz file (a zip of arrays), nor FER-2013's .csv, nor a folder "
                             "with labels.csv")
    try:
        with np.load(p, allow_pickle=False) as d:
            if "images" not in d.files or "labels" not in d.files:
                raise ImageFileError(f"{p} must hold the arrays 'images' and 'labels'; has {d.files}")
            # each array read once, and checked before indexing (a short or 0-d one is named, not an IndexError)
            labels = _column(p, d, "labels")
            images = _column(p, d, "images", len(labels))
            keep = np.ones(len(labels), bool)
            if split:
                if "usage" not in d.files:
                    raise ImageFileError(f"{p} has no 'usage' array, so --split cannot be used")
                usage = _column(p, d, "usage", len(labels), flat=True)
                keep = usage == split
                if not keep.any():
                    raise ImageFileError(f"no rows with split {split!r} in {p}; splits: {sorted(set(usage.tolist()))}")
            idx = np.flatnonzero(keep)
            if limit:
                idx = idx[:limit]
            images = images[idx]
            ints = labels[idx]
    except ImageFileError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise ImageFileError(f"cannot read {p} (not a readable .npz?): {e}") from None
    if images.dtype != np.uint8 or images.ndim not in (3, 4) or len(images) != len(ints):
        raise ImageFileError(
            f"{p}: images must be (N,H,W[,3]) uint8 matching labels, got {images.dtype} {images.shape}")
    if ints.ndim != 1 or ints.dtype.kind not in "iuf" or not np.isfinite(ints).all() or (
            len(ints) and (ints.min() < 0 or ints.max() > 6 or (ints != np.round(ints)).any())):
        raise ImageFileError(f"{p}: labels must be FER-2013 class numbers 0..6, got {ints.dtype} {ints.shape}")
    return LabelledImages([FER2013_ORDER[int(i)] for i in ints], images)


def _column(p: Path, d: Any, name: str, rows: int | None = None, *, flat: bool = False) -> np.ndarray:
    """Array ``name`` of the open .npz ``d``, with ``rows`` rows (1-D with ``flat``); else ImageFileError."""
    a = d[name]
    if not isinstance(a, np.ndarray):  # numpy hands back the raw bytes of a member that is not an .npy
        raise ImageFileError(f"{p}: '{name}' is not a numpy array (.npy)")
    if a.ndim == 0 or (flat and a.ndim != 1) or (rows is not None and len(a) != rows):
        raise ImageFileError(f"{p}: '{name}' must be an array with one {'entry' if flat else 'row'} per label "
                             f"({'N' if rows is None else rows}), got shape {a.shape}")
    return a


def _load_fer_csv(p: Path, split: str | None, limit: int | None) -> LabelledImages:
    """FER-2013 as Kaggle hands it out: one face per row, ``emotion`` (0..6), ``pixels`` (a square grey image,
    space-separated, row by row) and optional ``Usage``; column names are matched without case or spaces."""
    images: list[np.ndarray] = []
    ints: list[int] = []
    splits: set[str] = set()
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:  # -sig: a byte-order mark (Excel) is not a name
            reader = csv.reader(fh)
            header = [h.strip().lower() for h in next(reader, [])]
            if not {"emotion", "pixels"} <= set(header):
                raise ImageFileError(f"{p}: a .csv of faces needs the columns emotion,pixels[,Usage] (FER-2013 as "
                                     f"Kaggle gives it); has {header[:8]}. A folder of images takes labels.csv")
            e_col, p_col = header.index("emotion"), header.index("pixels")
            u_col = header.index("usage") if "usage" in header else None
            if split and u_col is None:
                raise ImageFileError(f"{p} has no Usage column, so --split cannot be used")
            for row_no, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != len(header):
                    raise ImageFileError(f"{p}:{row_no}: {len(row)} fields, the header has {len(header)}")
                if u_col is not None:
                    splits.add(row[u_col].strip())
                    if split and row[u_col].strip() != split:
                        continue
                ints.append(_csv_emotion(p, row_no, row[e_col]))
                images.append(_csv_pixels(p, row_no, row[p_col], images[0].shape[0] if images else None))
                if limit and len(ints) >= limit:
                    break
    except UnicodeDecodeError as e:
        raise ImageFileError(f"{p} is not UTF-8 text: {e}") from None
    except csv.Error as e:
        raise ImageFileError(f"{p} is not a valid CSV file: {e}") from None
    except ImageFileError:  # an OSError too: not to be wrapped again
        raise
    except OSError as e:
        raise ImageFileError(f"cannot read {p}: {e.strerror or e}") from None
    if split and not ints:
        raise ImageFileError(f"no rows with split {split!r} in {p}; splits: {sorted(splits)}")
    if not ints:
        raise ImageFileError(f"{p} has no faces (a header and no rows)")
    return LabelledImages([FER2013_ORDER[i] for i in ints], np.stack(images))


def _csv_emotion(p: Path, row_no: int, text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        value = -1
    if not 0 <= value <= 6:
        raise ImageFileError(f"{p}:{row_no}: emotion must be a FER-2013 class number 0..6, got {text.strip()[:20]!r}")
    return value


def _csv_pixels(p: Path, row_no: int, text: str, side: int | None) -> np.ndarray:
    """One row's ``pixels`` as a (side, side) uint8 image; ``side`` that of the rows before, if any."""
    with warnings.catch_warnings():  # numpy warns, and stops, at text it cannot read: that row is corrupt
        warnings.simplefilter("error")
        try:
            values = np.fromstring(text, dtype=np.int64, sep=" ")
        except (ValueError, DeprecationWarning):
            values = np.empty(0, np.int64)
    n = len(values)
    if n == 0 or math.isqrt(n) ** 2 != n or (side is not None and n != side * side):
        want = "a square grey image" if side is None else f"{side}x{side} = {side * side} values, as the rows before"
        raise ImageFileError(f"{p}:{row_no}: pixels must be {want} as space-separated whole numbers, got {n} values")
    if values.min() < 0 or values.max() > 255:
        raise ImageFileError(f"{p}:{row_no}: pixels must be grey levels 0..255")
    return values.astype(np.uint8).reshape(math.isqrt(n), -1)


def _load_folder(p: Path, split: str | None, limit: int | None) -> LabelledImages:
    csv_path = p / "labels.csv"
    if not csv_path.is_file():
        raise ImageFileError(f"folder {p} has no labels.csv (columns path,label)")
    paths: list[Path] = []
    labels: list[str] = []
    try:
        with csv_path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"path", "label"} <= set(reader.fieldnames):
                raise ImageFileError(f"{csv_path} needs the columns path,label; has {reader.fieldnames}")
            for row_no, row in enumerate(reader, start=2):
                try:
                    labels.append(normalize_label(row["label"]))
                except ValueError as e:
                    raise ImageFileError(f"{csv_path}:{row_no}: {e}") from None
                if not row["path"] or not row["path"].strip():
                    raise ImageFileError(f"{csv_path}:{row_no}: the row has no path")
                paths.append((p / row["path"]).resolve())
    except UnicodeDecodeError as e:
        raise ImageFileError(f"{csv_path} is not UTF-8 text: {e}") from None
    except csv.Error as e:
        raise ImageFileError(f"{csv_path} is not a valid CSV file: {e}") from None
    except ImageFileError:
        raise
    except (OSError, ValueError) as e:  # unreadable, or a path the OS refuses (a NUL character)
        raise ImageFileError(f"cannot read {csv_path}: {e}") from None
    if split:
        raise ImageFileError("--split applies to .npz and .csv data only, not to a folder")
    n = len(labels) if not limit else min(limit, len(labels))
    return LabelledImages(labels[:n], None, paths[:n])


def _vector(name: str, values: Any, kinds: str, what: str = "numbers") -> np.ndarray:
    """``values`` as a 1-D array whose dtype kind is one of ``kinds`` (empty: any). Another type (a str, a
    mapping, a number, strings, objects) is an ArgumentTypeError; another shape, raggedness or a NaN an
    InvalidArgumentError. Both name ``name``."""
    if values is None or isinstance(values, (str, bytes, Mapping)):
        raise ArgumentTypeError(f"{name} must be a sequence or 1-D array of {what}, got {type(values).__name__}")
    try:
        a = np.asarray(values)
    except (TypeError, ValueError) as e:  # ragged
        raise InvalidArgumentError(f"{name} must be a sequence or 1-D array of {what}: {e}") from None
    if a.ndim == 0:  # a number, a set, a generator: not a sequence
        raise ArgumentTypeError(f"{name} must be a sequence or 1-D array of {what}, got {shown(values)}")
    if a.size and a.dtype.kind not in kinds:
        raise ArgumentTypeError(f"{name} must hold {what}, got {a.dtype} {a.shape}")
    if a.ndim != 1:
        raise InvalidArgumentError(f"{name} must be a 1-D sequence of {what}, got {a.dtype} {a.shape}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise InvalidArgumentError(f"{name} must hold finite numbers (no NaN or inf)")
    return a


def auroc(scores: Sequence[float] | np.ndarray, positive: Sequence[bool] | np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties counted half); None without both classes.

    Raises:
        TypeError: ``scores`` do not hold numbers (strings, objects, booleans) or ``positive`` neither booleans
            nor numbers (an :class:`~buddy_emotion.errors.ArgumentTypeError`).
        ValueError: NaN or inf in ``scores``, ``positive`` not 0/1, not 1-D, or their lengths differ.
    """
    s = _vector("scores", scores, "iuf").astype(np.float64)  # numbers, never bool (as everywhere)
    y = _vector("positive", positive, "biuf", "booleans (or 0/1)")
    if not np.isin(y, (0, 1)).all():
        raise InvalidArgumentError("positive must hold booleans (or 0/1)")
    y = y.astype(bool)
    if len(s) != len(y):
        raise InvalidArgumentError(f"scores and positive differ in length ({len(s)} and {len(y)})")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse.reshape(-1)]  # 1-based ranks, ties averaged
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def sad_bias_figures(probs: np.ndarray, true: np.ndarray, bias: float) -> dict[str, float]:
    """Accuracy, sad recall and sad precision once ``bias`` nats are added to the sadness log-probability.

    Args:
        probs: (N, 7) probabilities in FER-2013 order (the network's, without a class bias).
        true: (N,) FER-2013 class numbers.
        bias: a finite number of nats.

    Raises:
        TypeError: ``probs`` or ``true`` do not hold numbers (strings, objects, booleans, complex numbers).
        ValueError: wrong shapes, non-finite values, class numbers outside 0..6.
    """
    bias = number("bias", bias)
    if probs is None or isinstance(probs, (str, bytes, Mapping)):
        raise ArgumentTypeError(f"probs must be an (N, 7) array of probabilities, got {type(probs).__name__}")
    try:
        p = np.asarray(probs)
    except (TypeError, ValueError) as e:  # ragged
        raise InvalidArgumentError(f"probs must be an (N, 7) array of probabilities: {e}") from None
    if p.ndim == 0 or (p.size and p.dtype.kind not in "iuf"):  # strings, objects, bools, complex: not a cast
        raise ArgumentTypeError(f"probs must be an (N, 7) array of probabilities (numbers), got "
                                f"{shown(probs) if p.ndim == 0 else f'{p.dtype} {p.shape}'}")
    p = p.astype(np.float64)
    if p.ndim != 2 or p.shape[1] != len(FER2013_ORDER) or not np.isfinite(p).all():
        raise InvalidArgumentError(f"probs must be an (N, 7) array of finite probabilities, got shape {p.shape}")
    true = _vector("true", true, "iuf")
    if len(true) != len(p) or (len(true) and ((true < 0) | (true > 6) | (true != np.round(true))).any()):
        raise InvalidArgumentError(f"true must be {len(p)} FER-2013 class numbers 0..6 (one per row of probs)")
    sad = FER2013_ORDER.index(SADNESS)
    logp = np.log(np.clip(p, 1e-12, 1.0))
    logp[:, sad] += bias
    pred = logp.argmax(axis=1)
    said_sad, is_sad = pred == sad, true == sad
    return {"accuracy": float((pred == true).mean()) if len(true) else 0.0,
            "sad_recall": float(said_sad[is_sad].mean()) if is_sad.any() else 0.0,
            "sad_precision": float(is_sad[said_sad].mean()) if said_sad.any() else 0.0}


def classification_report(true: Sequence[str] | np.ndarray, scores: Sequence[Mapping[str, float] | None] | np.ndarray
                          ) -> dict[str, Any]:
    """Accuracy, macro F1, per-class figures, confusion and sadness AUROC.

    Args:
        true: canonical label names, or FER-2013 integers.
        scores: per image a mapping label -> probability (None when no face was found), or an (N,7) array
            of probabilities in FER-2013 order.

    Raises:
        TypeError, ValueError: unknown labels or class numbers, scores that are not finite numbers, an array
            of the wrong shape, or lengths that differ.
    """
    if true is None or isinstance(true, (str, bytes, Mapping)) or not isinstance(true, Iterable):
        raise ArgumentTypeError("true must be a sequence of labels or FER-2013 class numbers, got "
                                f"{type(true).__name__}")
    true_l = [_true_label(i, t) for i, t in enumerate(true)]
    if isinstance(scores, np.ndarray):
        if scores.size and scores.dtype.kind not in "iuf":  # strings, objects, bools: a wrong type
            raise ArgumentTypeError(f"a scores array must hold probabilities (numbers), got {scores.dtype} "
                                    f"{scores.shape}")
        if scores.ndim != 2 or scores.shape[1] != len(FER2013_ORDER):
            raise InvalidArgumentError("a scores array must be (N, 7) probabilities in FER-2013 order, got "
                                       f"{scores.dtype} {scores.shape}")
        if not np.isfinite(scores).all():
            raise InvalidArgumentError("scores must be finite numbers (no NaN or inf)")
        score_l: list[Mapping[str, float] | None] = [dict(zip(FER2013_ORDER, map(float, row))) for row in scores]
    elif scores is None or isinstance(scores, (str, bytes, Mapping)) or not isinstance(scores, Iterable):
        raise ArgumentTypeError(f"scores must be a sequence of mappings (or None) or an (N, 7) array, got "
                                f"{type(scores).__name__}")
    else:
        score_l = [_score_map(i, s) for i, s in enumerate(scores)]
    if len(true_l) != len(score_l):
        raise InvalidArgumentError("true labels and scores differ in length")
    pred = [max(s, key=s.__getitem__) if s else None for s in score_l]
    order = list(FER2013_ORDER)
    if "contempt" in true_l or "contempt" in pred:
        order.append("contempt")
    index = {lab: i for i, lab in enumerate(order)}
    conf = np.zeros((len(order), len(order)), dtype=np.int64)
    for t, p in zip(true_l, pred):
        if p is not None:
            conf[index[t], index[p]] += 1
    n = len(true_l)
    correct = sum(1 for t, p in zip(true_l, pred) if t == p)
    per_class: dict[str, dict[str, float | int]] = {}
    f1s = []
    for lab in order:
        i = index[lab]
        tp = int(conf[i, i])
        n_true = sum(1 for t in true_l if t == lab)
        n_pred = int(conf[:, i].sum())
        prec = tp / n_pred if n_pred else 0.0
        rec = tp / n_true if n_true else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_class[lab] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4), "n": n_true}
        if n_true:
            f1s.append(f1)
    sad_scores = [(s or {}).get(SADNESS, 0.0) for s in score_l]
    sad = auroc(sad_scores, [t == SADNESS for t in true_l])
    return {
        "n": n,
        "faces_found": round(sum(1 for s in score_l if s) / n, 4) if n else 0.0,
        "accuracy": round(correct / n, 4) if n else 0.0,
        "macro_f1": round(float(np.mean(f1s)), 4) if f1s else 0.0,
        "per_class": per_class,
        "confusion": conf.tolist(),
        "confusion_labels": order,
        "sad_auroc": round(sad, 4) if sad is not None else None,
    }


def _true_label(i: int, t: Any) -> str:
    if isinstance(t, str):
        if t not in EMOTIONS:
            raise InvalidArgumentError(f"true[{i}] must be a canonical emotion label ({', '.join(EMOTIONS)}) or a "
                                       f"FER-2013 class number, got {shown(t)} (normalize_label() maps other names)")
        return t
    return FER2013_ORDER[integer(f"true[{i}] (a FER-2013 class number)", t, 0, len(FER2013_ORDER) - 1)]


def _score_map(i: int, s: Any) -> Mapping[str, float] | None:
    if s is None:
        return None
    if not isinstance(s, Mapping):
        raise ArgumentTypeError(f"scores[{i}] must be a mapping label -> probability or None, got {type(s).__name__}")
    for label, value in s.items():
        if label not in EMOTIONS:
            raise InvalidArgumentError(f"scores[{i}]: unknown emotion label {label!r}; "
                                       f"expected one of {', '.join(EMOTIONS)}")
        number(f"scores[{i}][{label!r}]", value)
    return s


def _progress(total: int, desc: str, enabled: bool) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a core dependency
        return None
    return tqdm(total=total, desc=desc, unit="img", disable=not enabled, file=sys.stderr, leave=False)


def _iterate(data: LabelledImages) -> Iterator[tuple[int, np.ndarray | None, str | None]]:
    for i in range(len(data)):
        try:
            yield i, data.image(i), None
        except BuddyEmotionError as e:
            yield i, None, str(e)


def evaluate(backend: EmotionBackend, data: LabelledImages, *, cropped: bool = False,
             progress: bool = False) -> dict[str, Any]:
    """Run ``backend`` on every image and report (keys: n, faces_found, accuracy, macro_f1, per_class,
    confusion (rows true, columns predicted, FER order), sad_auroc, latency_ms {median, p95}).

    ``cropped``: images are face crops (``classify_faces``); otherwise the full pipeline runs (detect,
    classify the largest face) and an image with no face (or that cannot be read) counts as wrong.
    Images that cannot be read are counted in ``unreadable``, and the first errors (each naming its file)
    are quoted in ``unreadable_examples``. Latency is wall time per image in milliseconds, one image per call.

    Raises:
        TypeError: ``backend`` is not an emotion backend or ``data`` not :class:`LabelledImages`.
        ImageFileError: not one of the images could be read (a wrong folder, or a labels.csv of typos).
    """
    if not isinstance(backend, EmotionBackend):
        raise ArgumentTypeError(f"backend must be an EmotionBackend, got {type(backend).__name__}")
    if not isinstance(data, LabelledImages):
        raise ArgumentTypeError(f"data must be LabelledImages (see load_labelled), got {type(data).__name__}")
    scores: list[Mapping[str, float] | None] = []
    times: list[float] = []
    errors: list[str] = []
    cropped, progress = flag("cropped", cropped), flag("progress", progress)
    bar = _progress(len(data), "eval", progress)
    for _, image, err in _iterate(data):
        if image is None:
            scores.append(None)
            errors.append(err or "")
        else:
            t0 = time.perf_counter()
            if cropped:
                faces = backend.classify_faces([image])
            else:
                faces = sorted(backend.analyze(image), key=lambda f: f.box.area if f.box else 0, reverse=True)
            times.append((time.perf_counter() - t0) * 1000.0)
            scores.append(dict(faces[0].scores) if faces else None)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    report = classification_report(data.labels, scores)
    t = np.asarray(times) if times else np.zeros(1)
    report["latency_ms"] = {"median": round(float(np.median(t)), 3), "p95": round(float(np.percentile(t, 95)), 3)}
    report["backend"] = backend.name
    report["cropped"] = bool(cropped)
    if errors:
        if len(errors) == len(data):
            raise ImageFileError(f"none of the {len(data)} images could be read; the first: {errors[0]}")
        report["unreadable"] = len(errors)
        report["unreadable_examples"] = errors[:UNREADABLE_EXAMPLES]
    return report


def time_per_face(backend: EmotionBackend, n: int = 300, warmup: int = 20) -> tuple[float, float]:
    """Median and p95 milliseconds of ``classify_faces`` on one 48x48 crop (classification only).

    ``n`` (>= 1) timed calls follow ``warmup`` (>= 0) untimed ones.
    """
    if not isinstance(backend, EmotionBackend):
        raise ArgumentTypeError(f"backend must be an EmotionBackend, got {type(backend).__name__}")
    n = integer("n", n, 1)
    warmup = integer("warmup", warmup, 0)
    face = np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)
    for _ in range(warmup):
        backend.classify_faces([face])
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        backend.classify_faces([face])
        times.append((time.perf_counter() - t0) * 1000.0)
    return float(np.median(times)), float(np.percentile(times, 95))
