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
default reduction is torch's ``"mean"`` over all elements.

>>> import numpy as np
>>> from manual import losses
>>> mse = losses.get("mse")
>>> float(mse.forward(np.array([1.0, 3.0]), np.array([0.0, 0.0])))
5.0
>>> mse.backward(np.array([1.0, 3.0]), np.array([0.0, 0.0]))
array([1., 3.])
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from manual._checks import Configurable, as_real_array, check_choice, check_finite

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


# --- numerically stable building blocks ------------------------------------------------
def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r""":math:`\log \mathrm{softmax}(z)_i = z_i - m - \log \sum_j e^{z_j - m}`, with
    :math:`m = \max_j z_j`.

    Subtracting the max first keeps every exponent :math:`\le 0`: finite at any input.
    """
    shifted = z - np.max(np.real(z), axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r""":math:`\mathrm{softmax}(z)_i = e^{z_i - m} / \sum_j e^{z_j - m}`, stable at any input."""
    e = np.exp(z - np.max(np.real(z), axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


class Loss(Configurable):
    """Base class. Subclasses set ``name`` and implement ``_forward`` (per-element
    losses, before reduction) and ``_backward`` (their gradient, before reduction).

    Class attributes:

    ``pred_range``
        The closed interval predictions must lie in (BCE: [0, 1]); an activation
        whose outputs may leave it cannot feed this loss.
    ``target_kind``
        ``"real"`` (same shape as pred, floating), ``"probability"`` (floating, in
        [0, 1]) or ``"class_index"`` (integer labels, pred has classes on its last axis).
    ``reductions``
        The reductions torch offers for this loss.
    """

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {"reduction": "mean"}
    pred_range: ClassVar[tuple[float, float]] = (-np.inf, np.inf)
    target_kind: ClassVar[str] = "real"
    reductions: ClassVar[tuple[str, ...]] = ("mean", "sum", "none")

    def _check_params(self) -> None:
        if "reduction" in self.kwargs:
            check_choice(self.reduction, self.reductions, f"{self.name} reduction")

    # -- public API -------------------------------------------------------------
    def forward(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The loss value (see the module docstring for the reduction)."""
        pred, target = self._validate(pred, target)
        return self._reduce(self._forward(pred, target), pred, target)

    def backward(self, pred: np.ndarray, target: np.ndarray,
                 grad_out: np.ndarray | float | None = None) -> np.ndarray:
        r""":math:`\partial J/\partial \hat y = g \cdot \partial L/\partial \hat y`, with
        :math:`g` = ``grad_out``."""
        pred, target = self._validate(pred, target)
        per_element = self._backward(pred, target)  # d(per-element loss)/d pred
        return self._chain_reduction(per_element, pred, target, grad_out)

    # -- reduction: one place for mean / sum / none -----------------------------
    def _reduction(self) -> str:
        return self.kwargs.get("reduction", "sum")

    def _mean_denominator(self, pred: np.ndarray, target: np.ndarray) -> float:
        """N in the mean: the number of loss terms (elements, or samples)."""
        return int(np.prod(self._loss_shape(pred, target)))  # prod(()) = 1 for a 0-d loss

    def _loss_shape(self, pred: np.ndarray, target: np.ndarray) -> tuple[int, ...]:
        return pred.shape

    def _reduce(self, losses: np.ndarray, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        reduction = self._reduction()
        if reduction == "none":
            return losses
        total = np.sum(losses, dtype=pred.dtype)
        if reduction == "sum":
            return total
        # the mean of zero terms is NaN in torch too
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / pred.dtype.type(self._mean_denominator(pred, target))

    def _chain_reduction(self, per_element: np.ndarray, pred: np.ndarray, target: np.ndarray,
                         grad_out: np.ndarray | float | None) -> np.ndarray:
        """Multiply the unreduced gradient by the upstream gradient and the reduction's scale.

        ``per_element`` has pred's shape; for a loss with one term per sample the
        upstream gradient of shape ``_loss_shape`` is broadcast over the class axis.
        """
        reduction = self._reduction()
        loss_shape = self._loss_shape(pred, target)
        if reduction == "none":
            if grad_out is None:
                raise ValueError(f"{self.name}.backward with reduction='none' needs grad_out "
                                 f"of the loss's shape {loss_shape}")
            g = as_real_array(grad_out, "grad_out")
            if g.shape != loss_shape:
                raise ValueError(f"{self.name}.backward: grad_out has shape {g.shape}, expected "
                                 f"{loss_shape}")
            g = g.astype(pred.dtype, copy=False)
            return per_element * g.reshape(g.shape + (1,) * (pred.ndim - g.ndim))
        g = pred.dtype.type(1) if grad_out is None else as_real_array(grad_out, "grad_out")
        if np.ndim(g) != 0:
            raise ValueError(f"{self.name}.backward: grad_out must be a scalar for "
                             f"reduction={reduction!r}, got shape {np.shape(g)}")
        g = pred.dtype.type(g)
        if reduction == "mean":
            g = g / pred.dtype.type(self._mean_denominator(pred, target))
        return per_element * g

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
        target = np.asarray(target) if not isinstance(target, np.ndarray) else target
        if self.target_kind == "class_index":
            return pred, self._validate_labels(pred, target)
        if target.dtype.kind != "f":
            raise TypeError(f"{self.name}: target must be floating point, got dtype "
                            f"{target.dtype}")
        if target.shape != pred.shape:
            raise ValueError(f"{self.name}: target has shape {target.shape}, expected pred's "
                             f"shape {pred.shape}")
        target = target.astype(pred.dtype, copy=False)
        check_finite(target, f"{self.name}: target")
        if self.target_kind == "probability":
            outside = (target < 0) | (target > 1)
            if outside.any():
                idx = tuple(int(i) for i in np.argwhere(outside)[0])
                raise ValueError(f"{self.name}: target must lie in [0, 1]; got {target[idx]!r} "
                                 f"at index {idx}")
        return pred, target

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
        return target

    def _ignored_label(self) -> int | None:
        return None

    # -- what subclasses write --------------------------------------------------
    def _forward(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _backward(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@register
class MSE(Loss):
    r"""Mean squared error, as ``F.mse_loss``.

    .. math::
        L = \frac{1}{N} \sum_i (\hat y_i - y_i)^2, \qquad
        \frac{\partial L}{\partial \hat y_i} = \frac{2}{N} (\hat y_i - y_i)

    N counts every element (torch's default ``reduction="mean"``); ``"sum"`` drops
    the 1/N.
    """

    name = "mse"

    def _forward(self, pred, target):
        d = pred - target
        return d * d

    def _backward(self, pred, target):
        return 2 * (pred - target)


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
class BCE(Loss):
    r"""Binary cross-entropy on probabilities, as ``F.binary_cross_entropy``.

    .. math::
        L = -\frac{1}{N} \sum_i w_i \left[ y_i \log \hat y_i + (1 - y_i) \log(1 - \hat y_i) \right]

    .. math::
        \frac{\partial L}{\partial \hat y_i} = \frac{w_i}{N}\,
        \frac{\hat y_i - y_i}{\max\big(\hat y_i (1 - \hat y_i),\ 10^{-12}\big)}

    torch's conventions, matched exactly: each log is clamped at :math:`-100`, so
    :math:`\hat y = 0` or 1 gives a finite loss (100 per term); the backward
    divides by :math:`\max(\hat y(1-\hat y), 10^{-12})` (torch's ``EPSILON``),
    not by the derivative of the clamped log. ``weight`` rescales each element
    and must broadcast to ``pred``'s shape.
    """

    name = "bce"
    defaults = {"weight": None, "reduction": "mean"}
    pred_range = (0.0, 1.0)
    target_kind = "probability"
    EPSILON: ClassVar[float] = 1e-12  # torch: aten/src/ATen/native/Loss.cpp

    def _check_params(self) -> None:
        super()._check_params()
        if self.weight is not None:
            self.weight = as_real_array(self.weight, "bce: weight")
            check_finite(self.weight, "bce: weight")

    def _weight(self, pred: np.ndarray) -> np.ndarray | float:
        if self.weight is None:
            return 1
        try:
            return np.broadcast_to(self.weight, pred.shape).astype(pred.dtype)
        except ValueError:
            raise ValueError(f"bce: weight of shape {self.weight.shape} does not broadcast to "
                             f"pred's shape {pred.shape}") from None

    def _forward(self, pred, target):
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped like torch
            log_p = np.maximum(np.log(pred), -100)
            log_1mp = np.maximum(np.log(1 - pred), -100)
        return -self._weight(pred) * (target * log_p + (1 - target) * log_1mp)

    def _backward(self, pred, target):
        denom = np.maximum(pred * (1 - pred), pred.dtype.type(self.EPSILON))
        return self._weight(pred) * (pred - target) / denom


@register
class CrossEntropy(Loss):
    r"""Cross-entropy on logits with integer class targets, as ``F.cross_entropy``.

    With :math:`p = \mathrm{softmax}(z)` over the class axis and :math:`y_n` the
    label of sample :math:`n`:

    .. math::
        L = -\frac{1}{N} \sum_n \log p_{n, y_n}, \qquad
        \frac{\partial L}{\partial z_{n,c}} = \frac{1}{N} \left(p_{n,c} - [c = y_n]\right)

    The softmax and the log are fused into a stable log-softmax, finite at logits
    of :math:`\pm 10^4`. ``pred`` is (N, C) or (C,); the mean is over samples.
    """

    name = "cross_entropy"
    target_kind = "class_index"

    def _loss_shape(self, pred, target):
        return pred.shape[:-1]

    def _one_hot(self, pred, target):
        return (np.arange(pred.shape[-1]) == target[..., None]).astype(pred.dtype)

    def _forward(self, pred, target):
        return -np.sum(log_softmax(pred) * self._one_hot(pred, target), axis=-1)

    def _backward(self, pred, target):
        return softmax(pred) - self._one_hot(pred, target)
