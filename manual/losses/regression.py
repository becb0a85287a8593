"""Regression losses: MSE, SSE, the quadratic cost, MAE, Huber, smooth L1, and the Gaussian
and Poisson negative log-likelihoods."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from manual._checks import as_real_array, check_finite, check_number
from manual._numerics import _abs, _sign
from manual.losses.base import Loss, register


class _ElementWeighted(Loss):
    """torch 2.13's optional elementwise ``weight`` (pred's shape) for mse, l1 and huber:
    each term is multiplied by its weight. ``weighted_mean`` says what ``"mean"`` divides
    by: the sum of the weights (mse, l1) or the number of elements (huber), as torch."""

    weighted_mean: ClassVar[bool] = True

    def _check_params(self) -> None:
        super()._check_params()
        self._check_weight()

    def _mean_denominator(self, pred, target):
        if self.weight is None or not self.weighted_mean:
            return super()._mean_denominator(pred, target)
        return float(np.sum(self.weight))

    def _forward(self, pred, target):
        w = self._broadcast_weight(self.weight, pred, exact=True)
        return w * self._term(pred - target)

    def _backward(self, pred, target):
        w = self._broadcast_weight(self.weight, pred, exact=True)
        return w * self._term_derivative(pred - target)

    def _term(self, d: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _term_derivative(self, d: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@register
class MSE(_ElementWeighted):
    r"""Mean squared error, as ``F.mse_loss``.

    .. math::
        L = \frac{1}{N} \sum_i (\hat y_i - y_i)^2, \qquad
        \frac{\partial L}{\partial \hat y_i} = \frac{2}{N} (\hat y_i - y_i)

    N counts every element (torch's default ``reduction="mean"``); ``"sum"`` drops
    the 1/N. With ``weight`` (pred's shape) each term is :math:`w_i(\hat y_i - y_i)^2` and
    the mean divides by :math:`\sum_i w_i`, as torch.
    """

    name = "mse"
    defaults = {"reduction": "mean", "weight": None}

    def _term(self, d):
        return d * d

    def _term_derivative(self, d):
        return 2 * d


@register
class SSE(Loss):
    r"""Half the sum of squared errors, the :math:`J` of the classic 3-2-1 network.

    .. math::
        J = \tfrac12 \sum_i (y_i - \hat y_i)^2, \qquad
        \frac{\partial J}{\partial \hat y_i} = \hat y_i - y_i

    The ½ cancels the 2 of the square. No ``reduction`` argument: it is a sum by
    definition (torch: ``0.5 * F.mse_loss(pred, y, reduction="sum")``).
    """

    name = "sse"
    defaults = {}
    reductions = ("sum",)

    def _forward(self, pred, target):
        d = pred - target
        return 0.5 * d * d

    def _backward(self, pred, target):
        return pred - target


@register
class Quadratic(Loss):
    r"""The quadratic cost of the classic single-neuron derivation (Nielsen, ch. 1–2).

    .. math::
        C = \frac{1}{2N} \sum_{n=1}^{N} \lVert \hat y_n - y_n \rVert^2, \qquad
        \frac{\partial C}{\partial \hat y_n} = \frac{1}{N} (\hat y_n - y_n)

    N is the number of **samples** (rows of ``pred``), not of elements: with one
    output it equals ``0.5 * F.mse_loss``; with K outputs it is K/2 times it. torch:
    ``0.5 * F.mse_loss(pred, y, reduction="sum") / N``. No ``reduction`` argument.
    """

    name = "quadratic"
    defaults = {}
    reductions = ("mean",)

    def _reduction(self) -> str:
        return "mean"

    def _mean_denominator(self, pred, target):
        return float(pred.shape[0]) if pred.ndim else 1.0

    def _forward(self, pred, target):
        d = pred - target
        return 0.5 * d * d

    def _backward(self, pred, target):
        return pred - target


@register
class MAE(_ElementWeighted):
    r"""Mean absolute error, as ``F.l1_loss``.

    .. math::
        L = \frac1N \sum_i |\hat y_i - y_i|, \qquad
        \frac{\partial L}{\partial \hat y_i} = \frac1N \operatorname{sign}(\hat y_i - y_i)

    At :math:`\hat y_i = y_i` the gradient is **0** (torch's :math:`\operatorname{sign}(0)`).
    With ``weight``, terms are weighted and the mean divides by :math:`\sum_i w_i`.
    """

    name = "mae"
    defaults = {"reduction": "mean", "weight": None}

    def _term(self, d):
        return _abs(d)

    def _term_derivative(self, d):
        return _sign(d)


@register
class Huber(_ElementWeighted):
    r"""Huber loss, as ``F.huber_loss(pred, y, delta=1.0)``. With :math:`d = \hat y - y`:

    .. math::
        \ell(d) = \begin{cases} \tfrac12 d^2 & |d| < \delta \\
        \delta\,(|d| - \tfrac12\delta) & |d| \ge \delta \end{cases}, \qquad
        \ell'(d) = \begin{cases} d & |d| \le \delta \\ \delta \operatorname{sign} d & |d| > \delta
        \end{cases}

    :math:`\ell'` is continuous (:math:`\pm\delta` from both sides at the switch).
    ``delta`` must be > 0, as torch requires. With ``weight`` the terms are weighted but,
    unlike mse and l1, torch's mean still divides by the number of elements.
    """

    name = "huber"
    defaults = {"reduction": "mean", "delta": 1.0, "weight": None}
    delta: float
    weighted_mean = False

    def _check_params(self) -> None:
        super()._check_params()
        self.delta = check_number(self.name, "delta", self.delta, low=0.0, low_open=True)

    def _term(self, d):
        a = _abs(d)
        return np.where(np.real(a) < self.delta, 0.5 * d * d, self.delta * (a - 0.5 * self.delta))

    def _term_derivative(self, d):
        # torch's branches: -delta below -delta, delta above delta, d between (and at NaN)
        r = np.real(d)
        return np.where(r <= -self.delta, -self.delta,
                        np.where(r >= self.delta, self.delta, d)).astype(d.dtype, copy=False)


@register
class SmoothL1(Loss):
    r"""Smooth L1 loss, as ``F.smooth_l1_loss(pred, y, beta=1.0)``. With :math:`d = \hat y - y`:

    .. math::
        \ell(d) = \begin{cases} \tfrac12 d^2/\beta & |d| < \beta \\
        |d| - \tfrac12\beta & |d| \ge \beta \end{cases}, \qquad
        \ell'(d) = \begin{cases} d/\beta & |d| < \beta \\ \operatorname{sign} d & |d| \ge \beta
        \end{cases}

    Huber divided by :math:`\beta`. ``beta = 0`` is exactly the L1 loss (torch's special
    case, gradient 0 at :math:`d = 0`); ``beta`` must be >= 0.
    """

    name = "smooth_l1"
    defaults = {"reduction": "mean", "beta": 1.0}
    beta: float

    def _check_params(self) -> None:
        super()._check_params()
        self.beta = check_number(self.name, "beta", self.beta, low=0.0)

    def _forward(self, pred, target):
        d = pred - target
        a = _abs(d)
        if self.beta == 0:
            return a
        return np.where(np.real(a) < self.beta, 0.5 * d * d / self.beta, a - 0.5 * self.beta)

    def _backward(self, pred, target):
        d = pred - target
        if self.beta == 0:
            return _sign(d)
        # torch's branches: -1 below -beta, 1 above beta, d/beta between (and at NaN)
        r = np.real(d)
        return np.where(r < -self.beta, -1.0, np.where(r > self.beta, 1.0, d / self.beta)
                        ).astype(d.dtype, copy=False)


@register
class GaussianNLL(Loss):
    r"""Gaussian negative log-likelihood, as ``F.gaussian_nll_loss(pred, y, var)``.

    .. math::
        \ell = \tfrac12 \left(\log v + \frac{(\hat y - y)^2}{v}\right)
        \;(+\, \tfrac12 \log 2\pi \text{ if full}), \qquad v = \max(\text{var}, \epsilon)

    .. math::
        \frac{\partial \ell}{\partial \hat y} = \frac{\hat y - y}{v}, \qquad
        \frac{\partial \ell}{\partial\, \text{var}} = \tfrac12\left(\frac1v -
        \frac{(\hat y - y)^2}{v^2}\right)

    torch takes ``var`` as a third input. Here it is a keyword of ``forward``,
    ``backward`` and :meth:`backward_var` (default 1: unit variance, which is what the
    network matrix uses), in one of torch's three layouts: pred's shape; pred's shape
    without the last axis (one variance per row, also when N = C); or pred's shape with
    one axis of size 1. Any other shape is rejected, as torch. The target may, as torch's
    documents, broadcast to pred's shape (e.g. (N, 1) for (N, C)). As torch: var is clamped
    at ``eps`` without stopping its gradient, must be >= 0, and the mean is over all
    elements.
    """

    name = "gaussian_nll"
    defaults = {"full": False, "eps": 1e-6, "reduction": "mean"}
    full: bool
    eps: float

    def _check_params(self) -> None:
        super()._check_params()
        if not isinstance(self.full, (bool, np.bool_)):
            raise TypeError(f"gaussian_nll: full must be True or False, got {self.full!r}")
        self.eps = check_number(self.name, "eps", self.eps, low=0.0)

    @staticmethod
    def _var_layout(var_shape: tuple[int, ...], pred_shape: tuple[int, ...]
                    ) -> tuple[int, ...] | None:
        """The shape var takes before broadcasting against pred, by torch's rule (None if
        torch rejects it): pred's shape; pred's shape without its last axis (one variance
        per row: a trailing axis is added, also when N = C); or pred's rank with exactly
        one axis of size 1 where pred's differs (one variance shared along that axis)."""
        if var_shape == pred_shape:
            return var_shape
        if var_shape == pred_shape[:-1]:
            return var_shape + (1,)
        if len(var_shape) == len(pred_shape) and sum(
                v for p, v in zip(pred_shape, var_shape) if p != v) == 1:
            return var_shape
        return None

    def _validate_float_target(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        """A target of pred's shape, or, as torch documents for this loss, one that
        broadcasts to it (an axis of size 1, or fewer leading axes): it is broadcast. A
        target that would enlarge the loss beyond pred's shape is refused."""
        if target.shape != pred.shape:
            try:
                if np.broadcast_shapes(pred.shape, target.shape) == pred.shape:
                    target = np.broadcast_to(target, pred.shape)
            except ValueError:
                pass  # refused below, naming both shapes
        return super()._validate_float_target(pred, target)

    def _var(self, pred: np.ndarray, var: Any) -> np.ndarray:
        """var checked as torch checks it, laid out by :meth:`_var_layout`, broadcast to
        pred's shape and clamped at eps. A Python number is one variance for every
        element (torch: a float; an int is accepted here too)."""
        if isinstance(var, (int, float)) and not isinstance(var, bool):
            if var < 0:
                raise ValueError("gaussian_nll: var has negative entries")
            return np.full(pred.shape, max(float(var), self.eps), dtype=pred.dtype)
        v = as_real_array(var, "gaussian_nll: var")
        check_finite(v, "gaussian_nll: var")
        if (v < 0).any():
            raise ValueError("gaussian_nll: var has negative entries")
        layout = self._var_layout(v.shape, pred.shape)
        if layout is None:
            raise ValueError(f"gaussian_nll: var of shape {v.shape} does not fit pred's shape "
                             f"{pred.shape}; torch takes pred's shape, pred's shape without "
                             f"its last axis, or pred's shape with one axis of size 1")
        try:
            v = np.broadcast_to(v.reshape(layout), pred.shape)
        except ValueError:
            raise ValueError(f"gaussian_nll: var of shape {v.shape} does not broadcast to "
                             f"pred's shape {pred.shape}") from None
        return np.maximum(v, self.eps).astype(pred.dtype)

    def forward(self, pred, target, var: Any = 1.0):
        pred, target = self._validate(pred, target)
        return self._reduce(self._terms(pred, target, self._var(pred, var)), pred, target)

    def backward(self, pred, target, grad_out=None, var: Any = 1.0):
        pred, target = self._validate(pred, target)
        v = self._var(pred, var)
        return self._chain_reduction((pred - target) / v, pred, target, grad_out)

    def backward_var(self, pred, target, var: Any = 1.0, grad_out=None) -> np.ndarray:
        r""":math:`\partial L/\partial\,\text{var}`, in var's own shape: summed over the
        axes var was broadcast along (a Python-number var gets pred's shape)."""
        pred, target = self._validate(pred, target)
        v = self._var(pred, var)
        d = pred - target
        full = self._chain_reduction(0.5 * (1 / v - d * d / (v * v)), pred, target, grad_out)
        if not isinstance(var, np.ndarray):
            return full
        layout = self._var_layout(var.shape, pred.shape)
        assert layout is not None  # _var above refused a var without a layout
        summed = np.sum(full, axis=tuple(i for i, n in enumerate(layout) if n == 1),
                        keepdims=True)  # the axes var was broadcast along
        return summed.reshape(var.shape)

    def value(self, pred, target, var: Any = 1.0):
        v = np.asarray(var, dtype=np.float64)
        layout = self._var_layout(v.shape, np.shape(pred)) if v.ndim else ()
        v = np.maximum(np.broadcast_to(v.reshape(layout), np.shape(pred)), self.eps)
        return self._reduce(self._terms(pred, target, v), pred, target)

    def _terms(self, pred, target, v):
        d = pred - target
        out = 0.5 * (np.log(v) + d * d / v)
        return out + 0.5 * math.log(2 * math.pi) if self.full else out


@register
class PoissonNLL(Loss):
    r"""Poisson negative log-likelihood, as ``F.poisson_nll_loss``.

    With ``log_input=True`` (default) the prediction is :math:`x = \log \lambda`:

    .. math::
        \ell = e^{x} - y\,x, \qquad \frac{\partial \ell}{\partial x} = e^{x} - y

    with ``log_input=False`` it is the rate :math:`\lambda \ge 0` itself:

    .. math::
        \ell = \lambda - y \log(\lambda + \epsilon), \qquad
        \frac{\partial \ell}{\partial \lambda} = 1 - \frac{y}{\lambda + \epsilon}

    ``full=True`` adds Stirling's term :math:`y \log y - y + \tfrac12 \log(2\pi y)` for
    :math:`y > 1` (0 otherwise), as torch; it does not depend on the prediction.
    Targets are counts (>= 0).
    """

    name = "poisson_nll"
    defaults = {"log_input": True, "full": False, "eps": 1e-8, "reduction": "mean"}
    log_input: bool
    full: bool
    eps: float
    target_kind = "count"

    def _check_params(self) -> None:
        super()._check_params()
        for key in ("log_input", "full"):
            if not isinstance(self.kwargs[key], (bool, np.bool_)):
                raise TypeError(f"poisson_nll: {key} must be True or False, got "
                                f"{self.kwargs[key]!r}")
        self.eps = check_number(self.name, "eps", self.eps, low=0.0)

    @property
    def pred_range(self) -> tuple[float, float]:
        return (-np.inf, np.inf) if self.log_input else (0.0, np.inf)

    def _forward(self, pred, target):
        if self.log_input:
            out = np.exp(pred) - target * pred
        else:
            out = pred - target * np.log(pred + self.eps)
        if self.full:
            big = target > 1
            t = np.where(big, target, 1)  # log of 1 where the term is masked out
            out = out + np.where(big, t * np.log(t) - t + 0.5 * np.log(2 * math.pi * t), 0)
        return out

    def _backward(self, pred, target):
        if self.log_input:
            return np.exp(pred) - target
        return 1 - target / (pred + self.eps)
