"""Average several trained FER-2013 CNNs into one Keras model, exported and run as a single file.

The members keep their own weights; the ensemble model feeds the same face to each and averages their
softmax outputs. One ``.tflite`` then holds it all, so the ``keras`` backend needs no change and LiteRT
runs the members in one call. The run folder it writes (``config.json``, ``history.csv``,
``wall_time_s.txt``) lets :func:`buddy_emotion.training.export.export_bundle` write an honest card:
every member's training command and the sum of their wall times.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any


def _command(config: dict[str, Any]) -> str:
    return "python -m buddy_emotion.training train " + " ".join(
        f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in config.items() if k not in ("extra", "data", "limit", "threads"))


def build_ensemble(member_paths: list[str], out_dir: str) -> Path:
    """Write ``out_dir/ensemble.keras`` (the averaged model) and a run folder describing its members."""
    import keras

    from buddy_emotion.backends.keras import widen_to_float32

    if len(member_paths) < 2:
        raise ValueError("an ensemble needs at least two member models")
    members = []
    for i, path in enumerate(member_paths):
        m = widen_to_float32(keras, keras.models.load_model(path, compile=False))
        m.name = f"member_{i}"  # unique names inside the outer model
        members.append(m)
    inp = keras.Input(members[0].input_shape[1:], name="face")
    out = keras.layers.Average(name="emotion")([m(inp) for m in members])
    model = keras.Model(inp, out, name=f"buddy_fer_cnn_x{len(members)}")
    out_path = Path(out_dir)
    out_path.mkdir(parents=True, exist_ok=True)
    model.save(out_path / "ensemble.keras")

    configs, walls, best_epochs = [], [], []
    for path in member_paths:
        run = Path(path).parent
        cfg = json.loads((run / "config.json").read_text()) if (run / "config.json").is_file() else {}
        configs.append(cfg)
        wall = run / "wall_time_s.txt"
        walls.append(float(wall.read_text().strip()) if wall.is_file() else None)
        hist = run / "history.csv"
        if hist.is_file():
            with hist.open() as fh:
                best_epochs.append(max(float(r["val_accuracy"]) for r in csv.DictReader(fh)))
    first = dict(configs[0])
    first["ensemble_of"] = [{"model": str(p), "config": c, "command": _command(c)}
                            for p, c in zip(member_paths, configs)]
    (out_path / "config.json").write_text(json.dumps(first, indent=2) + "\n")
    if all(w is not None for w in walls):
        (out_path / "wall_time_s.txt").write_text(str(sum(walls)))  # type: ignore[arg-type]
    return out_path / "ensemble.keras"
