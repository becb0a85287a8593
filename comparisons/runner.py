"""The comparison runner: public API for checking any network, activation or loss.

Hand these functions your own objects (a student's network, activation or loss with
the same methods as :mod:`manual`'s) and they return the same rows and verdicts as
for ours:

- :func:`compare_network` — loss and every parameter gradient against torch's
  autograd and against central finite differences; on a mismatch the row names the
  first intermediate (forward, then backward, layer by layer) where the two diverge.
- :func:`compare_activation` — forward, derivative and backward (under a random
  upstream gradient) against torch.
- :func:`compare_loss` — value and gradient (under a random upstream gradient) against torch.

Each returns a list of dict rows; :func:`failures` turns failing rows into readable
messages, and :func:`run_cases` runs registry cases into a pandas DataFrame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
import torch

import reference
from comparisons.compare import Comparison, compare_arrays, describe
from comparisons.data import activation_inputs, case_data, loss_inputs
from comparisons.registry import SKIPPED, Case, ComponentCase
from comparisons.tolerances import FD_STEP, tolerance_for

__all__ = ["compare_activation", "compare_loss", "compare_network", "failures",
           "finite_difference_gradients", "first_divergence", "run_case", "run_cases",
           "run_component", "run_components"]

ROW_COLUMNS = ["case", "kind", "activation", "output_activation", "loss", "arch", "sizes",
               "dtype", "oracle", "parameter", "shape", "size", "max_abs_err", "max_rel_err",
               "worst_index", "manual_value", "reference_value", "n_bad", "rtol", "atol",
               "passed", "first_divergence", "note"]


# --------------------------------------------------------------------------------------
# finite differences: the second, independent oracle
# --------------------------------------------------------------------------------------
def finite_difference_gradients(loss: Callable[[], Any], params: dict[str, np.ndarray],
                                h: float = FD_STEP) -> dict[str, np.ndarray]:
    r"""Central differences :math:`\partial L/\partial\theta_i \approx
    (L(\theta + h e_i) - L(\theta - h e_i)) / 2h` for every element of every parameter.

    ``loss()`` must recompute the loss from the live arrays in ``params``, which are
    perturbed in place and restored exactly (the saved value is written back, not
    recomputed as ``θ + h - h``).
    """
    grads: dict[str, np.ndarray] = {}
    for name, p in params.items():
        g = np.zeros(p.shape, dtype=np.float64)
        for idx in np.ndindex(p.shape):  # one loss pair per element: inherent to the method
            saved = p[idx]
            p[idx] = saved + h
            up = float(loss())
            p[idx] = saved - h
            down = float(loss())
            p[idx] = saved
            g[idx] = (up - down) / (2 * h)
        grads[name] = g
    return grads


# --------------------------------------------------------------------------------------
# networks
# --------------------------------------------------------------------------------------
def first_divergence(manual: dict[str, np.ndarray], ref: dict[str, np.ndarray],
                     dtype: np.dtype) -> str:
    """The first intermediate (in the order forward ``z1, a1, ..., loss``, then backward
    ``dJ/daL, dJ/dzL, ...``) where the two sides differ beyond tolerance; '' if none."""
    tol = tolerance_for(dtype, "torch")
    for key, value in manual.items():
        if key in ref and not compare_arrays(value, ref[key], tol, key).passed:
            stage = "backward" if key.startswith("dJ/") else "forward"
            return f"{stage} {key}"
    return ""


def _describe(net: Any) -> dict[str, Any]:
    def name(obj):
        return getattr(obj, "name", type(obj).__name__)

    sizes = getattr(net, "sizes", None)
    return {"activation": name(getattr(net, "activation", None)),
            "output_activation": name(getattr(net, "output_activation", None)),
            "loss": name(getattr(net, "loss_fn", None)),
            "sizes": "-".join(map(str, sizes)) if sizes else ""}


def compare_network(net: Any, X: np.ndarray, y: np.ndarray, *, case: str = "custom",
                    oracles: Iterable[str] = ("torch", "fd"),
                    reference_net: Any = None) -> list[dict[str, Any]]:
    """Compare ``net``'s loss and gradients with torch's autograd and finite differences.

    ``net`` is a :class:`manual.MLP` or any object with ``params`` (``W1, b1, ...``
    in (in, out) layout), ``gradients(X, y) -> (loss, grads)``, ``loss(X, y)`` and
    ``activation``/``output_activation``/``loss_fn`` objects whose ``.name`` names the
    torch counterpart. Returns one row per oracle x (loss and each parameter).
    A network with other parameter names (the 3-2-1 network's ``w14 ... b6``) needs its
    own ``reference_net``: anything whose ``gradients(X, y)`` returns grads under the
    same names.
    """
    dtype = np.dtype(next(iter(net.params.values())).dtype)
    info = {"case": case, "kind": "network", "dtype": dtype.name, **_describe(net)}
    loss_m, grads_m = net.gradients(X, y)
    trace_m = {k: np.array(v, copy=True) for k, v in getattr(net, "intermediates", {}).items()}
    rows: list[dict[str, Any]] = []

    def emit(oracle: str, comps: list[Comparison], divergence: str = "") -> None:
        failed = not all(c.passed for c in comps)
        for c in comps:
            rows.append({**info, "oracle": oracle, **c.row(),
                         "first_divergence": divergence if failed else ""})

    oracles = tuple(oracles)
    if "torch" in oracles:
        tnet = reference_net if reference_net is not None else reference.MLP.from_manual(net)
        loss_t, grads_t = tnet.gradients(X, y)
        tol = tolerance_for(dtype, "torch")
        comps = [compare_arrays(loss_m, loss_t, tol, "loss")]
        comps += [compare_arrays(grads_m[k], grads_t[k], tol, k) for k in net.params]
        divergence = ""
        if not all(c.passed for c in comps):
            divergence = first_divergence(trace_m, getattr(tnet, "intermediates", {}), dtype)
            divergence = divergence or "no intermediate differs: parameter gradients only"
        emit("torch", comps, divergence)
    if "fd" in oracles:
        # float64 twin when the network offers one: finite differences need the precision
        twin = net.astype(np.float64) if hasattr(net, "astype") else net
        fd = finite_difference_gradients(lambda: twin.loss(X, y), twin.params)
        tol = tolerance_for(dtype, "fd")
        emit("fd", [compare_arrays(grads_m[k], fd[k], tol, k) for k in net.params])
    unknown = set(oracles) - {"torch", "fd"}
    if unknown:
        raise ValueError(f"unknown oracle(s) {sorted(unknown)}; valid: torch, fd")
    return rows


# --------------------------------------------------------------------------------------
# single activations and losses
# --------------------------------------------------------------------------------------
def _torch_input(z: np.ndarray) -> torch.Tensor:
    return torch.tensor(z, requires_grad=True)


def compare_activation(act: Any, z: np.ndarray, *, torch_fn: Callable | None = None,
                       seed: int = 0, case: str | None = None) -> list[dict[str, Any]]:
    """Compare an activation's ``forward``, ``derivative`` and ``backward`` with torch at ``z``.

    ``backward`` is checked under a random upstream gradient (never all-ones, which
    would hide a Jacobian error); ``derivative`` (elementwise activations only)
    against autograd's gradient of ``sum(f(z))``, which is :math:`f'(z)` elementwise.
    """
    from manual import activations

    act = activations.get(act)
    name = getattr(act, "name", type(act).__name__)
    fn = torch_fn or reference.activations.get(name, **getattr(act, "kwargs", {}))
    z = np.asarray(z)
    tol = tolerance_for(z.dtype, "torch")
    g = np.random.default_rng(seed).standard_normal(z.shape).astype(z.dtype)
    zt = _torch_input(z)
    out_t = fn(zt)
    (vjp_t,) = torch.autograd.grad(out_t, zt, torch.from_numpy(g), allow_unused=True)
    vjp_t = torch.zeros_like(zt) if vjp_t is None else vjp_t
    comps = [compare_arrays(act.forward(z), out_t.detach().numpy(), tol, "forward"),
             compare_arrays(act.backward(z, g), vjp_t.numpy(), tol, "backward")]
    if getattr(act, "elementwise", True) and hasattr(act, "derivative"):
        zt = _torch_input(z)
        (d_t,) = torch.autograd.grad(fn(zt).sum(), zt, allow_unused=True)
        d_t = torch.zeros_like(zt) if d_t is None else d_t
        comps.append(compare_arrays(act.derivative(z), d_t.numpy(), tol, "derivative"))
    info = {"case": case or f"{name}-{z.dtype.name}", "kind": "activation", "activation": name,
            "dtype": z.dtype.name, "oracle": "torch"}
    return [{**info, **c.row()} for c in comps]


def compare_loss(loss: Any, pred: np.ndarray, target: np.ndarray, *,
                 torch_fn: Callable | None = None, seed: int = 0,
                 case: str | None = None) -> list[dict[str, Any]]:
    """Compare a loss's value and its gradient for ``pred`` with torch's.

    The gradient is checked under a random upstream gradient: a random scalar for a
    reduced loss, a random array for ``reduction="none"``.
    """
    from manual import losses

    loss = losses.get(loss)
    name = getattr(loss, "name", type(loss).__name__)
    fn = torch_fn or reference.losses.get(name, **getattr(loss, "kwargs", {}))
    pred = np.asarray(pred)
    tol = tolerance_for(pred.dtype, "torch")
    pt = _torch_input(pred)
    tt = (torch.as_tensor(target, dtype=torch.int64) if np.asarray(target).dtype.kind in "iu"
          else torch.as_tensor(target))
    value_t = fn(pt, tt)
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(tuple(value_t.shape)).astype(pred.dtype)
    (grad_t,) = torch.autograd.grad(value_t, pt, torch.as_tensor(g))
    value_m = loss.forward(pred, target)
    grad_m = loss.backward(pred, target, g if g.ndim else g[()])
    comps = [compare_arrays(value_m, value_t.detach().numpy(), tol, "value"),
             compare_arrays(grad_m, grad_t.numpy(), tol, "gradient")]
    info = {"case": case or f"{name}-{pred.dtype.name}", "kind": "loss", "loss": name,
            "dtype": pred.dtype.name, "oracle": "torch"}
    return [{**info, **c.row()} for c in comps]


# --------------------------------------------------------------------------------------
# registry cases
# --------------------------------------------------------------------------------------
def run_case(case: Case, oracles: Iterable[str] = ("torch", "fd")) -> list[dict[str, Any]]:
    """Build ``case``'s network and data from its seed and compare against the oracles."""
    net = case.build()
    X, y = case_data(case, net)
    rows = compare_network(net, X, y, case=case.id, oracles=oracles)
    for row in rows:
        row["arch"] = case.arch
    return rows


def run_component(case: ComponentCase) -> list[dict[str, Any]]:
    """Compare one activation or loss of the registry with torch on its built-in inputs."""
    if case.kind == "activation":
        return compare_activation(case.build(), activation_inputs(case), case=case.id)
    pred, target = loss_inputs(case)
    return compare_loss(case.build(), pred, target, case=case.id)


def run_components(cases: Iterable[ComponentCase]) -> pd.DataFrame:
    """All rows of the component ``cases`` as a DataFrame with fixed columns."""
    return pd.DataFrame([row for case in cases for row in run_component(case)],
                        columns=ROW_COLUMNS)


def skipped_rows() -> list[dict[str, Any]]:
    """One row per skipped pair of the matrix, with the reason in ``note``."""
    return [{"case": f"{s.activation}-{s.loss}", "kind": "skipped", "activation": s.activation,
             "output_activation": s.activation, "loss": s.loss, "note": s.reason}
            for s in SKIPPED]


def run_cases(cases: Iterable[Case], oracles: Iterable[str] = ("torch", "fd"),
              include_skipped: bool = True) -> pd.DataFrame:
    """All rows of ``cases`` (plus the skipped pairs) as a DataFrame with fixed columns."""
    rows = [row for case in cases for row in run_case(case, oracles)]
    if include_skipped:
        rows += skipped_rows()
    return pd.DataFrame(rows, columns=ROW_COLUMNS)


def failures(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Readable messages for the failing rows: case, oracle, parameter, worst element,
    absolute and relative error, tolerance and first divergence."""
    return [describe(r) for r in rows if r.get("passed") is False]
