"""torch's own activation functions, under the names :mod:`manual.activations` uses.

``get(name, **kwargs)`` returns a callable ``tensor -> tensor`` with the keyword
arguments bound, using torch's names and defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["get", "names"]

Fn = Callable[[torch.Tensor], torch.Tensor]

# name -> factory taking torch-named keyword arguments
_FACTORIES: dict[str, Callable[..., Fn]] = {
    "identity": lambda: torch.nn.Identity(),
    "sigmoid": lambda: torch.sigmoid,
    "tanh": lambda: torch.tanh,
    "relu": lambda: torch.relu,
    "leaky_relu": lambda negative_slope=0.01: partial(F.leaky_relu, negative_slope=negative_slope),
    "elu": lambda alpha=1.0: partial(F.elu, alpha=alpha),
    "selu": lambda: F.selu,
    "celu": lambda alpha=1.0: partial(F.celu, alpha=alpha),
    "gelu": lambda: partial(F.gelu, approximate="none"),
    "gelu_tanh": lambda: partial(F.gelu, approximate="tanh"),
    "softplus": lambda beta=1.0, threshold=20.0: partial(F.softplus, beta=beta,
                                                          threshold=threshold),
    "silu": lambda: F.silu,
    "mish": lambda: F.mish,
    "softsign": lambda: F.softsign,
    "hardtanh": lambda min_val=-1.0, max_val=1.0: partial(F.hardtanh, min_val=min_val,
                                                          max_val=max_val),
    "relu6": lambda: F.relu6,
    "hardsigmoid": lambda: F.hardsigmoid,
    "hardswish": lambda: F.hardswish,
    "logsigmoid": lambda: F.logsigmoid,
    "tanhshrink": lambda: F.tanhshrink,
    # no torch built-in: LeCun et al. define it as 1.7159 tanh(2z/3), composed from torch ops
    "lecun_tanh": lambda: lambda z: 1.7159 * torch.tanh(2 * z / 3),
    "softmax": lambda dim=-1: partial(F.softmax, dim=dim),
    "log_softmax": lambda dim=-1: partial(F.log_softmax, dim=dim),
    "softshrink": lambda lambd=0.5: partial(F.softshrink, lambd=lambd),
    "softmin": lambda dim=-1: partial(F.softmin, dim=dim),
}


def names() -> list[str]:
    """The activation names torch counterparts exist for."""
    return list(_FACTORIES)


def get(name: str, **kwargs: Any) -> Fn:
    """torch's function for activation ``name``, with ``kwargs`` bound."""
    if name not in _FACTORIES:
        raise ValueError(f"unknown activation {name!r}; valid: {', '.join(names())}")
    return _FACTORIES[name](**kwargs)

