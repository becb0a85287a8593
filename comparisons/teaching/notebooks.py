r"""The lessons as Jupyter notebooks, and an instructor's assignment, generated from one source.

Each notebook of ``notebooks/`` is written by :func:`write_notebooks` from a module of
:mod:`manual`, never edited by hand (``tests/test_notebooks.py`` fails when one is stale,
and runs every one top to bottom with nbclient):

- ``notebooks/<lesson>.ipynb`` for each lesson of :data:`manual.lessons.LESSONS`: the
  lesson's docstring (the question and the answer) as markdown, the lesson module's own
  code, cell by cell, then its tables, its plot inline, and a last cell that checks every
  number torch can compute against torch (:func:`comparisons.teaching.lessons.lesson_rows`).
- ``notebooks/assignment_affine.ipynb``: CS231n's affine layer as an exercise, in the style
  of nbgrader: :func:`manual.layers.affine_forward` as given, the body of
  :func:`manual.layers.affine_backward` replaced by ``# YOUR CODE HERE``, and a cell that
  grades it with :func:`comparisons.check_layer` against torch and finite differences.

Regenerate with ``python -m comparisons.teaching.notebooks`` (after editing a lesson).
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import cast

import nbformat

__all__ = ["ASSIGNMENT", "NOTEBOOKS", "assignment_notebook", "lesson_notebook", "main",
           "markdown", "notebooks", "solution_source", "write_notebooks"]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ASSIGNMENT = "assignment_affine"
#: what the student replaces (nbgrader's marker)
EXERCISE = "    # YOUR CODE HERE\n    raise NotImplementedError()\n"


# --------------------------------------------------------------------------------------
# reStructuredText docstrings as notebook markdown
# --------------------------------------------------------------------------------------
def markdown(rst: str) -> str:
    """A docstring's reStructuredText as Jupyter markdown: ``:math:`x``` as ``$x$``,
    ``.. math::`` blocks as ``$$ … $$``, double back-quotes as code, Sphinx roles as their
    target's last name."""
    text = inspect.cleandoc(rst)

    def block(m: re.Match) -> str:
        body = inspect.cleandoc(m.group(1))
        return f"$$\n{body}\n$$\n\n"

    text = re.sub(r"^\.\. math::\n((?:[ \t]+.*\n?|\n)+)", block, text + "\n", flags=re.M)
    text = re.sub(r":math:`([^`]*)`", r"$\1$", text)
    text = re.sub(r":(?:py:)?\w+:`~?(?:[\w.]*\.)?([^`<]*?)`", r"`\1`", text)
    return re.sub(r"``([^`]*)``", r"`\1`", text).strip()


# --------------------------------------------------------------------------------------
# a lesson module, cell by cell
# --------------------------------------------------------------------------------------
def _code_cells(source: str) -> list[str]:
    """The module's code after its docstring, one cell per top-level function or class
    (with the comments and decorators above it), the statements between them grouped;
    the command-line entry point (``main = main_for(...)``, ``if __name__ ...``) left out:
    a notebook runs its cells instead."""
    tree = ast.parse(source)
    lines = source.splitlines()
    body = tree.body[1:] if ast.get_docstring(tree) else tree.body
    cells: list[list[str]] = []
    prev_end = body[0].lineno - 1 if body else 0
    loose = False
    for node in body:
        assert node.end_lineno is not None  # ast.parse gives every statement its position
        if _entry_point(node):
            prev_end = node.end_lineno
            continue
        chunk = lines[prev_end:node.end_lineno]
        prev_end = node.end_lineno
        is_def = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        if is_def or not loose or not cells:
            cells.append(chunk)
        else:
            cells[-1].extend(chunk)
        loose = not is_def
    return [text for text in ("\n".join(c).strip("\n") for c in cells) if text.strip()]


def _entry_point(node: ast.stmt) -> bool:
    if isinstance(node, ast.If):
        test = ast.unparse(node.test)
        return "__name__" in test
    if isinstance(node, ast.Assign):
        return ast.unparse(node.value).startswith("main_for(")
    return False


def lesson_notebook(module: ModuleType) -> nbformat.NotebookNode:
    """The notebook of a lesson module: its question and answer, its code, its tables, its
    plot inline, and the check against torch."""
    name = module.__name__.rsplit(".", 1)[-1]
    assert module.__file__ is not None, f"{module.__name__}: a lesson is a source file"
    source = Path(module.__file__).read_text(encoding="utf-8")
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    first, _, rest = markdown(module.__doc__ or name).partition("\n\n")  # the title paragraph
    cells = [md(f"# {' '.join(first.split())}\n\n{rest.strip()}"),
             md(f"*Generated from `manual/lessons/{name}.py` by `python -m "
                f"comparisons.teaching.notebooks`: edit the module, not this notebook.* The "
                f"cells below are the module's own code, then the lesson's tables, its plot "
                f"and the check of every number against torch.")]
    cells += [code(c) for c in _code_cells(source)]
    cells += [md("## The tables"),
              code("from IPython.display import display\n\n"
                   "for title, frame in tables().items():\n"
                   "    print(title)\n"
                   "    display(frame)"),
              md("## The plot"),
              code("from pathlib import Path\n\nfrom IPython.display import Image\n\n"
                   f"Image(filename=str(plot(Path('{name}.png'))))"),
              md("## Checked against torch\n\nEvery number of the lesson that torch can "
                 "compute, against torch (error / tolerance: a row passes when it is ≤ 1)."),
              code("import pandas as pd\n"
                   "from comparisons.teaching.lessons import lesson_rows\n\n"
                   f"rows = pd.DataFrame(lesson_rows({name!r}))\n"
                   "assert len(rows) and (rows['err_over_tol'] <= 1).all(), "
                   "rows[rows['err_over_tol'] > 1]\n"
                   "rows")]
    return _notebook(cells)


# --------------------------------------------------------------------------------------
# the assignment: a layer's backward as an exercise
# --------------------------------------------------------------------------------------
def solution_source() -> tuple[str, str]:
    """``(forward, backward)``: the source of :func:`manual.layers.affine_forward` and of
    :func:`manual.layers.affine_backward`, as in ``manual/``."""
    from manual.layers import linear

    return inspect.getsource(linear.affine_forward), inspect.getsource(linear.affine_backward)


def exercise_source(backward: str) -> str:
    """``backward`` with its body (after the docstring) replaced by the exercise marker."""
    fn = cast(ast.FunctionDef, ast.parse(backward).body[0])  # the source of one function
    lines = backward.splitlines(keepends=True)
    first = fn.body[1] if ast.get_docstring(fn) else fn.body[0]
    return "".join(lines[:first.lineno - 1]) + EXERCISE


def assignment_notebook(backward: str | None = None) -> nbformat.NotebookNode:
    """CS231n's affine layer with the backward to write (``backward``: the source put in
    its cell, e.g. a solution; default the exercise) and the grading cell."""
    forward, solution = solution_source()
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md("# Assignment: the backward pass of an affine layer\n\n"
           "For a batch $X$ of shape (N, in), weights $W$ (in, out) and a bias $b$ (out,), "
           "the affine layer computes\n\n$$\nZ = X W + b .\n$$\n\n"
           "Given the upstream gradient $\\delta = \\partial L/\\partial Z$ (N, out), "
           "derive $\\partial L/\\partial X$, $\\partial L/\\partial W$ and "
           "$\\partial L/\\partial b$, and write them in `affine_backward`, vectorised "
           "(no Python loop over the examples). Check your shapes first: each gradient has "
           "the shape of what it is the gradient of."),
        md("*Generated from `manual/layers/linear.py` by `python -m "
           "comparisons.teaching.notebooks`.* Write `affine_backward` where it says "
           "`# YOUR CODE HERE`, then run the last cell: it checks your gradients against "
           "torch's autograd and central finite differences, under a random upstream "
           "gradient, and names a classic slip when one explains your array exactly."),
        code("from __future__ import annotations\n\nimport numpy as np"),
        code(forward.rstrip("\n")),
        code((backward if backward is not None else exercise_source(solution)).rstrip("\n")),
        md("## Grading"),
        code("from comparisons import check_layer, failures\n\n"
             "rng = np.random.default_rng(0)\n"
             "x, W, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), "
             "rng.standard_normal(3)\n"
             "rows = check_layer(affine_forward, affine_backward, inputs=(x, W, b),\n"
             "                   reference=lambda x, W, b: x @ W + b)\n"
             "problems = failures(rows)\n"
             "assert not problems, '\\n'.join(problems)\n"
             "print(f'all {len(rows)} checks pass')"),
    ]
    return _notebook(cells)


def _notebook(cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                  "language": "python"},
                   "language_info": {"name": "python"}}
    for i, cell in enumerate(nb.cells):  # deterministic ids: the same source, the same file
        cell.id = f"cell-{i}"
    return nb


def notebooks() -> dict[str, nbformat.NotebookNode]:
    """Every notebook, by file stem."""
    from manual.lessons import LESSONS, lesson

    out = {name: lesson_notebook(lesson(name)) for name in LESSONS}
    out[ASSIGNMENT] = assignment_notebook()
    return out


def write_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """Write every notebook into ``folder``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, nb in notebooks().items():
        path = folder / f"{stem}.ipynb"
        path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """``python -m comparisons.teaching.notebooks [--out DIR]``."""
    p = argparse.ArgumentParser(prog="python -m comparisons.teaching.notebooks",
                                description="Write the lessons' notebooks and the assignment "
                                            "(generated from manual/; never edit them).")
    p.add_argument("--out", type=Path, default=NOTEBOOKS, help="folder (default: notebooks/)")
    args = p.parse_args(argv)
    for path in write_notebooks(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
