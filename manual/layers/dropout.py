r"""Dropout: :class:`Dropout` and the CS231n-style pair :func:`dropout_forward` /
:func:`dropout_backward`.

In train mode each element is kept with probability :math:`1-p` and zeroed otherwise,
and the kept ones are scaled up so that the expected output is the input ("inverted"
dropout, as torch):

.. math::
    m_i \sim \text{Bernoulli}(1-p), \qquad y_i = \frac{m_i\,x_i}{1-p}, \qquad
    \frac{\partial L}{\partial x_i} = \frac{m_i}{1-p}\,\frac{\partial L}{\partial y_i}

The backward must apply the *same* mask and the *same* :math:`1/(1-p)`: :math:`y` is
linear in :math:`x` with the diagonal Jacobian :math:`\mathrm{diag}(m)/(1-p)`. In eval
mode (and for :math:`p = 0`) dropout is the identity. For :math:`p = 1` every element
is dropped and torch returns zeros (not :math:`0/0`): so do we, with a zero gradient.

torch's random stream cannot be reproduced in NumPy; the layer draws its masks from its
own seeded generator, or takes an explicit mask (:meth:`Dropout.set_mask`, or a
``mask_source`` callable consulted at every train-mode forward), which is how the
comparison hands it the very mask torch drew.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from manual._checks import as_real_array
from manual.layers.base import Layer, as_rng

__all__ = ["Dropout", "dropout_backward", "dropout_forward"]


def _check_p(owner: str, p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)):
        raise TypeError(f"{owner}: p must be a float, got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{owner}: dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _scale(p: float) -> float:
    """:math:`1/(1-p)`, and 0 for :math:`p = 1` (every element dropped: zeros, as torch)."""
    return 0.0 if p == 1.0 else 1.0 / (1.0 - p)


def dropout_forward(x: np.ndarray, p: float = 0.5, training: bool = True,
                    mask: np.ndarray | None = None,
                    rng: np.random.Generator | int | None = None
                    ) -> tuple[np.ndarray, tuple[np.ndarray | None, float]]:
    r""":math:`y = m \odot x / (1-p)` in train mode, :math:`y = x` otherwise.

    ``mask`` (``x``'s shape; True or 1 = keep) is used if given, else drawn as
    :math:`m_i \sim \text{Bernoulli}(1-p)` from ``rng`` (a seed or Generator).
    Returns ``(y, cache)`` with ``cache = (mask, scale)``: ``mask`` is None when nothing
    was dropped (eval mode, :math:`p = 0`)."""
    p = _check_p("dropout_forward", p)
    if not training or (p == 0.0 and mask is None):
        return x, (None, 1.0)
    if mask is None:
        mask = as_rng(rng).random(x.shape) >= p  # keep with probability 1 - p
    else:
        mask = np.asarray(mask)
        if mask.shape != x.shape:
            raise ValueError(f"dropout_forward: mask has shape {mask.shape}, the input "
                             f"{x.shape}")
        mask = mask != 0
    scale = _scale(p)
    # the scale is folded into the mask once, in x's dtype, as torch multiplies by
    # mask / (1 - p): the same rounding on both sides
    kept = mask * x.dtype.type(scale)
    return x * kept, (kept, scale)


def dropout_backward(dout: np.ndarray, cache: tuple[np.ndarray | None, float]) -> np.ndarray:
    r""":math:`\partial L/\partial x = m \odot \partial L/\partial y / (1-p)`: the same mask
    and the same scale as the forward pass (the identity when nothing was dropped)."""
    kept, _ = cache
    return dout if kept is None else dout * kept


class Dropout(Layer):
    r"""``nn.Dropout(p=0.5, inplace=False)``: see the module docstring for the math.

    Masks come, in this order of precedence, from: a mask given by :meth:`set_mask` (used
    for the next train-mode forward only), ``mask_source(shape, dtype)`` if that
    attribute is set (a callable returning a keep-mask, consulted at every train-mode
    forward), or the layer's own generator ``rng`` (a seed or Generator, seed 0 by
    default). After a train-mode forward, ``mask`` holds the boolean keep-mask used
    (None in eval mode). ``inplace`` is torch's flag; these layers never overwrite their
    input, so it changes nothing.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, *,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        self.p = _check_p("Dropout", p)
        if not isinstance(inplace, bool):
            raise TypeError(f"Dropout: inplace must be a bool, got {inplace!r}")
        self.inplace = inplace
        self.config = {"p": self.p, "inplace": self.inplace}
        self.rng = as_rng(rng)
        self.mask_source: Callable[[tuple[int, ...], np.dtype], np.ndarray] | None = None
        self.mask: np.ndarray | None = None
        self._next_mask: np.ndarray | None = None

    def set_mask(self, mask: Any) -> Dropout:
        """Use ``mask`` (True/1 = keep) in the next train-mode forward; returns self."""
        self._next_mask = np.asarray(mask)
        return self

    def forward(self, x: Any) -> np.ndarray:
        x = as_real_array(x, "Dropout: input")
        self._dtype = x.dtype  # no parameters: the input's dtype is the layer's
        x = self.check_input(x, tuple(range(0, 33)))
        mask = None
        if self.training:
            if self._next_mask is not None:
                mask, self._next_mask = self._next_mask, None
            elif self.mask_source is not None:
                mask = np.asarray(self.mask_source(x.shape, x.dtype))
            elif self.p not in (0.0, 1.0):
                mask = self.rng.random(x.shape) >= self.p  # keep with probability 1 - p
            elif self.p == 1.0:
                mask = np.zeros(x.shape, dtype=bool)
            if mask is not None and mask.shape != x.shape:
                raise ValueError(f"Dropout: the mask has shape {mask.shape}, the input "
                                 f"{x.shape}")
        out, cache = dropout_forward(x, self.p, self.training, mask)
        self.mask = None if cache[0] is None else cache[0] != 0
        self._cache, self._out_shape = cache, out.shape
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dout = self.check_dout(dout)
        return dropout_backward(dout, self._cache) if self.needs_input_grad else None

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
