"""Train the ``dlib`` backend's expression classifier on FER-2013 landmarks (numpy only; needs the ``dlib`` extra).

Pipeline per 48x48 crop: upscale to 192 px (bicubic), run dlib's 68-point shape predictor with the fixed
registered-crop rectangle (:data:`buddy_emotion.landmarks.REGISTERED_RECT`; HOG detection mostly fails on
such small, tight crops), check the fit (:func:`buddy_emotion.landmarks.plausible`), and build
:func:`buddy_emotion.landmarks.expression_features` (geometry + HOG of the aligned face) for the face and
its mirror image. A one-hidden-layer MLP (ReLU, softmax) is trained with Adam in numpy on Training (mirror
images added), with class weights; the epoch and configuration are selected on PublicTest, scored with the
mirror average used at inference. Implausible fits are left out of training; in evaluation they get the
class prior, as the backend does.

Landmarks are cached in ``runs/dlib_features/`` (gitignored), so reruns take seconds.

    python -m buddy_emotion.training.dlib_features --data ../shared/data/fer2013/fer2013_dev.npz \\
        --out src/buddy_emotion/models/
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from buddy_emotion import landmarks as L
from buddy_emotion.backends.dlib import predict_proba
from buddy_emotion.labels import FER2013_ORDER

UPSCALE = 192
SEED = 20240604
MODEL_NAME = "dlib_expression"


def _cache_key(data: Path) -> str:
    st = data.stat()
    h = hashlib.sha1(f"{data.resolve()}|{st.st_size}|{int(st.st_mtime)}|{UPSCALE}|{L.REGISTERED_RECT}|v1".encode())
    return h.hexdigest()[:12]


def extract_landmarks(images: np.ndarray, *, detect: bool = True, progress: bool = True) -> dict[str, np.ndarray]:
    """68 landmarks (in pixels of the original crops) of each crop, with the fit check and, if ``detect``,
    whether dlib's HOG detector finds a face on the upscaled crop padded by a quarter on each side."""
    import cv2
    import dlib
    from tqdm import tqdm

    pred = dlib.shape_predictor(str(L.predictor_path(68)))
    det = dlib.get_frontal_face_detector() if detect else None
    n = len(images)
    pts = np.zeros((n, 68, 2), np.float32)
    ok = np.zeros(n, bool)
    found = np.zeros(n, bool)
    rect = dlib.rectangle(*L.crop_rect(UPSCALE, UPSCALE))
    pad = UPSCALE // 4
    for i in tqdm(range(n), desc="landmarks", unit="face", disable=not progress, file=sys.stderr, mininterval=2):
        im = images[i]
        h, w = im.shape[:2]
        up = cv2.resize(im, (UPSCALE, UPSCALE), interpolation=cv2.INTER_CUBIC)
        p = L.shape_to_array(pred(up, rect))
        ok[i] = L.plausible(p, UPSCALE, UPSCALE)
        pts[i] = p * np.array([w / UPSCALE, h / UPSCALE])
        if det is not None:
            padded = cv2.copyMakeBorder(up, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            found[i] = len(det(padded, 0)) > 0
    return {"points": pts, "plausible": ok, "hog_found": found}


def build_features(images: np.ndarray, points: np.ndarray, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Feature matrices of the faces and of their mirror images."""
    from tqdm import tqdm

    n = len(images)
    a = np.zeros((n, 136 + len(L.GEOMETRY_NAMES) + L.N_APPEARANCE), np.float32)
    b = np.zeros_like(a)
    for i in tqdm(range(n), desc="features", unit="face", disable=not progress, file=sys.stderr, mininterval=2):
        a[i] = L.expression_features(images[i], points[i])
        b[i] = L.expression_features(images[i], points[i], mirror=True)
    return a, b


# -- numpy MLP ------------------------------------------------------------------------------------------


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, classes) logits."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def forward(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """(N, 7) class probabilities of features ``x``: the backend's own :func:`predict_proba`, so the epoch is
    selected and scored with exactly the arithmetic used at inference."""
    return predict_proba(params, x)


def train_mlp(x: np.ndarray, y: np.ndarray, xv: np.ndarray, xv_m: np.ndarray, yv: np.ndarray, *, hidden: int,
              epochs: int, lr: float, wd: float, dropout: float, batch: int, class_power: float, seed: int,
              log: Any = print) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Train the expression MLP (``hidden`` 0: a linear softmax) with Adam on features ``x``, labels ``y``.

    ``x`` is standardised here (its mean and scale go into the parameters). ``xv``/``xv_m`` are the validation
    features and their mirror images, ``yv`` their labels; returns the parameters of the best validation
    epoch and that epoch's figures.
    """
    rng = np.random.default_rng(seed)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    xs = ((x - mean) / scale).astype(np.float32)
    counts = np.bincount(y, minlength=7).astype(np.float64)
    cw = (counts.max() / counts) ** class_power
    cw = (cw / (cw[y].mean())).astype(np.float32)
    d = x.shape[1]
    shapes: dict[str, tuple[int, ...]] = {}
    if hidden:
        shapes = {"w1": (d, hidden), "b1": (hidden,), "w2": (hidden, 7), "b2": (7,)}
    else:
        shapes = {"w2": (d, 7), "b2": (7,)}
    p: dict[str, np.ndarray] = {}
    for k, s in shapes.items():
        p[k] = (rng.normal(0, np.sqrt(2.0 / s[0]), s).astype(np.float32) if len(s) == 2 else np.zeros(s, np.float32))
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}
    b1, b2, eps = 0.9, 0.999, 1e-8
    step = 0
    best: dict[str, Any] = {"acc": -1.0}
    n = len(xs)
    for ep in range(epochs):
        lr_ep = lr * 0.5 * (1 + np.cos(np.pi * ep / epochs))
        order = rng.permutation(n)
        for s0 in range(0, n, batch):
            idx = order[s0:s0 + batch]
            xb, yb, wb = xs[idx], y[idx], cw[y[idx]]
            if hidden:
                h = np.maximum(xb @ p["w1"] + p["b1"], 0.0)
                if dropout:
                    mask = (rng.random(h.shape) >= dropout).astype(np.float32) / (1 - dropout)
                    h = h * mask
                out = softmax(h @ p["w2"] + p["b2"])
            else:
                out = softmax(xb @ p["w2"] + p["b2"])
            g = out
            g[np.arange(len(idx)), yb] -= 1.0
            g *= (wb / len(idx))[:, None]
            grads: dict[str, np.ndarray] = {}
            if hidden:
                grads["w2"] = h.T @ g
                grads["b2"] = g.sum(0)
                gh = g @ p["w2"].T
                gh *= (h > 0)
                if dropout:
                    gh *= mask
                grads["w1"] = xb.T @ gh
                grads["b1"] = gh.sum(0)
            else:
                grads["w2"] = xb.T @ g
                grads["b2"] = g.sum(0)
            step += 1
            for k in p:
                gk = grads[k] + (wd * p[k] if p[k].ndim == 2 else 0.0)
                m[k] = b1 * m[k] + (1 - b1) * gk
                v2[k] = b2 * v2[k] + (1 - b2) * gk * gk
                mh = m[k] / (1 - b1 ** step)
                vh = v2[k] / (1 - b2 ** step)
                p[k] -= (lr_ep * mh / (np.sqrt(vh) + eps)).astype(np.float32)
        full = {**p, "mean": mean.astype(np.float32), "scale": scale.astype(np.float32)}
        pv = (forward(full, xv) + forward(full, xv_m)) / 2.0
        acc = float((pv.argmax(1) == yv).mean())
        log(f"  epoch {ep + 1:2d}/{epochs} lr {lr_ep:.2e} PublicTest acc {acc:.4f}")
        if acc > best["acc"]:
            best = {"acc": acc, "epoch": ep + 1, "params": {k: v.copy() for k, v in full.items()}}
    return best["params"], {"acc": best["acc"], "epoch": best["epoch"]}


def _report(probs: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    from buddy_emotion.evaluation import classification_report

    r = classification_report(list(y), probs)
    return {k: r[k] for k in ("accuracy", "macro_f1", "sad_auroc", "per_class", "confusion")}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m buddy_emotion.training.dlib_features",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="../shared/data/fer2013/fer2013_dev.npz")
    ap.add_argument("--out", default="src/buddy_emotion/models/")
    ap.add_argument("--cache", default="runs/dlib_features")
    ap.add_argument("--limit", type=int, default=0, help="use a stratified subsample of this many Training rows")
    ap.add_argument("--hidden", type=int, nargs="+", default=[256], help="hidden sizes to try (0: logistic)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=1e-3)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--class-power", type=float, default=0.5, help="class weight = (n_max / n_c) ** power")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--no-progress", action="store_true")
    return ap.parse_args(argv)


def _cached_landmarks(images: np.ndarray, data: Path, cache: Path, progress: bool) -> dict[str, np.ndarray]:
    """:func:`extract_landmarks` of every crop, from ``cache`` when it holds them for this ``data`` file
    (with ``seconds``, the time the extraction took, when it ran)."""
    lm_file = cache / f"landmarks_{_cache_key(data)}.npz"
    if lm_file.is_file():
        with np.load(lm_file, allow_pickle=False) as c:
            lm = {k: c[k] for k in c.files}
        print(f"landmarks from cache {lm_file}")
        return lm
    t0 = time.time()
    lm = extract_landmarks(images, progress=progress)
    lm["seconds"] = np.array(time.time() - t0)
    np.savez_compressed(lm_file, **lm)  # type: ignore[arg-type]  # numpy's stub misreads **kwds
    print(f"landmarks of {len(images)} crops in {float(lm['seconds']):.0f} s -> {lm_file}")
    return lm


def _training_rows(usage: np.ndarray, labels: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """Indices of the Training rows; with ``limit``, a stratified subsample of about that many (sorted)."""
    tr = np.flatnonzero(usage == "Training")
    if not limit or limit >= len(tr):
        return tr
    rng = np.random.default_rng(seed)
    keep = []
    for c in range(7):
        idx = tr[labels[tr] == c]
        k = max(1, round(limit * len(idx) / len(tr)))
        keep.append(rng.choice(idx, size=min(k, len(idx)), replace=False))
    return np.sort(np.concatenate(keep))


def _fit_failures(lm: dict[str, np.ndarray], tr: np.ndarray, te: np.ndarray) -> dict[str, dict[str, int]]:
    """Per split: crops, implausible landmark fits, and crops dlib's HOG detector missed."""
    return {s: {"crops": int(len(ix)), "implausible_fit": int((~lm["plausible"][ix]).sum()),
                "hog_detector_missed": int((~lm["hog_found"][ix]).sum())}
            for s, ix in (("Training", tr), ("PublicTest", te))}


def _eye_template(points: np.ndarray) -> dict[str, float]:
    """Mean eye height and inter-ocular distance (fractions of the 48-px crop) of 68-point fits."""
    ab = points.astype(np.float64) / 48.0
    le, re = ab[:, 36:42].mean(1), ab[:, 42:48].mean(1)
    return {"eye_y": round(float(((le + re) / 2)[:, 1].mean()), 4),
            "iod": round(float(np.linalg.norm(re - le, axis=1).mean()), 4)}


def _cached_features(images: np.ndarray, points: np.ndarray, data: Path, cache: Path,
                     progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`build_features` of every crop, from ``cache`` when it holds them for this data file and these
    feature settings."""
    tpl = f"{L.ALIGN_TEMPLATE['eye_y']}_{L.ALIGN_TEMPLATE['iod']}"
    feat_file = cache / f"features_{_cache_key(data)}_{L.N_APPEARANCE}_{len(L.GEOMETRY_NAMES)}_{tpl}.npz"
    if feat_file.is_file():
        with np.load(feat_file, allow_pickle=False) as c:
            fa, fb = c["a"], c["b"]
        print(f"features from cache {feat_file}")
        return fa, fb
    fa, fb = build_features(images, points.astype(np.float64), progress=progress)
    np.savez(feat_file, a=fa, b=fb)
    return fa, fb


def _select(args: argparse.Namespace, x: np.ndarray, y: np.ndarray, xv: np.ndarray, xv_m: np.ndarray,
            yv: np.ndarray, faces: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Train one MLP per ``--hidden`` size; the best on PublicTest (with its ``params`` and ``hidden``) and
    every trial's figures."""
    best: dict[str, Any] = {"acc": -1.0}
    trials = []
    for hidden in args.hidden:
        print(f"training hidden={hidden} on {len(x)} vectors ({faces} faces + mirrors), {x.shape[1]} features")
        params, info = train_mlp(x, y, xv, xv_m, yv, hidden=hidden, epochs=args.epochs, lr=args.lr, wd=args.wd,
                                 dropout=args.dropout if hidden else 0.0, batch=256, class_power=args.class_power,
                                 seed=args.seed)
        trials.append({"hidden": hidden, **info})
        if info["acc"] > best["acc"]:
            best = {**info, "hidden": hidden, "params": params}
    return best, trials


def _save_model(out: Path, params: dict[str, np.ndarray], prior: np.ndarray) -> dict[str, np.ndarray]:
    """Write the classifier's arrays (and the class prior) to ``out``/dlib_expression.npz; returns them."""
    out.mkdir(parents=True, exist_ok=True)
    # the big hidden-layer matrix in float16 halves the file (3.7 -> 1.8 MB); on PublicTest the
    # probabilities move by at most 1e-4 and no label changes (the card's figures hold for both)
    arrays = {k: v.astype(np.float16 if k == "w1" else np.float32) for k, v in params.items()}
    arrays["prior"] = prior.astype(np.float32)
    np.savez_compressed(out / f"{MODEL_NAME}.npz", **arrays)  # type: ignore[arg-type]  # as above
    return arrays


def _model_card(args: argparse.Namespace, best: dict[str, Any], trials: list[dict[str, Any]],
                arrays: dict[str, np.ndarray], *, n_features: int, n_training: int, template: dict[str, float],
                fails: dict[str, dict[str, int]], landmark_seconds: float, report: dict[str, Any],
                t_start: float) -> dict[str, Any]:
    """The model card written next to the arrays (dlib_expression.json)."""
    return {
        "name": MODEL_NAME,
        "backend": "dlib",
        "format": ("npz arrays (allow_pickle=False; w1 stored in float16, the rest in float32, all widened to float32 "
                   "on load) + this JSON; pure-numpy inference in buddy_emotion.backends.dlib"),
        "labels": list(FER2013_ORDER),
        "arrays": {k: list(v.shape) for k, v in arrays.items()},
        "architecture": (f"standardise (x - mean) / scale, dense {best['hidden']} ReLU, dense 7 softmax"
                         if best["hidden"]
                         else "standardise (x - mean) / scale, dense 7 softmax (logistic regression)"),
        "features": {
            "count": n_features,
            "geometry": {"normalised_points": 136, "named": list(L.GEOMETRY_NAMES),
                         "normalisation": "origin at eye mid-point, eye line on +x, unit = inter-ocular distance"},
            "appearance": {"count": L.N_APPEARANCE,
                           "hog": ("cv2.HOGDescriptor on the aligned face resized 48->64: block 16, stride 8, "
                                   "cell 8, 9 bins"),
                           "alignment": {"size": 48, **L.ALIGN_TEMPLATE}},
            "test_time_mirror": True,
        },
        "landmarks": {"predictor": "shape_predictor_68_face_landmarks.dat (face-recognition-models 0.3)",
                      "crops": f"upscaled to {UPSCALE} px (bicubic), face rectangle = registered rect "
                               f"{list(L.REGISTERED_RECT)} (fractions l,t,r,b)",
                      "eye_template_measured": template},
        "training": {
            "command": ("python -m buddy_emotion.training.dlib_features --data ../shared/data/fer2013/fer2013_dev.npz "
                        "--out src/buddy_emotion/models/" + (f" --limit {args.limit}" if args.limit else "")
                        + f" --hidden {' '.join(map(str, args.hidden))} --epochs {args.epochs}"),
            "data": "FER-2013 Training (fer2013_dev.npz), mirror images added"
                    + (f"; stratified subsample of {n_training} rows" if args.limit else ""),
            "selection": "hidden size and epoch with the best PublicTest accuracy (mirror-averaged)",
            "seed": args.seed, "epochs": args.epochs, "lr": args.lr, "weight_decay": args.wd,
            "dropout": args.dropout, "class_weight": f"(n_max / n_c) ** {args.class_power}",
            "trials": trials, "best_epoch": best["epoch"], "hidden": best["hidden"],
            "seconds": round(time.time() - t_start, 1),
            "landmark_seconds": landmark_seconds,
        },
        "fit_failures": {**fails, "handling": "implausible fits are left out of training; at inference they get "
                                              "the class prior (counted as wrong unless the prior's argmax is right)",
                         "hog_detector_note": "dlib's HOG detector on the upscaled crop padded by a quarter side; "
                                              "not used for crops, reported for reference"},
        "publictest": report,
    }


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    progress = not args.no_progress
    t_start = time.time()
    data = Path(args.data)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    with np.load(data, allow_pickle=False) as d:
        images, labels, usage = d["images"], d["labels"].astype(np.int64), d["usage"]
    lm = _cached_landmarks(images, data, cache, progress)
    tr = _training_rows(usage, labels, args.limit, args.seed)
    te = np.flatnonzero(usage == "PublicTest")
    fails = _fit_failures(lm, tr, te)
    print("fit failures:", json.dumps(fails))
    template = _eye_template(lm["points"][tr][lm["plausible"][tr]])
    print("eye template on Training crops:", template, "(landmarks.ALIGN_TEMPLATE:", L.ALIGN_TEMPLATE, ")")
    fa, fb = _cached_features(images, lm["points"], data, cache, progress)

    # train on the plausible Training fits and their mirror images; select on PublicTest, mirror-averaged
    tr_ok = tr[lm["plausible"][tr]]
    x = np.concatenate([fa[tr_ok], fb[tr_ok]])
    y = np.concatenate([labels[tr_ok], labels[tr_ok]])
    xv, xv_m, yv = fa[te], fb[te], labels[te]
    prior = np.bincount(labels[tr], minlength=7) / len(tr)
    best, trials = _select(args, x, y, xv, xv_m, yv, faces=len(tr_ok))
    pv = (forward(best["params"], xv) + forward(best["params"], xv_m)) / 2.0
    pv[~lm["plausible"][te]] = prior  # as the backend does for a failed fit
    report = _report(pv, yv)
    print(json.dumps({k: report[k] for k in ("accuracy", "macro_f1", "sad_auroc")}))

    out = Path(args.out)
    arrays = _save_model(out, best["params"], prior)
    card = _model_card(args, best, trials, arrays, n_features=int(x.shape[1]), n_training=len(tr),
                       template=template, fails=fails,
                       landmark_seconds=float(lm.get("seconds", np.array(np.nan))), report=report, t_start=t_start)
    (out / f"{MODEL_NAME}.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out / (MODEL_NAME + '.npz')} and .json in {time.time() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
