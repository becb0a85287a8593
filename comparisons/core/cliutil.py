"""The command-line helpers of comparisons' commands (``backprop-compare``, the gallery,
the lessons against torch, the benchmark): the exit-status block of ``--help``, one-line
argument errors, the check of an ``--out`` folder, and ``--only`` selection by exact ids and
shell-style patterns.
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
import os
import re
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

__all__ = ["EXIT_CODES", "HelpFormatter", "exit_codes", "fail", "out_dir_problem", "plain",
           "select_ids", "selection_error", "tokens", "unmatched"]


def exit_codes(passed: str = "every comparison passed",
               failed: str | None = "a comparison failed (the FAIL lines and the CSV say "
                                    "which)",
               bad: str = "an unknown flag, a selection that matches nothing, an --out that "
                          "is a file or not writable") -> str:
    """The "exit status" block every command's --help ends with (``failed=None``: a
    command that has no status 1)."""
    items = [("0", passed), ("1", failed),
             ("2", f"bad arguments: {bad} (one line on stderr; nothing is run)")]
    return "exit status:\n" + "\n".join(
        textwrap.fill(text, width=88, initial_indent=f"  {code}  ", subsequent_indent=" " * 5)
        for code, text in items if text)


#: the exit codes of backprop-compare
EXIT_CODES = exit_codes()


def plain(text: str) -> str:
    """reStructuredText as plain console text, for a module docstring shown by ``--help``:
    Sphinx roles reduced to their target (``~`` keeps the last name), double back-quotes and
    ``::`` literal markers removed. (No LaTeX is rendered: the comparisons' docstrings shown
    as help hold none.)"""

    def role(m: re.Match) -> str:
        target = re.sub(r"^.*<(.*)>$", r"\1", m.group(2))  # :ref:`text <target>` -> target
        return target.rsplit(".", 1)[-1] if target.startswith("~") else target

    text = re.sub(r":(?:py:)?(\w+):`([^`]*)`", role, text)
    text = text.replace("``", "")
    text = re.sub(r"(?<=\S)::$", ":", text, flags=re.MULTILINE)
    text = re.sub(r"^::\n", "", text, flags=re.MULTILINE)
    return re.sub(r"[ \t]+$", "", text, flags=re.MULTILINE)


# selection: exact ids, shell-style patterns, comma-separated lists
def tokens(spec: str) -> list[str]:
    """The comma-separated items of ``spec``, stripped, empty ones dropped."""
    return [t.strip() for t in spec.split(",") if t.strip()]


def select_ids(ids: Sequence[str], spec: str) -> list[str]:
    """The ids matching ``spec`` (all for an empty spec), in their order: ``spec`` is a
    comma-separated list of exact ids and shell-style patterns (``*``, ``?``, ``[...]``)."""
    items = tokens(spec)
    if not items:
        return list(ids)
    return [i for i in ids if any(fnmatch.fnmatchcase(i, t) for t in items)]


def unmatched(ids: Sequence[str], spec: str) -> dict[str, list[str]]:
    """Each token of ``spec`` that matches no id -> the closest ids: those containing it
    (the token as a fragment), else difflib's closest."""
    out = {}
    for token in tokens(spec):
        if not any(fnmatch.fnmatchcase(i, token) for i in ids):
            fragment = token.strip("*?")
            close = [i for i in ids if fragment and fragment in i]
            out[token] = close or difflib.get_close_matches(token, list(ids), n=5, cutoff=0.5)
    return out


def selection_error(ids: Sequence[str], spec: str, what: str = "case id") -> str | None:
    """The one-line complaint about the tokens of ``spec`` that match no id (None if all
    match): the closest ids, and for a fragment of ids the pattern that selects them."""
    lost = unmatched(ids, spec)
    if not lost:
        return None
    parts = []
    for token, close in lost.items():
        text = f"{token!r} matches no {what}"
        fragment = token.strip("*?")
        if close and fragment and all(fragment in c for c in close):
            n = sum(fragment in i for i in ids)
            verb = "contains" if n == 1 else "contain"
            more = ", ..." if n > 3 else ""
            text += (f"; {n} {verb} it ({', '.join(close[:3])}{more}): select them with the "
                     f"pattern '*{fragment}*'")
        elif close:
            text += f" (closest: {', '.join(close)})"
        parts.append(text)
    return "; ".join(parts) + " (exact ids or shell-style patterns, comma-separated)"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs keep their line breaks; every option with a value shows its
    default (flags and empty defaults say nothing)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("%(default)" not in text and default not in (None, False, "", argparse.SUPPRESS)
                and action.option_strings and action.nargs != 0):
            text += " (default: %(default)s)"
        return text


def fail(prog: str, message: str) -> NoReturn:
    """Exit with status 2 after one line on stderr, ``prog: error: message`` (argparse's
    form, without the usage block)."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def out_dir_problem(path: Path) -> str | None:
    """Why ``path`` cannot be an output folder (it is a file, sits under a file, or its
    nearest existing folder is not writable); None when it can. Nothing is created."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        return f"--out {path} is a file, not a folder"
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return f"--out {path}: {probe} is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"--out {path}: the folder {probe} is not writable"
    return None
