"""torch's own loss functions, under the names :mod:`manual.losses` uses.

``get(name, **kwargs)`` returns torch's callable ``(pred, target, ...) -> loss`` with the
keyword arguments bound (``functools.partial(F.huber_loss, delta=0.5)``): torch's names,
and torch's own defaults for every argument not given. Weights are passed as tensors.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["FUNCTIONS", "get", "kl_div", "names", "quadratic", "sse"]

LossFn = Callable[..., torch.Tensor]


def sse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """J = 1/2 sum (y - yhat)^2, the classic 3-2-1 network's loss. torch has no built-in:
    torch's own ``F.mse_loss(reduction="sum")``, halved (cross-checked with finite
    differences in tests/test_reference.py)."""
    return F.mse_loss(pred, target, reduction="sum") / 2


def quadratic(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """C = 1/(2N) sum_n ||yhat_n - y_n||^2, N the number of rows (Nielsen's quadratic
    cost). torch has no built-in: ``F.mse_loss(reduction="sum") / 2 / N`` (cross-checked
    with finite differences in tests/test_reference.py)."""
    return F.mse_loss(pred, target, reduction="sum") / 2 / (pred.shape[0] if pred.dim() else 1)


def kl_div(pred: torch.Tensor, target: torch.Tensor, **kwargs: Any) -> torch.Tensor:
    """``F.kl_div``, without the warning torch repeats on every ``reduction="mean"`` call
    (the manual loss documents the difference from the true KL divergence)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="reduction: 'mean' divides")
        return F.kl_div(pred, target, **kwargs)


#: name -> torch's function (keyword arguments are bound by :func:`get`)
FUNCTIONS: dict[str, LossFn] = {
    "mse": F.mse_loss,
    "sse": sse,
    "quadratic": quadratic,
    "mae": F.l1_loss,
    "huber": F.huber_loss,
    "smooth_l1": F.smooth_l1_loss,
    "gaussian_nll": F.gaussian_nll_loss,  # its third input, var, is passed by the caller
    "poisson_nll": F.poisson_nll_loss,
    "bce": F.binary_cross_entropy,
    "bce_with_logits": F.binary_cross_entropy_with_logits,
    "cross_entropy": F.cross_entropy,
    "nll": F.nll_loss,
    "kl_div": kl_div,
    "multi_margin": F.multi_margin_loss,
}


def names() -> list[str]:
    """The loss names torch counterparts exist for."""
    return list(FUNCTIONS)


def get(name: str, **kwargs: Any) -> LossFn:
    """torch's loss ``name`` with ``kwargs`` bound."""
    if name not in FUNCTIONS:
        raise ValueError(f"unknown loss {name!r}; valid: {', '.join(names())}")
    fn = FUNCTIONS[name]
    return partial(fn, **kwargs) if kwargs else fn
