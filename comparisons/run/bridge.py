"""The bridge bound to the records: the torch twin of a manual object, built with the
builders the layer records name (:data:`comparisons.cases.catalog.LAYER_INFOS`, read on every
call) and the keyword arguments the component records document
(:data:`comparisons.cases.components.COMPONENTS`).

- :func:`torch_twin`, :func:`twin_name`, :func:`twin_syncs`: a layer's twin
  (:func:`comparisons.twins.layers.build_twin` with the records' builders);
- :class:`TorchSequential`: the torch side of a manual ``Sequential`` with a loss;
- :class:`MLPTwin`: the torch twin of a :class:`manual.MLP`;
- :func:`torch_kwargs`: torch's keyword arguments for a manual activation or loss.

It lives in ``comparisons/``, because ``reference/`` (the oracle) must import nothing from
``manual/`` and ``manual/`` must never import torch. What does not read the records sits
below them, in :mod:`comparisons.twins.layers` (the layer builders, weight copying, state
conversion).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

import numpy as np
import torch
from torch import nn

import reference
from comparisons.cases import catalog
from comparisons.cases.components import COMPONENTS
from comparisons.cases.info import LayerSlips, TwinBuilder, TwinSync, slips_of, syncs_of, twins_of
from comparisons.twins.layers import build_twin, module_state, torch_dtype
from comparisons.twins.layers import twin_name as _twin_name
from comparisons.twins.state import extra_inputs, manual_named_parameters

__all__ = ["MLPTwin", "TorchSequential", "record_slips", "torch_kwargs", "torch_twin",
           "twin_builders", "twin_name", "twin_syncs"]

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


def record_slips(layer: Any) -> LayerSlips | None:
    """The slip hypotheses (``LayerInfo.slips``) of the record of ``layer``'s class, or of
    its nearest base that has a record with them (a negative control, a student's
    subclass); None if none."""
    found = slips_of(catalog.LAYER_INFOS)
    return next((found[c.__name__] for c in type(layer).__mro__ if c.__name__ in found), None)


def twin_name(layer: Any) -> str:
    """The name the twin is looked up by: the layer's class name, or, for a subclass of a
    known layer (a student's variant, a negative control), the nearest known base's."""
    return _twin_name(layer, twin_builders())


def torch_twin(layer: Any, dtype: Any = None, *,
               builders: Mapping[str, TwinBuilder] | None = None) -> nn.Module:
    """The torch module matching ``layer`` (:func:`comparisons.twins.layers.build_twin`), with the
    builders of the layer records, or ``builders`` (class name -> builder) instead."""
    return build_twin(layer, dtype, twin_builders() if builders is None else builders)


class TorchSequential:
    """The torch side of a manual ``Sequential`` with a loss, for
    :func:`comparisons.run.networks.compare_network`: ``nn.Sequential`` of torch's own modules
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
            for sub in self.module]  # type: ignore[attr-defined]  # a Sequential's twin
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
    info = None if name is None else COMPONENTS.get(name)
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


class MLPTwin(reference.MLP):
    """The torch twin of a :class:`manual.MLP`: a :class:`reference.MLP` with the manual
    parameters copied in, and :meth:`gradients`/:meth:`vjp` read back under the manual
    names and (in, out) layout."""

    intermediates: dict[str, np.ndarray]

    @property
    def device(self) -> torch.device:
        """Where the twin's parameters live (``--device``)."""
        return cast(torch.Tensor, self.linears[0].weight).device  # an item is typed Module

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
        # a ModuleList's items are typed Module; these are the MLP's nn.Linear layers
        for l, lin in enumerate(cast("Iterable[nn.Linear]", self.linears), start=1):
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
        # J.backward() gave every parameter its .grad (the loss uses them all)
        grads = {k: (p.grad.detach().cpu().numpy().T if transposed  # type: ignore[union-attr]
                     else p.grad.detach().cpu().numpy()).copy()  # type: ignore[union-attr]
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
