r"""Loss functions: the value and its gradient with respect to the prediction.

Every loss is an object with

``forward(pred, target)``
    The loss. With ``reduction="mean"`` or ``"sum"`` a NumPy scalar of ``pred``'s
    dtype (it behaves as a float); with ``reduction="none"`` an array, one loss per
    element (or per sample, for classification losses).
``backward(pred, target, grad_out=None)``
    :math:`\partial L/\partial \hat y`, the gradient for the prediction, shaped like
    ``pred``. ``grad_out`` is the upstream gradient :math:`\partial J/\partial L`:
    omitted it means 1 for a scalar loss; with ``reduction="none"`` it is required
    and has the loss's shape (a vector–Jacobian product, as torch's autograd computes).

Names, keyword arguments and defaults are those of ``torch.nn.functional``; the
default reduction is torch's ``"mean"``: over all elements for elementwise losses, over
samples for classification losses, and over the *weights* of the samples when a class
``weight`` is given (torch's weighted mean). Classification losses take ``pred`` as
(N, C) or (C,), classes on the last axis.

Every loss is written so that it also runs on complex input (branches test the real
part), which lets the complex-step oracle differentiate it.

>>> import numpy as np
>>> from manual import losses
>>> mse = losses.get("mse")
>>> float(mse.forward(np.array([1.0, 3.0]), np.array([0.0, 0.0])))
5.0
>>> mse.backward(np.array([1.0, 3.0]), np.array([0.0, 0.0]))
array([1., 3.])
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from manual._checks import Configurable, as_real_array, check_choice, check_finite, check_number
from manual.activations import _abs, _log_softmax, _sigmoid, _softmax, _softplus

__all__ = ["Loss", "get", "log_softmax", "names", "register", "softmax"]

_REGISTRY: dict[str, type[Loss]] = {}


def register(cls: type[Loss]) -> type[Loss]:
    """Class decorator: add a loss to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    """The registered loss names, in registration order."""
    return list(_REGISTRY)


def get(name: str | Loss, **kwargs: Any) -> Loss:
    """Return the loss called ``name`` built with torch-named keyword arguments.

    An object with ``forward`` and ``backward`` (your own loss) is returned unchanged.
    """
    if not isinstance(name, str):
        if callable(getattr(name, "forward", None)) and callable(getattr(name, "backward", None)):
            if kwargs:
                raise TypeError("keyword arguments are only accepted with a loss name")
            return name
        raise TypeError(f"loss must be a name or an object with forward/backward, "
                        f"got {type(name).__name__}")
    check_choice(name, names(), "loss")
    return _REGISTRY[name](**kwargs)


# --- numerically stable building blocks (shared with manual.activations) ---------------
def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r""":math:`\log \mathrm{softmax}(z)_i = z_i - m - \log \sum_j e^{z_j - m}`, with
    :math:`m = \max_j z_j`.

    Subtracting the max first keeps every exponent :math:`\le 0`: finite at any input.
    """
    return _log_softmax(z, axis)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r""":math:`\mathrm{softmax}(z)_i = e^{z_i - m} / \sum_j e^{z_j - m}`, stable at any input."""
    return _softmax(z, axis)


def _take(a: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """a[..., labels] row by row: a (N, C) or (C,), labels (N,) or ()."""
    return np.take_along_axis(a, labels[..., None], axis=-1)[..., 0]


class Loss(Configurable):
    """Base class. Subclasses set ``name`` and implement ``_forward`` (the loss terms,
    before reduction: one per element, or one per sample) and ``_backward`` (the
    gradient of the *sum* of those terms with respect to ``pred``).

    Class attributes:

    ``pred_range``
        The closed interval predictions must lie in (BCE: [0, 1]); input outside it is
        rejected.
    ``natural_range``
        The interval the loss is meant for (NLL and KL take log-probabilities,
        (-inf, 0]); the case registry pairs a loss only with activations whose outputs
        lie inside it. Defaults to ``pred_range``.
    ``target_kind``
        ``"real"`` (floating, pred's shape), ``"probability"`` (in [0, 1]),
        ``"distribution"`` (non-negative rows), ``"count"`` (non-negative) or
        ``"class_index"`` (integer labels, one per row of pred).
    ``reductions``
        The reductions torch offers for this loss.
    ``analytic``
        The loss runs on complex input, for the complex-step oracle.
    """

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {"reduction": "mean"}
    pred_range: tuple[float, float] = (-np.inf, np.inf)
    target_kind: ClassVar[str] = "real"
    reductions: ClassVar[tuple[str, ...]] = ("mean", "sum", "none")
    analytic: ClassVar[bool] = True

    @property
    def natural_range(self) -> tuple[float, float]:
        return self.pred_range

    def _check_params(self) -> None:
        if "reduction" in self.kwargs:
            check_choice(self.reduction, self.reductions, f"{self.name} reduction")

    # -- public API -------------------------------------------------------------
    def forward(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The loss value (see the module docstring for the reduction)."""
        pred, target = self._validate(pred, target)
        return self.value(pred, target)

    def backward(self, pred: np.ndarray, target: np.ndarray,
                 grad_out: np.ndarray | float | None = None) -> np.ndarray:
        r""":math:`\partial J/\partial \hat y = g \cdot \partial L/\partial \hat y`, with
        :math:`g` = ``grad_out``."""
        pred, target = self._validate(pred, target)
        return self._chain_reduction(self._backward(pred, target), pred, target, grad_out)

    def value(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The loss without input checks (the complex-step oracle calls this)."""
        return self._reduce(self._forward(pred, target), pred, target)

    # -- reduction: one place for mean / batchmean / sum / none -----------------
    def _reduction(self) -> str:
        return self.kwargs.get("reduction", "sum")

    def _loss_shape(self, pred: np.ndarray, target: np.ndarray) -> tuple[int, ...]:
        """Shape of the unreduced loss: pred's, or pred's without the class axis."""
        return pred.shape

    def _mean_denominator(self, pred: np.ndarray, target: np.ndarray) -> float:
        """N in the mean: the number of loss terms (weighted losses override this)."""
        return float(np.prod(self._loss_shape(pred, target)))  # prod(()) = 1 for a 0-d loss

    def _denominator(self, pred: np.ndarray, target: np.ndarray) -> float | None:
        reduction = self._reduction()
        if reduction == "mean":
            return self._mean_denominator(pred, target)
        if reduction == "batchmean":  # KL divergence: the sum over the batch size
            return float(pred.shape[0]) if pred.ndim else 1.0
        return None

    def _reduce(self, losses: np.ndarray, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        if self._reduction() == "none":
            return losses
        total = np.sum(losses, dtype=pred.dtype)
        denominator = self._denominator(pred, target)
        if denominator is None:
            return total
        with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 is NaN, as in torch
            return total / pred.dtype.type(denominator)

    def _chain_reduction(self, per_term: np.ndarray, pred: np.ndarray, target: np.ndarray,
                         grad_out: np.ndarray | float | None) -> np.ndarray:
        """Multiply the unreduced gradient by the upstream gradient and the reduction's scale.

        ``per_term`` has pred's shape; for a loss with one term per sample, an upstream
        gradient of the loss's shape is broadcast over the class axis.
        """
        loss_shape = self._loss_shape(pred, target)
        if self._reduction() == "none":
            if grad_out is None:
                raise ValueError(f"{self.name}.backward with reduction='none' needs grad_out "
                                 f"of the loss's shape {loss_shape}")
            g = as_real_array(grad_out, "grad_out")
            if g.shape != loss_shape:
                raise ValueError(f"{self.name}.backward: grad_out has shape {g.shape}, expected "
                                 f"{loss_shape}")
            g = g.astype(pred.dtype, copy=False)
            return per_term * g.reshape(g.shape + (1,) * (pred.ndim - g.ndim))
        g = pred.dtype.type(1) if grad_out is None else as_real_array(grad_out, "grad_out")
        if np.ndim(g) != 0:
            raise ValueError(f"{self.name}.backward: grad_out must be a scalar for "
                             f"reduction={self._reduction()!r}, got shape {np.shape(g)}")
        g = pred.dtype.type(g)
        denominator = self._denominator(pred, target)
        if denominator == 0:  # every term ignored (or zero weight): torch's gradient is 0
            return np.zeros_like(per_term)
        if denominator is not None:
            g = g / pred.dtype.type(denominator)
        return per_term * g

    # -- validation at the boundary ---------------------------------------------
    def _validate(self, pred: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
        pred = as_real_array(pred, f"{self.name}: pred")
        lo, hi = self.pred_range
        if np.isfinite(lo) or np.isfinite(hi):
            outside = (pred < lo) | (pred > hi) | np.isnan(pred)
            if outside.any():
                idx = tuple(int(i) for i in np.argwhere(outside)[0])
                raise ValueError(f"{self.name}: pred must lie in [{lo}, {hi}]; got {pred[idx]!r} "
                                 f"at index {idx}")
        target = np.asarray(target)
        if self.target_kind == "class_index":
            return pred, self._validate_labels(pred, target)
        return pred, self._validate_float_target(pred, target)

    def _validate_float_target(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        if target.dtype.kind != "f":
            raise TypeError(f"{self.name}: target must be floating point, got dtype "
                            f"{target.dtype}")
        if target.shape != pred.shape:
            raise ValueError(f"{self.name}: target has shape {target.shape}, expected pred's "
                             f"shape {pred.shape}")
        target = target.astype(pred.dtype, copy=False)
        check_finite(target, f"{self.name}: target")
        bounds = {"probability": (0, 1), "distribution": (0, np.inf), "count": (0, np.inf)}
        if self.target_kind in bounds:
            lo, hi = bounds[self.target_kind]
            outside = (target < lo) | (target > hi)
            if outside.any():
                idx = tuple(int(i) for i in np.argwhere(outside)[0])
                raise ValueError(f"{self.name}: target must lie in [{lo}, {hi}]; got "
                                 f"{target[idx]!r} at index {idx}")
        return target

    def _validate_labels(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        if pred.ndim not in (1, 2):
            raise ValueError(f"{self.name}: pred must be (N, C) or (C,), got shape {pred.shape}")
        if target.dtype.kind not in "iu":
            raise TypeError(f"{self.name}: target must hold integer class labels, got dtype "
                            f"{target.dtype}")
        if target.shape != pred.shape[:-1]:
            raise ValueError(f"{self.name}: target has shape {target.shape}, expected "
                             f"{pred.shape[:-1]} (one label per row of pred {pred.shape})")
        n_classes = pred.shape[-1]
        bad = ((target < 0) | (target >= n_classes)) & (target != self._ignored_label())
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{self.name}: class label {int(target[idx])} at index {idx} is out "
                             f"of range [0, {n_classes})")
        return target.astype(np.int64, copy=False)

    def _ignored_label(self) -> int | None:
        return None

    def _check_weight(self, per_class: bool = False) -> None:
        """Validate a ``weight`` keyword: None, or a finite float array (1-D if per class)."""
        if self.weight is None:
            return
        w = as_real_array(self.weight, f"{self.name}: weight")
        check_finite(w, f"{self.name}: weight")
        if per_class and w.ndim != 1:
            raise ValueError(f"{self.name}: weight must be 1-D (one per class), got shape "
                             f"{w.shape}")
        self.weight = w

    def _class_weight(self, pred: np.ndarray) -> np.ndarray:
        """The per-class weights (ones when none are given), checked against C."""
        C, dtype = pred.shape[-1], np.real(pred).dtype  # real even for complex-step input
        if self.weight is None:
            return np.ones(C, dtype=dtype)
        if self.weight.shape != (C,):
            raise ValueError(f"{self.name}: weight has shape {self.weight.shape}, expected "
                             f"({C},), one per class")
        return self.weight.astype(dtype)

    # -- what subclasses write --------------------------------------------------
    def _forward(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _backward(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class _ElementWeighted(Loss):
    """torch 2.13's optional elementwise ``weight`` (pred's shape) for mse, l1 and huber:
    each term is multiplied by its weight. ``weighted_mean`` says what ``"mean"`` divides
    by: the sum of the weights (mse, l1) or the number of elements (huber), as torch."""

    weighted_mean: ClassVar[bool] = True

    def _check_params(self) -> None:
        super()._check_params()
        self._check_weight()

    def _w(self, pred: np.ndarray) -> np.ndarray | int:
        if self.weight is None:
            return 1
        if self.weight.shape != pred.shape:
            raise ValueError(f"{self.name}: weight has shape {self.weight.shape}, expected "
                             f"pred's shape {pred.shape} (torch: the same size as the input)")
        return self.weight.astype(np.real(pred).dtype)

    def _mean_denominator(self, pred, target):
        if self.weight is None or not self.weighted_mean:
            return super()._mean_denominator(pred, target)
        return float(np.sum(self.weight))

    def _forward(self, pred, target):
        return self._w(pred) * self._term(pred - target)

    def _backward(self, pred, target):
        return self._w(pred) * self._term_derivative(pred - target)

    def _term(self, d: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _term_derivative(self, d: np.ndarray) -> np.ndarray:
        raise NotImplementedError


# ======================================================================================
# regression
# ======================================================================================
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


def _sign(x: np.ndarray) -> np.ndarray:
    """sign(x) with sign(0) = 0, as torch (on the real part)."""
    return np.sign(np.real(x)).astype(x.dtype)


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
    weighted_mean = False

    def _check_params(self) -> None:
        super()._check_params()
        self.delta = check_number(self.name, "delta", self.delta, low=0.0, low_open=True)

    def _term(self, d):
        a = _abs(d)
        return np.where(np.real(a) < self.delta, 0.5 * d * d, self.delta * (a - 0.5 * self.delta))

    def _term_derivative(self, d):
        return np.where(np.real(_abs(d)) <= self.delta, d, self.delta * _sign(d))


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
        return np.where(np.real(_abs(d)) < self.beta, d / self.beta, _sign(d))


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
    network matrix uses), of pred's shape or broadcastable to it. As torch: var is
    clamped at ``eps`` without stopping its gradient, must be >= 0, and the mean is
    over all elements.
    """

    name = "gaussian_nll"
    defaults = {"full": False, "eps": 1e-6, "reduction": "mean"}

    def _check_params(self) -> None:
        super()._check_params()
        if not isinstance(self.full, (bool, np.bool_)):
            raise TypeError(f"gaussian_nll: full must be True or False, got {self.full!r}")
        self.eps = check_number(self.name, "eps", self.eps, low=0.0)

    def _var(self, pred: np.ndarray, var: Any) -> np.ndarray:
        """var checked (finite, >= 0, broadcastable), broadcast and clamped at eps."""
        v = as_real_array(var, "gaussian_nll: var")
        check_finite(v, "gaussian_nll: var")
        if (v < 0).any():
            raise ValueError("gaussian_nll: var has negative entries")
        try:
            v = np.broadcast_to(v, pred.shape)
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
        r""":math:`\partial L/\partial\,\text{var}`, of pred's shape (sum it over broadcast
        axes for a smaller var)."""
        pred, target = self._validate(pred, target)
        v = self._var(pred, var)
        d = pred - target
        return self._chain_reduction(0.5 * (1 / v - d * d / (v * v)), pred, target, grad_out)

    def value(self, pred, target, var: Any = 1.0):
        v = np.maximum(np.broadcast_to(np.asarray(var, dtype=np.float64), np.shape(pred)),
                       self.eps)
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


# ======================================================================================
# binary classification
# ======================================================================================
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

    def _weight(self, pred: np.ndarray) -> np.ndarray | float:
        if self.weight is None:
            return 1
        try:
            return np.broadcast_to(self.weight, pred.shape).astype(np.real(pred).dtype)
        except ValueError:
            raise ValueError(f"bce: weight of shape {self.weight.shape} does not broadcast to "
                             f"pred's shape {pred.shape}") from None

    @staticmethod
    def _clamped_log(x, log1p: bool = False):
        """log(x) (or log1p(x)) clamped at -100, as torch (branch on the real part)."""
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
            lg = np.log1p(x) if log1p else np.log(x)
        return np.where(np.real(lg) < -100, -100, lg)

    def _forward(self, pred, target):
        # log1p(-p), as torch: exact for tiny p, where log(1 - p) would round 1 - p first
        log_p, log_1mp = self._clamped_log(pred), self._clamped_log(-pred, log1p=True)
        return -self._weight(pred) * (target * log_p + (1 - target) * log_1mp)

    def _backward(self, pred, target):
        q = pred * (1 - pred)
        denom = np.where(np.real(q) < self.EPSILON, self.EPSILON, q)
        return self._weight(pred) * (pred - target) / denom


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
    target_kind = "probability"

    def _check_params(self) -> None:
        super()._check_params()
        self._check_weight()
        if self.pos_weight is not None:
            self.pos_weight = as_real_array(self.pos_weight, "bce_with_logits: pos_weight")
            check_finite(self.pos_weight, "bce_with_logits: pos_weight")

    def _broadcast(self, value, pred: np.ndarray, what: str):
        if value is None:
            return 1
        try:
            return np.broadcast_to(value, pred.shape).astype(np.real(pred).dtype)
        except ValueError:
            raise ValueError(f"bce_with_logits: {what} of shape {value.shape} does not broadcast "
                             f"to pred's shape {pred.shape}") from None

    def _forward(self, pred, target):
        w = self._broadcast(self.weight, pred, "weight")
        p = self._broadcast(self.pos_weight, pred, "pos_weight")
        return w * (p * target * _softplus(-pred) + (1 - target) * _softplus(pred))

    def _backward(self, pred, target):
        w = self._broadcast(self.weight, pred, "weight")
        p = self._broadcast(self.pos_weight, pred, "pos_weight")
        return w * ((1 - target) * _sigmoid(pred) - p * target * _sigmoid(-pred))


# ======================================================================================
# multiclass classification
# ======================================================================================
class _ClassLoss(Loss):
    """Losses with one term per sample and classes on the last axis of pred."""

    target_kind = "class_index"

    def _loss_shape(self, pred, target):
        return pred.shape[:-1]

    @staticmethod
    def _one_hot(pred, labels):
        return (np.arange(pred.shape[-1]) == labels[..., None]).astype(np.real(pred).dtype)


class _WeightedClassLoss(_ClassLoss):
    """Class losses with torch's ``weight`` (per class) and ``ignore_index``."""

    def _check_params(self) -> None:
        super()._check_params()
        self._check_weight(per_class=True)
        if isinstance(self.ignore_index, bool) or not isinstance(self.ignore_index,
                                                                  (int, np.integer)):
            raise TypeError(f"{self.name}: ignore_index must be an integer, got "
                            f"{self.ignore_index!r}")

    def _ignored_label(self):
        return self.ignore_index

    def _kept_labels(self, target):
        """(mask of non-ignored samples, labels with ignored ones replaced by class 0)."""
        keep = target != self.ignore_index
        return keep, np.where(keep, target, 0)

    def _mean_denominator(self, pred, target):
        """torch's weighted mean: the sum of w_y over the non-ignored samples."""
        keep, labels = self._kept_labels(target)
        return float(np.sum(np.where(keep, self._class_weight(pred)[labels], 0)))


@register
class CrossEntropy(_WeightedClassLoss):
    r"""Cross-entropy on logits, as ``F.cross_entropy`` (integer or probability targets).

    With :math:`\log p = \log\operatorname{softmax}(z)` over the C classes, class
    weights :math:`w` (ones by default), smoothing :math:`\varepsilon` and a sample's
    label :math:`y` (samples whose label is ``ignore_index`` contribute nothing):

    .. math::
        \ell = (1 - \varepsilon)\,\big(-w_y \log p_y\big)
               + \frac{\varepsilon}{C} \Big(-\sum_c w_c \log p_c\Big)

    .. math::
        \frac{\partial \ell}{\partial z_j} = (1 - \varepsilon)\, w_y\,(p_j - [j = y])
        + \frac{\varepsilon}{C}\Big(p_j \sum_c w_c - w_j\Big)

    ``reduction="mean"`` divides the sum by :math:`\sum_n w_{y_n}` over the
    non-ignored samples (their count without weights), both terms alike — torch's
    weighted mean.

    With **probability targets** :math:`t` (floating, pred's shape; no ``ignore_index``),
    :math:`t' = (1 - \varepsilon)\,t + \varepsilon/C` and

    .. math::
        \ell = -\sum_c w_c\, t'_c \log p_c, \qquad
        \frac{\partial \ell}{\partial z_j} = p_j \sum_c w_c t'_c - w_j t'_j

    and the mean is over samples, unweighted (as torch). Stable at logits of
    :math:`\pm 10^4` (log-softmax from :math:`z - \max z`).
    """

    name = "cross_entropy"
    defaults = {"weight": None, "ignore_index": -100, "reduction": "mean",
                "label_smoothing": 0.0}

    def _check_params(self) -> None:
        super()._check_params()
        self.label_smoothing = check_number(self.name, "label_smoothing", self.label_smoothing,
                                            low=0.0)
        if self.label_smoothing > 1:
            raise ValueError(f"{self.name}: label_smoothing must be in [0, 1], got "
                             f"{self.label_smoothing}")

    def _validate(self, pred, target):
        target = np.asarray(target)
        if target.dtype.kind == "f":  # class probabilities
            pred = as_real_array(pred, f"{self.name}: pred")
            if target.shape == pred.shape[:-1] != pred.shape:
                raise TypeError(f"{self.name}: target must hold integer class labels (or class "
                                f"probabilities of pred's shape {pred.shape}), got dtype "
                                f"{target.dtype} of shape {target.shape}")
            if pred.ndim not in (1, 2):
                raise ValueError(f"{self.name}: pred must be (N, C) or (C,), got shape "
                                 f"{pred.shape}")
            return pred, self._validate_float_target(pred, target)
        return super()._validate(pred, target)

    @staticmethod
    def _probabilities(target) -> bool:
        return np.asarray(target).dtype.kind in "fc"

    def _smoothed(self, pred, target):
        eps, C = self.label_smoothing, pred.shape[-1]
        return target * (1 - eps) + eps / C

    def _mean_denominator(self, pred, target):
        if self._probabilities(target):
            return float(np.prod(pred.shape[:-1]))  # torch: numel / C, unweighted
        return super()._mean_denominator(pred, target)

    def _forward(self, pred, target):
        logp = log_softmax(pred)
        w = self._class_weight(pred)
        if self._probabilities(target):
            return -np.sum(w * self._smoothed(pred, target) * logp, axis=-1)
        keep, labels = self._kept_labels(target)
        nll = -w[labels] * _take(logp, labels)
        eps = self.label_smoothing
        if eps == 0:  # why: no smoothing, no second term: skip its (N, C) temporaries
            return np.where(keep, nll, 0)
        smooth = -np.sum(w * logp, axis=-1)
        return np.where(keep, (1 - eps) * nll + eps / pred.shape[-1] * smooth, 0)

    def _backward(self, pred, target):
        p = softmax(pred)
        w = self._class_weight(pred)
        if self._probabilities(target):
            t = w * self._smoothed(pred, target)
            return p * np.sum(t, axis=-1, keepdims=True) - t
        keep, labels = self._kept_labels(target)
        eps, C = self.label_smoothing, pred.shape[-1]
        nll = w[labels][..., None] * (p - self._one_hot(pred, labels))
        if eps == 0:  # why: no smoothing, no second term (as in _forward)
            return np.where(keep[..., None], nll, 0)
        smooth = p * np.sum(w) - w
        return np.where(keep[..., None], (1 - eps) * nll + eps / C * smooth, 0)


@register
class NLL(_WeightedClassLoss):
    r"""Negative log-likelihood on log-probabilities, as ``F.nll_loss``.

    .. math::
        \ell_n = -w_{y_n}\, x_{n, y_n}, \qquad
        \frac{\partial \ell_n}{\partial x_{n,j}} = -w_{y_n} [j = y_n]

    The input is meant to be log-probabilities (e.g. from ``log_softmax``), though, as
    in torch, any real input is accepted. ``reduction="mean"`` divides by
    :math:`\sum_n w_{y_n}` over non-ignored samples; ``ignore_index`` samples give 0.
    """

    name = "nll"
    defaults = {"weight": None, "ignore_index": -100, "reduction": "mean"}
    natural_range = (-np.inf, 0.0)

    def _forward(self, pred, target):
        keep, labels = self._kept_labels(target)
        return np.where(keep, -self._class_weight(pred)[labels] * _take(pred, labels), 0)

    def _backward(self, pred, target):
        keep, labels = self._kept_labels(target)
        w = np.where(keep, self._class_weight(pred)[labels], 0)
        return -w[..., None] * self._one_hot(pred, labels)


@register
class KLDiv(Loss):
    r"""Kullback–Leibler divergence, as ``F.kl_div(input, target)``.

    The input is log-probabilities :math:`x = \log q`; the target is probabilities
    :math:`t` (or log-probabilities with ``log_target=True``). Pointwise,

    .. math::
        \ell = t\,(\log t - x), \qquad \frac{\partial \ell}{\partial x} = -t

    with :math:`0 \log 0 = 0`, as torch's ``xlogy``. Reductions: ``"batchmean"`` (the sum
    divided by the batch size, pred.shape[0]: the true KL divergence per sample, which
    torch recommends), ``"mean"`` (torch's default: over all elements), ``"sum"``,
    ``"none"``.
    """

    name = "kl_div"
    defaults = {"reduction": "mean", "log_target": False}
    reductions = ("mean", "batchmean", "sum", "none")
    natural_range = (-np.inf, 0.0)

    @property
    def target_kind(self) -> str:
        return "real" if self.log_target else "distribution"  # log-probabilities: any real

    def _check_params(self) -> None:
        super()._check_params()
        if not isinstance(self.log_target, (bool, np.bool_)):
            raise TypeError(f"kl_div: log_target must be True or False, got {self.log_target!r}")

    def _forward(self, pred, target):
        if self.log_target:
            return np.exp(target) * (target - pred)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_log_t = np.where(target > 0, target * np.log(np.where(target > 0, target, 1)), 0)
        return t_log_t - target * pred

    def _backward(self, pred, target):
        t = np.exp(target) if self.log_target else target
        return -t.astype(pred.dtype, copy=False)


@register
class MultiMargin(_ClassLoss):
    r"""Multiclass hinge loss (the multiclass SVM), as ``F.multi_margin_loss``.

    For a sample with scores :math:`x` (C classes) and label :math:`y`, with
    :math:`m_i = \text{margin} - x_y + x_i`:

    .. math::
        \ell = \frac{w_y}{C} \sum_{i \ne y} \max(0, m_i)^p, \qquad
        \frac{\partial \ell}{\partial x_i} = \frac{w_y}{C}\, p\, m_i^{p-1} [m_i > 0]
        \ (i \ne y), \qquad
        \frac{\partial \ell}{\partial x_y} = -\sum_{i \ne y} \frac{\partial \ell}{\partial x_i}

    ``p`` is 1 or 2. The weight multiplies :math:`\max(0, m_i)^p` (torch's code; its
    docs put it inside the max, which differs for ``p=2``). At :math:`m_i = 0` the
    gradient is **0**, as torch. The mean is over samples.
    """

    name = "multi_margin"
    defaults = {"p": 1, "margin": 1.0, "weight": None, "reduction": "mean"}

    def _check_params(self) -> None:
        super()._check_params()
        if self.p not in (1, 2) or isinstance(self.p, bool):
            raise ValueError(f"multi_margin: p must be 1 or 2, got {self.p!r}")
        self.margin = check_number(self.name, "margin", self.margin)
        self._check_weight(per_class=True)

    def _margins(self, pred, target):
        """m_i = margin - x_y + x_i, with the i = y entry masked out."""
        m = self.margin - _take(pred, target)[..., None] + pred
        return np.where(self._one_hot(pred, target) > 0, 0 * m, m)

    def _forward(self, pred, target):
        m = self._margins(pred, target)
        h = np.where(np.real(m) > 0, m, 0 * m)
        h = h if self.p == 1 else h * h
        w = self._class_weight(pred)[target]
        return w * np.sum(h, axis=-1) / pred.shape[-1]

    def _backward(self, pred, target):
        m = self._margins(pred, target)
        active = (np.real(m) > 0) & (self._one_hot(pred, target) == 0)
        dh = np.where(active, 1 if self.p == 1 else 2 * m, 0 * m)
        dh = dh * (self._class_weight(pred)[target] / pred.shape[-1])[..., None]
        return dh - self._one_hot(pred, target) * np.sum(dh, axis=-1, keepdims=True)
