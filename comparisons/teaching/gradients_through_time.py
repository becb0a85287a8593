"""Lesson 11 (:mod:`manual.lessons.gradients_through_time`) against torch: every
:math:`\\|\\partial L/\\partial h_t\\|` and :math:`\\|\\partial L/\\partial c_t\\|` by autograd
through torch's own ``nn.RNNCell``/``nn.LSTMCell`` stepped over time, and the clipped parameter
gradients and total norm against ``torch.nn.utils.clip_grad_norm_``.

Self-contained (its own rows, the columns of :data:`comparisons.teaching.lessons.COLUMNS`), so
that it moves with the lessons' torch checks wherever they live.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import torch

from comparisons.teaching.rows import lesson_row
from manual.lessons import gradients_through_time as lesson

__all__ = ["lesson_rows", "torch_clipped", "torch_layer", "torch_state_gradients"]

NAME = "gradients_through_time"


def torch_layer(net: Any) -> torch.nn.RNNBase:
    """torch's own ``nn.RNN``/``nn.LSTM`` with the manual layer's configuration and weights
    (float64)."""
    module = getattr(torch.nn, type(net).__name__)(**net.config).double()
    with torch.no_grad():
        for k, p in module.named_parameters():
            p.copy_(torch.from_numpy(net.params[k]))
    return module


def torch_state_gradients(module: torch.nn.RNNBase, x: np.ndarray, g: np.ndarray
                          ) -> np.ndarray:
    """(T + 1, 2) norms of dL/dh_t and dL/dc_t (NaN for an RNN) by autograd, L = <g, h_T>:
    torch's own cell (``nn.RNNCell``/``nn.LSTMCell``, the layer's weights) stepped over
    time, every state kept with ``retain_grad``."""
    lstm = isinstance(module, torch.nn.LSTM)
    H = module.hidden_size
    cell: torch.nn.LSTMCell | torch.nn.RNNCell
    if lstm:
        cell = torch.nn.LSTMCell(module.input_size, H).double()
    else:
        rnn = cast(torch.nn.RNN, module)  # the lesson's layers: nn.LSTM or nn.RNN
        cell = torch.nn.RNNCell(rnn.input_size, H, nonlinearity=rnn.nonlinearity).double()
    with torch.no_grad():
        for k, p in cell.named_parameters():
            p.copy_(getattr(module, f"{k}_l0"))
    xt = torch.from_numpy(x)
    T, N = x.shape[0], x.shape[1]
    h = torch.zeros(N, H, dtype=torch.float64, requires_grad=True)
    c = torch.zeros(N, H, dtype=torch.float64, requires_grad=True)
    states = [(h, c)]
    for t in range(T):
        if lstm:
            h, c = cell(xt[t], (h, c))
        else:
            h = cell(xt[t], h)
        h.retain_grad()
        c.retain_grad()
        states.append((h, c))
    (torch.from_numpy(g) * h).sum().backward()
    out = np.full((T + 1, 2), np.nan)
    for t, (h, c) in enumerate(states):
        out[t, 0] = float(torch.linalg.vector_norm(h.grad))
        if lstm:
            out[t, 1] = 0.0 if c.grad is None else float(torch.linalg.vector_norm(c.grad))
    return out


def torch_clipped(module: torch.nn.RNNBase, x: np.ndarray, g: np.ndarray, max_norm: float
                  ) -> tuple[dict[str, np.ndarray], float]:
    """The parameter gradients of L after ``torch.nn.utils.clip_grad_norm_`` and its total
    norm."""
    module.zero_grad(set_to_none=True)
    _, hn = module(torch.from_numpy(x))
    h_T = hn[0][0] if isinstance(hn, tuple) else hn[0]
    (torch.from_numpy(g) * h_T).sum().backward()
    norm = torch.nn.utils.clip_grad_norm_(module.parameters(), max_norm)
    # the backward above reached every parameter (h_T depends on them all)
    return ({k: p.grad.numpy().copy()  # type: ignore[union-attr]
             for k, p in module.named_parameters()}, float(norm))


def _row(quantity: str, manual: Any, ref: Any) -> dict[str, Any]:
    """A row with the columns of :data:`comparisons.teaching.rows.COLUMNS`."""
    return lesson_row(NAME, quantity, manual, ref)


def lesson_rows() -> list[dict[str, Any]]:
    """One row per configuration and quantity, compared with torch (float64)."""
    x, g = lesson.data()
    df = lesson.norms()
    rows = []
    for name in lesson.CONFIGS:
        net = lesson.layer(name)
        ref = torch_state_gradients(torch_layer(net), x, g)
        mine = df[df["config"] == name][["|dL/dh_t|", "|dL/dc_t|"]].to_numpy()
        rows.append(_row(f"|dL/dh_t|, t = 0 ... {lesson.STEPS}, {name}", mine[:, 0], ref[:, 0]))
        if name.startswith("lstm"):
            rows.append(_row(f"|dL/dc_t|, t = 0 ... {lesson.STEPS}, {name}", mine[:, 1],
                             ref[:, 1]))
        _, after, norm = lesson.clipped(net, x, g)
        after_t, norm_t = torch_clipped(torch_layer(net), x, g, lesson.MAX_NORM)
        rows.append(_row(f"clip_grad_norm_ total norm, {name}", norm, norm_t))
        rows.append(_row(f"clipped parameter gradients, {name}",
                         np.concatenate([after[k].ravel() for k in after]),
                         np.concatenate([after_t[k].ravel() for k in after])))
    return rows
