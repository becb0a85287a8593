"""Multiclass classification: cross-entropy, NLL, KL divergence, the multiclass hinge."""

from __future__ import annotations

import math

import numpy as np

from manual._checks import as_real_array, check_number
from manual.losses.base import (Loss, _classes_back, _classes_last, _label_shape,
                                _take, log_softmax, register, softmax)


class _ClassLoss(Loss):
    """Losses with one term per sample. Their ``_forward``/``_backward`` see the classes on
    the last axis (the public methods move torch's class axis there and back)."""

    target_kind = "class_index"

    def _loss_shape(self, pred, target):
        return pred.shape[:-1]

    @staticmethod
    def _one_hot(pred, labels):
        return (np.arange(pred.shape[-1]) == labels[..., None]).astype(np.real(pred).dtype)


class _WeightedClassLoss(_ClassLoss):
    """Class losses with torch's ``weight`` (per class) and ``ignore_index``."""

    ignore_index: int

    def _check_params(self) -> None:
        super()._check_params()
        self._check_weight(per_class=True)
        if isinstance(self.ignore_index, bool) or not isinstance(self.ignore_index,
                                                                  (int, np.integer)):
            raise TypeError(f"{self.name}: ignore_index must be an integer, got "
                            f"{self.ignore_index!r}")

    max_ndim = None  # torch's spatial (N, C, d1, d2, ...) too

    def _ignored_label(self):
        return self.ignore_index

    def _validate_labels(self, pred, target):
        labels = super()._validate_labels(pred, target)
        if pred.ndim == 3 and pred.shape[1] == 0 and labels.size:
            # torch's nll_loss_nd views (N, 0, d1) as 4-d and fails ("size mismatch")
            raise ValueError(f"{self.name}: pred {pred.shape} has no classes (C = 0) along "
                             f"axis 1 with labels {labels.shape}; torch refuses it too")
        return labels

    @staticmethod
    def _probabilities(target) -> bool:
        return np.asarray(target).dtype.kind in "fc"

    def _target_last(self, target):
        """Probability targets have pred's layout: their class axis moves too."""
        return _classes_last(target) if self._probabilities(target) else target

    def value(self, pred, target):
        return super().value(_classes_last(pred), self._target_last(target))

    def backward(self, pred, target, grad_out=None):
        pred, target = self._validate(pred, target)
        p, t = _classes_last(pred), self._target_last(target)  # (N, d1, ..., C)
        return _classes_back(self._chain_reduction(self._backward(p, t), p, t, grad_out))

    def _reaches(self, per_term: np.ndarray, keep: np.ndarray, labels: np.ndarray
                 ) -> np.ndarray:
        """Where torch's backward divides by the mean's denominator: every class of a kept
        sample (the log-softmax spreads it)."""
        return np.broadcast_to(keep[..., None], per_term.shape)

    def _gradient_over_zero(self, per_term, g, pred, target):
        """All kept weights 0 (or every sample ignored): torch's 0/0 is NaN on the entries
        its backward divides, and ignored samples keep their 0."""
        if self._probabilities(target):
            return super()._gradient_over_zero(per_term, g, pred, target)
        keep, labels = self._kept_labels(target)
        with np.errstate(divide="ignore", invalid="ignore"):
            over = per_term * (g / per_term.dtype.type(0))
        return np.where(self._reaches(per_term, keep, labels), over, 0).astype(per_term.dtype)

    def _kept_labels(self, target):
        """(mask of non-ignored samples, labels with ignored ones replaced by class 0)."""
        keep = target != self.ignore_index
        return keep, np.where(keep, target, 0)

    def _mean_denominator(self, pred, target):
        """torch's weighted mean: the sum of w_y over the non-ignored samples."""
        if pred.shape[-1] == 0:  # no classes: every label was ignore_index (else refused)
            return 0.0
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

    Inputs (C,), (N, C) or torch's spatial (N, C, d1, ...) with labels (N, d1, ...),
    the classes on axis 1 as torch.

    With **probability targets** :math:`t` (floating, pred's shape; a non-negative
    ``ignore_index`` is rejected, as torch),
    :math:`t' = (1 - \varepsilon)\,t + \varepsilon/C` and

    .. math::
        \ell = -\sum_c w_c\, t'_c \log p_c, \qquad
        \frac{\partial \ell}{\partial z_j} = p_j \sum_c w_c t'_c - w_j t'_j

    and the mean is over samples, unweighted (as torch). Stable at logits of
    :math:`\pm 10^4` (log-softmax from :math:`z - \max z`).

    No classes (C = 0) is computed as torch computes it: every integer label must then be
    ``ignore_index`` (the mean is 0/0, NaN); with probability targets the terms are 0 and
    the mean divides by torch's numel/C = 0/0, NaN.
    """

    name = "cross_entropy"
    defaults = {"weight": None, "ignore_index": -100, "reduction": "mean",
                "label_smoothing": 0.0}
    label_smoothing: float

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
            if pred.ndim < 1:
                raise ValueError(f"{self.name}: pred must be (C,), (N, C) or (N, C, d1, ...), "
                                 f"got shape {pred.shape}")
            if target.shape == _label_shape(pred.shape) != pred.shape:
                raise TypeError(f"{self.name}: target must hold integer class labels (or class "
                                f"probabilities of pred's shape {pred.shape}), got dtype "
                                f"{target.dtype} of shape {target.shape}")
            if self.ignore_index >= 0:  # torch checks ignore_index < 0, and then ignores it:
                # "ignore_index is not supported for floating point target"
                raise ValueError(f"{self.name}: ignore_index ({self.ignore_index}) is not "
                                 f"supported with probability targets (only a negative one, "
                                 f"which has no effect there)")
            return pred, self._validate_float_target(pred, target)
        return super()._validate(pred, target)

    def _reduce(self, losses, pred, target):
        if (self.label_smoothing and self._reduction() == "mean"
                and not self._probabilities(target) and self._mean_denominator(pred, target) == 0):
            return self._smoothed_mean_over_zero(pred, target)
        return super()._reduce(losses, pred, target)

    def _smoothed_mean_over_zero(self, pred, target):
        r"""torch's smoothed mean when the kept weights sum to 0 (every label's weight 0, or
        every sample ignored): torch divides its two terms by that 0 *separately*, then adds
        them, :math:`(1-\varepsilon)\,\text{nll}/0 + \tfrac{\varepsilon}{C}\,\text{smooth}/0`:
        NaN (the first is 0/0) where dividing the sum would give an infinity."""
        if pred.shape[-1] == 0:  # no classes: (1 - eps) 0/0
            return pred.dtype.type(np.nan)
        keep, labels = self._kept_labels(target)
        logp, w = log_softmax(pred), self._class_weight(pred)
        nll = np.sum(np.where(keep, -w[labels] * _take(logp, labels), 0))
        smooth = np.sum(np.where(keep, -np.sum(w * logp, axis=-1), 0))
        eps, zero = self.label_smoothing, pred.dtype.type(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (1 - eps) * (nll / zero) + eps / pred.shape[-1] * (smooth / zero)

    def _gradient_over_zero(self, per_term, g, pred, target):
        r"""The gradient of :meth:`_smoothed_mean_over_zero`, as torch's autograd takes it:
        the label's entry gets :math:`-w_y (1-\varepsilon) g/0` (NLL's backward), every class
        :math:`-w_c \tfrac{\varepsilon}{C} g/0` (the smoothing term's), ignored samples 0; then
        through the log-softmax, :math:`d - p \sum_c d_c`. For non-negative weights that is NaN
        on every entry of a kept sample (the label's entry is :math:`0 \cdot \infty`)."""
        if self._probabilities(target) or per_term.size == 0:
            return super()._gradient_over_zero(per_term, g, pred, target)
        keep, labels = self._kept_labels(target)
        eps, C, zero = self.label_smoothing, pred.shape[-1], per_term.dtype.type(0)
        w = self._class_weight(pred)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(self._one_hot(pred, labels) > 0,
                         -w[labels][..., None] * ((g * (1 - eps)) / zero), 0)
            if eps:
                d = d - w * ((g * (eps / C)) / zero)
            d = np.where(keep[..., None], d, 0)
            return (d - softmax(pred) * np.sum(d, axis=-1, keepdims=True)).astype(per_term.dtype)

    def _smoothed(self, pred, target):
        eps, C = self.label_smoothing, pred.shape[-1]
        return target * (1 - eps) + eps / C

    def _mean_denominator(self, pred, target):
        if self._probabilities(target):  # torch: numel / C, unweighted (0/0 for C = 0)
            return float(np.prod(pred.shape[:-1])) if pred.shape[-1] else math.nan
        return super()._mean_denominator(pred, target)

    def _forward(self, pred, target):
        if pred.shape[-1] == 0:  # no classes: each term is an empty sum
            return np.zeros(pred.shape[:-1], dtype=pred.dtype)
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
        if pred.shape[-1] == 0:
            return np.zeros_like(pred)
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

    def _reaches(self, per_term, keep, labels):
        """torch's backward divides only the label's entry of each kept sample."""
        return keep[..., None] & (self._one_hot(per_term, labels) > 0)

    def _forward(self, pred, target):
        if pred.shape[-1] == 0:  # no classes: every label was ignore_index (else refused)
            return np.zeros(pred.shape[:-1], dtype=pred.dtype)
        keep, labels = self._kept_labels(target)
        return np.where(keep, -self._class_weight(pred)[labels] * _take(pred, labels), 0)

    def _backward(self, pred, target):
        if pred.shape[-1] == 0:
            return np.zeros_like(pred)
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
    log_target: bool
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
    gradient is **0**, as torch. The mean is over samples. Inputs (C,) or (N, C), and, as
    torch, a 0-d score with a 0-d label (one class: the loss and its gradient are 0) and a
    (C,) vector with a (1,) label (a batch of one).
    """

    name = "multi_margin"
    defaults = {"p": 1, "margin": 1.0, "weight": None, "reduction": "mean"}
    p: int
    margin: float

    def _check_params(self) -> None:
        super()._check_params()
        if self.p not in (1, 2) or isinstance(self.p, bool):
            raise ValueError(f"multi_margin: p must be 1 or 2, got {self.p!r}")
        self.margin = check_number(self.name, "margin", self.margin)
        self._check_weight(per_class=True)

    @staticmethod
    def _as_torch_reads(pred, target) -> np.ndarray:
        """pred as torch reads it: a 0-d score is one class (C,) = (1,); a (C,) vector with
        a (1,) label is a batch of one, (1, C), whose unreduced loss has shape (1,)."""
        if pred.ndim == 0:
            return pred.reshape(1)
        if pred.ndim == 1 and np.shape(target) == (1,):
            return pred[None]
        return pred

    def forward(self, pred, target):
        pred = as_real_array(pred, f"{self.name}: pred")
        return super().forward(self._as_torch_reads(pred, target), target)

    def backward(self, pred, target, grad_out=None):
        pred = as_real_array(pred, f"{self.name}: pred")
        grad = super().backward(self._as_torch_reads(pred, target), target, grad_out)
        return grad.reshape(pred.shape)

    def _margins(self, pred, target):
        """m_i = margin - x_y + x_i, with the i = y entry masked out."""
        m = self.margin - _take(pred, target)[..., None] + pred
        return np.where(self._one_hot(pred, target) > 0, 0 * m, m)

    def _forward(self, pred, target):
        m = self._margins(pred, target)
        h = np.where(np.real(m) > 0, m, np.zeros_like(m))  # a NaN margin (inf - inf) adds 0
        h = h if self.p == 1 else h * h
        w = self._class_weight(pred)[target]
        return w * np.sum(h, axis=-1) / pred.shape[-1]

    def _backward(self, pred, target):
        m = self._margins(pred, target)
        active = (np.real(m) > 0) & (self._one_hot(pred, target) == 0)
        dh = np.where(active, 1 if self.p == 1 else 2 * m, np.zeros_like(m))
        dh = dh * (self._class_weight(pred)[target] / pred.shape[-1])[..., None]
        label = self._one_hot(pred, target) > 0  # where, not a product: the sum may be inf
        return np.where(label, -np.sum(dh, axis=-1, keepdims=True), dh)
