r"""Oracles that need no torch: finite differences, the complex step and the Taylor test.

- :func:`central_difference` — :math:`f'(x) \approx (f(x+h) - f(x-h)) / 2h`, elementwise.
- :func:`complex_step` — :math:`f'(x) \approx \operatorname{Im} f(x + ih) / h` with
  :math:`h = 10^{-30}`: no subtraction, so no cancellation; exact to machine precision
  for any *analytic* function whose NumPy code runs on complex input.
- :func:`taylor_slope` — for a correct gradient,
  :math:`r(\varepsilon) = |L(\theta + \varepsilon v) - L(\theta) - \varepsilon\,\nabla L\cdot v|`
  shrinks like :math:`\varepsilon^2`; a wrong gradient leaves a first-order term and
  the log–log slope drops to 1. No step size to tune, and any error size is caught.

- :func:`finite_difference_gradients` and :func:`taylor_rows` — the many-parameter forms
  used for whole networks and layers (a loss closure over parameter arrays changed in
  place; ``batched`` evaluates many perturbed copies in one call).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from comparisons.core.batched import BatchedLoss
from comparisons.core.tolerances import FD_STEP, TAYLOR_EPS, TAYLOR_MIN_SLOPE, tolerance_for

__all__ = ["COMPLEX_STEP", "FD_CHUNK_ELEMENTS", "central_difference", "complex_step",
           "complex_step_gradient", "finite_difference_gradients", "taylor_remainders",
           "taylor_rows", "taylor_slope", "taylor_slope_from"]

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


# --------------------------------------------------------------------------------------
# many parameters at once: finite differences and the Taylor test of a loss closure
# --------------------------------------------------------------------------------------
def finite_difference_gradients(loss: Callable[[], Any], params: dict[str, np.ndarray],
                                h: float = FD_STEP, *,
                                batched: BatchedLoss | None = None) -> dict[str, np.ndarray]:
    r"""Central differences :math:`\partial L/\partial\theta_i \approx
    (L(\theta + h e_i) - L(\theta - h e_i)) / 2h` for every element of every parameter.

    ``loss()`` must recompute the loss from the live arrays in ``params``, which are
    perturbed in place and restored exactly (the saved value is written back, not
    recomputed as ``θ + h - h``).

    ``batched(name, values)``, when given (e.g. :func:`comparisons.core.batched.mlp_batched_loss`),
    returns the loss at each of the stacked copies ``values`` (P, \*shape) of
    ``params[name]`` at once; it must give exactly what ``loss()`` gives for each copy, and
    then so does this function, bit for bit, many times faster (the same
    :math:`\theta_i \pm h` values, the same subtraction and division).
    """
    if batched is not None:
        return {name: _fd_batched(batched, name, p, h) for name, p in params.items()}
    grads: dict[str, np.ndarray] = {}
    for name, p in params.items():
        g = np.zeros(p.shape, dtype=np.float64)
        for idx in np.ndindex(p.shape):  # one loss pair per element: inherent to the method
            saved = p[idx]
            p[idx] = saved + h
            up = float(loss())
            p[idx] = saved - h
            down = float(loss())
            p[idx] = saved
            g[idx] = (up - down) / (2 * h)
        grads[name] = g
    return grads


#: most parameter elements held in stacked perturbed copies at a time
FD_CHUNK_ELEMENTS = 1 << 22


def _fd_batched(batched: BatchedLoss, name: str, p: np.ndarray, h: float) -> np.ndarray:
    """One parameter's central differences, ``2k`` perturbed copies per call: copy ``2j``
    holds :math:`\theta_i + h` and copy ``2j + 1`` :math:`\theta_i - h` at element i."""
    flat = p.reshape(-1)
    g = np.zeros(flat.size, dtype=np.float64)
    k = max(1, FD_CHUNK_ELEMENTS // max(2 * flat.size, 1))  # elements per call
    for start in range(0, flat.size, k):
        idx = np.arange(start, min(start + k, flat.size))
        copies = np.repeat(flat[None, :], 2 * len(idx), axis=0)  # (2k, size)
        copies[0::2][np.arange(len(idx)), idx] = flat[idx] + h
        copies[1::2][np.arange(len(idx)), idx] = flat[idx] - h
        L = np.asarray(batched(name, copies.reshape((-1,) + p.shape)), dtype=np.float64)
        g[idx] = (L[0::2] - L[1::2]) / (2 * h)
    return g.reshape(p.shape)


def taylor_rows(loss: Callable[[], Any], params: dict[str, np.ndarray],
                grads: dict[str, np.ndarray], seed: int = 0, *,
                batched: BatchedLoss | None = None) -> list[dict[str, Any]]:
    r"""The Taylor-remainder test for each parameter. Along a random unit direction
    :math:`v`, :math:`r(\varepsilon) = |L(\theta + \varepsilon v) - L(\theta) -
    \varepsilon\,g \cdot v|` falls like :math:`\varepsilon^2` when :math:`g` is the
    gradient, and only like :math:`\varepsilon` when it is not.

    A row passes when the fitted log–log slope (``taylor_slope``) is at least
    ``TAYLOR_MIN_SLOPE`` (1.8), or when the first-order residual :math:`r(\varepsilon)/\varepsilon`
    at the smallest step (reported as ``worst_abs_err`` and ``max_abs_err``: it bounds the
    error of :math:`g \cdot v`) is within the finite-difference tolerance of :math:`g \cdot v`.
    The second clause covers losses that are (piecewise) linear along :math:`v`, where
    there is no curvature for the slope to show. ``err_over_tol`` is the smaller of
    :math:`(2 - \text{slope})/(2 - 1.8)` and the residual over its tolerance: <= 1 passes.

    ``batched`` (as in :func:`finite_difference_gradients`) evaluates
    :math:`L(\theta)` and every :math:`L(\theta + \varepsilon v)` in one call, with the
    same values.
    """
    rng = np.random.default_rng(seed)
    tol = tolerance_for(np.float64, "fd")
    rows = []
    for name, p in params.items():
        saved = p.copy()
        v = rng.standard_normal(p.shape)
        v /= max(float(np.linalg.norm(v)), 1e-300)

        def L(theta, p=p):
            p[...] = theta  # in place: the network computes with this array
            return float(loss())

        if batched is None:
            r = taylor_remainders(L, grads[name], saved, v, TAYLOR_EPS)
        else:  # the same points theta + eps v, the same arithmetic as taylor_remainders
            theta = np.asarray(saved, dtype=np.float64)
            values = batched(name, np.stack([theta] + [theta + e * v for e in TAYLOR_EPS]))
            L0 = float(values[0])
            g_v = float(np.sum(np.asarray(grads[name], dtype=np.float64) * v))
            r = np.array([abs(float(Le) - L0 - e * g_v) for e, Le in zip(TAYLOR_EPS, values[1:])])
        p[...] = saved
        slope = taylor_slope_from(r)
        residual = float(r[-1] / TAYLOR_EPS[-1])  # bounds |true - computed| along v
        directional = float(np.sum(np.asarray(grads[name], dtype=np.float64) * v))
        # one figure for the two ways to pass, <= 1 as every row: the slope's shortfall
        # from 2 over the allowed shortfall, or the residual over its tolerance
        slope_ratio = max(0.0, (2.0 - slope) / (2.0 - TAYLOR_MIN_SLOPE))
        residual_ratio = residual / (tol.atol + tol.rtol * abs(directional))
        err_over_tol = min(slope_ratio, residual_ratio)
        passed = bool(slope >= TAYLOR_MIN_SLOPE
                      or residual <= tol.atol + tol.rtol * abs(directional))
        rows.append({"parameter": name, "shape": "x".join(map(str, p.shape)) or "scalar",
                     "size": p.size, "taylor_slope": slope, "err_over_tol": err_over_tol,
                     "worst_abs_err": residual,
                     "max_abs_err": residual,
                     "reference_value": directional, "rtol": tol.rtol, "atol": tol.atol,
                     "passed": passed, "status": "pass" if passed else "fail",
                     "note": "" if passed else (
                         f"Taylor remainder falls like eps^{slope:.2f}, not eps^2, and the "
                         f"first-order residual {residual:.3e} exceeds the tolerance for the "
                         f"directional derivative {directional:.6g}: the gradient is wrong")})
    return rows
