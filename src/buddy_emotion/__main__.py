"""``python -m buddy_emotion``: the ``buddy-emotion`` command, for when its script is not on ``PATH``."""

from __future__ import annotations

import sys

from buddy_emotion.cli import main

if __name__ == "__main__":
    sys.exit(main())
