r"""Lesson 7 — vanishing and exploding gradients in a 10-layer network.

Question: in a network 16-32-32-...-32-1 of ten layers (hidden activation sigmoid, tanh or
ReLU; linear output; MSE), how large is the gradient of each layer's weights, from the
output layer (10) down to the first (1)? How does the initialisation change that?

Answer: backpropagation multiplies, once per layer, by the transposed weights and by the
activation's derivative:

.. math::
    \delta_l = (\delta_{l+1} W_{l+1}^\top) \odot f'(z_l), \qquad
    \|\delta_l\| \le \max|f'| \cdot \|W_{l+1}\|_2 \cdot \|\delta_{l+1}\|

(Frobenius norms, :math:`\|W\|_2` the largest singular value), and
:math:`\partial J/\partial W_l = a_{l-1}^\top \delta_l`. Sigmoid's :math:`\max|f'| = 1/4`:
with torch's default initialisation :math:`U(\pm 1/\sqrt{n_{in}})`, :math:`\|W\|_2 \approx
1.2`, every layer shrinks the signal by at most ~0.3 and the first layer's gradient is
millions of times smaller than the last's — it vanishes geometrically. tanh and ReLU
(:math:`\max|f'| = 1`) vanish more slowly under that small initialisation. He
initialisation :math:`N(0, 2/n_{in})` keeps ReLU's signal the same size in every layer
(half the units pass it, each with variance doubled); a too large initialisation
:math:`N(0, 16/n_{in})` makes ReLU's gradients explode geometrically (×√8 per layer) and
tanh's grow as well. The tests check the per-layer bound for every layer, and every norm
against torch's autograd.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from manual import MLP
from manual.lessons._common import figure, main_for, save_figure

__all__ = ["ACTIVATIONS", "INITS", "MAX_DERIVATIVE", "SIZES", "TITLE", "data", "network",
           "norms", "plot", "summary", "table", "tables"]

TITLE = "Lesson 7: vanishing and exploding gradients, layer by layer"
SIZES = [16] + [32] * 9 + [1]  # ten weight layers
N_LAYERS = len(SIZES) - 1
ACTIVATIONS = ("sigmoid", "tanh", "relu")
#: name -> description; "default" is what manual.MLP draws (torch's nn.Linear distribution)
INITS: dict[str, str] = {
    "default": "U(±1/√n_in), biases too (torch's nn.Linear default)",
    "he": "N(0, 2/n_in), biases 0 (He/Kaiming normal)",
    "large": "N(0, 16/n_in), biases 0 (too large)",
}
_SHORT = {"default": "U(±1/√n_in)", "he": "N(0, 2/n_in)", "large": "N(0, 16/n_in)"}
_INIT_VARIANCE = {"he": 2.0, "large": 16.0}
#: max |f'| over the real line: the per-layer factor of the bound
MAX_DERIVATIVE = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0}
SEED = 0


def data(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """64 samples, X (64, 16) and y (64, 1), standard normal."""
    rng = np.random.default_rng([seed, 7])
    return rng.standard_normal((64, SIZES[0])), rng.standard_normal((64, 1))


def network(activation: str, init: str, seed: int = SEED) -> MLP:
    """The 10-layer network with ``activation`` in every hidden layer, initialised by ``init``
    (a key of :data:`INITS`); the same seed gives every activation the same weights."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; valid: {', '.join(INITS)}")
    net = MLP(SIZES, activation=activation, output_activation="identity", loss="mse", seed=seed)
    if init in _INIT_VARIANCE:
        rng = np.random.default_rng([seed, 77])
        for l in range(1, N_LAYERS + 1):
            W = net.params[f"W{l}"]  # (in, out), rewritten in place: the layers hold it
            W[...] = rng.standard_normal(W.shape) * np.sqrt(_INIT_VARIANCE[init] / W.shape[0])
            net.params[f"b{l}"][...] = 0.0
    return net


def layer_norms(net: MLP, X: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    r"""Per layer: :math:`\|\partial J/\partial W_l\|`, :math:`\|\delta_l\|`, the ratio
    :math:`\|\delta_l\|/\|\delta_{l+1}\|` and its bound :math:`\max|f'|\,\|W_{l+1}\|_2`."""
    _, grads = net.gradients(X, y)
    m = net.intermediates
    c = MAX_DERIVATIVE[net.activation.name]
    rows = []
    for l in range(1, N_LAYERS + 1):
        d = float(np.linalg.norm(m[f"dJ/dz{l}"]))
        row = {"layer": l, "|dJ/dW|": float(np.linalg.norm(grads[f"W{l}"])), "|dJ/dz|": d,
               "|dJ/dz| / next": np.nan, "bound max|f'|·|W_next|_2": np.nan}
        if l < N_LAYERS:
            row["|dJ/dz| / next"] = d / float(np.linalg.norm(m[f"dJ/dz{l + 1}"]))
            row["bound max|f'|·|W_next|_2"] = c * float(np.linalg.norm(net.params[f"W{l + 1}"],
                                                                       2))
        rows.append(row)
    return pd.DataFrame(rows)


def norms() -> pd.DataFrame:
    """Every init x activation x layer (the long table behind the others)."""
    X, y = data()
    frames = []
    for init in INITS:
        for act in ACTIVATIONS:
            df = layer_norms(network(act, init), X, y)
            df.insert(0, "activation", act)
            df.insert(0, "init", init)
            frames.append(df)
    return pd.concat(frames, ignore_index=True)


def table(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """|dJ/dW_l| per layer (rows, 1 = first) for each init/activation (columns)."""
    df = norms() if df is None else df
    wide = df.pivot(index="layer", columns=["init", "activation"], values="|dJ/dW|")
    wide.columns = [f"{i}/{a}" for i, a in wide.columns]
    return wide.reset_index()


def summary(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per init and activation: how much the signal shrinks or grows from layer 9 to layer 1,
    the mean factor per layer, and the largest observed ratio as a share of its bound."""
    df = norms() if df is None else df
    rows = []
    for (init, act), g in df.groupby(["init", "activation"], sort=False):
        g = g.set_index("layer")
        ratio = g.loc[1, "|dJ/dz|"] / g.loc[N_LAYERS - 1, "|dJ/dz|"]
        inner = g.loc[1:N_LAYERS - 1]
        rows.append({"init": init, "activation": act,
                     "|dJ/dz1| / |dJ/dz9|": ratio,
                     "mean factor per layer": ratio ** (1 / (N_LAYERS - 2)),
                     "|dJ/dW1| / |dJ/dW10|": g.loc[1, "|dJ/dW|"] / g.loc[N_LAYERS, "|dJ/dW|"],
                     "max ratio / bound (<= 1)": float((inner["|dJ/dz| / next"]
                                                       / inner["bound max|f'|·|W_next|_2"]).max())})
    return pd.DataFrame(rows)


def tables() -> dict[str, pd.DataFrame]:
    df = norms()
    inits = pd.DataFrame({"init": list(INITS), "weights": list(INITS.values())})
    return {"initialisations": inits,
            "|dJ/dW_l| per layer (1 = first layer, 10 = output)": table(df),
            "from layer 9 down to layer 1": summary(df)}


def plot(path: Path) -> Path:
    """|dJ/dW_l| (solid) and |dJ/dz_l| (dotted) against the layer, one panel per init."""
    df = norms()
    fig, axes = figure(ncols=len(INITS), width=4.4, height=4.6, title=TITLE)
    for ax, init in zip(axes[0], INITS):
        for act in ACTIVATIONS:
            g = df[(df["init"] == init) & (df["activation"] == act)]
            line, = ax.semilogy(g["layer"], g["|dJ/dW|"], "o-", ms=3,
                                label=f"{act}: ‖∂J/∂W_l‖ (solid)")
            ax.semilogy(g["layer"], g["|dJ/dz|"], ":", lw=1.5, color=line.get_color(),
                        label=f"{act}: ‖δ_l‖ = ‖∂J/∂z_l‖ (dotted)")
        ax.set(title=f"init {init}: {_SHORT[init]}",
               xlabel="layer l (1 = first, 10 = output)", ylabel="Frobenius norm")
    # one legend for the three panels, below them, so that no curve hides behind it
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=3,
               fontsize=8)
    return save_figure(fig, path)


main = main_for(__name__)

if __name__ == "__main__":
    raise SystemExit(main())
