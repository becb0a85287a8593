"""torch's own activation functions, under the names :mod:`manual.activations` uses.

``get(name, **kwargs)`` returns a callable ``tensor -> tensor`` with the keyword
arguments bound, using torch's names and defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

__all__ = ["get", "names"]

Fn = Callable[[torch.Tensor], torch.Tensor]

# name -> factory taking torch-named keyword arguments
_FACTORIES: dict[str, Callable[..., Fn]] = {
    "identity": lambda: torch.nn.Identity(),
    "sigmoid": lambda: torch.sigmoid,
    "tanh": lambda: torch.tanh,
    "relu": lambda: torch.relu,
}


def names() -> list[str]:
    """The activation names torch counterparts exist for."""
    return list(_FACTORIES)


def get(name: str, **kwargs: Any) -> Fn:
    """torch's function for activation ``name``, with ``kwargs`` bound."""
    if name not in _FACTORIES:
        raise ValueError(f"unknown activation {name!r}; valid: {', '.join(names())}")
    return _FACTORIES[name](**kwargs)

