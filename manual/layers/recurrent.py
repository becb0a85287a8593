r"""Recurrent layers — ``RNN``, ``LSTM``, ``GRU`` — their cells and CS231n-style step functions,
with backpropagation through time (BPTT).

Every recurrent layer runs one *step* per time step :math:`t`, mapping the input
:math:`x_t` and the previous state to the next state. Its parameters are torch's, in torch's
stacked gate layout: ``weight_ih`` (G·H, in) and ``weight_hh`` (G·H, H) hold the G gates'
matrices one below the other (LSTM: input, forget, cell, output; GRU: reset, update, new),
so one matrix product serves all gates at once.

**Forward** (one step; :math:`\sigma` the logistic sigmoid, :math:`\odot` elementwise):

RNN
    :math:`h_t = \phi(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh})`, with
    :math:`\phi` = tanh or ReLU.
LSTM
    .. math::
        [a_i, a_f, a_g, a_o] &= x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh} \\
        i = \sigma(a_i),\ f = \sigma(a_f),\ g &= \tanh(a_g),\ o = \sigma(a_o) \\
        c_t = f \odot c_{t-1} + i \odot g, \qquad h_t &= o \odot \tanh(c_t)
        \quad (\text{then } h_t \leftarrow h_t W_{hr}^\top \text{ with } \texttt{proj\_size})
GRU (torch's variant: the reset gate multiplies :math:`W_{hn} h + b_{hn}`, *after* the product)
    .. math::
        [x_r, x_z, x_n] = x_t W_{ih}^\top + b_{ih}, &\qquad
        [h_r, h_z, h_n] = h_{t-1} W_{hh}^\top + b_{hh} \\
        r = \sigma(x_r + h_r),\quad z = \sigma(x_z + h_z),\quad
        n &= \tanh(x_n + r \odot h_n) \\
        h_t &= (1 - z) \odot n + z \odot h_{t-1}

**Backward** through one step, given :math:`\partial L/\partial h_t` (and
:math:`\partial L/\partial c_t`): with :math:`\sigma' = \sigma(1-\sigma)` and
:math:`\tanh' = 1 - \tanh^2` taken from the saved outputs (as torch's autograd does),

RNN
    :math:`\delta = \partial L/\partial h_t \odot \phi'`, :math:`\partial L/\partial h_{t-1}
    = \delta W_{hh}` (ReLU′(0) = 0, as torch).
LSTM
    .. math::
        \bar c = \frac{\partial L}{\partial c_t} + \frac{\partial L}{\partial h_t} \odot o
        \odot (1 - \tanh^2 c_t), \quad
        \frac{\partial L}{\partial c_{t-1}} = \bar c \odot f \\
        \delta = [\bar c \odot g \odot i(1-i),\ \bar c \odot c_{t-1} \odot f(1-f),\
        \bar c \odot i \odot (1-g^2),\ \tfrac{\partial L}{\partial h_t} \odot \tanh c_t
        \odot o(1-o)], \quad \frac{\partial L}{\partial h_{t-1}} = \delta W_{hh}
GRU
    .. math::
        \delta_n = \tfrac{\partial L}{\partial h_t} \odot (1-z) \odot (1-n^2), \quad
        \delta_z = \tfrac{\partial L}{\partial h_t} \odot (h_{t-1} - n) \odot z(1-z), \quad
        \delta_r = \delta_n \odot h_n \odot r(1-r) \\
        \frac{\partial L}{\partial [x_r,x_z,x_n]} = [\delta_r, \delta_z, \delta_n], \quad
        \frac{\partial L}{\partial [h_r,h_z,h_n]} = [\delta_r, \delta_z, \delta_n \odot r],
        \quad \frac{\partial L}{\partial h_{t-1}} = \frac{\partial L}{\partial [h_r,h_z,h_n]}
        W_{hh} + \tfrac{\partial L}{\partial h_t} \odot z

**Through time**: the state gradient flows from step :math:`t` to :math:`t-1` (that is
BPTT), and every weight is shared by all steps, so its gradient is the *sum* over steps:

.. math::
    \frac{\partial L}{\partial W_{hh}} = \sum_t \delta_t^{(h)\top} h_{t-1}, \qquad
    \frac{\partial L}{\partial W_{ih}} = \sum_t \delta_t^{(x)\top} x_t, \qquad
    \frac{\partial L}{\partial x_t} = \delta_t^{(x)} W_{ih}

The layers compute the input projection :math:`x_t W_{ih}^\top + b_{ih}` of *all* time steps
in one matrix product before the loop, and the three sums above in one product each after
it: only the recurrence (one product per step, all gates and the whole batch at once) is a
Python loop, and it is inherent.

Two levels of functions, both public:

- ``rnn_step_forward/backward``, ``lstm_step_forward/backward``, ``gru_step_forward/backward``:
  one whole step from :math:`x_t`, CS231n-style, returning every gradient (the cells use them);
- ``*_recurrence_forward/backward``: the part of a step after the input projection (it takes
  ``xw`` :math:`= x_t W_{ih}^\top + b_{ih}`); the step functions and the layers are built on
  them, so the layer's loop runs exactly the classroom's step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from manual._checks import as_real_array, check_finite
from manual.activations import _sigmoid
from manual.layers.base import Layer, as_rng, check_positive_int, layer_dtype, uniform_init

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "LastTimeStep", "RNNCell",
           "gru_recurrence_backward",
           "gru_recurrence_forward", "gru_step_backward", "gru_step_forward",
           "lstm_recurrence_backward", "lstm_recurrence_forward", "lstm_step_backward",
           "lstm_step_forward", "rnn_recurrence_backward", "rnn_recurrence_forward",
           "rnn_step_backward", "rnn_step_forward"]

Array = np.ndarray


def _affine(x: Array, weight: Array, bias: Array | None) -> Array:
    """:math:`x W^\\top + b` (``bias`` may be None)."""
    # why the reshape: one (L N, in) x (in, out) product; a stack of L products is slower
    y = (x.reshape(-1, x.shape[-1]) @ weight.T).reshape(*x.shape[:-1], weight.shape[0])
    if bias is not None:
        y += bias
    return y


# --------------------------------------------------------------------------------------
# the recurrences (after the input projection) — what the layers loop over
# --------------------------------------------------------------------------------------
def rnn_recurrence_forward(xw: Array, prev_h: Array, weight_hh: Array,
                           bias_hh: Array | None = None, nonlinearity: str = "tanh"
                           ) -> tuple[Array, tuple]:
    r""":math:`h_t = \phi(\text{xw} + h_{t-1} W_{hh}^\top + b_{hh})`; ``xw`` (N, H) is the
    input projection :math:`x_t W_{ih}^\top + b_{ih}`. Returns ``(h, cache)``."""
    a = xw + _affine(prev_h, weight_hh, bias_hh)  # (N, H)
    h = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)
    return h, (prev_h, weight_hh, h, nonlinearity)


def rnn_recurrence_backward(dh: Array, cache: tuple) -> tuple[Array, Array, Array]:
    r"""Given :math:`\partial L/\partial h_t` (N, H), return ``(dxw, dhw, dprev_h)``:
    the gradients of the input projection, of :math:`h_{t-1}W_{hh}^\top + b_{hh}` (the same
    array for an RNN) and of :math:`h_{t-1}`. ReLU′ is 0 where :math:`h_t = 0`, as torch."""
    prev_h, weight_hh, h, nonlinearity = cache
    if nonlinearity == "tanh":
        da = dh * (1 - h * h)  # tanh' from the output, as torch's tanh_backward
    else:
        da = dh * (h > 0)
    return da, da, da @ weight_hh  # (N, H), (N, H), (N, H)


def lstm_recurrence_forward(xw: Array, prev_h: Array, prev_c: Array, weight_hh: Array,
                            bias_hh: Array | None = None) -> tuple[Array, Array, tuple]:
    r"""One LSTM step after the input projection ``xw`` (N, 4H): returns ``(h, c, cache)``
    (see the module docstring for the gate equations; gates stacked i, f, g, o)."""
    H = prev_c.shape[-1]
    # (N, 4H): one product for all four gates, computed as (W_hh h^T)^T: the same numbers,
    # a faster BLAS call than h W_hh^T for a small batch (the result is a transposed view)
    act = (weight_hh @ prev_h.T).T
    act += xw
    if bias_hh is not None:
        act += bias_hh
    # why: sigma(a) = (1 + tanh(a/2))/2, so one tanh of [a_i/2, a_f/2, a_g, a_o/2] gives all
    # four gates, in place (fewer passes than a sigmoid and a tanh; within rounding of both)
    sigmoid_blocks = (act[..., :2 * H], act[..., 3 * H:])  # i, f and o
    for block in sigmoid_blocks:
        block *= 0.5
    np.tanh(act, out=act)
    for block in sigmoid_blocks:
        block *= 0.5
        block += 0.5
    i, f, g, o = (act[..., k * H:(k + 1) * H] for k in range(4))
    c = f * prev_c
    c += i * g  # c_t = f c_{t-1} + i g
    tc = np.tanh(c)
    h = o * tc
    return h, c, (prev_h, prev_c, weight_hh, act, tc)


def lstm_recurrence_backward(dh: Array, dc: Array, cache: tuple
                             ) -> tuple[Array, Array, Array, Array]:
    r"""Given :math:`\partial L/\partial h_t` and :math:`\partial L/\partial c_t` (N, H),
    return ``(dxw, dhw, dprev_h, dprev_c)``: ``dxw = dhw`` (N, 4H) is
    :math:`\delta`, the gradient of the four gates' pre-activations."""
    prev_h, prev_c, weight_hh, act, tc = cache
    H = prev_c.shape[-1]
    i, f, g, o = (act[..., k * H:(k + 1) * H] for k in range(4))
    dc_bar = tc * tc  # c_t reaches L directly and through h_t: dc + dh o (1 - tanh^2 c_t)
    np.subtract(1, dc_bar, out=dc_bar)
    dc_bar *= o
    dc_bar *= dh
    dc_bar += dc
    # delta = (the gradient reaching each gate's output) * (that gate's derivative, from
    # its output: sigma' = sigma (1 - sigma), tanh' = 1 - g^2 = (1 - g)(1 + g)); in place
    da = np.empty_like(act)  # (N, 4H)
    np.multiply(dc_bar, g, out=da[..., 0:H])
    np.multiply(dc_bar, prev_c, out=da[..., H:2 * H])
    np.multiply(dc_bar, i, out=da[..., 2 * H:3 * H])
    np.multiply(dh, tc, out=da[..., 3 * H:])
    deriv = 1 - act
    deriv[..., :2 * H] *= act[..., :2 * H]
    deriv[..., 3 * H:] *= act[..., 3 * H:]
    deriv[..., 2 * H:3 * H] *= 1 + g
    da *= deriv
    return da, da, da @ weight_hh, dc_bar * f  # the last: the path through c_{t-1}


def gru_recurrence_forward(xw: Array, prev_h: Array, weight_hh: Array,
                           bias_hh: Array | None = None) -> tuple[Array, tuple]:
    r"""One GRU step after the input projection ``xw`` (N, 3H), torch's variant: the reset
    gate multiplies :math:`h_{t-1} W_{hn}^\top + b_{hn}`. Returns ``(h, cache)``."""
    H = prev_h.shape[-1]
    hw = _affine(prev_h, weight_hh, bias_hh)  # (N, 3H): one product for all three gates
    rz = _sigmoid(xw[..., :2 * H] + hw[..., :2 * H])  # (N, 2H): r and z together
    r, z = rz[..., :H], rz[..., H:]
    hn = hw[..., 2 * H:]
    n = np.tanh(xw[..., 2 * H:] + r * hn)  # why torch's form: r after the product
    h = (1 - z) * n + z * prev_h
    return h, (prev_h, weight_hh, rz, n, hn)


def gru_recurrence_backward(dh: Array, cache: tuple) -> tuple[Array, Array, Array]:
    r"""Given :math:`\partial L/\partial h_t` (N, H), return ``(dxw, dhw, dprev_h)``: the
    gradients of the input projection and of :math:`h_{t-1} W_{hh}^\top + b_{hh}` (N, 3H),
    which differ in the n block by the factor r, and of :math:`h_{t-1}`."""
    prev_h, weight_hh, rz, n, hn = cache
    H = prev_h.shape[-1]
    r, z = rz[..., :H], rz[..., H:]
    dn = dh * (1 - z) * (1 - n * n)  # (N, H): through tanh
    dxw = np.empty(dh.shape[:-1] + (3 * H,), dtype=dh.dtype)
    dxw[..., :H] = dn * hn * r * (1 - r)
    dxw[..., H:2 * H] = dh * (prev_h - n) * z * (1 - z)
    dxw[..., 2 * H:] = dn
    dhw = dxw.copy()
    dhw[..., 2 * H:] = dn * r  # h_n enters through r * h_n
    dprev_h = dhw @ weight_hh + dh * z  # through the product and the direct path z h_{t-1}
    return dxw, dhw, dprev_h


# --------------------------------------------------------------------------------------
# CS231n-style step functions: one whole step from x_t
# --------------------------------------------------------------------------------------
def _step_param_grads(x: Array, prev_h: Array, dxw: Array, dhw: Array, weight_ih: Array,
                      has_bias: bool) -> tuple[Array, Array, Array, Array | None, Array | None]:
    """``(dx, dweight_ih, dweight_hh, dbias_ih, dbias_hh)`` of one step (batched (N, ·))."""
    x2, h2 = x.reshape(-1, x.shape[-1]), prev_h.reshape(-1, prev_h.shape[-1])
    dxw2, dhw2 = dxw.reshape(-1, dxw.shape[-1]), dhw.reshape(-1, dhw.shape[-1])
    dx = dxw @ weight_ih  # (N, in)
    dw_ih = dxw2.T @ x2  # (G H, in)
    dw_hh = dhw2.T @ h2  # (G H, H)
    db_ih = dxw2.sum(axis=0) if has_bias else None
    db_hh = dhw2.sum(axis=0) if has_bias else None
    return dx, dw_ih, dw_hh, db_ih, db_hh


def rnn_step_forward(x: Array, prev_h: Array, weight_ih: Array, weight_hh: Array,
                     bias_ih: Array | None = None, bias_hh: Array | None = None,
                     nonlinearity: str = "tanh") -> tuple[Array, tuple]:
    r""":math:`h_t = \phi(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh})`.
    ``x`` (N, in), ``prev_h`` (N, H); weights in torch's layout. Returns ``(next_h, cache)``."""
    h, core = rnn_recurrence_forward(_affine(x, weight_ih, bias_ih), prev_h, weight_hh,
                                     bias_hh, nonlinearity)
    return h, (x, weight_ih, bias_ih is not None, core)


def rnn_step_backward(dnext_h: Array, cache: tuple
                      ) -> tuple[Array, Array, Array, Array, Array | None, Array | None]:
    r"""Returns ``(dx, dprev_h, dweight_ih, dweight_hh, dbias_ih, dbias_hh)`` (the bias
    gradients None without biases): :math:`\delta = \partial L/\partial h_t \odot \phi'`,
    :math:`\partial L/\partial W_{ih} = \delta^\top x_t`, :math:`\partial L/\partial W_{hh}
    = \delta^\top h_{t-1}`, :math:`\partial L/\partial x_t = \delta W_{ih}`,
    :math:`\partial L/\partial h_{t-1} = \delta W_{hh}`."""
    x, weight_ih, has_bias, core = cache
    dxw, dhw, dprev_h = rnn_recurrence_backward(dnext_h, core)
    dx, dwi, dwh, dbi, dbh = _step_param_grads(x, core[0], dxw, dhw, weight_ih, has_bias)
    return dx, dprev_h, dwi, dwh, dbi, dbh


def lstm_step_forward(x: Array, prev_h: Array, prev_c: Array, weight_ih: Array,
                      weight_hh: Array, bias_ih: Array | None = None,
                      bias_hh: Array | None = None) -> tuple[Array, Array, tuple]:
    r"""One LSTM step (gates i, f, g, o stacked as torch stacks them; equations in the
    module docstring). Returns ``(next_h, next_c, cache)``."""
    h, c, core = lstm_recurrence_forward(_affine(x, weight_ih, bias_ih), prev_h, prev_c,
                                         weight_hh, bias_hh)
    return h, c, (x, weight_ih, bias_ih is not None, core)


def lstm_step_backward(dnext_h: Array, dnext_c: Array, cache: tuple
                       ) -> tuple[Array, Array, Array, Array, Array, Array | None, Array | None]:
    r"""Returns ``(dx, dprev_h, dprev_c, dweight_ih, dweight_hh, dbias_ih, dbias_hh)``;
    :math:`\partial L/\partial c_{t-1} = \bar c \odot f` is the cell's "gradient highway"
    (equations in the module docstring)."""
    x, weight_ih, has_bias, core = cache
    dxw, dhw, dprev_h, dprev_c = lstm_recurrence_backward(dnext_h, dnext_c, core)
    dx, dwi, dwh, dbi, dbh = _step_param_grads(x, core[0], dxw, dhw, weight_ih, has_bias)
    return dx, dprev_h, dprev_c, dwi, dwh, dbi, dbh


def gru_step_forward(x: Array, prev_h: Array, weight_ih: Array, weight_hh: Array,
                     bias_ih: Array | None = None, bias_hh: Array | None = None
                     ) -> tuple[Array, tuple]:
    r"""One GRU step, torch's variant (gates r, z, n; equations in the module docstring).
    Returns ``(next_h, cache)``."""
    h, core = gru_recurrence_forward(_affine(x, weight_ih, bias_ih), prev_h, weight_hh, bias_hh)
    return h, (x, weight_ih, bias_ih is not None, core)


def gru_step_backward(dnext_h: Array, cache: tuple
                      ) -> tuple[Array, Array, Array, Array, Array | None, Array | None]:
    r"""Returns ``(dx, dprev_h, dweight_ih, dweight_hh, dbias_ih, dbias_hh)``; the n block
    of ``dweight_hh``/``dbias_hh`` carries the extra factor r (module docstring)."""
    x, weight_ih, has_bias, core = cache
    dxw, dhw, dprev_h = gru_recurrence_backward(dnext_h, core)
    dx, dwi, dwh, dbi, dbh = _step_param_grads(x, core[0], dxw, dhw, weight_ih, has_bias)
    return dx, dprev_h, dwi, dwh, dbi, dbh


#: mode -> number of gates stacked in weight_ih/weight_hh; the LSTM carries (h, c)
_MODES = {
    "RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3,
}


def _step(mode: str, xw: Array, state: tuple[Array, ...], w_hh: Array, b_hh: Array | None
          ) -> tuple[tuple[Array, ...], tuple]:
    """One recurrence step of ``mode`` on ``state`` ((h,) or (h, c)): (new state, cache)."""
    if mode == "LSTM":
        h, c, cache = lstm_recurrence_forward(xw, state[0], state[1], w_hh, b_hh)
        return (h, c), cache
    if mode == "GRU":
        h, cache = gru_recurrence_forward(xw, state[0], w_hh, b_hh)
        return (h,), cache
    h, cache = rnn_recurrence_forward(xw, state[0], w_hh, b_hh,
                                      "tanh" if mode == "RNN_TANH" else "relu")
    return (h,), cache


def _step_back(mode: str, dstate: tuple[Array, ...], cache: tuple
               ) -> tuple[Array, Array, tuple[Array, ...]]:
    """Backward of :func:`_step`: (dxw, dhw, gradient of the previous state)."""
    if mode == "LSTM":
        dxw, dhw, dh, dc = lstm_recurrence_backward(dstate[0], dstate[1], cache)
        return dxw, dhw, (dh, dc)
    if mode == "GRU":
        dxw, dhw, dh = gru_recurrence_backward(dstate[0], cache)
    else:
        dxw, dhw, dh = rnn_recurrence_backward(dstate[0], cache)
    return dxw, dhw, (dh,)


# --------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------
def _array(owner: str, name: str, x: Any, dtype: np.dtype) -> Array:
    x = as_real_array(x, f"{owner}: {name}")
    check_finite(x, f"{owner}: {name}")
    return x.astype(dtype, copy=False)


def _check_shape(owner: str, name: str, x: Array, expected: tuple[int, ...], why: str) -> None:
    if x.shape != expected:
        raise ValueError(f"{owner}: {name} must have shape {expected} ({why}), got {x.shape}")


# --------------------------------------------------------------------------------------
# the multi-layer recurrent layers
# --------------------------------------------------------------------------------------
class _RNNBase(Layer):
    """Shared by :class:`RNN`, :class:`LSTM`, :class:`GRU` (torch's ``nn.RNNBase``)."""

    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, dtype: Any = None, *,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        owner = type(self).__name__
        self.input_size = check_positive_int(owner, "input_size", input_size, allow_zero=True)
        self.hidden_size = check_positive_int(owner, "hidden_size", hidden_size)
        self.num_layers = check_positive_int(owner, "num_layers", num_layers)
        self.proj_size = check_positive_int(owner, "proj_size", proj_size, allow_zero=True)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not (
                0 <= dropout <= 1):
            raise ValueError(f"{owner}: dropout should be a number in range [0, 1] "
                             f"representing the probability of an element being zeroed, got "
                             f"{dropout!r}")
        if self.proj_size and self.proj_size >= self.hidden_size:
            raise ValueError(f"{owner}: proj_size has to be smaller than hidden_size, got "
                             f"proj_size={proj_size}, hidden_size={hidden_size}")
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.num_directions = 2 if self.bidirectional else 1
        self.rng = as_rng(rng)  # also draws the dropout masks in train mode
        self._dtype = layer_dtype(owner, dtype)
        self.dropout_masks: list[Array] = []
        self.fixed_dropout_masks: list[Array] | None = None
        gate = _MODES[self.mode] * self.hidden_size
        self.real_hidden_size = self.proj_size or self.hidden_size
        bound = 1 / math.sqrt(self.hidden_size)  # torch: U(-1/sqrt(H), 1/sqrt(H)) for all
        for k in range(self.num_layers):
            in_k = (self.input_size if k == 0 else self.real_hidden_size * self.num_directions)
            for sfx in ("", "_reverse")[:self.num_directions]:
                shapes: dict[str, tuple[int, ...]] = {f"weight_ih_l{k}{sfx}": (gate, in_k),
                          f"weight_hh_l{k}{sfx}": (gate, self.real_hidden_size)}
                if self.bias:
                    shapes.update({f"bias_ih_l{k}{sfx}": (gate,), f"bias_hh_l{k}{sfx}": (gate,)})
                if self.proj_size:
                    shapes[f"weight_hr_l{k}{sfx}"] = (self.proj_size, self.hidden_size)
                for name, shape in shapes.items():  # torch's order: named_parameters()
                    self.params[name] = uniform_init(self.rng, bound, shape, self._dtype)

    # the step, one level down: the module's recurrence functions (a method, so that a
    # variant, e.g. a negative control, can replace it)
    def _recurrence(self, xw: Array, state: tuple[Array, ...], w_hh: Array,
                    b_hh: Array | None) -> tuple[tuple[Array, ...], tuple]:
        return _step(self.mode, xw, state, w_hh, b_hh)

    def _recurrence_back(self, dstate: tuple[Array, ...], cache: tuple
                         ) -> tuple[Array, Array, tuple[Array, ...]]:
        return _step_back(self.mode, dstate, cache)

    def _base_config(self) -> dict[str, Any]:
        return {"input_size": self.input_size, "hidden_size": self.hidden_size,
                "num_layers": self.num_layers, "bias": self.bias,
                "batch_first": self.batch_first, "dropout": self.dropout,
                "bidirectional": self.bidirectional}

    # -- checks -------------------------------------------------------------------------
    def _check_x(self, x: Any) -> tuple[Array, bool]:
        owner = type(self).__name__
        x = _array(owner, "input", x, self.dtype)
        if x.ndim not in (2, 3):
            raise ValueError(f"{owner}: input must be 3-d, (L, N, H_in) "
                             f"{'(batch_first=True: (N, L, H_in))' if self.batch_first else ''}"
                             f", or 2-d (L, H_in) unbatched; got {x.ndim}-d, shape {x.shape}")
        if x.shape[-1] != self.input_size:
            layout = ("(N, L, H_in)" if self.batch_first else "(L, N, H_in)") if x.ndim == 3 \
                else "(L, H_in)"
            raise ValueError(f"{owner}: input must be {layout} with H_in = input_size = "
                             f"{self.input_size} in the last dimension, got shape {x.shape}")
        L = x.shape[1] if (x.ndim == 3 and self.batch_first) else x.shape[0]
        if L == 0:  # torch: "Expected sequence length to be larger than 0 in RNN"
            raise ValueError(f"{owner}: input must have a sequence length > 0, got shape "
                             f"{x.shape}")
        return x, x.ndim == 3

    def _state_shapes(self, N: int) -> list[tuple[int, ...]]:
        L = self.num_layers * self.num_directions
        shapes: list[tuple[int, ...]] = [(L, N, self.real_hidden_size)]
        if self.mode == "LSTM":
            shapes.append((L, N, self.hidden_size))
        return shapes

    def _check_state(self, hx: Any, N: int, batched: bool, name: str
                     ) -> tuple[Array, ...] | None:
        """``hx`` as a tuple of (layers·directions, N, H) arrays (None stays None)."""
        if hx is None:
            return None
        owner = type(self).__name__
        lstm = self.mode == "LSTM"
        if lstm != isinstance(hx, (tuple, list)) or (lstm and len(hx) != 2):
            wanted = "a tuple (h_0, c_0)" if lstm else "one array h_0"
            raise TypeError(f"{owner}: {name} must be {wanted}, got {type(hx).__name__}")
        parts = tuple(hx) if lstm else (hx,)
        labels = ("h", "c") if lstm else ("h",)
        out = []
        for part, label, shape in zip(parts, labels, self._state_shapes(N)):
            part = _array(owner, f"{name} ({label})", part, self.dtype)
            want = shape if batched else (shape[0], shape[2])
            where = (f"batch {N} = input dimension {0 if self.batch_first else 1}, "
                     f"batch_first={self.batch_first}, ")
            why = (f"num_layers * num_directions = {shape[0]}, "
                   f"{where if batched else ''}"
                   f"{'hidden_size' if label == 'c' or not self.proj_size else 'proj_size'}"
                   f" = {shape[2]}")
            _check_shape(owner, f"{name} ({label})", part, want, why)
            out.append(part if batched else part[:, None, :])
        return tuple(out)

    # -- forward ------------------------------------------------------------------------
    def forward(self, x: Any, hx: Any = None, *, dropout_masks: list[Array] | None = None
                ) -> tuple[Array, Any]:
        r"""``forward(input, hx=None)`` as torch. ``input`` is (L, N, H_in), (N, L, H_in)
        with ``batch_first``, or (L, H_in) unbatched; ``hx`` is :math:`h_0` (LSTM:
        ``(h_0, c_0)``) of shape (num_layers·num_directions, N, H_out), zeros if None.
        Returns ``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``); ``output`` holds the
        last layer's :math:`h_t` for every t (both directions concatenated).

        Dropout (``dropout > 0``, train mode) zeroes the outputs of every layer but the last
        and scales the kept ones by :math:`1/(1-p)`; the keep masks (0/1, shape (L, N,
        num_directions·H_out), one per layer boundary) are taken from ``dropout_masks``, else
        from the attribute ``fixed_dropout_masks`` (kept for every forward until set to None:
        the same noise again, for finite differences, or torch's own masks), else drawn from
        ``self.rng``; the masks used are recorded in ``self.dropout_masks``."""
        owner = type(self).__name__
        x, batched = self._check_x(x)
        if batched and self.batch_first:
            x = x.transpose(1, 0, 2)  # (L, N, H_in): time first inside
        elif not batched:
            x = x[:, None, :]  # a batch of one
        L, N = x.shape[0], x.shape[1]
        state = self._check_state(hx, N, batched, "hx")
        if state is None:
            state = tuple(np.zeros(s, dtype=self.dtype) for s in self._state_shapes(N))
        drop = self.training and self.dropout > 0 and self.num_layers > 1
        if dropout_masks is None:
            dropout_masks = self.fixed_dropout_masks
        masks = self._masks(dropout_masks, (L, N, self.num_directions * self.real_hidden_size),
                            owner) if drop else []
        finals: list[list[Array]] = [[] for _ in state]
        caches = []
        inp = x
        for k in range(self.num_layers):
            outs, layer_cache = [], []
            for d in range(self.num_directions):
                idx = k * self.num_directions + d
                out, fin, cache = self._direction(inp, tuple(s[idx] for s in state), k, d)
                outs.append(out)
                layer_cache.append(cache)
                for lst, f in zip(finals, fin):
                    lst.append(f)
            out = outs[0] if len(outs) == 1 else np.concatenate(outs, axis=-1)  # (L, N, D H)
            caches.append((inp, layer_cache))
            if drop and k < self.num_layers - 1:
                out = out * self._scaled(masks[k])  # dropout between layers
            inp = out
        self.dropout_masks = masks
        output = inp
        h_n = tuple(np.stack(lst) for lst in finals)  # (layers * directions, N, H)
        if not batched:
            output, h_n = output[:, 0], tuple(s[:, 0] for s in h_n)
        elif self.batch_first:
            output = output.transpose(1, 0, 2)
        self._cache = (caches, batched, masks, x.shape)
        self._out_shape = output.shape
        self._state_out_shapes = tuple(s.shape for s in h_n)
        return output, (h_n if self.mode == "LSTM" else h_n[0])

    def _scaled(self, mask: Array) -> Array:
        if self.dropout >= 1:
            return np.zeros_like(mask)  # torch returns zeros for p = 1
        return mask / (1 - self.dropout)

    def _masks(self, given: list[Array] | None, shape: tuple[int, ...], owner: str
               ) -> list[Array]:
        n = self.num_layers - 1
        if given is None:
            return [(self.rng.random(shape) >= self.dropout).astype(self.dtype)
                    for _ in range(n)]
        if len(given) != n:
            raise ValueError(f"{owner}: dropout_masks must hold num_layers - 1 = {n} masks, "
                             f"got {len(given)}")
        out = []
        for m in given:
            m = _array(owner, "dropout_masks", m, self.dtype)
            _check_shape(owner, "dropout_masks", m, shape,
                         "(L, N, num_directions * H_out), time first")
            out.append(m)
        return out

    def _weights(self, k: int, d: int) -> tuple[Array, Array, Array | None, Array | None,
                                                Array | None]:
        sfx = f"l{k}" + ("_reverse" if d else "")
        p = self.params
        return (p[f"weight_ih_{sfx}"], p[f"weight_hh_{sfx}"], p.get(f"bias_ih_{sfx}"),
                p.get(f"bias_hh_{sfx}"), p.get(f"weight_hr_{sfx}"))

    def _direction(self, inp: Array, state: tuple[Array, ...], k: int, d: int
                   ) -> tuple[Array, tuple[Array, ...], tuple]:
        """Run layer ``k`` in direction ``d`` (1: reversed time) over ``inp`` (L, N, in)."""
        w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(k, d)
        L = inp.shape[0]
        xw = _affine(inp, w_ih, b_ih)  # (L, N, G H): every step's input projection at once
        out = np.empty(inp.shape[:2] + (self.real_hidden_size,), dtype=self.dtype)
        steps, raw = [], []
        for t in (range(L - 1, -1, -1) if d else range(L)):
            new, cache = self._recurrence(xw[t], state, w_hh, b_hh)
            if w_hr is not None:  # LSTM projection: h_t = (o * tanh c_t) W_hr^T
                raw.append(new[0])
                new = (new[0] @ w_hr.T, *new[1:])
            steps.append((t, state[0], cache))
            state = new
            out[t] = state[0]
        return out, state, (steps, raw)

    # -- backward -----------------------------------------------------------------------
    def backward(self, d_output: Any, d_hx: Any = None) -> tuple[Array | None, Any]:
        r"""Backpropagation through time. ``d_output`` is :math:`\partial L/\partial`
        output (its shape); ``d_hx`` is :math:`\partial L/\partial h_n` (LSTM: the tuple
        :math:`(\partial L/\partial h_n, \partial L/\partial c_n)`, either may be None), or
        None for zero. Stores every parameter's gradient in ``grads`` and returns ``(dx,
        dhx)``: dx shaped like the input (None with ``needs_input_grad = False``), dhx like
        ``hx`` (the gradient of the initial state, also when ``hx`` was None). The pair
        ``(d_output, d_hx)`` may also come as one tuple shaped like forward's return."""
        if isinstance(d_output, tuple) and d_hx is None:  # the output's own structure,
            d_output, d_hx = d_output  # (d_output, d_hx), as a harness hands it back
        dout = self.check_dout(d_output)
        caches, batched, masks, x_shape = self._cache
        N = x_shape[1]
        dstate = self._check_dstate(d_hx, N, batched)
        if not batched:
            dout = dout[:, None, :]
        elif self.batch_first:
            dout = dout.transpose(1, 0, 2)
        grads: dict[str, Array] = {}
        dh0 = [np.zeros_like(s) for s in dstate]
        H = self.real_hidden_size
        dx: Array | None = None
        for k in range(self.num_layers - 1, -1, -1):
            inp, layer_cache = caches[k]
            if k < self.num_layers - 1 and masks:
                dout = dout * self._scaled(masks[k])  # the same mask, the same scale
            need_dx = k > 0 or self.needs_input_grad
            dinp = None
            for d in range(self.num_directions):
                idx = k * self.num_directions + d
                dseq = dout[..., d * H:(d + 1) * H]
                dx_d, dfirst = self._direction_back(inp, dseq, tuple(s[idx] for s in dstate),
                                                    k, d, layer_cache[d], grads, need_dx)
                for acc, g in zip(dh0, dfirst):
                    acc[idx] = g
                if need_dx:
                    dinp = dx_d if dinp is None else dinp + dx_d
            if k == 0:
                dx = dinp  # None with needs_input_grad = False
            elif dinp is not None:  # always: need_dx is True above the first layer
                dout = dinp
        self.grads = {name: grads[name] for name in self.params}  # torch's order
        if dx is not None:
            if not batched:
                dx = dx[:, 0]
            elif self.batch_first:
                dx = dx.transpose(1, 0, 2)
        if not batched:
            dh0 = [g[:, 0] for g in dh0]
        return dx, (tuple(dh0) if self.mode == "LSTM" else dh0[0])

    def _check_dstate(self, d_hx: Any, N: int, batched: bool) -> tuple[Array, ...]:
        owner = type(self).__name__
        shapes = self._state_shapes(N)
        if d_hx is None:
            return tuple(np.zeros(s, dtype=self.dtype) for s in shapes)
        lstm = self.mode == "LSTM"
        if lstm != isinstance(d_hx, (tuple, list)) or (lstm and len(d_hx) != 2):
            wanted = "a tuple (dh_n, dc_n)" if lstm else "one array dh_n"
            raise TypeError(f"{owner}: d_hx must be {wanted}, got {type(d_hx).__name__}")
        parts = tuple(d_hx) if lstm else (d_hx,)
        out = []
        for part, shape, label in zip(parts, shapes, ("h_n", "c_n")):
            if part is None:
                out.append(np.zeros(shape, dtype=self.dtype))
                continue
            part = _array(owner, f"d_hx ({label})", part, self.dtype)
            want = shape if batched else (shape[0], shape[2])
            _check_shape(owner, f"d_hx ({label})", part, want, f"the shape of {label}")
            out.append(part if batched else part[:, None, :])
        return tuple(out)

    def _direction_back(self, inp: Array, dseq: Array, dstate: tuple[Array, ...], k: int,
                        d: int, cache: tuple, grads: dict[str, Array], need_dx: bool
                        ) -> tuple[Array | None, tuple[Array, ...]]:
        """BPTT through layer ``k``, direction ``d``: fills ``grads`` with the sums over
        time; returns (gradient of the layer input, gradient of the initial state)."""
        w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(k, d)
        steps, raw = cache
        G = w_hh.shape[0]
        dxw = np.empty(inp.shape[:2] + (G,), dtype=self.dtype)  # (L, N, G H)
        # RNN and LSTM: the input and hidden projections enter the gates alike, so their
        # gradients are one array; GRU's differ in the n block (the factor r)
        dhw = np.empty_like(dxw) if self.mode == "GRU" else dxw
        prev_h = np.empty(inp.shape[:2] + (w_hh.shape[1],), dtype=self.dtype)  # (L, N, H)
        dproj: list[Array] | None = [] if w_hr is not None else None
        for j in range(len(steps) - 1, -1, -1):  # the steps in the order they ran, reversed
            t, h_prev, step_cache = steps[j]
            dh = dseq[t] + dstate[0]  # from the output at t and from step t + 1
            if dproj is not None:
                dproj.append(dh)
                dh = dh @ w_hr  # back through the projection, to o * tanh(c_t)
            dxw_t, dhw_t, dstate = self._recurrence_back((dh, *dstate[1:]), step_cache)
            dxw[t] = dxw_t
            if dhw is not dxw:
                dhw[t] = dhw_t
            prev_h[t] = h_prev
        sfx = f"l{k}" + ("_reverse" if d else "")
        # why after the loop: the weights are shared by all steps, so their gradients are
        # sums over t, each one product over the stacked (L N) rows
        dxw2, dhw2 = dxw.reshape(-1, G), dhw.reshape(-1, G)
        grads[f"weight_ih_{sfx}"] = dxw2.T @ inp.reshape(-1, inp.shape[-1])
        grads[f"weight_hh_{sfx}"] = dhw2.T @ prev_h.reshape(-1, prev_h.shape[-1])
        if b_ih is not None:
            grads[f"bias_ih_{sfx}"] = dxw2.sum(axis=0)
            grads[f"bias_hh_{sfx}"] = dhw2.sum(axis=0)
        if dproj is not None:  # dproj holds the steps in reverse order of running
            dp = np.stack(dproj)  # (L, N, P)
            rw = np.stack(raw[::-1])  # (L, N, H), the same order
            grads[f"weight_hr_{sfx}"] = dp.reshape(-1, dp.shape[-1]).T @ rw.reshape(
                -1, rw.shape[-1])
        dx = _affine(dxw, w_ih.T, None) if need_dx else None  # (L, N, in): every step at once
        return dx, dstate


class RNN(_RNNBase):
    r"""``nn.RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``: :math:`h_t = \phi(x_t W_{ih}^\top
    + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh})`, :math:`\phi` = tanh or relu.

    >>> import numpy as np
    >>> rnn = RNN(3, 5, num_layers=2, rng=0)
    >>> out, h_n = rnn(np.ones((7, 2, 3)))      # (L, N, H_in)
    >>> out.shape, h_n.shape
    ((7, 2, 5), (2, 2, 5))
    >>> dx, dh0 = rnn.backward(np.ones_like(out))
    >>> rnn.grads["weight_hh_l1"].shape
    (5, 5)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, dtype: Any = None, *,
                 rng: np.random.Generator | int | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; valid: tanh, relu")
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, dtype, rng=rng)
        self.config = {**self._base_config(), "nonlinearity": nonlinearity}


class LSTM(_RNNBase):
    r"""``nn.LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, proj_size=0)``; gates i, f, g, o stacked in that order;
    ``hx = (h_0, c_0)``, returns ``(output, (h_n, c_n))``. With ``proj_size > 0``,
    :math:`h_t = (o \odot \tanh c_t) W_{hr}^\top` has ``proj_size`` features (``weight_hr``).
    """

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, dtype: Any = None, *,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, dtype, rng=rng)
        self.config = {**self._base_config(), "proj_size": self.proj_size}


class GRU(_RNNBase):
    r"""``nn.GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)``; gates r, z, n stacked in that order, the reset gate
    applied to :math:`W_{hn} h + b_{hn}` as torch does."""

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, dtype: Any = None, *,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, dtype, rng=rng)
        self.config = self._base_config()


# --------------------------------------------------------------------------------------
# cells: one step, as torch's nn.RNNCell / nn.LSTMCell / nn.GRUCell
# --------------------------------------------------------------------------------------
class _CellBase(Layer):
    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: Any = None, *, rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        owner = type(self).__name__
        self.input_size = check_positive_int(owner, "input_size", input_size, allow_zero=True)
        self.hidden_size = check_positive_int(owner, "hidden_size", hidden_size)
        self.bias = bool(bias)
        self._dtype = layer_dtype(owner, dtype)
        gen = as_rng(rng)
        G = _MODES[self.mode] * self.hidden_size
        shapes: dict[str, tuple[int, ...]] = {"weight_ih": (G, self.input_size),
                                              "weight_hh": (G, self.hidden_size)}
        if self.bias:
            shapes.update({"bias_ih": (G,), "bias_hh": (G,)})
        bound = 1 / math.sqrt(self.hidden_size)
        for name, shape in shapes.items():
            self.params[name] = uniform_init(gen, bound, shape, self._dtype)
        self.config = {"input_size": self.input_size, "hidden_size": self.hidden_size,
                       "bias": self.bias}

    # the step, one level down: the module's recurrence functions (a method, so that a
    # variant, e.g. a negative control, can replace it)
    def _recurrence(self, xw: Array, state: tuple[Array, ...], w_hh: Array,
                    b_hh: Array | None) -> tuple[tuple[Array, ...], tuple]:
        return _step(self.mode, xw, state, w_hh, b_hh)

    def _recurrence_back(self, dstate: tuple[Array, ...], cache: tuple
                         ) -> tuple[Array, Array, tuple[Array, ...]]:
        return _step_back(self.mode, dstate, cache)

    def forward(self, x: Any, hx: Any = None) -> Any:
        """``forward(input, hx=None)`` as torch: ``input`` (N, in) or (in,); ``hx`` (N, H)
        (LSTMCell: ``(h, c)``), zeros if None. Returns h' (LSTMCell: ``(h', c')``)."""
        owner = type(self).__name__
        x = _array(owner, "input", x, self.dtype)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{owner}: input must be (N, {self.input_size}) or "
                             f"({self.input_size},) for input_size={self.input_size}, got "
                             f"shape {x.shape}")
        batched = x.ndim == 2
        xb = x if batched else x[None]
        N = xb.shape[0]
        lstm = self.mode == "LSTM"
        if hx is None:
            state = tuple(np.zeros((N, self.hidden_size), self.dtype) for _ in range(1 + lstm))
        else:
            if lstm != isinstance(hx, (tuple, list)) or (lstm and len(hx) != 2):
                wanted = "a tuple (h, c)" if lstm else "one array h"
                raise TypeError(f"{owner}: hx must be {wanted}, got {type(hx).__name__}")
            parts = tuple(hx) if lstm else (hx,)
            checked: list[Array] = []
            for part, label in zip(parts, "hc"):
                part = _array(owner, f"hx ({label})", part, self.dtype)
                want = (N, self.hidden_size) if batched else (self.hidden_size,)
                _check_shape(owner, f"hx ({label})", part, want,
                             f"{'batch ' + str(N) + ', ' if batched else ''}hidden_size = "
                             f"{self.hidden_size}")
                checked.append(part if batched else part[None])
            state = tuple(checked)
        p = self.params
        xw = _affine(xb, p["weight_ih"], p.get("bias_ih"))
        new, cache = self._recurrence(xw, state, p["weight_hh"], p.get("bias_hh"))
        self._cache = (xb, state[0], cache, batched)
        out = new if batched else tuple(s[0] for s in new)
        self._out_shape = out[0].shape
        return out if lstm else out[0]

    def backward(self, d_out: Any) -> tuple[Array | None, Any]:
        """``d_out`` is :math:`\\partial L/\\partial h'` (LSTMCell: the tuple
        ``(dh', dc')``, either may be None). Stores ``grads``; returns ``(dx, dhx)``."""
        owner = type(self).__name__
        if self._cache is None:
            raise RuntimeError(f"{owner}.backward called before forward")
        xb, prev_h, cache, batched = self._cache
        lstm = self.mode == "LSTM"
        if lstm != isinstance(d_out, (tuple, list)) or (lstm and len(d_out) != 2):
            wanted = "a tuple (dh, dc)" if lstm else "one array dh"
            raise TypeError(f"{owner}: d_out must be {wanted}, got {type(d_out).__name__}")
        parts = tuple(d_out) if lstm else (d_out,)
        ds = []
        for part, label in zip(parts, "hc"):
            if part is None:
                ds.append(np.zeros((xb.shape[0], self.hidden_size), self.dtype))
                continue
            part = _array(owner, f"d_out ({label})", part, self.dtype)
            _check_shape(owner, f"d_out ({label})", part, tuple(self._out_shape),
                         "the shape of the output")
            ds.append(part if batched else part[None])
        dxw, dhw, dprev = self._recurrence_back(tuple(ds), cache)
        p = self.params
        dx: Array | None
        dx, dwi, dwh, dbi, dbh = _step_param_grads(xb, prev_h, dxw, dhw, p["weight_ih"],
                                                   self.bias)
        self.grads = {"weight_ih": dwi, "weight_hh": dwh}
        if dbi is not None and dbh is not None:  # with bias (_step_param_grads: has_bias)
            self.grads.update({"bias_ih": dbi, "bias_hh": dbh})
        if not self.needs_input_grad:
            dx = None
        if not batched:
            dx = None if dx is None else dx[0]
            dprev = tuple(g[0] for g in dprev)
        return dx, (dprev if lstm else dprev[0])


class RNNCell(_CellBase):
    """``nn.RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh')``: one step of
    :class:`RNN` (:func:`rnn_step_forward`)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", dtype: Any = None, *,
                 rng: np.random.Generator | int | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; valid: tanh, "
                             f"relu")
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, bias, dtype, rng=rng)
        self.config["nonlinearity"] = nonlinearity


class LSTMCell(_CellBase):
    """``nn.LSTMCell(input_size, hidden_size, bias=True)``: one step of :class:`LSTM`
    (:func:`lstm_step_forward`); ``hx = (h, c)``, returns ``(h', c')``."""

    mode = "LSTM"


class GRUCell(_CellBase):
    """``nn.GRUCell(input_size, hidden_size, bias=True)``: one step of :class:`GRU`
    (:func:`gru_step_forward`)."""

    mode = "GRU"


# --------------------------------------------------------------------------------------
# a recurrent layer inside a Sequential: its last time step
# --------------------------------------------------------------------------------------
class LastTimeStep(Layer):
    r"""The output at the last time step of a recurrent layer's ``(output, h_n)`` return:
    ``output[-1]`` ((L, N, H) layout), ``output[:, -1]`` with ``batch_first`` — what a
    sequence classifier reads (``output[:, -1]`` in torch code; torch has no module for
    it). Backward puts :math:`\partial L/\partial y` at the last step and zeros elsewhere,
    and returns ``(d_output, None)`` (no gradient on the final state), the structure the
    recurrent layer's backward takes.

    >>> import numpy as np
    >>> from manual.layers import LSTM, Linear, Sequential
    >>> net = Sequential(LSTM(3, 5, batch_first=True, rng=0), LastTimeStep(batch_first=True),
    ...                  Linear(5, 2, rng=1), loss="cross_entropy")
    >>> loss, grads = net.gradients(np.ones((4, 7, 3)), np.array([0, 1, 1, 0]))
    >>> grads["0.weight_hh_l0"].shape
    (20, 5)
    """

    def __init__(self, batch_first: bool = False) -> None:
        super().__init__()
        self.batch_first = bool(batch_first)
        self.config = {"batch_first": self.batch_first}

    def forward(self, x: Any) -> Array:
        if not isinstance(x, tuple) or len(x) != 2:
            raise TypeError(f"LastTimeStep: input must be a recurrent layer's (output, h_n) "
                            f"tuple, got {type(x).__name__}")
        out = np.asarray(x[0])
        if out.ndim not in (2, 3):
            raise ValueError(f"LastTimeStep: output must be (L, N, H), (N, L, H) with "
                             f"batch_first, or (L, H); got shape {out.shape}")
        self._dtype = out.dtype
        self._cache = self._in_shape = out.shape
        y = out[:, -1] if (self.batch_first and out.ndim == 3) else out[-1]
        self._out_shape = y.shape
        return y

    def backward(self, dout: Any) -> tuple[Array, None]:
        dout = self.check_dout(dout)
        d = np.zeros(self._in_shape, dtype=dout.dtype)  # only the last step was read
        if self.batch_first and d.ndim == 3:
            d[:, -1] = dout
        else:
            d[-1] = dout
        return d, None
