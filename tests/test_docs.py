"""The Python snippets of the README and docs/: valid Python whose buddy_emotion imports exist.

They are not run (most need a camera, a photo or Azure keys), but a renamed or removed name would leave
the docs teaching an API that is gone; this catches it.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """``(where, body)`` of every block of the docs that ``pattern`` matches; ``where`` is ``file:line``."""
    out = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in pattern.finditer(text):
            out.append((f"{doc.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}", m.group(1)))
    return out


SNIPPETS = [pytest.param(body, id=where) for where, body in _blocks(BLOCK)]


def test_the_docs_have_python_snippets() -> None:
    assert len(SNIPPETS) >= 10


@pytest.mark.parametrize("code", SNIPPETS)
def test_a_snippet_is_python_and_its_imports_exist(code: str) -> None:
    tree = ast.parse(code)  # a SyntaxError names the line
    imported: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "buddy_emotion":
            module = importlib.import_module(node.module)  # type: ignore[arg-type]
            for alias in node.names:
                if alias.name != "*":
                    assert hasattr(module, alias.name) or importlib.util.find_spec(f"{node.module}.{alias.name}"), \
                        f"from {node.module} import {alias.name}: no such name"
                    if hasattr(module, alias.name):
                        imported[alias.asname or alias.name] = getattr(module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "buddy_emotion":
                    importlib.import_module(alias.name)
    # Detector.from_options, SadnessMonitor.on_sad, ...: attributes of the imported names exist too
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in imported:
            assert hasattr(imported[node.value.id], node.attr), f"{node.value.id}.{node.attr}: no such attribute"


SHELL_BLOCK = re.compile(r"^[ \t]*```(?:bash|sh|console)\n(.*?)^[ \t]*```", re.S | re.M)


def _commands() -> list:
    """Every ``buddy-emotion ...`` (or ``python -m buddy_emotion ...``) command of the docs' shell blocks."""
    out = []
    for where, body in _blocks(SHELL_BLOCK):
        for line in body.splitlines():
            for command in (c.strip() for c in re.split(r"&&|;|\|", line)):
                for prefix in ("buddy-emotion ", "python -m buddy_emotion "):
                    if command.startswith(prefix):
                        out.append(pytest.param(shlex.split(command[len(prefix):], comments=True),
                                                id=f"{where}: {command[:60]}"))
    return out


COMMANDS = _commands()


def test_the_docs_have_commands() -> None:
    assert len(COMMANDS) >= 6
    assert ["analyze", "--sample", "astronaut", "--annotate", "out/"] in [p.values[0] for p in COMMANDS]


@pytest.mark.parametrize("argv", COMMANDS)
def test_a_documented_command_parses(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from buddy_emotion.cli import build_parser

    try:
        build_parser().parse_args(argv)  # parsed, not run: no camera, file or data needed
    except SystemExit:
        pytest.fail(f"buddy-emotion {shlex.join(argv)}: {capsys.readouterr().err.strip()}")
