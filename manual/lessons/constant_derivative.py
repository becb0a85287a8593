r"""Lesson 6 — why a constant derivative cannot learn what a varying one can.

Question: the identity activation :math:`f(z) = z` has :math:`f'(z) = 1` everywhere;
sigmoid's derivative varies between 0 and ¼, ReLU's is 0 or 1. What does a constant
derivative do to the learning signal that backpropagation hands each hidden unit, and to
what a 1-16-1 network can represent (fitting :math:`y = x^2` on [−2, 2])?

Answer: backprop gives hidden unit j, for sample n, the signal
:math:`\delta_{1,nj} = \delta_{2,n}\,W_{2,j}\,f'(z_{1,nj})`. With :math:`f' \equiv 1` this is
the output error times a fixed number :math:`W_{2,j}`: every hidden unit receives the same
signal up to scale (the (N, 16) matrix of signals has rank 1), whatever the input, so no
unit can specialise on a region of the input. With sigmoid or ReLU the factor
:math:`f'(z_{1,nj})` differs per unit and per sample (ReLU switches units off where
:math:`z \le 0`), the signal matrix has full rank, and units learn different pieces. The
representation follows: a constant derivative means f is affine, so the whole network is
affine (lesson 5); on :math:`y = x^2` it can do no better than the least-squares line, here
the flat line at the mean (MSE 1.709), and its learned function has zero curvature; sigmoid
and ReLU hidden units bend it and the MSE falls by orders of magnitude. The tests check the
signals (``dJ/dz1``) and the training runs against torch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from manual import MLP
from manual.lessons._common import figure, main_for, save_figure, train

__all__ = ["ACTIVATIONS", "LR", "STEPS", "TITLE", "affine_floor", "curvature", "dataset",
           "learning_signal", "network", "plot", "representation", "signal_rank", "table",
           "tables", "training_runs"]

TITLE = "Lesson 6: a constant derivative (identity) against sigmoid and ReLU"
ACTIVATIONS = ("identity", "sigmoid", "relu")
LR = 0.1
STEPS = 1000
SEED = 0
HIDDEN = 16


def dataset() -> tuple[np.ndarray, np.ndarray]:
    """21 points of :math:`y = x^2` on [−2, 2]: X (21, 1), y (21, 1)."""
    x = np.linspace(-2.0, 2.0, 21)[:, None]
    return x, x**2


def network(activation: str, seed: int = SEED) -> MLP:
    """1-16-1 with ``activation`` in the hidden layer, linear output, MSE. The same seed
    gives every activation the same initial weights."""
    return MLP([1, HIDDEN, 1], activation=activation, output_activation="identity",
               loss="mse", seed=seed)


def signal_rank(delta: np.ndarray) -> int:
    """Numerical rank of the (N, H) signal matrix: singular values above the usual
    threshold ``max(N, H) * eps * s_max``."""
    s = np.linalg.svd(delta, compute_uv=False)
    return int(np.sum(s > max(delta.shape) * np.finfo(delta.dtype).eps * s[0]))


def learning_signal(activation: str) -> dict[str, str | float]:
    r"""At initialisation: :math:`\delta_1 = \partial J/\partial z_1` and how far it is from the
    rank-one :math:`\delta_2 W_2^\top` that a constant derivative would give."""
    X, y = dataset()
    net = network(activation)
    net.gradients(X, y)
    m = net.intermediates
    d1, d2 = m["dJ/dz1"], m["dJ/dz2"]  # (N, 16), (N, 1)
    fprime = net.activation.derivative(m["z1"])  # (N, 16)
    outer = d2 @ net.params["W2"].T  # (N, 16): the signal with f' = 1
    return {"activation": activation, "min f'(z1)": float(fprime.min()),
            "max f'(z1)": float(fprime.max()), "share with f' = 0": float(np.mean(fprime == 0)),
            "rank of dJ/dz1 (21 x 16)": signal_rank(d1),
            "max |dJ/dz1 - δ2·W2ᵀ|": float(np.max(np.abs(d1 - outer))),
            "max |dJ/dz1|": float(np.max(np.abs(d1)))}


def affine_floor() -> float:
    """The least-squares MSE of the best affine fit :math:`a + bx`: no affine network beats it."""
    X, y = dataset()
    A = np.hstack([np.ones_like(X), X])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    return float(np.mean((A @ coef - y) ** 2))


def curvature(net: MLP, lo: float = -2.0, hi: float = 2.0, n: int = 101) -> float:
    """Largest second difference :math:`|g(x-s) - 2g(x) + g(x+s)|/s^2` of the network's output
    over a grid: 0 (to rounding) for an affine function."""
    x = np.linspace(lo, hi, n)[:, None]
    g = net.forward(x)[:, 0]
    s = x[1, 0] - x[0, 0]
    return float(np.max(np.abs(g[:-2] - 2 * g[1:-1] + g[2:])) / s**2)


def training_runs() -> dict[str, tuple[MLP, np.ndarray]]:
    """activation -> (trained network, MSE before each step and after the last)."""
    X, y = dataset()
    out = {}
    for act in ACTIVATIONS:
        net = network(act)
        out[act] = (net, train(net, X, y, LR, STEPS))
    return out


def representation() -> pd.DataFrame:
    """After training: final MSE against the affine floor, and the learned curvature."""
    floor = affine_floor()
    return pd.DataFrame([{"activation": act, "lr": LR, "steps": STEPS,
                          "final MSE": float(losses[-1]), "affine floor (least squares)": floor,
                          "final / floor": float(losses[-1]) / floor,
                          "max |g''| of the learned g (x² has 2)": curvature(net)}
                         for act, (net, losses) in training_runs().items()])


def table() -> pd.DataFrame:
    """The learning signal at initialisation, per activation."""
    return pd.DataFrame([learning_signal(a) for a in ACTIVATIONS])


def tables() -> dict[str, pd.DataFrame]:
    return {"learning signal dJ/dz1 at initialisation (same weights for all three)": table(),
            f"what a 1-16-1 network learns of y = x² ({STEPS} steps of gradient descent)":
                representation()}


def plot(path: Path) -> Path:
    """Left: the learned functions against y = x². Middle: MSE per step. Right: the
    hidden units' learning signals at initialisation, one line per unit, for identity and
    ReLU (identity: copies of one curve)."""
    X, y = dataset()
    runs = training_runs()
    fig, axes = figure(ncols=3, width=4.2, title=TITLE)
    left, mid, right = axes[0]
    grid = np.linspace(-2.2, 2.2, 200)[:, None]
    left.plot(X[:, 0], y[:, 0], "ko", ms=3, label="y = x²")
    for act, (net, losses) in runs.items():
        left.plot(grid[:, 0], net.forward(grid)[:, 0], label=act)
        mid.semilogy(losses, label=act)
    mid.axhline(affine_floor(), color="grey", ls=":", label="affine floor")
    left.set(xlabel="x", ylabel="network output", title="learned function")
    mid.set(xlabel="step", ylabel="MSE", title="training")
    left.legend(fontsize=7)
    mid.legend(fontsize=7)
    for act, color in (("identity", "tab:blue"), ("relu", "tab:green")):
        net = network(act)
        net.gradients(X, y)
        d1 = net.intermediates["dJ/dz1"]
        scale = np.max(np.abs(d1), axis=0, keepdims=True)
        lw = 3.0 if act == "identity" else 0.7  # identity's copies drawn wide, under ReLU's
        right.plot(X[:, 0], d1 / np.where(scale > 0, scale, 1), color=color, lw=lw, alpha=0.6)
        right.plot([], [], color=color, lw=lw, label=f"{act}: each unit's dJ/dz1 (scaled)")
    right.set(xlabel="x", ylabel="signal / max", title="learning signal per hidden unit")
    right.legend(fontsize=7)
    return save_figure(fig, path)


main = main_for(__name__)

if __name__ == "__main__":
    raise SystemExit(main())
