"""torch's own activation functions, under the names :mod:`manual.activations` uses.

``get(name, **kwargs)`` returns torch's callable ``tensor -> tensor`` with the keyword
arguments bound (``functools.partial(F.softplus, beta=2.0)``): torch's names, and torch's
own defaults for every argument not given. Nothing here re-types a default.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["FUNCTIONS", "get", "lecun_tanh", "names"]

Fn = Callable[[torch.Tensor], torch.Tensor]


def lecun_tanh(z: torch.Tensor) -> torch.Tensor:
    """LeCun's scaled tanh. torch has no built-in: LeCun et al., "Efficient BackProp"
    (1998), define it as 1.7159 tanh(2z/3), composed here from ``torch.tanh`` (the
    composition is cross-checked with finite differences in tests/test_reference.py)."""
    return 1.7159 * torch.tanh(2 * z / 3)


#: name -> torch's function (keyword arguments are bound by :func:`get`)
FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "identity": torch.nn.Identity(),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
    "selu": F.selu,
    "celu": F.celu,
    "gelu": F.gelu,  # approximate="none", torch's default
    "gelu_tanh": partial(F.gelu, approximate="tanh"),  # the name says which approximation
    "softplus": F.softplus,
    "silu": F.silu,
    "mish": F.mish,
    "softsign": F.softsign,
    "hardtanh": F.hardtanh,
    "relu6": F.relu6,
    "hardsigmoid": F.hardsigmoid,
    "hardswish": F.hardswish,
    "logsigmoid": F.logsigmoid,
    "tanhshrink": F.tanhshrink,
    "lecun_tanh": lecun_tanh,
    "softmax": F.softmax,
    "log_softmax": F.log_softmax,
    "softshrink": F.softshrink,
    "softmin": F.softmin,
}


def names() -> list[str]:
    """The activation names torch counterparts exist for."""
    return list(FUNCTIONS)


def get(name: str, **kwargs: Any) -> Fn:
    """torch's function for activation ``name``, with ``kwargs`` bound."""
    if name not in FUNCTIONS:
        raise ValueError(f"unknown activation {name!r}; valid: {', '.join(names())}")
    fn = FUNCTIONS[name]
    return partial(fn, **kwargs) if kwargs else fn
