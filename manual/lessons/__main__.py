"""python -m manual.lessons: run the lessons, print their tables, write their plots."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from manual.cli import (HelpFormatter, exit_codes, fail, out_dir_problem, select_ids,
                         selection_error)
from manual.lessons import LESSONS, lesson
from manual.lessons._common import DEFAULT_OUT, run_lesson

DESCRIPTION = """\
Run the lessons: each prints its question, its answer and its tables, and writes its
plot as <lesson>.png in --out (when matplotlib, the 'plots' extra, is installed; without
it the tables still print and one line says how to get the plots).

""" + textwrap.fill("lessons: " + ", ".join(LESSONS), width=88)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m manual.lessons", description=DESCRIPTION,
        formatter_class=HelpFormatter,
        epilog=exit_codes(passed="every lesson ran", failed=None,
                          bad="an unknown flag, an --only that matches no lesson, an --out "
                              "that is a file or not writable"))
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                   help="folder for the PNG plots")
    p.add_argument("--only", default="", metavar="NAMES",
                   help="run only these lessons: exact names or shell-style patterns "
                        "('*gradient*'), comma-separated; empty: all")
    p.add_argument("--list", action="store_true", help="print the selected lessons and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    problem = selection_error(LESSONS, args.only, "lesson")
    if problem:
        fail(p.prog, f"{problem}; lessons: {', '.join(LESSONS)}")
    names = select_ids(LESSONS, args.only)
    if args.list:
        print("\n".join(names))
        return 0
    problem = out_dir_problem(args.out)
    if problem:
        fail(p.prog, problem)
    for name in names:
        run_lesson(lesson(name), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
