"""The state of a torch twin in the manual names and layout: a :class:`reference.MLP`'s
parameters under the manual names (torch stores a weight (out, in), the manual network
(in, out)), the torch optimizer and schedule matching manual ones, optimizer state and
training records converted back (:func:`state_as_manual`, :func:`history_from_record`), and
a manual loss's extra inputs (:func:`extra_inputs`). Nothing here reads the records: the
twin of a manual network itself is built in :mod:`comparisons.run.bridge`.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

import numpy as np
import torch

import reference
from manual.training import History, flat_state

__all__ = ["extra_inputs", "float64_data", "float64_shadow", "history_from_record",
           "manual_named_parameters", "optimizer_from_manual", "schedule_from_manual",
           "state_as_manual", "torch_names", "train_twin"]


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


def train_twin(tnet: reference.MLP, X: np.ndarray, y: np.ndarray, optimizer: torch.optim.Optimizer,
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


def history_from_record(rec: Any, tnet: reference.MLP, order: list[list[np.ndarray]]) -> History:
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


def _float64_callable(fn: Any) -> Any:
    """A torch loss or activation bound with ``functools.partial``: its tensor arguments
    (a class weight) in float64."""
    if not isinstance(fn, partial):
        return fn
    keywords = {k: v.double() if isinstance(v, torch.Tensor) and v.is_floating_point() else v
                for k, v in fn.keywords.items()}
    return partial(fn.func, *fn.args, **keywords)


def float64_data(a: Any) -> Any:
    """The inputs of a float64 shadow run: floating data in float64 (exactly, from float32);
    indices (an embedding's input, class labels) as they are."""
    a = np.asarray(a)
    return a.astype(np.float64) if a.dtype.kind == "f" else a


def float64_shadow(twin: Any) -> Any:
    """A float64 copy of a torch twin before training (an :class:`MLPTwin` or a
    :class:`comparisons.run.bridge.TorchSequential`): the same float32 starting values, upcast
    exactly, so that its run is the float32 run in (near) exact arithmetic."""
    shadow = copy.deepcopy(twin)
    module = getattr(shadow, "module", shadow)
    module.double()
    for attr in ("loss_fn", "activation", "output_activation"):
        if hasattr(shadow, attr):
            setattr(shadow, attr, _float64_callable(getattr(shadow, attr)))
    if hasattr(shadow, "dtype"):
        shadow.dtype = torch.float64
    if hasattr(shadow, "net_dtype"):
        shadow.net_dtype = np.dtype(np.float64)
    return shadow
