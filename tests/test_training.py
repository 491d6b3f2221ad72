"""The training, ensembling and export pipeline, on a tiny synthetic data set (no FER-2013 needed)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("keras")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fake_npz(tmp_path_factory) -> Path:
    """An npz shaped like fer2013_dev.npz: random 48x48 faces, labels, usage and FER+ votes."""
    rng = np.random.default_rng(0)
    n_tr, n_te = 96, 40
    n = n_tr + n_te
    path = tmp_path_factory.mktemp("data") / "fake.npz"
    np.savez(path, images=rng.integers(0, 256, (n, 48, 48), dtype=np.uint8),
             labels=np.arange(n) % 7, usage=np.array(["Training"] * n_tr + ["PublicTest"] * n_te),
             ferplus=rng.integers(0, 4, (n, 10)).astype(np.float32))
    return path


def test_build_model_shapes() -> None:
    from buddy_emotion.training.fer import TrainConfig, build_model

    model = build_model(TrainConfig(widths=(8, 16, 16)))
    assert tuple(model.input_shape) == (None, 48, 48, 1)
    assert tuple(model.output_shape) == (None, 7)


def test_train_then_resume(fake_npz: Path, tmp_path: Path) -> None:
    from buddy_emotion.training.fer import TrainConfig, train

    cfg = TrainConfig(data=str(fake_npz), out_dir=str(tmp_path / "run"), epochs=1, batch_size=32,
                      widths=(8, 16, 16), ferplus_weight=0.25, seed=7, threads=1)
    best = train(cfg)
    assert best.is_file()
    with (tmp_path / "run" / "history.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == 1
    assert json.loads((tmp_path / "run" / "config.json").read_text())["seed"] == 7
    assert float((tmp_path / "run" / "wall_time_s.txt").read_text()) >= 0
    stamp = best.stat().st_mtime_ns
    assert train(cfg) == best  # a finished run is not trained again
    assert best.stat().st_mtime_ns == stamp
    cfg.epochs = 2
    train(cfg)  # a longer run starts afresh: its log does not mix with the old one
    with (tmp_path / "run" / "history.csv").open() as fh:
        assert [int(r["epoch"]) for r in csv.DictReader(fh)] == [0, 1]


def test_ensemble_of_one_model_twice_equals_the_model(tmp_path: Path) -> None:
    import keras

    from buddy_emotion.backends.keras import bundled_model_path
    from buddy_emotion.training.ensemble import build_ensemble

    single = str(bundled_model_path("tensorflow"))
    path = build_ensemble([single, single], str(tmp_path / "ens"))
    x = np.random.default_rng(1).uniform(0, 255, (4, 48, 48, 1)).astype(np.float32)
    a = keras.models.load_model(single, compile=False).predict(x, verbose=0)
    b = keras.models.load_model(path, compile=False).predict(x, verbose=0)
    np.testing.assert_allclose(a, b, atol=1e-5)
    config = json.loads((tmp_path / "ens" / "config.json").read_text())
    assert len(config["ensemble_of"]) == 2
    with pytest.raises(ValueError):
        build_ensemble([single], str(tmp_path / "one"))


def test_export_bundle_writes_a_loadable_model_and_card(fake_npz: Path, tmp_path: Path) -> None:
    from buddy_emotion.backends.keras import KerasBackend, bundled_model_path
    from buddy_emotion.training.export import export_bundle, render_markdown

    card = export_bundle(str(bundled_model_path("tensorflow")), data=str(fake_npz), dest=str(tmp_path))
    for name in ("fer_cnn.tflite", "fer_cnn.keras", "fer_cnn.json"):
        assert (tmp_path / name).is_file()
    assert card["publictest"]["n"] == 40
    assert 0.0 <= card["publictest"]["accuracy"] <= 1.0
    assert set(card["other_exports"]) == {"float16", "float32"}
    assert set(card["publictest_by_tta"]) == {"none", "flip", "zoom+flip", "flip+zoom", "flip+2zoom"}
    assert card["tta_views"] == [[1.0, False], [1.0, True]]
    assert card["size_bytes"]["tflite"] < card["other_exports"]["float16"]["bytes"]
    backend = KerasBackend(tmp_path / "fer_cnn.tflite")
    assert len(backend.classify_faces([np.full((48, 48), 128, np.uint8)])) == 1
    assert "PublicTest accuracy" in render_markdown(card)
