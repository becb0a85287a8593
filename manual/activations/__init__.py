r"""Activation functions: forward, derivative, second derivative and backward.

Every activation is an object with four methods, all vectorised over arrays of any
shape (0-d and empty included) and keeping the input's dtype:

``forward(z)``
    :math:`a = f(z)`.
``derivative(z)``
    The elementwise :math:`f'(z)`.
``second_derivative(z)``
    The elementwise :math:`f''(z)`.
``backward(z, grad_out)``
    The vector–Jacobian product :math:`\partial L/\partial z = \partial L/\partial a \odot f'(z)`:
    the gradient for the input, ready to hand to the layer below. Nothing else in
    the library multiplies by :math:`f'` for you.

At a kink (ReLU at 0, ...) ``derivative`` returns the one-sided value torch's
autograd returns there; each docstring says which.

>>> import numpy as np
>>> from manual import activations
>>> act = activations.get("sigmoid")
>>> act.forward(np.array([0.0]))
array([0.5])
>>> act.backward(np.array([0.0]), grad_out=np.array([2.0]))
array([0.5])
"""

from manual._numerics import (_abs, _exp_neg_abs, _log_softmax, _sech2, _sigmoid,  # noqa: F401
                              _softmax, _softmax_jacobian, _softmax_vjp, _softplus, erfc)
from manual.activations.base import Activation, get, names, register
from manual.activations.rectifiers import Identity, ReLU, LeakyReLU  # noqa: F401
from manual.activations.squashing import Sigmoid, Tanh, Softsign, LogSigmoid, Tanhshrink, LeCunTanh  # noqa: F401
from manual.activations.exponential import ELU, SELU, CELU  # noqa: F401
from manual.activations.smooth import GELU, GELUTanh, Softplus, SiLU, Mish  # noqa: F401
from manual.activations.hard import Hardtanh, ReLU6, Hardsigmoid, Hardswish, Softshrink  # noqa: F401
from manual.activations.softmax import Softmax, LogSoftmax, Softmin  # noqa: F401

__all__ = ["Activation", "erfc", "get", "names", "register"]
