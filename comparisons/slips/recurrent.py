"""Deliberately wrong recurrent layers: the classic slips of backpropagation through time,
negative controls of the recurrent layer records (:mod:`comparisons.cases.recurrent`).

Each is a subclass of the correct layer with one slip in its backward pass, so it keeps the
correct layer's torch twin and every comparison must catch it, naming the broken parameter.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from manual.layers.recurrent import GRU, LSTM, _sigmoid

__all__ = ["GRUResetBeforeProduct", "LSTMCellStateGradDropped", "LSTMGatesSwappedInBackward",
            "LSTMWeightHHLastStepOnly"]


class LSTMGatesSwappedInBackward(LSTM):
    """Forward right (gates i, f, g, o); backward reads the stacked blocks as i, f, o, g:
    the tanh derivative lands on the output gate and sigma' on the cell candidate."""

    def _recurrence_back(self, dstate, cache):
        prev_h, prev_c, w_hh, act, tc = cache
        H = prev_c.shape[-1]
        swapped = np.concatenate([act[..., :2 * H], act[..., 3 * H:], act[..., 2 * H:3 * H]],
                                 axis=-1)
        dxw, dhw, dprev = super()._recurrence_back(dstate, (prev_h, prev_c, w_hh, swapped, tc))
        return dxw, dhw, dprev


class LSTMCellStateGradDropped(LSTM):
    """dL/dc_{t-1} = 0: the cell state's own path back in time forgotten (only the path
    through h_{t-1} is kept)."""

    def _recurrence_back(self, dstate, cache):
        dxw, dhw, (dh, dc) = super()._recurrence_back(dstate, cache)
        return dxw, dhw, (dh, np.zeros_like(dc))


class LSTMWeightHHLastStepOnly(LSTM):
    """weight_hh's gradient taken from the last time step only, delta_T^T h_{T-1}, instead
    of the sum over every step."""

    _first_back: tuple[np.ndarray, Any] | None  # the last time step's (set in backward)

    def _recurrence_back(self, dstate, cache):
        out = super()._recurrence_back(dstate, cache)
        if self._first_back is None:  # backward runs the last time step first
            self._first_back = (out[1], cache[0])
        return out

    def backward(self, d_output, d_hx=None):
        self._first_back = None
        result = super().backward(d_output, d_hx)
        # set by _recurrence_back during that backward (mypy keeps the None of above)
        dhw, prev_h = cast("tuple[np.ndarray, Any]", self._first_back)
        self.grads["weight_hh_l0"] = dhw.T @ prev_h
        return result


class GRUResetBeforeProduct(GRU):
    """The other paper's GRU (Cho et al. 2014): n = tanh(x_n + W_hn (r * h) + b_hn), the
    reset gate applied *before* the matrix product, with its own consistent backward;
    torch applies it after, r * (W_hn h + b_hn)."""

    _n_terms: list[tuple[np.ndarray, np.ndarray]]  # (dn, r * h) per step (set in backward)

    def _recurrence(self, xw, state, w_hh, b_hh):
        h = state[0]
        H = h.shape[-1]
        hw_rz = h @ w_hh[:2 * H].T + (0 if b_hh is None else b_hh[:2 * H])
        rz = _sigmoid(xw[..., :2 * H] + hw_rz)
        r, z = rz[..., :H], rz[..., H:]
        hn = (r * h) @ w_hh[2 * H:].T + (0 if b_hh is None else b_hh[2 * H:])
        n = np.tanh(xw[..., 2 * H:] + hn)
        return ((1 - z) * n + z * h,), (h, w_hh, rz, n, hn)

    def _recurrence_back(self, dstate, cache):
        h, w_hh, rz, n, hn = cache
        dh = dstate[0]
        H = h.shape[-1]
        r, z = rz[..., :H], rz[..., H:]
        dn = dh * (1 - z) * (1 - n * n)
        d_rh = dn @ w_hh[2 * H:]  # gradient of r * h
        dxw = np.concatenate([d_rh * h * r * (1 - r), dh * (h - n) * z * (1 - z), dn], axis=-1)
        dhw = dxw.copy()  # r, z blocks as before; the n block: d b_hn = dn
        dprev = dxw[..., :2 * H] @ w_hh[:2 * H] + d_rh * r + dh * z
        self._n_terms.append((dn, r * h))  # W_hn multiplies r * h: dW_hn = sum dn^T (r h)
        return dxw, dhw, (dprev,)

    def backward(self, d_output, d_hx=None):
        self._n_terms = []
        result = super().backward(d_output, d_hx)
        H = self.hidden_size
        self.grads["weight_hh_l0"][2 * H:] = sum(dn.T @ rh for dn, rh in self._n_terms)
        return result
