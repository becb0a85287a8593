"""The component runner (``components.csv``), the public API for checking any activation
or loss:

- :func:`compare_activation` — forward, derivative and backward (under a random upstream
  gradient) against torch, finite differences and the complex step.
- :func:`compare_loss` — value and gradient (under a random upstream gradient) against torch
  and finite differences.

Each returns a list of dict rows (:data:`comparisons.run.rows.ROW_COLUMNS`);
:func:`run_components` runs the component cases of the registry into a DataFrame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
import torch

import reference
from comparisons.cases.data import KINK_MARGIN
from comparisons.cases.registry import ComponentCase
from comparisons.core.alternatives import PASSED_THROUGH, SOFTMAX_DIAGONAL
from comparisons.core.compare import compare_arrays
from comparisons.core.device import torch_device
from comparisons.core.oracles import (
    COMPLEX_STEP,
    central_difference,
    complex_step,
    complex_step_gradient,
    finite_difference_gradients,
)
from comparisons.core.tolerances import FD_STEP, tolerance_for
from comparisons.run.bridge import torch_kwargs
from comparisons.run.rows import ROW_COLUMNS, with_status
from comparisons.twins.state import extra_inputs

__all__ = ["compare_activation", "compare_loss", "run_component", "run_components"]


def _torch_input(z: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    return torch.tensor(z, requires_grad=True, device=device)


def _np(t: torch.Tensor) -> np.ndarray:
    """A tensor's values as NumPy (from the GPU first, with ``--device cuda``)."""
    return t.detach().cpu().numpy()


def _torch_derivatives(fn: Callable, z: np.ndarray, device: torch.device | str = "cpu"
                       ) -> tuple[np.ndarray, np.ndarray | None]:
    """autograd's elementwise f'(z) and, by double backward, f''(z) (None where torch
    implements no double backward). For an elementwise f the vector–Jacobian product
    with ones *is* f' elementwise; the backward itself is checked under a random
    upstream gradient."""
    zt = _torch_input(z, device)
    (d1,) = torch.autograd.grad(fn(zt), zt, torch.ones_like(zt), create_graph=True,
                                allow_unused=True)
    if d1 is None:  # f does not depend on z at all
        return np.zeros_like(z), np.zeros_like(z)
    if not d1.requires_grad:  # piecewise-constant derivative: no graph left, f'' = 0
        return _np(d1), np.zeros_like(z)
    try:
        (d2,) = torch.autograd.grad(d1, zt, torch.ones_like(zt), allow_unused=True)
    except RuntimeError:  # e.g. "the derivative for 'hardsigmoid_backward' is not implemented"
        return _np(d1), None
    return _np(d1), (np.zeros_like(z) if d2 is None else _np(d2))


def _smooth_points(act: Any, z: np.ndarray) -> np.ndarray:
    """Entries of ``z`` (as float64) where finite differences and the complex step are
    meaningful: away from the kinks by KINK_MARGIN, and within +-50 (the extremes are
    checked against torch)."""
    z64 = np.asarray(z, dtype=np.float64).ravel()
    keep = np.abs(z64) <= 50
    with np.errstate(all="ignore"):  # where f itself is not finite there is no derivative
        keep &= np.isfinite(act.forward(z64))
    for k in getattr(act, "kinks", ()):
        keep &= np.abs(z64 - k) >= KINK_MARGIN
    return z64[keep]


def compare_activation(act: Any, z: np.ndarray, *, torch_fn: Callable | None = None,
                       seed: int = 0, case: str | None = None,
                       deviations: dict[tuple[str, str], str] | None = None,
                       device: str = "cpu") -> list[dict[str, Any]]:
    """Compare an activation with torch at ``z`` (torch on ``device``), and with the
    torch-free oracles.

    Rows (``parameter`` / ``oracle``):

    - ``forward``, ``backward`` / torch: ``backward`` under a random upstream gradient
      (never all-ones, which would hide a Jacobian error);
    - elementwise activations: ``derivative`` / torch (autograd) and
      ``second_derivative`` / torch (double backward), each also against central
      differences (``fd``) and, for analytic ones, the complex step, in float64
      away from kinks;
    - softmax-like activations: ``jacobian`` against ``torch.func.jacrev`` and the
      complex step.

    At the kinks themselves (they are among the registry's points) the torch rows
    check that we return the same one-sided value as torch's autograd.

    torch's callable gets only the keyword arguments ``act`` was built with
    (:func:`torch_kwargs`): a default of ours that differs from torch's shows. See
    :func:`with_status` for ``deviations``.
    """
    from manual import activations

    act = activations.get(act)
    name = getattr(act, "name", type(act).__name__)
    fn = torch_fn or reference.activations.get(name, **torch_kwargs(act))
    z = np.asarray(z)
    tol = tolerance_for(z.dtype, "torch")
    g = np.random.default_rng(seed).standard_normal(z.shape).astype(z.dtype)
    dev = torch_device(device)
    zt = _torch_input(z, dev)
    out_t = fn(zt)
    (vjp_t,) = torch.autograd.grad(out_t, zt, torch.from_numpy(g).to(dev), allow_unused=True)
    vjp_t = torch.zeros_like(zt) if vjp_t is None else vjp_t
    elementwise = getattr(act, "elementwise", True) and hasattr(act, "derivative")
    # the backward's slips: the derivative never multiplied in; a softmax's Jacobian taken
    # as its diagonal
    slips = {PASSED_THROUGH: g}
    if name == "softmax":
        s = _np(out_t)
        slips[SOFTMAX_DIAGONAL] = g * s * (1 - s)
    rows = [("torch", compare_arrays(act.forward(z), _np(out_t), tol, "forward")),
            ("torch", compare_arrays(act.backward(z, g), _np(vjp_t), tol, "backward",
                                     slips))]
    if elementwise:
        d1_t, d2_t = _torch_derivatives(fn, z, dev)
        rows.append(("torch", compare_arrays(act.derivative(z), d1_t, tol, "derivative")))
        if hasattr(act, "second_derivative") and d2_t is not None:
            rows.append(("torch", compare_arrays(act.second_derivative(z), d2_t, tol,
                                                 "second_derivative")))
        zs = _smooth_points(act, z)
        mine = {"derivative": act.derivative(zs.astype(z.dtype)),
                "second_derivative": (act.second_derivative(zs.astype(z.dtype))
                                      if hasattr(act, "second_derivative") else None)}
        of = {"derivative": act.forward, "second_derivative": act.derivative}
        for quantity, value in mine.items():
            if value is None:
                continue
            rows.append(("fd", compare_arrays(
                value, central_difference(of[quantity], zs, FD_STEP),
                tolerance_for(z.dtype, "fd"), quantity)))
            if getattr(act, "analytic", False):
                rows.append(("complex-step", compare_arrays(
                    value, complex_step(of[quantity], zs),
                    tolerance_for(z.dtype, "complex-step"), quantity)))
    elif (hasattr(act, "jacobian") and z.ndim >= 1 and z.size
          and getattr(act, "kwargs", {}).get("dim", -1) in (-1, z.ndim - 1)):
        # row by row: each row is a 1-d vector, whose last axis is dim -1
        row_fn = fn if torch_fn else reference.activations.get(name, **{**torch_kwargs(act),
                                                                          "dim": -1})
        jac_t = torch.vmap(torch.func.jacrev(row_fn))(
            torch.from_numpy(z.reshape(-1, z.shape[-1])).to(dev))
        rows.append(("torch", compare_arrays(act.jacobian(z), _np(jac_t.reshape(
            z.shape + (z.shape[-1],))), tol, "jacobian")))
        zs = z.reshape(-1, z.shape[-1]).astype(np.float64)
        zs = zs[np.all(np.abs(zs) <= 50, axis=-1)]
        if getattr(act, "analytic", False) and zs.size:
            K = zs.shape[-1]
            # column j of the Jacobian: Im f(z + ih e_j) / h, for every row at once
            cols = [np.imag(act.forward(zs + 1j * COMPLEX_STEP * np.eye(K)[j])) / COMPLEX_STEP
                    for j in range(K)]
            rows.append(("complex-step", compare_arrays(
                act.jacobian(zs.astype(z.dtype)), np.stack(cols, axis=-1),
                tolerance_for(z.dtype, "complex-step"), "jacobian")))
    info = {"case": case or f"{name}-{z.dtype.name}", "kind": "activation", "activation": name,
            "dtype": z.dtype.name}
    return with_status([{**info, "oracle": oracle, **c.row()} for oracle, c in rows], name,
                       deviations)


def compare_loss(loss: Any, pred: np.ndarray, target: np.ndarray, *,
                 torch_fn: Callable | None = None, seed: int = 0,
                 case: str | None = None, extra: dict[str, Any] | None = None,
                 deviations: dict[tuple[str, str], str] | None = None,
                 device: str = "cpu") -> list[dict[str, Any]]:
    """Compare a loss's value and its gradient for ``pred`` with torch's, and the
    gradient with the torch-free oracles.

    The gradient is checked under a random upstream gradient: a random scalar for a
    reduced loss, a random array for ``reduction="none"``. For reduced losses the
    gradient is also checked (upstream 1) against central differences and, for
    analytic losses, the complex step, in float64, on the loss's own unvalidated
    ``value``; points within ``KINK_MARGIN`` of a kink of the loss (|d| = delta for
    Huber, d = 0 for L1, margins of 0 for the hinge) are where finite differences
    disagree by design, so the built-in inputs avoid them.

    ``extra`` holds a loss's further inputs (gaussian_nll's ``var``), handed to both sides
    by name; without them, the manual loss's own defaults for them (``var=1.0``) are
    handed to torch, whose loss has none.
    """
    from manual import losses

    loss = losses.get(loss)
    name = getattr(loss, "name", type(loss).__name__)
    pred = np.asarray(pred)
    dev = torch_device(device)
    fn = torch_fn or reference.losses.get(name, **torch_kwargs(loss, pred.dtype, dev))
    extra = {**extra_inputs(loss), **(extra or {})}
    # array inputs (var) are differentiated too, where the loss has backward_<name>
    extra_t = {k: torch.tensor(v, requires_grad=hasattr(loss, f"backward_{k}"), device=dev)
               if isinstance(v, np.ndarray) else v for k, v in extra.items()}
    wrt = [k for k, v in extra_t.items() if isinstance(v, torch.Tensor) and v.requires_grad]
    tol = tolerance_for(pred.dtype, "torch")
    pt = _torch_input(pred, dev)
    tt = (torch.as_tensor(target, dtype=torch.int64, device=dev)
          if np.asarray(target).dtype.kind in "iu" else torch.as_tensor(target, device=dev))
    value_t = fn(pt, tt, **extra_t)
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(tuple(value_t.shape)).astype(pred.dtype)
    grad_t, *extra_grads = torch.autograd.grad(value_t, [pt, *(extra_t[k] for k in wrt)],
                                               torch.as_tensor(g, device=dev))
    value_m = loss.forward(pred, target, **extra)
    g_m = g if g.ndim else g[()]
    grad_m = loss.backward(pred, target, g_m, **extra)
    rows = [("torch", compare_arrays(value_m, _np(value_t), tol, "value")),
            ("torch", compare_arrays(grad_m, _np(grad_t), tol, "gradient"))]
    for k, grad_k in zip(wrt, extra_grads):  # e.g. "gradient_var", in var's own shape
        mine = getattr(loss, f"backward_{k}")(pred, target, grad_out=g_m, **extra)
        rows.append(("torch", compare_arrays(mine, _np(grad_k), tol, f"gradient_{k}")))
    lo, hi = getattr(loss, "pred_range", (-np.inf, np.inf))
    at_edge = bool(np.any(np.minimum(np.abs(pred - lo), np.abs(pred - hi)) < KINK_MARGIN))
    # derivative oracles need room on both sides: not at the edge of the domain (bce at 0)
    # and a finite value (a mean over no kept sample is NaN: nothing to differentiate)
    # and not at the extremes (|pred| > 50, checked against torch: a central difference of
    # a loss near 1e4 carries 1e4 * eps / h of rounding)
    reduced = (getattr(loss, "kwargs", None) or {}).get("reduction") != "none"
    extreme = bool(np.any(np.abs(pred) > 50))
    if (reduced and np.ndim(value_m) == 0 and hasattr(loss, "value") and pred.size
            and not at_edge and not extreme and np.isfinite(value_m)):
        p64 = pred.astype(np.float64)
        t64 = np.asarray(target)
        t64 = t64.astype(np.float64) if t64.dtype.kind == "f" else t64
        unit = loss.backward(pred, target, **extra)
        fd = finite_difference_gradients(lambda: loss.value(p64, t64, **extra),
                                         {"pred": p64})["pred"]
        rows.append(("fd", compare_arrays(unit, fd, tolerance_for(pred.dtype, "fd"),
                                          "gradient")))
        if getattr(loss, "analytic", False):
            cs = complex_step_gradient(lambda p: loss.value(p, t64, **extra), p64)
            rows.append(("complex-step", compare_arrays(
                unit, cs, tolerance_for(pred.dtype, "complex-step"), "gradient")))
    info = {"case": case or f"{name}-{pred.dtype.name}", "kind": "loss", "loss": name,
            "dtype": pred.dtype.name}
    return with_status([{**info, "oracle": oracle, **c.row()} for oracle, c in rows], name,
                       deviations)


def run_component(case: ComponentCase, device: str = "cpu") -> list[dict[str, Any]]:
    """Compare one activation or loss of the case table with torch (on ``device``) on its
    sample inputs; the deviations the table documents for that sample are strict (``xpass``
    fails)."""
    inputs = case.inputs()
    if case.kind == "activation":
        return compare_activation(case.build(), inputs["z"], case=case.id,
                                  deviations=case.deviations(), device=device)
    return compare_loss(case.build(), inputs["pred"], inputs["target"], case=case.id,
                        extra=inputs.get("extra"), deviations=case.deviations(),
                        device=device)


def run_components(cases: Iterable[ComponentCase]) -> pd.DataFrame:
    """All rows of the component ``cases`` as a DataFrame with fixed columns."""
    return pd.DataFrame([row for case in cases for row in run_component(case)],
                        columns=ROW_COLUMNS)
