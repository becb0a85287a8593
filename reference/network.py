"""A multilayer perceptron of torch built-ins: ``nn.Linear`` layers, torch activations and a
``torch.nn.functional`` loss, gradients by autograd.

Only torch here: building it from a :class:`manual.MLP` (copying weights in, reading
gradients back in the manual names and layout) is the bridge's job
(:class:`comparisons.run.bridge.MLPTwin`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from reference import activations, losses

__all__ = ["MLP"]


class MLP(nn.Module):
    """``sizes[0] -> ... -> sizes[-1]``: ``nn.Linear`` layers (torch's (out, in) weights), the
    activation ``activation`` after every hidden layer and ``output_activation`` after the
    last, and the loss ``loss`` (torch names and keyword arguments, torch's defaults)."""

    def __init__(self, sizes: Sequence[int], activation: str = "sigmoid",
                 output_activation: str = "identity", loss: str = "mse",
                 dtype: torch.dtype = torch.float64,
                 activation_kwargs: dict[str, Any] | None = None,
                 output_activation_kwargs: dict[str, Any] | None = None,
                 loss_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.sizes = list(sizes)
        self.linears = nn.ModuleList(nn.Linear(i, o, dtype=dtype)
                                     for i, o in zip(self.sizes[:-1], self.sizes[1:]))
        self.activation = activations.get(activation, **(activation_kwargs or {}))
        self.output_activation = activations.get(output_activation,
                                                 **(output_activation_kwargs or {}))
        self.loss_name = loss
        self.loss_fn = losses.get(loss, **(loss_kwargs or {}))
        self.dtype = dtype

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """The output; every pre-activation ``z{l}`` and activation ``a{l}`` is kept in
        ``trace`` (l counted from 1)."""
        self.trace: dict[str, torch.Tensor] = {}
        a = X
        for l, lin in enumerate(self.linears, start=1):
            f = self.output_activation if l == len(self.linears) else self.activation
            z = lin(a)
            a = f(z)
            self.trace[f"z{l}"], self.trace[f"a{l}"] = z, a
        return a

    def target_tensor(self, y: np.ndarray) -> torch.Tensor:
        """``y`` as a tensor: class labels as int64, anything else in the network's dtype."""
        y = np.asarray(y)
        # where the network lives (cpu or cuda); a ModuleList's item is typed Module
        device = cast(torch.Tensor, self.linears[0].weight).device
        if y.dtype.kind in "iu":
            return torch.as_tensor(y, dtype=torch.int64, device=device)
        return torch.as_tensor(y, dtype=self.dtype, device=device)
