r"""Mutation testing: plant arithmetic mutants in manual/'s forward, backward, derivative and
step code, run the relevant fast tests against each, and count how many the tests kill.

    python -m comparisons.slips.mutation                 # a seeded sample of 60 mutants
    python -m comparisons.slips.mutation --all           # every mutant (minutes)
    python -m comparisons.slips.mutation --only losses --n 30 --seed 1

A mutant is one small change to one function, made on its syntax tree:

- ``+`` <-> ``-`` and ``*`` <-> ``/`` (one operator);
- a numeric constant ``c`` -> ``c + 1``;
- a term dropped: ``a + b``, ``a - b``, ``a * b`` -> ``a``; a negation dropped: ``-a`` -> ``a``.

Only the code that computes (``_forward``, ``_derivative``, ``_backward``, ``_update``,
``_next_lr``, the numerical helpers, ...) is mutated, never messages or input checks.

Nothing is written to disk: the mutated module is compiled in memory and the mutated
function's code object replaces the live function's ``__code__`` (so every reference to
it, in any module, runs the mutant) until the tests have run; then the original code is
put back. The tests are the suite's own test functions, called directly with their
``pytest.mark.parametrize`` arguments, restricted to the component the mutant lives in:
for activations and losses, ``test_component_matches_torch`` (every sample of the case
table) and the checks of the kinks and output ranges, in ``tests/test_components.py``; for
optimizers, ``tests/test_optimizers.py::test_matches_torch_under_identical_gradients``; for
schedules, ``tests/test_schedules.py::test_schedule_matches_torch_bit_for_bit``. A mutant
is *killed* when a test fails (an assertion, an exception, a RuntimeWarning, as under
pytest) and *survives* otherwise; the report lists survivors.
"""

from __future__ import annotations

import argparse
import ast
import functools
import importlib
import itertools
import random
import signal
import sys
import time
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

__all__ = ["Mutant", "TARGETS", "main", "mutants", "run_mutant"]

ROOT = Path(__file__).resolve().parents[1]

#: names of the functions whose bodies are mutated: the code that computes
COMPUTING = {
    "_forward", "_derivative", "_second_derivative", "_backward", "_vjp", "_jacobian",
    "_term", "_term_derivative", "_terms", "_smoothed", "_margins", "_clamped_log",
    "_chain_reduction", "_reduce", "_mean_denominator", "_denominator", "_gradient_over_zero",
    "_var", "backward_var", "_cdf", "_pdf", "_u", "_du", "_line", "_scale_alpha_c",
    "_update", "_grad", "_decoupled_decay", "_lerp_", "_next_lr", "_anneal", "_prepare",
    "step", "_sigmoid", "_softplus", "_exp_neg_abs", "_sech2", "erfc", "_softmax",
    "_log_softmax", "_softmax_vjp", "_softmax_jacobian", "_sign", "_abs", "_take",
    "_one_hot", "_broadcast_weight", "_class_weight", "_kept_labels",
}


@dataclass(frozen=True)
class Target:
    """A family of manual/ modules and the test that judges a mutant in them."""

    family: str
    package: str  # manual.activations: the module, or the package whose modules are mutated
    tests: tuple[str, ...]  # "tests/test_x.py::test_name", ...
    component_of: Callable[[Any], list[str]]  # the class the mutant is in -> test filter


def _registered(*registry_modules: str) -> Callable[[Any], list[str]]:
    """class -> the registered names of it and its subclasses (every name for None: a
    module-level helper)."""
    def names(cls: Any) -> list[str]:
        out = []
        for module in registry_modules:
            registry = importlib.import_module(module)._REGISTRY
            out += [n for n, c in registry.items() if cls is None or issubclass(c, cls)]
        return out
    return names


#: the case table's rows, and the metadata the harness relies on (kinks, output ranges)
_COMPONENT_TESTS = ("tests/test_components.py::test_component_matches_torch",
                    "tests/test_components.py::test_kinks_are_where_a_derivative_jumps",
                    "tests/test_components.py::test_outputs_lie_in_the_declared_range")

TARGETS: dict[str, Target] = {t.family: t for t in [
    Target("numerics", "manual._numerics", _COMPONENT_TESTS,
           _registered("manual.activations.base", "manual.losses.base")),
    Target("activations", "manual.activations", _COMPONENT_TESTS,
           _registered("manual.activations.base")),
    Target("losses", "manual.losses", _COMPONENT_TESTS, _registered("manual.losses.base")),
    Target("optimizers", "manual.optimizers",
           ("tests/test_optimizers.py::test_matches_torch_under_identical_gradients",),
           _registered("manual.optimizers")),
    Target("schedules", "manual.schedules",
           ("tests/test_schedules.py::test_schedule_matches_torch_bit_for_bit",),
           _registered("manual.schedules")),
]}


@dataclass(frozen=True)
class Mutant:
    """One change: in ``module``'s function ``qualname`` at ``line``, ``what``."""

    family: str
    module: str
    qualname: str
    index: int  # the index of the mutation point within the module (walk order)
    line: int
    what: str

    @property
    def id(self) -> str:
        return f"{self.module}:{self.line} {self.qualname}: {self.what}"


# ---- finding and applying mutations ----------------------------------------------------
_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def _skipped(node: ast.AST) -> bool:
    """Subtrees never mutated: messages, raises, asserts, docstrings."""
    return isinstance(node, (ast.JoinedStr, ast.Raise, ast.Assert))


def _points(tree: ast.Module) -> Iterator[tuple[str, ast.expr, str]]:
    """Every (qualname, node, kind) mutation point, in a fixed walk order."""
    def visit(node: ast.AST, prefix: str) -> Iterator[tuple[str, ast.expr, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                yield from visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if child.name in COMPUTING:
                    yield from body(child, f"{prefix}{child.name}")

    def body(fn: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str
             ) -> Iterator[tuple[str, ast.expr, str]]:
        stmts = fn.body
        if stmts and isinstance(stmts[0], ast.Expr) and isinstance(stmts[0].value, ast.Constant):
            stmts = stmts[1:]  # the docstring
        stack: list[ast.AST] = list(reversed(stmts))
        while stack:
            node = stack.pop()
            if _skipped(node) or isinstance(node, (ast.FunctionDef, ast.Lambda)):
                continue
            if isinstance(node, ast.BinOp) and type(node.op) in _SWAP:
                yield qualname, node, "swap"
                if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
                    yield qualname, node, "drop"
            elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
                yield qualname, node, "negation"
            elif (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
                  and not isinstance(node.value, bool)):
                yield qualname, node, "constant"
            stack.extend(reversed(list(ast.iter_child_nodes(node))))

    yield from visit(tree, "")


class _Apply(ast.NodeTransformer):
    """Replace the ``index``-th mutation point of the walk with its mutant."""

    def __init__(self, target: ast.AST, kind: str) -> None:
        self.target, self.kind = target, kind

    def visit(self, node: ast.AST) -> ast.AST:
        if node is self.target:
            return _mutate(node, self.kind)
        return super().visit(node)


def _mutate(node: Any, kind: str) -> ast.AST:  # a BinOp, UnaryOp or Constant, as kind says
    if kind == "swap":
        return ast.copy_location(ast.BinOp(node.left, _SWAP[type(node.op)](), node.right), node)
    if kind == "drop":
        return node.left
    if kind == "negation":
        return node.operand
    return ast.copy_location(ast.Constant(node.value + 1), node)


def _describe(node: Any, kind: str) -> str:  # a BinOp, UnaryOp or Constant, as kind says
    if kind == "swap":
        return f"'{_SYMBOL[type(node.op)]}' -> '{_SYMBOL[_SWAP[type(node.op)]]}' in " \
               f"{ast.unparse(node)[:50]}"
    if kind == "drop":
        return f"drop '{_SYMBOL[type(node.op)]} {ast.unparse(node.right)[:30]}' from " \
               f"{ast.unparse(node)[:50]}"
    if kind == "negation":
        return f"drop the minus of {ast.unparse(node)[:50]}"
    return f"constant {node.value!r} -> {node.value + 1!r}"


def _modules(package: str) -> list[str]:
    mod = importlib.import_module(package)
    if not hasattr(mod, "__path__"):
        return [package]
    import pkgutil

    return [package] + [m.name for m in pkgutil.walk_packages(mod.__path__, f"{package}.")]


_SOURCES: dict[str, str] = {}


def _source(module: str) -> str:
    """The module's source as first read in this process (the one that was imported)."""
    if module not in _SOURCES:
        file = importlib.import_module(module).__file__
        assert file is not None, f"{module}: the mutated packages are source files"
        _SOURCES[module] = Path(file).read_text()
    return _SOURCES[module]


def mutants(families: list[str] | None = None) -> list[Mutant]:
    """Every mutant of the chosen families, in a fixed order."""
    out = []
    for family in families or list(TARGETS):
        for module in _modules(TARGETS[family].package):
            tree = ast.parse(_source(module))
            for i, (qualname, node, kind) in enumerate(_points(tree)):
                out.append(Mutant(family, module, qualname, i, node.lineno,
                                  _describe(node, kind)))
    return out


def _mutated_code(m: Mutant) -> types.CodeType:
    """The mutant's code object for ``m.qualname``, compiled from the mutated module."""
    mod = importlib.import_module(m.module)
    tree = ast.parse(_source(m.module))
    qualname, node, kind = list(_points(tree))[m.index]
    # a fresh parse; the root stays the Module (only an inner node is replaced)
    mutated = cast(ast.Module, ast.fix_missing_locations(_Apply(node, kind).visit(tree)))
    assert mod.__file__ is not None  # read by _source above
    code = compile(mutated, mod.__file__, "exec")
    for c in _code_objects(code):
        if c.co_qualname == m.qualname:
            return c
    raise LookupError(m.qualname)


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _live_function(m: Mutant) -> tuple[types.FunctionType, Any]:
    """The live function object of ``m.qualname`` and the class it is defined in (None
    for a module-level function)."""
    obj: Any = importlib.import_module(m.module)
    owner = None
    for part in m.qualname.split("."):
        raw = obj.__dict__[part] if isinstance(obj, type) else getattr(obj, part)
        if isinstance(obj, type):
            owner = obj
        obj = raw
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    elif isinstance(obj, property):
        obj = obj.fget
    return obj, owner


# ---- running the tests ------------------------------------------------------------------
def _test_calls(spec: str, wanted: set[str]) -> list[Callable[[], Any]]:
    """The test function ``path::name`` called with each of its parametrize argument sets
    whose first value names one of ``wanted`` components."""
    path, name = spec.split("::")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    module = importlib.import_module(path[:-3].replace("/", "."))
    fn = getattr(module, name)
    marks = [mk for mk in getattr(fn, "pytestmark", []) if mk.name == "parametrize"]
    grids = []
    for mk in reversed(marks):  # the decorator nearest the function is applied first
        argnames = [a.strip() for a in (mk.args[0].split(",") if isinstance(mk.args[0], str)
                                        else mk.args[0])]
        rows = []
        for value in mk.args[1]:
            if hasattr(value, "values") and hasattr(value, "marks"):  # pytest.param(...)
                values = tuple(value.values)
            else:
                values = tuple(value) if len(argnames) > 1 else (value,)
            rows.append(dict(zip(argnames, values)))
        grids.append(rows)
    calls: list[Callable[[], Any]] = []
    for combo in itertools.product(*grids):
        kwargs = {k: v for part in combo for k, v in part.items()}
        labels = [getattr(v, "name", v) for v in kwargs.values()]
        if any(isinstance(label, str) and label in wanted for label in labels):
            calls.append(functools.partial(fn, **kwargs))
    return calls


class _Timeout(Exception):
    pass


def run_mutant(m: Mutant, timeout: float = 60.0) -> tuple[bool, str]:
    """(killed, why): the mutant's tests run with the mutated code in place."""
    target = TARGETS[m.family]
    func, owner = _live_function(m)
    wanted = set(target.component_of(owner))
    calls = [call for test in target.tests for call in _test_calls(test, wanted)]
    if not calls:
        return False, "no test covers it"
    original = func.__code__
    try:
        func.__code__ = _mutated_code(m)
    except (ValueError, SyntaxError) as err:  # e.g. a dropped term changing free variables
        return True, f"does not compile: {err}"

    def alarm(signum, frame):
        raise _Timeout

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # as the suite's pytest config
            for call in calls:
                call()
        return False, f"{len(calls)} tests passed"
    except _Timeout:
        return True, "timed out"
    except BaseException as err:  # an assertion, or any exception the mutant causes
        if isinstance(err, KeyboardInterrupt):
            raise
        return True, f"{type(err).__name__}: {str(err).splitlines()[0][:80] if str(err) else ''}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        func.__code__ = original


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m comparisons.slips.mutation",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--all", action="store_true", help="every mutant (default: a sample)")
    p.add_argument("--n", type=int, default=60, help="sample size (default 60)")
    p.add_argument("--seed", type=int, default=0, help="the sample's seed")
    p.add_argument("--only", default="", help=f"families, comma-separated: "
                                               f"{', '.join(TARGETS)}")
    p.add_argument("--goal", type=float, default=0.95, help="exit 1 below this kill rate")
    p.add_argument("--verbose", action="store_true", help="one line per mutant, with why")
    args = p.parse_args(argv)
    families = [f for f in args.only.split(",") if f] or None
    everything = mutants(families)
    chosen = everything if args.all else sorted(
        random.Random(args.seed).sample(everything, min(args.n, len(everything))),
        key=lambda m: (m.module, m.index))
    print(f"{len(everything)} mutants in {', '.join(families or TARGETS)}; running "
          f"{len(chosen)}{' (all)' if args.all else f' (seeded sample, --seed {args.seed})'}")
    start, survivors = time.perf_counter(), []
    for m in chosen:
        killed, why = run_mutant(m)
        if args.verbose:
            print(f"  {'killed  ' if killed else 'SURVIVED'} {m.id}  ({why})", flush=True)
        if not killed:
            survivors.append((m, why))
    n_killed = len(chosen) - len(survivors)
    rate = n_killed / max(len(chosen), 1)
    print(f"killed {n_killed} of {len(chosen)} ({100 * rate:.1f}%) in "
          f"{time.perf_counter() - start:.0f} s; {len(survivors)} survived:")
    for m, why in survivors:
        print(f"  SURVIVED {m.id}  ({why})")
    return 0 if rate >= args.goal else 1


if __name__ == "__main__":
    sys.exit(main())
