r"""Lesson 8 — targets and input scaling for sigmoid outputs ("Efficient BackProp").

Question: LeCun, Bottou, Orr and Müller, "Efficient BackProp" (1998), recommend targets
inside the sigmoid's range (0.1/0.9, not 0/1) and inputs shifted to mean 0 and scaled to
variance 1. What do the two changes do to the gradient and to training, for the sigmoid
neuron of lesson 3 (:math:`C = \frac{1}{2N}\sum (\hat y - y)^2`, plain gradient descent)?

Answer — targets: σ reaches 0 and 1 only at :math:`z = \mp\infty`. On separable data with
targets 0/1 the cost has no minimum at finite weights: here every term of
:math:`\partial C/\partial w = \frac1N \sum (\hat y - y)\sigma'(z)x` is negative, so w grows
at every step, for ever, and the neuron saturates (σ'(z) → 0). A saturated neuron barely
learns: the gradient from a new, contradicting example, :math:`\hat y\,\sigma'(z)\,x`, is
tens of times smaller than for the neuron trained on 0.1/0.9, whose targets are reached at
finite z (:math:`\sigma(\pm\ln 9) = 0.9, 0.1`) and whose weights converge.

Answer — scaling: the gradient of a weight is proportional to its input. With raw inputs
(a height in cm around 170 and a rate around 0.05) the two gradient components differ by a
factor of thousands, and :math:`z = w \cdot x` is so large at the start that
:math:`\sigma'(z) \le e^{-|z|}` is astronomically small: the neuron is saturated before it
has learned anything and gradient descent does not move it. Standardised inputs give
:math:`|z| \sim 1`,
:math:`\sigma'(z)` near its maximum ¼, gradients of the same size for both weights, and the
same learning rate trains the neuron in a few hundred steps. Every run is compared with
``torch.optim.SGD`` in the tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from manual import activations
from manual.lessons._common import figure, main_for, save_figure
from manual.lessons.single_neuron import SigmoidNeuron, history

__all__ = ["SCALING_LR", "SCALING_STEPS", "TARGETS", "TARGETS_LR", "TARGETS_STEPS", "TITLE",
           "contradicting_gradient", "plot", "scaling_data", "scaling_runs", "scaling_table",
           "table", "tables", "target_runs", "targets_data"]

TITLE = "Lesson 8: targets 0.1/0.9 and standardised inputs for a sigmoid output"
TARGETS: dict[str, tuple[float, float]] = {"0/1": (0.0, 1.0), "0.1/0.9": (0.1, 0.9)}
TARGETS_LR = 2.0
TARGETS_STEPS = 2000
SCALING_LR = 1.0
SCALING_STEPS = 500
NEW_EXAMPLE = (1.5, 0.0)  # an input of the positive class, labelled 0: a contradiction

_sigmoid = activations.get("sigmoid")


# --------------------------------------------------------------------------------------
# targets
# --------------------------------------------------------------------------------------
def targets_data(targets: str) -> tuple[np.ndarray, np.ndarray]:
    """Eight separable, symmetric points ``x = ±0.5, ±1, ±1.5, ±2`` (8, 1), class 1 for
    x > 0, labelled with the ``targets`` pair (a key of :data:`TARGETS`)."""
    lo, hi = TARGETS[targets]
    x = np.array([-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0])[:, None]
    return x, np.where(x[:, 0] > 0, hi, lo)


def target_runs() -> dict[str, pd.DataFrame]:
    """targets -> the training history (lesson 3's columns) from w = b = 0."""
    out = {}
    for name in TARGETS:
        X, y = targets_data(name)
        out[name] = history(SigmoidNeuron(np.zeros(1)), X, y, lr=TARGETS_LR,
                            steps=TARGETS_STEPS)
    return out


def contradicting_gradient(w: float | np.ndarray, b: float | np.ndarray) -> float | np.ndarray:
    r""":math:`|\partial C/\partial w|` from the single contradicting example
    :data:`NEW_EXAMPLE` (x = 1.5, y = 0): :math:`|(\hat y - y)\,\sigma'(z)\,x|`, for one
    neuron (w, b) or for arrays of them."""
    x, y = NEW_EXAMPLE
    z = np.asarray(w, dtype=np.float64) * x + np.asarray(b, dtype=np.float64)
    g = np.abs((_sigmoid.forward(z) - y) * _sigmoid.derivative(z) * x)
    return float(g) if g.ndim == 0 else g


def table() -> pd.DataFrame:
    """Targets 0/1 against 0.1/0.9: weights, cost, gradient and saturation along training."""
    rows = []
    for name, h in target_runs().items():
        X, _ = targets_data(name)
        for k in (10, 100, 1000, TARGETS_STEPS):
            r = h.iloc[k]
            z = X[:, 0] * r["w"] + r["b"]
            rows.append({"targets": name, "step": k, "w": r["w"], "C": r["C"],
                         "|dC/dw|": abs(r["dC/dw"]),
                         "mean σ'(z) on the data": float(np.mean(_sigmoid.derivative(z))),
                         "|dC/dw| of a contradicting example": contradicting_gradient(r["w"],
                                                                                      r["b"])})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# input scaling
# --------------------------------------------------------------------------------------
def scaling_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """64 samples of two features on very different scales (a height ~ N(170, 10²) and a
    rate ~ N(0.05, 0.02²)): returns ``(X_raw, X_standardised, y)``, targets 0.1/0.9,
    separable by a line in the standardised features."""
    rng = np.random.default_rng([seed, 8])
    X = np.column_stack([rng.normal(170.0, 10.0, 64), rng.normal(0.05, 0.02, 64)])
    Z = (X - X.mean(axis=0)) / X.std(axis=0)  # mean 0, variance 1 per feature
    y = np.where(Z[:, 0] + Z[:, 1] > 0, 0.9, 0.1)
    return X, Z, y


def initial_weights(seed: int = 0) -> np.ndarray:
    r"""The starting w for both runs: :math:`U(\pm 1/\sqrt{2})` (torch's default for 2 inputs)."""
    return np.random.default_rng([seed, 88]).uniform(-1 / np.sqrt(2), 1 / np.sqrt(2), 2)


def scaling_runs() -> dict[str, tuple[np.ndarray, np.ndarray, pd.DataFrame]]:
    """inputs ("raw", "standardised") -> ``(X, y, history)`` from the same initial weights."""
    X, Z, y = scaling_data()
    return {name: (D, y, history(SigmoidNeuron(initial_weights()), D, y, lr=SCALING_LR,
                                 steps=SCALING_STEPS))
            for name, D in (("raw", X), ("standardised", Z))}


def scaling_table() -> pd.DataFrame:
    """Raw against standardised inputs: saturation and gradient at the start, and training."""
    rows = []
    for name, (D, _, h) in scaling_runs().items():
        start, end = h.iloc[0], h.iloc[-1]
        z0 = D @ initial_weights()
        means = (np.round(D.mean(axis=0), 3) + 0.0).tolist()  # + 0.0: no -0.0
        rows.append({"inputs": name, "feature means": means,
                     "feature stds": np.round(D.std(axis=0), 3).tolist(),
                     "mean |z| at start": float(np.mean(np.abs(z0))),
                     "mean σ'(z) at start": float(np.mean(_sigmoid.derivative(z0))),
                     "|dC/dw1| / |dC/dw2| at start": abs(start["dC/dw1"] / start["dC/dw2"]),
                     "C at start": start["C"], f"C after {SCALING_STEPS} steps": end["C"],
                     f"accuracy after {SCALING_STEPS} steps": end["accuracy"]})
    return pd.DataFrame(rows)


def tables() -> dict[str, pd.DataFrame]:
    return {f"targets: 0/1 against 0.1/0.9 (8 separable points, lr = {TARGETS_LR})": table(),
            f"inputs: raw against standardised (64 points, targets 0.1/0.9, lr = {SCALING_LR})":
                scaling_table()}


def plot(path: Path) -> Path:
    """Left: w against the step for both target pairs. Middle: the contradicting example's
    gradient. Right: C against the step for raw and standardised inputs."""
    fig, axes = figure(ncols=3, width=4.2, title=TITLE)
    left, mid, right = axes[0]
    for name, h in target_runs().items():
        left.plot(h["step"], h["w"], label=f"targets {name}")
        mid.semilogy(h["step"], contradicting_gradient(h["w"].to_numpy(), h["b"].to_numpy()),
                     label=f"targets {name}")
    left.axhline(0, color="grey", lw=0.5)
    left.set(xlabel="step", ylabel="w", title="weight growth")
    mid.set(xlabel="step", ylabel="|dC/dw|", title="gradient of a contradicting example")
    for name, (_, _, h) in scaling_runs().items():
        right.plot(h["step"], h["C"], label=f"{name} inputs")
    right.set(xlabel="step", ylabel="C", title="training with the same learning rate")
    for ax in (left, mid, right):
        ax.legend(fontsize=7)
    return save_figure(fig, path)


main = main_for(__name__)

if __name__ == "__main__":
    raise SystemExit(main())
