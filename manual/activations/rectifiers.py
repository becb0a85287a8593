"""Piecewise-linear units: identity, ReLU, leaky ReLU."""

from __future__ import annotations

import numpy as np

from manual.activations.base import Activation, _as, _positive, register


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
        # not (z <= 0), as torch's threshold_backward: a NaN input passes its gradient
        # (in every kernel of torch's, scalar and vectorised alike)
        return (~(np.real(z) <= 0)).astype(z.dtype)

    def _second_derivative(self, z):
        return np.zeros_like(z)


@register
class LeakyReLU(Activation):
    r"""Leaky ReLU, as ``F.leaky_relu(z, negative_slope)``.

    .. math::
        f(z) = \begin{cases} z & z > 0 \\ \alpha z & z \le 0 \end{cases}, \qquad
        f'(z) = \begin{cases} 1 & z > 0 \\ \alpha & z \le 0 \end{cases}, \qquad f''(z) = 0

    with :math:`\alpha` = ``negative_slope`` (default 0.01). At :math:`z = 0` the
    derivative is :math:`\alpha` (the left side), as torch's autograd returns.
    """

    name = "leaky_relu"
    defaults = {"negative_slope": 0.01}
    negative_slope: float
    kinks = (0.0,)

    def _forward(self, z):
        return np.where(_positive(z), z, self.negative_slope * z)

    def _derivative(self, z):
        return _as(np.where(_positive(z), 1.0, self.negative_slope), z)

    def _second_derivative(self, z):
        return np.zeros_like(z)
