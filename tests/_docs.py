"""The code blocks of README.md and docs/, for the tests that run them.

A fenced block is run by ``tests/test_docs.py`` unless the line right before it is a marker:

``<!-- no-run: why -->``
    not a script (a file edit, a class as it would be written); only compiled.
``<!-- tested-by: tests/test_x.py -->``
    run by that test file, with its own fixtures and asserts (it calls :func:`blocks` with
    this page's path).

Only ``python`` blocks are Python; ``bash`` blocks are commands (their ``backprop-compare``
options and ``python -m`` modules are checked), ``text`` blocks are output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)[^\n]*\n(?P<code>.*?)^(?P=indent)```[ \t]*$",
                   re.MULTILINE | re.DOTALL)
MARKER = re.compile(r"<!-- (?P<kind>no-run|tested-by): *(?P<why>.*?) -->")


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, its language, its code and its marker."""

    path: Path
    line: int
    lang: str
    code: str
    marker: str = ""  # "", "no-run" or "tested-by"
    why: str = ""

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def pages() -> list[Path]:
    """README.md and every page of docs/."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def blocks(path: str | Path, lang: str | None = None, marker: str | None = None
           ) -> list[Block]:
    """The fenced blocks of a page (a path relative to the repository, or absolute), in
    order; ``lang`` and ``marker`` filter (``marker="tested-by"`` picks the blocks a test
    file runs itself)."""
    path = Path(path) if Path(path).is_absolute() else ROOT / path
    text = path.read_text(encoding="utf-8")
    found = []
    for m in FENCE.finditer(text):
        before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        mark = MARKER.fullmatch(before)
        indent = len(m.group("indent"))
        code = "\n".join(ln[indent:] for ln in m.group("code").split("\n"))
        found.append(Block(path, text.count("\n", 0, m.start()) + 1, m.group("lang"), code,
                           mark.group("kind") if mark else "", mark.group("why") if mark else ""))
    return [b for b in found if (lang is None or b.lang == lang)
            and (marker is None or b.marker == marker)]


def run(block: Block, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    """Exec one python block (in ``namespace``, which it updates); the namespace."""
    namespace = {} if namespace is None else namespace
    exec(compile(block.code, block.name, "exec"), namespace)  # noqa: S102 (our own docs)
    return namespace


def run_tested_by(path: str | Path, test_file: str, namespace: dict[str, Any] | None = None
                  ) -> dict[str, Any]:
    """Exec, in one namespace, the python blocks of ``path`` marked
    ``<!-- tested-by: test_file -->``; the namespace."""
    chosen = [b for b in blocks(path, "python", "tested-by") if b.why == test_file]
    if not chosen:
        raise AssertionError(f"{path} has no python block marked tested-by: {test_file}")
    namespace = {} if namespace is None else namespace
    for block in chosen:
        run(block, namespace)
    return namespace
