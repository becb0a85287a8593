"""torch's own optimizers, under the names :mod:`manual.optimizers` uses.

``get(name, params, **kwargs)`` builds the ``torch.optim`` class that the manual optimizer
``name`` follows, pinned to torch's single-tensor implementation (``foreach=False``, and
``fused=False`` where the class has that option), whose order of operations the manual
code mirrors. Reading its state back in the manual names and layout is the bridge's job
(:mod:`comparisons.run.bridge`).
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

__all__ = ["get", "names"]

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
    pinned: dict[str, Any] = {"foreach": False}
    if "fused" in inspect.signature(cls.__init__).parameters:
        pinned["fused"] = False
    return cls(params, **kwargs, **pinned)
