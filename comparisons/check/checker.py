r"""Check your own implementation: a student's NumPy gradients against torch and finite
differences, taking the student's code as it is.

- :func:`check_gradients` — any ``loss_and_grads() -> (loss, grads)`` computed from the
  live arrays in ``params`` (a dict, a list or tuple, or nested ones: CS231n's
  ``net.params``, Nielsen's ``{"biases": net.biases, "weights": net.weights}``; one array,
  for CS231n's bare ``(loss, dW)``; Karpathy's ``parameters`` list of CPU torch tensors,
  named with ``names=``; Andrew Ng's ``grads`` keyed ``"dW1"`` for ``"W1"``), against
  an optional torch ``reference`` taking the same structure of tensors (differentiated by
  autograd) and the torch-free oracles (central finite differences in float64, the
  Taylor-remainder test).
- :func:`check_layer` — a CS231n-style function pair ``forward(*inputs) -> (out, cache)``,
  ``backward(dout, cache) -> gradients`` (or an object following the layer protocol of
  :mod:`manual.layers.base`) under a random upstream gradient, against torch and finite
  differences over every float input.

Both return the report's rows (columns :data:`comparisons.run.rows.ROW_COLUMNS`) with
``parameter`` in the student's own names (``W1``, ``weights[0]``; ``x``, ``w``, ``b`` for
a layer's inputs) and ``worst_index`` in the student's own layout.
:func:`comparisons.run.rows.failures` turns the failing ones into one line each.

Student code is untrusted: its objects are checked up front ("grads has no entry for
'b2'", "grads['W1'] has shape (5, 4), params['W1'] is (4, 5)"); an exception, NaN, inf, a
wrong type or a non-scalar loss from student code (or from the reference) becomes a
failing row naming the call and the error, never a crash of the checker; arrays that
perturbing does not reach (copies, not the live arrays the loss reads) are named as such
instead of blaming the gradient (a parameter the loss ignores, with a gradient 0 within
the finite-difference tolerance, passes); an element at a kink (the one-sided differences
disagree) is judged by torch only; in-place changes to inputs are reported; and each check
has a time limit. Every array handed in is left as it was found.
"""

from __future__ import annotations

import inspect
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from comparisons.core.alternatives import (PASSED_THROUGH, LazyAlternatives,
                                           activation_alternatives, context_alternatives,
                                           layer_alternatives, slice_upstreams)
from comparisons.core.compare import compare_arrays, describe
from comparisons.core.oracles import finite_difference_gradients, taylor_rows
from comparisons.core.tolerances import FD_STEP, measured_tolerance, tolerance_for
from comparisons.run.rows import ROW_COLUMNS, validate_oracles

__all__ = ["CHECK_ORACLES", "CHECK_LAYER_ORACLES", "DEFAULT_TIME_LIMIT", "check_gradients",
           "check_layer"]

#: the oracles of :func:`check_gradients`: torch's autograd on the ``reference`` (only
#: when one is given), central finite differences, the Taylor-remainder test
CHECK_ORACLES = ("torch", "fd", "taylor")
#: the oracles of :func:`check_layer`: torch's vector-Jacobian product of ``reference``,
#: central finite differences of the same product
CHECK_LAYER_ORACLES = ("torch", "fd")
#: seconds one check may spend in student code (all its calls together) before it stops
#: with a failing row; ``time_limit=None`` removes the limit
DEFAULT_TIME_LIMIT = 60.0


# --------------------------------------------------------------------------------------
# guarding student code
# --------------------------------------------------------------------------------------
class StudentCodeError(Exception):
    """A failure of student (or reference) code, turned into a failing row."""


class _TimeUp(BaseException):
    """The time limit is reached. A BaseException, so that a student's ``except Exception``
    cannot swallow it."""


class _Clock:
    def __init__(self, limit: float | None) -> None:
        if limit is not None and (isinstance(limit, bool) or not limit > 0):
            raise ValueError(f"time_limit must be a positive number of seconds or None, "
                             f"got {limit!r}")
        self.limit = limit
        self.deadline = None if limit is None else time.monotonic() + limit

    def check(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _TimeUp


@contextmanager
def _alarm(clock: _Clock):
    """Interrupt code running past ``clock``'s deadline with SIGALRM (Unix, main thread,
    no other timer armed); elsewhere the deadline is checked between calls only."""
    usable = (clock.deadline is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise _TimeUp

    assert clock.deadline is not None  # part of `usable`
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(clock.deadline - time.monotonic(), 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _call(label: str, fn: Callable, *args: Any, clock: _Clock | None = None) -> Any:
    """``fn(*args)``; any exception from it (SystemExit included) becomes a
    :class:`StudentCodeError` naming ``label``."""
    if clock is not None:
        clock.check()
    try:
        return fn(*args)
    except (_TimeUp, KeyboardInterrupt):
        raise
    except BaseException as e:  # noqa: B036 - student code may even call sys.exit()
        raise StudentCodeError(f"{label} raised {type(e).__name__}: {e}") from None


def _shape(a: Any) -> str:
    return str(tuple(np.shape(a)))


def _kind(value: Any) -> str:
    return "None" if value is None else f"a {type(value).__name__}"


def _scalar(value: Any, label: str) -> float:
    """``value`` as a finite float, or a StudentCodeError naming ``label``."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        a = np.asarray(value)
    except Exception:  # noqa: BLE001 - any object
        a = np.asarray(None)
    if a.dtype.kind not in "biuf":
        raise StudentCodeError(f"{label} returned a loss of type {type(value).__name__}, "
                               f"not a number")
    if a.ndim:
        raise StudentCodeError(f"{label} returned a loss of shape {a.shape}, not a scalar")
    if not np.isfinite(a):
        raise StudentCodeError(f"{label} returned a loss of {float(a)}")
    return float(a)


def _float_array(value: Any, what: str) -> np.ndarray:
    """A student's gradient or output as a float64 copy, or a StudentCodeError."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if value is None or isinstance(value, (str, bytes, dict)):
        raise StudentCodeError(f"{what} is {_kind(value)}, not an array")
    try:
        a = np.array(value)
    except Exception as e:  # noqa: BLE001 - ragged lists and the like
        raise StudentCodeError(f"{what} is not an array ({e})") from None
    if a.dtype.kind not in "biuf":
        raise StudentCodeError(f"{what} is {_kind(value)} of dtype {a.dtype}, not numbers")
    return a.astype(np.float64) if a.dtype.kind != "f" else a.copy()


def _non_finite(a: np.ndarray, what: str) -> str:
    bad = ~np.isfinite(a)
    if not bad.any():
        return ""
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"{what} contains {a[idx]} (first at index {idx})"


# --------------------------------------------------------------------------------------
# rows
# --------------------------------------------------------------------------------------
def _row(info: dict[str, Any], oracle: str, parameter: str, note: str, *,
         status: str = "fail", array: Any = None) -> dict[str, Any]:
    """A row without a comparison: a failure of student code, a skipped oracle."""
    row = {**info, "oracle": oracle, "parameter": parameter, "passed": False,
           "status": status, "note": note}
    if array is not None and hasattr(array, "shape"):
        row.update(shape="x".join(map(str, array.shape)) or "scalar", size=int(array.size))
    return row


def _comparison_row(info: dict[str, Any], oracle: str, comparison: Any) -> dict[str, Any]:
    return {**info, "oracle": oracle, **comparison.row(),
            "status": "pass" if comparison.passed else "fail"}


def _rows_in_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only the report's columns (filled with ''), so rows are uniform."""
    return [{k: row.get(k, "") for k in ROW_COLUMNS} for row in rows]


# --------------------------------------------------------------------------------------
# the student's structure of arrays
# --------------------------------------------------------------------------------------
@dataclass
class _Leaf:
    path: tuple
    name: str  # the student's name: W1, weights[0]
    ref: str  # in messages: params['W1'], params['weights'][0]
    array: Any
    problem: str = ""


def _key_text(key: Any) -> str:
    return repr(key) if not isinstance(key, int) else str(key)


def _ref(root: str, path: tuple) -> str:
    return root + "".join(f"[{_key_text(k)}]" for k in path)


def _namer(params: Any, names: Any) -> Callable[[tuple], str]:
    """How rows name the leaf at a path: a dict's own keys (``W1``, ``weights[0]``), the
    ``names`` given for a list's or tuple's entries (``W1`` for ``params[1]``), ``params``
    (or ``names``) for a bare array, else the position (``params[1]``)."""
    if isinstance(names, str):
        names = [names]
    if names is not None:
        names = list(names)
        if not all(isinstance(n, str) for n in names):
            raise TypeError(f"names must be a list of strings, got {names!r}")
        if isinstance(params, Mapping):
            raise TypeError("names= is for a list or a tuple of arrays (or one array); a "
                            "dict's keys already name its entries")
        n = 1 if _is_array(params) else len(params)
        if len(names) != n:
            raise ValueError(f"names has {len(names)} entries for {n} parameter(s)")

    def name(path: tuple) -> str:
        if not path:
            return names[0] if names else "params"
        rest = "".join(f"[{_key_text(k)}]" for k in path[1:])
        if isinstance(params, Mapping):
            return str(path[0]) + rest
        if names:
            return names[path[0]] + rest
        return _ref("params", path)
    return name


def _is_array(node: Any) -> bool:
    return isinstance(node, (np.ndarray, torch.Tensor))


def _live_array(node: Any, ref: str) -> tuple[Any, str]:
    """The NumPy array the checker perturbs for a leaf (a CPU tensor's own memory, through
    ``.detach().numpy()``), or the leaf and why it cannot be one."""
    if isinstance(node, torch.Tensor):
        if node.device.type != "cpu":
            return node, (f"{ref} is a torch tensor on {node.device}: the checker perturbs "
                          f"the live arrays in place, in CPU memory; check a CPU copy of "
                          f"the network (.cpu()), whose .detach().numpy() views it shares")
        if node.dtype not in (torch.float32, torch.float64):
            return node, (f"{ref} is a torch tensor of dtype {node.dtype}; the checker "
                          f"handles float32 and float64")
        node = node.detach().numpy()  # a view: perturbing it changes the tensor
    if not isinstance(node, np.ndarray):
        return node, (f"{ref} is {_kind(node)}, not a NumPy array: the checker perturbs the "
                      f"live arrays your loss reads, in place")
    if node.dtype.kind in "biu":
        return node, (f"{ref} has integer dtype {node.dtype}: gradients and finite "
                      f"differences need float arrays (np.float64)")
    if node.dtype not in (np.float32, np.float64):
        return node, f"{ref} has dtype {node.dtype}; the checker handles float32 and float64"
    if not node.flags.writeable:
        return node, f"{ref} is read-only: the checker perturbs the live arrays in place"
    return node, ""


def _leaves(params: Any, names: Any = None) -> list[_Leaf]:
    """The arrays of ``params`` (dicts, lists, tuples, nested, or one array) in order, each
    with its student name; a leaf that cannot be a live float array carries its
    ``problem``."""
    if not isinstance(params, (Mapping, list, tuple)) and not _is_array(params):
        raise TypeError(f"params must be a dict, a list or a tuple of NumPy arrays (or nested "
                        f"ones), or one array, got {_kind(params)}")
    name = _namer(params, names)
    out: list[_Leaf] = []

    def walk(node: Any, path: tuple) -> None:
        if isinstance(node, Mapping):
            for k, v in node.items():
                walk(v, path + (k,))
        elif isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                walk(v, path + (i,))
        else:
            ref = name(path) if names is not None else _ref("params", path)
            array, problem = _live_array(node, ref)
            out.append(_Leaf(path, name(path), ref, array, problem))

    walk(params, ())
    arrays = [leaf for leaf in out if not leaf.problem]
    for i, a in enumerate(arrays):  # a shared array would be perturbed twice as much
        for b in arrays[:i]:
            if _overlap(a.array, b.array):
                a.problem = (f"{a.ref} shares memory with {b.ref}: each parameter must be "
                             f"its own array")
                break
    return out


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays share an element (the exact test, bounded: too hard counts as yes)."""
    if not np.may_share_memory(a, b):
        return False
    try:
        # numpy's stubs allow max_work -1 or 0 only; a positive bound is documented and valid
        return bool(np.shares_memory(a, b, max_work=10_000))  # type: ignore[arg-type]
    except getattr(np, "exceptions", np).TooHardError:  # numpy < 1.25: np.TooHardError
        return True


class _GradMatch:
    """``grads`` walked alongside ``params``: each leaf's gradient (a float64 copy), the
    problem of each leaf that has none, extra entries that fail (a typo: ``"W2"`` where
    params has ``"w2"``) and extra entries ignored (Andrew Ng's ``"dA0"`` beside
    ``"dW1"``, ``"db1"``, which name params ``"W1"``, ``"b1"``)."""

    def __init__(self, params: Any, grads: Any, leaves: list[_Leaf], label: str) -> None:
        self.found: dict[tuple, np.ndarray] = {}
        self.problems: dict[tuple, str] = {}
        self.extra: list[str] = []
        self.ignored: list[str] = []
        self.by_path = {leaf.path: leaf for leaf in leaves}
        self.label = label
        self.walk(params, grads, ())

    def fail(self, path: tuple, message: str) -> None:
        for p in self.by_path:
            if p[:len(path)] == path:
                self.problems.setdefault(p, message)

    def walk(self, p: Any, g: Any, path: tuple) -> None:
        if isinstance(p, Mapping):
            self.walk_dict(p, g, path)
        elif isinstance(p, (list, tuple)):
            self.walk_sequence(p, g, path)
        else:
            self.walk_leaf(g, path)

    def walk_dict(self, p: Mapping, g: Any, path: tuple) -> None:
        gref = _ref("grads", path)
        if not isinstance(g, Mapping):
            self.fail(path, f"{gref} is {_kind(g)}, but {_ref('params', path)} is a dict: "
                            f"grads must mirror params")
            return
        used = set()
        for k, v in p.items():
            key = k if k in g else _d_key(k, g)
            if key is None:
                self.fail(path + (k,), f"{gref} has no entry for {k!r}")
                continue
            used.add(key)
            self.walk(v, g[key], path + (k,))
        rest = [k for k in g if k not in used]
        if any(k not in p for k in used):  # "dW1" for "W1": other entries are the course's
            self.ignored.extend(f"{gref}[{k!r}]" for k in rest)
        else:
            self.extra.extend(f"{gref} has an entry {k!r} that {_ref('params', path)} lacks"
                              for k in rest)

    def walk_sequence(self, p: list | tuple, g: Any, path: tuple) -> None:
        gref = _ref("grads", path)
        if _is_array(g) and not path and len(p) == 1:  # one array in a list: its gradient
            g = [g]
        if not isinstance(g, (list, tuple)):
            self.fail(path, f"{gref} is {_kind(g)}, but {_ref('params', path)} is a "
                            f"{type(p).__name__} of {len(p)}: grads must mirror params")
            return
        if len(g) != len(p):
            self.fail(path, f"{gref} has {len(g)} entries, {_ref('params', path)} has {len(p)}")
            return
        for i, (pv, gv) in enumerate(zip(p, g)):
            self.walk(pv, gv, path + (i,))

    def walk_leaf(self, g: Any, path: tuple) -> None:
        leaf = self.by_path[path]
        gref = _ref("grads", path) if path else "the gradient"
        try:
            a = _float_array(g, gref)
        except StudentCodeError as e:
            self.problems[path] = str(e)
            return
        if a.shape != np.shape(leaf.array):
            self.problems[path] = f"{gref} has shape {a.shape}, {leaf.ref} is {_shape(leaf.array)}"
            return
        bad = _non_finite(a, gref)
        if bad:
            self.problems[path] = f"{self.label}: {bad}"
            return
        self.found[path] = a


def _d_key(key: Any, grads: Mapping) -> Any:
    """Andrew Ng's key of the gradient of ``key`` (``"dW1"`` for ``"W1"``), or None."""
    if isinstance(key, str) and f"d{key}" in grads:
        return f"d{key}"
    return None


def _snapshot(leaves: list[_Leaf]) -> dict[tuple, np.ndarray]:
    return {leaf.path: leaf.array.copy() for leaf in leaves if not leaf.problem}


def _changed(leaves: list[_Leaf], saved: dict[tuple, np.ndarray]) -> list[_Leaf]:
    """The leaves whose live array no longer equals its saved copy (NaN-aware)."""
    return [leaf for leaf in leaves if leaf.path in saved
            and not np.array_equal(leaf.array, saved[leaf.path], equal_nan=True)]


def _restore(leaves: list[_Leaf], saved: dict[tuple, np.ndarray]) -> None:
    for leaf in leaves:
        if leaf.path in saved:
            leaf.array[...] = saved[leaf.path]


def _perturbed_at(leaves: list[_Leaf], saved: dict[tuple, np.ndarray]) -> str:
    """Where a sweep was when it stopped: the first element that differs from its copy."""
    for leaf in _changed(leaves, saved):
        diff = leaf.array != saved[leaf.path]
        idx = tuple(int(i) for i in np.argwhere(diff)[0]) if diff.any() else ()
        return f" (while {leaf.ref}{list(idx) if idx else ''} was perturbed)"
    return ""


def _to_torch(node: Any, arrays: dict[tuple, np.ndarray], tensors: dict[tuple, torch.Tensor],
              path: tuple = ()) -> Any:
    """The same structure with each valid leaf (``arrays``, by path) as a leaf tensor
    requiring grad; every other leaf as it is."""
    if path in arrays:
        t = torch.tensor(arrays[path], requires_grad=True)
        tensors[path] = t
        return t
    if isinstance(node, Mapping):
        return {k: _to_torch(v, arrays, tensors, path + (k,)) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        seq = [_to_torch(v, arrays, tensors, path + (i,)) for i, v in enumerate(node)]
        return seq if isinstance(node, list) else tuple(seq)
    return node


def _torch_scalar(value: Any, label: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise StudentCodeError(f"{label} returned {_kind(value)}, not a torch tensor (build "
                               f"the loss with torch functions of the tensors it is given)")
    if value.ndim:
        raise StudentCodeError(f"{label} returned a tensor of shape {tuple(value.shape)}, "
                               f"not a scalar")
    if not torch.isfinite(value):
        raise StudentCodeError(f"{label} returned {value.item()}")
    return value


def _autograd(outputs: list[torch.Tensor], inputs: list[torch.Tensor],
              grad_outputs: list[torch.Tensor] | None, label: str) -> list[np.ndarray]:
    """Gradients of ``outputs`` for ``inputs`` (zeros for an input they do not use)."""
    if not any(o.requires_grad for o in outputs):
        raise StudentCodeError(f"{label}'s result does not depend on its tensors through "
                               f"autograd (computed with NumPy, or detached?)")
    no_grads: list[torch.Tensor | None] = [None] * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs or no_grads)
             if o.requires_grad]
    try:
        grads = torch.autograd.grad([o for o, _ in pairs],
                                    inputs, [g for _, g in pairs] if grad_outputs else None,
                                    allow_unused=True)
    except RuntimeError as e:
        raise StudentCodeError(f"autograd through {label} failed: {e}") from None
    return [np.zeros(tuple(t.shape)) if g is None else g.detach().numpy()
            for g, t in zip(grads, inputs)]


# --------------------------------------------------------------------------------------
# check_gradients
# --------------------------------------------------------------------------------------
def _oracles(oracles: Any, valid: tuple[str, ...], have_reference: bool) -> tuple[str, ...]:
    if oracles is None:
        return valid if have_reference else tuple(o for o in valid if o != "torch")
    chosen = validate_oracles(oracles, valid)
    if "torch" in chosen and not have_reference:
        raise ValueError("oracle 'torch' needs a reference: a torch function of the same "
                         "structure of tensors")
    return chosen


def check_gradients(loss_and_grads: Callable[[], tuple[Any, Any]], params: Any,
                    reference: Callable[[Any], torch.Tensor] | None = None, *,
                    oracles: Iterable[str] | None = None, case: str = "check",
                    label: str = "loss_and_grads()",
                    time_limit: float | None = DEFAULT_TIME_LIMIT,
                    seed: int = 0, names: Iterable[str] | str | None = None
                    ) -> list[dict[str, Any]]:
    """Check a student's loss and gradients against torch and the torch-free oracles.

    Parameters
    ----------
    loss_and_grads
        The student's code as a zero-argument callable returning ``(loss, grads)``, both
        computed from the live arrays in ``params`` (``lambda: net.loss(X, y)`` for a
        CS231n ``TwoLayerNet``). ``grads`` mirrors ``params``: a dict with the same keys
        (or Andrew Ng's ``"dW1"`` for ``"W1"``, other entries such as ``"dA0"`` then
        ignored and listed), a list or tuple of the same length, nested alike, or one
        array for one array (CS231n's ``svm_loss_naive(W, X, y, reg) -> (loss, dW)``).
    params
        The student's own structure of the live float arrays the loss reads: a dict, a
        list or tuple, nested ones, or one array. NumPy arrays, or CPU torch tensors (a
        notebook's manual backprop on tensors), which are perturbed through their shared
        ``.detach().numpy()`` view. The checker perturbs them in place (finite
        differences, the Taylor test) and restores them exactly.
    reference
        Optional: a torch function of the same structure of tensors (requiring grad, in
        each array's dtype) returning the loss, differentiated by autograd. Because it
        takes the student's structure, no layout mapping is needed.
    oracles
        A list of names among ``"torch"`` (needs ``reference``), ``"fd"`` (central finite
        differences in float64) and ``"taylor"`` (the Taylor-remainder test); default: all
        that apply. A string or an unknown name is rejected before any work.
    case, label
        The ``case`` column of the rows; how messages name the call.
    time_limit
        Seconds for the whole check (every call of student and reference code), or None.
    seed
        Seed of the Taylor test's random directions and the liveness probe.
    names
        The names of a list's or tuple's entries (Karpathy's ``parameters = [C, W1, b1,
        ...]`` with ``names=["C", "W1", "b1", ...]``), or of one array, so that rows read
        ``W1`` rather than ``params[1]``.

    Returns
    -------
    list of dict
        Rows with the columns :data:`comparisons.run.rows.ROW_COLUMNS`: per oracle, the
        loss (torch) and each parameter under the student's own name, ``worst_index`` in
        the student's own layout; a failure of student code is a failing row whose
        ``note`` names the call and the error. float32 parameters are compared with
        torch in float32; the torch-free oracles need float64 and are ``skipped`` (with
        the reason) for float32 arrays.

    Notes
    -----
    An element where the two one-sided differences disagree beyond the finite-difference
    tolerance (after their curvature term is taken out) lies at a kink (ReLU at exactly
    0): it has no derivative there, so it is judged by torch's convention only, left out
    of the finite-difference comparison (counted in the row's note) and out of the Taylor
    test's direction. A parameter whose perturbation leaves the loss unchanged passes when
    its gradient is 0 within the finite-difference tolerance (a bias before batch norm);
    with a gradient beyond it, its arrays are probably copies. When only the torch rows
    fail while finite differences and the Taylor test pass, a row says that the reference
    computes a different function.
    """
    if not callable(loss_and_grads):
        raise TypeError(f"loss_and_grads must be a zero-argument callable returning (loss, "
                        f"grads), got {_kind(loss_and_grads)}")
    if reference is not None and not callable(reference):
        raise TypeError(f"reference must be a torch function of params, got "
                        f"{_kind(reference)}")
    chosen = _oracles(oracles, CHECK_ORACLES, reference is not None)
    leaves = _leaves(params, names)
    run = _Run(loss_and_grads, params, reference, chosen, leaves, label,
               _Clock(time_limit), seed, case)
    for leaf in leaves:
        if leaf.problem:
            run.fail("student", leaf.name, leaf.problem, leaf)
    if not leaves:
        run.fail("student", "params", "params holds no arrays")
    if not run.valid:
        return _rows_in_order(run.rows)
    try:
        with _alarm(run.clock):
            _check_gradients(run)
    except _TimeUp:
        where = _perturbed_at(run.valid, run.saved)
        run.fail("student", "time", (
            f"time limit of {time_limit:g} s reached during {run.doing}{where}: the code is "
            f"too slow for this check (raise time_limit, or check a smaller network or "
            f"batch)"))
    finally:
        run.restore()
    return _rows_in_order(run.rows)


@dataclass
class _Run:
    """One check_gradients call: its arguments, the state its stages share, its rows."""

    loss_and_grads: Callable
    params: Any
    reference: Callable | None
    chosen: tuple[str, ...]
    leaves: list[_Leaf]
    label: str
    clock: _Clock
    seed: int
    case: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    doing: str = ""  # the stage, for the time-limit message
    loss: float = 0.0  # the student's loss at params
    mine: dict[tuple, np.ndarray] = field(default_factory=dict)  # the student's gradients
    kinks: dict[tuple, np.ndarray] = field(default_factory=dict)  # masks, where fd found any
    #: the reference's gradients under the slips that need its context (the activations'
    #: derivatives left out), worked out on the first failing row that asks
    slips: LazyAlternatives | None = None

    def __post_init__(self) -> None:
        self.valid = [leaf for leaf in self.leaves if not leaf.problem]
        self.saved = _snapshot(self.valid)
        dtypes = {leaf.array.dtype for leaf in self.valid}
        dtype = np.dtype(np.float32) if np.dtype(np.float32) in dtypes else np.dtype(np.float64)
        self.info = {"case": self.case, "kind": "check", "dtype": dtype.name}
        self.doing = f"the first call of {self.label}"

    def leaf_info(self, leaf: _Leaf | None) -> dict[str, Any]:
        if leaf is None:
            return self.info
        dt = leaf.array.dtype.name if isinstance(leaf.array, np.ndarray) else ""
        return {**self.info, "dtype": dt}

    def fail(self, oracle: str, parameter: str, note: str, leaf: _Leaf | None = None, *,
             status: str = "fail") -> None:
        """A row without a comparison (a failure, a skipped oracle)."""
        self.rows.append(_row(self.leaf_info(leaf), oracle, parameter, note, status=status,
                              array=leaf.array if leaf is not None and leaf.problem == ""
                              else None))

    def compare(self, oracle: str, leaf: _Leaf | None, comparison: Any) -> dict[str, Any]:
        row = _comparison_row(self.leaf_info(leaf), oracle, comparison)
        self.rows.append(row)
        return row

    def restore(self) -> None:
        _restore(self.valid, self.saved)

    def call(self) -> tuple[float, Any]:
        out = _call(self.label, self.loss_and_grads, clock=self.clock)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            n = f" of {len(out)}" if isinstance(out, (tuple, list)) else ""
            raise StudentCodeError(f"{self.label} returned {_kind(out)}{n}, not a (loss, "
                                   f"grads) pair")
        return _scalar(out[0], self.label), out[1]

    def student_loss(self) -> float:
        return self.call()[0]


def _check_gradients(run: _Run) -> None:
    """The stages of a check, in order; each adds its rows to ``run``."""
    if not _first_call(run):
        return
    if "torch" in run.chosen:
        run.doing = "the reference's call"
        _torch_stage(run)
        run.restore()
    free: list[str] = [o for o in ("fd", "taylor") if o in run.chosen]
    checked = [leaf for leaf in run.valid if leaf.path in run.mine]
    if not free or not checked:
        return
    f64 = _float64_only(run, checked, free)
    live = _probe(run, f64, free) if f64 else None
    if not live:
        return
    if "fd" in run.chosen:
        _fd_stage(run, live)
    if "taylor" in run.chosen:
        _taylor_stage(run, live)
    _reference_hint(run)


def _first_call(run: _Run) -> bool:
    """The student's own loss and gradients, and what the call did to params."""
    try:
        run.loss, grads = run.call()
    except StudentCodeError as e:
        run.restore()
        run.fail("student", "loss", str(e))
        return False
    for leaf in _changed(run.valid, run.saved):
        run.fail("student", leaf.name, (
            f"{run.label} changed {leaf.ref} in place (a training step inside it?): the "
            f"check needs a call that only computes the loss and the gradients"), leaf)
    run.restore()
    match = _GradMatch(run.params, grads, run.leaves, run.label)
    for message in match.extra:
        run.fail("student", "grads", message)
    if match.ignored:
        run.fail("student", "grads", (
            f"not parameters, ignored: {', '.join(match.ignored)} (gradients are matched "
            f"to params by name, 'dW1' to 'W1')"), status="skipped")
    for leaf in run.valid:
        if leaf.path in match.problems:
            run.fail("student", leaf.name, match.problems[leaf.path], leaf)
    run.mine = match.found
    return True


def _torch_stage(run: _Run) -> None:
    """torch's autograd on the reference, the same structure of tensors."""
    assert run.reference is not None  # the "torch" oracle is refused without a reference
    tensors: dict[tuple, torch.Tensor] = {}
    tparams = _to_torch(run.params, {leaf.path: run.saved[leaf.path] for leaf in run.valid},
                        tensors)
    try:
        loss_t = _torch_scalar(_call("reference(params)", run.reference, tparams,
                                     clock=run.clock), "reference(params)")
        order = [leaf for leaf in run.valid if leaf.path in tensors]
        grads_t = dict(zip([leaf.path for leaf in order],
                           _autograd([loss_t], [tensors[leaf.path] for leaf in order], None,
                                     "reference(params)")))
    except StudentCodeError as e:
        run.fail("torch", "loss", str(e))
        return
    run.slips = LazyAlternatives(lambda: _reference_slips(run))
    exact = _reference_float64(run) if any(
        leaf.array.dtype == np.float32 for leaf in run.valid) else None
    dtype = run.info["dtype"]
    loss_tol = measured_tolerance(tolerance_for(dtype, "torch"), loss_t.detach().numpy(),
                                  exact and exact[0])
    run.compare("torch", None, compare_arrays(np.asarray(run.loss, dtype=dtype),
                                              loss_t.detach().numpy(), loss_tol, "loss"))
    for leaf in run.valid:
        if leaf.path in run.mine:
            tol = measured_tolerance(tolerance_for(leaf.array.dtype, "torch"),
                                     grads_t[leaf.path], exact and exact[1].get(leaf.path))
            run.compare("torch", leaf, compare_arrays(
                run.mine[leaf.path].astype(leaf.array.dtype), grads_t[leaf.path], tol,
                leaf.name, run.slips.of(leaf.name)))


def _reference_slips(run: _Run) -> dict[str, dict[str, np.ndarray]]:
    """The reference's gradients with its activations' derivatives left out or wrong
    (:func:`comparisons.core.alternatives.activation_alternatives`) and with a
    convolution's or a square linear layer's input gradient as its classic slip's
    (:func:`~comparisons.core.alternatives.layer_alternatives`), by leaf name."""
    reference = run.reference
    assert reference is not None  # called from the "torch" stage alone

    def grads() -> dict[str, np.ndarray]:
        tensors: dict[tuple, torch.Tensor] = {}
        tparams = _to_torch(run.params, {leaf.path: run.saved[leaf.path]
                                         for leaf in run.valid}, tensors)
        loss = _torch_scalar(reference(tparams), "reference(params)")
        order = [leaf for leaf in run.valid if leaf.path in tensors]
        found = _autograd([loss], [tensors[leaf.path] for leaf in order], None,
                          "reference(params)")
        return {leaf.name: g for leaf, g in zip(order, found)}
    slips = activation_alternatives(grads)
    for more in (layer_alternatives(grads), context_alternatives(grads)):
        for key, texts in more.items():
            slips.setdefault(key, {}).update(texts)
    return slips


def _reference_float64(run: _Run) -> tuple[np.ndarray, dict[tuple, np.ndarray]] | None:
    """The reference on the parameters upcast to float64 (a float32 student's check): its
    loss and gradients, to measure torch's own float32 rounding
    (:func:`comparisons.core.tolerances.measured_tolerance`); None if it cannot run."""
    assert run.reference is not None  # called from the "torch" stage alone
    tensors: dict[tuple, torch.Tensor] = {}
    arrays = {leaf.path: run.saved[leaf.path].astype(np.float64) for leaf in run.valid}
    try:
        loss = _torch_scalar(run.reference(_to_torch(run.params, arrays, tensors)),
                             "reference(params)")
        paths = [leaf.path for leaf in run.valid if leaf.path in tensors]
        grads = _autograd([loss], [tensors[p] for p in paths], None, "reference(params)")
        return loss.detach().numpy(), dict(zip(paths, grads))
    except (StudentCodeError, RuntimeError, TypeError, ValueError, AttributeError):
        return None


def _float64_only(run: _Run, checked: list[_Leaf], free: list[str]) -> list[_Leaf]:
    """The float64 leaves; a skipped row per torch-free oracle for each other one."""
    for leaf in checked:
        if leaf.array.dtype != np.float64:
            for oracle in free:
                run.fail(oracle, leaf.name, (
                    f"{leaf.ref} is {leaf.array.dtype}: finite differences and the Taylor "
                    f"test need float64 (float32 rounding swamps the difference quotient); "
                    f"check a float64 copy of the network as well (NumPy: a.astype(np.float64); "
                    f"torch: t.double())"), leaf, status="skipped")
    return [leaf for leaf in checked if leaf.array.dtype == np.float64]


def _probe(run: _Run, f64: list[_Leaf], free: list[str]) -> list[_Leaf] | None:
    """The leaves the torch-free oracles can check: the loss must be deterministic
    (else None), and a leaf whose perturbation leaves the loss exactly unchanged while
    its gradient is beyond the finite-difference tolerance of 0 is named (copies)."""
    run.doing = f"the calls of {run.label} that probe the live arrays"
    probing = ""
    try:
        again = run.student_loss()
        if again != run.loss and abs(again - run.loss) > 1e-12 * max(abs(run.loss), 1.0):
            run.fail("student", "loss", (
                f"{run.label} returned {run.loss!r}, then {again!r} with the same params: "
                f"the loss is random (dropout? a random batch?), so finite differences "
                f"cannot check it; fix the seed or switch the randomness off"))
            return None
        rng = np.random.default_rng(seed=run.seed)
        dead: set[tuple] = set()
        for leaf in f64:
            if not leaf.array.size:
                continue
            probing = (f" (while probing whether {leaf.ref} is live, all of it perturbed by "
                       f"about 1e-3)")
            if _unmoved(run, leaf, rng) and _nonzero(run.mine[leaf.path]):
                dead.add(leaf.path)
                for oracle in free:
                    run.fail(oracle, leaf.name, (
                        f"perturbing {leaf.ref} does not change the loss: the arrays are "
                        f"probably copies, not the live arrays your loss reads (or the loss "
                        f"does not depend on {leaf.name}, and its gradient, which is not 0, "
                        f"is wrong)"), leaf)
    except StudentCodeError as e:
        run.restore()
        run.fail("student", "loss", f"{e}{probing}")
        return None
    return [leaf for leaf in f64 if leaf.path not in dead]


def _unmoved(run: _Run, leaf: _Leaf, rng: np.random.Generator) -> bool:
    """Whether the loss is exactly unchanged with all of ``leaf`` perturbed by ~1e-3."""
    saved = run.saved[leaf.path]
    leaf.array[...] = saved + 1e-3 * (1 + np.abs(saved)) * rng.standard_normal(saved.shape)
    try:
        return run.student_loss() == run.loss
    finally:
        leaf.array[...] = saved


def _nonzero(grad: np.ndarray) -> bool:
    """A gradient beyond the finite-difference tolerance of 0 somewhere: one that the
    comparison with a zero difference quotient would fail."""
    return bool(np.any(np.abs(grad) > tolerance_for(np.float64, "fd").atol))


def _fd_stage(run: _Run, live: list[_Leaf]) -> None:
    """Central finite differences over every element of the live float64 arrays, with
    the kinks (one-sided differences that disagree) left to torch."""
    flat = {leaf.name: leaf.array for leaf in live}
    run.doing = (f"the finite-difference sweep ({2 * sum(p.size for p in flat.values())} "
                 f"calls of {run.label}) and its kink probes (2 more calls for each "
                 f"element whose one-sided differences disagree)")
    try:
        fd, kinks = _fd_with_kinks(run, flat)
    except StudentCodeError as e:
        where = _perturbed_at(live, run.saved)
        run.restore()
        run.fail("fd", "loss", f"during the finite-difference sweep, {e}{where}")
        return
    run.restore()
    tol = tolerance_for(np.float64, "fd")
    for leaf in live:
        mine, ref = run.mine[leaf.path], fd[leaf.name]
        mask, sides = kinks[leaf.name]
        if mask.any():
            run.kinks[leaf.path] = mask
            ref = np.where(mask, mine, ref)  # judged by torch only
        row = run.compare("fd", leaf, compare_arrays(
            mine, ref, tol, leaf.name, None if run.slips is None else run.slips.of(leaf.name)))
        if mask.any():
            _add_note(row, _kink_note(mask, sides, run.reference is not None))


def _kink_note(mask: np.ndarray, sides: np.ndarray, have_torch: bool) -> str:
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    at = idx if idx else "()"
    fwd, bwd = sides[(0, *idx)], sides[(1, *idx)]
    judged = "judged by torch only" if have_torch else "not checked (no torch reference)"
    return (f"{int(mask.sum())} of {mask.size} elements not differentiable here (at a kink: "
            f"the one-sided differences disagree, e.g. at {at}: {bwd:+.4g} from below vs "
            f"{fwd:+.4g} from above): {judged}, left out of the finite-difference "
            f"comparison and the Taylor test")


def _add_note(row: dict[str, Any], text: str) -> None:
    """``text`` in a comparison row's note; a failing row keeps its figures there too (a
    note replaces them in :func:`describe`)."""
    if row["status"] != "pass":
        figures = describe({k: v for k, v in row.items()
                            if k not in ("case", "oracle", "parameter", "note")})
        text = f"{figures.lstrip(': ')}; {text}"
    row["note"] = text


def _fd_with_kinks(run: _Run, flat: dict[str, np.ndarray]
                   ) -> tuple[dict[str, np.ndarray], dict[str, tuple[np.ndarray, np.ndarray]]]:
    r"""Central differences (step h, as :func:`finite_difference_gradients`) and, per
    array, the mask of the elements at a kink with their one-sided differences.

    With :math:`L_\pm = L(\theta \pm h e_i)`, the one-sided differences differ by
    :math:`D(h) = (L_+ - 2L_0 + L_-)/h = h L'' + O(h^3)` on a smooth loss: their
    disagreement is the curvature term, linear in h. Where it exceeds the
    finite-difference tolerance, the steps h/2 tell curvature from a kink: a smooth loss
    gives :math:`D(h) = 2D(h/2)` and :math:`C(h) = C(h/2)` (the central differences) up
    to :math:`O(h^2)` terms far below the tolerance, while a kink at distance d < h from
    :math:`\theta_i` breaks one or the other (d = 0: :math:`D(h) = D(h/2)`, the jump;
    0 < d < h: :math:`C(h) \ne C(h/2)`). Two more calls for each such element."""
    fd: dict[str, np.ndarray] = {}
    kinks: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, p in flat.items():
        g = np.zeros(p.shape)
        sides = np.zeros((2,) + p.shape)  # from above, from below
        mask = np.zeros(p.shape, dtype=bool)
        for idx in np.ndindex(p.shape):
            g[idx], sides[(0, *idx)], sides[(1, *idx)], mask[idx] = _element(run, p, idx)
        fd[name] = g
        kinks[name] = (mask, sides)
    return fd, kinks


def _element(run: _Run, p: np.ndarray, idx: tuple) -> tuple[float, float, float, bool]:
    """One element's central difference, its one-sided differences (from above, from
    below) and whether it is at a kink (see :func:`_fd_with_kinks`)."""
    tol = tolerance_for(np.float64, "fd")
    h, L0 = FD_STEP, run.loss
    up, down = _pair(run, p, idx, h)
    central = (up - down) / (2 * h)
    allowed = float(tol.atol + tol.rtol * abs(central))  # fd's tolerance is scalar
    kink = False
    if abs(up - 2 * L0 + down) / h > allowed:
        up2, down2 = _pair(run, p, idx, h / 2)
        kink = (abs((up - 2 * L0 + down) / h - 2 * (up2 - 2 * L0 + down2) / (h / 2)) > allowed
                or abs(central - (up2 - down2) / h) > allowed)
    return central, (up - L0) / h, (L0 - down) / h, kink


def _pair(run: _Run, p: np.ndarray, idx: tuple, h: float) -> tuple[float, float]:
    """The loss at ``p[idx] + h`` and ``p[idx] - h``; ``p`` restored exactly (the saved
    value written back), or left perturbed if the student's code raises, for the message."""
    saved = p[idx]
    p[idx] = saved + h
    up = run.student_loss()
    p[idx] = saved - h
    down = run.student_loss()
    p[idx] = saved
    return up, down


def _taylor_stage(run: _Run, live: list[_Leaf]) -> None:
    """The Taylor-remainder test along a random direction per array, over its elements
    that are not at a kink (the others are set to their own values on each call)."""
    flat: dict[str, np.ndarray] = {}
    grads: dict[str, np.ndarray] = {}
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (array, keep, values)
    for leaf in live:
        mask = run.kinks.get(leaf.path)
        if mask is None:
            flat[leaf.name], grads[leaf.name] = leaf.array, run.mine[leaf.path]
        elif mask.all():
            run.fail("taylor", leaf.name, (
                f"every element of {leaf.ref} is at a kink (see the finite-difference row): "
                f"no direction left for the Taylor test"), leaf, status="skipped")
        else:
            values = leaf.array[~mask]
            flat[leaf.name], grads[leaf.name] = values, run.mine[leaf.path][~mask]
            parts.append((leaf.array, ~mask, values))
    if not flat:
        return

    def loss() -> float:
        for array, keep, values in parts:
            array[keep] = values
        return run.student_loss()

    run.doing = f"the Taylor test ({9 * len(flat)} calls of {run.label})"
    try:
        trows = taylor_rows(loss, flat, grads, seed=run.seed)
    except StudentCodeError as e:
        where = _perturbed_at(live, run.saved)
        run.restore()
        run.fail("taylor", "loss", f"during the Taylor test, {e}{where}")
        return
    run.restore()
    by_name = {leaf.name: leaf for leaf in live}
    for row in trows:
        leaf = by_name[row["parameter"]]
        row = {**run.leaf_info(leaf), "oracle": "taylor", **row,
               "shape": "x".join(map(str, leaf.array.shape)) or "scalar"}
        if leaf.path in run.kinks:
            mask = run.kinks[leaf.path]
            row["size"] = int((~mask).sum())
            _add_note(row, f"along the {row['size']} of {mask.size} elements not at a kink")
        run.rows.append(row)


def _reference_hint(run: _Run) -> None:
    """When only torch's rows fail while finite differences and the Taylor test pass, the
    reference, not the student, computes a different function: a row saying so."""
    failing = [r for r in run.rows if r["status"] in ("fail", "xpass")]
    if not failing or any(r["oracle"] != "torch" or "max_rel_err" not in r for r in failing):
        return
    free = [r for r in run.rows if r["oracle"] in ("fd", "taylor")]
    if not any(r["oracle"] == "fd" and r["status"] == "pass" for r in free) or any(
            r["status"] not in ("pass", "skipped") for r in free):
        return
    loss = [r for r in failing if r["parameter"] == "loss"]
    rels = [r["worst_rel_err"] if loss else r["max_rel_err"] for r in (loss or failing)]
    rels = [x for x in rels if x == x]  # NaN: a zero reference
    rel = f" (rel {max(rels):.1e})" if rels else ""
    run.fail("torch", "reference", (
        f"only the torch rows fail, while finite differences and the Taylor test of your "
        f"own loss pass: your reference computes a different function{rel}: check its "
        f"conventions (e.g. biased vs unbiased variance, mean vs sum, the order of a "
        f"weight's axes)"))


# --------------------------------------------------------------------------------------
# check_layer
# --------------------------------------------------------------------------------------
def _is_layer(obj: Any) -> bool:
    return (not inspect.isroutine(obj) and callable(getattr(obj, "forward", None))
            and callable(getattr(obj, "backward", None))
            and isinstance(getattr(obj, "params", None), Mapping))


def _input_names(fn: Callable, n: int) -> list[str]:
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    names = names[:n]
    return names + [f"inputs[{i}]" for i in range(len(names), n)]


def _fn_name(fn: Any) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _torch_input(value: Any, requires_grad: bool) -> Any:
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return torch.tensor(value, requires_grad=requires_grad)
        if value.dtype.kind in "iu":
            return torch.as_tensor(value.astype(np.int64))
        if value.dtype.kind == "b":
            return torch.as_tensor(value)
    return value


def check_layer(forward: Any, backward: Callable | None = None, inputs: Any = None,
                reference: Callable | None = None, *, oracles: Iterable[str] | None = None,
                seed: int = 0, case: str | None = None, names: Iterable[str] | None = None,
                time_limit: float | None = DEFAULT_TIME_LIMIT) -> list[dict[str, Any]]:
    r"""Check a layer's forward and backward against torch and finite differences.

    Two conventions are accepted:

    - **a CS231n-style function pair**: ``forward(*inputs) -> (out, cache)`` (or ``(out1,
      out2, ..., cache)``, as ``lstm_step_forward``) and ``backward(dout, cache)`` (one
      upstream gradient per output, then the cache) returning the gradient of each
      *float array* input, in order (a tuple, or one array when there is one). Other
      inputs (integer labels or indices, ``conv_param`` dicts) are passed as they are and
      have no gradient. ``reference(*inputs)`` is the torch function of the same inputs
      (float arrays as tensors requiring grad, integer arrays as int64 tensors, the rest
      as given) returning the output(s). ``backward=None`` checks the forward alone.
    - **an object following the layer protocol** (:mod:`manual.layers.base`:
      ``forward(x)``, ``backward(dout) -> dx``, live ``params``, ``grads`` after backward):
      ``check_layer(layer, inputs=x)`` (or ``check_layer(layer, x)``); ``reference`` is a
      ``torch.nn.Module`` with the same parameter names (called with the layer's params
      through ``torch.func.functional_call``) or a function ``reference(x, params)``.

    The backward pass is checked under a random upstream gradient (never all-ones, which
    hides Jacobian errors) against torch's vector-Jacobian product and against central
    finite differences (float64) of :math:`\sum \text{out} \cdot \text{dout}` over every
    float input and parameter. Inputs are handed over as fresh copies on every call, and
    a forward or backward that changes them in place is reported. Rows are named by the
    inputs' names in the signature (``x``, ``w``, ``b``), the output ``out`` (``out[0]``,
    ``out[1]``, … for several), for a layer ``input`` and its parameter names; ``names``
    overrides the inputs' names. ``time_limit`` (seconds, or None) bounds the whole check.
    """
    if _is_layer(forward):
        if backward is not None and not callable(backward):  # check_layer(layer, x, ref)
            if reference is None and inputs is not None:
                reference = inputs
            inputs, backward = backward, None
        if backward is not None:
            raise TypeError("check_layer(layer, inputs=x): a layer object brings its own "
                            "backward")
        return _check_layer_object(forward, inputs, reference, oracles=oracles, seed=seed,
                                   case=case, time_limit=time_limit)
    if not callable(forward):
        raise TypeError(f"forward must be a function forward(*inputs) -> (out, cache) or a "
                        f"layer object, got {_kind(forward)}")
    if backward is not None and not callable(backward):
        raise TypeError(f"backward must be a function backward(dout, cache), got "
                        f"{_kind(backward)}")
    if reference is not None and not callable(reference):
        raise TypeError(f"reference must be a torch function of the inputs, got "
                        f"{_kind(reference)}")
    chosen = _oracles(oracles, CHECK_LAYER_ORACLES, reference is not None)
    if isinstance(inputs, np.ndarray) or not isinstance(inputs, (list, tuple)):
        inputs = (inputs,)
    inputs = tuple(inputs)
    names = list(names) if names is not None else _input_names(forward, len(inputs))
    if len(names) != len(inputs):
        raise ValueError(f"names has {len(names)} entries for {len(inputs)} inputs")
    fname = _fn_name(forward)
    bname = _fn_name(backward) if backward is not None else ""
    floats = [i for i, v in enumerate(inputs)
              if isinstance(v, np.ndarray) and v.dtype in (np.float32, np.float64)]
    dtype = inputs[floats[0]].dtype if floats else np.dtype(np.float64)
    info = {"case": case or (f"{fname}/{bname}" if bname else fname), "kind": "layer",
            "dtype": np.dtype(dtype).name}
    flabel = f"{fname}({', '.join(names)})"
    clock = _Clock(time_limit)
    rows: list[dict[str, Any]] = []
    try:
        sig = inspect.signature(forward)
    except (TypeError, ValueError):
        sig = None
    if sig is not None:
        try:
            sig.bind(*inputs)
        except TypeError:
            return _rows_in_order([_row(info, "student", "signature", (
                f"{fname}{sig} cannot be called as {flabel}"))])
    try:
        with _alarm(clock):
            rows += _check_pair(_Pair(forward, backward, inputs, reference, chosen, names,
                                      floats, info, flabel, bname, seed, clock))
    except _TimeUp:
        rows.append(_row(info, "student", "time", (
            f"time limit of {time_limit:g} s reached while checking {flabel}: the code is "
            f"too slow for this check")))
    return _rows_in_order(rows)


def _outputs(result: Any, label: str, with_cache: bool = True) -> list[np.ndarray]:
    """A forward's outputs (the cache, last, dropped), each a float64 copy."""
    if with_cache:
        if not isinstance(result, (tuple, list)) or len(result) < 2:
            raise StudentCodeError(f"{label} returned {_kind(result)}, not (out, cache)")
        result = result[:-1]
    else:
        result = (result,)
    outs = []
    for k, o in enumerate(result):
        what = "its output" if len(result) == 1 else f"its output {k}"
        a = _float_array(o, f"{label}: {what}")
        bad = _non_finite(a, f"{label}: {what}")
        if bad:
            raise StudentCodeError(bad)
        outs.append(a)
    return outs


@dataclass
class _Pair:
    """One check_layer call on a function pair: its arguments and its rows."""

    forward: Callable
    backward: Callable | None
    inputs: tuple
    reference: Callable | None
    chosen: tuple[str, ...]
    names: list[str]
    floats: list[int]  # the positions of the float array inputs
    info: dict[str, Any]
    flabel: str
    bname: str
    seed: int
    clock: _Clock
    rows: list[dict[str, Any]] = field(default_factory=list)
    douts: list[np.ndarray] = field(default_factory=list)  # the upstream gradients, float64
    shares: list[dict[str, np.ndarray]] | None = None  # see _shares

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.info["dtype"])

    def fail(self, oracle: str, parameter: str, note: str) -> None:
        self.rows.append(_row(self.info, oracle, parameter, note))

    def compare(self, oracle: str, actual: Any, expected: Any, name: str,
                exact: Any = None, slips: Any = None) -> None:
        """A comparison row; ``exact``: the reference in float64, for a float32 check;
        ``slips``: the gradients of slips to test on a failure (text -> array)."""
        tol = measured_tolerance(tolerance_for(self.dtype, oracle), expected, exact)
        self.rows.append(_comparison_row(self.info, oracle,
                                         compare_arrays(actual, expected, tol, name, slips)))

    def slips(self, i: int, douts: list[np.ndarray]) -> Callable[[], dict[str, np.ndarray]]:
        """The slips of input ``i``'s gradient that need the pair's context, worked out when
        a comparison first fails: the upstream gradient passed through unchanged (one float
        input, one output of its shape), and the reference's vector-Jacobian products of
        one share of the upstream gradient only (a sum left incomplete, ``=`` where ``+=``
        belongs in a loop: :func:`~comparisons.core.alternatives.slice_upstreams`)."""
        def compute() -> dict[str, np.ndarray]:
            out: dict[str, np.ndarray] = {}
            if len(self.floats) == 1 and len(douts) == 1 and (
                    douts[0].shape == np.shape(self.inputs[i])):
                out[PASSED_THROUGH] = douts[0]
            return {**out, **self._shares()[self.floats.index(i)]}
        return compute

    def _reference_vjp(self, douts: list[np.ndarray]) -> dict[int, np.ndarray]:
        """The reference's vector-Jacobian product for ``douts``, in float64, by the
        position of each float input among them."""
        assert self.reference is not None  # the caller catches it: no hypotheses
        targs = [_torch_input(v.astype(np.float64) if isinstance(v, np.ndarray)
                              and v.dtype.kind == "f" else v, k in self.floats)
                 for k, v in enumerate(self.inputs)]
        out = self.reference(*targs)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        grads = _autograd(outs, [targs[k] for k in self.floats],
                          [torch.as_tensor(d) for d in douts], "reference")
        return dict(enumerate(grads))

    def _shares(self) -> list[dict[str, np.ndarray]]:
        """Per float input, {words: the gradient of a slip}: the reference's VJP of one
        share of the upstream gradient, and with its activations' derivatives left out or
        wrong (:func:`~comparisons.core.alternatives.activation_alternatives`), in
        float64, computed once (empty without a reference or on an error)."""
        if self.shares is None:
            self.shares = [{} for _ in self.floats]
            try:
                for text, masked in slice_upstreams(self.douts):
                    for j, g in self._reference_vjp(masked).items():
                        self.shares[j][text] = g
                # the activations inside the reference (a derivative left out, or wrong),
                # and its calls inside a context (a norm's statistics held constant, …)
                def run() -> dict[str, np.ndarray]:
                    return {str(k): g for k, g in self._reference_vjp(self.douts).items()}
                for more in (activation_alternatives(run), context_alternatives(run)):
                    for key, texts in more.items():
                        self.shares[int(key)].update(texts)
            # a hypothesis is an aid: a reference that cannot rerun leaves the verdict alone
            except Exception:  # noqa: BLE001
                self.shares = [{} for _ in self.floats]
        return self.shares

    def run(self, values: Any = None, report: bool = False) -> tuple[list[np.ndarray], Any]:
        """The forward's outputs and cache on fresh copies of ``values`` (the inputs);
        ``report``: a row for each input it changed in place."""
        values = self.inputs if values is None else values
        args = _fresh(values)
        result = _call(self.flabel, self.forward, *args, clock=self.clock)
        outs = _outputs(result, self.flabel)
        for i, v in enumerate(values):
            if report and isinstance(v, np.ndarray) and not np.array_equal(args[i], v,
                                                                            equal_nan=True):
                self.fail("student", self.names[i], (
                    f"{self.flabel} changed its input {self.names[i]} in place: a caller's "
                    f"array (and what the cache keeps of it) is overwritten; compute into a "
                    f"new array (e.g. np.maximum(x, 0) rather than x[x < 0] = 0)"))
        return outs, result[-1]


def _fresh(values: Any) -> list[Any]:
    return [v.copy() if isinstance(v, np.ndarray) else v for v in values]


def _check_pair(pair: _Pair) -> list[dict[str, Any]]:
    try:
        outs, cache = pair.run(report=True)
        again, _ = pair.run()
    except StudentCodeError as e:
        pair.fail("student", "out", str(e))
        return pair.rows
    if any(not np.array_equal(a, b, equal_nan=True) for a, b in zip(outs, again)):
        pair.fail("student", "out", (
            f"{pair.flabel} returned different outputs for the same inputs: it is random "
            f"(dropout without a fixed seed?), so its gradient cannot be checked; fix the "
            f"seed"))
        return pair.rows
    rng = np.random.default_rng(pair.seed)
    douts = [rng.standard_normal(o.shape) for o in outs]  # never all-ones
    pair.douts = [d.astype(pair.dtype).astype(np.float64) for d in douts]  # as the student's
    mine: dict[int, np.ndarray] = {}
    if pair.backward is not None:
        try:
            mine = _pair_backward(pair, douts, cache)
        except StudentCodeError as e:
            pair.fail("student", "backward", str(e))
    if "torch" in pair.chosen:
        _pair_torch(pair, outs, douts, mine)
    if "fd" in pair.chosen and mine:
        _pair_fd(pair, douts, mine)
    return pair.rows


def _pair_backward(pair: _Pair, douts: list[np.ndarray], cache: Any) -> dict[int, np.ndarray]:
    """The student's gradient of each float input, by position."""
    assert pair.backward is not None  # called only when the student gave a backward
    dnames = ["dout"] if len(douts) == 1 else [f"dout{k}" for k in range(len(douts))]
    blabel = f"{pair.bname}({', '.join(dnames)}, cache)"
    dargs = [d.astype(pair.dtype) for d in douts]
    dcopies = [d.copy() for d in dargs]
    result = _call(blabel, pair.backward, *dargs, cache, clock=pair.clock)
    if any(not np.array_equal(a, b) for a, b in zip(dargs, dcopies)):
        pair.fail("student", "dout", (
            f"{blabel} changed dout in place: the upstream gradient belongs to the caller "
            f"(it may feed another branch); compute into a new array"))
    floats, names = pair.floats, pair.names
    if len(floats) == 1 and not isinstance(result, (tuple, list)):
        result = (result,)
    if not isinstance(result, (tuple, list)) or len(result) != len(floats):
        n = len(result) if isinstance(result, (tuple, list)) else 1
        want = ", ".join(f"d{names[i]}" for i in floats)
        raise StudentCodeError(f"{blabel} returned {n} gradient(s), expected {len(floats)}: "
                               f"({want})")
    mine = {}
    for i, g in zip(floats, result):
        a = _float_array(g, f"{blabel}: d{names[i]}")
        if a.shape != pair.inputs[i].shape:
            raise StudentCodeError(f"{blabel}: d{names[i]} has shape {a.shape}, {names[i]} "
                                   f"is {pair.inputs[i].shape}")
        bad = _non_finite(a, f"{blabel}: d{names[i]}")
        if bad:
            raise StudentCodeError(bad)
        mine[i] = a
    return mine


def _pair_torch(pair: _Pair, outs: list[np.ndarray], douts: list[np.ndarray],
                mine: dict[int, np.ndarray]) -> None:
    """The outputs against the reference's, the gradients against its vector-Jacobian
    product."""
    assert pair.reference is not None  # the "torch" oracle is refused without a reference
    targs = [_torch_input(v, i in pair.floats) for i, v in enumerate(pair.inputs)]
    try:
        out_t = _call("reference", pair.reference, *targs, clock=pair.clock)
        outs_t = list(out_t) if isinstance(out_t, (tuple, list)) else [out_t]
        if len(outs_t) != len(outs) or not all(isinstance(o, torch.Tensor) for o in outs_t):
            raise StudentCodeError(f"reference returned {_kind(out_t)}, expected {len(outs)} "
                                   f"tensor(s) like {pair.flabel}'s outputs")
        for k, o in enumerate(outs_t):
            if tuple(o.shape) != outs[k].shape:
                raise StudentCodeError(f"reference's output {k} has shape {tuple(o.shape)}, "
                                       f"{pair.flabel}'s is {outs[k].shape}")
        vjp_t = (_autograd(outs_t, [targs[i] for i in pair.floats],
                           [torch.as_tensor(d.astype(pair.dtype)) for d in douts], "reference")
                 if pair.floats and mine else [])
    except StudentCodeError as e:
        pair.fail("torch", "reference", str(e))
        return
    exact = _pair_float64(pair, douts, bool(mine)) if pair.dtype == np.float32 else None
    out_names = ["out"] if len(outs) == 1 else [f"out[{k}]" for k in range(len(outs))]
    for k, (name, o, ot) in enumerate(zip(out_names, outs, outs_t)):
        pair.compare("torch", o.astype(pair.dtype), ot.detach().numpy(), name,
                     exact=exact and exact[0][k])
    for j, (i, g) in enumerate(zip(pair.floats, vjp_t)):
        pair.compare("torch", mine[i].astype(pair.dtype), g, pair.names[i],
                     exact=exact and exact[1][j], slips=pair.slips(i, douts))


def _pair_float64(pair: _Pair, douts: list[np.ndarray], grads: bool
                  ) -> tuple[list[np.ndarray], list[np.ndarray]] | None:
    """The reference run in float64 on the same inputs upcast (a float32 student's check):
    its outputs and vector-Jacobian product, to measure torch's own float32 rounding
    (:func:`comparisons.core.tolerances.measured_tolerance`); None if it cannot run."""
    assert pair.reference is not None  # called from the "torch" stage alone
    targs = [_torch_input(v.astype(np.float64) if isinstance(v, np.ndarray)
                          and v.dtype.kind == "f" else v, i in pair.floats)
             for i, v in enumerate(pair.inputs)]
    try:
        out = pair.reference(*targs)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        vjp = (_autograd(outs, [targs[i] for i in pair.floats],
                         [torch.as_tensor(d.astype(np.float64)) for d in douts], "reference")
               if pair.floats and grads else [])
        return [o.detach().numpy() for o in outs], list(vjp)
    except (StudentCodeError, RuntimeError, TypeError, ValueError, AttributeError):
        return None


def _pair_fd(pair: _Pair, douts: list[np.ndarray], mine: dict[int, np.ndarray]) -> None:
    r"""Central finite differences (float64) of :math:`\sum \text{out}\cdot\text{dout}`."""
    live = [v.astype(np.float64) if i in pair.floats else v for i, v in enumerate(pair.inputs)]

    def vjp_value() -> float:
        result = _call(pair.flabel, pair.forward, *_fresh(live), clock=pair.clock)
        outs64 = _outputs(result, pair.flabel)
        return float(sum(np.sum(o * d) for o, d in zip(outs64, douts)))

    try:
        fd = finite_difference_gradients(vjp_value, {pair.names[i]: live[i]
                                                     for i in pair.floats})
    except StudentCodeError as e:
        pair.fail("fd", "out", f"during the finite-difference sweep, {e}")
        return
    for i in pair.floats:
        pair.compare("fd", mine[i], fd[pair.names[i]], pair.names[i],
                     slips=pair.slips(i, douts))


def _check_layer_object(layer: Any, x: Any, reference: Any, *, oracles, seed, case,
                        time_limit) -> list[dict[str, Any]]:
    """check_layer for an object of the layer protocol: the input ``x`` and the live
    ``params`` are the float inputs; ``backward`` returns dx and fills ``grads``."""
    is_module = isinstance(reference, torch.nn.Module)
    if reference is not None and not (is_module or callable(reference)):
        raise TypeError(f"reference must be a torch.nn.Module or a function "
                        f"reference(x, params), got {_kind(reference)}")
    chosen = _oracles(oracles, CHECK_LAYER_ORACLES, reference is not None)
    if isinstance(x, (list, tuple)) and len(x) == 1:
        x = x[0]
    if not isinstance(x, np.ndarray) or x.dtype not in (np.float32, np.float64):
        raise TypeError(f"check_layer(layer, inputs=x): x must be a float32/float64 NumPy "
                        f"array, got {_kind(x)}")
    lname = type(layer).__name__
    names = list(layer.params)
    info = {"case": case or lname, "kind": "layer", "dtype": x.dtype.name}
    clock = _Clock(time_limit)
    leaves = [_Leaf((k,), k, f"{lname}.params[{k!r}]", layer.params[k]) for k in names]
    saved = _snapshot(leaves)
    buffers = {k: np.array(v, copy=True) for k, v in getattr(layer, "buffers", {}).items()}
    rows: list[dict[str, Any]] = []

    def restore() -> None:
        _restore(leaves, saved)
        for k, v in buffers.items():
            layer.buffers[k][...] = v

    try:
        with _alarm(clock):
            rows += _check_object(_Object(layer, x, reference, is_module, chosen, leaves,
                                          saved, info, seed, clock))
    except _TimeUp:
        rows.append(_row(info, "student", "time", (
            f"time limit of {time_limit:g} s reached while checking {lname}: the code is too "
            f"slow for this check")))
    finally:
        restore()
    return _rows_in_order(rows)


@dataclass
class _Object:
    """One check_layer call on a layer object: its arguments, the student's output and
    gradients, and the rows."""

    layer: Any
    x: np.ndarray
    reference: Any
    is_module: bool
    chosen: tuple[str, ...]
    leaves: list[_Leaf]
    saved: dict[tuple, np.ndarray]
    info: dict[str, Any]
    seed: int
    clock: _Clock
    rows: list[dict[str, Any]] = field(default_factory=list)
    douts: list[np.ndarray] = field(default_factory=list)  # the upstream gradients, float64
    shares: list[dict[str, np.ndarray]] | None = None  # see _shares
    out: Any = None
    dout: Any = None
    mine: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def lname(self) -> str:
        return type(self.layer).__name__

    def compare(self, oracle: str, actual: Any, expected: Any, name: str) -> None:
        tol = tolerance_for(self.x.dtype, oracle)
        self.rows.append(_comparison_row(self.info, oracle,
                                         compare_arrays(actual, expected, tol, name)))

    def forward(self, layer: Any, x_in: np.ndarray) -> np.ndarray:
        arg = x_in.copy()
        label = f"{self.lname}.forward(x)"
        out = _outputs(_call(label, layer.forward, arg, clock=self.clock), label,
                       with_cache=False)[0]
        if not np.array_equal(arg, x_in, equal_nan=True):
            raise StudentCodeError(f"{label} changed its input x in place")
        return out


def _check_object(obj: _Object) -> list[dict[str, Any]]:
    try:
        _object_student(obj)
    except StudentCodeError as e:
        return [_row(obj.info, "student", "layer", str(e))]
    _restore(obj.leaves, obj.saved)
    if "torch" in obj.chosen:
        _object_torch(obj)
    if "fd" in obj.chosen:
        _object_fd(obj)
    return obj.rows


def _object_student(obj: _Object) -> None:
    """The layer's output, dx and grads under a random upstream gradient."""
    lname, x = obj.lname, obj.x
    obj.out = obj.forward(obj.layer, x)
    for leaf in _changed(obj.leaves, obj.saved):
        raise StudentCodeError(f"{lname}.forward(x) changed {leaf.ref} in place")
    obj.dout = np.random.default_rng(obj.seed).standard_normal(obj.out.shape).astype(x.dtype)
    dx = _call(f"{lname}.backward(dout)", obj.layer.backward, obj.dout.copy(), clock=obj.clock)
    grads = dict(getattr(obj.layer, "grads", {}) or {})
    if dx is not None:
        a = _float_array(dx, f"{lname}.backward(dout)")
        if a.shape != x.shape:
            raise StudentCodeError(f"{lname}.backward(dout) returned shape {a.shape}, x is "
                                   f"{x.shape}")
        obj.mine["input"] = a
    for leaf in obj.leaves:
        if leaf.name not in grads:
            raise StudentCodeError(f"{lname}.grads has no entry for {leaf.name!r} after "
                                   f"backward")
        a = _float_array(grads[leaf.name], f"{lname}.grads[{leaf.name!r}]")
        if a.shape != leaf.array.shape:
            raise StudentCodeError(f"{lname}.grads[{leaf.name!r}] has shape {a.shape}, "
                                   f"{leaf.ref} is {leaf.array.shape}")
        obj.mine[leaf.name] = a


def _object_torch(obj: _Object) -> None:
    with_input = "input" in obj.mine
    xt = torch.tensor(obj.x, requires_grad=with_input)
    pt = {leaf.name: torch.tensor(leaf.array, requires_grad=True) for leaf in obj.leaves}
    try:
        if obj.is_module:
            out_t = _call("reference", torch.func.functional_call, obj.reference, pt, (xt,),
                          clock=obj.clock)
        else:
            out_t = _call("reference", obj.reference, xt, pt, clock=obj.clock)
        if not isinstance(out_t, torch.Tensor) or tuple(out_t.shape) != obj.out.shape:
            raise StudentCodeError(f"reference returned {_kind(out_t)} "
                                   f"{tuple(getattr(out_t, 'shape', ()))}, expected a tensor "
                                   f"of shape {obj.out.shape}")
        keys = (["input"] if with_input else []) + [leaf.name for leaf in obj.leaves]
        ins = ([xt] if with_input else []) + [pt[leaf.name] for leaf in obj.leaves]
        vjp_t = dict(zip(keys, _autograd([out_t], ins, [torch.as_tensor(obj.dout)],
                                         "reference")))
    except StudentCodeError as e:
        obj.rows.append(_row(obj.info, "torch", "reference", str(e)))
        return
    dtype = obj.x.dtype
    obj.compare("torch", obj.out.astype(dtype), out_t.detach().numpy(), "out")
    for k in keys:
        obj.compare("torch", obj.mine[k].astype(dtype), vjp_t[k], k)


def _object_fd(obj: _Object) -> None:
    """Finite differences on the layer itself (float64) or on its float64 twin."""
    layer, dtype, lname = obj.layer, obj.x.dtype, obj.lname
    if dtype != np.float64 and not hasattr(layer, "astype"):
        obj.rows.append(_row(obj.info, "fd", "layer", (
            f"{lname} is {dtype} and has no astype(np.float64) for a float64 twin: finite "
            f"differences need float64"), status="skipped"))
        return
    twin = layer if dtype == np.float64 else layer.astype(np.float64)
    x64 = obj.x.astype(np.float64)
    arrays = {leaf.name: twin.params[leaf.name] for leaf in obj.leaves}
    if "input" in obj.mine:
        arrays = {"input": x64, **arrays}

    def vjp_value() -> float:
        return float(np.sum(obj.forward(twin, x64) * obj.dout))

    try:
        fd = finite_difference_gradients(vjp_value, arrays)
    except StudentCodeError as e:
        obj.rows.append(_row(obj.info, "fd", "out", f"during the finite-difference sweep, {e}"))
        return
    for k, v in fd.items():
        obj.compare("fd", obj.mine[k], v, k)
