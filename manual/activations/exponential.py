"""Exponential linear units: ELU, SELU, CELU."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from manual.activations.base import Activation, _as, _positive, register


class _ExponentialLinear(Activation):
    r"""Shared by ELU, SELU and CELU:
    :math:`f(z) = s\,z` for :math:`z > 0`, :math:`s\,\alpha\,(e^{z/c} - 1)` for :math:`z \le 0`."""

    kinks = (0.0,)

    def _scale_alpha_c(self) -> tuple[float, float, float]:
        raise NotImplementedError

    @property
    def output_range(self) -> tuple[float, float]:
        s, a, _ = self._scale_alpha_c()
        return (min(-s * a, 0.0), np.inf)

    @staticmethod
    def _neg_side(z):
        """z where z < 0, else 0: the exponentials below never see a large positive z."""
        return np.where(np.real(z) < 0, z, 0 * z)

    def _forward(self, z):
        s, a, c = self._scale_alpha_c()
        with np.errstate(over="ignore"):  # celu with alpha < 0 grows like torch's: to inf
            neg = s * a * np.expm1(self._neg_side(z) / c)  # expm1: accurate near 0
        return np.where(_positive(z), s * z, neg)

    def _derivative(self, z):
        s, a, c = self._scale_alpha_c()
        return _as(np.where(_positive(z), s, s * a / c * np.exp(self._neg_side(z) / c)), z)

    def _second_derivative(self, z):
        # 0 at z = 0: torch's double backward takes the z >= 0 side there
        s, a, c = self._scale_alpha_c()
        curved = s * a / (c * c) * np.exp(self._neg_side(z) / c)
        return _as(np.where(np.real(z) < 0, curved, 0.0), z)


@register
class ELU(_ExponentialLinear):
    r"""Exponential linear unit, as ``F.elu(z, alpha)``.

    .. math::
        f(z) = \begin{cases} z & z > 0 \\ \alpha (e^z - 1) & z \le 0 \end{cases}, \qquad
        f'(z) = \begin{cases} 1 & z > 0 \\ \alpha e^z & z \le 0 \end{cases}, \qquad
        f''(z) = \begin{cases} 0 & z \ge 0 \\ \alpha e^z & z < 0 \end{cases}

    At :math:`z = 0`: :math:`f'(0) = \alpha` (the left side) and :math:`f''(0) = 0`,
    as torch's autograd and double backward return.
    """

    name = "elu"
    defaults = {"alpha": 1.0}
    alpha: float

    def _scale_alpha_c(self):
        return 1.0, self.alpha, 1.0


@register
class SELU(_ExponentialLinear):
    r"""Scaled ELU (Klambauer et al. 2017), as ``F.selu``: :math:`\lambda\,\mathrm{ELU}_\alpha(z)`.

    .. math::
        f(z) = \lambda \begin{cases} z & z > 0 \\ \alpha (e^z - 1) & z \le 0 \end{cases},
        \qquad f'(z) = \lambda \begin{cases} 1 & z > 0 \\ \alpha e^z & z \le 0 \end{cases}

    with torch's constants :math:`\alpha = 1.6732632423543772`,
    :math:`\lambda = 1.0507009873554805`. At :math:`z = 0`: :math:`f'(0) = \lambda\alpha`
    (the left side) and :math:`f''(0) = 0`, as torch.
    """

    name = "selu"
    ALPHA: ClassVar[float] = 1.6732632423543772848170429916717
    SCALE: ClassVar[float] = 1.0507009873554804934193349852946

    def _scale_alpha_c(self):
        return self.SCALE, self.ALPHA, 1.0


@register
class CELU(_ExponentialLinear):
    r"""Continuously differentiable ELU (Barron 2017), as ``F.celu(z, alpha)``.

    .. math::
        f(z) = \max(0, z) + \min\big(0, \alpha (e^{z/\alpha} - 1)\big), \qquad
        f'(z) = \begin{cases} 1 & z > 0 \\ e^{z/\alpha} & z \le 0 \end{cases}, \qquad
        f''(z) = \begin{cases} 0 & z \ge 0 \\ e^{z/\alpha}/\alpha & z < 0 \end{cases}

    :math:`f'` is continuous (1 on both sides of 0); :math:`f''` jumps at 0, where
    torch's double backward returns 0. ``alpha`` must not be 0.

    torch quirk, matched: its backward uses :math:`c = 1/\mathrm{fl}_{32}(\alpha)`, the
    reciprocal of alpha rounded to **float32** (``1.0 / alpha.toFloat()``), in float64
    too: :math:`f'(z) = \alpha\,c\,e^{c z}` and :math:`f''(z) = \alpha\,c^2 e^{c z}` for
    :math:`z \le 0`. For an alpha exact in float32 (1, 2, 0.5) that is the textbook
    :math:`e^{z/\alpha}`; for alpha = 0.3 the two differ by about 4e-8 relative, so the
    complex step (exact to 1e-15) applies only to float32-exact alphas (``analytic``).
    The forward uses the exact alpha, as torch.
    """

    name = "celu"
    defaults = {"alpha": 1.0}
    alpha: float

    def _check_params(self) -> None:
        super()._check_params()
        if self.alpha == 0:
            raise ValueError("celu: alpha must not be 0 (it divides z)")

    @property
    def analytic(self) -> bool:
        return float(np.float32(self.alpha)) == self.alpha

    def _scale_alpha_c(self):
        return 1.0, self.alpha, self.alpha

    def _derivative(self, z):
        c = float(np.float32(self.alpha))  # torch's backward: alpha rounded to float32
        with np.errstate(over="ignore"):  # alpha < 0: e^{z/alpha} overflows as torch's
            curved = self.alpha / c * np.exp(self._neg_side(z) / c)
        return _as(np.where(_positive(z), 1.0, curved), z)

    def _second_derivative(self, z):
        c = float(np.float32(self.alpha))
        with np.errstate(over="ignore"):
            curved = self.alpha / (c * c) * np.exp(self._neg_side(z) / c)
        return _as(np.where(np.real(z) < 0, curved, 0.0), z)
