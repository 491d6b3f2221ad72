"""Buddy on a Raspberry Pi: the Pi camera, a background monitor, and a spoken prompt.

Needs picamera2 (sudo apt install python3-picamera2) and, for speech, espeak-ng (sudo apt install espeak-ng).
Run: python examples/pi_speaker.py
"""

from __future__ import annotations

import shutil
import subprocess
import time

from buddy_emotion import Detector, SadnessMonitor
from buddy_emotion.cameras import PiCamera


def speak(text: str) -> None:
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", text], check=False)
    else:
        print(f"Buddy: {text}")


def main() -> None:
    # video mode: one camera, so look for the face around the last one first (cheaper on a Pi)
    monitor = SadnessMonitor(Detector(track=True))
    monitor.on_sad(lambda event: speak("Hey, I'm here. How are you feeling?"))
    monitor.start(PiCamera(width=640, height=480), interval=2.0)  # background thread
    try:
        while True:
            time.sleep(1.0)
    except KeyboardInterrupt:
        monitor.stop()


if __name__ == "__main__":
    main()
