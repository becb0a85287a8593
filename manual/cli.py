r"""The command-line helpers every command of the suite shares (``python -m manual.lessons``,
``backprop-compare``, the gallery, the benchmark): plain-text help with readable math, the
exit-status block of ``--help``, one-line argument errors, the check of an ``--out``
folder, and ``--only`` selection by exact ids and shell-style patterns.

The docstrings keep their reStructuredText and LaTeX (for the docs and the plots); what a
terminal shows goes through :func:`plain`, which strips Sphinx roles and double back-quotes
and renders the math in Unicode:

>>> plain(r":math:`\frac{\partial J}{\partial w_{14}}` of :func:`~manual.MLP.gradients`")
'∂J/∂w₁₄ of gradients'
>>> plain(r":math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))`, ``h = 1e-5``")
"σ'(z) = σ(z)(1 - σ(z)), h = 1e-5"
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

__all__ = ["HelpFormatter", "exit_codes", "fail", "latex_to_unicode",
           "out_dir_problem", "plain", "select_ids", "selection_error", "tokens",
           "unmatched"]


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


_SYMBOLS = {
    "partial": "∂", "sigma": "σ", "eta": "η", "sum": "Σ", "delta": "δ", "theta": "θ",
    "varepsilon": "ε", "epsilon": "ε", "lambda": "λ", "alpha": "α", "beta": "β", "mu": "μ",
    "rho": "ρ", "gamma": "γ", "pi": "π", "nabla": "∇", "Delta": "Δ", "Sigma": "Σ", "phi": "φ",
    "top": "ᵀ", "to": "→", "leftarrow": "←", "rightarrow": "→", "le": "≤", "leq": "≤",
    "ge": "≥", "geq": "≥", "approx": "≈", "sim": "~", "equiv": "≡", "pm": "±", "mp": "∓",
    "cdot": "·", "odot": "⊙", "times": "×", "cdots": "⋯", "dots": "…", "ldots": "…",
    "infty": "∞", "in": "∈", "ne": "≠", "neq": "≠", "langle": "⟨", "rangle": "⟩", "|": "‖",
    "max": "max", "min": "min", "ln": "ln", "log": "log", "exp": "exp", "lim": "lim",
    "tanh": "tanh", "sech": "sech", "erf": "erf", "erfc": "erfc", "Im": "Im",
}
_OPERATORS = {"to", "leftarrow", "rightarrow", "le", "leq", "ge", "geq", "approx", "sim",
              "equiv", "pm", "mp", "cdot", "odot", "times", "in", "ne", "neq"}
_SPACES = {",": " ", ";": " ", ":": " ", "!": "", "quad": "  ", "qquad": "    ", " ": " "}
_SIZERS = ("left", "right", "big", "Big", "bigg", "Bigg", "displaystyle")
_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))
_SUP = dict(zip("0123456789+-=()inT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿᵀ"))
_SUP["\u1d40"] = "ᵀ"  # ^\top, already turned into ᵀ
_FRACTIONS = {("1", "2"): "½", ("1", "3"): "⅓", ("1", "4"): "¼", ("3", "4"): "¾"}


def _group(text: str, i: int) -> tuple[str, int]:
    """The argument starting at ``text[i]``: a {braced group} or one character."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        return "", i
    if text[i] != "{":
        if text[i] == "\\":  # a command as the argument: \frac12, x^\top
            m = re.match(r"\\([A-Za-z]+|.)", text[i:])
            if m is not None:  # None: a lone backslash at the end, kept as it is
                return m.group(0), i + len(m.group(0))
        return text[i], i + 1
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1:j], j + 1
    return text[i + 1:], len(text)


def _script(body: str, table: dict[str, str], mark: str) -> str:
    body = latex_to_unicode(body)
    if body and all(c in table for c in body):
        return "".join(table[c] for c in body)
    return f"{mark}{body}" if len(body) == 1 else f"{mark}({body})"


def _atom(text: str) -> str:
    """Wrap a compound numerator or denominator in parentheses."""
    return text if re.fullmatch(r"[\w∂σηδθεΣ∇.'′ₐ-ₜ₀-₉⁰-⁹ᵀ]+", text) else f"({text})"


_ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "vec": "\u20d7"}
_TEXT = ("text", "mathrm", "mathbf", "mathit", "operatorname", "textrm")


def _command(name: str, tex: str, i: int) -> tuple[str, int]:
    """The Unicode for the LaTeX command ``\\name`` whose arguments start at ``tex[i]``,
    and the index after them."""
    if name in ("frac", "tfrac", "dfrac"):
        num, i = _group(tex, i)
        den, i = _group(tex, i)
        if (num, den) in _FRACTIONS:
            return _FRACTIONS[(num, den)], i
        return f"{_atom(latex_to_unicode(num))}/{_atom(latex_to_unicode(den))}", i
    if name == "sqrt":
        arg, i = _group(tex, i)
        return f"√{_atom(latex_to_unicode(arg))}", i
    if name in _ACCENTS:
        arg, i = _group(tex, i)
        arg = latex_to_unicode(arg)
        return (arg + _ACCENTS[name] if len(arg) == 1 else f"{name}({arg})"), i
    if name in _TEXT:
        arg, i = _group(tex, i)
        return latex_to_unicode(arg), i
    if name in _OPERATORS:
        return f" {_SYMBOLS[name]} ", i
    if name in _SYMBOLS:
        if name.isalpha() and not _SYMBOLS[name].isalpha():
            while i < len(tex) and tex[i] == " ":  # LaTeX ignores them: \partial J
                i += 1
        return _SYMBOLS[name], i
    if name in _SPACES:
        return _SPACES[name], i
    if name in _SIZERS:
        return "", i
    return name, i  # \{ \} \_ \% ... and unknown commands: the name itself


def latex_to_unicode(tex: str) -> str:
    r"""A LaTeX math fragment as readable Unicode text: ``\frac{\partial J}{\partial w_{14}}``
    becomes ``∂J/∂w₁₄``, ``\tfrac12`` ``½``, ``x^2`` ``x²``, ``\hat y`` ``ŷ``."""
    out: list[str] = []
    i = 0
    while i < len(tex):
        c = tex[i]
        if c == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", tex[i:])
            if m is None:  # a lone backslash at the end (or before a newline): kept
                out.append(c)
                i += 1
                continue
            text, i = _command(m.group(1), tex, i + len(m.group(0)))
            out.append(text)
        elif c in "_^":
            arg, i = _group(tex, i + 1)
            out.append(_script(arg, _SUB if c == "_" else _SUP, c))
        elif c in "{}":
            i += 1
        else:
            out.append(c)
            i += 1
    text = "".join(out)
    text = re.sub(r"(?<=\S) {2}(?=\S)", " ", text)  # an operator's own spaces, doubled
    return re.sub(r"\( ", "(", re.sub(r" \)", ")", text))


def plain(text: str) -> str:
    """reStructuredText as plain console text: Sphinx roles reduced to their target
    (``~`` keeps the last name), ``:math:`` and ``.. math::`` rendered by
    :func:`latex_to_unicode`, double back-quotes and ``::`` literal markers removed."""

    def role(m: re.Match) -> str:
        kind, target = m.group(1), m.group(2)
        if kind == "math":
            return latex_to_unicode(target)
        target = re.sub(r"^.*<(.*)>$", r"\1", target)  # :ref:`text <target>` -> target
        return target.rsplit(".", 1)[-1] if target.startswith("~") else target

    text = re.sub(r":(?:py:)?(\w+):`([^`]*)`", role, text)

    def block(m: re.Match) -> str:
        indent, body = m.group(1), m.group(2)
        lines = [latex_to_unicode(ln).strip() for ln in body.splitlines()]
        return "\n".join(f"{indent}    {ln}" for ln in lines if ln) + "\n"

    text = re.sub(r"^([ \t]*)\.\. math::[ \t]*\n((?:[ \t]*\n)?(?:\1[ \t]+\S.*\n?)+)",
                  block, text, flags=re.MULTILINE)
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
