"""The bridge between the two sides: building the torch twin of a manual object, copying
weights and buffers across, converting states and histories.

It lives here, in ``comparisons/``, because ``reference/`` (the oracle) must import nothing
from ``manual/`` and ``manual/`` must never import torch. The twins of single layers are
built in :mod:`comparisons.twins`, from the builders the layer records name
(:data:`comparisons.cases.catalog.LAYER_INFOS`, read on every call).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

import reference
from comparisons.cases import catalog
from comparisons.cases.components import COMPONENTS
from comparisons.cases.info import TwinBuilder, TwinSync, syncs_of, twins_of
from comparisons.twins import (MHA_DROPOUT_SEED, TorchLastTimeStep, build_twin,
                               load_manual_state, module_state, torch_dtype,
                               torch_rnn_dropout_masks)
from comparisons.twins import twin_name as _twin_name
from manual.training import History, flat_state

__all__ = ["MHA_DROPOUT_SEED", "TorchLastTimeStep", "TorchSequential", "load_manual_state",
           "module_state", "torch_dtype", "torch_rnn_dropout_masks", "torch_twin",
           "twin_builders", "twin_name", "twin_syncs"]
__all__ += ["MLPTwin", "extra_inputs", "history_from_record", "manual_named_parameters",
            "optimizer_from_manual", "schedule_from_manual", "state_as_manual", "torch_kwargs",
            "torch_names", "train_twin"]

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


# --------------------------------------------------------------------------------------
# layers and Sequential models (the layer protocol of manual.layers)
# --------------------------------------------------------------------------------------
def twin_builders() -> dict[str, TwinBuilder]:
    """class name -> twin builder, from the layer records (those whose twin is not simply
    ``getattr(torch.nn, name)(**layer.config, dtype=dtype)``: recurrent layers, attention,
    …)."""
    return twins_of(catalog.LAYER_INFOS)


def twin_syncs() -> dict[str, TwinSync]:
    """class name -> ``sync(layer, module, torch_inputs, torch_outputs)``, from the layer
    records: called by the layer comparison after torch's forward and before the manual
    forward, for what torch draws and NumPy cannot reproduce (dropout's mask)."""
    return syncs_of(catalog.LAYER_INFOS)


def twin_name(layer: Any) -> str:
    """The name the twin is looked up by: the layer's class name, or, for a subclass of a
    known layer (a student's variant, a negative control), the nearest known base's."""
    return _twin_name(layer, twin_builders())


def torch_twin(layer: Any, dtype: Any = None, *,
               builders: Mapping[str, TwinBuilder] | None = None) -> nn.Module:
    """The torch module matching ``layer`` (:func:`comparisons.twins.build_twin`), with the
    builders of the layer records, or ``builders`` (class name -> builder) instead."""
    return build_twin(layer, dtype, twin_builders() if builders is None else builders)


class TorchSequential:
    """The torch side of a manual ``Sequential`` with a loss, for
    :func:`comparisons.runner.compare_network`: ``nn.Sequential`` of torch's own modules
    (:func:`torch_twin`) and torch's loss from :mod:`reference.losses`.

    ``gradients(X, y)`` and ``vjp(X, g)`` return gradients keyed like the manual
    ``params`` (``0.weight``, …); ``intermediates`` (filled by forward hooks and
    ``retain_grad``) uses the keys of ``manual.layers.Sequential.intermediates``
    (``"0.Conv2d"``, …, ``"loss"``, ``"dJ/d(output)"``, ``"dJ/d(input of 3.Linear)"``), so
    that the first diverging layer is named.
    """

    def __init__(self, net: Any) -> None:
        self.net_dtype = np.dtype(net.dtype)
        self.dtype = torch_dtype(self.net_dtype)
        self.module = torch_twin(net, self.net_dtype)
        self.keys = [f"{i}.{type(sub).__name__}" for i, sub in enumerate(net.layers)]
        loss = getattr(net, "loss_fn", None)
        self.loss_fn = None
        if loss is not None:
            name = getattr(loss, "name", None)
            if not isinstance(name, str):
                raise TypeError(f"the network's loss needs a .name naming its torch "
                                f"counterpart, got {loss!r}")
            # torch_kwargs: the arguments the loss was given, weights as tensors (MLP section)
            self.loss_fn = reference.losses.get(name, **torch_kwargs(loss, self.net_dtype),
                                                **extra_inputs(loss))
        self.intermediates: dict[str, np.ndarray] = {}

    def buffers(self) -> dict[str, np.ndarray]:
        return module_state(self.module)[1]

    def _forward(self, X: Any) -> tuple[torch.Tensor, list[torch.Tensor]]:
        outputs: list[torch.Tensor] = []
        # a recurrent module returns (output, h_n): its output is what is recorded
        hooks = [sub.register_forward_hook(
            lambda m, i, o: outputs.append(o[0] if isinstance(o, tuple) else o))
            for sub in self.module]
        try:
            X = np.asarray(X)  # integer inputs (an embedding's indices) stay int64
            out = self.module(torch.as_tensor(X, dtype=torch.int64 if X.dtype.kind in "iu"
                                              else self.dtype))
        finally:
            for h in hooks:
                h.remove()
        return out, outputs

    def target_tensor(self, y: Any) -> torch.Tensor:
        y = np.asarray(y)
        if y.dtype.kind in "iu":
            return torch.as_tensor(y, dtype=torch.int64)
        return torch.as_tensor(y, dtype=self.dtype)

    def gradients(self, X: Any, y: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(loss, grads)`` by autograd through torch's loss; fills ``intermediates``."""
        if self.loss_fn is None:
            raise RuntimeError("TorchSequential.gradients: the manual network has no loss")
        self.module.zero_grad(set_to_none=True)
        out, outputs = self._forward(X)
        for t in outputs:
            if t.requires_grad:
                t.retain_grad()
        J = self.loss_fn(out, self.target_tensor(y))
        J.backward()
        trace = {k: t.detach().numpy().copy() for k, t in zip(self.keys, outputs)}
        trace["loss"] = J.detach().numpy().copy()

        def grad_of(t: torch.Tensor) -> np.ndarray:
            return np.zeros(tuple(t.shape)) if t.grad is None else t.grad.numpy().copy()

        trace["dJ/d(output)"] = grad_of(outputs[-1])
        for i in range(len(outputs) - 1, 0, -1):  # the input of layer i is the output of i-1
            trace[f"dJ/d(input of {self.keys[i]})"] = grad_of(outputs[i - 1])
        self.intermediates = trace
        grads = {k: (np.zeros(tuple(p.shape)) if p.grad is None else p.grad.numpy().copy())
                 for k, p in self.module.named_parameters()}
        return J.detach().numpy()[()], grads

    def vjp(self, X: Any, grad_out: np.ndarray) -> dict[str, np.ndarray]:
        """Autograd's vector–Jacobian product of the network output with ``grad_out``
        (no loss), keyed like the manual ``params``."""
        out, _ = self._forward(X)
        named = list(self.module.named_parameters())
        vjps = torch.autograd.grad(out, [p for _, p in named],
                                   torch.as_tensor(grad_out, dtype=self.dtype),
                                   allow_unused=True)
        return {k: (np.zeros(tuple(p.shape)) if g is None else g.numpy().copy())
                for (k, p), g in zip(named, vjps)}


# --------------------------------------------------------------------------------------
# the MLP, optimizer state and training histories
# --------------------------------------------------------------------------------------
# The torch twin of a manual.MLP is a reference.MLP (nn.Linear layers, torch's activations
# and loss) holding exact copies of the manual parameters: torch stores a weight (out, in),
# the manual network (in, out), so every copy transposes. Gradients, intermediates and
# optimizer state are read back under the manual names (W1, b1, ..., z1, a1, dJ/da1, ...)
# and layout, and a torch training record becomes a manual.training.History.



def torch_kwargs(component: Any, dtype: Any = None, device: Any = None) -> dict[str, Any]:
    """The keyword arguments torch's callable gets for a manual activation or loss: only
    those the caller passed (``explicit_kwargs``), so that torch's own defaults meet ours,
    plus those whose default the case table documents as different from torch's (softmax's
    ``dim``); NumPy arrays (weights) become tensors of ``dtype``. An object without
    ``explicit_kwargs`` (a student's own) gives all of its ``kwargs``."""
    name = getattr(component, "name", None)
    kwargs = dict(getattr(component, "explicit_kwargs", getattr(component, "kwargs", {})) or {})
    info = COMPONENTS.get(name)
    if info is not None:
        merged = getattr(component, "kwargs", {}) or {}
        kwargs.update({k: merged[k] for k in info.default_differences
                       if k in merged and k not in kwargs})
    torch_dtype = None if dtype is None else torch.from_numpy(np.zeros(0, dtype)).dtype
    return {k: torch.as_tensor(v, dtype=torch_dtype, device=device)
            if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


def _name_and_kwargs(obj: Any, what: str, device: Any = None) -> tuple[str, dict[str, Any]]:
    """``name`` and torch's keyword arguments (:func:`torch_kwargs`) of a manual activation
    or loss (or a student's own)."""
    name = getattr(obj, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"the network's {what} needs a .name attribute naming its torch "
                        f"counterpart, got {obj!r}")
    return name, torch_kwargs(obj, device=device)


def extra_inputs(loss: Any) -> dict[str, Any]:
    """A manual loss's inputs beyond ``(pred, target)``, with the defaults of its
    ``forward`` (gaussian_nll: ``{"var": 1.0}``): torch's loss takes them as arguments."""
    try:
        params = inspect.signature(loss.forward).parameters
    except (TypeError, ValueError):
        return {}
    return {k: p.default for k, p in list(params.items())[2:]
            if p.default is not inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


class MLPTwin(reference.MLP):
    """The torch twin of a :class:`manual.MLP`: a :class:`reference.MLP` with the manual
    parameters copied in, and :meth:`gradients`/:meth:`vjp` read back under the manual
    names and (in, out) layout."""

    intermediates: dict[str, np.ndarray]

    @property
    def device(self) -> torch.device:
        """Where the twin's parameters live (``--device``)."""
        return self.linears[0].weight.device

    @classmethod
    def from_manual(cls, net: Any, device: torch.device | str = "cpu") -> MLPTwin:
        """A torch network holding exact copies of ``net.params`` (W transposed to (out, in)),
        on ``device`` (``"cpu"`` or ``"cuda"``)."""
        params = net.params
        n_layers = len(params) // 2
        sizes = [params["W1"].shape[0]] + [params[f"W{l}"].shape[1]
                                           for l in range(1, n_layers + 1)]
        act, act_kw = _name_and_kwargs(net.activation, "activation", device)
        out, out_kw = _name_and_kwargs(net.output_activation, "output activation", device)
        loss, loss_kw = _name_and_kwargs(net.loss_fn, "loss", device)
        dtype = _TORCH_DTYPES[np.dtype(params["W1"].dtype)]
        tnet = cls(sizes, act, out, loss, dtype=dtype, activation_kwargs=act_kw,
                   output_activation_kwargs=out_kw,
                   loss_kwargs={**loss_kw, **extra_inputs(net.loss_fn)})
        tnet.to(device)
        tnet.intermediates = {}
        tnet.load_manual_params(params)
        return tnet

    @torch.no_grad()
    def load_manual_params(self, params: Mapping[str, np.ndarray]) -> None:
        """Copy manual parameters in: ``weight = W.T`` (torch stores (out, in)), ``bias = b``."""
        for l, lin in enumerate(self.linears, start=1):
            W, b = params[f"W{l}"], params[f"b{l}"]
            if W.T.shape != tuple(lin.weight.shape) or b.shape != tuple(lin.bias.shape):
                raise ValueError(f"W{l}/b{l} have shapes {W.shape}/{b.shape}, expected "
                                 f"{tuple(lin.weight.shape[::-1])}/{tuple(lin.bias.shape)}")
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))  # copy_ moves it
            lin.bias.copy_(torch.from_numpy(b))

    def manual_params(self) -> dict[str, np.ndarray]:
        """The parameters under the manual names and layout, as NumPy copies."""
        return {k: (p.detach().cpu().numpy().T if transposed else p.detach().cpu().numpy()).copy()
                for k, (p, transposed) in manual_named_parameters(self).items()}

    def gradients(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(loss, grads)`` by autograd, grads under the manual names and (in, out) layout.

        Also fills ``intermediates`` with the keys :class:`manual.MLP` uses (``z1, a1, ...,
        loss``, then ``dJ/daL, dJ/dzL, ...``)."""
        self.zero_grad(set_to_none=True)
        out = self(torch.as_tensor(np.asarray(X), dtype=self.dtype, device=self.device))
        for t in self.trace.values():
            if t.requires_grad:
                t.retain_grad()
        J = self.loss_fn(out, self.target_tensor(y))
        J.backward()
        trace = {k: v.detach().cpu().numpy().copy() for k, v in self.trace.items()}
        trace["loss"] = J.detach().cpu().numpy().copy()
        for l in range(len(self.linears), 0, -1):
            for key in (f"a{l}", f"z{l}"):
                g = self.trace[key].grad
                trace[f"dJ/d{key}"] = (np.zeros_like(trace[key]) if g is None
                                       else g.detach().cpu().numpy().copy())
        self.intermediates = trace
        grads = {k: (p.grad.detach().cpu().numpy().T if transposed
                     else p.grad.detach().cpu().numpy()).copy()
                 for k, (p, transposed) in manual_named_parameters(self).items()}
        return J.detach().cpu().numpy()[()], grads

    def vjp(self, X: np.ndarray, grad_out: np.ndarray) -> dict[str, np.ndarray]:
        """Autograd's vector–Jacobian product of the network output with ``grad_out``
        (no loss), under the manual names and (in, out) layout."""
        out = self(torch.as_tensor(np.asarray(X), dtype=self.dtype, device=self.device))
        named = manual_named_parameters(self)
        vjps = torch.autograd.grad(out, [p for p, _ in named.values()],
                                   torch.as_tensor(grad_out, dtype=self.dtype,
                                                   device=self.device))
        return {k: (g.cpu().numpy().T if transposed else g.cpu().numpy()).copy()
                for (k, (_, transposed)), g in zip(named.items(), vjps)}


def manual_named_parameters(tnet: Any) -> dict[str, tuple[torch.nn.Parameter, bool]]:
    """``{"W1": (weight, True), "b1": (bias, False), ...}`` for a :class:`reference.MLP`:
    each torch parameter under its manual name, with whether it is stored transposed
    (torch's (out, in) against the manual (in, out))."""
    out: dict[str, tuple[torch.nn.Parameter, bool]] = {}
    for l, lin in enumerate(tnet.linears, start=1):
        out[f"W{l}"] = (lin.weight, True)
        out[f"b{l}"] = (lin.bias, False)
    return out


def torch_names(tnet: Any) -> dict[str, str]:
    """manual parameter name -> torch's ``named_parameters`` name (``W1`` ->
    ``linears.0.weight``)."""
    by_id = {id(p): k for k, p in tnet.named_parameters()}
    return {k: by_id[id(p)] for k, (p, _) in manual_named_parameters(tnet).items()}


def optimizer_from_manual(optimizer: Any, tnet: Any) -> torch.optim.Optimizer:
    """The torch optimizer matching a manual one (its ``name`` and the arguments it was
    given), over ``tnet``'s parameters in the manual order."""
    name = getattr(optimizer, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"the optimizer needs a .name naming its torch counterpart, got "
                        f"{optimizer!r}")
    params = [p for p, _ in manual_named_parameters(tnet).values()]
    return reference.optimizers.get(name, params, **_given(optimizer))


def schedule_from_manual(schedule: Any, optimizer: torch.optim.Optimizer):
    """The torch schedule matching a manual one (its ``name`` and the arguments it was
    given)."""
    return reference.schedules.get(schedule.name, optimizer, **_given(schedule))


def _given(obj: Any) -> dict[str, Any]:
    """The arguments a manual optimizer or schedule was built with (``explicit_kwargs``):
    torch's own defaults fill the rest, so that a wrong default of ours shows (an object
    without them, a student's own: all of its ``kwargs``)."""
    if hasattr(obj, "explicit_kwargs"):
        return dict(obj.explicit_kwargs)
    return dict(getattr(obj, "kwargs", {}) or {})


def _to_numpy(value: Any, transpose: bool) -> Any:
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        value = value.detach().numpy()
    a = np.array(value, copy=True)
    return a.T.copy() if transpose and a.ndim == 2 else a


def state_as_manual(optimizer: torch.optim.Optimizer,
                    named: Mapping[str, tuple[torch.nn.Parameter, bool]]
                    ) -> dict[str, dict[str, Any]]:
    """``optimizer.state`` under the manual names: ``{"W1": {"exp_avg": (in, out) array,
    "step": 0-d array, ...}, ...}``; parameters without state are left out."""
    out: dict[str, dict[str, Any]] = {}
    for name, (p, transpose) in named.items():
        st = optimizer.state.get(p)
        if st:
            out[name] = {k: _to_numpy(v, transpose) for k, v in st.items()}
    return out


def train_twin(tnet: MLPTwin, X: np.ndarray, y: np.ndarray, optimizer: torch.optim.Optimizer,
               order: list[list[np.ndarray]], scheduler: Any = None, *,
               schedule_every: str = "step", freeze: Mapping[str, Iterable[int]] | None = None,
               record: bool = False, clip_grad_norm: float | None = None,
               clip_grad_value: float | None = None) -> History:
    """:func:`reference.training.train` on the twin, with ``freeze`` in the manual names
    (checked against them), its record returned as a manual :class:`~manual.training.History`."""
    names = torch_names(tnet)
    unknown = [k for k in (freeze or {}) if k not in names]
    if unknown:
        raise ValueError(f"train: freeze names unknown parameter(s) "
                         f"{', '.join(map(repr, unknown))}; the parameters: {', '.join(names)}")
    rec = reference.training.train(
        tnet, X, y, optimizer, order, scheduler, schedule_every=schedule_every,
        freeze={names[k]: v for k, v in (freeze or {}).items()}, record=record,
        clip_grad_norm=clip_grad_norm, clip_grad_value=clip_grad_value)
    return history_from_record(rec, tnet, order)


def history_from_record(rec: Any, tnet: MLPTwin, order: list[list[np.ndarray]]) -> History:
    """A torch :class:`reference.training.Record` in the manual names and layout."""
    names = torch_names(tnet)
    transposed = {k: t for k, (_, t) in manual_named_parameters(tnet).items()}
    history = History(np.array(rec.loss, dtype=np.float64), np.array(rec.lr, dtype=np.float64),
                      np.array(rec.epoch, dtype=int), order)
    for params, state in zip(rec.params, rec.state):
        history.params.append({k: _to_numpy(params[names[k]], transposed[k]) for k in names})
        history.state.append(flat_state({k: {key: _to_numpy(v, transposed[k])
                                                for key, v in state[names[k]].items()}
                                            for k in names if names[k] in state}))
    return history
