r"""Lesson 3 — a single sigmoid neuron: what is the gradient, and does following it learn?

Question: one neuron :math:`\hat y = \sigma(z)`, :math:`z = w \cdot x + b`, with the cost
:math:`C = \frac{1}{2N}\sum_n (\hat y_n - y_n)^2`. What are :math:`\partial C/\partial w`
and :math:`\partial C/\partial b`, and does gradient descent on them fit a small dataset
(hours of study against pass/fail)?

Answer: the chain rule through :math:`C \to \hat y \to z \to w` gives

.. math::
    \frac{\partial C}{\partial w} = \frac{1}{N}\sum_n (\hat y_n - y_n)\,\sigma'(z_n)\,x_n,
    \qquad
    \frac{\partial C}{\partial b} = \frac{1}{N}\sum_n (\hat y_n - y_n)\,\sigma'(z_n),
    \qquad \sigma'(z) = \sigma(z)(1 - \sigma(z)):

the error, times how steeply the neuron responds at its current input, times the input
that carried the weight (the bias's input is 1). Starting from w = b = 0 every prediction
is ½ and C = 1/8 whatever the labels; gradient descent then lowers C at every step and
moves the decision boundary :math:`x = -b/w` into the overlap of the two classes (between
the pass at 2 hours and the fail at 2.5; no boundary classifies both). The tests compare
the gradient with torch's autograd and finite differences, and the whole training run with
``torch.optim.SGD`` step by step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from manual import activations
from manual._checks import as_real_array, check_finite
from manual.lessons._common import figure, gradient_descent_step, main_for, save_figure

__all__ = ["LR", "STEPS", "TITLE", "SigmoidNeuron", "dataset", "history", "plot", "table",
           "tables"]

TITLE = "Lesson 3: a single sigmoid neuron trained by gradient descent"
LR = 2.0
STEPS = 500
SHOWN_STEPS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500)

_sigmoid = activations.get("sigmoid")


class SigmoidNeuron:
    r""":math:`\hat y = \sigma(X w + b)` with :math:`C = \frac{1}{2N}\sum_n (\hat y_n - y_n)^2`.

    ``params`` holds the live arrays ``w`` (d,) and ``b`` (a 0-d array); ``gradients``
    returns :math:`(C, \{w: \partial C/\partial w,\ b: \partial C/\partial b\})`.
    """

    def __init__(self, w: Any, b: float = 0.0) -> None:
        w = as_real_array(w, "w").astype(np.float64)
        if w.ndim != 1:
            raise ValueError(f"SigmoidNeuron: w must be a vector (d,), got shape {w.shape}")
        self.params: dict[str, np.ndarray] = {"w": w.copy(), "b": np.array(float(b))}

    def _check(self, X: Any) -> np.ndarray:
        X = as_real_array(X, "X")
        d = self.params["w"].shape[0]
        if X.ndim != 2 or X.shape[1] != d:
            raise ValueError(f"X must be (samples, {d}), got shape {X.shape}")
        check_finite(X, "X")
        return X

    def _check_xy(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        X = self._check(X)
        y = as_real_array(y, "y")
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
        check_finite(y, "y")
        return X, y

    def forward(self, X: np.ndarray) -> np.ndarray:
        r""":math:`\hat y = \sigma(Xw + b)`, shape (N,)."""
        X = self._check(X)
        return _sigmoid.forward(X @ self.params["w"] + self.params["b"])

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        r""":math:`C = \frac{1}{2N}\sum_n (\hat y_n - y_n)^2`."""
        X, y = self._check_xy(X, y)
        return float(0.5 * np.mean((self.forward(X) - y) ** 2))

    def gradients(self, X: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        r"""``(C, grads)`` with :math:`\partial C/\partial w = \frac1N X^\top
        \big((\hat y - y) \odot \sigma'(z)\big)` and :math:`\partial C/\partial b =
        \frac1N \sum_n (\hat y_n - y_n)\sigma'(z_n)`."""
        X, y = self._check_xy(X, y)
        z = X @ self.params["w"] + self.params["b"]  # (N,)
        y_hat = _sigmoid.forward(z)
        n = X.shape[0]
        delta = (y_hat - y) * _sigmoid.derivative(z) / n  # dC/dz_n, (N,)
        grads = {"w": X.T @ delta, "b": np.array(delta.sum())}
        return float(0.5 * np.mean((y_hat - y) ** 2)), grads


def dataset() -> tuple[np.ndarray, np.ndarray]:
    """Hours of study (N, 1) and pass (1) / fail (0): mostly ordered, one overlap."""
    X = np.array([[0.5], [1.0], [1.5], [2.0], [2.5], [3.0], [3.5], [4.0]])
    y = np.array([0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0])
    return X, y


def history(neuron: SigmoidNeuron | None = None, X: np.ndarray | None = None,
            y: np.ndarray | None = None, lr: float = LR, steps: int = STEPS) -> pd.DataFrame:
    r"""Train ``neuron`` (default: w = b = 0 on :func:`dataset`) by gradient descent,
    :math:`\theta \leftarrow \theta - \eta\,\partial C/\partial\theta` (SGD without momentum).
    One row per step (before the update; the last row is the final state): w, b, C, the
    gradient and the training accuracy."""
    if X is None:
        X, y = dataset()
    if y is None:
        raise TypeError("history: give y (the targets) with X")
    neuron = neuron or SigmoidNeuron(np.zeros(X.shape[1]))
    names = ["w"] if X.shape[1] == 1 else [f"w{i + 1}" for i in range(X.shape[1])]
    rows = []
    for k in range(steps + 1):
        C, g = neuron.gradients(X, y)
        acc = float(np.mean((neuron.forward(X) > 0.5) == (y > 0.5)))
        row = {"step": k, **dict(zip(names, neuron.params["w"].tolist())),
               "b": float(neuron.params["b"]), "C": C,
               **{f"dC/d{n}": v for n, v in zip(names, g["w"].tolist())},
               "dC/db": float(g["b"]), "accuracy": acc}
        rows.append(row)
        if k < steps:
            gradient_descent_step(neuron.params, g, lr)
    return pd.DataFrame(rows)


def table() -> pd.DataFrame:
    """The training run at a few steps, with the decision boundary x = -b/w."""
    h = history()
    h = h[h["step"].isin(SHOWN_STEPS)].copy()
    with np.errstate(divide="ignore", invalid="ignore"):  # w = 0 at step 0: no boundary yet
        h["boundary -b/w"] = np.where(h["w"] != 0, -h["b"] / h["w"].where(h["w"] != 0, 1.0),
                                      np.nan) + 0.0  # + 0.0 turns -0.0 into 0.0
    return h.reset_index(drop=True)


def tables() -> dict[str, pd.DataFrame]:
    X, y = dataset()
    return {"dataset": pd.DataFrame({"hours x": X[:, 0], "passed y": y}),
            f"gradient descent, lr = {LR}": table()}


def plot(path: Path) -> Path:
    """Left: the data and the neuron's curve at several steps. Right: C against the step."""
    X, y = dataset()
    h = history()
    fig, axes = figure(ncols=2, title=TITLE)
    left, right = axes[0]
    grid = np.linspace(0, 4.5, 200)
    left.plot(X[:, 0], y, "ko", label="data")
    for k in (1, 10, 50, STEPS):
        row = h.iloc[k]
        left.plot(grid, _sigmoid.forward(row["w"] * grid + row["b"]), label=f"step {k}")
    left.set(xlabel="hours x", ylabel="ŷ = σ(wx + b)", title="the neuron's prediction")
    left.legend(fontsize=7)
    right.semilogy(h["step"], h["C"], label="C = 1/(2N) Σ (ŷ − y)²")
    right.set(xlabel="step", ylabel="cost C", title=f"cost during training, lr = {LR}")
    right.legend(fontsize=7)
    return save_figure(fig, path)


main = main_for(__name__)

if __name__ == "__main__":
    raise SystemExit(main())
