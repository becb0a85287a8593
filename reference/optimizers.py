"""torch's own optimizers and the bridge to :mod:`manual.optimizers`' names and layout.

``get(name, params, **kwargs)`` builds the ``torch.optim`` class that the manual optimizer
``name`` follows, pinned to torch's single-tensor implementation (``foreach=False``, and
``fused=False`` where the class has that option), whose order of operations the manual
code mirrors. :func:`state_as_manual` reads ``optimizer.state`` back under the manual
parameter names, in the manual (in, out) layout.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

__all__ = ["from_manual", "get", "manual_named_parameters", "names", "state_as_manual"]

_CLASSES: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "adamax": torch.optim.Adamax,
    "nadam": torch.optim.NAdam,
    "radam": torch.optim.RAdam,
    "adadelta": torch.optim.Adadelta,
}


def names() -> list[str]:
    """The optimizer names torch counterparts exist for."""
    return list(_CLASSES)


def get(name: str, params: Any, **kwargs: Any) -> torch.optim.Optimizer:
    """``torch.optim.<Class>(params, **kwargs)`` for the manual name ``name``, on the
    single-tensor code path."""
    if name not in _CLASSES:
        raise ValueError(f"unknown optimizer {name!r}; valid: {', '.join(names())}")
    cls = _CLASSES[name]
    pinned = {"foreach": False}
    if "fused" in inspect.signature(cls.__init__).parameters:
        pinned["fused"] = False
    return cls(params, **kwargs, **pinned)


def manual_named_parameters(tnet: Any) -> dict[str, tuple[torch.nn.Parameter, bool]]:
    """``{"W1": (weight, True), "b1": (bias, False), ...}`` for a :class:`reference.MLP`:
    each torch parameter under its manual name, with whether it is stored transposed
    (torch's (out, in) against the manual (in, out))."""
    out: dict[str, tuple[torch.nn.Parameter, bool]] = {}
    for l, lin in enumerate(tnet.linears, start=1):
        out[f"W{l}"] = (lin.weight, True)
        out[f"b{l}"] = (lin.bias, False)
    return out


def from_manual(optimizer: Any, tnet: Any) -> torch.optim.Optimizer:
    """The torch optimizer matching a manual one (its ``name`` and constructor
    ``kwargs``), over ``tnet``'s parameters in the manual order."""
    name = getattr(optimizer, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"the optimizer needs a .name naming its torch counterpart, got "
                        f"{optimizer!r}")
    params = [p for p, _ in manual_named_parameters(tnet).values()]
    return get(name, params, **dict(getattr(optimizer, "kwargs", {}) or {}))


def _to_numpy(value: Any, transpose: bool) -> Any:
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        a = value.detach().cpu().numpy()
        return (a.T if transpose and a.ndim == 2 else a).copy()  # one copy, in either layout
    return np.asarray(value)


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
