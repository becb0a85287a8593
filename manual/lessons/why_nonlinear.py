r"""Lesson 5 — why a non-linear activation: what do two linear layers buy?

Question: a network of linear layers looks deeper than a single layer. Does it represent
anything more? Can a linear 2-4-1 network learn XOR, the function that is 1 when exactly
one input is 1?

Answer: nothing more. Two linear layers compose into one:
:math:`(xW_i + b_i)W_o + b_o = x\,(W_iW_o) + (b_iW_o + b_o) = xW + b`, so any stack of linear
layers is a single affine map (shown numerically to float64 rounding). The best affine fit
of XOR, by least squares, is the constant ½: the inputs are uncorrelated with the target
(:math:`\sum_n (x_{n1} - \tfrac12)(y_n - \tfrac12) = 0`, and the same for :math:`x_2`), so
the linear network's MSE can never fall below 0.25, however long it trains. The same
2-4-1 shape with tanh or sigmoid hidden units bends the decision surface and drives the
MSE toward zero (below 1e-6 within 1000 steps). Both are trained by plain gradient descent
and compared with
``torch.optim.SGD`` on the torch twin in the tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from manual import MLP
from manual.lessons._common import figure, main_for, save_figure, train

__all__ = ["AFFINE_FLOOR", "RUNS", "TITLE", "collapse", "plot", "table", "tables", "xor_data",
           "xor_network", "xor_runs"]

TITLE = "Lesson 5: why a non-linear activation (linear layers collapse; XOR)"
#: hidden activation -> (learning rate, steps); the output is linear and the loss MSE
RUNS: dict[str, tuple[float, int]] = {"identity": (0.1, 1000), "tanh": (0.1, 1000),
                                      "sigmoid": (0.3, 1000)}
SEED = 0
AFFINE_FLOOR = 0.25  # least-squares MSE of the best affine fit of XOR (the constant 1/2)


def xor_data() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points (4, 2) and targets (4, 1)."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    return X, y


def xor_network(activation: str, seed: int = SEED) -> MLP:
    """The 2-4-1 network with ``activation`` in the hidden layer, linear output, MSE."""
    return MLP([2, 4, 1], activation=activation, output_activation="identity", loss="mse",
               seed=seed)


def collapse(seed: int = 0) -> pd.DataFrame:
    r"""Linear networks against the single affine map they compose to, on random inputs.

    For layers :math:`(W_l, b_l)` the product is :math:`W = W_1 W_2 \cdots W_L` and
    :math:`b = (\cdots(b_1 W_2 + b_2) W_3 + \cdots) + b_L`; the two differ only by rounding.
    """
    rng = np.random.default_rng([seed, 5])
    rows = []
    for sizes in ([3, 5, 2], [3, 8, 8, 8, 2], [4, 16, 16, 16, 16, 16, 1]):
        net = MLP(sizes, activation="identity", output_activation="identity",
                  seed=int(rng.integers(1 << 31)))
        X = rng.standard_normal((10, sizes[0]))
        W = np.eye(sizes[0])
        b = np.zeros(sizes[0])
        for l in range(1, len(sizes)):
            W, b = W @ net.params[f"W{l}"], b @ net.params[f"W{l}"] + net.params[f"b{l}"]
        deep = net.forward(X)  # (10, out)
        single = X @ W + b
        err = float(np.max(np.abs(deep - single)))
        rows.append({"layers": "-".join(map(str, sizes)), "collapsed W shape": str(W.shape),
                     "max |network - xW - b|": err, "max |output|": float(np.max(np.abs(deep))),
                     "error in float64 eps": err / np.finfo(np.float64).eps})
    return pd.DataFrame(rows)


def xor_runs() -> dict[str, tuple[MLP, np.ndarray]]:
    """activation -> (trained network, MSE before each step and after the last)."""
    X, y = xor_data()
    out = {}
    for act, (lr, steps) in RUNS.items():
        net = xor_network(act)
        out[act] = (net, train(net, X, y, lr, steps))
    return out


def table() -> pd.DataFrame:
    """Each hidden activation on XOR: final MSE against the affine floor, and predictions."""
    X, y = xor_data()
    rows = []
    for act, (net, losses) in xor_runs().items():
        pred = net.forward(X)[:, 0]
        lr, steps = RUNS[act]
        rows.append({"hidden activation": act, "lr": lr, "steps": steps,
                     "MSE at start": losses[0], "final MSE": losses[-1],
                     "lowest MSE seen": float(losses.min()),
                     "affine floor": AFFINE_FLOOR,
                     **{f"ŷ{tuple(int(v) for v in x)}": p for x, p in zip(X, pred)},
                     "fits XOR": bool(np.all(np.abs(pred - y[:, 0]) < 0.1))})
    return pd.DataFrame(rows)


def tables() -> dict[str, pd.DataFrame]:
    return {"linear layers collapse to one affine map": collapse(),
            "XOR with a 2-4-1 network (linear output, MSE, plain gradient descent)": table()}


def plot(path: Path) -> Path:
    """Left: MSE against the step for each activation. Right: each trained network's output
    over the unit square (the XOR points marked)."""
    X, y = xor_data()
    runs = xor_runs()
    fig, axes = figure(ncols=1 + len(runs), width=3.8, title=TITLE)
    axes = axes[0]
    for act, (_, losses) in runs.items():
        axes[0].semilogy(np.maximum(losses, 1e-32), label=act)
    axes[0].axhline(AFFINE_FLOOR, color="grey", ls=":", label="affine floor 0.25")
    axes[0].set(xlabel="step", ylabel="MSE", title="training on XOR")
    axes[0].legend(fontsize=7)
    g = np.linspace(-0.25, 1.25, 61)
    G = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    for ax, (act, (net, _)) in zip(axes[1:], runs.items()):
        im = ax.contourf(g, g, net.forward(G).reshape(len(g), len(g)), levels=np.linspace(
            -0.5, 1.5, 21), cmap="coolwarm", extend="both")
        for target, colour in ((0, "tab:blue"), (1, "tab:red")):
            pts = X[y[:, 0] == target]
            ax.scatter(pts[:, 0], pts[:, 1], color=colour, edgecolors="black", s=60,
                       label=f"XOR target {target}")
        ax.set(title=f"trained output, {act} hidden layer", xlabel="x1", ylabel="x2")
    fig.legend(*axes[1].get_legend_handles_labels(), loc="outside lower center", ncol=2,
               fontsize=8)
    fig.colorbar(im, ax=axes[1:], shrink=0.8, label="network output")
    return save_figure(fig, path)


main = main_for(__name__)

if __name__ == "__main__":
    raise SystemExit(main())
