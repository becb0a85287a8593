"""A progress bar with an estimate of the time left, for the long commands.

:func:`progress` wraps an iterable (or counts by hand with ``update``) in a ``tqdm`` bar
that shows only when someone can see it: stderr is a terminal, the ``CI`` environment
variable is unset or empty, and the command was not given ``--quiet``. Otherwise it is a
silent pass-through, so redirected output and CI logs stay clean. Use it in any command::

    from comparisons.core.progress import progress

    for case in progress(cases, desc="gradients", quiet=args.quiet):
        ...

    with progress(total=len(cases), desc="trajectories", quiet=args.quiet) as bar:
        for frame in results:
            bar.update(1)

``add_quiet_argument(parser)`` adds the standard ``--quiet`` option.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm

__all__ = ["add_quiet_argument", "progress", "progress_enabled"]


def progress_enabled(quiet: bool = False) -> bool:
    """True when a bar is worth drawing: not ``quiet``, stderr a terminal, not in CI."""
    return (not quiet and not os.environ.get("CI")
            and bool(getattr(sys.stderr, "isatty", lambda: False)()))


def progress(iterable: Iterable[Any] | None = None, *, total: int | None = None,
             desc: str = "", quiet: bool = False, unit: str = "case") -> tqdm:
    """A ``tqdm`` bar on stderr (elapsed, rate, time left), disabled where nobody looks
    (see :func:`progress_enabled`); it clears itself when done."""
    return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                dynamic_ncols=True, disable=not progress_enabled(quiet))


def add_quiet_argument(parser: argparse.ArgumentParser) -> None:
    """The standard ``--quiet`` option of the long commands."""
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar (it shows only on a terminal, never in CI)")
