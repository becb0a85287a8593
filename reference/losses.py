"""torch's own loss functions, under the names :mod:`manual.losses` uses.

``get(name, **kwargs)`` returns a callable ``(pred, target) -> loss`` built from
``torch.nn.functional`` with torch's keyword arguments and defaults.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["get", "names"]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _sse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    # J = 1/2 sum (y - yhat)^2, from torch's own mse_loss
    return 0.5 * F.mse_loss(pred, target, reduction="sum")


def _quadratic(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    # C = 1/(2N) sum_n ||yhat_n - y_n||^2, N = number of samples (rows)
    n = pred.shape[0] if pred.dim() else 1
    return 0.5 * F.mse_loss(pred, target, reduction="sum") / n


def _with_tensors(fn: Callable[..., torch.Tensor], **kwargs: Any) -> LossFn:
    """Bind kwargs; NumPy arrays among them (weight, pos_weight) become tensors of the
    prediction's dtype at call time."""
    def loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        bound = {k: (torch.as_tensor(v, dtype=pred.dtype, device=pred.device)
                     if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
        return fn(pred, target, **bound)
    return loss


def _gaussian_nll(full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> LossFn:
    # torch takes var as a third input; the manual loss's default is unit variance
    def loss(pred: torch.Tensor, target: torch.Tensor, var: Any = 1.0) -> torch.Tensor:
        var_t = torch.as_tensor(var, dtype=pred.dtype, device=pred.device).expand_as(pred)
        return F.gaussian_nll_loss(pred, target, var_t, full=full, eps=eps,
                                   reduction=reduction)
    return loss


def _quiet_kl_div(**kwargs: Any) -> LossFn:
    # torch warns on every reduction="mean" call that the default will change; the
    # manual loss documents the difference, so the warning is not repeated here
    def loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="reduction: 'mean' divides")
            return F.kl_div(pred, target, **kwargs)
    return loss


_FACTORIES: dict[str, Callable[..., LossFn]] = {
    "mse": lambda **kw: _with_tensors(F.mse_loss, **kw),
    "sse": lambda: _sse,
    "quadratic": lambda: _quadratic,
    "mae": lambda **kw: _with_tensors(F.l1_loss, **kw),
    "huber": lambda **kw: _with_tensors(F.huber_loss, **kw),
    "smooth_l1": lambda **kw: partial(F.smooth_l1_loss, **kw),
    "gaussian_nll": _gaussian_nll,
    "poisson_nll": lambda **kw: partial(F.poisson_nll_loss, **kw),
    "bce": lambda **kw: _with_tensors(F.binary_cross_entropy, **kw),
    "bce_with_logits": lambda **kw: _with_tensors(F.binary_cross_entropy_with_logits, **kw),
    "cross_entropy": lambda **kw: _with_tensors(F.cross_entropy, **kw),
    "nll": lambda **kw: _with_tensors(F.nll_loss, **kw),
    "kl_div": lambda **kw: _quiet_kl_div(**kw),
    "multi_margin": lambda **kw: _with_tensors(F.multi_margin_loss, **kw),
}


def names() -> list[str]:
    """The loss names torch counterparts exist for."""
    return list(_FACTORIES)


def get(name: str, **kwargs: Any) -> LossFn:
    """torch's loss ``name`` with ``kwargs`` bound."""
    if name not in _FACTORIES:
        raise ValueError(f"unknown loss {name!r}; valid: {', '.join(names())}")
    return _FACTORIES[name](**kwargs)
