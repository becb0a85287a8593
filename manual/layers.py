r"""Layers. The affine (fully connected) layer, in the CS231n style and as a class.

For a batch :math:`X` of shape (N, in), weights :math:`W` (in, out) and bias
:math:`b` (out,):

.. math::
    Z = X W + b

and, given the upstream gradient :math:`\delta = \partial L/\partial Z` (N, out):

.. math::
    \frac{\partial L}{\partial W} = X^\top \delta, \qquad
    \frac{\partial L}{\partial b} = \sum_n \delta_n, \qquad
    \frac{\partial L}{\partial X} = \delta W^\top

``W`` is stored (in, out), the layout of the textbook formula :math:`XW`; torch's
``nn.Linear`` stores the transpose, (out, in), and ``reference`` converts explicitly.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Dense", "affine_backward", "affine_forward"]


def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray
                   ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """:math:`Z = XW + b`. Returns ``(Z, cache)``; the cache is what backward needs."""
    z = x @ W + b  # (N, out)
    return z, (x, W)


def affine_backward(dz: np.ndarray, cache: tuple[np.ndarray, np.ndarray]
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Given :math:`\delta = \partial L/\partial Z`, return ``(dX, dW, db)``."""
    x, W = cache
    dW = x.T @ dz  # (in, out): X^T delta, summed over the batch by the product
    db = dz.sum(axis=0)  # (out,)
    dx = dz @ W.T  # (N, in)
    return dx, dW, db


class Dense:
    """Affine layer holding live references to its parameters.

    ``forward`` caches its input; ``backward(dz)`` returns the gradient for the
    input and stores the parameter gradients in ``dW`` and ``db``. ``W`` and ``b``
    are the very arrays the owner (e.g. :class:`manual.MLP`) exposes in ``params``,
    so an in-place change to them takes effect in the next forward.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(f"Dense: W must be (in, out) and b (out,), got {W.shape} and "
                             f"{b.shape}")
        self.W, self.b = W, b
        self._cache: tuple[np.ndarray, np.ndarray] | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None

    @classmethod
    def init(cls, n_in: int, n_out: int, rng: np.random.Generator,
             dtype: type = np.float64) -> Dense:
        r"""Draw W and b from :math:`U(-1/\sqrt{n_{in}},\ 1/\sqrt{n_{in}})`, the
        distribution of torch's ``nn.Linear`` default initialisation."""
        bound = 1 / np.sqrt(n_in)
        W = rng.uniform(-bound, bound, size=(n_in, n_out)).astype(dtype)
        b = rng.uniform(-bound, bound, size=n_out).astype(dtype)
        return cls(W, b)

    def forward(self, x: np.ndarray) -> np.ndarray:
        z, self._cache = affine_forward(x, self.W, self.b)
        return z

    def backward(self, dz: np.ndarray) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError("Dense.backward called before forward")
        dx, self.dW, self.db = affine_backward(dz, self._cache)
        return dx
