"""What every benchmark script shares on its command line: checked numbers, the data default, one-line errors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "fer2013" / "fer2013_dev.npz"
"""FER-2013 beside the checkout (``../shared/data/fer2013/fer2013_dev.npz``), wherever the script is run from."""


def at_least(low: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer >= ``low`` (argparse reports anything else in one line)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def face_side(text: str) -> int:
    """An argparse ``type``: a pasted face's side in pixels, which must fit a 640x480 frame (1-479)."""
    value = at_least(1)(text)
    if value >= 480:
        raise argparse.ArgumentTypeError(f"a face must fit the 640x480 frame (1-479 px), got {value}")
    return value


def run(main: Callable[[], int]) -> int:
    """``main()``, with the library's own errors (missing data, a missing extra, a bad value) as one line."""
    from buddy_emotion.errors import BuddyEmotionError

    try:
        return main()
    except BuddyEmotionError as e:
        print(f"{Path(sys.argv[0]).name}: error: {e}", file=sys.stderr)
        return 2
