r"""Oracles that need no torch: finite differences, the complex step and the Taylor test.

- :func:`central_difference` — :math:`f'(x) \approx (f(x+h) - f(x-h)) / 2h`, elementwise.
- :func:`complex_step` — :math:`f'(x) \approx \operatorname{Im} f(x + ih) / h` with
  :math:`h = 10^{-30}`: no subtraction, so no cancellation; exact to machine precision
  for any *analytic* function whose NumPy code runs on complex input.
- :func:`taylor_slope` — for a correct gradient,
  :math:`r(\varepsilon) = |L(\theta + \varepsilon v) - L(\theta) - \varepsilon\,\nabla L\cdot v|`
  shrinks like :math:`\varepsilon^2`; a wrong gradient leaves a first-order term and
  the log–log slope drops to 1. No step size to tune, and any error size is caught.

(:func:`comparisons.run.runner.finite_difference_gradients` is the many-parameter form used
for whole networks.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from comparisons.core.tolerances import TAYLOR_EPS

__all__ = ["COMPLEX_STEP", "central_difference", "complex_step", "complex_step_gradient",
           "taylor_remainders", "taylor_slope", "taylor_slope_from"]

COMPLEX_STEP = 1e-30


def central_difference(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                       h: float = 1e-6) -> np.ndarray:
    """Elementwise central difference of an elementwise ``f`` at ``x`` (float64)."""
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / (2 * h)


def complex_step(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                 h: float = COMPLEX_STEP) -> np.ndarray:
    r"""Elementwise :math:`f'(x) = \operatorname{Im} f(x + ih)/h` for an elementwise ``f``."""
    x = np.asarray(x, dtype=np.float64)
    return np.imag(f(x + 1j * h)) / h


def complex_step_gradient(L: Callable[[np.ndarray], complex], x: np.ndarray,
                          h: float = COMPLEX_STEP) -> np.ndarray:
    r""":math:`\partial L/\partial x_i = \operatorname{Im} L(x + ih e_i)/h` for a scalar ``L``
    (one complex evaluation per element)."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):  # one evaluation per element: inherent to the method
        xc = x.astype(np.complex128)
        xc[idx] += 1j * h
        grad[idx] = np.imag(L(xc)) / h
    return grad


def taylor_remainders(L: Callable[[np.ndarray], float], grad: np.ndarray, theta: np.ndarray,
                      direction: np.ndarray, eps: Sequence[float]) -> np.ndarray:
    r"""The remainders, for each ``eps`` (all in float64):

    .. math:: r(\varepsilon) = |L(\theta + \varepsilon v) - L(\theta)
              - \varepsilon\,\nabla L\cdot v|
    """
    theta = np.asarray(theta, dtype=np.float64)
    v = np.asarray(direction, dtype=np.float64)
    L0 = float(L(theta))
    slope = float(np.sum(np.asarray(grad, dtype=np.float64) * v))
    return np.array([abs(float(L(theta + e * v)) - L0 - e * slope) for e in eps])


def taylor_slope(L: Callable[[np.ndarray], float], grad: np.ndarray, theta: np.ndarray,
                 direction: np.ndarray,
                 eps: Sequence[float] = TAYLOR_EPS) -> float:
    """Least-squares slope of ``log r(eps)`` against ``log eps``: about 2 for a right
    gradient, about 1 for a wrong one (see the module docstring).

    The default ``eps`` (1e-3 down to 8e-6) suits a direction ``v`` of order one: small
    enough that cubic terms do not bend the curve, large enough that ``r`` stays far
    above float64 rounding of ``L``."""
    return taylor_slope_from(taylor_remainders(L, grad, theta, direction, eps), eps)


def taylor_slope_from(r: np.ndarray, eps: Sequence[float] = TAYLOR_EPS) -> float:
    """Least-squares slope of log r against log eps."""
    r = np.maximum(r, np.finfo(np.float64).tiny)  # r = 0 exactly: keep the log finite
    return float(np.polyfit(np.log(eps), np.log(r), 1)[0])
