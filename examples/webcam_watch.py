"""Print a sadness reading from the webcam every 2 seconds (Ctrl-C stops).

Run: python examples/webcam_watch.py [--camera webcam:1]
"""

from __future__ import annotations

import argparse
import time

from buddy_emotion import Detector
from buddy_emotion.cameras import open_camera


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--camera", default="webcam")
    args = parser.parse_args()
    detector = Detector()
    with open_camera(args.camera) as camera:
        try:
            while True:
                frame, t = camera.read()
                r = detector.detect_sadness(frame, timestamp=t)
                value = f"{r.sadness:.2f}" if r.sadness is not None else r.reason.value
                print(time.strftime("%H:%M:%S"), "sadness", value, "SAD" if r.is_sad else "")
                time.sleep(2.0)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
