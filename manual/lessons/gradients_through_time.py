r"""Lesson 11 — vanishing and exploding gradients through time.

Question: a recurrent layer runs the same step 50 times. The loss
:math:`L = \langle g, h_T\rangle` (a fixed random :math:`g`) reads only the last hidden
state. How large is :math:`\partial L/\partial h_t`, the gradient reaching the state after
step :math:`t`, as :math:`t` goes back from :math:`T = 50` to 0 — for a tanh RNN, a ReLU RNN
with a too large recurrent matrix, and an LSTM? What does gradient clipping change?

Answer: backpropagation through time multiplies, once per step, by the step's Jacobian:

.. math::
    \frac{\partial L}{\partial h_{t-1}} = \Big(\frac{\partial L}{\partial h_t} \odot
    \phi'(a_t)\Big) W_{hh}, \qquad
    \Big\|\frac{\partial L}{\partial h_{t-1}}\Big\| \le \max|\phi'| \cdot \|W_{hh}\|_2
    \cdot \Big\|\frac{\partial L}{\partial h_t}\Big\|

so the gradient changes geometrically with the distance :math:`T - t`. With torch's default
initialisation :math:`U(\pm 1/\sqrt{H})`, :math:`\|W_{hh}\|_2 < 1` and tanh′ ≤ 1: the gradient
*vanishes* — about ×0.5 per step, so the first step gets ~10⁻¹⁶ of the last one's and the
layer cannot learn long dependencies. A ReLU RNN with :math:`W_{hh} = 1.1\,I` multiplies the
(active) gradient by up to 1.1 per step: it *explodes*, ~70× over 50 steps, its parameter
gradient is ~10⁵, and one update along it throws the weights far away. The LSTM's cell state
has an additive path, :math:`\partial L/\partial c_{t-1} = \bar c_t \odot f_t`: no matrix,
just the forget gate.
With torch's default init :math:`f \approx \sigma(0) = \tfrac12` and that path vanishes too
(~10⁻¹⁰ after 50 steps); with the forget-gate bias set to 3 (:math:`f \approx 0.95`, the
usual "forget bias" trick) the gradient reaching :math:`c_0` is still a sizeable fraction
(~0.4) of the one at :math:`c_{50}`.

Clipping (:func:`manual.clipping.clip_grad_norm_`, max_norm 50) acts on the *parameter*
gradient, after backpropagation: it rescales the exploding RNN's huge gradient to norm 50,
keeping its direction, and leaves the others (norm below 50) alone. It bounds the step; it
cannot bring back a gradient that has vanished. The tests compare every
:math:`\|\partial L/\partial h_t\|`, :math:`\|\partial L/\partial c_t\|` and every clipped
gradient with torch's ``nn.RNN``/``nn.LSTM`` and ``torch.nn.utils.clip_grad_norm_``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from manual.clipping import clip_grad_norm_
from manual.layers.recurrent import (LSTM, RNN, lstm_step_backward, lstm_step_forward,
                                     rnn_step_backward, rnn_step_forward)
from manual.lessons._common import figure, main_for, save_figure

__all__ = ["CONFIGS", "MAX_NORM", "STEPS", "TITLE", "clipped", "data", "layer", "norms", "plot",
           "state_gradients", "summary", "table", "tables"]

TITLE = "Lesson 11: vanishing and exploding gradients through time (RNN vs LSTM, clipping)"
STEPS, BATCH, INPUT, HIDDEN = 50, 4, 3, 16
MAX_NORM = 50.0  # clip_grad_norm_'s max_norm: above every gradient here but the exploding one
SEED = 0
#: name -> description
CONFIGS: dict[str, str] = {
    "rnn-tanh": "RNN, tanh, torch's default init U(±1/√H)",
    "rnn-relu-1.1I": "RNN, ReLU, W_hh = 1.1·I, biases 0 (too large: explodes)",
    "lstm": "LSTM, torch's default init (forget gate ≈ σ(0) = ½)",
    "lstm-forget-bias-3": "LSTM, default init, forget-gate bias b_if + b_hf = 3",
}


def layer(name: str, seed: int = SEED) -> RNN | LSTM:
    """The recurrent layer of configuration ``name`` (a key of :data:`CONFIGS`)."""
    if name not in CONFIGS:
        raise ValueError(f"unknown configuration {name!r}; valid: {', '.join(CONFIGS)}")
    net: RNN | LSTM
    if name.startswith("rnn"):
        nonlinearity = "tanh" if name == "rnn-tanh" else "relu"
        net = RNN(INPUT, HIDDEN, nonlinearity=nonlinearity, rng=seed)
        if name == "rnn-relu-1.1I":
            net.params["weight_hh_l0"][...] = 1.1 * np.eye(HIDDEN)  # in place: live arrays
            net.params["bias_ih_l0"][...] = 0.0
            net.params["bias_hh_l0"][...] = 0.0
        return net
    net = LSTM(INPUT, HIDDEN, rng=seed)
    if name == "lstm-forget-bias-3":
        f = slice(HIDDEN, 2 * HIDDEN)  # the forget gate: second block of i, f, g, o
        net.params["bias_ih_l0"][f] = 1.5
        net.params["bias_hh_l0"][f] = 1.5
    return net


def data(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """``x`` (T, N, 3) uniform in [0, 1) and ``g`` (N, H) standard normal: L = <g, h_T>."""
    rng = np.random.default_rng([seed, 9])
    return rng.random((STEPS, BATCH, INPUT)), rng.standard_normal((BATCH, HIDDEN))


def state_gradients(net: RNN | LSTM, x: np.ndarray, g: np.ndarray) -> pd.DataFrame:
    r"""Per step t = 0 … T: :math:`\|\partial L/\partial h_t\|` (and, for an LSTM, the
    total :math:`\|\partial L/\partial c_t\|`, through :math:`h_t` and :math:`c_{t+1}`), by
    BPTT written out with the classroom's step functions
    (:func:`~manual.layers.recurrent.rnn_step_forward`, …) on the layer's own weights: the
    loop backward hands :math:`\partial L/\partial h_{t-1}` from step to step, and we record
    its norm on the way."""
    lstm = isinstance(net, LSTM)
    w_ih, w_hh, b_ih, b_hh = (net.params[k] for k in ("weight_ih_l0", "weight_hh_l0",
                                                       "bias_ih_l0", "bias_hh_l0"))
    h = c = np.zeros((BATCH, HIDDEN))
    caches = []
    for t in range(STEPS):  # forward, caching every step
        if isinstance(net, LSTM):
            h, c, cache = lstm_step_forward(x[t], h, c, w_ih, w_hh, b_ih, b_hh)
        else:
            h, cache = rnn_step_forward(x[t], h, w_ih, w_hh, b_ih, b_hh,
                                        nonlinearity=net.nonlinearity)
        caches.append(cache)
    dh, dc = g, np.zeros_like(g)  # L = <g, h_T>: dL/dh_T = g
    rows = []
    for t in range(STEPS - 1, -1, -1):  # backward through time: state t+1 -> state t
        if lstm:  # c_{t+1} reaches L through c_{t+2} and through h_{t+1} = o tanh(c_{t+1})
            *_, act, tc = caches[t][3]
            rows.append((t + 1, dh, dc + dh * act[:, 3 * HIDDEN:] * (1 - tc * tc)))
            _, dh, dc, *_ = lstm_step_backward(dh, dc, caches[t])
        else:
            rows.append((t + 1, dh, None))
            _, dh, *_ = rnn_step_backward(dh, caches[t])
    rows.append((0, dh, dc))  # the initial state: c_0 reaches L only through c_1
    return pd.DataFrame([{"t": t, "|dL/dh_t|": float(np.linalg.norm(a)),
                          "|dL/dc_t|": float(np.linalg.norm(b)) if lstm else np.nan}
                         for t, a, b in rows[::-1]])


def clipped(net: RNN | LSTM, x: np.ndarray, g: np.ndarray) -> tuple[dict, dict, float]:
    """The parameter gradients of L over the whole sequence, before and after
    ``clip_grad_norm_(grads, MAX_NORM)``, and the total norm it returned."""
    out, _ = net.forward(x)
    net.backward(np.zeros_like(out), (g[None], None) if isinstance(net, LSTM) else g[None])
    before = {k: v.copy() for k, v in net.grads.items()}
    after = {k: v.copy() for k, v in net.grads.items()}
    norm = float(clip_grad_norm_(after, MAX_NORM))
    return before, after, norm


def norms() -> pd.DataFrame:
    """Every configuration x step (the long table behind the others)."""
    x, g = data()
    frames = []
    for name in CONFIGS:
        df = state_gradients(layer(name), x, g)
        df.insert(0, "config", name)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def table(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """|dL/dh_t| for t = 0, 10, …, 50 (rows) per configuration (columns)."""
    df = norms() if df is None else df
    wide = df.pivot(index="t", columns="config", values="|dL/dh_t|")[list(CONFIGS)]
    return wide.loc[list(range(0, STEPS + 1, 10))].reset_index()


def summary(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per configuration: |dL/dh_0| / |dL/dh_T| and the mean factor per step (and the same
    for the cell state), and the parameter gradient's norm before and after clipping."""
    df = norms() if df is None else df
    x, g = data()
    rows = []
    for name, grp in df.groupby("config", sort=False):
        grp = grp.set_index("t")
        ratio = grp.loc[0, "|dL/dh_t|"] / grp.loc[STEPS, "|dL/dh_t|"]
        c_ratio = grp.loc[0, "|dL/dc_t|"] / grp.loc[STEPS, "|dL/dc_t|"]
        before, after, norm = clipped(layer(name), x, g)
        rows.append({"config": name, "|dL/dh_0| / |dL/dh_T|": ratio,
                     "factor per step": ratio ** (1 / STEPS),
                     "|dL/dc_0| / |dL/dc_T|": c_ratio,
                     "|grad θ| (clip_grad_norm_ returns)": norm,
                     f"|grad θ| after clipping to {MAX_NORM:g}": float(
                         np.sqrt(sum(np.sum(v * v) for v in after.values())))})
    return pd.DataFrame(rows)


def tables() -> dict[str, pd.DataFrame]:
    df = norms()
    configs = pd.DataFrame({"config": list(CONFIGS), "layer": list(CONFIGS.values())})
    return {"configurations (T = 50 steps, H = 16, L = <g, h_T>)": configs,
            "|dL/dh_t| (t = 50: the last step, where L reads the state)": table(df),
            "from the last step back to the first; clipping": summary(df)}


def plot(path: Path) -> Path:
    """Left: |dL/dh_t| (solid) and |dL/dc_t| (dashed, LSTM) against t, log scale. Right: the
    parameter gradient's norm per configuration, without and with clipping."""
    df = norms()
    fig, axes = figure(ncols=2, width=5.2, height=4.4, title=TITLE)
    fig.suptitle(TITLE)
    ax = axes[0][0]
    for name in CONFIGS:
        grp = df[df["config"] == name]
        line, = ax.semilogy(grp["t"], grp["|dL/dh_t|"], "-", label=f"{name}: |dL/dh_t|")
        if name.startswith("lstm"):
            ax.semilogy(grp["t"], grp["|dL/dc_t|"], "--", color=line.get_color(),
                        label=f"{name}: |dL/dc_t|")
    ax.set(title="gradient reaching the state after step t (L reads h_50)",
           xlabel="time step t", ylabel="norm (log scale)")
    ax.legend(fontsize=7)
    ax = axes[0][1]
    s = summary(df)
    pos = np.arange(len(s))
    ax.bar(pos - 0.2, s["|grad θ| (clip_grad_norm_ returns)"], 0.4, label="without clipping")
    ax.bar(pos + 0.2, s[f"|grad θ| after clipping to {MAX_NORM:g}"], 0.4,
           label=f"with clip_grad_norm_(max_norm={MAX_NORM:g})")
    ax.set_yscale("log")
    ax.set_xticks(pos, s["config"], fontsize=7)
    ax.set(title="parameter gradient norm |dL/dθ|", xlabel="configuration",
           ylabel="2-norm over all parameters (log scale)")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


main = main_for(__name__)

if __name__ == "__main__":
    raise SystemExit(main())
