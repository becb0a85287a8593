r"""The planted bugs of the activations and losses: each a subclass of the correct manual
component with one classic slip, named by the component records
(:data:`comparisons.cases.components.COMPONENTS`, ``ComponentInfo.bugs``) and shown in the
gallery (:mod:`comparisons.teaching.gallery`); every comparison must catch each.
"""

from __future__ import annotations

import numpy as np

from manual import losses
from manual._numerics import _sigmoid as _stable_sigmoid
from manual.activations import ELU, GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Softplus, Tanh
from manual.losses import MSE, NLL, CrossEntropy, Huber

__all__ = ["ELUWithoutAlpha", "ElementwiseSoftmax", "FlippedExponentSigmoid", "FlippedSigmoid",
           "GeluWithoutDensityTerm", "HuberWrongDefault", "LeakyAtZeroOne", "MSEWithoutMean",
           "NearlyRightSigmoid", "NoSmoothingGradient", "ReLUOneAtZero",
           "SoftplusAlwaysCurved", "SteepHuber", "TanhNotSquared", "UnweightedNLLGradient"]


class LeakyAtZeroOne(LeakyReLU):
    """Slip: f'(0) taken as 1 (the right side) where torch uses negative_slope."""

    def _derivative(self, z):
        return np.where(np.real(z) >= 0, 1.0, self.negative_slope).astype(z.dtype)


class GeluWithoutDensityTerm(GELU):
    """Slip: GELU' written as Phi(z), forgetting the product rule's z * phi(z)."""

    def _derivative(self, z):
        return self._cdf(z)


class SoftplusAlwaysCurved(Softplus):
    """Slip: softplus' with torch's linear region ignored: sigma(beta z) everywhere."""

    def _derivative(self, z):
        return 1 / (1 + np.exp(-self.beta * z))


class ElementwiseSoftmax(Softmax):
    r"""Slip: the softmax backward treated as elementwise, :math:`g \odot s(1 - s)`.

    That keeps only the diagonal :math:`\partial s_i/\partial z_i` of the Jacobian and drops
    the off-diagonal :math:`-s_i s_k`: right for a sigmoid, wrong for a softmax (the right
    product is :math:`s \odot (g - \langle g, s\rangle)`)."""

    def _vjp(self, z, g, axis):
        s = self._forward(z, axis)
        return g * s * (1 - s)


class FlippedSigmoid(Sigmoid):
    """Slip: sigma'(z) with the sign flipped, -sigma(1 - sigma)."""

    def _derivative(self, z):
        s = _stable_sigmoid(z)
        return -s * (1 - s)


class FlippedExponentSigmoid(Sigmoid):
    r"""Slip: :math:`\sigma(z) = 1/(1 + e^{z})`, the sign of the exponent flipped.

    That is :math:`\sigma(-z)`: a mirror image. The derivative is left as
    :math:`\sigma(z)(1 - \sigma(z))`, which is even in z, so only the forward pass is wrong —
    and the backward no longer matches it (the true derivative of :math:`\sigma(-z)` is
    :math:`-\sigma'(z)`)."""

    def _forward(self, z):
        return _stable_sigmoid(-z)  # = 1 / (1 + e^{z}), computed stably


class NearlyRightSigmoid(Sigmoid):
    """Slip: a derivative off by one part in 10^7: only a tight oracle sees it."""

    def _derivative(self, z):
        return super()._derivative(z) * (1 + 1e-7)


class TanhNotSquared(Tanh):
    r"""Slip: :math:`\tanh'(z) = 1 - \tanh(z)`, not :math:`1 - \tanh^2(z)`."""

    def _derivative(self, z):
        return 1 - np.tanh(z)


class ReLUOneAtZero(ReLU):
    r"""Slip: ReLU'(0) taken as 1 (``z >= 0``) where torch's autograd uses 0 (``z > 0``).

    Invisible wherever no pre-activation is exactly 0: caught only by testing at the kink."""

    def _derivative(self, z):
        return (np.real(z) >= 0).astype(z.dtype)


class ELUWithoutAlpha(ELU):
    """Slip: ELU' on the negative side as e^z, the factor alpha forgotten."""

    def _derivative(self, z):
        return np.where(np.real(z) > 0, 1.0, np.exp(self._neg_side(z))).astype(z.dtype)


class NoSmoothingGradient(CrossEntropy):
    """Slip: label smoothing in the loss but forgotten in the gradient."""

    def _backward(self, pred, target):
        keep, labels = self._kept_labels(target)
        w = self._class_weight(pred)[labels][..., None]
        return np.where(keep[..., None], w * (losses.softmax(pred) - self._one_hot(pred, labels)),
                        0)


class UnweightedNLLGradient(NLL):
    """Slip: the class weight dropped from the gradient."""

    def _backward(self, pred, target):
        keep, labels = self._kept_labels(target)
        return -(keep[..., None] * self._one_hot(pred, labels))


class SteepHuber(Huber):
    """Slip: Huber's linear part with slope 1 instead of delta."""

    def _term_derivative(self, d):
        return np.where(np.abs(d) <= self.delta, d, np.sign(d))


class MSEWithoutMean(MSE):
    r"""Slip: the mean in the loss forgotten in the gradient.

    The value is :math:`\frac1N\sum (\hat y - y)^2` but the gradient is returned as
    :math:`2(\hat y - y)`, without the :math:`1/N`: every gradient N times too large."""

    def _chain_reduction(self, per_element, pred, target, grad_out):
        return per_element * (1 if grad_out is None else grad_out)  # should divide by N


class HuberWrongDefault(Huber):
    """Slip: Huber's default delta typed as 1.5 (torch's is 1.0)."""

    defaults = {**Huber.defaults, "delta": 1.5}
