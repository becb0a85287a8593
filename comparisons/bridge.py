"""The bridge between the two sides: building the torch twin of a manual object, copying
weights and buffers across, converting states and histories.

It lives here, in ``comparisons/``, because ``reference/`` (the oracle) must import nothing
from ``manual/`` and ``manual/`` must never import torch.
"""

from __future__ import annotations

# --------------------------------------------------------------------------------------
# layers and Sequential models (the layer protocol of manual.layers)
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# the MLP, optimizer state and training histories
# --------------------------------------------------------------------------------------
# The torch twin of a manual.MLP is a reference.MLP (nn.Linear layers, torch's activations
# and loss) holding exact copies of the manual parameters: torch stores a weight (out, in),
# the manual network (in, out), so every copy transposes. Gradients, intermediates and
# optimizer state are read back under the manual names (W1, b1, ..., z1, a1, dJ/da1, ...)
# and layout, and a torch training record becomes a manual.training.History.

import inspect  # noqa: E402  (each section keeps its own imports)
from collections.abc import Iterable, Mapping  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import reference  # noqa: E402
from comparisons.cases.components import COMPONENTS  # noqa: E402
from manual.training import History, flat_state  # noqa: E402

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def torch_kwargs(component: Any, dtype: Any = None) -> dict[str, Any]:
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
    return {k: torch.as_tensor(v, dtype=torch_dtype) if isinstance(v, np.ndarray) else v
            for k, v in kwargs.items()}


def _name_and_kwargs(obj: Any, what: str) -> tuple[str, dict[str, Any]]:
    """``name`` and torch's keyword arguments (:func:`torch_kwargs`) of a manual activation
    or loss (or a student's own)."""
    name = getattr(obj, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"the network's {what} needs a .name attribute naming its torch "
                        f"counterpart, got {obj!r}")
    return name, torch_kwargs(obj)


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

    @classmethod
    def from_manual(cls, net: Any) -> MLPTwin:
        """A torch network holding exact copies of ``net.params`` (W transposed to (out, in))."""
        params = net.params
        n_layers = len(params) // 2
        sizes = [params["W1"].shape[0]] + [params[f"W{l}"].shape[1]
                                           for l in range(1, n_layers + 1)]
        act, act_kw = _name_and_kwargs(net.activation, "activation")
        out, out_kw = _name_and_kwargs(net.output_activation, "output activation")
        loss, loss_kw = _name_and_kwargs(net.loss_fn, "loss")
        dtype = _TORCH_DTYPES[np.dtype(params["W1"].dtype)]
        tnet = cls(sizes, act, out, loss, dtype=dtype, activation_kwargs=act_kw,
                   output_activation_kwargs=out_kw,
                   loss_kwargs={**loss_kw, **extra_inputs(net.loss_fn)})
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
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            lin.bias.copy_(torch.from_numpy(b))

    def manual_params(self) -> dict[str, np.ndarray]:
        """The parameters under the manual names and layout, as NumPy copies."""
        return {k: (p.detach().numpy().T if transposed else p.detach().numpy()).copy()
                for k, (p, transposed) in manual_named_parameters(self).items()}

    def gradients(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(loss, grads)`` by autograd, grads under the manual names and (in, out) layout.

        Also fills ``intermediates`` with the keys :class:`manual.MLP` uses (``z1, a1, ...,
        loss``, then ``dJ/daL, dJ/dzL, ...``)."""
        self.zero_grad(set_to_none=True)
        out = self(torch.as_tensor(np.asarray(X), dtype=self.dtype))
        for t in self.trace.values():
            if t.requires_grad:
                t.retain_grad()
        J = self.loss_fn(out, self.target_tensor(y))
        J.backward()
        trace = {k: v.detach().numpy().copy() for k, v in self.trace.items()}
        trace["loss"] = J.detach().numpy().copy()
        for l in range(len(self.linears), 0, -1):
            for key in (f"a{l}", f"z{l}"):
                g = self.trace[key].grad
                trace[f"dJ/d{key}"] = (np.zeros_like(trace[key]) if g is None
                                       else g.detach().numpy().copy())
        self.intermediates = trace
        grads = {k: (p.grad.detach().numpy().T if transposed else p.grad.detach().numpy()).copy()
                 for k, (p, transposed) in manual_named_parameters(self).items()}
        return J.detach().numpy()[()], grads

    def vjp(self, X: np.ndarray, grad_out: np.ndarray) -> dict[str, np.ndarray]:
        """Autograd's vector–Jacobian product of the network output with ``grad_out``
        (no loss), under the manual names and (in, out) layout."""
        out = self(torch.as_tensor(np.asarray(X), dtype=self.dtype))
        named = manual_named_parameters(self)
        vjps = torch.autograd.grad(out, [p for p, _ in named.values()],
                                   torch.as_tensor(grad_out, dtype=self.dtype))
        return {k: (g.numpy().T if transposed else g.numpy()).copy()
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
               record: bool = False) -> History:
    """:func:`reference.training.train` on the twin, with ``freeze`` in the manual names
    (checked against them), its record returned as a manual :class:`~manual.training.History`."""
    names = torch_names(tnet)
    unknown = [k for k in (freeze or {}) if k not in names]
    if unknown:
        raise ValueError(f"train: freeze names unknown parameter(s) "
                         f"{', '.join(map(repr, unknown))}; the parameters: {', '.join(names)}")
    rec = reference.training.train(
        tnet, X, y, optimizer, order, scheduler, schedule_every=schedule_every,
        freeze={names[k]: v for k, v in (freeze or {}).items()}, record=record)
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
