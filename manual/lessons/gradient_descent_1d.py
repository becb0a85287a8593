r"""Lesson 2 — gradient descent in one dimension: why does the learning rate decide everything?

Question: minimise :math:`y = x^2 - 4x + 6` by gradient descent from :math:`x_0 = 8`. With
learning rate :math:`\eta = 0.1` it walks to the minimum at :math:`x = 2` (where y = 2); why
does :math:`\eta = 0.01` crawl, :math:`\eta = 0.9` oscillate and :math:`\eta = 1.1` diverge?

Answer: the step is :math:`x_{k+1} = x_k - \eta\,y'(x_k) = x_k - \eta(2x_k - 4)`, so the
distance to the minimum is multiplied by the same factor at every step,
:math:`x_{k+1} - 2 = (1 - 2\eta)(x_k - 2)`, and :math:`x_k = 2 + 6(1 - 2\eta)^k`. Gradient
descent converges exactly when :math:`|1 - 2\eta| < 1` (:math:`0 < \eta < 1`); a negative
factor (:math:`\eta > 1/2`) flips the sign every step (oscillation); the closer
:math:`|1 - 2\eta|` is to 1, the slower (0.98 for :math:`\eta = 0.01`: about 770 steps to
get within 1e-6, against 70 for 0.1); :math:`|1 - 2\eta| > 1` diverges geometrically
(1.2 for :math:`\eta = 1.1`). In general the bound is :math:`\eta < 2/y''`, here
:math:`y'' = 2`.

The update is plain gradient descent, the same as ``torch.optim.SGD(lr=eta)`` without
momentum (the tests run torch's optimiser on the same function and compare every step).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from manual.lessons._common import figure, main_for, save_figure

__all__ = ["LEARNING_RATES", "MINIMUM", "START", "TITLE", "behaviour", "closed_form", "f", "grad",
           "plot", "steps_to_converge", "table", "tables", "trajectory"]

TITLE = "Lesson 2: gradient descent on y = x^2 - 4x + 6 from x = 8"
START = 8.0
MINIMUM = 2.0
#: learning rate -> what it shows
LEARNING_RATES: dict[float, str] = {0.1: "walks to the minimum", 0.01: "crawls",
                                    0.9: "oscillates", 1.1: "diverges"}
STEPS = 50
TOLERANCE = 1e-6  # "converged": |x - 2| below this


#: a number or an array of them: f and grad work elementwise and return the same kind
Number = TypeVar("Number", float, np.ndarray)


def f(x: Number) -> Number:
    """:math:`y = x^2 - 4x + 6`."""
    return x * x - 4 * x + 6


def grad(x: Number) -> Number:
    """:math:`y' = 2x - 4`."""
    return 2 * x - 4


def trajectory(lr: float, steps: int = STEPS, x0: float = START) -> pd.DataFrame:
    r"""``steps`` gradient-descent steps :math:`x \leftarrow x - \eta\,y'(x)`: one row per
    iterate (step 0 is the start), with y and the gradient there."""
    xs = np.empty(steps + 1)
    xs[0] = x0
    for k in range(steps):
        xs[k + 1] = xs[k] - lr * grad(xs[k])  # plain gradient descent (SGD, no momentum)
    return pd.DataFrame({"step": np.arange(steps + 1), "x": xs, "y": f(xs), "grad": grad(xs)})


def closed_form(lr: float, steps: int = STEPS, x0: float = START) -> np.ndarray:
    r""":math:`x_k = 2 + (x_0 - 2)(1 - 2\eta)^k`, :math:`k = 0 \dots` ``steps``."""
    return MINIMUM + (x0 - MINIMUM) * (1 - 2 * lr) ** np.arange(steps + 1)


def behaviour(lr: float) -> str:
    r"""What :math:`r = 1 - 2\eta` predicts: the distance to the minimum is multiplied by r."""
    r = 1 - 2 * lr
    if r == 0:
        return "lands on the minimum in one step"
    if abs(r) < 1:
        return "converges" + (" monotonically" if r > 0 else ", oscillating")
    if r == -1:
        return "oscillates for ever between two points"
    return "diverges" + (", oscillating" if r < 0 else "")


def steps_to_converge(lr: float, x0: float = START, tol: float = TOLERANCE) -> float:
    r"""Predicted steps until :math:`|x_k - 2| < tol`: the least k with
    :math:`|x_0 - 2|\,|1 - 2\eta|^k < tol` (inf when :math:`|1 - 2\eta| \ge 1`)."""
    r = abs(1 - 2 * lr)
    d0 = abs(x0 - MINIMUM)
    if d0 < tol:
        return 0
    if r == 0:
        return 1
    if r >= 1:
        return math.inf
    return math.floor(math.log(tol / d0) / math.log(r)) + 1


def _observed_steps(lr: float, max_steps: int = 5000, x0: float = START) -> float:
    """Steps the run took to get within the tolerance (inf: it never did, or blew up)."""
    x = x0
    for k in range(max_steps + 1):
        if abs(x - MINIMUM) < TOLERANCE:
            return k
        if abs(x - MINIMUM) > 1e6 * abs(x0 - MINIMUM):  # diverging: stop before overflow
            return math.inf
        x = x - lr * grad(x)
    return math.inf


def table() -> pd.DataFrame:
    """One row per learning rate: the factor, the prediction, and what the run did."""
    rows = []
    for lr, shows in LEARNING_RATES.items():
        run = trajectory(lr)
        rows.append({"lr": lr, "shows": shows, "factor 1-2*lr": 1 - 2 * lr,
                     "|factor|": abs(1 - 2 * lr), "prediction": behaviour(lr),
                     "x after 1 step": run["x"].iloc[1], "x after 2 steps": run["x"].iloc[2],
                     f"x after {STEPS} steps": run["x"].iloc[-1],
                     "steps to |x-2|<1e-6 (predicted)": steps_to_converge(lr),
                     "steps to |x-2|<1e-6 (observed)": _observed_steps(lr)})
    return pd.DataFrame(rows)


def tables() -> dict[str, pd.DataFrame]:
    return {"learning rates": table(),
            "the first steps at lr = 0.1": trajectory(0.1, steps=10)}


def plot(path: Path) -> Path:
    """Left: the parabola with each run's first iterates. Right: |x_k - 2| against k."""
    fig, axes = figure(ncols=2, title=TITLE)
    left, right = axes[0]
    grid = np.linspace(-6, 10, 400)
    left.plot(grid, f(grid), color="black", lw=1, label="y = x² − 4x + 6")
    for lr, style in zip(LEARNING_RATES, ("-", "-", "--", "-")):
        run = trajectory(lr, steps=8 if lr > 1 else 12)
        left.plot(run["x"], run["y"], "o-", ms=3, lw=0.8, label=f"lr = {lr}")
        long = trajectory(lr)
        # lr 0.1 and 0.9 share |1 - 2 lr| = 0.8: the same distances, so one is dashed
        right.semilogy(long["step"], np.abs(long["x"] - MINIMUM), style, label=f"lr = {lr}, "
                       f"|1 − 2·lr| = {abs(1 - 2 * lr):.2f}")
    left.set(xlim=(-6, 10), ylim=(0, 60), xlabel="x", ylabel="y",
             title="iterates from x = 8")
    right.set(xlabel="step k", ylabel="|x_k − 2|", title="distance to the minimum x = 2")
    left.legend(fontsize=7)
    right.legend(fontsize=7)
    return save_figure(fig, path)


main = main_for(__name__)

if __name__ == "__main__":
    raise SystemExit(main())
