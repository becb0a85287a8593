r"""Activation functions: forward, derivative, second derivative and backward.

Every activation is an object with four methods, all vectorised over arrays of any
shape (0-d and empty included) and keeping the input's dtype:

``forward(z)``
    :math:`a = f(z)`.
``derivative(z)``
    The elementwise :math:`f'(z)`.
``second_derivative(z)``
    The elementwise :math:`f''(z)`.
``backward(z, grad_out)``
    The vector–Jacobian product :math:`\partial L/\partial z = \partial L/\partial a \odot f'(z)`:
    the gradient for the input, ready to hand to the layer below. Nothing else in
    the library multiplies by :math:`f'` for you.

At a kink (ReLU at 0, ...) ``derivative`` returns the one-sided value torch's
autograd returns there; each docstring says which.

>>> import numpy as np
>>> from manual import activations
>>> act = activations.get("sigmoid")
>>> act.forward(np.array([0.0]))
array([0.5])
>>> act.backward(np.array([0.0]), grad_out=np.array([2.0]))
array([0.5])
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from manual._checks import Configurable, as_real_array, check_choice, check_number

__all__ = ["Activation", "get", "names", "register"]

_REGISTRY: dict[str, type[Activation]] = {}


def register(cls: type[Activation]) -> type[Activation]:
    """Class decorator: add an activation to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    """The registered activation names, in registration order."""
    return list(_REGISTRY)


def get(name: str | Activation, **kwargs: Any) -> Activation:
    """Return the activation called ``name``, built with torch-named keyword arguments.

    An object that already has ``forward`` and ``backward`` (your own activation)
    is returned unchanged, so every API that takes a name also takes an object.
    """
    if not isinstance(name, str):
        if callable(getattr(name, "forward", None)) and callable(getattr(name, "backward", None)):
            if kwargs:
                raise TypeError("keyword arguments are only accepted with an activation name")
            return name
        raise TypeError(f"activation must be a name or an object with forward/backward, "
                        f"got {type(name).__name__}")
    check_choice(name, names(), "activation")
    return _REGISTRY[name](**kwargs)


class Activation(Configurable):
    """Base class. Subclasses set ``name`` and implement ``forward`` and ``derivative``.

    Class attributes describe the function for the harness and for readers:

    ``defaults``
        The hyperparameters, with torch's names and defaults.
    ``output_range``
        The closed interval that contains every output (used to decide which
        losses it can feed, e.g. BCE needs outputs in [0, 1]).
    ``kinks``
        Points where :math:`f'` is discontinuous; finite differences keep away from them.
    ``elementwise``
        False for functions that mix features (softmax); their ``backward`` is a full
        Jacobian product and they have no elementwise ``derivative``.
    """

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, float]] = {}
    output_range: ClassVar[tuple[float, float]] = (-np.inf, np.inf)
    kinks: ClassVar[tuple[float, ...]] = ()
    elementwise: ClassVar[bool] = True

    def _check_params(self) -> None:
        for key, value in self.kwargs.items():
            setattr(self, key, check_number(self.name, key, value))

    # -- the four public methods ------------------------------------------------
    def forward(self, z: np.ndarray) -> np.ndarray:
        """:math:`a = f(z)`."""
        return self._forward(as_real_array(z, "z", allow_complex=True))

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """Elementwise :math:`f'(z)`."""
        return self._derivative(as_real_array(z, "z", allow_complex=True))

    def second_derivative(self, z: np.ndarray) -> np.ndarray:
        """Elementwise :math:`f''(z)`."""
        return self._second_derivative(as_real_array(z, "z", allow_complex=True))

    def backward(self, z: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
        r"""Vector–Jacobian product :math:`\partial L/\partial z = g \odot f'(z)`, with
        :math:`g = \partial L/\partial a` (``grad_out``) of the same shape as ``z``."""
        z = as_real_array(z, "z", allow_complex=True)
        grad_out = as_real_array(grad_out, "grad_out", allow_complex=True)
        if grad_out.shape != z.shape:
            raise ValueError(f"{self.name}.backward: grad_out has shape {grad_out.shape}, "
                             f"expected the shape of z {z.shape}")
        return grad_out * self._derivative(z)

    # -- what subclasses write --------------------------------------------------
    def _forward(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _derivative(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _second_derivative(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{self.name} has no second derivative")


@register
class Identity(Activation):
    r"""Identity, :math:`f(z) = z`.

    .. math:: f'(z) = 1, \qquad f''(z) = 0
    """

    name = "identity"

    def _forward(self, z):
        return z.copy()

    def _derivative(self, z):
        return np.ones_like(z)

    def _second_derivative(self, z):
        return np.zeros_like(z)


def _exp_neg_abs(z: np.ndarray) -> np.ndarray:
    """e^{-|z|}, in (0, 1]: the one exponential that can never overflow."""
    if np.iscomplexobj(z):  # complex-step input: flip by the sign of the real part
        return np.exp(np.where(z.real >= 0, -z, z))
    return np.exp(-np.abs(z))  # branch-free: np.where on random signs is ~8x slower


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function that never overflows."""
    # why: 1/(1+exp(-z)) overflows exp for z << 0. With e = exp(-|z|) <= 1,
    # sigma(z) = exp(min(z, 0)) / (1 + e): that is 1/(1+e) for z >= 0 and e/(1+e) for z < 0.
    return np.exp(np.minimum(z, 0)) / (1 + _exp_neg_abs(z))


@register
class Sigmoid(Activation):
    r"""Logistic sigmoid, as ``torch.sigmoid``.

    .. math::
        \sigma(z) = \frac{1}{1 + e^{-z}}, \qquad
        \sigma'(z) = \sigma(z)\,(1 - \sigma(z)), \qquad
        \sigma''(z) = \sigma'(z)\,(1 - 2\sigma(z))

    Computed as :math:`\sigma'(z) = \sigma(z)\,\sigma(-z) = e/(1+e)^2` with
    :math:`e = e^{-|z|}`, and :math:`1 - 2\sigma(z) = -\tanh(z/2)`: the same values,
    without the cancellation of :math:`1 - \sigma(z)` when :math:`\sigma(z) \to 1`.
    Stable at any input: finite and exact to rounding at :math:`z = \pm 10^4`.
    """

    name = "sigmoid"
    output_range = (0.0, 1.0)

    def _forward(self, z):
        return _sigmoid(z)

    def _derivative(self, z):
        e = _exp_neg_abs(z)
        return e / ((1 + e) * (1 + e))  # = sigma(z) sigma(-z) = sigma (1 - sigma)

    def _second_derivative(self, z):
        return -self._derivative(z) * np.tanh(z / 2)  # sigma' (1 - 2 sigma)


def _sech2(z: np.ndarray) -> np.ndarray:
    """sech^2 z = 4 e^{-2|z|} / (1 + e^{-2|z|})^2, never overflowing (exp of -2|z| only)."""
    e = _exp_neg_abs(2 * z)
    return 4 * e / ((1 + e) * (1 + e))


@register
class Tanh(Activation):
    r"""Hyperbolic tangent, as ``torch.tanh``.

    .. math::
        f(z) = \tanh z, \qquad f'(z) = 1 - \tanh^2 z = \operatorname{sech}^2 z, \qquad
        f''(z) = -2 \tanh z\,\operatorname{sech}^2 z

    :math:`f'` is computed as :math:`\operatorname{sech}^2 z = 4e^{-2|z|}/(1 + e^{-2|z|})^2`:
    :math:`1 - \tanh^2 z` cancels catastrophically once :math:`\tanh z \approx \pm 1`
    (torch computes ``1 - y*y``; the two agree within the float64 tolerance).
    """

    name = "tanh"
    output_range = (-1.0, 1.0)

    def _forward(self, z):
        return np.tanh(z)

    def _derivative(self, z):
        return _sech2(z)

    def _second_derivative(self, z):
        return -2 * np.tanh(z) * _sech2(z)


@register
class ReLU(Activation):
    r"""Rectified linear unit, as ``torch.relu``.

    .. math::
        f(z) = \max(z, 0), \qquad
        f'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}, \qquad f''(z) = 0

    At the kink :math:`z = 0` the derivative is **0**, as torch's autograd returns.
    """

    name = "relu"
    output_range = (0.0, np.inf)
    kinks = (0.0,)

    def _forward(self, z):
        return np.maximum(z, 0)  # propagates NaN, like torch

    def _derivative(self, z):
        return (np.real(z) > 0).astype(z.dtype)

    def _second_derivative(self, z):
        return np.zeros_like(z)
