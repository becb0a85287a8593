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

import inspect
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
import torch

import reference
from comparisons.cases.data import KINK_MARGIN, case_data
from comparisons.cases.info import NETWORK_ORACLES
from comparisons.cases.registry import KNOWN_DEVIATIONS, SKIPPED, Case, ComponentCase
from comparisons.core.batched import BatchedLoss, mlp_batched_loss
from comparisons.core.compare import COMPARISON_COLUMNS, Comparison, compare_arrays, describe
from comparisons.core.device import torch_device
from comparisons.core.oracles import (
    COMPLEX_STEP,
    central_difference,
    complex_step,
    complex_step_gradient,
    taylor_remainders,
    taylor_slope_from,
)
from comparisons.core.tolerances import FD_STEP, TAYLOR_EPS, TAYLOR_MIN_SLOPE, tolerance_for
from comparisons.run.bridge import MLPTwin, torch_kwargs
from comparisons.twins.state import extra_inputs

__all__ = ["compare_activation", "compare_loss", "compare_network", "failures",
           "finite_difference_gradients", "first_divergence", "run_case", "run_cases",
           "run_component", "run_components", "validate_oracles"]

#: the report's columns: what was compared, then :meth:`Comparison.row`'s columns (the
#: single source of the error figures), the Taylor slope and the verdict
ROW_COLUMNS = ["case", "kind", "activation", "output_activation", "loss", "arch", "sizes",
               "dtype", "oracle",
               *[c for c in COMPARISON_COLUMNS if c not in ("passed", "note")],
               "taylor_slope", "passed", "status", "first_divergence", "note"]



def validate_oracles(oracles: Iterable[str], valid: Iterable[str]) -> tuple[str, ...]:
    """``oracles`` as a tuple of names from ``valid``, checked before any work: a string
    (``"fd"`` would read as ``['f', 'd']``) is a TypeError, an unknown name a ValueError."""
    valid = tuple(valid)
    if isinstance(oracles, (str, bytes)):
        raise TypeError(f"oracles must be a list of names such as {list(valid[:2])}, not the "
                        f"string {oracles!r} (write [{oracles!r}])")
    try:
        chosen = tuple(oracles)
    except TypeError:
        raise TypeError(f"oracles must be a list of names from {', '.join(valid)}, got "
                        f"{oracles!r}") from None
    unknown = [o for o in chosen if not isinstance(o, str) or o not in valid]
    if unknown:
        raise ValueError(f"unknown oracle(s) {unknown}; valid: {', '.join(valid)}")
    if not chosen:
        raise ValueError(f"no oracle given; valid: {', '.join(valid)}")
    return chosen


def with_status(rows: list[dict[str, Any]], name: str | None = None,
                deviations: dict[tuple[str, str], str] | None = None) -> list[dict[str, Any]]:
    """Set each row's ``status``: ``pass``, ``fail``, or ``xfail`` for a failure that is a
    documented deviation (a documented deviation that no longer occurs is a ``fail``,
    noted as ``xpass``).

    ``deviations`` ((quantity, oracle) -> reason) are the deviations the inputs are known
    to show, strictly, as pytest's strict xfail: a listed row that passes fails the run
    (:func:`failures` reports it), its note saying ``xpass``. Without them (a caller's own
    inputs, which may or may not reach the deviation), the case table's deviations for
    ``name`` (:data:`~comparisons.cases.registry.KNOWN_DEVIATIONS`) turn a failure into
    ``xfail`` and a pass stays a pass.
    """
    strict = deviations is not None
    if deviations is None:
        deviations = {(p, o): r for (n, p, o), r in KNOWN_DEVIATIONS.items() if n == name}
    for row in rows:
        reason = deviations.get((row.get("parameter"), row.get("oracle")))
        if reason is None:
            row["status"] = "pass" if row["passed"] else "fail"
        elif row["passed"]:
            row["status"] = "fail" if strict else "pass"
            if strict:
                row["note"] = (f"documented deviation no longer occurs (xpass): remove it "
                               f"from the case table: {reason}")
        else:
            row["status"] = "xfail"
            row["note"] = f"known deviation from torch: {reason}"
    return rows


# --------------------------------------------------------------------------------------
# finite differences: the second, independent oracle
# --------------------------------------------------------------------------------------
def finite_difference_gradients(loss: Callable[[], Any], params: dict[str, np.ndarray],
                                h: float = FD_STEP, *,
                                batched: BatchedLoss | None = None) -> dict[str, np.ndarray]:
    r"""Central differences :math:`\partial L/\partial\theta_i \approx
    (L(\theta + h e_i) - L(\theta - h e_i)) / 2h` for every element of every parameter.

    ``loss()`` must recompute the loss from the live arrays in ``params``, which are
    perturbed in place and restored exactly (the saved value is written back, not
    recomputed as ``θ + h - h``).

    ``batched(name, values)``, when given (e.g. :func:`comparisons.core.batched.mlp_batched_loss`),
    returns the loss at each of the stacked copies ``values`` (P, \*shape) of
    ``params[name]`` at once; it must give exactly what ``loss()`` gives for each copy, and
    then so does this function, bit for bit, many times faster (the same
    :math:`\theta_i \pm h` values, the same subtraction and division).
    """
    if batched is not None:
        return {name: _fd_batched(batched, name, p, h) for name, p in params.items()}
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


#: most parameter elements held in stacked perturbed copies at a time
FD_CHUNK_ELEMENTS = 1 << 22


def _fd_batched(batched: BatchedLoss, name: str, p: np.ndarray, h: float) -> np.ndarray:
    """One parameter's central differences, ``2k`` perturbed copies per call: copy ``2j``
    holds :math:`\theta_i + h` and copy ``2j + 1`` :math:`\theta_i - h` at element i."""
    flat = p.reshape(-1)
    g = np.zeros(flat.size, dtype=np.float64)
    k = max(1, FD_CHUNK_ELEMENTS // max(2 * flat.size, 1))  # elements per call
    for start in range(0, flat.size, k):
        idx = np.arange(start, min(start + k, flat.size))
        copies = np.repeat(flat[None, :], 2 * len(idx), axis=0)  # (2k, size)
        copies[0::2][np.arange(len(idx)), idx] = flat[idx] + h
        copies[1::2][np.arange(len(idx)), idx] = flat[idx] - h
        L = np.asarray(batched(name, copies.reshape((-1,) + p.shape)), dtype=np.float64)
        g[idx] = (L[0::2] - L[1::2]) / (2 * h)
    return g.reshape(p.shape)


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


def _manual_vjp(net: Any, g: np.ndarray) -> dict[str, np.ndarray]:
    """The network's parameter gradients under the upstream gradient ``g``: the MLP's
    ``backward(grad_out=g)`` returns them; a layer-protocol ``Sequential``'s ``backward(g)``
    stores them in ``grads``."""
    if "grad_out" in inspect.signature(net.backward).parameters:
        return net.backward(grad_out=g)
    net.backward(g)
    return net.grads


def _describe(net: Any) -> dict[str, Any]:
    def name(obj):
        return "" if obj is None else getattr(obj, "name", type(obj).__name__)

    sizes = getattr(net, "sizes", None)
    return {"activation": name(getattr(net, "activation", None)),
            "output_activation": name(getattr(net, "output_activation", None)),
            "loss": name(getattr(net, "loss_fn", None)),
            "sizes": "-".join(map(str, sizes)) if sizes else ""}


def compare_network(net: Any, X: np.ndarray, y: np.ndarray, *, case: str = "custom",
                    oracles: Iterable[str] = NETWORK_ORACLES,
                    reference_net: Any = None, device: str = "cpu") -> list[dict[str, Any]]:
    """Compare ``net``'s loss and gradients with torch's autograd and finite differences.

    ``net`` is a :class:`manual.MLP` or any object with what the oracles use:

    - ``params``: dict of the live arrays ``W1, b1, ...``, each ``W`` in (in, out) layout
      (all oracles; ``fd`` and ``taylor`` perturb them in place);
    - ``gradients(X, y) -> (loss, grads)``, ``grads`` keyed like ``params`` (all oracles);
    - ``loss(X, y)``: the loss from the current ``params`` (``fd``, ``taylor``);
    - ``forward(X)`` and ``backward(grad_out=g) -> grads`` (``vjp``);
    - ``activation``, ``output_activation``, ``loss_fn``: objects whose ``.name`` (and
      ``.kwargs``) name the torch counterpart, for building the torch twin
      (``torch``, ``vjp``; not needed with ``reference_net``);
    - optional: ``intermediates`` (dict ``z1, a1, ..., loss, dJ/daL, ...`` after
      ``gradients``, for the first divergence), ``astype(dtype)`` (a float64 twin for the
      torch-free oracles of a float32 network), ``sizes`` (the report's column).

    Returns one row per oracle x (loss and each parameter). A network with other
    parameter names (the 3-2-1 network's ``w14 ... b6``) needs its own ``reference_net``:
    anything whose ``gradients(X, y)`` returns grads under the same names (and ``vjp(X,
    g)`` for the ``vjp`` oracle). For a student's own code in any shape (a CS231n
    ``TwoLayerNet``, Nielsen's ``network.py``), use :func:`comparisons.check_gradients`.
    ``oracles`` is a list of names from :data:`NETWORK_ORACLES`, checked before any work.
    ``device`` (``"cpu"`` or ``"cuda"``) is where the torch twin runs.
    """
    oracles = validate_oracles(oracles, NETWORK_ORACLES)
    dtype = np.dtype(next(iter(net.params.values())).dtype)
    info = {"case": case, "kind": "network", "dtype": dtype.name, **_describe(net)}
    loss_m, grads_m = net.gradients(X, y)
    trace_m = {k: np.array(v, copy=True) for k, v in getattr(net, "intermediates", {}).items()}
    rows: list[dict[str, Any]] = []

    def emit(oracle: str, comps: list[Comparison], divergence: str = "") -> None:
        failed = not all(c.passed for c in comps)
        for c in comps:
            rows.append({**info, "oracle": oracle, **c.row(),
                         "status": "pass" if c.passed else "fail",
                         "first_divergence": divergence if failed else ""})

    tnet = None
    if "torch" in oracles or "vjp" in oracles:  # one torch twin serves both
        tnet = (reference_net if reference_net is not None
                else MLPTwin.from_manual(net, torch_device(device)))
    if "torch" in oracles:
        loss_t, grads_t = tnet.gradients(X, y)
        tol = tolerance_for(dtype, "torch")
        comps = [compare_arrays(loss_m, loss_t, tol, "loss")]
        comps += [compare_arrays(grads_m[k], grads_t[k], tol, k) for k in net.params]
        divergence = ""
        if not all(c.passed for c in comps):
            trace_t = getattr(tnet, "intermediates", {}) or {}
            if not trace_m or not set(trace_m) & set(trace_t):
                divergence = ("no intermediates given: the network has no `intermediates` "
                              "to compare" if not trace_m else
                              "no intermediates in common with the torch twin to compare")
            else:
                divergence = (first_divergence(trace_m, trace_t, dtype)
                              or "no intermediate differs: parameter gradients only")
        emit("torch", comps, divergence)
    if "vjp" in oracles:
        # the network's own backward under a random upstream gradient g = dJ/d(output), no
        # loss: all-ones or a .sum() would hide softmax- and normalisation-style errors
        if hasattr(tnet, "vjp"):
            out = net.forward(X)
            g = np.random.default_rng(1).standard_normal(np.shape(out)).astype(dtype)
            vjp_m = _manual_vjp(net, g)
            vjp_t = tnet.vjp(X, g)
            tol = tolerance_for(dtype, "torch")
            emit("vjp", [compare_arrays(vjp_m[k], vjp_t[k], tol, k) for k in net.params])
    # the torch-free oracles need float64: a float32 network is checked through its
    # float64 twin when it offers one (astype), else in its own dtype
    twin = net if dtype == np.float64 or not hasattr(net, "astype") else net.astype(np.float64)
    # a plain MLP evaluates many perturbed copies per forward: the same values, faster
    batched = mlp_batched_loss(twin, X, y) if {"fd", "taylor"} & set(oracles) else None
    if "fd" in oracles:
        fd = finite_difference_gradients(lambda: twin.loss(X, y), twin.params, batched=batched)
        tol = tolerance_for(dtype, "fd")
        emit("fd", [compare_arrays(grads_m[k], fd[k], tol, k) for k in net.params])
    if "taylor" in oracles:
        # on the float64 twin's own gradient: a float32 gradient's rounding would itself
        # leave a first-order remainder; the derivation is the same code in both dtypes
        grads_64 = grads_m if twin is net else twin.gradients(X, y)[1]
        rows.extend({**info, "oracle": "taylor", **row}
                    for row in taylor_rows(lambda: twin.loss(X, y), twin.params, grads_64,
                                           batched=batched))
    return rows


def taylor_rows(loss: Callable[[], Any], params: dict[str, np.ndarray],
                grads: dict[str, np.ndarray], seed: int = 0, *,
                batched: BatchedLoss | None = None) -> list[dict[str, Any]]:
    r"""The Taylor-remainder test for each parameter. Along a random unit direction
    :math:`v`, :math:`r(\varepsilon) = |L(\theta + \varepsilon v) - L(\theta) -
    \varepsilon\,g \cdot v|` falls like :math:`\varepsilon^2` when :math:`g` is the
    gradient, and only like :math:`\varepsilon` when it is not.

    A row passes when the fitted log–log slope (``taylor_slope``) is at least
    ``TAYLOR_MIN_SLOPE`` (1.8), or when the first-order residual :math:`r(\varepsilon)/\varepsilon`
    at the smallest step (reported as ``worst_abs_err`` and ``max_abs_err``: it bounds the
    error of :math:`g \cdot v`) is within the finite-difference tolerance of :math:`g \cdot v`.
    The second clause covers losses that are (piecewise) linear along :math:`v`, where
    there is no curvature for the slope to show. ``err_over_tol`` is the smaller of
    :math:`(2 - \text{slope})/(2 - 1.8)` and the residual over its tolerance: <= 1 passes.

    ``batched`` (as in :func:`finite_difference_gradients`) evaluates
    :math:`L(\theta)` and every :math:`L(\theta + \varepsilon v)` in one call, with the
    same values.
    """
    rng = np.random.default_rng(seed)
    tol = tolerance_for(np.float64, "fd")
    rows = []
    for name, p in params.items():
        saved = p.copy()
        v = rng.standard_normal(p.shape)
        v /= max(np.linalg.norm(v), 1e-300)

        def L(theta, p=p):
            p[...] = theta  # in place: the network computes with this array
            return float(loss())

        if batched is None:
            r = taylor_remainders(L, grads[name], saved, v, TAYLOR_EPS)
        else:  # the same points theta + eps v, the same arithmetic as taylor_remainders
            theta = np.asarray(saved, dtype=np.float64)
            values = batched(name, np.stack([theta] + [theta + e * v for e in TAYLOR_EPS]))
            L0 = float(values[0])
            g_v = float(np.sum(np.asarray(grads[name], dtype=np.float64) * v))
            r = np.array([abs(float(Le) - L0 - e * g_v) for e, Le in zip(TAYLOR_EPS, values[1:])])
        p[...] = saved
        slope = taylor_slope_from(r)
        residual = float(r[-1] / TAYLOR_EPS[-1])  # bounds |true - computed| along v
        directional = float(np.sum(np.asarray(grads[name], dtype=np.float64) * v))
        # one figure for the two ways to pass, <= 1 as every row: the slope's shortfall
        # from 2 over the allowed shortfall, or the residual over its tolerance
        slope_ratio = max(0.0, (2.0 - slope) / (2.0 - TAYLOR_MIN_SLOPE))
        residual_ratio = residual / (tol.atol + tol.rtol * abs(directional))
        err_over_tol = min(slope_ratio, residual_ratio)
        passed = bool(slope >= TAYLOR_MIN_SLOPE
                      or residual <= tol.atol + tol.rtol * abs(directional))
        rows.append({"parameter": name, "shape": "x".join(map(str, p.shape)) or "scalar",
                     "size": p.size, "taylor_slope": slope, "err_over_tol": err_over_tol,
                     "worst_abs_err": residual,
                     "max_abs_err": residual,
                     "reference_value": directional, "rtol": tol.rtol, "atol": tol.atol,
                     "passed": passed, "status": "pass" if passed else "fail",
                     "note": "" if passed else (
                         f"Taylor remainder falls like eps^{slope:.2f}, not eps^2, and the "
                         f"first-order residual {residual:.3e} exceeds the tolerance for the "
                         f"directional derivative {directional:.6g}: the gradient is wrong")})
    return rows


# --------------------------------------------------------------------------------------
# single activations and losses
# --------------------------------------------------------------------------------------
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
    rows = [("torch", compare_arrays(act.forward(z), _np(out_t), tol, "forward")),
            ("torch", compare_arrays(act.backward(z, g), _np(vjp_t), tol, "backward"))]
    elementwise = getattr(act, "elementwise", True) and hasattr(act, "derivative")
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


# --------------------------------------------------------------------------------------
# registry cases
# --------------------------------------------------------------------------------------
def run_case(case: Case, oracles: Iterable[str] = NETWORK_ORACLES,
             device: str = "cpu") -> list[dict[str, Any]]:
    """Build ``case``'s network and data from its seed and compare against the oracles
    (torch on ``device``)."""
    net = case.build()
    X, y = case_data(case, net)
    rows = compare_network(net, X, y, case=case.id, oracles=oracles, device=device)
    for row in rows:
        row["arch"] = case.arch
    return rows


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


def skipped_rows() -> list[dict[str, Any]]:
    """One row per skipped pair of the matrix, with the reason in ``note``."""
    return [{"case": f"{s.activation}-{s.loss}", "kind": "skipped", "activation": s.activation,
             "output_activation": s.activation, "loss": s.loss, "status": "skipped",
             "note": s.reason} for s in SKIPPED]


def run_cases(cases: Iterable[Case], oracles: Iterable[str] = NETWORK_ORACLES,
              include_skipped: bool = True) -> pd.DataFrame:
    """All rows of ``cases`` (plus the skipped pairs) as a DataFrame with fixed columns."""
    rows = [row for case in cases for row in run_case(case, oracles)]
    if include_skipped:
        rows += skipped_rows()
    return pd.DataFrame(rows, columns=ROW_COLUMNS)


def failures(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Readable messages for the failing rows: case, oracle, parameter, worst element,
    absolute and relative error, tolerance and first divergence."""
    return [describe(r) for r in rows
            if r.get("status", "fail" if r.get("passed") is False else "pass") in ("fail", "xpass")]
