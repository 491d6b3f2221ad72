"""The import layers that docs/architecture.md promises: no module imports one above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "buddy_emotion"

# docs/architecture.md, bottom to top; a part may import parts of lower layers only (and itself).
LAYERS: list[set[str]] = [
    {"errors", "_version", "_runtime"},
    {"labels", "_check"},
    {"types"},
    {"frames", "landmarks"},
    {"face_detection"},
    {"backends", "cameras"},
    {"detector"},
    {"monitor"},
    {"evaluation", "plotting", "testing"},
    {"training"},
    {"cli"},
]
LEVEL = {part: i for i, layer in enumerate(LAYERS) for part in layer}


def _part(path: Path) -> str:
    """The top-level part of the package a source file belongs to (``backends/keras.py`` -> ``backends``)."""
    rel = path.relative_to(PACKAGE).parts
    return rel[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported part) for every import of ``buddy_emotion.<part>`` in ``path``, deferred ones included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = node.module.split(".")
            if names[0] != "buddy_emotion":
                continue
            if len(names) > 1:
                out.append((node.lineno, names[1]))
            else:  # from buddy_emotion import x: a part, or a name of the package's public API
                out.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.Import):
            out.extend((node.lineno, a.name.split(".")[1]) for a in node.names
                       if a.name.startswith("buddy_emotion."))
    return out


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_part_has_a_layer() -> None:
    parts = {_part(p) for p in SOURCES}
    assert parts - set(LEVEL) == set(), "add new parts of the package to LAYERS and to docs/architecture.md"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_goes_up(path: Path) -> None:
    me = _part(path)
    upward = [f"line {line}: {me} imports {target}" for line, target in _imports(path)
              if target != me and LEVEL.get(target, -1) >= LEVEL[me]]
    assert upward == []
