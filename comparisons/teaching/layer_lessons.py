"""The layer lessons (:mod:`manual.lessons.batchnorm_backward`,
:mod:`manual.lessons.conv_backward`) against torch: every gradient they build by hand,
against the autograd of torch's own ``nn.BatchNorm1d`` and ``F.conv2d``, under the float64
tolerance policy. :func:`comparisons.teaching.lessons.lesson_rows` dispatches here through
:data:`LESSON_ROWS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from comparisons.core.tolerances import tolerance_for
from comparisons.teaching.rows import lesson_row
from manual.layers.normalization import batchnorm_backward, batchnorm_forward
from manual.lessons import batchnorm_backward as bn_lesson
from manual.lessons import conv_backward as conv_lesson

__all__ = ["LESSON_ROWS", "torch_batchnorm_dx", "torch_conv_grads"]

TOL = tolerance_for(np.float64, "torch")


def _row(lesson: str, quantity: str, manual: Any, torch_value: Any) -> dict[str, Any]:
    """A row with the columns of :data:`comparisons.teaching.rows.COLUMNS`."""
    return lesson_row(lesson, quantity, manual, torch_value)


def torch_batchnorm_dx(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, t: np.ndarray,
                       training: bool = True, running: tuple[np.ndarray, np.ndarray] | None = None
                       ) -> np.ndarray:
    r""":math:`\partial L/\partial x` for :math:`L = \tfrac12\sum (y - t)^2`, ``y`` from
    torch's ``nn.BatchNorm1d`` (float64; train mode, or eval with ``running``
    statistics), by autograd."""
    bn = nn.BatchNorm1d(x.shape[1], eps=bn_lesson.EPS, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.as_tensor(gamma))
        bn.bias.copy_(torch.as_tensor(beta))
        if running is not None:
            # track_running_stats is on (the default): both buffers exist
            assert bn.running_mean is not None and bn.running_var is not None
            bn.running_mean.copy_(torch.as_tensor(running[0]))
            bn.running_var.copy_(torch.as_tensor(running[1]))
    bn.train(training)
    xt = torch.tensor(x, requires_grad=True)
    (0.5 * ((bn(xt) - torch.as_tensor(t)) ** 2).sum()).backward()
    assert xt.grad is not None  # the loss depends on xt, which requires grad
    return xt.grad.numpy()


def _batchnorm_rows(name: str) -> list[dict[str, Any]]:
    rows = []
    for m in bn_lesson.BATCH_SIZES:
        x, gamma, beta, t = bn_lesson.problem(m)
        y, cache = batchnorm_forward(x, gamma, beta, bn_lesson.EPS)
        dx_t = torch_batchnorm_dx(x, gamma, beta, t)
        parts = bn_lesson.terms(x, gamma, y - t)
        rows.append(_row(name, f"three terms summed, M = {m} (train)", parts["sum"], dx_t))
        rows.append(_row(name, f"batchnorm_backward, M = {m} (train)",
                         batchnorm_backward(y - t, cache)[0], dx_t))
    x, gamma, beta, t = bn_lesson.problem(8)
    rm, rv = np.array([1.0]), np.array([4.0])
    y, cache = batchnorm_forward(x, gamma, beta, bn_lesson.EPS, rm, rv, training=False)
    rows.append(_row(name, "direct term alone, eval mode", gamma * (y - t) * cache.inv_std,
                     torch_batchnorm_dx(x, gamma, beta, t, False, (rm, rv))))
    return rows


def torch_conv_grads(x: np.ndarray, w: np.ndarray, dy: np.ndarray, stride: int, padding: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y, dx, dw)`` of torch's ``F.conv2d`` (no bias) under the upstream gradient ``dy``."""
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, stride=stride, padding=padding)
    y.backward(torch.as_tensor(dy))
    assert xt.grad is not None and wt.grad is not None  # y depends on both
    return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()


def _conv_rows(name: str) -> list[dict[str, Any]]:
    rows = []
    for c_in, c_out, k, s, p, size in conv_lesson.CONFIGS:
        x, w, dy = conv_lesson.problem(c_in, c_out, k, s, p, size)
        y_t, dx_t, dw_t = torch_conv_grads(x, w, dy, s, p)
        label = f"C {c_in}->{c_out}, k {k}, stride {s}, padding {p}"
        rows.append(_row(name, f"forward (correlate), {label}", conv_lesson.correlate(x, w, s, p),
                         y_t))
        rows.append(_row(name, f"dx by definition J^T delta, {label}",
                         conv_lesson.dx_by_definition(x, w, dy, s, p), dx_t))
        rows.append(_row(name, f"dx flipped kernel, {label}",
                         conv_lesson.dx_flipped(x, w, dy, s, p), dx_t))
        rows.append(_row(name, f"dx manual.layers.conv2d_backward, {label}",
                         conv_lesson._layer_dx(x, w, dy, s, p), dx_t))
        rows.append(_row(name, f"dw correlation, {label}",
                         conv_lesson.dw_correlation(x, w, dy, s, p), dw_t))
    return rows


#: lesson name -> ``rows(name)``
LESSON_ROWS: dict[str, Callable[[str], list[dict[str, Any]]]] = {
    "batchnorm_backward": _batchnorm_rows,
    "conv_backward": _conv_rows,
}
