"""Faces partly outside the frame: PublicTest faces pasted so that a share of them lies past one edge.

Each 48x48 FER-2013 PublicTest face is upscaled to ``--side`` px and pasted into a 640x480 frame
(``synth.py``: plain or textured background, random lighting gain) against the left, right, top or
bottom edge, with 0, 15, 30 or 45% of its side outside the frame (0%: the face touches the edge). Per
face and edge the background, gain and place along the edge are drawn once, so the cut share is the
only thing that changes between rows. BlazeFace finds the largest face (a face not found counts as
wrong, and scores 0 for the sadness AUROC over all faces), and three crops of it are classified:

* ``box``: the FER-2013 crop around the reported box, which is clipped to the frame, padded by edge
  replication (what the ``keras`` backend did before it used ``detect_extents``);
* ``ext/edge``: the crop around the detector's unclipped estimate of the whole face (``detect_extents``),
  padded by edge replication;
* ``backend``: what ``KerasBackend.analyze`` does now: ``box``, but the crop around the whole-face
  estimate padded with the mean grey (``pad="mean"``) when at least a tenth of the face is outside.

    python benchmarks/bench_edge.py --data ../shared/data/fer2013/fer2013_dev.npz --limit 600

The table gives the share of faces found, the share the backend cropped around the whole-face estimate
(``ext``), and accuracy and sadness AUROC over the faces found (all three crops see the same
detections); ``--json`` adds both over all faces. Nothing is written to disk; the FER-2013 images are
read at run time only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cli import DEFAULT_DATA, at_least, face_side, run  # noqa: E402
from synth import H, W, background, paste  # noqa: E402

from buddy_emotion.backends.keras import _CUT_FACE, KerasBackend  # noqa: E402
from buddy_emotion.evaluation import classification_report, load_labelled  # noqa: E402
from buddy_emotion.face_detection import crop_face  # noqa: E402
from buddy_emotion.frames import to_gray  # noqa: E402

EDGES = ("left", "right", "top", "bottom")
CROPS = ("box", "ext/edge", "backend")


def cut_share(text: str) -> int:
    """An argparse ``type``: the share of the face outside the frame, in percent (0-99)."""
    value = int(at_least(0)(text))
    if value > 99:
        raise argparse.ArgumentTypeError(f"a share of the face must stay inside the frame (0-99%), got {value}")
    return value


def corner(edge: str, cut: int, side: int, along: float) -> tuple[int, int]:
    """Top-left corner of a ``side`` px face with ``cut`` % of its side past ``edge``; ``along`` (0..1) places
    it along that edge."""
    out = round(cut / 100 * side)
    x, y = round(along * (W - side)), round(along * (H - side))
    return {"left": (-out, y), "right": (W - side + out, y), "top": (x, -out), "bottom": (x, H - side + out)}[edge]


def _f3(value: object) -> str:
    return "-" if value is None else f"{value:.3f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="fer2013_dev.npz (default: %(default)s)")
    ap.add_argument("--limit", type=at_least(1), default=600, help="PublicTest faces (default: %(default)s)")
    ap.add_argument("--start", type=at_least(0), default=0, help="first PublicTest face used (default: 0)")
    ap.add_argument("--side", type=face_side, default=160, help="face side in px (default: %(default)s)")
    ap.add_argument("--cuts", type=cut_share, nargs="+", default=[0, 15, 30, 45],
                    help="shares of the face side outside the frame, in %% (default: %(default)s)")
    ap.add_argument("--background", choices=["plain", "textured"], default="plain",
                    help="synthetic background (synth.py; default: plain)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the backgrounds and placements (default: 0)")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = ap.parse_args()

    data = load_labelled(args.data, split="PublicTest", limit=args.start + args.limit)
    faces = [data.image(i) for i in range(args.start, len(data))]
    labels = list(data.labels)[args.start:]
    backend = KerasBackend()
    detector, scale, shift = backend.detector, backend.crop_scale, backend.crop_shift
    ref = classification_report(labels, [dict(f.scores) for f in backend.classify_faces(faces)])
    # per (cut, edge), per face: the backend's scores (None: no face), and the other two crops of the same face
    scores: dict[tuple[int, str], list[dict[str, float] | None]] = {}
    crops: dict[tuple[int, str], list[tuple[np.ndarray, np.ndarray] | None]] = {}
    cut_faces: dict[tuple[int, str], int] = {}  # faces the backend cropped around their whole-face estimate
    rng = np.random.default_rng(args.seed)
    for i, face in enumerate(faces):
        for edge in EDGES:
            bg, gain, along = background(rng, args.background), rng.uniform(0.6, 1.3), rng.uniform()
            for cut in args.cuts:
                frame = paste(bg.copy(), face, args.side, *corner(edge, cut, args.side, along), gain)
                found, gray = backend.analyze(frame), to_gray(frame)
                pairs = detector.detect_extents(gray)  # the same detection, with the whole-face estimate
                if bool(found) != bool(pairs) or (found and found[0].box != pairs[0][0]):
                    raise RuntimeError("analyze and detect_extents disagree on a frame")
                scores.setdefault((cut, edge), []).append(dict(found[0].scores) if found else None)
                cut_faces[(cut, edge)] = cut_faces.get((cut, edge), 0) + bool(
                    pairs and pairs[0][0].area <= (1 - _CUT_FACE) * pairs[0][1].area)
                crops.setdefault((cut, edge), []).append(
                    (crop_face(gray, pairs[0][0], scale=scale, shift=shift),
                     crop_face(gray, pairs[0][1], scale=scale, shift=shift)) if pairs else None)
        if (i + 1) % 100 == 0:
            print(f"  {i + 1} faces", file=sys.stderr)
    by_crop: dict[str, dict[tuple[int, str], list[dict[str, float] | None]]] = {"backend": scores}
    for j, name in enumerate(CROPS[:2]):
        by_crop[name] = {}
        for key, pairs_ in crops.items():
            got = iter(backend.classify_faces([p[j] for p in pairs_ if p is not None]))
            by_crop[name][key] = [dict(next(got).scores) if p is not None else None for p in pairs_]
    rows = []
    for cut in args.cuts:
        for edge in ("all", *EDGES):
            keys = EDGES if edge == "all" else (edge,)
            row: dict[str, object] = {"cut": cut, "edge": edge}
            for name in CROPS:
                got = [s for e in keys for s in by_crop[name][(cut, e)]]
                truth = labels * len(keys)
                rep = classification_report(truth, got)
                hit = [k for k, s in enumerate(got) if s is not None]
                seen = classification_report([truth[k] for k in hit], [got[k] for k in hit]) if hit else None
                row["found"] = rep["faces_found"]
                row["cut_found"] = sum(cut_faces[(cut, e)] for e in keys) / len(truth)
                row[name] = {"accuracy": rep["accuracy"], "sad_auroc": rep["sad_auroc"],
                             "accuracy_found": seen["accuracy"] if seen else None,
                             "sad_auroc_found": seen["sad_auroc"] if seen else None}
            rows.append(row)
    if args.json:
        print(json.dumps({"ready_crops": {"accuracy": ref["accuracy"], "sad_auroc": ref["sad_auroc"]},
                          "faces": len(faces), "start": args.start, "side": args.side,
                          "background": args.background, "rows": rows}))
        return 0
    print(f"PublicTest faces {args.start}-{args.start + len(faces) - 1} at {args.side} px, {args.background} "
          f"background; as ready 48x48 crops: accuracy {ref['accuracy']:.3f}, sad AUROC {ref['sad_auroc']:.3f}")
    print(f"{'':<26} {'accuracy of the faces found':^27} {'sad AUROC of the faces found':^29}")
    print(f"{'cut':>4} {'edge':<7} {'found':>6} {'ext':>6}" + "".join(f" {c:>8}" for c in CROPS) + " "
          + "".join(f" {c:>8}" for c in CROPS))
    for r in rows:
        acc = "".join(f" {_f3(r[c]['accuracy_found']):>8}" for c in CROPS)  # type: ignore[index]
        auc = "".join(f" {_f3(r[c]['sad_auroc_found']):>8}" for c in CROPS)  # type: ignore[index]
        print(f"{r['cut']:>3}% {r['edge']:<7} {r['found']:>6.3f} {r['cut_found']:>6.3f}{acc} {auc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
