from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
FER_NPZ = REPO.parent / "shared" / "data" / "fer2013" / "fer2013_dev.npz"


@pytest.fixture(scope="session")
def fer_npz() -> Path:
    """Path of ../shared/data/fer2013/fer2013_dev.npz; the test is skipped where it is absent."""
    if not FER_NPZ.is_file():
        pytest.skip("../shared/data/fer2013/fer2013_dev.npz is not here")
    return FER_NPZ


@pytest.fixture(scope="session")
def astronaut_bgr() -> np.ndarray:
    from buddy_emotion.testing import sample_face_frame

    return sample_face_frame()
