"""The numerically stable building blocks shared by :mod:`manual.activations` and
:mod:`manual.losses` (private: their public faces are the activations and losses).

Each one avoids an overflow or a cancellation of the textbook formula, and runs on
complex input (branches test the real part) so that the complex-step oracle applies.
"""

from __future__ import annotations

import math

import numpy as np


def _exp_neg_abs(z: np.ndarray) -> np.ndarray:
    """e^{-|z|}, in (0, 1]: the one exponential that can never overflow."""
    if np.iscomplexobj(z):  # complex-step input: flip by the sign of the real part
        return np.exp(np.where(z.real >= 0, -z, z))
    return np.exp(-np.abs(z))  # branch-free: np.where on random signs is ~8x slower


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function 1/(1 + e^{-z}), as torch computes it: a rounding or two from the
    true value, and 0 (the true value below the smallest float) where e^{-z} overflows."""
    if np.iscomplexobj(z):  # complex step: e^{-|z|} chosen by the real part, as _exp_neg_abs
        e = _exp_neg_abs(z)
        return np.where(z.real >= 0, 1, e) / (1 + e)
    # why the textbook form is safe: for z << 0, e^{-z} overflows to inf and 1/(1 + inf) = 0,
    # the right limit (IEEE arithmetic: only the warning is silenced), and for z >> 0,
    # e^{-z} -> 0; one exponential and no branch (np.where on random signs is slow).
    # In place, in one buffer: a new temporary per step costs page faults on large arrays
    s = _buffer(z)
    np.negative(z, out=s)
    with np.errstate(over="ignore"):
        np.exp(s, out=s)
    s += 1
    return _result(np.divide(1, s, out=s))


def _sigmoid_derivative(z: np.ndarray, grad: np.ndarray | None = None) -> np.ndarray:
    """sigma'(z) = 1/(2 + 2 cosh z), times ``grad`` when given (the backward's product)."""
    # why: e^{-z}/(1 + e^{-z})^2 = 1/(e^z + 2 + e^{-z}), even in z and without the
    # cancellation of sigma (1 - sigma); cosh overflows to inf for |z| >> 0, giving 0, the
    # right limit. In one buffer, as _sigmoid
    if np.iscomplexobj(z):  # complex step: cosh(inf + iy) is inf*(cos y + i sin y), NaN-prone
        e = _exp_neg_abs(z)
        d = e / ((1 + e) * (1 + e))
        return d if grad is None else grad * d
    c = _buffer(z)
    with np.errstate(over="ignore"):
        np.cosh(z, out=c)
    c += 1
    np.divide(0.5 if grad is None else grad, c, out=c)
    if grad is not None:
        c *= 0.5
    return _result(c)


def _buffer(z: np.ndarray) -> np.ndarray:
    """An empty array of z's shape for an in-place chain (float64 for integer input)."""
    z = np.asarray(z)
    return np.empty(z.shape, np.result_type(z.dtype, np.float32))


def _result(a: np.ndarray) -> np.ndarray:
    """``a``, or its scalar when 0-d (what the ufuncs return for a 0-d input)."""
    return a if a.ndim else a[()]


def _sech2(z: np.ndarray) -> np.ndarray:
    """sech^2 z = 4 e^{-2|z|} / (1 + e^{-2|z|})^2, never overflowing (exp of -2|z| only)."""
    e = _exp_neg_abs(2 * z)
    return 4 * e / ((1 + e) * (1 + e))


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) = max(x, 0) + log1p(e^{-|x|}): never overflows."""
    # the same branch test (Re x >= 0) as _exp_neg_abs, so complex-step input at x = 0
    # takes one consistent side; 0 (not 0 * x) on the other, so that x = -inf gives 0, as
    # torch; a NaN still propagates through log1p(e^{-|x|})
    return np.where(np.real(x) >= 0, x, np.zeros_like(x)) + np.log1p(_exp_neg_abs(x))


def _abs(z: np.ndarray) -> np.ndarray:
    """|z| as z * sign(Re z): equal for real input, and analytic for complex-step input."""
    return np.where(np.real(z) < 0, -z, z)


def _softmax(z: np.ndarray, axis: int) -> np.ndarray:
    """softmax along ``axis``, from z - max z so that every exponent is <= 0."""
    e = np.exp(z - np.max(np.real(z), axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    """z - m - log sum exp(z - m), m = max z along ``axis``: every exponent is <= 0."""
    shifted = z - np.max(np.real(z), axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _softmax_vjp(s: np.ndarray, g: np.ndarray, axis: int) -> np.ndarray:
    """s * (g - <g, s>): the product with the softmax Jacobian diag(s) - s s^T."""
    return s * (g - np.sum(g * s, axis=axis, keepdims=True))


def _softmax_jacobian(s: np.ndarray) -> np.ndarray:
    """diag(s) - s s^T for each vector s along the last axis: shape s.shape + (K,)."""
    return s[..., :, None] * (np.eye(s.shape[-1], dtype=s.dtype) - s[..., None, :])


def erfc(x: np.ndarray) -> np.ndarray:
    r"""Complementary error function :math:`\operatorname{erfc}(x) = 1 - \operatorname{erf}(x)`,
    vectorised (NumPy has none), accurate to about 1e-15 relative in float64.

    For :math:`|x| < 2.5`, the everywhere-positive series
    :math:`\operatorname{erf}(x) = \frac{2}{\sqrt\pi} e^{-x^2} \sum_{k\ge0}
    \frac{2^k x^{2k+1}}{1\cdot3\cdots(2k+1)}` (no cancellation between terms); beyond,
    the continued fraction :math:`\operatorname{erfc}(x) = \frac{e^{-x^2}}{\sqrt\pi}
    \cfrac{1}{x + \cfrac{1/2}{x + \cfrac{1}{x + \cfrac{3/2}{x + \cdots}}}}`, and
    :math:`\operatorname{erfc}(-x) = 2 - \operatorname{erfc}(x)`. Both are analytic, so the
    complex step runs through them.
    """
    flip = np.real(x) < 0
    ax = np.where(flip, -x, x)
    small = np.real(ax) < 2.5
    xs = np.where(small, ax, 0)  # series argument (kept small where unused)
    xl = np.where(small, 2.5, ax)  # continued-fraction argument (kept >= 2.5 where unused)
    x2 = xs * xs
    term, total = xs, xs
    for k in range(1, 50):  # the 50th term is < 1e-17 of the sum for |x| < 2.5
        term = term * (2 * x2) / (2 * k + 1)
        total = total + term
    erfc_small = 1 - 2 / math.sqrt(math.pi) * np.exp(-x2) * total
    t = xl
    for k in range(40, 0, -1):  # evaluated bottom-up; 40 levels converge for x >= 2.5
        t = xl + (k / 2) / t
    erfc_large = np.exp(-xl * xl) / math.sqrt(math.pi) / t
    r = np.where(small, erfc_small, erfc_large)
    return np.where(flip, 2 - r, r)


def _sign(x: np.ndarray) -> np.ndarray:
    """sign(x) with sign(0) = 0 and sign(NaN) = 0, as ``torch.sign`` (on the real part)."""
    r = np.real(x)
    return np.where(np.isnan(r), 0, np.sign(r)).astype(x.dtype)
