"""Print a sadness reading from a camera every 2 seconds: of wall time for a live camera (Ctrl-C stops), of
media time for a video file or an image folder (it stops at its end).

Run: python examples/webcam_watch.py [--camera webcam:1 | --camera pi | --camera clip.mp4 | --camera frames/]
"""

from __future__ import annotations

import argparse
import time

from buddy_emotion import Detector
from buddy_emotion.cameras import open_camera
from buddy_emotion.errors import CameraError, ImageFileError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--camera", default="webcam", help="webcam[:N], pi, a video file or an image folder")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between readings")
    args = parser.parse_args()
    detector = Detector()  # a whole-frame search each time: at one reading every 2 s video mode saves little
    try:
        with open_camera(args.camera) as camera:
            last = None
            for frame, t in camera:  # a video or folder ends; a live camera runs until Ctrl-C
                if camera.finite and last is not None and t - last < args.interval:
                    continue  # a recording is read as fast as it decodes: sample it by its own clock
                last = t
                r = detector.detect_sadness(frame, timestamp=t)
                value = f"{r.sadness:.2f}" if r.sadness is not None else r.reason.value
                print(f"t={t:10.1f} s  sadness {value}", "SAD" if r.is_sad else "")
                if not camera.finite:
                    time.sleep(args.interval)
    except (CameraError, ImageFileError) as e:
        print(f"camera: {e}")
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
