"""The loss protocol (:class:`Loss`: validation, reductions, the chain through them), the
registry of names, and the helpers for torch's class axis."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from manual._checks import Configurable, as_real_array, check_choice, check_finite
from manual._numerics import _log_softmax, _softmax


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


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r""":math:`\log \mathrm{softmax}(z)_i = z_i - m - \log \sum_j e^{z_j - m}`, with
    :math:`m = \max_j z_j`.

    Subtracting the max first keeps every exponent :math:`\le 0`: finite at any input.
    """
    return _log_softmax(z, axis)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r""":math:`\mathrm{softmax}(z)_i = e^{z_i - m} / \sum_j e^{z_j - m}`, stable at any input."""
    return _softmax(z, axis)


def _class_axis(ndim: int) -> int:
    """torch's class axis: 0 for an unbatched (C,) input, else 1 ((N, C), (N, C, d1, ...))."""
    return 0 if ndim == 1 else 1


def _label_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of the labels (and of the unreduced loss) for an input of ``shape``: the
    class axis removed."""
    axis = _class_axis(len(shape))
    return shape[:axis] + shape[axis + 1:]


def _classes_last(a: np.ndarray) -> np.ndarray:
    """``a`` with torch's class axis moved to the end, (N, d1, ..., C): the code below works
    on the last axis. A view; (C,) and (N, C) are unchanged."""
    return np.moveaxis(a, _class_axis(a.ndim), -1) if a.ndim > 2 else a


def _classes_back(a: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_classes_last`: (N, d1, ..., C) back to (N, C, d1, ...)."""
    return np.moveaxis(a, -1, 1) if a.ndim > 2 else a


def _take(a: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """a[..., labels] row by row: a (N, C) or (C,), labels (N,) or ()."""
    return np.take_along_axis(a, labels[..., None], axis=-1)[..., 0]


class Loss(Configurable):
    """Base class. Subclasses set ``name`` and implement ``_forward`` (the loss terms,
    before reduction: one per element, or one per sample) and ``_backward`` (the
    gradient of the *sum* of those terms with respect to ``pred``).

    Class attributes (``pred_range``, ``natural_range`` and ``target_kind``: read-only, a
    property where they depend on the hyperparameters):

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
    reductions: ClassVar[tuple[str, ...]] = ("mean", "sum", "none")
    analytic: ClassVar[bool] = True

    # hyperparameters that the base methods read, set by the constructor from ``defaults``
    # in the losses that list them (``_check_params`` and ``_check_weight`` read them only
    # there): the reduction, and an optional float array of weights once checked
    reduction: str
    weight: np.ndarray | None

    # read-only: a subclass sets a class attribute, or a property where the value depends
    # on the hyperparameters (poisson_nll's log_input, kl_div's log_target)
    @property
    def pred_range(self) -> tuple[float, float]:
        return (-np.inf, np.inf)

    @property
    def target_kind(self) -> str:
        return "real"

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
        if denominator == 0:  # weights summing to 0, or every sample ignored
            return self._gradient_over_zero(per_term, g, pred, target)
        if denominator is not None:
            g = g / pred.dtype.type(denominator)
        return per_term * g

    def _gradient_over_zero(self, per_term: np.ndarray, g: Any, pred: np.ndarray,
                            target: np.ndarray) -> np.ndarray:
        """The mean's gradient when its denominator is 0 (all weights 0, or summing to 0):
        torch divides by it all the same, so ``per_term * (g / 0)``: NaN where the term's
        gradient is 0, +-inf elsewhere."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return per_term * (g / per_term.dtype.type(0))

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

    #: the input ranks a class loss accepts: (C,) and (N, C); cross-entropy and NLL add
    #: torch's spatial (N, C, d1, d2, ...)
    max_ndim: ClassVar[int | None] = 2

    def _validate_labels(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        if pred.ndim < 1 or (self.max_ndim is not None and pred.ndim > self.max_ndim):
            shapes = "(N, C) or (C,)" if self.max_ndim == 2 else "(C,), (N, C) or (N, C, d1, ...)"
            raise ValueError(f"{self.name}: pred must be {shapes}, got shape {pred.shape}")
        if target.dtype.kind not in "iu":
            raise TypeError(f"{self.name}: target must hold integer class labels, got dtype "
                            f"{target.dtype}")
        expected = _label_shape(pred.shape)
        if target.shape != expected:
            raise ValueError(f"{self.name}: target has shape {target.shape}, expected "
                             f"{expected} (one label per sample of pred {pred.shape}, classes "
                             f"on axis {_class_axis(pred.ndim)})")
        n_classes = pred.shape[_class_axis(pred.ndim)]
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

    def _broadcast_weight(self, value: np.ndarray | None, pred: np.ndarray,
                          what: str = "weight", exact: bool = False) -> np.ndarray | int:
        """An elementwise weight (``weight``, ``pos_weight``) for ``pred``: 1 when None, else
        broadcast to pred's shape in pred's real dtype (real even for complex-step input).
        ``exact``: it must have pred's shape, as torch 2.13's weight of mse, l1 and huber."""
        if value is None:
            return 1
        if exact and value.shape != pred.shape:
            raise ValueError(f"{self.name}: {what} has shape {value.shape}, expected pred's "
                             f"shape {pred.shape} (torch: the same size as the input)")
        try:
            return np.broadcast_to(value, pred.shape).astype(np.real(pred).dtype)
        except ValueError:
            raise ValueError(f"{self.name}: {what} of shape {value.shape} does not broadcast "
                             f"to pred's shape {pred.shape}") from None

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
