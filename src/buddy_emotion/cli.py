"""The ``buddy-emotion`` command line: analyze, watch, backends, eval, train.

Every library error (and every ValueError, TypeError or OSError, e.g. a bad option value or an unwritable
folder) ends the command with one line on stderr (``buddy-emotion: error: ...``) and exit status 2; bad
option values that argparse can check exit with its usage message. Ctrl-C stops cleanly with status 130.
Progress bars go to stderr, readings to stdout.

One bad input does not lose the rest: ``analyze`` reports a file it cannot read and goes on with the next
(status 2 at the end), and ``watch`` survives camera errors with the policy ``SadnessMonitor.run`` uses,
:class:`~buddy_emotion.cameras.retry.CameraRetry` (a warning line, a wait of 1 s doubling up to 30 s for live
cameras, a reopen; a replay gives up after 3 bad frames in a row).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from buddy_emotion._check import integer, number
from buddy_emotion._version import __version__
from buddy_emotion.cameras.files import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS  # one list for the CLI and cameras
from buddy_emotion.errors import (
    BuddyEmotionError,
    CameraError,
    ImageFileError,
    InvalidFrameError,
    MissingDependencyError,
)


# -- helpers ----------------------------------------------------------------------------------------------
def _sample_frame(name: str) -> Any:
    if name != "astronaut":
        raise ImageFileError(f"unknown sample {name!r}; available: astronaut")
    try:
        from skimage import data
    except ImportError:
        raise MissingDependencyError(
            "the astronaut sample comes from scikit-image: pip install scikit-image"
        ) from None
    import numpy as np

    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


def _reading_row(source: str, reading: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"source": source}
    row.update(reading.as_dict())  # "dominant" included
    return row


def _print_row(row: dict[str, Any], as_json: bool, out: TextIO) -> None:
    if as_json:
        print(json.dumps(row), file=out, flush=True)
        return
    sad = "-" if row["sadness"] is None else f"{row['sadness']:.3f}"
    flag = "SAD" if row["is_sad"] else ""
    what = row["dominant"] or (row["reason"] or "")
    t = row.get("media_time")
    when = f"{t:8.2f}s" if t is not None else time.strftime("%H:%M:%S", time.localtime(row["timestamp"]))
    print(f"{row['source'][-40:]:<40} {when:>9} faces={row['face_count']:<2} sadness={sad:<6} {flag:<3} {what}",
          file=out, flush=True)


def _annotate(frame: Any, reading: Any) -> Any:
    import cv2

    from buddy_emotion.frames import to_bgr

    img = to_bgr(frame).copy()
    for i, face in enumerate(reading.faces):
        if face.box is None:
            continue
        b = face.box
        main = i == 0
        colour = (0, 0, 255) if main and reading.is_sad else (0, 200, 0)
        cv2.rectangle(img, (b.x, b.y), (b.right, b.bottom), colour, 2)
        label = f"{face.dominant} sad={face.sadness:.2f}" if face.sadness is not None else face.dominant
        cv2.putText(img, label, (b.x, max(12, b.y - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
    if not reading.faces and reading.reason is not None:
        cv2.putText(img, reading.reason.value, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 255), 1, cv2.LINE_AA)
    return img


def _expand(paths: Sequence[str]) -> Iterator[Path]:
    for p in map(Path, paths):
        if p.is_dir():
            children = sorted(c for c in p.iterdir() if c.suffix.lower() in IMAGE_EXTENSIONS + VIDEO_EXTENSIONS)
            if not children:
                raise ImageFileError(f"folder {p} holds no images or videos")
            yield from children
        elif not p.exists():
            raise ImageFileError(f"file not found: {p}")
        else:
            yield p


def _progress(iterable: Any, **kw: Any) -> Any:
    from tqdm import tqdm

    return tqdm(iterable, file=sys.stderr, disable=None, leave=False, **kw)


def _number_arg(what: str, lo: float, hi: float = math.inf, *, open_lo: bool = False) -> Callable[[str], float]:
    """An argparse ``type`` accepting a finite number within ``lo..hi`` (``lo`` excluded with ``open_lo``)."""
    def parse(text: str) -> float:
        try:
            return number("value", float(text), lo, hi, open_lo=open_lo)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None

    return parse


def _limit_arg(text: str) -> int:
    """``--limit``: a whole number >= 1."""
    try:
        return integer("limit", float(text), 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of images >= 1, got {text!r}") from None


# -- commands ---------------------------------------------------------------------------------------------
_KERAS_ONLY = ("default", "keras")
TTA_CHOICES = ("none", "flip", "zoom+flip", "flip+zoom", "flip+2zoom")  # buddy_emotion.backends.keras.TTA_VIEWS


def _class_bias(text: str) -> dict[str, float]:
    """``--class-bias`` value: ``none`` or ``LABEL=NATS[,LABEL=NATS...]``."""
    from buddy_emotion.labels import parse_label_values

    try:
        return parse_label_values(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _backend_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """Backend options from ``--tta`` / ``--class-bias`` / ``--track``; None (after an error message) when the
    backend has none."""
    options: dict[str, Any] = {}
    for flag, key, value in (("--tta", "tta", getattr(args, "tta", None)),
                             ("--class-bias", "class_bias", getattr(args, "class_bias", None)),
                             ("--track", "track", getattr(args, "track", False) or None)):
        if value is None:
            continue
        if args.backend not in _KERAS_ONLY:
            print(f"error: {flag} applies to the default and keras backends, not {args.backend!r}", file=sys.stderr)
            return None
        options[key] = value
    return options


def cmd_analyze(args: argparse.Namespace) -> int:
    from buddy_emotion.detector import Detector

    options = _backend_options(args)
    if options is None:
        return 2
    if args.plot:  # the plot is drawn after the work: find out now if it cannot be
        from buddy_emotion.plotting import check_plot_path

        check_plot_path(args.plot)
    detector = Detector(args.backend, threshold=args.threshold, **options)
    annotate_dir = Path(args.annotate) if args.annotate else None
    if annotate_dir:
        try:
            annotate_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ImageFileError(f"cannot create the --annotate folder {annotate_dir}: {e.strerror or e}") from None
    sources: list[tuple[str, Path | None]] = [(f"sample:{s}", None) for s in (args.sample or [])]
    sources += [(str(p), p) for p in _expand(args.paths)]
    if not sources:
        raise ImageFileError("nothing to analyze: give image/video paths or --sample astronaut")
    try:
        return _analyze_sources(args, detector, sources, annotate_dir)
    finally:
        detector.close()


def _unique(folder: Path, stem: str, suffix: str, taken: set[Path]) -> Path:
    """``folder/stem.suffix``, or ``stem.2.suffix`` ... when an earlier input of this run took that name."""
    out, n = folder / f"{stem}{suffix}", 1
    while out in taken:
        n += 1
        out = folder / f"{stem}.{n}{suffix}"
    taken.add(out)
    return out


def _analyze_sources(args: argparse.Namespace, detector: Any, sources: list[tuple[str, Path | None]],
                     annotate_dir: Path | None) -> int:
    series: dict[str, list[Any]] = {}
    written: set[Path] = set()
    failed = 0
    for name, path in _progress(sources, desc="files", unit="file"):
        try:
            _analyze_one(args, detector, name, path, annotate_dir, series, written)
        except (CameraError, ImageFileError, InvalidFrameError) as e:  # one bad file does not stop the others
            failed += 1
            print(f"buddy-emotion: error: {' '.join(str(e).splitlines())}", file=sys.stderr, flush=True)
    if args.plot and series:
        from buddy_emotion.plotting import plot_readings

        for name, readings in series.items():
            out = Path(args.plot)
            if len(series) > 1:
                out = out.with_name(f"{out.stem}.{Path(name).stem}{out.suffix}")
            plot_readings(readings, out, title=f"sadness over time: {Path(name).name}", threshold=args.threshold)
            print(f"plot written to {out}", file=sys.stderr)
    elif args.plot and not failed:
        raise ImageFileError("--plot draws sadness over time for a video: give a video file")
    if failed:
        print(f"buddy-emotion: {failed} of {len(sources)} inputs could not be analyzed", file=sys.stderr)
        return 2
    return 0


def _analyze_one(args: argparse.Namespace, detector: Any, name: str, path: Path | None, annotate_dir: Path | None,
                 series: dict[str, list[Any]], written: set[Path]) -> None:
    """Analyze one image or video (``path`` None: a built-in sample), printing a row per reading."""
    from buddy_emotion.cameras import VideoFileCamera
    from buddy_emotion.frames import load_image

    if path is not None and path.suffix.lower() in VIDEO_EXTENSIONS:
        readings: list[Any] = []  # a video that cannot be opened gets no (empty) plot
        writer = None
        video_out = _unique(annotate_dir, path.stem, ".annotated.avi", written) if annotate_dir else None
        try:
            with VideoFileCamera(path, step=args.step) as cam:
                # the annotated copy plays at the rate frames were read: the source's, or one per step
                out_fps = 1.0 / args.step if args.step else (cam.fps or 10.0)
                for frame, media_t in _progress(cam, desc=path.name, unit="frame"):
                    reading = detector.detect_sadness(frame, timestamp=media_t)
                    readings.append(reading)
                    row = _reading_row(name, reading)
                    row["media_time"] = media_t
                    _print_row(row, args.json, sys.stdout)
                    if video_out is not None:
                        writer = _write_video_frame(writer, video_out, _annotate(frame, reading), out_fps)
        finally:
            if writer is not None:
                writer.release()
            if readings:
                series.setdefault(name, []).extend(readings)
        return
    frame = _sample_frame(name.split(":", 1)[1]) if path is None else load_image(path)
    reading = detector.detect_sadness(frame)
    _print_row(_reading_row(name, reading), args.json, sys.stdout)
    if annotate_dir:
        import cv2

        stem = path.stem if path is not None else name.replace(":", "_")
        out = _unique(annotate_dir, stem, ".annotated.png", written)
        if not cv2.imwrite(str(out), _annotate(frame, reading)):
            raise ImageFileError(f"could not write {out}")


def _write_video_frame(writer: Any, path: Path, img: Any, fps: float) -> Any:
    import cv2

    if writer is None:
        h, w = img.shape[:2]
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), float(min(max(fps, 0.1), 240.0)), (w, h))
        if not writer.isOpened():
            raise ImageFileError(f"could not write {path}")
    writer.write(img)
    return writer


def cmd_watch(args: argparse.Namespace) -> int:
    from buddy_emotion.cameras import open_camera
    from buddy_emotion.detector import Detector

    options = _backend_options(args)
    if options is None:
        return 2
    if args.plot:  # drawn when the session stops: find out now if it cannot be
        from buddy_emotion.plotting import check_plot_path

        check_plot_path(args.plot)
    detector = Detector(args.backend, threshold=args.threshold, **options)
    monitor = None
    if not args.no_monitor:
        from buddy_emotion.monitor import SadnessMonitor

        monitor = SadnessMonitor(detector)
    readings: list[Any] = []
    events: list[Any] = []
    start = time.monotonic()
    try:
        with open_camera(args.camera) as cam:
            next_due = 0.0
            deadline = start + args.duration if args.duration else None
            for frame, ts in _survive_errors(cam, deadline=deadline):
                if cam.finite:
                    # replayed recordings: sample by media time
                    if ts + 1e-9 < next_due:
                        continue
                    next_due = ts + args.interval
                reading = detector.detect_sadness(frame, timestamp=ts)
                readings.append(reading)
                row = _reading_row(args.camera, reading)
                if cam.finite:
                    row["media_time"] = ts
                _print_row(row, args.json, sys.stdout)
                if monitor is not None:
                    event = monitor.update(frame, timestamp=ts, reading=reading)
                    if event is not None:
                        events.append(event)
                        payload = {"event": "speak", **event.as_dict()}
                        print(json.dumps(payload) if args.json else f"*** Buddy should speak now: {payload}",
                              flush=True)
                if args.duration and time.monotonic() - start >= args.duration:
                    break
                if not cam.finite:
                    time.sleep(max(0.0, args.interval - (time.monotonic() - start) % args.interval))
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        if args.plot and readings:
            from buddy_emotion.plotting import plot_readings, plot_timeline

            title = f"sadness over time: {args.camera}"
            if monitor is not None:  # marks quality-gated samples and the monitor's events
                plot_timeline(monitor.timeline, Path(args.plot), events=events, title=title)
            else:
                plot_readings(readings, Path(args.plot), title=title, threshold=args.threshold)
            print(f"plot written to {args.plot}", file=sys.stderr)
        detector.close()
    return 0


def _survive_errors(cam: Any, *, backoff: float = 1.0, max_backoff: float = 30.0, max_errors: int | None = None,
                    deadline: float | None = None) -> Iterator[tuple[Any, float]]:
    """``cam``'s frames, going on after read errors with the policy ``SadnessMonitor.run`` uses
    (:class:`~buddy_emotion.cameras.retry.CameraRetry`: a wait of ``backoff`` s doubling up to ``max_backoff``
    for live cameras, none for finite sources, a reopen of a camera that closed itself, giving up after
    ``max_errors`` in a row, by default 3 for finite sources and never for live cameras).

    Each error is one warning line on stderr; giving up raises the last error. It ends at ``deadline``
    (``time.monotonic()`` seconds), errors or not.
    """
    from buddy_emotion.cameras.retry import CameraRetry

    def warn(error: Exception, _in_row: int, retry_in: float | None) -> None:
        if retry_in is None:  # giving up: the error itself ends the command
            return
        retry = "" if reads.finite else f"; retrying in {retry_in:g} s"
        print(f"buddy-emotion: warning: {' '.join(str(error).splitlines())}{retry}", file=sys.stderr, flush=True)

    reads = CameraRetry(cam, backoff=backoff, max_backoff=max_backoff, max_errors=max_errors, deadline=deadline,
                        on_error=warn)
    yield from reads
    if reads.gave_up is not None:
        raise reads.gave_up


def cmd_backends(args: argparse.Namespace) -> int:
    from buddy_emotion import backends

    rows = []
    for name, v in backends.available().items():
        rows.append({"name": name, "viable": v.ok, "reason": v.reason, "summary": backends.summary(name)})
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    for row in rows:
        mark = "yes" if row["viable"] else "no "
        print(f"{row['name']:<10} {mark}  {row['reason'] or row['summary']}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from buddy_emotion import backends
    from buddy_emotion.evaluation import evaluate, load_labelled

    options = _backend_options(args)
    if options is None:
        return 2
    data = load_labelled(args.data, split=args.split, limit=args.limit)
    backend = backends.create(args.backend, **options)
    try:
        report = evaluate(backend, data, cropped=args.cropped, progress=True)
    finally:
        backend.close()
    if not args.json:
        print(f"backend {report['backend']}  n={report['n']}  faces found {report['faces_found']:.1%}")
        print(f"accuracy {report['accuracy']:.4f}  macro F1 {report['macro_f1']:.4f}  "
              f"sadness AUROC {report['sad_auroc']}")
        print(f"latency per image: median {report['latency_ms']['median']} ms, p95 {report['latency_ms']['p95']} ms")
        if report.get("unreadable"):
            print(f"{report['unreadable']} images could not be read and count as wrong; the first:")
            for error in report["unreadable_examples"]:
                print(f"  {error}")
        print(f"{'class':<10} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>5}")
        for lab, m in report["per_class"].items():
            print(f"{lab:<10} {m['precision']:>6.3f} {m['recall']:>6.3f} {m['f1']:>6.3f} {m['n']:>5}")
    else:
        print(json.dumps(report))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from buddy_emotion.training.__main__ import main as train_main

    return train_main(args.train_args, prog="buddy-emotion train")


# -- parser -----------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="buddy-emotion",
                                description="Tell when the person in front of a camera looks sad.")
    p.add_argument("--version", action="version", version=f"buddy-emotion {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def backend_opt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--backend", default="default",
                        help="backend name, see 'buddy-emotion backends' (default: %(default)s)")
        sp.add_argument("--threshold", type=_number_arg("a probability within 0..1", 0.0, 1.0), default=0.5,
                        help="sadness probability counted as sad, 0..1 (default: %(default)s)")
        tta_opt(sp)

    def tta_opt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--tta", choices=TTA_CHOICES, default=None,
                        help="views of each face the default/keras backend averages (default: the model card's, "
                             "flip): none is about half the classifier's cost, flip+zoom doubles it")
        sp.add_argument("--class-bias", type=_class_bias, default=None, metavar="LABEL=NATS|none",
                        help="decision prior of the default/keras backend, in nats added to a label's log "
                             "probability (default: the model card's, sadness=0.1); none: the raw network")

    a = sub.add_parser("analyze", help="analyze images, folders and videos")
    a.add_argument("paths", nargs="*", help="image files, video files or folders")
    a.add_argument("--sample", action="append", choices=["astronaut"],
                   help="analyze a built-in public-domain sample (needs scikit-image)")
    backend_opt(a)
    a.add_argument("--json", action="store_true", help="one JSON object per reading")
    a.add_argument("--annotate", metavar="DIR", help="write images/videos with boxes and labels into DIR")
    a.add_argument("--plot", metavar="OUT.png", help="draw sadness over time for a video")
    a.add_argument("--step", type=float, default=None, help="sample videos every STEP seconds (default every frame)")
    a.set_defaults(func=cmd_analyze)

    w = sub.add_parser("watch", help="watch a camera and print readings as they come (Ctrl-C stops)")
    w.add_argument("--camera", default="webcam",
                   help="webcam, webcam:N, pi, a video file or an image folder (default: %(default)s)")
    w.add_argument("--interval", type=_number_arg("a finite number of seconds > 0", 0.0, open_lo=True), default=2.0,
                   help="seconds between readings (default: %(default)s)")
    w.add_argument("--duration", type=_number_arg("a finite number of seconds >= 0", 0.0), default=0.0,
                   help="stop after this many seconds; 0: never (default: %(default)s)")
    backend_opt(w)
    w.add_argument("--json", action="store_true", help="one JSON object per reading or event")
    w.add_argument("--plot", metavar="OUT.png", help="draw sadness over time when stopped")
    w.add_argument("--no-monitor", action="store_true", help="readings only, no 'speak now' decisions")
    w.add_argument("--track", action="store_true",
                   help="video mode: look for the face around the last one first (about half the cost per reading)")
    w.set_defaults(func=cmd_watch)

    b = sub.add_parser("backends", help="list backends and whether each can run here")
    b.add_argument("--json", action="store_true", help="one JSON object per backend")
    b.set_defaults(func=cmd_backends)

    e = sub.add_parser("eval", help="evaluate a backend on labelled faces (.npz, FER-2013's .csv, or a folder "
                                    "with labels.csv)")
    e.add_argument("data", help="an .npz with images and FER-2013 labels (0..6), FER-2013's own .csv as Kaggle "
                                "gives it (emotion,pixels,Usage), or a folder with labels.csv (columns path,label)")
    e.add_argument("--backend", default="default", help="backend name (default: %(default)s)")
    tta_opt(e)
    e.add_argument("--split", default=None, help="rows whose usage equals this, e.g. PrivateTest (.npz and .csv)")
    e.add_argument("--cropped", action="store_true", help="images are face crops: skip detection")
    e.add_argument("--limit", type=_limit_arg, default=None, help="first N images only (N >= 1)")
    e.add_argument("--json", action="store_true", help="print the report as one JSON object (last line)")
    e.set_defaults(func=cmd_eval)

    # main() hands everything after "train" to the training CLI, so 'buddy-emotion train --help' is its help
    t = sub.add_parser("train", help="train, export or ensemble the FER-2013 CNN (needs the keras extra); "
                                     "see 'buddy-emotion train --help'", add_help=False)
    t.add_argument("train_args", nargs=argparse.REMAINDER)
    t.set_defaults(func=cmd_train)
    return p


def _quiet_native_logs() -> None:
    """Keep OpenCV's and FFmpeg's own log lines ("[ WARN:0@0.007] ... can't open camera by index", "moov atom
    not found") off stderr: the command reports each failure in one line of its own. The command owns its
    process, so it may set these; the library leaves them to its caller. ``BUDDY_EMOTION_DEBUG=1`` keeps them,
    and so does setting ``OPENCV_LOG_LEVEL`` or ``OPENCV_FFMPEG_LOGLEVEL`` yourself."""
    if os.environ.get("BUDDY_EMOTION_DEBUG"):
        return
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET; read when OpenCV first loads FFmpeg
    if "OPENCV_LOG_LEVEL" not in os.environ:
        import cv2

        logging = getattr(getattr(cv2, "utils", None), "logging", None)  # OpenCV >= 4.13
        if logging is not None:
            logging.setLogLevel(logging.LOG_LEVEL_ERROR)
        else:
            set_level = getattr(cv2, "setLogLevel", None)  # 4.10-4.12, which the package allows too
            if callable(set_level):
                set_level(2)  # LOG_LEVEL_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _quiet_native_logs()
    parser = build_parser()
    if argv[:1] == ["train"]:  # argparse's REMAINDER would swallow neither '--help' nor a leading option well
        args = argparse.Namespace(func=cmd_train, train_args=argv[1:])
    else:
        args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("buddy-emotion: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (BuddyEmotionError, ValueError, TypeError, OSError) as e:  # e.g. an option a backend refuses
        message = " ".join(str(e).splitlines()) or type(e).__name__
        print(f"buddy-emotion: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
