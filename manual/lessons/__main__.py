"""``python -m manual.lessons [--out DIR] [--only NAME]``: run every lesson, print its
tables and write its plot (skipped, with a note, when matplotlib is not installed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from manual.lessons import LESSONS, lesson
from manual.lessons._common import DEFAULT_OUT, run_lesson


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m manual.lessons",
                                description="Run the lessons: print each table, write each plot.")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"folder for the PNG plots (default: {DEFAULT_OUT})")
    p.add_argument("--only", default="",
                   help="run only the lessons whose name contains this substring")
    args = p.parse_args(argv)
    names = [n for n in LESSONS if args.only in n]
    if not names:
        p.error(f"no lesson name contains {args.only!r}; lessons: {', '.join(LESSONS)}")
    for name in names:
        run_lesson(lesson(name), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
