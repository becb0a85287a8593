r"""A seeded fuzz of every activation and loss against torch's built-ins.

Each case draws, from its own seeded stream (``numpy.random.default_rng([seed, i])``, so
any single case can be rebuilt from its number alone):

- a component of the case table (:data:`comparisons.cases.components.COMPONENTS`) and a
  dtype, float32 or float64;
- random keyword arguments of the kinds torch accepts (``reduction``, ``weight``,
  ``beta``, ``alpha``, ``dim``, ``ignore_index``, ``label_smoothing``, ``log_target``,
  ...), valid or not: each is left out about half the time, and the values include the
  edges (0, negative, above 1) where torch itself rejects some;
- a shape of 0 to 3 dimensions, empty dimensions included (class losses: (C,), (N, C)
  and torch's spatial (N, C, d1));
- values: normal ones at three scales, mixed with 0, +-1, the function's kinks *exactly*
  (relu's 0, hardtanh's limits, softplus's threshold/beta, softshrink's +-lambd, the
  switch of huber and smooth L1, a margin of exactly 0 in multi_margin, ...) and the
  floats next to them, +-1e4, +-1e-300, subnormals, +-50 and +-800 (and, with
  ``nonfinite=True``, +-inf and NaN: not part of the default fuzz);
- a random upstream gradient (the output's shape, or a scalar for a reduced loss).

The manual forward and backward (a vector–Jacobian product) are compared with torch's
forward and autograd's input gradient under the project's tolerance policy,
:func:`comparisons.core.tolerances.tolerance_for` (dtype, ``"torch"``); NaN must meet NaN and
an infinity the same infinity. Where torch raises, ours must raise ``ValueError`` or
``TypeError``; where only ours raises, the refusal must be one of the documented
:data:`~comparisons.cases.components.STRICTER_THAN_TORCH` choices (then ``xfail``).
Documented deviations (:data:`DEVIATIONS`) are ``xfail`` rows with their reason, and so
is a difference that float arithmetic shows to be torch's own rounding
(:func:`_rounding_explains`): in float32, ours agreeing with torch run in float64 on the
same inputs; for a reduced loss whose terms cancel, ours within the summation bound
:math:`2\gamma_n \sum|\text{terms}|` of torch in float64. Nothing else is excused.

:func:`opinfo` runs torch's own OpInfo samples (``op_db``) through the same judgement.

>>> from comparisons.run.fuzz import fuzz, summary
>>> table = fuzz(40, seed=1)
>>> sorted(table.columns)[:4]
['case', 'dtype', 'err_over_tol', 'function']
>>> summary(table)["fail"]
0

Run it from the command line: ``python -m comparisons.run.fuzz 6000 --seed 0 --out fuzz.csv``.
"""

from __future__ import annotations

import argparse
import contextvars
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from comparisons.run.bridge import torch_kwargs
from comparisons.cases.components import COMPONENTS, STRICTER_THAN_TORCH
from comparisons.core.tolerances import tolerance_for
from manual import activations, losses

__all__ = ["DEVIATIONS", "OPINFO_NAMES", "FuzzCase", "FuzzDeviation", "fuzz", "main", "make_case",
           "opinfo", "opinfo_case", "run_case", "summary"]

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: what torch raises for input it refuses
TORCH_ERRORS = (RuntimeError, ValueError, TypeError, IndexError, ZeroDivisionError)
#: what ours may raise: a named refusal at the API boundary
OUR_ERRORS = (ValueError, TypeError)
CLASS_LOSSES = ("cross_entropy", "nll", "multi_margin")


@dataclass
class FuzzCase:
    """One drawn case: ``inputs`` is ``{"z"}`` for an activation, ``{"pred", "target"}``
    (and ``"var"`` for gaussian_nll) for a loss; ``grad`` the upstream gradient, drawn once
    the output's shape is known (from ``grad_seed``)."""

    case: int
    function: str
    kind: str
    dtype: np.dtype
    kwargs: dict[str, Any]
    inputs: dict[str, Any]
    grad_seed: list[int] = field(default_factory=list)
    #: the dtype the upstream gradient is drawn in (the case's own unless replayed in float64)
    grad_dtype: np.dtype | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.inputs["z" if self.kind == "activation" else "pred"])


# ======================================================================================
# drawing: keyword arguments
# ======================================================================================
def _pick(rng: np.random.Generator, options: list[Any]) -> Any:
    value = options[int(rng.integers(len(options)))]
    return value(rng) if callable(value) else value


def _uniform(lo: float, hi: float) -> Callable[[np.random.Generator], float]:
    return lambda rng: float(np.round(rng.uniform(lo, hi), 3))


#: (function or "*", argument) -> the values drawn for it (a callable draws one)
_FLOATS: dict[tuple[str, str], list[Any]] = {
    ("*", "negative_slope"): [0.01, 0.2, -0.5, 0.0, 1.0, 3.0, _uniform(-3, 3)],
    ("*", "alpha"): [1.0, 0.5, 2.0, 0.3, -1.0, 0.0, _uniform(-3, 3)],
    ("softplus", "beta"): [1.0, 2.0, 0.5, -1.0, -2.0, 0.0, _uniform(-3, 3)],
    ("*", "threshold"): [20.0, 5.0, 1.0, 0.0, -1.0, _uniform(-5, 20)],
    ("*", "lambd"): [0.5, 1.0, 0.0, -0.5, _uniform(0, 2)],
    ("smooth_l1", "beta"): [1.0, 0.5, 0.0, -1.0, 1e-3, _uniform(0, 3)],
    ("*", "delta"): [1.0, 0.5, 2.0, 0.0, -1.0, _uniform(0.1, 3)],
    ("*", "eps"): [1e-6, 1e-8, 0.0, 0.1, 1.0, -1.0],
    ("*", "label_smoothing"): [0.0, 0.1, 0.5, 1.0, 1.5, -0.1, _uniform(0, 1)],
    ("*", "margin"): [1.0, 0.5, 0.0, -1.0, _uniform(-2, 2)],
}


def _float_kwarg(name: str, key: str, rng: np.random.Generator) -> Any:
    """A value for a float argument: a Python float, sometimes an int (where the value is
    whole) or a NumPy float32 scalar, which torch takes too."""
    options = _FLOATS.get((name, key), _FLOATS.get(("*", key)))
    value = _pick(rng, options) if options else float(np.round(rng.uniform(-3, 3), 3))
    kind = rng.random()
    if kind < 0.1 and float(value).is_integer():
        return int(value)
    if kind < 0.2:
        return np.float32(value)
    return value


def _hardtanh_limits(rng: np.random.Generator) -> dict[str, float]:
    """min_val/max_val: ordered, equal, reversed (torch rejects), or one of them alone."""
    lo, hi = sorted(np.round(rng.uniform(-3, 3, 2), 2).tolist())
    return _pick(rng, [{"min_val": lo, "max_val": hi}, {"min_val": lo, "max_val": lo},
                       {"min_val": hi, "max_val": lo} if lo != hi else {"min_val": 0.5},
                       {"min_val": lo}, {"max_val": hi}, {"min_val": -2.0, "max_val": 3.0}])


def draw_kwargs(name: str, rng: np.random.Generator) -> dict[str, Any]:
    """Random scalar keyword arguments for ``name`` (arrays and labels come with the
    shape, :func:`_array_kwargs`): each argument is drawn about half the time."""
    component = COMPONENTS[name].manual()
    if name == "hardtanh":
        return _hardtanh_limits(rng) if rng.random() < 0.7 else {}
    out: dict[str, Any] = {}
    for key, default in component.defaults.items():
        if rng.random() < 0.5 or key in ("weight", "pos_weight", "ignore_index"):
            continue
        if key == "reduction":
            out[key] = _pick(rng, list(component.reductions) + ["elementwise_mean"]
                             if rng.random() < 0.05 else list(component.reductions))
        elif isinstance(default, bool):
            out[key] = bool(rng.integers(2))
        elif key == "dim":  # torch's legacy dim=None too, and a NumPy integer
            out[key] = _pick(rng, [int(rng.integers(-4, 4))] * 8 + [None, np.int64(-1)])
        elif key == "p":
            out[key] = _pick(rng, [1, 2, 2, 3])
        else:
            out[key] = _float_kwarg(name, key, rng)
    return out


# ======================================================================================
# drawing: shapes and values
# ======================================================================================
def _shape(rng: np.random.Generator, min_ndim: int = 0, max_ndim: int = 3) -> tuple[int, ...]:
    ndim = int(rng.integers(min_ndim, max_ndim + 1))
    return tuple(int(s) for s in rng.choice([0, 1, 2, 3, 4, 5], ndim,
                                            p=[0.06, 0.14, 0.25, 0.25, 0.15, 0.15]))


#: set by ``make_case(..., nonfinite=True)``: +-inf and NaN join the special values
_NONFINITE = contextvars.ContextVar("nonfinite", default=False)


def _specials(dtype: np.dtype) -> list[float]:
    tiny = float(np.finfo(dtype).smallest_subnormal)
    values = [0.0, -0.0, 1.0, -1.0, 1e4, -1e4, 1e-300, -1e-300, tiny, -tiny, 7 * tiny,
              -1e3 * tiny, 50.0, -50.0, 800.0, -800.0]
    return values + [math.inf, -math.inf, math.nan] if _NONFINITE.get() else values


def _values(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype,
            kinks: tuple[float, ...] = (), p_special: float = 0.35) -> np.ndarray:
    """Normal values at a random scale (1, 3 or 30), each replaced with probability
    ``p_special`` by a special value: a kink, the float next to one, or :func:`_specials`."""
    scale = _pick(rng, [1.0, 3.0, 30.0])
    out = np.array(scale * rng.standard_normal(shape), dtype=dtype)
    pool = [np.asarray(v, dtype) for v in _specials(dtype)]
    for k in kinks:
        k = dtype.type(k)
        pool += [k, k, k, np.nextafter(k, dtype.type(np.inf)), np.nextafter(k, dtype.type(-np.inf))]
    special = rng.random(shape) < p_special
    if special.any():
        out[special] = np.asarray(pool, dtype)[rng.integers(len(pool), size=int(special.sum()))]
    return out


def _activation_kinks(name: str, kwargs: dict[str, Any]) -> tuple[float, ...]:
    """Where each activation switches branch, from torch's definition and the kwargs."""
    if name in ("relu", "leaky_relu", "elu", "selu", "celu", "softsign"):
        return (0.0,)
    if name == "relu6":
        return (0.0, 6.0)
    if name in ("hardsigmoid", "hardswish"):
        return (-3.0, 3.0)
    if name == "hardtanh":
        return (kwargs.get("min_val", -1.0), kwargs.get("max_val", 1.0))
    if name == "softshrink":
        lambd = kwargs.get("lambd", 0.5)
        return (lambd, -lambd)
    if name == "softplus":
        beta, threshold = kwargs.get("beta", 1.0), kwargs.get("threshold", 20.0)
        return (threshold / beta, threshold) if beta else (threshold,)
    return (0.0,)


def _activation_case(case: int, name: str, rng: np.random.Generator, dtype: np.dtype
                     ) -> FuzzCase:
    kwargs = draw_kwargs(name, rng)
    z = _values(rng, _shape(rng), dtype, _activation_kinks(name, kwargs))
    return FuzzCase(case, name, "activation", dtype, kwargs, {"z": z})


# ---- losses --------------------------------------------------------------------------
def _probabilities(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype
                   ) -> np.ndarray:
    """Values in [0, 1] with 0, 1, 1e-300, subnormals and 1 - eps among them."""
    out = np.array(rng.uniform(0, 1, shape), dtype=dtype)
    tiny = float(np.finfo(dtype).smallest_subnormal)
    pool = np.asarray([0.0, 1.0, 0.5, 1e-300, tiny, 1e-7, 1 - float(np.finfo(dtype).eps)],
                      dtype)
    special = rng.random(shape) < 0.3
    out[special] = pool[rng.integers(len(pool), size=int(special.sum()))]
    return out


def _elementwise_target(name: str, kwargs: dict[str, Any], pred: np.ndarray,
                        rng: np.random.Generator) -> np.ndarray:
    """A target of pred's shape; for mae/huber/smooth_l1 some at the switch |d| = delta
    (beta) exactly, or equal to pred (d = 0)."""
    dtype = pred.dtype
    if name in ("bce", "bce_with_logits"):
        return _probabilities(rng, pred.shape, dtype)
    if name == "poisson_nll":
        return rng.poisson(2.0, pred.shape).astype(dtype) * (rng.random(pred.shape) < 0.9)
    if name == "kl_div" and not kwargs.get("log_target", False):
        return _probabilities(rng, pred.shape, dtype)
    target = _values(rng, pred.shape, dtype, p_special=0.15)
    switch = {"huber": kwargs.get("delta", 1.0), "smooth_l1": kwargs.get("beta", 1.0)}.get(
        name, 0.0)
    pick = rng.integers(4, size=pred.shape)  # 0: at the switch below, 1: above, 2: d = 0
    target = np.where(pick == 0, pred - dtype.type(switch), target)
    target = np.where(pick == 1, pred + dtype.type(switch), target)
    target = np.where(pick == 2, pred, target).astype(dtype)
    return np.where(np.isfinite(target), target, 0).astype(dtype)


def _elementwise_pred(name: str, kwargs: dict[str, Any], shape: tuple[int, ...],
                      rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    if name == "bce":
        return _probabilities(rng, shape, dtype)
    if name == "poisson_nll" and kwargs.get("log_input", True) is False:
        return np.abs(_values(rng, shape, dtype, (0.0,)))
    if name == "poisson_nll":
        return _values(rng, shape, dtype, p_special=0.1)  # e^x: 1e4 overflows, as torch
    return _values(rng, shape, dtype)


def _var(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> Any:
    """gaussian_nll's var in one of torch's layouts, a float, or (rarely) a wrong shape."""
    layout = _pick(rng, ["float", "full", "full", "rows", "one", "wrong"])
    if layout == "float":
        return _pick(rng, [1.0, 0.5, 2.0, 0.0, 1e-9, -1.0])
    if layout == "rows" and shape:
        vshape = shape[:-1]
    elif layout == "one" and shape:
        vshape = tuple(1 if i == int(rng.integers(len(shape))) else s for i, s in
                       enumerate(shape))
    elif layout == "wrong":
        vshape = shape + (2,)
    else:
        vshape = shape
    var = np.array(rng.uniform(0.1, 3.0, vshape))
    var[rng.random(vshape) < 0.15] = _pick(rng, [0.0, 1e-9, 1e-300])
    return var.astype(dtype)


def _weight(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Weights in [0, 2) with some exactly 0, and, in one case in ten, negative ones."""
    w = np.array(rng.uniform(0, 2, shape))
    w[rng.random(shape) < 0.2] = 0.0
    if rng.random() < 0.1:
        w[rng.random(shape) < 0.5] *= -1
    return w.astype(dtype)


def _elementwise_loss_case(case: int, name: str, rng: np.random.Generator, dtype: np.dtype
                           ) -> FuzzCase:
    kwargs = draw_kwargs(name, rng)
    shape = _shape(rng)
    pred = _elementwise_pred(name, kwargs, shape, rng, dtype)
    target = _elementwise_target(name, kwargs, pred, rng)
    defaults = COMPONENTS[name].manual().defaults
    if "weight" in defaults and rng.random() < 0.35:  # pred's shape, or its last axis
        wshape = shape if name not in ("bce", "bce_with_logits") else _pick(
            rng, [shape, shape, shape[-1:], (1,) * len(shape)])  # bce's broadcast along rows
        kwargs["weight"] = _weight(rng, wshape, dtype)
    if "pos_weight" in defaults and rng.random() < 0.35:  # along the classes, or elementwise
        pshape = _pick(rng, [shape[-1:], shape[-1:], shape, (1,)])
        kwargs["pos_weight"] = np.asarray(_weight(rng, pshape, dtype) + dtype.type(0.25))
    inputs = {"pred": pred, "target": target}
    if name == "gaussian_nll":
        inputs["var"] = _var(rng, shape, dtype)
    if rng.random() < 0.02 and shape:  # a broadcastable target of another shape
        inputs["target"] = target[..., :1]
    return FuzzCase(case, name, "loss", dtype, kwargs, inputs)


def _class_loss_case(case: int, name: str, rng: np.random.Generator, dtype: np.dtype
                     ) -> FuzzCase:
    kwargs = draw_kwargs(name, rng)
    shape = _shape(rng, 1 if rng.random() < 0.97 else 0, 2 if name == "multi_margin" else 3)
    shape = tuple(max(s, 1) if i == min(len(shape) - 1, 1) and rng.random() < 0.9 else s
                  for i, s in enumerate(shape))  # C = 0 only rarely
    axis = 0 if len(shape) <= 1 else 1
    C = shape[axis] if shape else 1
    pred = _values(rng, shape, dtype, p_special=0.2)
    if name == "nll" and rng.random() < 0.5:
        pred = -np.abs(pred)
    label_shape = shape[:axis] + shape[axis + 1:]
    labels = rng.integers(0, max(C, 1), label_shape).astype(np.int64)
    if rng.random() < 0.3 and name != "multi_margin":
        kwargs["ignore_index"] = _pick(rng, [0, 1, -1, -100, 7])
        labels.flat[: max(labels.size // 3, 0)] = kwargs["ignore_index"]
    if rng.random() < 0.03 and labels.size:
        labels[...] = C + 1  # out of range: both must refuse
    if rng.random() < 0.35:
        kwargs["weight"] = _weight(rng, (C,) if rng.random() < 0.95 else (C + 1,), dtype)
    target: np.ndarray = labels
    if name == "cross_entropy" and rng.random() < 0.3:
        target = _probabilities(rng, shape, dtype)
    if name == "multi_margin" and shape and C and labels.size and (labels < C).all():
        # margins exactly 0: x_i = x_y - margin
        margin = kwargs.get("margin", 1.0)
        x = np.moveaxis(pred, axis, -1)
        xy = np.take_along_axis(x, labels[..., None], -1)
        at_kink = rng.random(x.shape) < 0.3
        x[...] = np.where(at_kink & np.isfinite(xy), xy - dtype.type(margin), x)
    return FuzzCase(case, name, "loss", dtype, kwargs, {"pred": pred, "target": target})


def make_case(case: int, seed: int = 0, nonfinite: bool = False) -> FuzzCase:
    """Case number ``case`` of the fuzz with ``seed`` (deterministic). ``nonfinite``: the
    inputs (not the targets) may also hold +-inf and NaN."""
    token = _NONFINITE.set(nonfinite)
    try:
        return _make_case(case, seed)
    finally:
        _NONFINITE.reset(token)


def _make_case(case: int, seed: int) -> FuzzCase:
    rng = np.random.default_rng([seed, case])
    name = sorted(COMPONENTS)[int(rng.integers(len(COMPONENTS)))]
    dtype = DTYPES[int(rng.integers(2))]
    if COMPONENTS[name].kind == "activation":
        made = _activation_case(case, name, rng, dtype)
    elif name in CLASS_LOSSES:
        made = _class_loss_case(case, name, rng, dtype)
    else:
        made = _elementwise_loss_case(case, name, rng, dtype)
    made.grad_seed = [seed, case, 1]
    return made


# ======================================================================================
# running one case
# ======================================================================================
def _grad_for(case: FuzzCase, shape: tuple[int, ...]) -> np.ndarray:
    g = np.random.default_rng(case.grad_seed).standard_normal(shape)
    return np.asarray(g.astype(case.grad_dtype or case.dtype), dtype=case.dtype)


def _in_float64(case: FuzzCase) -> FuzzCase:
    """The same case with every float input, weight and the upstream gradient widened
    exactly to float64 (float32 values are float64 values)."""
    def wide(v: Any) -> Any:
        return v.astype(np.float64) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
    return FuzzCase(case.case, case.function, case.kind, np.dtype(np.float64),
                    {k: wide(v) for k, v in case.kwargs.items()},
                    {k: wide(v) for k, v in case.inputs.items()}, case.grad_seed, case.dtype)


def _ours(case: FuzzCase) -> tuple[Any, np.ndarray, np.ndarray]:
    """(component, value, input gradient) of the manual side."""
    module = activations if case.kind == "activation" else losses
    component = module.get(case.function, **case.kwargs)
    with np.errstate(all="ignore"):
        if case.kind == "activation":
            z = case.inputs["z"]
            value = component.forward(z)
            return component, value, component.backward(z, _grad_for(case, np.shape(value)))
        extra = {"var": case.inputs["var"]} if "var" in case.inputs else {}
        pred, target = case.inputs["pred"], case.inputs["target"]
        value = component.forward(pred, target, **extra)
        g = _grad_for(case, np.shape(value))
        return component, value, component.backward(pred, target, g, **extra)


def _theirs(case: FuzzCase, component: Any) -> tuple[np.ndarray, np.ndarray]:
    """torch's value and autograd's input gradient, with the keyword arguments the harness
    hands torch (:func:`comparisons.run.bridge.torch_kwargs`; as drawn where ours refused)."""
    info = COMPONENTS[case.function]
    if component is not None:
        kwargs = torch_kwargs(component, case.dtype)
    else:
        kwargs = {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v
                  for k, v in case.kwargs.items()}
    first = case.inputs["z" if case.kind == "activation" else "pred"]
    x = torch.tensor(first, requires_grad=True)
    if case.kind == "activation":
        out = info.torch(x, **kwargs)
    else:
        args = [torch.from_numpy(np.asarray(case.inputs["target"]))]
        var = case.inputs.get("var")
        if var is not None:
            args.append(torch.from_numpy(var) if isinstance(var, np.ndarray) else var)
        out = info.torch(x, *args, **kwargs)
    g = torch.from_numpy(_grad_for(case, tuple(out.shape)))
    (grad,) = torch.autograd.grad(out, x, g, allow_unused=True)
    grad = torch.zeros_like(x) if grad is None else grad
    return out.detach().numpy(), grad.numpy()


def _excess(mine: Any, theirs: np.ndarray, dtype: np.dtype, extra: float = 0.0
            ) -> tuple[float, str]:
    """max |mine - theirs| / (atol + rtol |theirs| + extra) and a note naming the worst
    element; a NaN against a number, an infinity against anything else or a shape
    mismatch is inf."""
    a = np.asarray(mine)
    if a.shape != theirs.shape:
        return math.inf, f"shape {a.shape}, torch {theirs.shape}"
    a, b = a.astype(np.float64), theirs.astype(np.float64)
    bad = (np.isnan(a) != np.isnan(b)) | ((np.isinf(a) | np.isinf(b)) & (a != b)
                                          & ~np.isnan(a) & ~np.isnan(b))
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        return math.inf, f"at {idx}: ours {a[idx]!r}, torch {b[idx]!r}"
    tol = tolerance_for(dtype, "torch")
    finite = np.isfinite(a) & np.isfinite(b)
    if not finite.any():
        return 0.0, ""
    ratio = np.where(finite, np.abs(a - b) / (tol.allowed(np.where(finite, b, 0)) + extra), 0)
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), ratio.shape))
    return float(ratio[idx]), (f"at {idx}: ours {a[idx]!r}, torch {b[idx]!r}, abs "
                               f"{abs(a[idx] - b[idx]):.3g}, rel "
                               f"{abs(a[idx] - b[idx]) / max(abs(b[idx]), 1e-300):.3g}, tol "
                               f"atol {tol.atol:g} + rtol {tol.rtol:g}")


def _stricter(case: FuzzCase, message: str) -> str | None:
    """The documented reason, when ours refuses what torch computes on purpose."""
    for (name, key), reason in STRICTER_THAN_TORCH.items():
        if name not in ("*", case.function):
            continue
        if key == "target shape" and "expected pred's shape" in message:  # float targets
            return reason
        if key == "non-finite target" and "non-finite" in message and "target" in message:
            return reason
        if key == "target" and "target must lie in" in message:
            return reason
        if key in case.kwargs and key in message:
            return reason
    return None


def _compare(case: FuzzCase) -> tuple[str, float, str]:
    """(status, err_over_tol, note) for one case."""
    try:
        component, value, grad = _ours(case)
        ours_error: Exception | None = None
    except Exception as err:  # noqa: BLE001 - classified below: only ours' named errors pass
        component, value, grad, ours_error = None, None, None, err
    try:
        t_value, t_grad = _theirs(case, component)
        torch_error: Exception | None = None
    except TORCH_ERRORS as err:
        torch_error = err
    if ours_error is not None and not isinstance(ours_error, OUR_ERRORS):
        return "fail", math.inf, f"ours raised {type(ours_error).__name__}: {ours_error}"
    if ours_error is not None and torch_error is not None:
        return "pass", 0.0, "both refuse"
    if torch_error is not None:
        return "fail", math.inf, f"torch refuses ({type(torch_error).__name__}: " \
                                 f"{str(torch_error)[:120]}), ours computes"
    if ours_error is not None:
        reason = _stricter(case, str(ours_error))
        if reason:
            return "xfail", math.inf, f"stricter than torch on purpose: {reason}"
        return "fail", math.inf, f"ours refuses ({ours_error}), torch computes"
    return _judge(case, component, value, grad, t_value, t_grad)


def _judge(case: FuzzCase, component: Any, value: Any, grad: Any, t_value: np.ndarray,
           t_grad: np.ndarray) -> tuple[str, float, str]:
    """pass, or fail; or xfail where the difference is torch's own rounding, shown by
    float arithmetic: :func:`_rounding_explains`."""
    status, worst, note = _against(case, value, grad, t_value, t_grad)
    if status == "fail" and "dtype" not in note and _deviation(case) is None:
        why = _rounding_explains(case, component, value, grad, t_grad)
        if why:
            return "xfail", worst, f"{why}; against torch in {case.dtype}: {note}"
    return status, worst, note


def _rounding_explains(case: FuzzCase, component: Any, value: Any, grad: Any,
                       t_grad: np.ndarray) -> str:
    """Why a difference from torch is rounding, not a wrong result ("" if it is not):

    - float32: ours agrees, within the float32 tolerance, with torch run in float64 on
      the same (exactly widened) inputs: the difference is torch's own float32 rounding
      (a cancellation in its formula, or its order of summation);
    - a reduced loss whose terms cancel: any order of summation of n terms is within
      gamma_n sum|terms| of the exact sum (gamma_n = n u / (1 - n u), u the unit roundoff;
      Higham, *Accuracy and Stability of Numerical Algorithms*, 4.2), so two correct
      codes may differ by twice that, scaled by the mean's denominator; the value is
      judged against torch in float64 with that allowance added, the gradient as usual.
    """
    wide = _in_float64(case)
    w_value, w_grad = _theirs(wide, component) if case.dtype == np.float32 else (None, None)
    if (w_value is not None and w_grad is not None  # both or neither
            and _against(case, value, grad, w_value, w_grad)[0] == "pass"):
        return "torch's own float32 rounding: ours is within the float32 tolerance of torch " \
               "in float64"
    allowance = _summation_allowance(case, component)
    if allowance is None:
        return ""
    reference, _ = _theirs(wide, component)
    err_v, _ = _excess(value, reference.astype(case.dtype), case.dtype, allowance)
    err_g = min(_excess(grad, g.astype(case.dtype), case.dtype)[0]
                for g in (t_grad, w_grad) if g is not None)
    if err_v <= 1 and err_g <= 1:
        return f"an ill-conditioned sum: within 2 gamma_n sum|terms|/N = {allowance:.3g} " \
               f"(plus the tolerance) of torch in float64"
    return ""


def _summation_allowance(case: FuzzCase, component: Any) -> float | None:
    """2 gamma_n sum|terms| |L/sum terms| for a reduced loss (None for anything else)."""
    if case.kind != "loss" or component.kwargs.get("reduction", "sum") == "none":
        return None
    wide = _in_float64(case)
    if "reduction" in component.defaults:
        per_term = losses.get(case.function, **{**case.kwargs, "reduction": "none"})
        terms, value = _theirs(wide, per_term)[0], _theirs(wide, component)[0]
    else:  # sse, quadratic: (pred - target)^2 over a fixed denominator
        d = wide.inputs["pred"] - wide.inputs["target"]
        terms, value = d * d, _theirs(wide, component)[0]
    total, n = float(np.sum(terms)), terms.size
    u = float(np.finfo(case.dtype).eps) / 2
    if n == 0 or total == 0 or not np.isfinite(total) or not np.isfinite(value) or n * u >= 1:
        return None
    return 2 * n * u / (1 - n * u) * float(np.sum(np.abs(terms))) * abs(float(value) / total)


def _against(case: FuzzCase, value: Any, grad: Any, t_value: np.ndarray, t_grad: np.ndarray
             ) -> tuple[str, float, str]:
    notes = []
    for what, mine in (("value", value), ("grad", grad)):
        dt = np.asarray(mine).dtype
        if dt != case.dtype:
            notes.append(f"{what}: dtype {dt} from {case.dtype} input")
    err_v, note_v = _excess(value, t_value.astype(case.dtype), case.dtype)
    err_g, note_g = _excess(grad, t_grad.astype(case.dtype), case.dtype)
    worst = max(err_v, err_g)
    if err_v > 1:
        notes.append(f"value {note_v}")
    if err_g > 1:
        notes.append(f"grad {note_g}")
    return ("fail" if notes else "pass"), worst, "; ".join(notes)


# ======================================================================================
# documented deviations
# ======================================================================================
@dataclass(frozen=True)
class FuzzDeviation:
    """A documented difference from torch: cases of ``function`` for which ``applies``
    is true may fail, and are reported ``xfail`` with ``reason``."""

    function: str
    applies: Callable[[FuzzCase], bool]
    reason: str


def _infinite_input(case: FuzzCase) -> bool:
    return bool(np.isinf(case.inputs["z" if case.kind == "activation" else "pred"]).any())


def _nan_input(case: FuzzCase) -> bool:
    return bool(np.isnan(case.inputs["z" if case.kind == "activation" else "pred"]).any())


def _nonfinite_input(case: FuzzCase) -> bool:
    return _infinite_input(case) or _nan_input(case)


_NAN_BY_SIZE = ("the gradient at a NaN input: torch's own answer depends on the tensor's size "
                "(its scalar kernel, used for small tensors and the tail, passes the gradient; "
                "its vectorised kernel gives {vec}); ours is always the vectorised answer")


def _empty_batch(case: FuzzCase) -> bool:
    pred = case.inputs["pred"]
    return np.ndim(pred) == 2 and pred.shape[0] == 0 and case.kwargs.get("reduction") != "none"


#: every genuine deviation the fuzz finds, with its reason (``"*"``: any function)
DEVIATIONS: tuple[FuzzDeviation, ...] = (
    FuzzDeviation("*", lambda case: case.kwargs.get("reduction") == "elementwise_mean",
                  "torch still accepts reduction='elementwise_mean', its deprecated alias of "
                  "'mean' (with a warning); ours refuses it with the list of valid reductions"),
    FuzzDeviation("multi_margin", _empty_batch,
                  "torch's multi_margin_loss on an empty batch (N = 0) returns uninitialised "
                  "memory for 'mean' and 'sum' (a different tiny number on each call); ours "
                  "returns the empty sum 0 and the empty mean NaN (0/0), as every other torch "
                  "loss does"),
    # the ones below only with --nonfinite: torch's composite formulas at +-inf, its
    # kernels at NaN
    *(FuzzDeviation(name, _nan_input, _NAN_BY_SIZE.format(vec=vec)) for name, vec in (
        ("hardtanh", "0"), ("relu6", "0"), ("softshrink", "0"), ("elu", "NaN"),
        ("selu", "NaN"), ("celu", "NaN"), ("hardswish", "NaN"))),
    FuzzDeviation("poisson_nll", _nan_input,
                  "with log_input=False a NaN rate is refused, with its index, by the range "
                  "check rates >= 0; torch computes NaN"),
    FuzzDeviation("softsign", _infinite_input,
                  "at z = +-inf torch's softsign, the composite z / (1 + |z|), differentiates "
                  "to inf/inf = NaN; ours gives the limit of 1/(1 + |z|)^2, 0"),
    FuzzDeviation("bce_with_logits", _infinite_input,
                  "at a logit of -inf torch's (1 - y) x - logsigmoid(x) is inf - inf = NaN; "
                  "ours, y softplus(-x) + (1 - y) softplus(x), gives the limit, +inf for y > 0"),
    FuzzDeviation("cross_entropy", _nonfinite_input,
                  "an ignored sample whose logits hold +-inf or NaN: torch's log-softmax of "
                  "that row is NaN, and its zero upstream gradient becomes NaN * 0 = NaN; ours "
                  "is 0, the sample being ignored"),
)


def _deviation(case: FuzzCase) -> FuzzDeviation | None:
    for dev in DEVIATIONS:
        if dev.function in ("*", case.function) and dev.applies(case):
            return dev
    return None


def run_case(case: FuzzCase) -> dict[str, Any]:
    """One row of the fuzz table for ``case``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status, err, note = _compare(case)
    if status == "fail":
        dev = _deviation(case)
        if dev is not None:
            status, note = "xfail", f"documented deviation: {dev.reason} ({note})"
    return {"case": case.case, "function": case.function, "shape": str(case.shape),
            "kwargs": _short_kwargs(case), "dtype": str(case.dtype), "status": status,
            "err_over_tol": err, "note": note}


def _short_kwargs(case: FuzzCase) -> str:
    parts = [f"{k}=array{np.shape(v)}" if isinstance(v, np.ndarray) else f"{k}={v!r}"
             for k, v in case.kwargs.items()]
    if "var" in case.inputs:
        var = case.inputs["var"]
        parts.append(f"var=array{var.shape}" if isinstance(var, np.ndarray) else f"var={var!r}")
    target = case.inputs.get("target")
    if target is not None and np.asarray(target).dtype.kind == "f" and \
            case.function in CLASS_LOSSES:
        parts.append("target=probabilities")
    return ", ".join(parts)


def fuzz(n: int = 6000, seed: int = 0, nonfinite: bool = False) -> pd.DataFrame:
    """Run cases ``0 .. n-1`` of the fuzz with ``seed``: one row per case (``case``,
    ``function``, ``shape``, ``kwargs``, ``dtype``, ``status`` pass/fail/xfail,
    ``err_over_tol``, ``note``). ``nonfinite``: inputs may also hold +-inf and NaN (not
    part of the default fuzz; its deviations are the last ones in :data:`DEVIATIONS`)."""
    if n < 0:
        raise ValueError(f"fuzz: n must be >= 0, got {n}")
    rows = [run_case(make_case(i, seed, nonfinite)) for i in range(n)]
    columns = ["case", "function", "shape", "kwargs", "dtype", "status", "err_over_tol", "note"]
    return pd.DataFrame(rows, columns=columns)


def summary(table: pd.DataFrame) -> dict[str, int]:
    """The count of each status (pass, fail, xfail) and the total."""
    counts = {s: int((table["status"] == s).sum()) for s in ("pass", "fail", "xfail")}
    counts["total"] = len(table)
    return counts


# ======================================================================================
# torch's OpInfo samples
# ======================================================================================
#: OpInfo name -> (our name, the torch function whose signature binds the sample's args)
OPINFO_NAMES: dict[str, tuple[str, str]] = {
    **{f"nn.functional.{n}": (n, n) for n in (
        "relu", "leaky_relu", "elu", "selu", "celu", "gelu", "softplus", "silu", "mish",
        "softsign", "hardtanh", "relu6", "hardsigmoid", "hardswish", "logsigmoid",
        "tanhshrink", "softshrink", "softmin")},
    "sigmoid": ("sigmoid", "sigmoid"), "tanh": ("tanh", "tanh"),
    "softmax": ("softmax", "softmax"), "log_softmax": ("log_softmax", "log_softmax"),
    **{f"nn.functional.{t}": (n, t) for n, t in (
        ("mse", "mse_loss"), ("mae", "l1_loss"), ("huber", "huber_loss"),
        ("smooth_l1", "smooth_l1_loss"), ("gaussian_nll", "gaussian_nll_loss"),
        ("poisson_nll", "poisson_nll_loss"), ("bce", "binary_cross_entropy"),
        ("bce_with_logits", "binary_cross_entropy_with_logits"),
        ("cross_entropy", "cross_entropy"), ("nll", "nll_loss"), ("kl_div", "kl_div"),
        ("multi_margin", "multi_margin_loss"))},
}
#: arguments that say nothing about the function computed, when at these values
_NEUTRAL = {"inplace": False, "size_average": None, "reduce": None, "_stacklevel": 3,
            "dtype": None}


def _numpy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().copy()
    return value


def opinfo_case(op_name: str, sample: Any, index: int, seed: int = 0) -> FuzzCase | None:
    """A :class:`FuzzCase` from one OpInfo ``SampleInput`` of ``op_name`` (None where the
    sample is outside what our functions are: in-place, or another input dtype)."""
    import inspect

    import torch.nn.functional as F

    name, torch_name = OPINFO_NAMES[op_name]
    fn = getattr(F, torch_name, None) or getattr(torch, torch_name)
    try:
        bound = inspect.signature(fn).bind(sample.input, *sample.args, **sample.kwargs).arguments
    except ValueError:  # a builtin without a signature (log_sigmoid): one input, no args
        bound = {"input": sample.input, **sample.kwargs}
    first = next(iter(bound))
    x = _numpy(bound.pop(first))
    if not isinstance(x, np.ndarray) or x.dtype not in DTYPES or bound.get("inplace"):
        return None
    kwargs = {k: _numpy(v) for k, v in bound.items() if k not in _NEUTRAL or v != _NEUTRAL[k]}
    if name == "gelu" and kwargs.get("approximate") in ("none", "tanh"):
        name = "gelu" if kwargs.pop("approximate") == "none" else "gelu_tanh"
    if COMPONENTS[name].kind == "activation":
        return FuzzCase(index, name, "activation", x.dtype, kwargs, {"z": x}, [seed, index, 1])
    inputs = {"pred": x, "target": kwargs.pop("target")}
    if "var" in kwargs:
        inputs["var"] = kwargs.pop("var")
    return FuzzCase(index, name, "loss", x.dtype, kwargs, inputs, [seed, index, 1])


def opinfo(ops: list[Any], dtypes: tuple[Any, ...] = (torch.float32, torch.float64),
           max_per_op: int = 40, errors: bool = True) -> pd.DataFrame:
    """The fuzz table for torch's own OpInfo samples of ``ops`` (entries of
    ``torch.testing._internal.common_methods_invocations.op_db`` named in
    :data:`OPINFO_NAMES`): every sample on the CPU in each dtype (at most ``max_per_op``
    per op and dtype, spread evenly), and, with ``errors``, each of the op's error inputs
    (where torch must refuse, so must ours). Columns as :func:`fuzz`, plus ``op``."""
    rows, index = [], 0
    for op in ops:
        samples = []
        for dt in dtypes:
            drawn = list(op.sample_inputs("cpu", dt, requires_grad=False))
            step = max(1, math.ceil(len(drawn) / max_per_op))
            samples += drawn[::step]
        if errors and op.error_inputs_func is not None:
            samples += [e.sample_input for e in op.error_inputs("cpu")]
        for sample in samples:
            case = opinfo_case(op.name, sample, index)
            index += 1
            if case is not None:
                rows.append({"op": op.name, **run_case(case)})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    """``python -m comparisons.run.fuzz [N] [--seed S] [--out FILE.csv]``: run the fuzz, print
    the summary and every failing row; exit 1 if any case fails."""
    p = argparse.ArgumentParser(prog="python -m comparisons.run.fuzz", description=__doc__.split(
        "\n\n")[0])
    p.add_argument("n", type=int, nargs="?", default=6000, help="number of cases (6000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="", help="write the table to this CSV file")
    p.add_argument("--nonfinite", action="store_true",
                   help="inputs may also hold +-inf and NaN (not part of the default fuzz)")
    args = p.parse_args(argv)
    table = fuzz(args.n, args.seed, args.nonfinite)
    if args.out:
        table.to_csv(args.out, index=False)
    counts = summary(table)
    print(f"fuzz: {counts['total']} cases (seed {args.seed}): {counts['pass']} pass, "
          f"{counts['fail']} fail, {counts['xfail']} xfail")
    with pd.option_context("display.max_colwidth", 300, "display.width", 250):
        for status in ("fail", "xfail"):
            rows = table[table.status == status]
            if len(rows):
                print(f"\n{status}:")
                print(rows.drop(columns=["status"]).to_string(index=False))
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
