"""torch's own loss functions, under the names :mod:`manual.losses` uses.

``get(name, **kwargs)`` returns a callable ``(pred, target) -> loss`` built from
``torch.nn.functional`` with torch's keyword arguments and defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["get", "names"]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _as_tensor_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """NumPy arrays among the keyword arguments (``weight``) become tensors."""
    return {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


def _sse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    # J = 1/2 sum (y - yhat)^2, from torch's own mse_loss
    return 0.5 * F.mse_loss(pred, target, reduction="sum")


def _bce(pred: torch.Tensor, target: torch.Tensor, weight=None, reduction="mean"):
    if weight is not None:
        weight = torch.as_tensor(weight, dtype=pred.dtype)
    return F.binary_cross_entropy(pred, target, weight=weight, reduction=reduction)


_FACTORIES: dict[str, Callable[..., LossFn]] = {
    "mse": lambda **kw: partial(F.mse_loss, **kw),
    "sse": lambda: _sse,
    "bce": lambda **kw: partial(_bce, **kw),
    "cross_entropy": lambda **kw: partial(F.cross_entropy, **_as_tensor_kwargs(kw)),
}


def names() -> list[str]:
    """The loss names torch counterparts exist for."""
    return list(_FACTORIES)


def get(name: str, **kwargs: Any) -> LossFn:
    """torch's loss ``name`` with ``kwargs`` bound."""
    if name not in _FACTORIES:
        raise ValueError(f"unknown loss {name!r}; valid: {', '.join(names())}")
    return _FACTORIES[name](**kwargs)
