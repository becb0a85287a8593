"""MkDocs hook: the tables, counts and ``--help`` texts of the docs, generated from the code.

A page asks for generated content with a marker, replaced at build time (``on_page_markdown``):

``<!-- gen:NAME -->`` on a line of its own
    a block: one of :data:`BLOCKS` (``activations``, ``losses``, ``layers``, ``cases``, ...),
    or ``cli:KEY`` for the ``--help`` text of a command of :data:`COMMANDS`.
``<!-- count:NAME -->`` anywhere in a line
    a number, one of the keys of :func:`_counts`.

Nothing in these tables is typed by hand: names, torch counterparts, keyword arguments and
defaults come from the registries (:mod:`manual.activations`, :mod:`manual.losses`,
:mod:`manual.optimizers`, :mod:`manual.schedules`), the layer classes of
:mod:`manual.layers`, the case table (:mod:`comparisons.cases.registry`) and the argparse parsers.
``tests/test_docs.py`` runs every generator and checks that every marker of the docs names
one.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import os
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

BLOCK = re.compile(r"^<!-- gen:([\w:.-]+) -->$", re.MULTILINE)
COUNT = re.compile(r"<!-- count:([\w.-]+) -->")

#: key -> (module with ``main(argv)``, how the command is typed)
COMMANDS: dict[str, tuple[str, str]] = {
    "backprop-compare": ("comparisons.cli", "backprop-compare"),
    "check": ("comparisons.check.cli", "backprop-compare check"),
    "benchmark": ("comparisons.bench.benchmark", "python -m comparisons.bench.benchmark"),
    "gallery": ("comparisons.teaching.gallery", "python -m comparisons.teaching.gallery"),
    "lessons-torch": ("comparisons.teaching.lessons", "python -m comparisons.teaching.lessons"),
    "lessons": ("manual.lessons.__main__", "python -m manual.lessons"),
    "mutation": ("comparisons.slips.mutation", "python -m comparisons.slips.mutation"),
}


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def _cell(text: Any) -> str:
    """A markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _summary(obj: Any) -> str:
    """The first sentence of an object's docstring, its roles turned into code spans."""
    first = " ".join((inspect.getdoc(obj) or "").split("\n\n")[0].split())
    sentence = re.match(r"(.*?[.:])(\s+[A-Z(]|$)", first)
    text = (sentence.group(1) if sentence else first).rstrip(":")
    return rst_inline(text if text.endswith((".", "?", "!")) else text + ".")


def _kwargs(defaults: dict[str, Any]) -> str:
    shown = {k: v for k, v in defaults.items() if k != "last_epoch"}
    return ", ".join(f"`{k}={v!r}`".replace("<required>", "…") if repr(v) != "<required>"
                     else f"`{k}`" for k, v in shown.items())


def _torch_name(fn: Any) -> str:
    """How torch's callable is written: ``F.softplus``, ``torch.sigmoid``, ``torch.nn.X``."""
    import torch

    if isinstance(fn, type) or isinstance(fn, torch.nn.Module):
        return f"torch.nn.{(fn if isinstance(fn, type) else type(fn)).__name__}"
    func = getattr(fn, "func", None)  # functools.partial
    if func is not None:
        args = ", ".join(f"{k}={v!r}" for k, v in fn.keywords.items())
        return f"{_torch_name(func)}({args})"
    public = [n for n in dir(torch.nn.functional) if getattr(torch.nn.functional, n) is fn]
    if public:  # F.logsigmoid is torch._C._nn.log_sigmoid
        return f"F.{public[0]}"
    module = getattr(fn, "__module__", None) or "torch"
    if module.startswith(("torch.nn.functional", "torch._C._nn")):
        return f"F.{fn.__name__}"
    if module.startswith("torch") or module == "builtins":
        return f"torch.{fn.__name__}"
    return f"{module}.{fn.__name__}"


def _torch_of(info: Any) -> tuple[str, str]:
    """The torch column of a component, and the note where torch has no built-in."""
    if info is None:
        return "", ""
    if info.torch_note:
        return "(no built-in)", f" Torch: {info.torch_note}."
    return f"`{_torch_name(info.torch)}`", ""


def _range(r: Any) -> str:
    return "" if r is None else f"[{r[0]}, {r[1]}]"


# --------------------------------------------------------------------------------------
# RST (the docstrings) -> markdown
# --------------------------------------------------------------------------------------
_ROLE = re.compile(r":(?:func|class|mod|meth|data|attr|obj|exc):`~?([^`]+)`")
_MATH_ROLE = re.compile(r":math:`([^`]+)`")


def rst_inline(text: str) -> str:
    """``code``, :func:`x` -> `x`; :math:`x` -> $x$."""
    text = _MATH_ROLE.sub(lambda m: f"${m.group(1)}$", text)
    text = _ROLE.sub(lambda m: f"`{m.group(1)}`", text)
    return text.replace("``", "`")


def _rst_table(lines: list[str]) -> list[str]:
    """An RST simple table (rules of ``=``) as a markdown table; a row whose first column
    is blank continues the row above."""
    rule = lines[0]
    starts = [m.start() for m in re.finditer(r"=+", rule)]
    bounds = list(zip(starts, starts[1:] + [None]))
    body = [ln for ln in lines if not re.fullmatch(r"[= ]+", ln)]
    rows: list[list[str]] = []
    for ln in body:
        cells = [ln[a:b].strip() if b else ln[a:].strip() for a, b in bounds]
        if rows and not cells[0]:
            rows[-1] = [f"{old} {new}".strip() for old, new in zip(rows[-1], cells)]
        else:
            rows.append(cells)
    return _table([rst_inline(c) for c in rows[0]],
                  [[rst_inline(c) for c in r] for r in rows[1:]]).splitlines()


def _math_block(lines: list[str], i: int) -> tuple[list[str], int]:
    indent = len(lines[i]) - len(lines[i].lstrip())
    math = [lines[i].strip()[len(".. math::"):].strip()]
    i += 1
    while i < len(lines) and (not lines[i].strip() or
                              len(lines[i]) - len(lines[i].lstrip()) > indent):
        if not lines[i].strip() and math[-1:] != [""] and len(math) > 1:
            break
        math.append(lines[i].strip())
        i += 1
    pad = " " * indent
    return [f"{pad}$$", pad + " ".join(m for m in math if m), f"{pad}$$"], i


def _doctest_block(lines: list[str], i: int) -> tuple[list[str], int]:
    """A run of ``>>>`` lines and their output, up to a blank line, as a pycon block."""
    pad = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
    j = i
    while j < len(lines) and lines[j].strip():
        j += 1
    return [f"{pad}```pycon", *lines[i:j], f"{pad}```"], j


def _literal_block(lines: list[str], i: int) -> tuple[list[str], int]:
    """The indented block after a paragraph ending in ``::``, as a text block."""
    j = i
    while j < len(lines) and not lines[j].strip():
        j += 1
    if j == len(lines):
        return [], j
    indent = len(lines[j]) - len(lines[j].lstrip())
    k = j
    while k < len(lines) and (not lines[k].strip() or
                              len(lines[k]) - len(lines[k].lstrip()) >= indent):
        k += 1
    while k > j and not lines[k - 1].strip():
        k -= 1
    pad = " " * max(indent - 4, 0)
    return ["", f"{pad}```text", *(ln[indent:] for ln in lines[j:k]), f"{pad}```"], k


def rst_to_markdown(doc: str) -> str:
    """The subset of RST our docstrings use, as markdown: paragraphs, simple tables,
    ``.. math::`` blocks, ``>>>`` examples, literal blocks after ``::`` and the inline
    roles."""
    # a :math: role broken over two lines: joined first (the rest goes line by line)
    doc = re.sub(r":math:`([^`]*\n[^`]*)`", lambda m: f"${' '.join(m.group(1).split())}$", doc)
    lines, out, i = doc.splitlines(), [], 0
    rule = re.compile(r"=+( +=+)+")
    while i < len(lines):
        line, stripped = lines[i], lines[i].strip()
        if rule.fullmatch(stripped):
            j, rules = i + 1, 1
            while j < len(lines) and rules < 3:
                rules += bool(rule.fullmatch(lines[j].strip()))
                j += 1
            out += _rst_table(lines[i:j])
            i = j
        elif stripped.startswith(".. math::"):
            block, i = _math_block(lines, i)
            out += block
        elif stripped.startswith(">>>"):
            block, i = _doctest_block(lines, i)
            out += block
        elif stripped.endswith("::") and not stripped.startswith(".."):
            out.append(rst_inline(line[:-1] if stripped.endswith(" ::") is False else
                                  line.rstrip()[:-3]))
            block, i = _literal_block(lines, i + 1)
            out += block
        else:
            out.append(rst_inline(line))
            i += 1
    return "\n".join(out)


# --------------------------------------------------------------------------------------
# the blocks
# --------------------------------------------------------------------------------------
def activations_table() -> str:
    from comparisons.cases.registry import COMPONENTS
    from manual import activations

    rows = []
    for name in activations.names():
        act = activations.get(name)
        cls = type(act)
        info = COMPONENTS.get(name)
        torch, note = _torch_of(info)
        kinks = ", ".join(map(str, getattr(act, "kinks", ()) or ()))
        rows.append([f"`{name}`", f"`{cls.__name__}`", torch,
                     _kwargs(getattr(cls, "defaults", {})),
                     _range(getattr(act, "output_range", None)), kinks, _summary(cls) + note])
    return _table(["name", "class", "torch", "keyword arguments (defaults)", "output range",
                   "kinks", "what"], rows)


def losses_table() -> str:
    from comparisons.cases.registry import COMPONENTS
    from manual import losses

    rows = []
    for name in losses.names():
        loss = losses.get(name)
        cls = type(loss)
        info = COMPONENTS.get(name)
        torch, note = _torch_of(info)
        reductions = ", ".join(f"`{r}`" for r in getattr(cls, "reductions", ()) or ())
        rows.append([f"`{name}`", f"`{cls.__name__}`", torch,
                     _kwargs(getattr(cls, "defaults", {})), reductions,
                     _range(getattr(loss, "natural_range", None)), _summary(cls) + note])
    return _table(["name", "class", "torch", "keyword arguments (defaults)", "reductions",
                   "natural range", "what"], rows)


def layer_classes() -> list[type]:
    """The layer classes of :mod:`manual.layers` (the protocol's subclasses), in order."""
    import manual.layers as layers

    skip = {"Layer", "ActivationLayer", "Dense"}
    return [obj for name, obj in vars(layers).items()
            if isinstance(obj, type) and issubclass(obj, layers.Layer) and name not in skip
            and not name.startswith("_")]


def layers_table() -> str:
    import torch.nn as nn

    from comparisons.cases.catalog import layer_cases

    cases = Counter(c.layer for c in layer_cases())
    rows = []
    for cls in layer_classes():
        torch = f"`nn.{cls.__name__}`" if hasattr(nn, cls.__name__) else "(composed in the bridge)"
        params = [p for p in inspect.signature(cls).parameters.values()
                  if p.name not in ("self", "dtype", "rng") and p.kind not in (p.VAR_KEYWORD,)]
        sig = ", ".join(p.name if p.default is p.empty else f"{p.name}={p.default!r}"
                        for p in params)
        rows.append([f"`{cls.__name__}`", torch, f"`{sig}`" if sig else "",
                     cases.get(cls.__name__, 0), _summary(cls)])
    return _table(["layer", "torch", "arguments (defaults)", "cases", "what"], rows)


def optimizers_table() -> str:
    from manual import optimizers

    rows = [[f"`{n}`", f"`torch.optim.{cls.__name__}`", _kwargs(cls.defaults)]
            for n, cls in optimizers._REGISTRY.items()]
    return _table(["name", "torch class", "keyword arguments (torch's defaults)"], rows)


def schedules_table() -> str:
    from manual import schedules

    rows = [[f"`{n}`", f"`torch.optim.lr_scheduler.{cls.__name__}`", _kwargs(cls.defaults)]
            for n, cls in schedules._REGISTRY.items()]
    return _table(["name", "torch class", "arguments (in torch's order; … required)"], rows)


def _case_parts() -> list[tuple[str, str, list, Callable[[Any], str]]]:
    from comparisons.cases.catalog import layer_cases, network_cases
    from comparisons.cases.registry import (CASES, COMPONENT_CASES, REAL_DATA_CASES,
                                            TRAJECTORY_CASES)
    from comparisons.run.model_trajectories import MODEL_TRAJECTORY_CASES

    return [
        ("gradients.csv", "network matrix (activation × loss × architecture × dtype)", CASES,
         lambda c: c.activation),
        ("components.csv", "activations and losses on their own", COMPONENT_CASES,
         lambda c: c.info.kind if hasattr(c, "info") else ""),
        ("layers.csv", "single layers", layer_cases(), lambda c: c.layer),
        ("layers.csv", "networks of layers", network_cases(), lambda c: c.arch),
        ("trajectories.csv", "training runs on synthetic data", TRAJECTORY_CASES,
         lambda c: c.optimizer),
        ("trajectories.csv", "training runs on scikit-learn's data", REAL_DATA_CASES,
         lambda c: c.optimizer),
        ("trajectories.csv", "whole models (CNN, LSTM, transformer)", MODEL_TRAJECTORY_CASES,
         lambda c: c.id),
    ]


def cases_table() -> str:
    from comparisons.cases.selection import core

    rows = []
    for report, what, cases, _ in _case_parts():
        slow = sum(bool(getattr(c, "exhaustive", False)) for c in cases)
        rows.append([f"`{report}`", what, len(cases), len(core(list(cases))), slow,
                     f"`{cases[0].id}`" if cases else ""])
    return _table(["report", "cases", "in the table", "in the default run",
                   "exhaustive only", "an id"], rows)


def layer_cases_table() -> str:
    from comparisons.cases.catalog import layer_cases

    by_layer: dict[str, list] = {}
    for c in layer_cases():
        by_layer.setdefault(c.layer, []).append(c)
    rows = [[f"`{layer}`", len(cs), sum(c.exhaustive for c in cs),
             ", ".join(f"`{c.id}`" for c in cs[:3])] for layer, cs in by_layer.items()]
    return _table(["layer", "cases", "exhaustive only", "first ids"], rows)


def gallery_list() -> str:
    from comparisons.teaching.gallery import GALLERY

    return _table(["slip id", "what was written", "what is right", "must fail"],
                  [[f"`{s.id}`", s.slip, s.right,
                    ", ".join(sorted(f"{o}: {p}" for o, p in s.expected))] for s in GALLERY])


def lessons_list() -> str:
    from manual.lessons import LESSONS, lesson

    lines = []
    for k, name in enumerate(LESSONS, 1):
        lines.append(f"{k}. `{name}`: {_summary(lesson(name))}")
    return "\n".join(lines)


def tolerance_policy() -> str:
    import comparisons.core.tolerances as tolerances

    return rst_to_markdown(inspect.getdoc(tolerances) or "")


def cli_help(key: str) -> str:
    """``main(['--help'])`` of a command, as a text block (80 columns, as a terminal)."""
    module, typed = COMMANDS[key]
    main = importlib.import_module(module).main
    buffer = io.StringIO()
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        with contextlib.redirect_stdout(buffer), contextlib.suppress(SystemExit):
            main(["--help"])
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    text = buffer.getvalue().rstrip()
    if not text.startswith("usage:"):
        raise RuntimeError(f"{typed} --help printed no usage line")
    return f"```text\n$ {typed} --help\n{text}\n```"


BLOCKS: dict[str, Callable[[], str]] = {
    "activations": activations_table, "losses": losses_table, "layers": layers_table,
    "optimizers": optimizers_table, "schedules": schedules_table, "cases": cases_table,
    "layer-cases": layer_cases_table, "gallery": gallery_list, "lessons": lessons_list,
    "tolerances": tolerance_policy,
}


def _counts() -> dict[str, Callable[[], int]]:
    from comparisons.cases.catalog import layer_cases
    from comparisons.cases.registry import CASES, TRAJECTORY_CASES
    from manual import activations, losses, optimizers, schedules

    return {
        "activations": lambda: len(activations.names()),
        "losses": lambda: len(losses.names()),
        "optimizers": lambda: len(optimizers.names()),
        "schedules": lambda: len(schedules.names()),
        "layers": lambda: len(layer_classes()),
        "lessons": lambda: len(importlib.import_module("manual.lessons").LESSONS),
        "slips": lambda: len(importlib.import_module("comparisons.teaching.gallery").GALLERY),
        "gradient-cases": lambda: len(CASES),
        "layer-cases": lambda: len(layer_cases()),
        "trajectory-cases": lambda: len(TRAJECTORY_CASES),
        "min-cases-per-worker": lambda: importlib.import_module(
            "comparisons.core.parallel").MIN_CASES_PER_WORKER,
    }


def render(name: str) -> str:
    """The markdown of one block marker."""
    if name.startswith("cli:"):
        return cli_help(name[4:])
    if name not in BLOCKS:
        raise KeyError(f"unknown docs block <!-- gen:{name} -->; known: "
                       f"{', '.join(sorted(BLOCKS))}, cli:<{'|'.join(COMMANDS)}>")
    return BLOCKS[name]()


def count(name: str) -> str:
    counts = _counts()
    if name not in counts:
        raise KeyError(f"unknown docs count <!-- count:{name} -->; known: "
                       f"{', '.join(sorted(counts))}")
    return str(counts[name]())


def expand(markdown: str) -> str:
    """Every marker of a page replaced by what it names."""
    markdown = BLOCK.sub(lambda m: render(m.group(1)), markdown)
    return COUNT.sub(lambda m: count(m.group(1)), markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """MkDocs event: expand the markers of each page."""
    return expand(markdown)
