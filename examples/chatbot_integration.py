"""A chatbot that speaks first when its user has looked sad for a while.

Run: python examples/chatbot_integration.py --camera webcam      (or a video file / image folder)
"""

from __future__ import annotations

import argparse

from buddy_emotion import BuddyEmotionError, Detector, SadnessMonitor
from buddy_emotion.cameras import open_camera


def say(text: str) -> None:
    """Stand-in for the chatbot's speech output."""
    print(f"Buddy: {text}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--camera", default="webcam")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between samples")
    args = parser.parse_args()

    monitor = SadnessMonitor(Detector())
    monitor.on_sad(lambda event: say("You seem a bit down. Do you want to talk about it?"))
    try:
        with open_camera(args.camera) as camera:
            status = monitor.run(camera, interval=args.interval)  # blocks; Ctrl-C stops
        print(f"monitor {status.state}: {status.samples} samples, {status.events} events")
        if status.state == "failed":  # gave up on the camera (e.g. frames in a row that do not decode)
            print(f"camera or model problem: {status.last_error}")
            return 1
    except KeyboardInterrupt:
        pass
    except BuddyEmotionError as e:
        print(f"camera or model problem: {e}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
