r"""Layer comparisons: one layer, or a whole ``Sequential`` with a loss, against torch's own
``torch.nn`` modules and the torch-free oracles.

- :func:`compare_layer` — any layer of the protocol (:mod:`manual.layers.base`) on given
  inputs. Rows (``parameter``): each forward output (``output``, or ``output0``,
  ``output1``, … for a tuple), the gradient of each float input (``grad_input``, or
  ``grad_input0``, …), every parameter gradient (``weight``, ``bias``, …) and every
  buffer after the forward (``running_mean``, …). Oracles: ``torch`` (the twin from
  :func:`comparisons.run.bridge.torch_twin`, autograd under the same random upstream gradient),
  ``fd`` (central differences in float64 of :math:`L = \sum_k \langle g_k, y_k\rangle` over
  the inputs and parameters) and ``taylor`` (the Taylor-remainder test of the same
  :math:`L`).
- :func:`compare_sequential` — a ``Sequential`` with a loss, compared like the MLP by
  :func:`comparisons.run.networks.compare_network` (torch through the loss, ``vjp`` under a
  random upstream gradient, ``fd``, ``taylor``; a failure against torch names the first
  diverging layer), plus every buffer against torch after the same forward passes.
- :func:`run_layer_case`, :func:`run_network_case`, :func:`run_layer_cases` — the case
  layer records (:mod:`comparisons.cases.catalog`).

The upstream gradient :math:`g` is a seeded standard normal for every float output, never
all-ones (a sum would hide a transposed or mis-scaled Jacobian).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterable, Iterator
from typing import Any, cast

import numpy as np
import pandas as pd
import torch

from comparisons.cases.info import LAYER_ORACLES
from comparisons.core.alternatives import (KERNEL_TRANSPOSED,
                                           KERNEL_UNFLIPPED, OUTPUT_PADDING_IGNORED,
                                           PADDING_AS_ZEROS, PASSED_THROUGH, SHIFTED_BY_ONE,
                                           context_alternatives,
                                           LazyAlternatives, slice_upstreams)
from comparisons.core.compare import Comparison, compare_arrays
from comparisons.core.device import seed_torch
from comparisons.core.oracles import finite_difference_gradients, taylor_rows

# torch on one intra-op thread: these tensors are tiny, and one thread makes the order of
# torch's sums (hence the CSV) the same on every machine
from comparisons.core.parallel import one_torch_thread as one_thread
from comparisons.core.tolerances import measured_tolerance, tolerance_for
from comparisons.run.bridge import (
    TorchSequential,
    record_slips,
    torch_twin,
    twin_name,
    twin_syncs,
)
from comparisons.run.networks import compare_network
from comparisons.run.rows import ROW_COLUMNS, with_status
from comparisons.twins.layers import torch_dtype

__all__ = ["compare_layer", "compare_sequential", "run_layer_case",
           "run_layer_cases", "run_network_case"]



# --------------------------------------------------------------------------------------
# nested tuples of arrays: inputs (x, (h0, c0)) and outputs (out, (h_n, c_n))
# --------------------------------------------------------------------------------------
def _leaves(tree: Any) -> list[Any]:
    if isinstance(tree, (tuple, list)):
        return [leaf for sub in tree for leaf in _leaves(sub)]
    return [tree]


def _rebuild(tree: Any, leaves: Iterator[Any]) -> Any:
    if isinstance(tree, (tuple, list)):
        return type(tree)(_rebuild(sub, leaves) for sub in tree)
    return next(leaves)


def _is_float(a: Any) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _to_torch(a: Any, dt: torch.dtype) -> Any:
    if isinstance(a, np.ndarray):
        if a.dtype.kind == "f":
            return torch.tensor(a, dtype=dt, requires_grad=True)
        if a.dtype.kind == "b":
            return torch.as_tensor(a)
        return torch.as_tensor(a, dtype=torch.int64)
    return a


def _names(n: int, base: str, given: tuple[str, ...] | None) -> list[str]:
    if given is not None:
        if len(given) != n:
            raise ValueError(f"{len(given)} names given for {n} {base}s")
        return list(given)
    return [base] if n == 1 else [f"{base}{k}" for k in range(n)]


def _snapshot(d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.array(v, copy=True) for k, v in d.items()}


def _restore(d: dict[str, np.ndarray], saved: dict[str, np.ndarray]) -> None:
    for k, v in saved.items():
        d[k][...] = v  # in place: the layer computes with these arrays


# --------------------------------------------------------------------------------------
# one layer
# --------------------------------------------------------------------------------------
def compare_layer(layer: Any, inputs: Any, *, oracles: Iterable[str] = LAYER_ORACLES,
                  case: str | None = None, seed: int = 0,
                  input_names: tuple[str, ...] | None = None,
                  output_names: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Compare ``layer`` (any object of the layer protocol) with its torch twin and with the
    torch-free oracles on ``inputs``.

    Parameters
    ----------
    layer
        The manual layer, in the mode to compare (train or eval). Its buffers are restored
        after the finite differences, so it ends as after one forward.
    inputs
        One array or a tuple of the forward's positional arguments (nested tuples allowed,
        e.g. ``(x, (h0, c0))``); float arrays get a gradient, integer and boolean arrays
        (embedding indices, masks) do not.
    oracles
        A subset of ``("torch", "fd", "taylor")``.
    seed
        Seeds the random upstream gradient (one standard-normal array per float output).
    input_names, output_names
        Names for the rows (``grad_<name>``, ``<name>``); by default ``input``/``output``
        or numbered ones.

    Returns
    -------
    list of dict
        One row per oracle x quantity, with :data:`comparisons.run.rows.ROW_COLUMNS`.
    """
    oracles = tuple(oracles)
    unknown = set(oracles) - set(LAYER_ORACLES)
    if unknown:
        raise ValueError(f"unknown oracle(s) {sorted(unknown)}; valid: {', '.join(LAYER_ORACLES)}")
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    name = twin_name(layer) if "torch" in oracles else type(layer).__name__
    in_leaves = _leaves(inputs)
    float_in = [k for k, a in enumerate(in_leaves) if _is_float(a)]
    dtype = np.dtype(layer.dtype)
    if float_in and getattr(layer, "_follows_input", lambda: False)():
        dtype = in_leaves[float_in[0]].dtype  # a parameter-free layer computes in its input's
    in_names = _names(len(float_in), "input", input_names)
    shapes = ",".join("x".join(map(str, a.shape)) for a in in_leaves if isinstance(a, np.ndarray))
    info = {"case": case or f"{type(layer).__name__.lower()}-{dtype.name}", "kind": "layer",
            "activation": "", "output_activation": "", "loss": "", "arch": name,
            "sizes": shapes, "dtype": dtype.name}
    rows: list[dict[str, Any]] = []

    def emit(oracle: str, comps: list[Comparison]) -> None:
        rows.extend({**info, "oracle": oracle, **c.row()} for c in comps)

    buffers_before = _snapshot(layer.buffers)
    with one_thread(), warnings.catch_warnings():
        # torch's note that 'same' padding with an even kernel copies the input: speed only
        warnings.filterwarnings("ignore", message="Using padding='same'", category=UserWarning)
        # torch first: a twin that draws something NumPy cannot (a dropout mask) hands it
        # to the manual layer through its record's sync before the manual forward
        if "torch" in oracles:
            module = torch_twin(layer, dtype)
            # float32: the same twin in float64 (the same start, upcast exactly, the same
            # random draws) measures torch's own float32 rounding of every quantity
            shadow = copy.deepcopy(module).double() if dtype == np.float32 else None
            tdt = torch_dtype(dtype)
            t_in = _rebuild(inputs, iter([_to_torch(a, tdt) for a in in_leaves]))
            rng_state = torch.random.get_rng_state()
            t_out = module(*t_in)
            sync = twin_syncs().get(name)
            if sync is not None:
                sync(layer, module, t_in, t_out)

        out = layer.forward(*inputs)
        out_leaves = [np.asarray(o) for o in _leaves(out)]
        float_out = [k for k, o in enumerate(out_leaves) if o.dtype.kind == "f"]
        out_names = _names(len(out_leaves), "output", output_names)
        rng = np.random.default_rng(seed)
        g_leaves: list[Any] = [None] * len(out_leaves)
        for k in float_out:  # never all-ones: a random upstream gradient per float output
            g_leaves[k] = rng.standard_normal(out_leaves[k].shape).astype(out_leaves[k].dtype)
        dout = _rebuild(out, iter(g_leaves))
        dx = layer.backward(dout)
        dx_leaves = [d for d in _leaves(dx) if d is not None]
        grads = {k: np.array(v, copy=True) for k, v in layer.grads.items()}
        buffers_after = _snapshot(layer.buffers)
        manual_grads_in = dict(zip(in_names, dx_leaves))
        slips = LazyAlternatives(lambda: {**(_twin_hypotheses(
            module, t_in, rng_state, float_in, float_out, g_leaves, in_names)
            if "torch" in oracles else {}), **_slip_hypotheses(
            layer, inputs, dout, grads, [in_leaves[k] for k in float_in], in_names,
            [g_leaves[k] for k in float_out])})

        if "torch" in oracles:
            t_values = _torch_values(module, t_in, t_out, float_in, float_out, g_leaves)
            exact = None
            if shadow is not None:
                t_in64 = _rebuild(inputs, iter([_to_torch(a, torch.float64) for a in in_leaves]))
                g64 = [None if g is None else g.astype(np.float64) for g in g_leaves]
                try:
                    with torch.random.fork_rng():
                        torch.random.set_rng_state(rng_state)  # dropout: the same masks
                        out64 = shadow(*t_in64)
                    exact = _torch_values(shadow, t_in64, out64, float_in, float_out, g64)
                except (RuntimeError, TypeError):  # a twin holding float32 tensors of its
                    exact = None  # own: no measurement, the policy's floor alone (stricter)
            comps = _torch_comparisons(t_values, exact, dtype, out_leaves, out_names, in_names,
                                       manual_grads_in, grads, buffers_after, slips)
            emit("torch", comps)

        if "fd" in oracles or "taylor" in oracles:
            rows.extend(_torch_free_rows(layer, inputs, in_leaves, float_in, in_names, out,
                                         g_leaves, manual_grads_in, grads, buffers_before,
                                         oracles, info, seed, slips))
        _restore(layer.buffers, buffers_after)
    return with_status(rows, name)


class _TwinRerun:
    """Vector-Jacobian products of a copy of a layer's torch twin (its buffers untouched),
    each rerun on the same inputs from the same random state (dropout: the same masks),
    for the slip hypotheses of :func:`_twin_hypotheses`."""

    def __init__(self, module: Any, t_in: Any, rng_state: torch.Tensor, float_in: list[int],
                 float_out: list[int]) -> None:
        self.twin = copy.deepcopy(module)
        self.params = dict(self.twin.named_parameters())
        self.t_in, self.rng_state = t_in, rng_state
        self.float_in, self.float_out = float_in, float_out

    def vjp(self, g: list, overrides: dict[str, torch.Tensor] | None = None,
            module: Any = None) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
        """The float inputs' and the parameters' gradients for the upstream ``g`` (one
        entry per output leaf), with ``overrides`` for parameters and another ``module``."""
        leaves = [a.detach().clone().requires_grad_(k in self.float_in)
                  if isinstance(a, torch.Tensor) else a for k, a in enumerate(_leaves(self.t_in))]
        with torch.random.fork_rng():
            torch.random.set_rng_state(self.rng_state)
            out = torch.func.functional_call(module or self.twin,
                                             {**self.params, **(overrides or {})},
                                             _rebuild(self.t_in, iter(leaves)))
        outs = [o for k, o in enumerate(_leaves(out)) if k in self.float_out]
        wrt = [leaves[k] for k in self.float_in] + list(self.params.values())
        got = torch.autograd.grad(outs, wrt, [torch.as_tensor(g[k]) for k in self.float_out],
                                  allow_unused=True)
        arrays = [np.zeros(tuple(w.shape)) if d is None else d.detach().numpy()
                  for w, d in zip(wrt, got)]
        return arrays[:len(self.float_in)], dict(zip(self.params, arrays[len(self.float_in):]))


def _conv_upstreams(twin: Any, g_leaves: list, float_out: list[int]) -> list[tuple[str, list]]:
    """A convolution's upstream-gradient slips: every window read one position off (the
    upstream shifted by ±1 along every spatial axis, zero filled), and a transposed
    convolution's backward ignoring ``output_padding`` (its added outputs zeroed)."""
    if not isinstance(twin, torch.nn.modules.conv._ConvNd) or len(float_out) != 1:
        return []
    k = float_out[0]
    nd = twin.weight.dim() - 2
    out = []
    for step in (1, -1):
        d = np.asarray(g_leaves[k])
        for axis in range(d.ndim - nd, d.ndim):
            d = np.roll(d, step, axis=axis)
            np.moveaxis(d, axis, 0)[0 if step > 0 else -1] = 0  # zero filled, not wrapped
        out.append((SHIFTED_BY_ONE.format(step=step), [*g_leaves[:k], d, *g_leaves[k + 1:]]))
    extra = tuple(getattr(twin, "output_padding", ()) or ())
    if any(extra):
        d = np.array(g_leaves[k], copy=True)
        for axis, e in enumerate(extra, start=d.ndim - len(extra)):
            if e:
                np.moveaxis(d, axis, 0)[-e:] = 0
        out.append((OUTPUT_PADDING_IGNORED, [*g_leaves[:k], d, *g_leaves[k + 1:]]))
    return out


def _kernel_slips(rerun: _TwinRerun, g_leaves: list) -> dict[str, np.ndarray]:
    """A convolution's input gradient with the kernel unflipped or transposed, or with
    zero padding in place of its ``padding_mode``."""
    twin = rerun.twin
    if not (isinstance(twin, torch.nn.modules.conv._ConvNd) and not twin.transposed
            and rerun.float_in):
        return {}
    w = rerun.params["weight"]
    out = {KERNEL_UNFLIPPED: rerun.vjp(g_leaves, {"weight": w.flip(tuple(range(2, w.dim())))}
                                       )[0][0]}
    if w.dim() >= 4 and w.shape[-1] == w.shape[-2]:
        swapped = w.transpose(-1, -2).flip((-2, -1))
        out[KERNEL_TRANSPOSED] = rerun.vjp(g_leaves, {"weight": swapped})[0][0]
    if twin.padding_mode != "zeros":  # torch pads in that mode, then convolves unpadded
        zeros = copy.deepcopy(twin)
        zeros.padding_mode = "zeros"
        out[PADDING_AS_ZEROS] = rerun.vjp(g_leaves, module=zeros)[0][0]
    return out


def _twin_hypotheses(module: Any, t_in: Any, rng_state: torch.Tensor, float_in: list[int],
                     float_out: list[int], g_leaves: list,
                     in_names: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """The slips that torch's twin can compute for any layer, by row name: each parameter's
    gradient from one share of the upstream gradient only (index 0 or the last of one
    output axis, the last position: :func:`~comparisons.core.alternatives.slice_upstreams`);
    an attention's softmax backward by the Jacobian's diagonal, an input read as key and
    value differentiated through the keys alone, a norm's statistics held constant
    (:func:`~comparisons.core.alternatives.context_alternatives`); for a convolution,
    every window read one position off, ``output_padding`` ignored, the kernel unflipped
    or transposed, zero padding in place of its ``padding_mode``. Each is a
    vector-Jacobian product of the twin rerun (:class:`_TwinRerun`)."""
    rerun = _TwinRerun(module, t_in, rng_state, float_in, float_out)
    inputs = [f"grad_{n}" for n in in_names]
    hypotheses: dict[str, dict[str, np.ndarray]] = {}

    def add(text: str, d_inputs: list[np.ndarray], d_params: dict[str, np.ndarray]) -> None:
        for name, grad in [*zip(inputs, d_inputs), *d_params.items()]:
            hypotheses.setdefault(name, {})[text] = grad

    for text, g in slice_upstreams(g_leaves) if rerun.params else []:  # parameters' sums
        add(text, [], rerun.vjp(g)[1])
    for text, g in _conv_upstreams(rerun.twin, g_leaves, float_out):
        add(text, *rerun.vjp(g))
    def run() -> dict[str, np.ndarray]:
        d_inputs, d_params = rerun.vjp(g_leaves)
        return {**dict(zip(inputs, d_inputs)), **d_params}

    # an attention's softmax by its diagonal, a key-and-value input through the keys, a
    # norm's statistics held constant: where the twin makes such a call
    for name, texts in context_alternatives(run).items():
        hypotheses.setdefault(name, {}).update(texts)
    for text, grad in _kernel_slips(rerun, g_leaves).items():
        add(text, [grad], {})
    return hypotheses


def _slip_hypotheses(layer: Any, inputs: tuple, dout: Any, grads: dict[str, np.ndarray],
                     float_inputs: list[np.ndarray], in_names: list[str],
                     upstream: list[np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """The gradients of the slips that need the layer's context, by row name: the
    upstream gradient returned as the input's (a layer with one float input and one float
    output of its shape), and the hypotheses of the layer's record (``LayerInfo.slips``,
    an embedding's overwritten rows)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    if len(float_inputs) == 1 and len(upstream) == 1 and (
            upstream[0].shape == float_inputs[0].shape):
        out[f"grad_{in_names[0]}"] = {PASSED_THROUGH: upstream[0]}
    record = record_slips(layer)
    if record is not None:
        for row, texts in record(layer, inputs, dout, grads).items():
            out.setdefault(row, {}).update(texts)
    return out


def _torch_values(module: Any, t_in: Any, t_out: Any, float_in: list[int], float_out: list[int],
                  g_leaves: list) -> dict[str, Any]:
    """What torch says, as NumPy: its outputs, the gradients of the float inputs and of the
    parameters under the upstream gradients ``g_leaves``, and its buffers."""
    t_out_leaves = _leaves(t_out)
    named = list(module.named_parameters())
    wrt = [_leaves(t_in)[k] for k in float_in] + [p for _, p in named]
    outs = [t_out_leaves[k] for k in float_out if t_out_leaves[k].requires_grad]
    gs = [torch.as_tensor(g_leaves[k]) for k in float_out if t_out_leaves[k].requires_grad]
    raw_grads = (torch.autograd.grad(outs, wrt, gs, allow_unused=True) if outs and wrt
                 else [None] * len(wrt))
    t_grads = [np.zeros(tuple(w.shape)) if g is None else g.numpy()
               for w, g in zip(wrt, raw_grads)]
    return {"outputs": [o.detach().numpy() for o in t_out_leaves],
            "inputs": t_grads[:len(float_in)],
            "params": {k: g for (k, _), g in zip(named, t_grads[len(float_in):])},
            "buffers": {k: v.detach().numpy() for k, v in module.named_buffers()}}


def _torch_comparisons(t: dict[str, Any], exact: dict[str, Any] | None, dtype: np.dtype,
                       out_leaves: list, out_names: list[str], in_names: list[str],
                       manual_grads_in: dict, grads: dict, buffers_after: dict,
                       slips: LazyAlternatives | None = None) -> list[Comparison]:
    """The torch rows: every output, the gradient of every float input and parameter, every
    buffer; in float32 each with its measured tolerance (``exact``: torch in float64)."""
    tol = tolerance_for(dtype, "torch")
    e = exact or {"outputs": [None] * len(t["outputs"]), "inputs": [None] * len(t["inputs"]),
                  "params": {}, "buffers": {}}
    comps = [compare_arrays(out_leaves[k], ref, measured_tolerance(tol, ref, e["outputs"][k]),
                            out_names[k]) for k, ref in enumerate(t["outputs"])]
    for n, ref, ex in zip(in_names, t["inputs"], e["inputs"]):
        comps.append(_grad_compare(manual_grads_in.get(n), ref, measured_tolerance(tol, ref, ex),
                                   f"grad_{n}", slips))
    for k, ref in t["params"].items():
        comps.append(_grad_compare(grads.get(k), ref,
                                   measured_tolerance(tol, ref, e["params"].get(k)), k, slips))
    for k, v in buffers_after.items():
        ref = t["buffers"].get(k)
        comps.append(_grad_compare(v, ref, measured_tolerance(tol, ref, e["buffers"].get(k)), k))
    return comps


def _grad_compare(manual: Any, ref: Any, tol: Any, name: str,
                  slips: LazyAlternatives | None = None) -> Comparison:
    """compare_arrays, with a failing row (and a note) when one side has no value;
    ``slips``: the hypotheses of the layer's context, for a failing row's diagnosis."""
    if manual is None or ref is None:
        side = "manual layer" if manual is None else "torch twin"
        return Comparison(name=name, shape=(), size=0, err_over_tol=np.inf, worst_index=None,
                          manual_value=np.nan, reference_value=np.nan, worst_abs_err=np.inf,
                          worst_rel_err=np.inf, max_abs_err=np.inf, max_rel_err=np.inf,
                          n_bad=1, rtol=tol.rtol, atol=tol.atol, passed=False,
                          note=f"{name}: the {side} has no value for it")
    return compare_arrays(manual, ref, tol, name, None if slips is None else slips.of(name))


def _torch_free_rows(layer: Any, inputs: tuple, in_leaves: list, float_in: list[int],
                     in_names: list[str], out: Any, g_leaves: list, manual_grads_in: dict,
                     grads: dict, buffers_before: dict, oracles: tuple, info: dict,
                     seed: int, slips: LazyAlternatives | None = None
                     ) -> list[dict[str, Any]]:
    """fd and Taylor rows of L = sum_k <g_k, y_k> in float64 (through ``astype`` for a
    float32 layer), over the float inputs and the parameters; the buffers are restored
    before every evaluation so that running statistics do not drift. The Taylor directions
    come from ``seed + 1``: drawn from the upstream gradient's own seed, the first direction
    would be parallel to g, and for a linear layer a transposed Jacobian J^T can satisfy
    <g, J v> = <g, J^T v> exactly along v = g."""
    dtype = np.dtype(info["dtype"])
    twin = layer if dtype == np.float64 else layer.astype(np.float64)
    # every evaluation starts from the buffers the layer started from (cast to float64)
    saved = {k: np.asarray(v).astype(twin.buffers[k].dtype) for k, v in buffers_before.items()}
    leaves64 = [a.astype(np.float64) if _is_float(a) else a for a in in_leaves]
    g64 = [None if g is None else g.astype(np.float64) for g in g_leaves]
    variables = {f"grad_{n}": leaves64[k] for n, k in zip(in_names, float_in)}
    variables.update(twin.params)  # the live arrays: perturbed in place, restored exactly

    def loss() -> float:
        _restore(twin.buffers, saved)
        y = twin.forward(*_rebuild(inputs, iter(leaves64)))
        return float(sum(np.sum(g * o) for g, o in zip(g64, _leaves(y)) if g is not None))

    manual = {f"grad_{n}": manual_grads_in.get(n) for n in in_names}
    manual.update({k: grads.get(k) for k in twin.params})
    rows: list[dict[str, Any]] = []
    if "fd" in oracles:
        fd = finite_difference_gradients(loss, variables)
        tol = tolerance_for(dtype, "fd")
        rows.extend({**info, "oracle": "fd", **_grad_compare(manual[k], fd[k], tol, k,
                                                             slips).row()}
                    for k in variables)
    if "taylor" in oracles:
        if twin is layer:
            grads64 = manual
        else:  # the float64 twin's own gradient: float32 rounding would leave a linear term
            _restore(twin.buffers, saved)
            y = twin.forward(*_rebuild(inputs, iter(leaves64)))
            dx = twin.backward(_rebuild(y, iter(g64)))
            grads64 = dict(zip([f"grad_{n}" for n in in_names],
                               [d for d in _leaves(dx) if d is not None]))
            grads64.update(twin.grads)
        live = {k: v for k, v in variables.items() if v.size and grads64.get(k) is not None}
        rows.extend({**info, "oracle": "taylor", **row}
                    # only live's names are read, and those have an array in grads64
                    for row in taylor_rows(loss, live, cast("dict[str, np.ndarray]", grads64),
                                           seed=seed + 1))
    _restore(twin.buffers, saved)
    return rows


# --------------------------------------------------------------------------------------
# a Sequential with a loss
# --------------------------------------------------------------------------------------
def compare_sequential(net: Any, X: np.ndarray, y: np.ndarray, *, case: str = "custom",
                       oracles: Iterable[str] = ("torch", "vjp", "fd", "taylor"),
                       arch: str = "") -> list[dict[str, Any]]:
    """Compare a manual ``Sequential`` with a loss against the ``nn.Sequential`` of torch's
    modules (:class:`comparisons.run.bridge.TorchSequential`), as the MLP is compared.

    Rows: the loss and every parameter gradient per oracle (``torch``, ``vjp``, ``fd``,
    ``taylor``, from :func:`comparisons.run.networks.compare_network`, whose torch rows name the
    first diverging layer on a failure), and every buffer (batch norm's running statistics)
    against torch after the same forward passes on both sides. The network's buffers are
    restored after the finite differences."""
    oracles = tuple(oracles)
    dtype = np.dtype(net.dtype)
    with one_thread():
        tnet = TorchSequential(net) if {"torch", "vjp"} & set(oracles) else None
        rows = compare_network(net, X, y, case=case, reference_net=tnet,
                               oracles=[o for o in oracles if o in ("torch", "vjp")])
        after = _snapshot(net.buffers)
        if tnet is not None and after:
            tol = tolerance_for(dtype, "torch")
            ref = tnet.buffers()
            comps = [_grad_compare(v, ref.get(k), tol, k) for k, v in after.items()]
            rows += [{"case": case, "kind": "network", "dtype": dtype.name, "oracle": "torch",
                      **c.row(), "status": "pass" if c.passed else "fail"} for c in comps]
        free = [o for o in oracles if o in ("fd", "taylor")]
        if free:
            rows += compare_network(net, X, y, case=case, oracles=free)
        _restore(net.buffers, after)
    loss = getattr(getattr(net, "loss_fn", None), "name", "")
    sizes = "x".join(map(str, np.shape(X)))
    for row in rows:
        row.update({"activation": "", "output_activation": "", "loss": loss, "arch": arch,
                    "sizes": sizes})
    return rows


# --------------------------------------------------------------------------------------
# the case table
# --------------------------------------------------------------------------------------
def run_layer_case(case: Any, oracles: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Build ``case``'s layer and inputs from its seed and compare against its oracles
    (``oracles`` narrows the case's own list)."""
    use = tuple(o for o in case.oracles if oracles is None or o in tuple(oracles))
    # dropout draws its masks from torch's global generator: seeded here, a case's numbers
    # do not depend on what ran before it (nor on which worker process runs it)
    seed_torch(case.seed)
    layer = case.build()
    return compare_layer(layer, case.inputs(), oracles=use, case=case.id, seed=case.seed,
                         **case_names(case))


def case_names(case: Any) -> dict[str, Any]:
    """The row names a case may give its inputs and outputs (``input_names``,
    ``output_names``: ``grad_query`` reads better than ``grad_input0``)."""
    return {k: getattr(case, k) for k in ("input_names", "output_names")
            if getattr(case, k, None) is not None}


def run_network_case(case: Any, oracles: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Build ``case``'s Sequential and data and compare it like the MLP."""
    use = tuple(o for o in case.oracles if oracles is None or o in tuple(oracles))
    seed_torch(case.seed)  # as run_layer_case: dropout's masks from this seed only
    net = case.build()
    X, y = case.data()
    return compare_sequential(net, X, y, case=case.id, oracles=use, arch=case.arch)


def run_layer_cases(layer_cases: Iterable[Any], network_cases: Iterable[Any] = (),
                    oracles: Iterable[str] | None = None) -> pd.DataFrame:
    """All rows of the layer and network cases as a DataFrame with fixed columns."""
    rows = [r for c in layer_cases for r in run_layer_case(c, oracles)]
    rows += [r for c in network_cases for r in run_network_case(c, oracles)]
    return pd.DataFrame(rows, columns=ROW_COLUMNS)

