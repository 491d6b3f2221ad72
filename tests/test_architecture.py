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
    {"types", "_live"},
    {"frames", "landmarks"},
    {"face_detection"},
    {"backends", "cameras"},
    {"detector"},
    {"monitor"},
    {"evaluation", "plotting", "testing"},
    {"training"},
    {"cli"},
    {"__main__"},
]
LEVEL = {part: i for i, layer in enumerate(LAYERS) for part in layer}
TOP = "buddy_emotion (the public API)"


def _part(path: Path) -> str:
    """The top-level part of the package a source file belongs to (``backends/keras.py`` -> ``backends``)."""
    rel = path.relative_to(PACKAGE).parts
    return rel[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported part) for every import of the package in ``path``, deferred and relative ones included.

    A name imported from the package itself (``from buddy_emotion import Detector``) is the public API,
    ``TOP``, above every part; a part imported that way (``from buddy_emotion import backends``) is that part.
    """
    here = ["buddy_emotion", *path.relative_to(PACKAGE).with_suffix("").parts][:-1]  # the file's package
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            names = [*base, *(node.module.split(".") if node.module else [])]
            if names[:1] != ["buddy_emotion"]:
                continue
            if len(names) > 1:
                out.append((node.lineno, names[1]))
            else:
                out.extend((node.lineno, a.name if a.name in LEVEL else TOP) for a in node.names)
        elif isinstance(node, ast.Import):
            for a in node.names:
                names = a.name.split(".")
                if names[0] == "buddy_emotion":
                    out.append((node.lineno, names[1] if len(names) > 1 else TOP))
    return out


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_part_has_a_layer() -> None:
    parts = {_part(p) for p in SOURCES}
    assert parts - set(LEVEL) == set(), "add new parts of the package to LAYERS and to docs/architecture.md"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_goes_up(path: Path) -> None:
    me = _part(path)
    upward = [f"line {line}: {me} imports {target}" for line, target in _imports(path)
              if target != me and LEVEL.get(target, len(LAYERS)) >= LEVEL[me]]
    assert upward == []
