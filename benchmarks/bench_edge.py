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

``--backend dlib`` measures the ``dlib`` backend instead (HOG finds the face, 68 landmarks are fitted in
its rectangle; a fit that fails the sanity check is no face, as in ``analyze``): ``box`` fits them in the
HOG rectangle clipped to the frame (what the backend did before), ``backend`` in the rectangle before
clipping (what ``DlibBackend.analyze`` does now); ``ext`` is the share whose rectangle reaches past the
frame, and ``found`` the share the backend finds (the two fits can pass the check on different faces;
``--json`` gives ``found`` per crop). ``--cuts 0 15 30`` suits it (HOG finds almost no face with 45%
outside).

    python benchmarks/bench_edge.py --backend dlib --cuts 0 15 30 --limit 600

``--video`` measures video mode (``BlazeFaceDetector(track=True)``, which searches a region around the
last face first) on faces that move out of the frame and back: per face and edge, 31 frames in which
the face goes from 30% of its side inside the frame to 45% outside in steps of 5% and back; and the same
moves 50% of the side further in (``inside``: the face never reaches the edge), for the cost of a face in
view. Three detectors see the same frames: ``track=False`` (a whole-frame search per frame),
``track=True``, and ``track=True`` with the region built around the last face's unclipped extent instead
of its clipped box (measured, not kept). Per detector: the share of frames with the face found, the
whole-frame searches per frame (at least 1/5 in video mode: ``refresh_every=5``), accuracy and sadness
AUROC of the ``keras`` backend's crop over the frames found, and the share found with 30, 35 and 40% of
the face outside on the way out and on the way back (``--cuts`` does not apply).

    python benchmarks/bench_edge.py --video --limit 300
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
from buddy_emotion.face_detection.blazeface import BlazeFaceDetector  # noqa: E402
from buddy_emotion.frames import to_gray  # noqa: E402
from buddy_emotion.types import FaceBox  # noqa: E402

EDGES = ("left", "right", "top", "bottom")
CROPS = ("box", "ext/edge", "backend")
DLIB_CROPS = ("box", "backend")
VIDEO_PATH = (*range(-30, 45, 5), *range(45, -31, -5))
"""Share of the face's side outside the frame per video frame, in % (negative: inside, that far from the edge)."""
INSIDE = 50
"""``--video``: the inside moves are the same, this many % of the face's side further in."""
MARKS = (30, 35, 40)
"""``--video``: cuts (%) at which the share found is shown, on the way out and on the way back."""
Scores = dict[str, float] | None


class ExtentRegion(BlazeFaceDetector):
    """Video mode with the search region built around the last face's unclipped extent, not its clipped box
    (measured against the library's ``track=True``, not kept)."""

    def _faces(self, image: np.ndarray) -> list[tuple[FaceBox, FaceBox, float]]:
        found = super()._faces(image)
        if found and self._last is not None:
            self._last = (found[0][1], self._last[1])
        return found


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


def _classify(backend: KerasBackend, crops: list[np.ndarray]) -> list[dict[str, float]]:
    """``classify_faces`` in batches of 500 (LiteRT fails to resize to tens of thousands of faces at once)."""
    return [dict(f.scores) for k in range(0, len(crops), 500) for f in backend.classify_faces(crops[k:k + 500])]


def _report(truth: list[int], got: list[Scores]) -> tuple[dict, dict | None]:
    """classification_report over all faces (a face not found counts as wrong) and over the faces found."""
    hit = [k for k, g in enumerate(got) if g is not None]
    seen = classification_report([truth[k] for k in hit], [got[k] for k in hit]) if hit else None
    return classification_report(truth, got), seen


def stills_keras(args: argparse.Namespace, faces: list[np.ndarray], labels: list[int]) -> tuple[dict, dict, dict]:
    """The keras backend per cut and edge: scores of its three crops (``CROPS``), how many faces it cropped
    around their whole-face estimate, and the report on the ready 48x48 crops."""
    backend = KerasBackend()
    detector, scale, shift = backend.detector, backend.crop_scale, backend.crop_shift
    ref = classification_report(labels, [dict(f.scores) for f in backend.classify_faces(faces)])
    # per (cut, edge), per face: the backend's scores (None: no face), and the other two crops of the same face
    scores: dict[tuple[int, str], list[Scores]] = {}
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
    by_crop: dict[str, dict[tuple[int, str], list[Scores]]] = {"backend": scores}
    for j, name in enumerate(CROPS[:2]):
        by_crop[name] = {}
        for key, pairs_ in crops.items():
            got = iter(backend.classify_faces([p[j] for p in pairs_ if p is not None]))
            by_crop[name][key] = [dict(next(got).scores) if p is not None else None for p in pairs_]
    return by_crop, cut_faces, ref


def stills_dlib(args: argparse.Namespace, faces: list[np.ndarray], labels: list[int]) -> tuple[dict, dict, dict]:
    """The dlib backend per cut and edge: scores of the landmarks fitted in the clipped HOG box (``box``) and
    in HOG's rectangle before clipping (``backend``); a fit that fails the check is no face, as in ``analyze``.
    Also: per cut and edge, how many largest faces had a rectangle past the frame, and the ready-crop report."""
    from buddy_emotion.backends.dlib import DlibBackend

    backend = DlibBackend()
    ref = classification_report(labels, [dict(f.scores) for f in backend.classify_faces(faces)])
    by_crop: dict[str, dict[tuple[int, str], list[Scores]]] = {name: {} for name in DLIB_CROPS}
    cut_faces: dict[tuple[int, str], int] = {}
    rng = np.random.default_rng(args.seed)
    for i, face in enumerate(faces):
        for edge in EDGES:
            bg, gain, along = background(rng, args.background), rng.uniform(0.6, 1.3), rng.uniform()
            for cut in args.cuts:
                gray = to_gray(paste(bg.copy(), face, args.side, *corner(edge, cut, args.side, along), gain))
                pairs = backend.detect_extents(gray)
                for j, name in enumerate(DLIB_CROPS):  # the largest face whose fit passes the check
                    p = next((q for q in (backend._fit(gray, pair[j]) for pair in pairs) if q is not None), None)
                    by_crop[name].setdefault((cut, edge), []).append(
                        None if p is None else dict(backend._emotion(p, None).scores))
                cut_faces[(cut, edge)] = cut_faces.get((cut, edge), 0) + bool(pairs and pairs[0][0] != pairs[0][1])
        if (i + 1) % 100 == 0:
            print(f"  {i + 1} faces", file=sys.stderr)
    return by_crop, cut_faces, ref


def video(args: argparse.Namespace, faces: list[np.ndarray], labels: list[int]) -> int:
    """``--video``: three detectors on faces that move out of the frame and back (see the module doc)."""
    backend = KerasBackend()
    detectors = {"track=False": BlazeFaceDetector(), "track=True": BlazeFaceDetector(track=True),
                 "track, extent": ExtentRegion(track=True)}
    paths = {"edge": [c for c in VIDEO_PATH], "inside": [c - INSIDE for c in VIDEO_PATH]}
    # per (path, detector): found per frame, crops and labels of the frames found, whole-frame searches
    found: dict[tuple[str, str], list[bool]] = {}
    crops: dict[tuple[str, str], list[np.ndarray]] = {}
    truth: dict[tuple[str, str], list[int]] = {}
    searches: dict[tuple[str, str], int] = {}
    rng = np.random.default_rng(args.seed)
    for i, face in enumerate(faces):
        for edge in EDGES:
            bg, gain, along = background(rng, args.background), rng.uniform(0.6, 1.3), rng.uniform()
            for path, cuts in paths.items():
                frames = [to_gray(paste(bg.copy(), face, args.side, *corner(edge, c, args.side, along), gain))
                          for c in cuts]
                for name, det in detectors.items():
                    key = (path, name)
                    det.reset()
                    before = det.full_searches
                    for gray in frames:
                        pairs = det.detect_extents(gray)
                        found.setdefault(key, []).append(bool(pairs))
                        if pairs:
                            crops.setdefault(key, []).append(backend._face_crop(gray, *pairs[0]))
                            truth.setdefault(key, []).append(labels[i])
                    searches[key] = searches.get(key, 0) + det.full_searches - before
        if (i + 1) % 50 == 0:
            print(f"  {i + 1} faces", file=sys.stderr)
    n = len(VIDEO_PATH)
    turn = VIDEO_PATH.index(max(VIDEO_PATH))
    rows = []
    for key, hits in found.items():
        per_frame = np.array(hits).reshape(-1, n).mean(axis=0)
        rep = classification_report(truth[key], _classify(backend, crops[key])) if key in crops else None
        rows.append({"path": key[0], "detector": key[1], "frames": len(hits), "found": float(np.mean(hits)),
                     "full_per_frame": searches[key] / len(hits),
                     "accuracy_found": rep["accuracy"] if rep else None,
                     "sad_auroc_found": rep["sad_auroc"] if rep else None,
                     "found_out": [float(per_frame[VIDEO_PATH.index(c)]) for c in MARKS],
                     "found_back": [float(per_frame[turn + VIDEO_PATH[turn:].index(c)]) for c in MARKS[::-1]]})
    ref = {name: np.array(found[("edge", name)]) for name in detectors}
    only = {f"{a} not {b}": int((ref[a] & ~ref[b]).sum()) for a in detectors for b in detectors if a != b}
    if args.json:
        print(json.dumps({"faces": len(faces), "start": args.start, "side": args.side, "background": args.background,
                          "path": list(VIDEO_PATH), "inside_shift": INSIDE, "rows": rows, "edge_found_only": only}))
        return 0
    print(f"PublicTest faces {args.start}-{args.start + len(faces) - 1} at {args.side} px, {args.background} "
          f"background: {len(faces) * len(EDGES)} moves of {n} frames per path and detector")
    marks = "/".join(map(str, MARKS))
    print(f"{'path':<7} {'detector':<14} {'found':>6} {'full/frame':>10} {'accuracy':>9} {'sad AUROC':>9}   "
          f"found at {marks}% out | back")
    for r in rows:
        out = " ".join(f"{v:.3f}" for v in r["found_out"])  # type: ignore[attr-defined]
        back = " ".join(f"{v:.3f}" for v in r["found_back"])  # type: ignore[attr-defined]
        print(f"{r['path']:<7} {r['detector']:<14} {r['found']:>6.3f} {r['full_per_frame']:>10.3f} "
              f"{_f3(r['accuracy_found']):>9} {_f3(r['sad_auroc_found']):>9}   {out} | {back}")
    print("frames of the edge path found by one detector and not the other: "
          + ", ".join(f"{k} {v}" for k, v in only.items()))
    return 0


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
    ap.add_argument("--backend", choices=["keras", "dlib"], default="keras",
                    help="backend measured on still frames (default: keras)")
    ap.add_argument("--video", action="store_true",
                    help="measure video mode (keras backend, BlazeFace tracking) on faces moving out and back")
    args = ap.parse_args()
    if args.video and args.backend != "keras":
        ap.error("--video measures BlazeFace's tracking, which the keras backend uses: leave out --backend")
    if args.video and args.side * (1 + (INSIDE + 30) / 100) > H:
        ap.error(f"--video moves a face up to {INSIDE + 30}% of its side in from an edge: --side must be at most "
                 f"{int(H / (1 + (INSIDE + 30) / 100))}")

    data = load_labelled(args.data, split="PublicTest", limit=args.start + args.limit)
    faces = [data.image(i) for i in range(args.start, len(data))]
    labels = list(data.labels)[args.start:]
    if args.video:
        return video(args, faces, labels)
    if args.backend == "dlib":
        by_crop, cut_faces, ref = stills_dlib(args, faces, labels)
        names: tuple[str, ...] = DLIB_CROPS
    else:
        by_crop, cut_faces, ref = stills_keras(args, faces, labels)
        names = CROPS
    rows = []
    for cut in args.cuts:
        for edge in ("all", *EDGES):
            keys = EDGES if edge == "all" else (edge,)
            row: dict[str, object] = {"cut": cut, "edge": edge}
            for name in names:
                truth = labels * len(keys)
                rep, seen = _report(truth, [s for e in keys for s in by_crop[name][(cut, e)]])
                row["found"] = rep["faces_found"]
                row["cut_found"] = sum(cut_faces[(cut, e)] for e in keys) / len(truth)
                row[name] = {"found": rep["faces_found"], "accuracy": rep["accuracy"], "sad_auroc": rep["sad_auroc"],
                             "accuracy_found": seen["accuracy"] if seen else None,
                             "sad_auroc_found": seen["sad_auroc"] if seen else None}
            rows.append(row)
    if args.json:
        print(json.dumps({"backend": args.backend, "ready_crops": {"accuracy": ref["accuracy"],
                          "sad_auroc": ref["sad_auroc"]}, "faces": len(faces), "start": args.start,
                          "side": args.side, "background": args.background, "rows": rows}))
        return 0
    print(f"{args.backend} backend, PublicTest faces {args.start}-{args.start + len(faces) - 1} at {args.side} px, "
          f"{args.background} background; as ready 48x48 crops: accuracy {ref['accuracy']:.3f}, "
          f"sad AUROC {ref['sad_auroc']:.3f}")
    width = 9 * len(names)
    print(f"{'':<26} {'accuracy of the faces found':^{width}} {'sad AUROC of the faces found':^{width}}")
    print(f"{'cut':>4} {'edge':<7} {'found':>6} {'ext':>6}" + "".join(f" {c:>8}" for c in names) + " "
          + "".join(f" {c:>8}" for c in names))
    for r in rows:
        acc = "".join(f" {_f3(r[c]['accuracy_found']):>8}" for c in names)  # type: ignore[index]
        auc = "".join(f" {_f3(r[c]['sad_auroc_found']):>8}" for c in names)  # type: ignore[index]
        print(f"{r['cut']:>3}% {r['edge']:<7} {r['found']:>6.3f} {r['cut_found']:>6.3f}{acc} {auc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
