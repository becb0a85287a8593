r"""``Sequential``: layers applied one after the other, with an optional loss on top.

Forward runs the layers in order; backward runs the chain rule in the opposite order,
each layer turning :math:`\partial J/\partial(\text{its output})` into
:math:`\partial J/\partial(\text{its input})`:

.. math::
    a_0 = x, \quad a_i = f_i(a_{i-1}), \quad J = \mathcal{L}(a_n, y); \qquad
    \frac{\partial J}{\partial a_{i-1}}
        = \mathrm{vjp}_{f_i}\!\left(\frac{\partial J}{\partial a_i}\right)

>>> import numpy as np
>>> from manual.layers import Linear, ReLU, Sequential
>>> net = Sequential(Linear(3, 4, rng=0), ReLU(), Linear(4, 2, rng=1), loss="cross_entropy")
>>> list(net.params)
['0.weight', '0.bias', '2.weight', '2.bias']
>>> loss, grads = net.gradients(np.ones((5, 3)), np.array([0, 1, 0, 1, 1]))
>>> grads["2.weight"].shape
(2, 4)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from manual import losses
from manual.layers.base import Layer, layer_dtype

__all__ = ["Sequential"]


class Sequential(Layer):
    """``nn.Sequential(*layers)``, plus the loss a network is trained with.

    Parameters
    ----------
    *layers
        Objects following the layer protocol (:mod:`manual.layers.base`).
    loss, loss_kwargs
        Optional: a name from :func:`manual.losses.names` (or your own loss object) and its
        keyword arguments, for :meth:`loss`, :meth:`backward` without ``dout`` and
        :meth:`gradients`.

    Attributes
    ----------
    params, buffers, grads
        Flat dicts named as torch's ``named_parameters()``/``named_buffers()`` name them:
        ``"0.weight"``, ``"1.running_mean"``, ``"3.0.bias"`` for a nested Sequential. They
        hold the layers' live arrays.
    intermediates
        After :meth:`forward`/:meth:`loss` and :meth:`backward`: each layer's output,
        ``"0.Conv2d"``, ``"1.BatchNorm2d"``, …, ``"loss"``, then backward ``"dJ/d(output)"``
        and the input gradient each layer returned, ``"dJ/d(input of 3.Linear)"``, … —
        compared in order, the first that differs names the first layer that went wrong.
    """

    def __init__(self, *layers: Any, loss: str | Any | None = None,
                 loss_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            missing = [m for m in ("forward", "backward") if not callable(getattr(layer, m, None))]
            if missing or not isinstance(getattr(layer, "params", None), dict):
                raise TypeError(f"Sequential: layer {i} ({type(layer).__name__}) does not follow "
                                f"the layer protocol (needs forward, backward and a params dict)")
        self.layers = list(layers)
        self.loss_fn = None if loss is None else losses.get(loss, **(loss_kwargs or {}))
        self.intermediates: dict[str, np.ndarray] = {}
        self._y: Any = None
        self._out: np.ndarray | None = None

    # -- containers ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.layers)

    def __getitem__(self, i: int) -> Any:
        return self.layers[i]

    def _named(self, attr: str) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in getattr(layer, attr, {}).items()}

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self._named("params")

    @params.setter
    def params(self, value: dict[str, np.ndarray]) -> None:  # Layer.__init__ sets {}
        if value:
            raise AttributeError("Sequential.params is computed from its layers")

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return self._named("buffers")

    @buffers.setter
    def buffers(self, value: dict[str, np.ndarray]) -> None:
        if value:
            raise AttributeError("Sequential.buffers is computed from its layers")

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return self._named("grads")

    @grads.setter
    def grads(self, value: dict[str, np.ndarray]) -> None:
        if value:
            raise AttributeError("Sequential.grads is computed from its layers")
        for layer in getattr(self, "layers", []):  # grads = {}: forget every layer's
            if hasattr(layer, "grads"):
                layer.grads = {}

    @property
    def dtype(self) -> np.dtype:
        for p in self.params.values():
            return p.dtype
        return np.dtype(np.float64)

    # -- modes ---------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Sequential:
        super().train(mode)
        for layer in self.layers:
            if callable(getattr(layer, "train", None)):
                layer.train(mode)
        return self

    # -- forward -------------------------------------------------------------------------
    def _key(self, i: int) -> str:
        return f"{i}.{type(self.layers[i]).__name__}"

    def forward(self, x: Any) -> np.ndarray:
        """Apply every layer in order; records each output in ``intermediates``."""
        self.intermediates = {}
        self._y = None  # a new forward invalidates the last loss
        a = x
        for i, layer in enumerate(self.layers):
            a = layer.forward(a)  # a_i = f_i(a_{i-1})
            # a recurrent layer returns (output, h_n): its output is what is recorded
            self.intermediates[self._key(i)] = a[0] if isinstance(a, tuple) else a
        self._out = np.asarray(a)
        return a

    def loss(self, X: Any, y: Any) -> np.ndarray:
        """Forward pass and :math:`J = \\mathcal{L}(a_n, y)`, cached for :meth:`backward`."""
        if self.loss_fn is None:
            raise RuntimeError("Sequential.loss: this Sequential was built without a loss "
                               "(Sequential(..., loss='mse'))")
        out = self.forward(X)
        J = self.loss_fn.forward(out, y)
        self._y = y
        self.intermediates["loss"] = np.asarray(J)
        return J

    # -- backward ------------------------------------------------------------------------
    def backward(self, dout: Any = None) -> np.ndarray | None:
        """Backpropagate ``dout`` = :math:`\\partial J/\\partial a_n` (by default the loss's
        gradient from the last :meth:`loss`) through every layer; the parameter gradients
        land in ``grads``. Returns :math:`\\partial J/\\partial x` (``None`` when
        ``needs_input_grad`` is False: the first layer then skips that product)."""
        if dout is None:
            if self._y is None or self.loss_fn is None or self._out is None:
                raise RuntimeError("Sequential.backward: call net.loss(X, y) first, or pass "
                                   "dout")
            grad = self.loss_fn.backward(self._out, self._y)  # dJ/da_n
        else:
            if self._out is None:
                raise RuntimeError("Sequential.backward: call net.forward(x) first")
            grad = dout
        self.intermediates["dJ/d(output)"] = np.asarray(grad)
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if i == 0 and hasattr(layer, "needs_input_grad"):
                layer.needs_input_grad = self.needs_input_grad
            grad = layer.backward(grad)  # dJ/da_{i-1}
            if isinstance(grad, tuple):  # a recurrent layer's (dx, dhx): only x came from
                grad = grad[0]  # the layer before it (its initial state is zero)
            if grad is not None:
                self.intermediates[f"dJ/d(input of {self._key(i)})"] = grad
        return grad

    def gradients(self, X: Any, y: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(loss, grads)`` for a batch: :meth:`loss`, then :meth:`backward` without the
        input gradient (``X`` is data: nobody needs :math:`\\partial J/\\partial X`)."""
        J = self.loss(X, y)
        keep, self.needs_input_grad = self.needs_input_grad, False
        try:
            self.backward()
        finally:
            self.needs_input_grad = keep
        return J, self.grads

    # -- copies --------------------------------------------------------------------------
    def astype(self, dtype: Any) -> Sequential:
        """A copy with every layer's parameters and floating buffers cast to ``dtype``."""
        dt = layer_dtype("Sequential.astype", dtype)
        twin = Sequential(*[layer.astype(dt) for layer in self.layers])
        twin.loss_fn = self.loss_fn
        twin.training = self.training
        return twin

    def __repr__(self) -> str:
        body = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        loss = f"\n  loss: {self.loss_fn!r}" if self.loss_fn is not None else ""
        return f"Sequential({body}{loss}\n)"
