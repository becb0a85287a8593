"""torch's own learning-rate schedules (``torch.optim.lr_scheduler``), under the names
:mod:`manual.schedules` uses."""

from __future__ import annotations

from typing import Any

import torch
from torch.optim import lr_scheduler

__all__ = ["get", "names"]

_CLASSES: dict[str, type] = {
    "steplr": lr_scheduler.StepLR,
    "multisteplr": lr_scheduler.MultiStepLR,
    "exponentiallr": lr_scheduler.ExponentialLR,
    "cosineannealinglr": lr_scheduler.CosineAnnealingLR,
    "linearlr": lr_scheduler.LinearLR,
    "onecyclelr": lr_scheduler.OneCycleLR,
}


def names() -> list[str]:
    """The schedule names torch counterparts exist for."""
    return list(_CLASSES)


def get(name: str, optimizer: torch.optim.Optimizer, **kwargs: Any):
    """``torch.optim.lr_scheduler.<Class>(optimizer, **kwargs)`` for the manual name."""
    if name not in _CLASSES:
        raise ValueError(f"unknown schedule {name!r}; valid: {', '.join(names())}")
    return _CLASSES[name](optimizer, **kwargs)
