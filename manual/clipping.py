r"""Gradient clipping, as ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``, on a
dict (or list) of gradient arrays, in place.

**By norm.** With :math:`g_k` the gradient arrays and :math:`p` = ``norm_type``, the total
norm is the :math:`p`-norm of the per-array norms — the :math:`p`-norm of all elements as
one vector:

.. math::
    \|g\|_p = \Big(\sum_k \|g_k\|_p^p\Big)^{1/p}, \qquad
    \|g\|_\infty = \max_k \max_i |g_{k,i}|, \qquad
    g_k \leftarrow g_k \cdot \min\!\Big(1,\ \frac{\text{max\_norm}}{\|g\|_p + 10^{-6}}\Big)

(torch's :math:`10^{-6}` keeps the division finite at a zero gradient; the factor is applied
even when it is 1, as torch does). Clipping rescales the whole gradient, so its *direction*
is kept: the update is shorter, never bent. It is the standard cure for exploding gradients
through time (Pascanu et al., 2013).

**By value.** :math:`g_{k,i} \leftarrow \operatorname{clamp}(g_{k,i}, -c, c)`: elementwise,
so the direction changes.

Backward: clipping happens *after* backpropagation, on the finished gradients; it has no
derivative to take. :func:`manual.train` applies either, between the backward pass and the
optimizer step (``clip_grad_norm=``, ``clip_grad_value=``).

>>> import numpy as np
>>> grads = {"w": np.array([3.0, 0.0]), "b": np.array([4.0])}
>>> float(clip_grad_norm_(grads, max_norm=1.0))   # the norm before clipping
5.0
>>> np.round(grads["w"], 6).tolist(), np.round(grads["b"], 6).tolist()
([0.6, 0.0], [0.8])
>>> clip_grad_value_(grads, 0.7); grads["b"].tolist()
[0.7]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = ["clip_grad_norm_", "clip_grad_value_", "total_norm"]


def _arrays(grads: Any, owner: str) -> list[np.ndarray]:
    """The gradient arrays of ``grads`` (a dict, or an iterable of arrays; None entries,
    parameters without a gradient, are skipped as torch skips ``p.grad is None``)."""
    if isinstance(grads, np.ndarray):
        items: Iterable[Any] = [grads]
    elif isinstance(grads, Mapping):
        items = grads.values()
    else:
        try:
            items = list(grads)
        except TypeError:
            raise TypeError(f"{owner}: grads must be a dict or a list of gradient arrays, got "
                            f"{type(grads).__name__}") from None
    out = []
    for g in items:
        if g is None:
            continue
        if not isinstance(g, np.ndarray) or g.dtype.kind != "f":
            raise TypeError(f"{owner}: every gradient must be a float NumPy array (clipped in "
                            f"place), got {type(g).__name__}"
                            f"{' of dtype ' + str(g.dtype) if isinstance(g, np.ndarray) else ''}")
        out.append(g)
    return out


def _norm_type(norm_type: Any, owner: str) -> float:
    if isinstance(norm_type, str) and norm_type.lower() in ("inf", "-inf"):
        return float(norm_type)
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float, np.floating,
                                                                  np.integer)):
        raise TypeError(f"{owner}: norm_type must be a number or 'inf', got {norm_type!r}")
    return float(norm_type)


def _vector_norm(g: np.ndarray, p: float) -> np.ndarray:
    """``torch.linalg.vector_norm(g, p)`` over all elements, in ``g``'s dtype."""
    a = np.abs(g.ravel())
    if p == math.inf:
        return a.max(initial=0).astype(g.dtype)
    if p == -math.inf:
        return a.min(initial=np.inf).astype(g.dtype)
    if p == 0:
        return np.asarray(np.count_nonzero(a), dtype=g.dtype)
    if p == 1:
        return a.sum(dtype=g.dtype)
    if p == 2:
        return np.sqrt(np.dot(a, a)).astype(g.dtype)
    with np.errstate(divide="ignore", over="ignore"):
        return (a ** p).sum(dtype=g.dtype) ** (1 / p)


def total_norm(grads: Any, norm_type: float | str = 2.0) -> np.ndarray:
    r"""The total :math:`p`-norm of all gradients, as ``torch.nn.utils.get_total_norm``:
    the norm of the per-array norms (0-d array in the gradients' dtype; 0 for none)."""
    arrays = _arrays(grads, "total_norm")
    p = _norm_type(norm_type, "total_norm")
    if not arrays:
        return np.asarray(0.0)
    norms = np.stack([_vector_norm(g, p) for g in arrays])  # (number of arrays,)
    return _vector_norm(norms, p)


def clip_grad_norm_(grads: Any, max_norm: float, norm_type: float | str = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None
                    ) -> np.ndarray:
    r"""Scale every gradient in place by :math:`\min(1, \text{max\_norm}/(\|g\|_p +
    10^{-6}))`; returns the total norm *before* clipping (0-d array, the gradients'
    dtype), as ``torch.nn.utils.clip_grad_norm_``.

    ``norm_type`` is any :math:`p` (``2.0``, ``1``, ``float('inf')`` or ``'inf'``, …).
    A NaN or infinite total norm raises ``RuntimeError`` with ``error_if_nonfinite=True``
    (torch's exception type); otherwise the gradients are scaled by the resulting
    non-finite factor, as torch does. ``foreach`` is torch's implementation switch and
    changes nothing here (accepted for the same signature).
    """
    owner = "clip_grad_norm_"
    arrays = _arrays(grads, owner)
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float, np.floating,
                                                                np.integer)):
        raise TypeError(f"{owner}: max_norm must be a number, got {max_norm!r}")
    if foreach is not None and not isinstance(foreach, bool):
        raise TypeError(f"{owner}: foreach must be None or a bool, got {foreach!r}")
    norm = total_norm(arrays, _norm_type(norm_type, owner))
    if not arrays:
        return norm
    if error_if_nonfinite and not np.isfinite(norm):
        raise RuntimeError(f"The total norm of order {float(_norm_type(norm_type, owner))} for "
                           f"gradients from `parameters` is non-finite, so it cannot be "
                           f"clipped. To disable this error and scale the gradients by the "
                           f"non-finite norm anyway, set `error_if_nonfinite=False`")
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        coef = np.asarray(max_norm, dtype=norm.dtype) / (norm + norm.dtype.type(1e-6))
        coef = np.minimum(coef, 1.0).astype(norm.dtype)  # NaN stays NaN, as torch.clamp
        for g in arrays:
            g *= coef  # in place: the caller's arrays
    return norm


def clip_grad_value_(grads: Any, clip_value: float, foreach: bool | None = None) -> None:
    r"""Clamp every gradient element in place to :math:`[-c, c]`, ``c = clip_value``, as
    ``torch.nn.utils.clip_grad_value_`` (returns None)."""
    owner = "clip_grad_value_"
    arrays = _arrays(grads, owner)
    if isinstance(clip_value, bool) or not isinstance(clip_value, (int, float, np.floating,
                                                                    np.integer)):
        raise TypeError(f"{owner}: clip_value must be a number, got {clip_value!r}")
    c = float(clip_value)
    for g in arrays:
        np.clip(g, -c, c, out=g)
