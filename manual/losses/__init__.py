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
(N, C) or (C,), as torch; cross-entropy and NLL also take torch's spatial
(N, C, d1, d2, ...) with labels (N, d1, d2, ...): the classes are on axis 1.

Where we stay stricter than torch, on purpose (each choice is listed with its reason in
``comparisons.cases.components.STRICTER_THAN_TORCH`` and tested): pred and target must
have the same shape (torch broadcasts them with only a warning; gaussian_nll alone takes a
target that broadcasts to pred's shape, as its torch documentation allows); targets must be
finite, counts and probabilities non-negative; ``eps`` (poisson_nll, gaussian_nll) and
``label_smoothing`` must not be negative.

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

from manual.losses.base import Loss, get, log_softmax, names, register, softmax
from manual.losses.regression import (MSE, SSE, GaussianNLL, Huber, MAE,  # noqa: F401
                                      PoissonNLL, Quadratic, SmoothL1)
from manual.losses.binary import BCE, BCEWithLogits  # noqa: F401
from manual.losses.multiclass import CrossEntropy, NLL, KLDiv, MultiMargin  # noqa: F401

__all__ = ["Loss", "get", "log_softmax", "names", "register", "softmax"]
