"""S-shaped functions: the sigmoid, tanh and their relatives (softsign, log-sigmoid,
tanh shrink, LeCun's scaled tanh)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from manual._numerics import _abs, _sech2, _sigmoid, _sigmoid_derivative, _softplus
from manual.activations.base import Activation, register


@register
class Sigmoid(Activation):
    r"""Logistic sigmoid, as ``torch.sigmoid``.

    .. math::
        \sigma(z) = \frac{1}{1 + e^{-z}}, \qquad
        \sigma'(z) = \sigma(z)\,(1 - \sigma(z)), \qquad
        \sigma''(z) = \sigma'(z)\,(1 - 2\sigma(z))

    Computed as :math:`\sigma'(z) = \sigma(z)\,\sigma(-z) = 1/(2 + 2\cosh z)` (even in
    :math:`z`), and :math:`1 - 2\sigma(z) = -\tanh(z/2)`: the same values, without the
    cancellation of :math:`1 - \sigma(z)` when :math:`\sigma(z) \to 1`. The forward is the
    textbook :math:`1/(1 + e^{-z})`, as torch's: for :math:`z \ll 0`, :math:`e^{-z}`
    overflows to :math:`\infty` and :math:`1/(1+\infty) = 0`, the right limit (likewise
    :math:`\cosh z = \infty` gives :math:`\sigma' = 0`).
    Stable at any input: finite and exact to rounding at :math:`z = \pm 10^4`.


    The textbook form beside the stable one: the same values where both are finite, but
    only the stable form keeps its relative accuracy once :math:`\sigma(z) \to 1`
    (:math:`1 - \sigma(z)` rounds to 0 at z = 40, where the true value is 4e-18):

    >>> import numpy as np
    >>> z = np.array([-30.0, -2.0, 0.0, 2.0, 10.0])
    >>> s = Sigmoid().forward(z)
    >>> textbook = s * (1 - s)  # sigma (1 - sigma)
    >>> bool(np.allclose(Sigmoid().derivative(z), textbook, rtol=1e-9, atol=0))
    True
    >>> s40 = Sigmoid().forward(np.array([40.0]))
    >>> float((s40 * (1 - s40))[0]), float(Sigmoid().derivative(np.array([40.0]))[0])
    (0.0, 4.248354255291589e-18)
    """

    name = "sigmoid"
    output_range = (0.0, 1.0)

    def _forward(self, z):
        return _sigmoid(z)

    def _derivative(self, z):
        return _sigmoid_derivative(z)  # 1/(2 + 2 cosh z) = sigma(z) sigma(-z) = sigma (1 - sigma)

    def _backward(self, z, grad_out):
        if type(self)._derivative is not Sigmoid._derivative:  # a subclass's own f' (a slip)
            return super()._backward(z, grad_out)
        return _sigmoid_derivative(z, grad_out)  # the product with g fused: one buffer

    def _second_derivative(self, z):
        return -self._derivative(z) * np.tanh(z / 2)  # sigma' (1 - 2 sigma)


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
class Softsign(Activation):
    r"""Softsign, as ``F.softsign``.

    .. math::
        f(z) = \frac{z}{1 + |z|}, \qquad f'(z) = \frac{1}{(1 + |z|)^2}, \qquad
        f''(z) = \frac{-2 \operatorname{sign}(z)}{(1 + |z|)^3}

    :math:`f'` is continuous; :math:`f''` jumps at 0, where it is 0 (torch's
    :math:`\operatorname{sign}(0) = 0`).
    """

    name = "softsign"
    output_range = (-1.0, 1.0)
    kinks = (0.0,)

    def _forward(self, z):
        return z / (1 + _abs(z))

    def _derivative(self, z):
        d = 1 + _abs(z)
        return 1 / (d * d)

    def _second_derivative(self, z):
        d = 1 + _abs(z)
        return -2 * np.sign(np.real(z)).astype(z.dtype) / (d * d * d)


@register
class LogSigmoid(Activation):
    r"""Log-sigmoid, as ``F.logsigmoid``: :math:`f(z) = \log \sigma(z) = -\log(1 + e^{-z})`.

    .. math::
        f'(z) = 1 - \sigma(z) = \sigma(-z), \qquad f''(z) = -\sigma(z)\,\sigma(-z)

    Computed as :math:`\min(z, 0) - \log(1 + e^{-|z|})`: finite at :math:`z = -10^4`
    (where it is :math:`-10^4`).
    """

    name = "logsigmoid"
    output_range = (-np.inf, 0.0)

    def _forward(self, z):
        return -_softplus(-z)

    def _derivative(self, z):
        return _sigmoid(-z)

    def _second_derivative(self, z):
        return -Sigmoid()._derivative(z)


@register
class Tanhshrink(Activation):
    r"""Tanh shrink, as ``F.tanhshrink``: :math:`f(z) = z - \tanh z`.

    .. math::
        f'(z) = \tanh^2 z, \qquad f''(z) = 2 \tanh z\,\operatorname{sech}^2 z
    """

    name = "tanhshrink"

    def _forward(self, z):
        return z - np.tanh(z)

    def _derivative(self, z):
        t = np.tanh(z)
        return t * t

    def _second_derivative(self, z):
        return 2 * np.tanh(z) * _sech2(z)


@register
class LeCunTanh(Activation):
    r"""LeCun's scaled tanh, from LeCun et al., "Efficient BackProp" (1998):
    :math:`f(z) = 1.7159 \tanh(2z/3)`, chosen so that :math:`f(\pm1) = \pm1`.

    .. math::
        f'(z) = 1.7159 \cdot \tfrac23 \operatorname{sech}^2(2z/3), \qquad
        f''(z) = -1.7159 \cdot \tfrac89 \tanh(2z/3) \operatorname{sech}^2(2z/3)

    torch has no built-in; the reference composes ``1.7159 * torch.tanh(2 * z / 3)``.
    """

    name = "lecun_tanh"
    A: ClassVar[float] = 1.7159
    output_range = (-1.7159, 1.7159)

    def _forward(self, z):
        return self.A * np.tanh(2 * z / 3)

    def _derivative(self, z):
        return self.A * (2 / 3) * _sech2(2 * z / 3)

    def _second_derivative(self, z):
        u = 2 * z / 3
        return -self.A * (8 / 9) * np.tanh(u) * _sech2(u)
