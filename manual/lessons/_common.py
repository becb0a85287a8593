r"""Plumbing shared by the lessons: the gradient-descent step, training loop, printing, plots.

Every lesson module defines

``TITLE``
    One line.
``tables() -> dict[str, pandas.DataFrame]``
    Its numbers, each table under a caption (``table()`` returns the main one).
``plot(path) -> pathlib.Path``
    Writes one PNG (matplotlib, imported inside the function only: an optional extra).
``main(argv=None)``
    ``python -m manual.lessons.<lesson> [--out DIR]``: print the tables, write the plot.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, TextIO

import numpy as np
import pandas as pd

from manual.cli import HelpFormatter, exit_codes, fail, out_dir_problem, plain

__all__ = ["DEFAULT_OUT", "figure", "gradient_descent_step", "lesson_name", "main_for",
           "matplotlib_available", "print_lesson", "run_lesson", "save_figure", "train"]

DEFAULT_OUT = Path("reports") / "lessons"


# --------------------------------------------------------------------------------------
# learning
# --------------------------------------------------------------------------------------
def gradient_descent_step(params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray],
                          lr: float) -> None:
    r"""One step of plain gradient descent, in place: :math:`\theta \leftarrow \theta - \eta\,
    \partial J/\partial\theta` for every parameter.

    This is ``torch.optim.SGD(params, lr=lr)`` with its defaults (``momentum=0``,
    ``dampening=0``, ``weight_decay=0``, ``nesterov=False``): SGD without momentum.
    """
    for name, p in params.items():
        p -= lr * grads[name]  # in place: the network computes with these very arrays


def train(net: Any, X: np.ndarray, y: np.ndarray, lr: float, steps: int) -> np.ndarray:
    r"""Full-batch gradient descent on ``net`` (anything with ``params``, ``gradients`` and
    ``loss``). Returns :math:`J` before each step and after the last: ``steps + 1`` values."""
    losses = np.empty(steps + 1)
    for k in range(steps):
        J, grads = net.gradients(X, y)
        losses[k] = J
        gradient_descent_step(net.params, grads, lr)
    losses[steps] = net.loss(X, y)
    return losses


# --------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------
def matplotlib_available() -> bool:
    """Whether the optional ``plots`` extra (matplotlib) is installed; nothing is imported."""
    return importlib.util.find_spec("matplotlib") is not None


def figure(ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 3.8,
           title: str | None = None):
    """A matplotlib ``Figure`` and its axes, built without pyplot (no global state, no
    display needed), with ``title`` over all panels (the lesson's ``TITLE``). matplotlib is
    imported here, never at module import."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    if title:
        fig.suptitle(title, fontsize=12)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def save_figure(fig: Any, path: Path) -> Path:
    """Write ``fig`` as a PNG at ``path`` (creating its folder) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def _question_and_answer(module: ModuleType) -> str:
    """The docstring from its "Question" paragraph on, as plain console text: Sphinx roles
    and double back-quotes stripped, the math rendered in Unicode (∂J/∂w₁₄)."""
    doc = inspect.cleandoc(module.__doc__ or "")
    start = doc.find("Question")
    return plain(doc[start:] if start >= 0 else doc)


def print_lesson(module: ModuleType, stream: TextIO | None = None) -> dict[str, pd.DataFrame]:
    """Print the lesson's title, question and answer, and every table; return the tables."""
    stream = stream or sys.stdout
    print(f"\n=== {module.TITLE} ===\n", file=stream)
    print(_question_and_answer(module), file=stream)
    tables = module.tables()
    with pd.option_context("display.width", 140, "display.max_columns", 30,
                           "display.max_colwidth", 60, "display.precision", 4):
        for caption, df in tables.items():
            print(f"\n--- {caption} ---", file=stream)
            print(df.to_string(index=False), file=stream)
    return tables


def lesson_name(module: ModuleType) -> str:
    """``derivative_as_limit`` for ``manual.lessons.derivative_as_limit``, also under ``-m``
    (where ``__name__`` is ``"__main__"`` but the spec keeps the real name)."""
    spec = getattr(module, "__spec__", None)
    return (spec.name if spec else module.__name__).rsplit(".", 1)[-1]


def run_lesson(module: ModuleType, out: Path | None = DEFAULT_OUT,
               stream: TextIO | None = None) -> Path | None:
    """Print one lesson and write its plot to ``out/<lesson>.png`` (None: no plot).

    Returns the PNG's path, or None when no plot was written (matplotlib missing)."""
    stream = stream or sys.stdout
    print_lesson(module, stream)
    if out is None:
        return None
    if not matplotlib_available():
        print("\n(plot skipped: matplotlib is not installed; pip install "
              "'backprop-reference-suite[plots]')", file=stream)
        return None
    path = module.plot(Path(out) / f"{lesson_name(module)}.png")
    print(f"\nwrote {path}", file=stream)
    return path


class LessonMain(Protocol):
    """The type of a lesson's ``main``: ``main(argv=None) -> exit code``."""

    def __call__(self, argv: list[str] | None = None) -> int: ...


def main_for(module_name: str) -> LessonMain:
    """The ``main`` of a single-lesson module: ``python -m manual.lessons.<lesson>``."""

    def main(argv: list[str] | None = None) -> int:
        module = sys.modules[module_name]
        name = lesson_name(module)
        first = inspect.cleandoc(module.__doc__ or "").split("\n\n")[0]
        p = argparse.ArgumentParser(
            prog=f"python -m manual.lessons.{name}", formatter_class=HelpFormatter,
            description=f"{plain(first)}\n\nPrints the question, the answer and the tables, "
                        f"and writes the plot as {name}.png in --out\n(when matplotlib, the "
                        f"'plots' extra, is installed).",
            epilog=exit_codes(passed="the lesson ran", failed=None,
                              bad="an unknown flag, an --out that is a file or not writable"))
        p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                       help="folder for the PNG plot")
        args = p.parse_args(argv)
        problem = out_dir_problem(args.out)
        if problem:
            fail(p.prog, problem)
        run_lesson(module, args.out)
        return 0

    return main
