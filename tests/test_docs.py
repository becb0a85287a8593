"""README.md and docs/: every code block runs, every generated table builds (the docstrings'
examples: tests/test_doctests.py)."""

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

from _docs import DOCS, ROOT, blocks, pages, run

LANGS = {"python", "bash", "text"}
#: the commands a bash block may start with
COMMANDS = {"python", "python3", ".", "backprop-compare", "pytest", "split", "pip", "mkdocs"}


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUNNABLE = [p for p in pages() if any(not b.marker for b in blocks(p, "python"))]


@pytest.mark.parametrize("path", RUNNABLE, ids=_page_id)
def test_python_blocks_run(path, tmp_path, monkeypatch):
    """Every unmarked python block of a page, in order, in one namespace (a page reads as
    one session), in an empty folder."""
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks(path, "python"):
        if not block.marker:
            run(block, namespace)


def test_every_block_is_explicit():
    """Every fence names its language; a marked block says why, compiles, and a tested-by
    marker names a test file that runs this page."""
    for path in pages():
        for block in blocks(path):
            assert block.lang in LANGS, f"{block.name}: a fence without a known language " \
                                        f"({block.lang!r}); use one of {sorted(LANGS)}"
            if block.marker:
                assert block.lang == "python" and block.why, f"{block.name}: {block.marker}"
                compile(block.code, block.name, "exec")
            if block.marker == "tested-by":
                test = ROOT / block.why
                assert test.is_file(), f"{block.name}: no test file {block.why}"
                assert _page_id(path) in test.read_text(), \
                    f"{block.name}: {block.why} does not run {_page_id(path)}"


def _commands(code: str) -> list[list[str]]:
    out = []
    for line in code.splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            out.append(shlex.split(line.replace("$(cat shard-02)", "shard-02")))
    return out


def test_bash_blocks_name_real_commands_and_options():
    """Each bash line starts with a known command; `backprop-compare` options parse with the
    real parser; every `python -m X` module exists."""
    from comparisons.cli import _parser

    for path in pages():
        for block in blocks(path, "bash"):
            for words in _commands(block.code):
                for part in " ".join(words).split(" && "):
                    cmd = part.split()
                    assert cmd[0] in COMMANDS, f"{block.name}: unknown command {cmd[0]!r}"
                    if cmd[0] == "backprop-compare" and cmd[1:2] != ["check"]:
                        _parser().parse_args(cmd[1:])
                    if cmd[0].startswith("python") and cmd[1:2] == ["-m"]:
                        module = cmd[2]
                        if module not in ("venv",):
                            assert importlib.util.find_spec(module), f"{block.name}: {module}"


def test_readme_is_short_and_its_commands_are_ci_s():
    """The README fits a screen or two, and its two set-up commands are the ones CI runs."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [b.code.strip() for b in blocks("README.md", "bash")[:2]]
    assert commands == [
        'python3 -m venv .venv && . .venv/bin/activate && pip install -q -c constraints.txt '
        '-e ".[dev]" && backprop-compare --out reports',
        ". .venv/bin/activate && pytest -n auto"]
    assert all(c in ci for c in commands)


def test_links_between_pages_exist():
    """Every relative link of README.md and docs/ points to a file that exists."""
    for path in pages():
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
            if not re.match(r"[a-z]+://", target):
                assert (path.parent / target).exists(), f"{_page_id(path)}: {target}"


def test_generated_blocks_and_counts():
    """Every marker of the docs names a generator, and every generator builds; the tables
    name every registered component."""
    from manual import activations, losses

    hooks = _hooks()
    for path in DOCS.rglob("*.md"):
        text = path.read_text()
        if "<!-- gen:" in text or "<!-- count:" in text:
            assert "<!-- " not in re.sub(r"<!-- (no-run|tested-by):[^>]*-->", "",
                                         hooks.expand(text)), path
    table = hooks.render("activations")
    assert all(f"`{n}`" in table for n in activations.names())
    assert all(f"`{n}`" in hooks.render("losses") for n in losses.names())
    assert hooks.count("activations") == str(len(activations.names()))


def test_reports_page_documents_every_column():
    from comparisons.run.rows import ROW_COLUMNS
    from comparisons.run.trajectories import RUN_COLUMNS, TRAJECTORY_COLUMNS

    page = (DOCS / "reference" / "reports.md").read_text()
    missing = [c for c in {*ROW_COLUMNS, *TRAJECTORY_COLUMNS, *RUN_COLUMNS}
               if f"`{c}`" not in page]
    assert not missing, f"columns without a line in docs/reference/reports.md: {missing}"


def test_rst_to_markdown():
    hooks = _hooks()
    doc = ("Text with ``code`` and :func:`f`.\n\n.. math:: a = b\n\n"
           "=====  =====\nx      y\n=====  =====\n1      |2|\n       3\n=====  =====\n\n"
           ">>> 1 + 1\n2\n")
    md = hooks.rst_to_markdown(doc)
    assert "`code`" in md and "`f`" in md and "$$\na = b\n$$" in md
    assert "| x | y |" in md and "| 1 | \\|2\\| 3 |" in md
    assert "```pycon\n>>> 1 + 1\n2\n```" in md
