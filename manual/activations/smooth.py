"""Smooth rectifiers: GELU (exact and tanh), softplus, SiLU, mish."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from manual._numerics import _sech2, _sigmoid, _softplus, erfc
from manual.activations.base import Activation, register
from manual.activations.squashing import Sigmoid


_SQRT_2PI = math.sqrt(2 * math.pi)  # Python floats: NumPy scalars would upcast float32


@register
class GELU(Activation):
    r"""Gaussian error linear unit, exact form, as ``F.gelu(z)`` (``approximate="none"``).

    .. math::
        f(z) = z\,\Phi(z), \qquad f'(z) = \Phi(z) + z\,\varphi(z), \qquad
        f''(z) = (2 - z^2)\,\varphi(z)

    with :math:`\Phi(z) = \tfrac12 \operatorname{erfc}(-z/\sqrt2)` the standard normal CDF
    and :math:`\varphi(z) = e^{-z^2/2}/\sqrt{2\pi}` its density. (torch computes
    :math:`\tfrac12(1 + \operatorname{erf}(z/\sqrt2))`, which loses relative precision for
    :math:`z \ll 0`; the difference stays far below the absolute tolerance.)
    """

    name = "gelu"
    output_range = (-0.1701, np.inf)  # min of z Phi(z) is -0.16997 at z = -0.7518

    @staticmethod
    def _cdf(z):
        return 0.5 * erfc(-z / math.sqrt(2))

    @staticmethod
    def _pdf(z):
        return np.exp(-0.5 * z * z) / _SQRT_2PI

    def _forward(self, z):
        return z * self._cdf(z)

    def _derivative(self, z):
        return self._cdf(z) + z * self._pdf(z)

    def _second_derivative(self, z):
        return (2 - z * z) * self._pdf(z)


@register
class GELUTanh(Activation):
    r"""GELU, tanh approximation, as ``F.gelu(z, approximate="tanh")``.

    .. math::
        f(z) = \tfrac12 z \,(1 + \tanh u), \qquad
        u = \sqrt{2/\pi}\,(z + \kappa z^3), \quad \kappa = 0.044715

    Since :math:`\tfrac12(1 + \tanh u) = \sigma(2u)`, this is computed as
    :math:`f = z\,\sigma(2u)` (no cancellation when :math:`\tanh u \to -1`), and

    .. math::
        f'(z) = \sigma(2u) + 2 z\,\sigma'(2u)\,u', \qquad
        u' = \sqrt{2/\pi}\,(1 + 3\kappa z^2)

    .. math::
        f''(z) = 4\sigma'(2u)\,u' + 2z\,\big(2\sigma''(2u)\,u'^2 + \sigma'(2u)\,u''\big),
        \qquad u'' = 6\kappa\sqrt{2/\pi}\,z
    """

    name = "gelu_tanh"
    output_range = (-0.1701, np.inf)
    KAPPA: ClassVar[float] = 0.044715
    BETA: ClassVar[float] = float(np.sqrt(2 / np.pi))

    def _u(self, z):
        return self.BETA * (z + self.KAPPA * z * z * z)

    def _du(self, z):
        return self.BETA * (1 + 3 * self.KAPPA * z * z)

    def _forward(self, z):
        return z * _sigmoid(2 * self._u(z))

    def _derivative(self, z):
        v = 2 * self._u(z)
        return _sigmoid(v) + 2 * z * Sigmoid()._derivative(v) * self._du(z)

    def _second_derivative(self, z):
        v, du = 2 * self._u(z), self._du(z)
        d1, d2 = Sigmoid()._derivative(v), Sigmoid()._second_derivative(v)
        d2u = 6 * self.KAPPA * self.BETA * z
        return 4 * d1 * du + 2 * z * (2 * d2 * du * du + d1 * d2u)


@register
class Softplus(Activation):
    r"""Softplus, as ``F.softplus(z, beta, threshold)``.

    .. math::
        f(z) = \begin{cases} \frac1\beta \log(1 + e^{\beta z}) & \beta z \le \text{threshold} \\
        z & \beta z > \text{threshold} \end{cases}, \qquad
        f'(z) = \begin{cases} \sigma(\beta z) & \beta z \le \text{threshold} \\
        1 & \beta z > \text{threshold} \end{cases}

    .. math::
        f''(z) = \begin{cases} \beta\,\sigma(\beta z)\,(1 - \sigma(\beta z)) &
        \beta z < \text{threshold} \\ 0 & \beta z \ge \text{threshold} \end{cases}

    torch's linear region: above the threshold it returns :math:`z` itself (the two
    sides differ by :math:`< e^{-20}` at the default threshold). At exactly
    :math:`\beta z` = threshold, :math:`f' = \sigma(\beta z)` (the softplus side) but
    :math:`f'' = 0` (the linear side), both as torch's autograd returns.

    Any real ``beta`` is computed as torch computes it: a negative beta gives the mirrored
    curve :math:`\frac1\beta\log(1 + e^{\beta z}) \le 0`; ``beta = 0`` gives
    :math:`\log 2/0 = \infty` (and :math:`f' = \sigma(0) = 1/2`), as torch.
    """

    name = "softplus"
    defaults = {"beta": 1.0, "threshold": 20.0}
    beta: float
    threshold: float

    @property
    def output_range(self) -> tuple[float, float]:
        return (0.0, np.inf) if self.beta > 0 else (-np.inf, np.inf)

    @property
    def kinks(self) -> tuple[float, ...]:
        return (self.threshold / self.beta,) if self.beta else ()

    def _linear(self, z):
        return np.real(z) * self.beta > self.threshold

    def _forward(self, z):
        with np.errstate(divide="ignore", invalid="ignore"):  # beta = 0: log 2/0 = inf, as torch
            curved = _softplus(self.beta * z) / z.dtype.type(self.beta)
        return np.where(self._linear(z), z, curved)

    def _derivative(self, z):
        return np.where(self._linear(z), np.ones_like(z), _sigmoid(self.beta * z))

    def _second_derivative(self, z):
        curved = np.real(z) * self.beta < self.threshold
        return np.where(curved, self.beta * Sigmoid()._derivative(self.beta * z),
                        np.zeros_like(z))


@register
class SiLU(Activation):
    r"""Sigmoid-weighted linear unit (swish), as ``F.silu``.

    .. math::
        f(z) = z\,\sigma(z), \qquad f'(z) = \sigma(z)\,\big(1 + z\,(1 - \sigma(z))\big), \qquad
        f''(z) = \sigma'(z)\,\big(2 + z\,(1 - 2\sigma(z))\big)
    """

    name = "silu"
    output_range = (-0.2785, np.inf)  # min of z sigma(z) is -0.27846 at z = -1.2785

    def _forward(self, z):
        return z * _sigmoid(z)

    def _derivative(self, z):
        return _sigmoid(z) + z * Sigmoid()._derivative(z)  # sigma + z sigma (1 - sigma)

    def _second_derivative(self, z):
        return Sigmoid()._derivative(z) * (2 - z * np.tanh(z / 2))  # 1 - 2 sigma = -tanh(z/2)


@register
class Mish(Activation):
    r"""Mish (Misra 2019), as ``F.mish``: :math:`f(z) = z \tanh(\operatorname{sp}(z))`,
    :math:`\operatorname{sp}(z) = \log(1 + e^z)`.

    .. math::
        f'(z) = \tanh(\operatorname{sp}) + z\,\sigma(z)\,\operatorname{sech}^2(\operatorname{sp})

    .. math::
        f''(z) = \sigma(z)\,\operatorname{sech}^2(\operatorname{sp})\,
        \big(2 + z\,(1 - \sigma(z)) - 2 z\,\sigma(z) \tanh(\operatorname{sp})\big)

    using :math:`\operatorname{sp}' = \sigma`. The softplus is the stable one, so
    :math:`z = 10^4` gives :math:`10^4` without overflow.
    """

    name = "mish"
    output_range = (-0.3089, np.inf)  # min is -0.30884 at z = -1.1924

    def _forward(self, z):
        return z * np.tanh(_softplus(z))

    def _derivative(self, z):
        sp = _softplus(z)
        return np.tanh(sp) + z * _sigmoid(z) * _sech2(sp)

    def _second_derivative(self, z):
        sp, s = _softplus(z), _sigmoid(z)
        return s * _sech2(sp) * (2 + z * _sigmoid(-z) - 2 * z * s * np.tanh(sp))
