"""Buddy on a Raspberry Pi: the Pi camera, a background monitor, and a spoken prompt.

Needs picamera2 (sudo apt install python3-picamera2) and, for speech, espeak-ng (sudo apt install espeak-ng).
Run: python examples/pi_speaker.py [--camera pi | --camera webcam] [--baseline me.json]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import time
from pathlib import Path

from buddy_emotion import BaselineError, Detector, SadnessMonitor
from buddy_emotion.cameras import open_camera
from buddy_emotion.errors import CameraError, ImageFileError


def speak(text: str) -> None:
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", text], check=False)
    else:
        print(f"Buddy: {text}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--camera", default="pi", help="pi, webcam[:N], a video file or an image folder")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between samples")
    parser.add_argument("--baseline", type=Path, help="JSON file of the user's resting sadness (numbers only)")
    args = parser.parse_args()
    # a whole-frame face search at every sample (every 2 s): video mode (track=True) would save little here,
    # and between its whole-frame searches it reports only the tracked face, which hides a second person
    monitor = SadnessMonitor(Detector())
    if args.baseline and args.baseline.is_file():
        try:
            monitor.load_baseline(args.baseline)  # skip calibration: this user's resting look is known
        except BaselineError as e:  # corrupt or not a baseline: calibrate afresh (saved over it at the end)
            print(f"baseline not loaded, calibrating afresh: {e}")
    monitor.on_sad(lambda event: speak("Hey, I'm here. How are you feeling?"))
    try:
        camera = open_camera(args.camera)  # the Pi camera at 640x480 by default
    except (CameraError, ImageFileError) as e:  # no camera, or picamera2 missing: say so in one line
        print(f"camera: {e}")
        return 1
    with camera:
        monitor.start(camera, interval=args.interval)  # background thread; survives camera errors
        try:
            while monitor.running:
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
        finally:
            status = monitor.stop()
            print(f"monitor {status.state}: {status.samples} samples, {status.events} events")
    if args.baseline:
        try:
            monitor.save_baseline(args.baseline)
        except BaselineError as e:  # not calibrated yet: too few calm readings
            print(f"baseline not saved: {e}")
    if status.state == "failed":  # gave up on the camera, or the loop raised (monitor.error)
        print(f"camera or model problem: {monitor.error or status.last_error}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
