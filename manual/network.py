r"""A multilayer perceptron with hand-written backpropagation.

For layers :math:`l = 1 \dots L` with activation :math:`f_l` (``activation`` for the
hidden layers, ``output_activation`` for the last):

.. math::
    a_0 = X, \qquad z_l = a_{l-1} W_l + b_l, \qquad a_l = f_l(z_l), \qquad
    \hat y = a_L, \qquad J = \mathcal{L}(\hat y, y)

Backpropagation runs the chain rule from the loss down, one layer at a time:

.. math::
    \frac{\partial J}{\partial a_L} = \mathcal{L}'(\hat y, y), \qquad
    \delta_l = \frac{\partial J}{\partial z_l} = \frac{\partial J}{\partial a_l} \odot f_l'(z_l),

.. math::
    \frac{\partial J}{\partial W_l} = a_{l-1}^\top \delta_l, \qquad
    \frac{\partial J}{\partial b_l} = \sum_n \delta_{l,n}, \qquad
    \frac{\partial J}{\partial a_{l-1}} = \delta_l W_l^\top

(for softmax-like activations the :math:`\odot f'` step is the activation's
vector–Jacobian product, which ``backward`` computes in every case). The last product,
:math:`\partial J/\partial a_0 = \delta_1 W_1^\top`, is skipped: :math:`a_0 = X` is data,
and no parameter gradient needs it (torch skips it too, for an input that does not
require grad).

>>> import numpy as np
>>> from manual import MLP
>>> net = MLP([3, 2, 1], activation="sigmoid", output_activation="sigmoid", loss="sse")
>>> loss, grads = net.gradients(np.ones((4, 3)), np.zeros((4, 1)))
>>> sorted(grads) == sorted(net.params) and grads["W1"].shape == (3, 2)
True
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from manual import activations, losses
from manual._checks import FLOAT_DTYPES, as_real_array, check_finite
from manual.layers import Dense

__all__ = ["MLP"]


class MLP:
    """Fully connected network ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Parameters
    ----------
    sizes
        Layer widths, input first; at least two entries.
    activation, output_activation
        Names from :func:`manual.activations.names` (or your own objects) for the
        hidden layers and for the last layer.
    loss
        A name from :func:`manual.losses.names` (or your own object).
    seed
        Seeds the initialisation (see :meth:`manual.layers.Dense.init`).
    dtype
        ``np.float32`` or ``np.float64``; parameters, activations and gradients use it.
    loss_kwargs
        Keyword arguments for the loss (e.g. ``{"reduction": "sum"}``).

    Attributes
    ----------
    params
        Ordered dict ``W1, b1, W2, b2, ...`` of the live arrays the network computes
        with; ``W_l`` is (in, out).
    intermediates
        After :meth:`loss` and :meth:`backward`: ``z1, a1, ..., zL, aL, loss`` then
        ``dJ/daL, dJ/dzL, ..., dJ/dz1``, the values the harness compares layer by layer
        to find where two implementations first diverge.
    """

    def __init__(self, sizes: Sequence[int], activation: str | Any = "sigmoid",
                 output_activation: str | Any = "identity", loss: str | Any = "mse",
                 seed: int = 0, dtype: Any = np.float64,
                 loss_kwargs: dict[str, Any] | None = None) -> None:
        self.sizes = self._check_sizes(sizes)
        try:
            self.dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"MLP: dtype must be float32 or float64, got {dtype!r}") from None
        if self.dtype not in FLOAT_DTYPES:
            raise TypeError(f"MLP: dtype must be float32 or float64, got {self.dtype}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"MLP: seed must be an integer, got {seed!r}")
        self.seed = int(seed)
        self.activation = activations.get(activation)
        self.output_activation = activations.get(output_activation)
        self.loss_fn = losses.get(loss, **(loss_kwargs or {}))

        rng = np.random.default_rng(self.seed)
        self.layers = [Dense.init(n_in, n_out, rng, self.dtype)
                       for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])]
        # why: X is data, nobody needs dJ/dX; skipping delta_1 W_1^T saves the step's
        # largest product for a wide input (a quarter of a 784-256-256-10 step), as torch does
        self.layers[0].needs_input_grad = False
        self.params: dict[str, np.ndarray] = {}
        for l, layer in enumerate(self.layers, start=1):
            self.params[f"W{l}"] = layer.W
            self.params[f"b{l}"] = layer.b
        self.intermediates: dict[str, np.ndarray] = {}
        self._y: np.ndarray | None = None

    @staticmethod
    def _check_sizes(sizes: Sequence[int]) -> list[int]:
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
            raise TypeError(f"MLP: sizes must be a list of layer widths, got {sizes!r}")
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least two entries (input and output width), "
                             f"got {list(sizes)}")
        for s in sizes:
            if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
                raise ValueError(f"MLP: every layer width must be a positive integer, got "
                                 f"{list(sizes)}")
        return [int(s) for s in sizes]

    def __repr__(self) -> str:
        return (f"MLP(sizes={self.sizes}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r}, loss={self.loss_fn!r}, "
                f"dtype={self.dtype.name})")

    # -- input checks -----------------------------------------------------------
    def _check_X(self, X: Any) -> np.ndarray:
        X = as_real_array(X, "X")
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must be (samples, {self.sizes[0]}) for this network, got shape "
                             f"{X.shape}")
        check_finite(X, "X")
        return X.astype(self.dtype, copy=False)

    def _check_y(self, y: Any, n: int) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim == 0 or y.shape[0] != n:
            raise ValueError(f"y must have one row per sample of X ({n}), got shape {y.shape}")
        kind = getattr(self.loss_fn, "target_kind", None)
        if kind == "class_index":
            return y  # the loss checks integer dtype and label range
        if y.dtype.kind not in "f":
            raise TypeError(f"y must be floating point for loss {self.loss_fn.name!r}, got dtype "
                            f"{y.dtype}")
        want = (n, self.sizes[-1])
        if kind is not None and y.shape != want:
            hint = " (use y.reshape(-1, 1))" if y.shape == (n,) and want[1] == 1 else ""
            raise ValueError(f"y must have shape {want} for loss {self.loss_fn.name!r}, got "
                             f"{y.shape}{hint}")
        check_finite(y, "y")
        return y.astype(self.dtype, copy=False)

    # -- forward ----------------------------------------------------------------
    def forward(self, X: np.ndarray) -> np.ndarray:
        """The network's output :math:`\\hat y = a_L` for a batch ``X`` (samples, features)."""
        a = self._check_X(X)
        self.intermediates = {}
        self._y = None  # a new forward invalidates the last loss
        for l, layer in enumerate(self.layers, start=1):
            f = self.output_activation if l == len(self.layers) else self.activation
            z = layer.forward(a)  # (N, out_l)
            a = f.forward(z)  # (N, out_l)
            self.intermediates[f"z{l}"], self.intermediates[f"a{l}"] = z, a
        return a

    def loss(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Forward pass and loss :math:`J = \\mathcal{L}(\\hat y, y)`, cached for backward."""
        out = self.forward(X)
        y = self._check_y(y, out.shape[0])
        J = self.loss_fn.forward(out, y)
        self._y = y
        self.intermediates["loss"] = np.asarray(J)
        return J

    # -- backward ---------------------------------------------------------------
    def backward(self, grad_out: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Backpropagate; returns gradients keyed like ``params``.

        By default from the last :meth:`loss`. With ``grad_out`` (shaped like the
        output of the last :meth:`forward`), backpropagate that upstream gradient
        :math:`\\partial J/\\partial a_L` instead: the vector–Jacobian product of the
        network itself, with no loss involved.
        """
        L = len(self.layers)
        if grad_out is None:
            if self._y is None:
                raise RuntimeError("MLP.backward: call net.loss(X, y) first")
            grad = self.loss_fn.backward(self.intermediates[f"a{L}"], self._y)  # dJ/da_L
        else:
            if f"a{L}" not in self.intermediates:
                raise RuntimeError("MLP.backward: call net.forward(X) first")
            out = self.intermediates[f"a{L}"]
            grad = as_real_array(grad_out, "grad_out")
            if grad.shape != out.shape:
                raise ValueError(f"grad_out has shape {grad.shape}, expected the output's "
                                 f"shape {out.shape}")
            grad = grad.astype(self.dtype, copy=False)
        grads: dict[str, np.ndarray] = {}
        for l in range(L, 0, -1):
            f = self.output_activation if l == L else self.activation
            self.intermediates[f"dJ/da{l}"] = grad
            grad = f.backward(self.intermediates[f"z{l}"], grad)  # delta_l = dJ/dz_l
            self.intermediates[f"dJ/dz{l}"] = grad
            layer = self.layers[l - 1]
            dprev = layer.backward(grad)  # dJ/da_{l-1} (None for l = 1: not computed)
            if layer.dW is None or layer.db is None:  # never: backward has just set them
                raise RuntimeError(f"MLP.backward: layer {l} stored no gradient")
            grads[f"W{l}"], grads[f"b{l}"] = layer.dW, layer.db
            if dprev is None:  # the first layer: dJ/dX is not needed
                break
            grad = dprev
        return {name: grads[name] for name in self.params}

    def gradients(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(loss, grads)`` for a batch: :meth:`loss` then :meth:`backward`."""
        J = self.loss(X, y)
        return J, self.backward()

    # -- copies -----------------------------------------------------------------
    def astype(self, dtype: Any) -> MLP:
        """A copy of this network (of the same class) with its parameters cast to ``dtype``."""
        dtype = np.dtype(dtype)
        if dtype not in FLOAT_DTYPES:
            raise TypeError(f"MLP.astype: dtype must be float32 or float64, got {dtype}")
        twin = copy.deepcopy(self)
        twin.dtype = dtype
        for l, layer in enumerate(twin.layers, start=1):
            layer.W, layer.b = layer.W.astype(dtype), layer.b.astype(dtype)
            twin.params[f"W{l}"], twin.params[f"b{l}"] = layer.W, layer.b
        twin.intermediates, twin._y = {}, None
        return twin
