"""The training, ensembling and export pipeline, on a tiny synthetic data set (no FER-2013 needed)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

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


def test_a_run_cut_short_resumes_where_it_stopped(fake_npz: Path, tmp_path: Path, monkeypatch) -> None:
    import buddy_emotion.training.fer as fer

    cfg = fer.TrainConfig(data=str(fake_npz), out_dir=str(tmp_path / "run"), epochs=3, batch_size=32,
                          widths=(8, 16, 16), seed=7, threads=1)
    real, calls = fer.learning_rate_at, []

    def cut_at_the_second_epoch(progress: float, peak: float) -> float:
        calls.append(progress)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the machine goes away after the first epoch
        return real(progress, peak)

    monkeypatch.setattr(fer, "learning_rate_at", cut_at_the_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        fer.train(cfg)
    assert (tmp_path / "run" / "backup").is_dir()
    monkeypatch.setattr(fer, "learning_rate_at", real)
    wall = float((tmp_path / "run" / "wall_time_s.txt").read_text())
    fer.train(cfg)  # resumes: the first epoch is not trained again, its log and wall time are kept
    with (tmp_path / "run" / "history.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert float(rows[1]["wall_s"]) >= wall
    assert not (tmp_path / "run" / "backup").exists()


def test_soft_targets_map_ferplus_votes_onto_fer_classes() -> None:
    from buddy_emotion.training.fer import TrainConfig, soft_targets

    labels = np.array([4, 4, 6])  # FER-2013: sad, sad, neutral
    votes = np.zeros((3, 10), np.float32)  # FER+ columns: neutral, happiness, surprise, sadness, anger, ...
    votes[0, 3] = 10  # all taggers: sadness
    votes[1, 1] = 10  # all taggers: happiness
    t = soft_targets(labels, votes, TrainConfig(label_smoothing=0.1, ferplus_weight=0.25))
    smooth = np.full(7, 0.1 / 7)
    np.testing.assert_allclose(t[0], 0.75 * (smooth + 0.9 * np.eye(7)[4]) + 0.25 * np.eye(7)[4], atol=1e-6)
    np.testing.assert_allclose(t[1], 0.75 * (smooth + 0.9 * np.eye(7)[4]) + 0.25 * np.eye(7)[3], atol=1e-6)
    np.testing.assert_allclose(t[2], smooth + 0.9 * np.eye(7)[6], atol=1e-6)  # no votes: the label alone
    np.testing.assert_allclose(t.sum(axis=1), 1.0, atol=1e-6)


def test_flip_averaged_probabilities_do_not_change_with_a_mirrored_face() -> None:
    from buddy_emotion.training.fer import TrainConfig, build_model, evaluate_probs

    model = build_model(TrainConfig(widths=(8, 16, 16)))  # random weights: not symmetric itself
    faces = np.random.default_rng(0).integers(0, 256, (4, 48, 48), dtype=np.uint8)
    mirrored = faces[:, :, ::-1]
    assert not np.allclose(evaluate_probs(model, faces, tta=False), evaluate_probs(model, mirrored, tta=False))
    np.testing.assert_allclose(evaluate_probs(model, faces), evaluate_probs(model, mirrored), atol=1e-5)


def test_compact_copy_is_lossless(fake_npz: Path, tmp_path: Path) -> None:
    from buddy_emotion.training.fer import compact, load_split

    info = compact(fake_npz, tmp_path / "small.npz")
    assert info["rows"] == 136
    for split in ("Training", "PublicTest"):
        a, b = load_split(fake_npz, split), load_split(tmp_path / "small.npz", split)
        np.testing.assert_array_equal(a["images"], b["images"])
        np.testing.assert_array_equal(a["labels"], b["labels"])
        np.testing.assert_array_equal(a["ferplus"], b["ferplus"])
    with pytest.raises(ValueError, match="PrivateTest"):
        load_split(tmp_path / "small.npz", "PrivateTest")


def test_learning_rate_warms_up_then_decays() -> None:
    from buddy_emotion.training.fer import learning_rate_at

    lrs = [learning_rate_at(p / 100, 0.02) for p in range(101)]
    assert lrs[0] == pytest.approx(0.002)
    assert max(lrs) == pytest.approx(0.02, rel=1e-3)
    peak = lrs.index(max(lrs))
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1:]))
    assert lrs[-1] == pytest.approx(0.0002)


def test_augmentation_keeps_shape_and_range_and_is_off_at_inference() -> None:
    from buddy_emotion.training.fer import _augment_layer

    x = np.random.default_rng(2).uniform(0, 255, (16, 48, 48, 1)).astype(np.float32)
    layer = _augment_layer(5)
    y = np.asarray(layer(x, training=True))
    assert y.shape == x.shape
    assert y.min() >= 0.0 and y.max() <= 255.0
    assert not np.allclose(y, x)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)


def test_time_budget_and_distillation_from_a_teacher(fake_npz: Path, tmp_path: Path) -> None:
    import keras

    from buddy_emotion.training.fer import TrainConfig, train

    small = {"data": str(fake_npz), "batch_size": 32, "widths": (8, 16, 16), "seed": 3, "threads": 1}
    teacher = train(TrainConfig(out_dir=str(tmp_path / "t"), epochs=1, optimizer="sgd", learning_rate=0.01,
                                **small))
    cfg = TrainConfig(out_dir=str(tmp_path / "s"), time_budget_s=3.0, teachers=(str(teacher), str(teacher)),
                      kd_weight=0.7, init_from=str(teacher), **small)
    student = train(cfg)
    with (tmp_path / "s" / "history.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 1  # an epoch longer than the budget still ends the run after one epoch
    assert float(rows[0]["learning_rate"]) < 5e-4  # warm-up starts at 10% of the 2e-3 peak
    assert 0.0 <= float(rows[-1]["val_accuracy_flip"]) <= 1.0
    model = keras.models.load_model(student, compile=False)
    assert tuple(model.output_shape) == (None, 7)  # the student alone is saved, not the teachers
    config = json.loads((tmp_path / "s" / "config.json").read_text())
    assert config["extra"]["keras_backend"] == keras.backend.backend()
    assert config["teachers"] == [str(teacher)] * 2
    with pytest.raises(ValueError, match="optimizer"):
        train(TrainConfig(out_dir=str(tmp_path / "bad"), optimizer="rmsprop", **small))
    with pytest.raises(ValueError, match="does not match"):
        train(TrainConfig(out_dir=str(tmp_path / "bad2"), init_from=str(teacher), **{**small, "widths": (8, 16)}))


def test_weight_average_is_what_is_evaluated_and_saved(fake_npz: Path, tmp_path: Path) -> None:
    import keras

    from buddy_emotion.training.fer import TrainConfig, train

    cfg = TrainConfig(data=str(fake_npz), out_dir=str(tmp_path / "ema"), epochs=3, batch_size=32,
                      widths=(8, 16, 16), seed=4, threads=1, ema=0.5, optimizer="sgd", learning_rate=0.05)
    best = train(cfg)
    with (tmp_path / "ema" / "history.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert all(0.0 <= float(r["val_accuracy_flip_raw"]) <= 1.0 for r in rows)
    assert float(rows[0]["val_accuracy_flip"]) == float(rows[0]["val_accuracy_flip_raw"])  # epoch 0: average = raw
    assert tuple(keras.models.load_model(best, compile=False).output_shape) == (None, 7)


def test_command_line_compacts_and_distils(fake_npz: Path, tmp_path: Path, capsys) -> None:
    from buddy_emotion.training.__main__ import main

    assert main(["compact", str(fake_npz), str(tmp_path / "small.npz")]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 136
    common = ["--data", str(tmp_path / "small.npz"), "--epochs", "1", "--batch-size", "32", "--widths", "8", "16",
              "16", "--threads", "1"]
    assert main(["train", "--out-dir", str(tmp_path / "t"), *common]) == 0
    teacher = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["best"]
    assert main(["train", "--out-dir", str(tmp_path / "s"), *common, "--teachers", teacher, "--kd-weight", "0.5",
                 "--optimizer", "sgd", "--stem-convs", "2"]) == 0
    config = json.loads((tmp_path / "s" / "config.json").read_text())
    assert config["teachers"] == [teacher]
    assert config["stem_convs"] == 2


def test_ensemble_of_one_model_twice_equals_the_model(tmp_path: Path) -> None:
    import keras

    from buddy_emotion.backends.keras import bundled_model_path
    from buddy_emotion.training.ensemble import build_ensemble

    single = str(bundled_model_path("tensorflow"))
    path = build_ensemble([single, single], str(tmp_path / "ens"))
    x = np.random.default_rng(1).uniform(0, 255, (4, 48, 48, 1)).astype(np.float32)
    from buddy_emotion.backends.keras import widen_to_float32

    a = widen_to_float32(keras, keras.models.load_model(single, compile=False)).predict(x, verbose=0)
    b = keras.models.load_model(path, compile=False).predict(x, verbose=0)
    np.testing.assert_allclose(a, b, atol=1e-5)
    config = json.loads((tmp_path / "ens" / "config.json").read_text())
    assert len(config["ensemble_of"]) == 2
    with pytest.raises(ValueError):
        build_ensemble([single], str(tmp_path / "one"))


def test_export_bundle_writes_a_loadable_model_and_card(fake_npz: Path, tmp_path: Path) -> None:
    from buddy_emotion.backends.keras import KerasBackend, bundled_model_path
    from buddy_emotion.training.export import export_bundle, render_markdown

    card = export_bundle(str(bundled_model_path("tensorflow")), data=str(fake_npz), dest=str(tmp_path),
                         class_bias={"sadness": 0.1})
    for name in ("fer_cnn.tflite", "fer_cnn.keras", "fer_cnn.json"):
        assert (tmp_path / name).is_file()
    assert card["publictest"]["n"] == 40
    assert 0.0 <= card["publictest"]["accuracy"] <= 1.0
    assert set(card["other_exports"]) == {"float16", "float32"}
    assert set(card["publictest_by_tta"]) == {"none", "flip", "zoom+flip", "flip+zoom", "flip+2zoom"}
    assert card["tta_views"] == [[1.0, False], [1.0, True]]
    assert card["class_bias"] == {"sadness": 0.1}
    sweep = card["publictest_by_sad_bias"]
    assert list(sweep) == ["0", "0.05", "0.1", "0.15", "0.2", "0.3"]
    assert sweep["0.1"]["accuracy"] == card["publictest"]["accuracy"]  # the card's figures are the biased ones
    recalls = [r["sad_recall"] for r in sweep.values()]
    assert recalls == sorted(recalls)  # a larger bias never loses a sad face
    assert card["size_bytes"]["tflite"] < card["other_exports"]["float16"]["bytes"]
    backend = KerasBackend(tmp_path / "fer_cnn.tflite")
    assert backend.class_bias == {}  # a file of your own: the card's prior applies only to the bundled model
    assert len(backend.classify_faces([np.full((48, 48), 128, np.uint8)])) == 1
    assert "PublicTest accuracy" in render_markdown(card)


def test_distillation_loss_weighs_labels_against_the_tempered_teacher() -> None:
    """``kd_weight`` 0 is the plain cross-entropy, 1 ignores the labels; the KL term is taken at the
    temperature and scaled by its square."""
    from keras import ops

    from buddy_emotion.training.fer import _distillation_loss

    rng = np.random.default_rng(0)
    student, teacher = (rng.dirichlet(np.ones(7), 5).astype(np.float32) for _ in range(2))
    labels = np.eye(7, dtype=np.float32)[rng.integers(0, 7, 5)]
    y_pred = np.concatenate([student, teacher], axis=1)

    def loss(weight: float, temperature: float, y_true: np.ndarray = labels) -> np.ndarray:
        return np.asarray(ops.convert_to_numpy(_distillation_loss(weight, temperature)(y_true, y_pred)))

    def tempered(p: np.ndarray, t: float) -> np.ndarray:
        z = np.log(p.astype(np.float64)) / t
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def kd(t: float) -> np.ndarray:
        return -(np.exp(tempered(teacher, t)) * tempered(student, t)).sum(axis=1) * t * t

    ce = -(labels * np.log(student)).sum(axis=1)
    np.testing.assert_allclose(loss(0.0, 3.0), ce, rtol=1e-5)
    np.testing.assert_allclose(loss(1.0, 3.0), kd(3.0), rtol=1e-5)
    np.testing.assert_allclose(loss(1.0, 3.0, np.roll(labels, 1, axis=1)), loss(1.0, 3.0), rtol=1e-6)
    np.testing.assert_allclose(loss(0.25, 1.0), 0.75 * ce + 0.25 * kd(1.0), rtol=1e-5)
    assert np.abs(kd(3.0) - kd(1.0)).min() > 0.1  # the temperature matters on these inputs


def test_ema_swapped_in_for_evaluation_only(fake_npz: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``ema``, each epoch evaluates the raw weights, then the running average (which is what is
    saved), and the next epoch trains on from the raw weights."""
    import buddy_emotion.training.fer as fer

    models: list = []
    evaluated: list[list[np.ndarray]] = []  # weights at each predict() call
    saved: list[list[np.ndarray]] = []
    started: list[list[np.ndarray]] = []  # weights each epoch starts training from
    real_build, real_lr = fer.build_model, fer.learning_rate_at

    def build(cfg: fer.TrainConfig):
        model = real_build(cfg)
        real_predict, real_save = model.predict, model.save

        def predict(*args, **kwargs):
            evaluated.append(model.get_weights())
            return real_predict(*args, **kwargs)

        def save(*args, **kwargs):
            saved.append(model.get_weights())
            return real_save(*args, **kwargs)

        model.predict, model.save = predict, save
        models.append(model)
        return model

    def lr(progress: float, peak: float) -> float:
        started.append(models[0].get_weights())
        return real_lr(progress, peak)

    monkeypatch.setattr(fer, "build_model", build)
    monkeypatch.setattr(fer, "learning_rate_at", lr)
    tiny: dict[str, Any] = {"data": str(fake_npz), "epochs": 3, "batch_size": 48, "widths": (4, 8), "threads": 1}
    fer.train(fer.TrainConfig(out_dir=str(tmp_path / "ema"), ema=0.8, optimizer="sgd", learning_rate=0.05, **tiny))
    assert len(evaluated) == 12 and len(started) == 3  # per epoch: raw, raw mirrored, average, average mirrored
    raw, avg = evaluated[0::4], evaluated[2::4]

    def close(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
        return all(np.allclose(x, y, atol=1e-6) for x, y in zip(a, b))

    assert all(close(evaluated[i + 1], evaluated[i]) for i in range(0, 12, 2))  # mirrored pass: same weights
    assert close(avg[0], raw[0])  # epoch 0: the average is the raw weights
    for e in (1, 2):
        assert not close(raw[e], raw[e - 1])
        assert close(avg[e], [0.8 * a + 0.2 * w for a, w in zip(avg[e - 1], raw[e])])
        assert close(started[e], raw[e - 1])  # training goes on from the raw weights, not the average
    assert saved and all(any(close(s, a) for a in avg) for s in saved)  # whichever epoch is saved: its average


def test_distillation_options_reach_the_loss(fake_npz: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``kd_weight`` and ``kd_temperature`` are the ones the training loss is built with."""
    import buddy_emotion.training.fer as fer

    teacher = str(tmp_path / "teacher.keras")
    fer.build_model(fer.TrainConfig(widths=(4, 8))).save(teacher)  # untrained: only its outputs matter
    real, built = fer._distillation_loss, []

    def distillation_loss(weight: float, temperature: float) -> Any:
        built.append((weight, temperature))
        return real(weight, temperature)

    monkeypatch.setattr(fer, "_distillation_loss", distillation_loss)
    tiny: dict[str, Any] = {"data": str(fake_npz), "epochs": 1, "batch_size": 48, "widths": (4, 8), "threads": 1}
    cfg = fer.TrainConfig(out_dir=str(tmp_path / "s"), teachers=(teacher,), kd_weight=0.3, kd_temperature=4.0, **tiny)
    fer.train(cfg)
    assert built == [(0.3, 4.0)]


def test_ensemble_without_keras_gives_the_pip_hint(monkeypatch, capsys, tmp_path: Path) -> None:
    import importlib.util

    from buddy_emotion.training.__main__ import main

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "keras" else find_spec(name, *a))
    assert main(["ensemble", "a.keras", "b.keras", "--out-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'ensemble' needs Keras: pip install 'buddy-emotion[keras]'" in err
    assert not (tmp_path / "out").exists()


def _cut_short(monkeypatch: pytest.MonkeyPatch, fer: Any, cfg: Any, at_call: int) -> None:
    """Run ``cfg`` until the ``at_call``-th learning-rate lookup (the start of an epoch), as a lost machine would."""
    real, calls = fer.learning_rate_at, []

    def cut(progress: float, peak: float) -> float:
        calls.append(progress)
        if len(calls) == at_call:
            raise KeyboardInterrupt
        return real(progress, peak)

    monkeypatch.setattr(fer, "learning_rate_at", cut)
    with pytest.raises(KeyboardInterrupt):
        fer.train(cfg)
    monkeypatch.setattr(fer, "learning_rate_at", real)


def _epochs(run: Path) -> list[int]:
    with (run / "history.csv").open() as fh:
        return [int(r["epoch"]) for r in csv.DictReader(fh)]


def test_a_run_cut_between_backup_and_evaluation_logs_every_epoch(fake_npz: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed after the backup of epoch 1 but before its evaluation: the resumed run evaluates it, once."""
    import buddy_emotion.training.fer as fer

    cfg = fer.TrainConfig(data=str(fake_npz), out_dir=str(tmp_path / "run"), epochs=3, batch_size=32,
                          widths=(4, 8), seed=7, threads=1)
    real_build = fer.build_model

    def build(c: fer.TrainConfig):
        model, calls = real_build(c), []
        real_predict = model.predict

        def predict(*args, **kwargs):
            calls.append(1)
            if len(calls) == 3:  # epoch 1's evaluation (two predictions per epoch)
                raise KeyboardInterrupt
            return real_predict(*args, **kwargs)

        model.predict = predict
        return model

    monkeypatch.setattr(fer, "build_model", build)
    with pytest.raises(KeyboardInterrupt):
        fer.train(cfg)
    assert _epochs(tmp_path / "run") == [0]
    monkeypatch.setattr(fer, "build_model", real_build)
    fer.train(cfg)
    assert _epochs(tmp_path / "run") == [0, 1, 2]


def test_ema_average_survives_a_resume(fake_npz: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import buddy_emotion.training.fer as fer

    cfg = fer.TrainConfig(data=str(fake_npz), out_dir=str(tmp_path / "run"), epochs=3, batch_size=48,
                          widths=(4, 8), seed=7, threads=1, ema=0.5, optimizer="sgd", learning_rate=0.05)
    _cut_short(monkeypatch, fer, cfg, 2)
    with np.load(tmp_path / "run" / "backup" / "ema.npz") as d:
        assert int(d["epoch"]) == 0
        avg0 = [d[f"arr_{i}"] for i in range(len(d.files) - 1)]
    real_build, evaluated = fer.build_model, []

    def build(c: fer.TrainConfig):
        model = real_build(c)
        real_predict = model.predict

        def predict(*args, **kwargs):
            evaluated.append(model.get_weights())
            return real_predict(*args, **kwargs)

        model.predict = predict
        return model

    monkeypatch.setattr(fer, "build_model", build)
    fer.train(cfg)
    raw1, avg1 = evaluated[0], evaluated[2]  # epoch 1: raw, raw mirrored, average, average mirrored
    for a, w, b in zip(avg0, raw1, avg1):
        np.testing.assert_allclose(b, 0.5 * a + 0.5 * w, atol=1e-6)


def test_resume_refuses_a_damaged_backup_or_other_options_and_reseeds(fake_npz: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import buddy_emotion.training.fer as fer
    from buddy_emotion.errors import InvalidArgumentError

    cfg = fer.TrainConfig(data=str(fake_npz), out_dir=str(tmp_path / "run"), epochs=4, batch_size=48,
                          widths=(4, 8), seed=7, threads=1)
    _cut_short(monkeypatch, fer, cfg, 2)
    backup = tmp_path / "run" / "backup"
    with pytest.raises(InvalidArgumentError, match="other options: --widths"):
        fer.train(fer.TrainConfig(**{**cfg.__dict__, "widths": (4, 8, 8)}))
    weights = (backup / "latest.weights.h5").read_bytes()
    (backup / "latest.weights.h5").write_bytes(weights[:1000])  # cut short while being written
    with pytest.raises(InvalidArgumentError, match="damaged"):
        fer.train(cfg)
    (backup / "latest.weights.h5").write_bytes(weights)
    _cut_short(monkeypatch, fer, cfg, 2)  # resumes at epoch 1, stops before epoch 2: two backups now
    assert _epochs(tmp_path / "run") == [0, 1]
    (backup / "latest.weights.h5").write_bytes(b"")
    real_augment, seeds = fer._augment_layer, []
    monkeypatch.setattr(fer, "_augment_layer", lambda seed: seeds.append(seed) or real_augment(seed))
    fer.train(cfg)  # falls back to the backup of epoch 0 and trains epoch 1 again
    assert _epochs(tmp_path / "run") == [0, 1, 2, 3]
    assert seeds == [8]  # fresh random streams, not epoch 0's again


@pytest.mark.parametrize("case", ["no data", "not npz", "out dir is a file", "teacher without weight",
                                  "missing teacher", "teacher of another shape", "zero epochs"])
def test_command_line_refuses_bad_input_in_one_line(case: str, fake_npz: Path, tmp_path: Path, capsys) -> None:
    import keras

    from buddy_emotion.training.__main__ import main

    (tmp_path / "file").write_text("not an npz")
    other = tmp_path / "other.keras"
    if case == "teacher of another shape":
        keras.Sequential([keras.Input((48, 48, 3)), keras.layers.Flatten(), keras.layers.Dense(7)]).save(other)
    args = {"no data": ["--data", str(tmp_path / "missing.npz")],
            "not npz": ["--data", str(tmp_path / "file")],
            "out dir is a file": ["--out-dir", str(tmp_path / "file")],
            "teacher without weight": ["--teachers", str(other)],
            "missing teacher": ["--teachers", str(tmp_path / "missing.keras"), "--kd-weight", "0.5"],
            "teacher of another shape": ["--teachers", str(other), "--kd-weight", "0.5"],
            "zero epochs": ["--epochs", "0"]}[case]
    base = ["train", "--data", str(fake_npz), "--out-dir", str(tmp_path / "run"), "--epochs", "1",
            "--batch-size", "48", "--widths", "4", "8", "--threads", "1"]
    capsys.readouterr()
    assert main(base + args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("python -m buddy_emotion.training: error: ")


def test_compact_of_a_missing_file_is_one_line(tmp_path: Path, capsys) -> None:
    from buddy_emotion.training.__main__ import main

    capsys.readouterr()
    assert main(["compact", str(tmp_path / "missing.npz"), str(tmp_path / "small.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "missing.npz: no such file" in err
    assert not (tmp_path / "small.npz").exists()


def test_contradicting_or_missing_inputs_are_refused_before_anything_is_written(fake_npz: Path,
                                                                                   tmp_path: Path) -> None:
    import buddy_emotion.training.fer as fer
    from buddy_emotion.errors import InvalidArgumentError, ModelFileError

    teacher = str(fake_npz)  # an existing file: the pairing is what is refused
    for kw in ({"kd_weight": 0.5}, {"teachers": (teacher,)}, {"teachers": (teacher,), "kd_weight": 1.5},
               {"ema": 1.0}, {"time_budget_s": -1.0}):
        with pytest.raises(InvalidArgumentError):
            fer._check_config(fer.TrainConfig(data=str(fake_npz), **kw))
    run = tmp_path / "run"
    with pytest.raises(InvalidArgumentError, match="no such file"):
        fer.train(fer.TrainConfig(data=str(tmp_path / "missing.npz"), out_dir=str(run)))
    with pytest.raises(ModelFileError, match="no such model file"):
        fer.train(fer.TrainConfig(data=str(fake_npz), out_dir=str(run), teachers=(str(tmp_path / "t.keras"),),
                                  kd_weight=0.5))
    assert not run.exists()


def test_a_resumed_run_keeps_the_best_so_far_and_reseeds(fake_npz: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import keras

    import buddy_emotion.training.fer as fer

    run = tmp_path / "run"
    cfg = fer.TrainConfig(data=str(fake_npz), out_dir=str(run), epochs=2, batch_size=48, widths=(4, 8), seed=7,
                          threads=1)
    _cut_short(monkeypatch, fer, cfg, 2)  # epoch 0 done and saved as the best
    with (run / "history.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["val_accuracy_flip"] = "1.00000"  # nothing can beat it
    with (run / "history.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    best = (run / "best.keras").read_bytes()
    real_seed, seeds = keras.utils.set_random_seed, []
    monkeypatch.setattr(keras.utils, "set_random_seed", lambda s: seeds.append(s) or real_seed(s))
    small = tmp_path / "small.npz"
    fer.compact(fake_npz, small)  # a lossless copy elsewhere: the data path may change on a resume
    fer.train(fer.TrainConfig(**{**cfg.__dict__, "data": str(small), "threads": 2}))
    assert _epochs(run) == [0, 1]
    assert (run / "best.keras").read_bytes() == best  # epoch 1 did not beat the logged best
    assert seeds == [8]


def _recording(monkeypatch: pytest.MonkeyPatch, fer: Any, evaluated: list, cut_at: int = 0) -> None:
    """Record the weights at each predict() call; raise KeyboardInterrupt at the ``cut_at``-th (1-based)."""
    real_build = fer.build_model

    def build(c: Any) -> Any:
        model, calls = real_build(c), []
        real_predict = model.predict

        def predict(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            if len(calls) == cut_at:
                raise KeyboardInterrupt
            evaluated.append(model.get_weights())
            return real_predict(*args, **kwargs)

        model.predict = predict
        return model

    monkeypatch.setattr(fer, "build_model", build)


def test_ema_of_an_epoch_cut_during_its_evaluation_is_not_folded_in_twice(fake_npz: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import buddy_emotion.training.fer as fer

    run = tmp_path / "run"
    cfg = fer.TrainConfig(data=str(fake_npz), out_dir=str(run), epochs=3, batch_size=48, widths=(4, 8), seed=7,
                          threads=1, ema=0.5, optimizer="sgd", learning_rate=0.05)
    _recording(monkeypatch, fer, [], cut_at=7)  # epoch 1: raw, raw mirrored, then cut at the average's
    with pytest.raises(KeyboardInterrupt):
        fer.train(cfg)
    with np.load(run / "backup" / "ema.npz") as d:
        assert int(d["epoch"]) == 1
        avg1 = [d[f"arr_{i}"] for i in range(len(d.files) - 1)]
    monkeypatch.undo()  # the real build_model again
    evaluated: list = []
    _recording(monkeypatch, fer, evaluated)
    fer.train(cfg)
    assert _epochs(run) == [0, 1, 2]
    for a, b in zip(avg1, evaluated[2]):  # epoch 1's average, evaluated now, is the one saved before the cut
        np.testing.assert_allclose(b, a, atol=1e-6)


def test_ema_restarts_when_a_resume_falls_back_to_an_older_backup(fake_npz: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The saved average holds epoch 1, whose backup is damaged: epoch 1 is trained again, its old weights are
    not in the average (which restarts from the retrained epoch)."""
    import buddy_emotion.training.fer as fer

    run = tmp_path / "run"
    cfg = fer.TrainConfig(data=str(fake_npz), out_dir=str(run), epochs=3, batch_size=48, widths=(4, 8), seed=7,
                          threads=1, ema=0.5, optimizer="sgd", learning_rate=0.05)
    _cut_short(monkeypatch, fer, cfg, 2)
    _cut_short(monkeypatch, fer, cfg, 2)  # resumes at epoch 1, stops before epoch 2
    with np.load(run / "backup" / "ema.npz") as d:
        assert int(d["epoch"]) == 1
    (run / "backup" / "latest.weights.h5").write_bytes(b"")
    evaluated: list = []
    _recording(monkeypatch, fer, evaluated)
    fer.train(cfg)
    assert _epochs(run) == [0, 1, 2]
    for raw, avg in zip(evaluated[0], evaluated[2]):  # epoch 1 again: the average is its raw weights
        np.testing.assert_allclose(avg, raw, atol=1e-6)


def _as_kaggle_csv(npz: Path, dst: Path) -> Path:
    """``npz`` rewritten as Kaggle's fer2013.csv (emotion,pixels,Usage): no FER+ votes."""
    with np.load(npz) as d, dst.open("w") as fh:
        fh.write("emotion,pixels,Usage\n")
        for image, label, usage in zip(d["images"], d["labels"], d["usage"]):
            fh.write(f"{int(label)},{' '.join(map(str, image.ravel().tolist()))},{usage}\n")
    return dst


def test_training_reads_kaggles_fer2013_csv(fake_npz: Path, tmp_path: Path) -> None:
    from buddy_emotion.errors import InvalidArgumentError
    from buddy_emotion.training import fer

    data = _as_kaggle_csv(fake_npz, tmp_path / "fer2013.csv")
    for split in ("Training", "PublicTest"):
        a, b = fer.load_split(fake_npz, split), fer.load_split(data, split)
        np.testing.assert_array_equal(a["images"], b["images"])
        np.testing.assert_array_equal(a["labels"], b["labels"])
        assert "ferplus" not in b
    with pytest.raises(InvalidArgumentError, match="needs FER\\+ votes"):  # not silently trained without them
        fer.train(fer.TrainConfig(data=str(data), out_dir=str(tmp_path / "refused"), ferplus_weight=0.25))
    assert not (tmp_path / "refused").exists()  # refused before anything was written
    cfg = fer.TrainConfig(data=str(data), out_dir=str(tmp_path / "run"), epochs=1, batch_size=32,
                          widths=(8, 16, 16), seed=7, threads=1)
    assert fer.train(cfg).is_file()
