"""A chatbot built on asyncio that speaks first when its user has looked sad for a while.

The monitor runs in its own thread (``start``) and calls ``on_sad`` there; ``loop.call_soon_threadsafe``
hands each event to the event loop, where the chatbot awaits it like any other input.

Run: python examples/asyncio_chatbot.py --camera webcam      (or a video file / image folder)
"""

from __future__ import annotations

import argparse
import asyncio

from buddy_emotion import BuddyEmotionError, Detector, SadnessEvent, SadnessMonitor
from buddy_emotion.cameras import open_camera
from buddy_emotion.monitor import MonitorStatus

_DONE = ("ended", "stopped", "failed")  # states in which the camera loop has finished


async def say(text: str) -> None:
    """Stand-in for the chatbot's speech output (a text-to-speech call would be awaited here)."""
    print(f"Buddy: {text}", flush=True)


async def chat(camera_name: str, interval: float) -> int:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[SadnessEvent | MonitorStatus] = asyncio.Queue()

    def post(item: SadnessEvent | MonitorStatus) -> None:  # runs in the monitor's thread
        loop.call_soon_threadsafe(inbox.put_nowait, item)

    monitor = SadnessMonitor(Detector())
    monitor.on_sad(post)
    monitor.on_status(lambda status: post(status) if status.state in _DONE else None)
    with open_camera(camera_name) as camera:
        monitor.start(camera, interval=interval)  # returns at once; the loop survives camera errors
        try:
            while True:
                item = await inbox.get()
                if isinstance(item, MonitorStatus):  # a finite source ran out, or the loop gave up
                    break
                await say(f"You seem a bit down (sad for {item.duration:.0f} s). Do you want to talk about it?")
        finally:
            status = await asyncio.to_thread(monitor.stop)  # joins the thread without blocking the loop
    print(f"monitor {status.state}: {status.samples} samples, {status.events} events")
    if status.state == "failed":  # the loop gave up on the camera (last_error), or raised (monitor.error)
        print(f"camera or model problem: {monitor.error or status.last_error}")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--camera", default="webcam")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between samples")
    args = parser.parse_args()
    try:
        return asyncio.run(chat(args.camera, args.interval))
    except KeyboardInterrupt:
        return 0
    except BuddyEmotionError as e:  # no camera, bad arguments: one line, no traceback
        print(f"camera or model problem: {e}")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
