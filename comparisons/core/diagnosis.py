r"""Which classic slip explains a wrong gradient exactly.

When a gradient fails its comparison, :func:`likely_slip` tests the few slips that
students make over and over against the reference, on the failing array itself:

- a flipped sign: :math:`g = -g^\star`;
- a constant factor :math:`g = c\,g^\star`, named when it is one of the classic ones: 2 or
  ½ (the ½ of ½‖·‖²), :math:`N` or :math:`1/N` (a sum where a mean belongs, or a mean
  taken twice), :math:`N/(N-1)` or :math:`(N-1)/N` (Bessel's correction where none
  belongs, or missing);
- a transpose: :math:`g = (g^\star)^\top`;
- a missing mask (ReLU, dropout, max-pool): :math:`g = g^\star` wherever
  :math:`g^\star \ne 0`, and non-zero where :math:`g^\star = 0`;
- an axis not summed out: :math:`\sum_k g = g^\star` over an axis the gradient should not
  have (a bias gradient kept per example);
- nothing computed: :math:`g = 0` where :math:`g^\star \ne 0`;
- a slip that only the code holding the context can compute (the indices of an embedding,
  the pre-activations of a network): that code passes ``alternatives``, each the gradient
  such a slip would give with a sentence naming it (an embedding's rows overwritten, not
  accumulated, at repeated indices; a network's activation derivative :math:`f'(z)` left
  out; :mod:`comparisons.core.alternatives`), and each is tested first, as exactly.

A hypothesis is claimed only when it explains **every** element within the comparison's
own tolerance (``atol + rtol·|expected|``, the policy of :mod:`comparisons.core.tolerances`):
a slip that explains the array only roughly, or a random error, gets no name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from comparisons.core.tolerances import Tolerance

__all__ = ["Alternatives", "likely_slip"]

#: the gradients a slip would give, each under the words that name it (the text that follows
#: "your gradient is ..."), or a function computing them when first needed: they are worked
#: out only for a comparison that fails
Alternatives = Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None


def _explains(actual: np.ndarray, hypothesis: np.ndarray, tol: Tolerance) -> bool:
    """``actual`` equals ``hypothesis`` elementwise within ``tol`` (both finite)."""
    if actual.shape != hypothesis.shape or not np.all(np.isfinite(hypothesis)):
        return False
    return bool(np.all(np.abs(actual - hypothesis) <= tol.allowed(hypothesis)))


def _factor_text(c: float, rtol: float) -> str:
    """The classic reading of a constant factor ``c`` (the student's over the true)."""
    close = max(100 * rtol, 1e-9)  # c is fitted from arrays known to about rtol

    def near(x: float) -> bool:
        return abs(c - x) <= close * abs(x)

    if near(2.0):
        return "twice the true gradient (the 1/2 of a squared error dropped?)"
    if near(0.5):
        return "half the true gradient (a factor 1/2 too many?)"
    n = round(c)
    if n >= 3 and near(n):
        return (f"{n} times the true gradient (a sum where a mean over {n} belongs? "
                f"the 1/N forgotten?)")
    if c > 0 and round(1 / c) >= 3 and near(1 / round(1 / c)):
        n = round(1 / c)
        return f"1/{n} of the true gradient (averaged twice? an extra 1/N with N = {n})"
    if c > 1 and round(1 / (c - 1)) >= 1:
        n = round(1 / (c - 1)) + 1  # c = n/(n-1)
        if near(n / (n - 1)):
            return (f"{n}/{n - 1} times the true gradient (Bessel's correction 1/(n-1), "
                    f"n = {n}, where the biased 1/n belongs?)")
    if 0 < c < 1 and round(1 / (1 - c)) >= 2:
        n = round(1 / (1 - c))  # c = (n-1)/n
        if near((n - 1) / n):
            return (f"{n - 1}/{n} times the true gradient (the biased 1/n, n = {n}, where "
                    f"Bessel's 1/(n-1) belongs?)")
    frac = Fraction(c).limit_denominator(16)
    if frac.denominator > 1 and near(float(frac)):
        return f"{frac} times the true gradient (a constant factor)"
    return f"{c:.6g} times the true gradient (a constant factor)"


def _same_shape(a: np.ndarray, e: np.ndarray, tol: Tolerance) -> str | None:
    atol = np.asarray(tol.atol, dtype=np.float64)
    if _explains(a, -e, tol):
        return "the negative of the true gradient (a flipped sign?)"
    if a.ndim == 2 and a.shape[0] == a.shape[1] and _explains(a, e.T, tol):
        return "the transpose of the true gradient (x.T @ delta and delta.T @ x swapped?)"
    if not np.any(a) and np.any(np.abs(e) > atol):
        return "all zeros (this gradient not computed, or not accumulated?)"
    live = np.abs(e) > atol
    if live.any() and not live.all() and np.any(np.abs(a[~live]) > atol) and _explains(
            a[live], e[live], tol):
        n = int(np.sum(np.abs(a[~live]) > atol))
        return (f"right wherever the true gradient is non-zero, but non-zero at {n} "
                f"element{'s' * (n != 1)} where it is 0 (a missing mask: ReLU's z > 0, "
                f"dropout's, max-pool's argmax?)")
    ee = float(np.dot(e.ravel(), e.ravel()))
    if np.sum(live) >= 2:  # a factor fitted to one element explains it, and says nothing
        c = float(np.dot(a.ravel(), e.ravel())) / ee
        if np.isfinite(c) and c != 0 and _explains(a, c * e, tol):
            return _factor_text(c, float(np.max(tol.rtol)))
    return None


def _other_shape(a: np.ndarray, e: np.ndarray, tol: Tolerance) -> str | None:
    if a.shape == e.T.shape and a.ndim == 2 and _explains(a.T, e, tol):
        return (f"the transpose of the true gradient (shape {a.shape}, the parameter's "
                f"{e.shape}: x.T @ delta and delta.T @ x swapped?)")
    if a.ndim == e.ndim + 1:
        for axis in range(a.ndim):
            if np.delete(np.array(a.shape), axis).tolist() != list(e.shape):
                continue
            if _explains(a.sum(axis=axis), e, tol):
                return (f"not summed over axis {axis} (shape {a.shape}; summing it out "
                        f"gives the true gradient, shape {e.shape})")
            if _explains(a.mean(axis=axis), e, tol):
                return (f"not reduced over axis {axis} (shape {a.shape}; its mean gives "
                        f"the true gradient, shape {e.shape})")
    return None


def _alternative(a: np.ndarray, e: np.ndarray, tol: Tolerance,
                 alternatives: Alternatives) -> str | None:
    """The first of ``alternatives`` that explains ``a`` and differs from ``e``."""
    found = alternatives() if callable(alternatives) else alternatives
    for text, value in (found or {}).items():
        alt = np.asarray(value, dtype=np.float64)
        # a hypothesis that the true gradient itself meets tells nothing apart
        if _explains(a, alt, tol) and not _explains(e, alt, tol):
            return text
    return None


def likely_slip(actual: np.ndarray, expected: np.ndarray, tol: Tolerance,
                alternatives: Alternatives = None) -> str | None:
    """The classic slip that explains ``actual`` (a wrong gradient) exactly, as text that
    follows "your gradient is ..."; ``None`` when none does.

    Parameters
    ----------
    actual, expected
        The student's (manual) array and the reference's.
    tol
        The comparison's tolerance: a hypothesis must meet it at every element.
    alternatives
        The gradients that slips needing more context than the two arrays would give
        (text -> array, or a function returning that mapping, called only here), tested
        before the classic ones: one is named when it explains ``actual`` within ``tol``
        at every element and the true gradient does not.

    Examples
    --------
    >>> import numpy as np
    >>> from comparisons.core.tolerances import tolerance_for
    >>> g = np.array([[0.5, -1.0], [2.0, 0.25]])
    >>> likely_slip(8 * g, g, tolerance_for("float64"))
    '8 times the true gradient (a sum where a mean over 8 belongs? the 1/N forgotten?)'
    >>> likely_slip(g + 1e-3, g, tolerance_for("float64")) is None
    True
    >>> likely_slip(g.clip(0), g, tolerance_for("float64"), alternatives={
    ...     "the gradient without the activation's derivative": g.clip(0)})
    "the gradient without the activation's derivative"
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(e))) or e.size == 0:
        return None
    if alternatives is not None:
        named = _alternative(a, e, tol, alternatives)
        if named:
            return named
    if a.shape == e.shape:
        return _same_shape(a, e, tol)
    return _other_shape(a, e, tol)
