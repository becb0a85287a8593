"""The network runner (``gradients.csv``), the public API for checking any network.

:func:`compare_network` compares the loss and every parameter gradient of a network (a
student's, with the methods of :class:`manual.MLP` or a ``manual.layers.Sequential``)
against torch's autograd, torch's vector-Jacobian product, central finite differences and
the Taylor test; on a mismatch the row names the first intermediate (forward, then
backward, layer by layer) where the two diverge. :func:`run_cases` runs the network cases
of the registry into a pandas DataFrame; :func:`comparisons.run.rows.failures` turns
failing rows into readable messages.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import torch

from comparisons.cases.data import case_data
from comparisons.cases.info import NETWORK_ORACLES
from comparisons.cases.registry import SKIPPED, Case
from comparisons.core.alternatives import (
    LazyAlternatives,
    activation_alternatives,
    dense_alternatives,
    context_alternatives,
    layer_alternatives,
)
from comparisons.core.batched import mlp_batched_loss
from comparisons.core.compare import Comparison, compare_arrays
from comparisons.core.device import torch_device
from comparisons.core.oracles import finite_difference_gradients, taylor_rows
from comparisons.core.tolerances import measured_tolerance, tolerance_for
from comparisons.run.bridge import MLPTwin
from comparisons.run.rows import ROW_COLUMNS, validate_oracles
from comparisons.twins.state import float64_data, float64_shadow

__all__ = ["compare_network", "first_divergence", "run_case", "run_cases", "skipped_rows"]


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


class _Shadow:
    """A float32 torch twin's float64 copy (made before the twin's first forward, so that
    running statistics start alike), run as the twin is, from the same random state
    (dropout draws the same masks), on the inputs upcast: what torch computes in (near)
    exact arithmetic, for :func:`comparisons.core.tolerances.measured_tolerance`."""

    def __init__(self, tnet: Any, X: np.ndarray, y: np.ndarray) -> None:
        try:
            self.twin: Any = float64_shadow(tnet)
        except (TypeError, AttributeError, RuntimeError):  # not a torch module: no shadow
            self.twin = None
        self.X, self.y = float64_data(X), float64_data(y)

    def run(self, call32: Callable[[], Any], call64: Callable[[Any], Any]) -> tuple[Any, Any]:
        """``(call32(), call64(shadow))``, the second from the random state the first
        started from; None for it when the shadow cannot run (a twin holding float32
        tensors of its own: then the policy's floor alone applies, the stricter)."""
        state = torch.random.get_rng_state()
        out = call32()
        if self.twin is None:
            return out, None
        try:
            with torch.random.fork_rng():
                torch.random.set_rng_state(state)
                return out, call64(self.twin)
        except (RuntimeError, TypeError, ValueError):
            return out, None


def _parts(obj: Any) -> list[Any]:
    """``obj`` and the objects it holds directly (a reference wrapping a torch twin)."""
    return [obj, *[v for v in getattr(obj, "__dict__", {}).values()
                   if isinstance(v, torch.nn.Module) or hasattr(v, "intermediates")]]


@contextlib.contextmanager
def _kept(tnet: Any, rng_state: torch.Tensor) -> Iterator[None]:
    """Rerun ``tnet`` from ``rng_state`` (dropout: the same masks) and leave it as it was:
    its ``intermediates`` (the first divergence reads them) and its modules' buffers
    (running statistics, compared after)."""
    parts = _parts(tnet)
    traces = [(p, p.intermediates) for p in parts if hasattr(p, "intermediates")]
    buffers = [(b, b.detach().clone()) for p in parts if isinstance(p, torch.nn.Module)
               for b in p.buffers()]
    try:
        with torch.random.fork_rng():  # every device: CUDA draws left as they were too
            torch.random.set_rng_state(rng_state)
            yield
    finally:
        for p, trace in traces:
            p.intermediates = trace
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)


def _network_slips(net: Any, tnet: Any, X: np.ndarray, y: np.ndarray,
                   rng_state: torch.Tensor, g: np.ndarray | None = None
                   ) -> dict[str, dict[str, np.ndarray]]:
    """The gradients of the slips that need the network's context
    (:mod:`comparisons.core.alternatives`): the reference's with activation derivatives
    left out or wrong, with a convolution's or a square linear layer's input gradient as
    its classic slip's, inside a context (a norm's statistics held constant, …), then a
    dense layer's weight gradient without its input or untransposed; through the loss
    (``g`` None) or as the vector-Jacobian product with ``g``."""
    def run() -> dict[str, np.ndarray]:
        with _kept(tnet, rng_state):
            return tnet.gradients(X, y)[1] if g is None else tnet.vjp(X, g)

    slips = activation_alternatives(run)
    for more in (layer_alternatives(run), context_alternatives(run)):
        for key, texts in more.items():
            slips.setdefault(key, {}).update(texts)
    with _kept(tnet, rng_state):
        grads = tnet.gradients(X, y)[1] if g is None else tnet.vjp(X, g)
        trace = dict(getattr(tnet, "intermediates", None) or {}) if g is None else {}
    for key, texts in dense_alternatives(net.params, grads, trace, X).items():
        slips.setdefault(key, {}).update(texts)
    return slips


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
    ``device`` (``"cpu"`` or ``"cuda"``) is where the torch twin runs. On a failing
    row the twin runs again, from the same random state and left as it was, to test the
    slips that need the network's context (an activation's derivative left out, a dense
    layer's input forgotten or untransposed: :mod:`comparisons.core.alternatives`).
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
    # the hypotheses of a failing row's diagnosis, from the twin rerun as it first ran
    rng_state = torch.random.get_rng_state()
    slips = LazyAlternatives(lambda: {} if tnet is None else _network_slips(
        net, tnet, X, y, rng_state))
    # float32: the same twin in float64 (the same start, the same draws) measures torch's own
    # float32 rounding of each quantity (comparisons.core.tolerances.measured_tolerance)
    shadow = _Shadow(tnet, X, y) if tnet is not None and dtype == np.float32 else None
    if "torch" in oracles:
        assert tnet is not None  # built above whenever "torch" is among the oracles
        twin_t: Any = tnet
        exact: Any
        if shadow is not None:
            sh = shadow
            (loss_t, grads_t), exact = sh.run(lambda: twin_t.gradients(X, y),
                                              lambda t: t.gradients(sh.X, sh.y))
        else:
            (loss_t, grads_t), exact = twin_t.gradients(X, y), None
        tol = tolerance_for(dtype, "torch")
        comps = [compare_arrays(loss_m, loss_t, measured_tolerance(
            tol, loss_t, exact and exact[0]), "loss")]
        comps += [compare_arrays(grads_m[k], grads_t[k], measured_tolerance(
            tol, grads_t[k], exact and exact[1].get(k)), k, slips.of(k)) for k in net.params]
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
            twin_v: Any = tnet
            rng_v = torch.random.get_rng_state()  # the twin's vjp draws from here
            if shadow is not None:
                sv = shadow
                vjp_t, exact = sv.run(lambda: twin_v.vjp(X, g),
                                      lambda t: t.vjp(sv.X, g.astype(np.float64)))
            else:
                vjp_t, exact = twin_v.vjp(X, g), None
            tol = tolerance_for(dtype, "torch")
            slips_v = LazyAlternatives(lambda: _network_slips(net, twin_v, X, y, rng_v, g))
            emit("vjp", [compare_arrays(vjp_m[k], vjp_t[k], measured_tolerance(
                tol, vjp_t[k], exact and exact.get(k)), k, slips_v.of(k))
                for k in net.params])
    # the torch-free oracles need float64: a float32 network is checked through its
    # float64 twin when it offers one (astype), else in its own dtype
    twin = net if dtype == np.float64 or not hasattr(net, "astype") else net.astype(np.float64)
    # a plain MLP evaluates many perturbed copies per forward: the same values, faster
    batched = mlp_batched_loss(twin, X, y) if {"fd", "taylor"} & set(oracles) else None
    if "fd" in oracles:
        fd = finite_difference_gradients(lambda: twin.loss(X, y), twin.params, batched=batched)
        tol = tolerance_for(dtype, "fd")
        emit("fd", [compare_arrays(grads_m[k], fd[k], tol, k, slips.of(k))
                    for k in net.params])
    if "taylor" in oracles:
        # on the float64 twin's own gradient: a float32 gradient's rounding would itself
        # leave a first-order remainder; the derivation is the same code in both dtypes
        grads_64 = grads_m if twin is net else twin.gradients(X, y)[1]
        rows.extend({**info, "oracle": "taylor", **row}
                    for row in taylor_rows(lambda: twin.loss(X, y), twin.params, grads_64,
                                           batched=batched))
    return rows


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
