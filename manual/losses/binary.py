"""Binary classification: cross-entropy on probabilities and on logits."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from manual._checks import as_real_array, check_finite
from manual._numerics import _sigmoid, _softplus
from manual.losses.base import Loss, register


@register
class BCE(Loss):
    r"""Binary cross-entropy on probabilities, as ``F.binary_cross_entropy``.

    .. math::
        L = -\frac{1}{N} \sum_i w_i \left[ y_i \log \hat y_i + (1 - y_i) \log(1 - \hat y_i) \right]

    .. math::
        \frac{\partial L}{\partial \hat y_i} = \frac{w_i}{N}\,
        \frac{\hat y_i - y_i}{\max\big(\hat y_i (1 - \hat y_i),\ 10^{-12}\big)}

    torch's conventions, matched exactly: each log is clamped at :math:`-100`, so
    :math:`\hat y = 0` or 1 gives a finite loss (100 per term); the backward
    divides by :math:`\max(\hat y(1-\hat y), \epsilon)`, not by the derivative of the
    clamped log, with torch's ``EPSILON = 1e-12`` *as a float32 constant*
    (9.9999999600e-13, in float64 too: it shows as 4e-9 relative in the gradient at
    :math:`\hat y \in \{0, 1\}`). ``weight`` rescales each element
    and must broadcast to ``pred``'s shape.
    """

    name = "bce"
    defaults = {"weight": None, "reduction": "mean"}
    pred_range = (0.0, 1.0)
    target_kind = "probability"
    EPSILON: ClassVar[float] = float(np.float32(1e-12))  # torch: a float in Loss.cpp

    def _check_params(self) -> None:
        super()._check_params()
        self._check_weight()

    @staticmethod
    def _clamped_log(x, log1p: bool = False):
        """log(x) (or log1p(x)) clamped at -100, as torch (branch on the real part)."""
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
            lg = np.log1p(x) if log1p else np.log(x)
        return np.where(np.real(lg) < -100, -100, lg)

    def _forward(self, pred, target):
        # log1p(-p), as torch: exact for tiny p, where log(1 - p) would round 1 - p first
        log_p, log_1mp = self._clamped_log(pred), self._clamped_log(-pred, log1p=True)
        w = self._broadcast_weight(self.weight, pred)
        return -w * (target * log_p + (1 - target) * log_1mp)

    def _backward(self, pred, target):
        q = pred * (1 - pred)
        denom = np.where(np.real(q) < self.EPSILON, self.EPSILON, q)
        return self._broadcast_weight(self.weight, pred) * (pred - target) / denom


@register
class BCEWithLogits(Loss):
    r"""Binary cross-entropy on logits, as ``F.binary_cross_entropy_with_logits``.

    With :math:`x` the logit, :math:`p` = ``pos_weight`` (broadcast along the last
    axis, the classes) and :math:`w` = ``weight``, using
    :math:`-\log\sigma(x) = \operatorname{sp}(-x)` and
    :math:`-\log(1-\sigma(x)) = \operatorname{sp}(x)` (softplus, stable at any x):

    .. math::
        \ell = w \left[ p\,y\,\operatorname{sp}(-x) + (1 - y)\,\operatorname{sp}(x) \right],
        \qquad
        \frac{\partial \ell}{\partial x} = w \left[ (1 - y)\,\sigma(x) - p\,y\,\sigma(-x) \right]

    which is :math:`w(\sigma(x) - y)` for :math:`p = 1`. Finite at logits of
    :math:`\pm 10^4`, where ``bce`` on ``sigmoid`` would clamp.
    """

    name = "bce_with_logits"
    defaults = {"weight": None, "pos_weight": None, "reduction": "mean"}
    pos_weight: np.ndarray | None
    target_kind = "probability"

    def _check_params(self) -> None:
        super()._check_params()
        self._check_weight()
        if self.pos_weight is not None:
            self.pos_weight = as_real_array(self.pos_weight, "bce_with_logits: pos_weight")
            check_finite(self.pos_weight, "bce_with_logits: pos_weight")

    def _forward(self, pred, target):
        w = self._broadcast_weight(self.weight, pred)
        p = self._broadcast_weight(self.pos_weight, pred, "pos_weight")
        return w * (p * target * _softplus(-pred) + (1 - target) * _softplus(pred))

    def _backward(self, pred, target):
        w = self._broadcast_weight(self.weight, pred)
        p = self._broadcast_weight(self.pos_weight, pred, "pos_weight")
        return w * ((1 - target) * _sigmoid(pred) - p * target * _sigmoid(-pred))
