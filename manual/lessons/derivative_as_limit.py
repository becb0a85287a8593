r"""Lesson 1 — the derivative as a limit: how small should h be, and why central differences?

Question: the derivative is :math:`f'(x) = \lim_{h\to 0} (f(x+h) - f(x))/h`, so why not just
take a tiny h? Forward differences :math:`(f(x+h) - f(x))/h` and central differences
:math:`(f(x+h) - f(x-h))/2h` of sigmoid, tanh and a small network's loss are compared with
the analytic derivative for h from 1e-1 down to 1e-12, in float32 and float64.

Answer: the error first falls with h (truncation: O(h) forward, O(h²) central, from
Taylor's theorem) and then rises again (round-off: each f carries an error ~ε|f|, and the
difference divides it by h). The best h balances the two: about √ε for forward
differences (1e-8 in float64, 3e-4 in float32) and about ε^(1/3) for central differences
(6e-6 in float64, 5e-3 in float32). Central differences win because their truncation error
is a whole order smaller, so the balance is struck at a larger h and a smaller error
(~ε^(2/3) against ~ε^(1/2)). Below the unit roundoff, x + h rounds to x and the estimate is 0.

The two error terms, from :math:`f(x \pm h) = f \pm h f' + \tfrac{h^2}{2} f'' \pm \tfrac{h^3}{6}
f''' + O(h^4)`:

.. math::
    \left|\frac{f(x+h) - f(x)}{h} - f'\right| \approx \frac{h}{2}|f''| + \frac{2\varepsilon|f|}{h},
    \qquad
    \left|\frac{f(x+h) - f(x-h)}{2h} - f'\right| \approx \frac{h^2}{6}|f'''| +
    \frac{\varepsilon|f|}{h}

minimised at :math:`h^* = 2\sqrt{\varepsilon|f|/|f''|}` and
:math:`h^* = (3\varepsilon|f|/|f'''|)^{1/3}`. The finite-difference oracle of
:mod:`comparisons` therefore works in float64 with central differences and h = 1e-5.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from manual import MLP, activations
from manual.lessons._common import figure, main_for, save_figure

__all__ = ["DTYPES", "POINT", "STEPS", "TITLE", "best_steps", "curves", "derivative_problems",
           "example_network", "plot", "table", "tables", "v_shape"]

TITLE = "Lesson 1: the derivative as a limit (forward vs central differences)"
STEPS = 10.0 ** -np.arange(1.0, 12.01, 0.25)  # h = 1e-1 ... 1e-12, four per decade
POINT = 0.5  # where sigmoid' and tanh' are taken: f'' and f''' are both far from 0 there
DTYPES = (np.float64, np.float32)
#: slopes of log(error) against log(h) are fitted where truncation dominates: h >= 10^-1.75
TRUNCATION_STEPS = STEPS[:4]

#: ``(f, x0, exact f'(x0))``; f is called with scalars of the working dtype (an activation's
#: forward, typed for arrays, takes them as 0-d arrays; the network's J(W1[0, 0]))
Problem = tuple[Callable[[Any], Any], np.floating, float]


def example_network(dtype: type = np.float64) -> tuple[MLP, np.ndarray, np.ndarray]:
    """A small 3-4-1 tanh network with MSE loss and its data. Every number is first rounded
    to float32, so the float32 and float64 versions compute the very same function."""
    net = MLP([3, 4, 1], activation="tanh", output_activation="identity", loss="mse", seed=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 3)).astype(np.float32)
    y = rng.standard_normal((6, 1)).astype(np.float32)
    for p in net.params.values():
        p[...] = p.astype(np.float32)  # representable in both dtypes
    return net.astype(dtype), X.astype(dtype), y.astype(dtype)


def derivative_problems(dtype: type) -> dict[str, Problem]:
    """name -> ``(f, x0, exact f'(x0))``: f computes in ``dtype``; the exact derivative is
    analytic, in float64 (the network's from backprop, which the tests check against torch)."""
    problems: dict[str, Problem] = {}
    for name in ("sigmoid", "tanh"):
        act = activations.get(name)
        exact = float(act.derivative(np.asarray(POINT, dtype=np.float64)))
        problems[name] = (act.forward, dtype(POINT), exact)

    net, X, y = example_network(dtype)
    W = net.params["W1"]

    def loss(theta):  # J as a function of the single weight W1[0, 0]
        W[0, 0] = theta
        return net.loss(X, y)

    net64, X64, y64 = example_network(np.float64)
    _, grads = net64.gradients(X64, y64)
    problems["network loss dJ/dW1[0,0]"] = (loss, W[0, 0].copy(), float(grads["W1"][0, 0]))
    return problems


def curves() -> pd.DataFrame:
    """Every estimate: one row per function x dtype x scheme x h, with its relative error."""
    rows = []
    for dtype in DTYPES:
        for name, (f, x0, exact) in derivative_problems(dtype).items():
            f0 = f(x0)
            for h in STEPS:
                hd = dtype(h)  # the step in the working precision, as a student would write it
                fwd = (f(x0 + hd) - f0) / hd
                ctr = (f(x0 + hd) - f(x0 - hd)) / (dtype(2) * hd)
                for scheme, est in (("forward", fwd), ("central", ctr)):
                    rows.append({"function": name, "dtype": np.dtype(dtype).name,
                                 "scheme": scheme, "h": float(h), "estimate": float(est),
                                 "exact": exact, "rel_err": abs(float(est) - exact) / abs(exact)})
    return pd.DataFrame(rows)


def _order(group: pd.DataFrame) -> float:
    """Slope of log(error) against log(h) where truncation dominates: 1 forward, 2 central."""
    g = group[group["h"].isin(TRUNCATION_STEPS)]
    return float(np.polyfit(np.log10(g["h"]), np.log10(g["rel_err"]), 1)[0])


def best_steps(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per function x dtype x scheme: the best h, its error, the rule of thumb (√ε or ε^(1/3))
    and the fitted truncation order."""
    df = curves() if df is None else df
    rows = []
    for (name, dtype, scheme), g in df.groupby(["function", "dtype", "scheme"], sort=False):
        best = g.loc[g["rel_err"].idxmin()]
        eps = float(np.finfo(dtype).eps)
        rows.append({"function": name, "dtype": dtype, "scheme": scheme,
                     "best_h": best["h"], "best_rel_err": best["rel_err"],
                     "rule_of_thumb_h": eps ** 0.5 if scheme == "forward" else eps ** (1 / 3),
                     "truncation_order": round(_order(g), 2),
                     "rel_err_at_h=1e-12": float(g.loc[g["h"].idxmin(), "rel_err"])})
    return pd.DataFrame(rows)


def table() -> pd.DataFrame:
    """The best step per function, dtype and scheme."""
    return best_steps()


def tables() -> dict[str, pd.DataFrame]:
    return {"best h per function, dtype and scheme (relative error against the analytic "
            "derivative)": table()}


def v_shape(name: str = "sigmoid", steps: np.ndarray | None = None) -> pd.DataFrame:
    r"""The classic picture of central differences for one activation in float64: at each h,
    the error :math:`|(f(x+h) - f(x-h))/2h - f'(x)|` at :data:`POINT`, beside its two
    terms, truncation :math:`h^2|f^{(3)}|/6` and rounding :math:`\varepsilon|f|/h`
    (:math:`f^{(3)}` by a central difference of the analytic :math:`f''`)."""
    act = activations.get(name)
    steps = 10.0 ** -np.arange(0.5, 13.01, 0.125) if steps is None else steps
    x = np.asarray(POINT, dtype=np.float64)  # 0-d, as the activations take a scalar
    exact = float(act.derivative(x))
    f3 = float((act.second_derivative(x + 1e-4) - act.second_derivative(x - 1e-4)) / 2e-4)
    eps = float(np.finfo(np.float64).eps)
    est = (act.forward(x + steps) - act.forward(x - steps)) / (2 * steps)
    return pd.DataFrame({"h": steps, "error": np.abs(est - exact),
                         "truncation": steps ** 2 * abs(f3) / 6,
                         "rounding": eps * abs(float(act.forward(x))) / steps,
                         "f": abs(float(act.forward(x))), "f3": abs(f3)})


def plot(path: Path) -> Path:
    """Left: the V of central differences for sigmoid in float64, with its truncation and
    rounding terms. Middle and right: the relative error against h for every function and
    scheme, float64 and float32, forward dashed, central solid."""
    df = curves()
    fig, axes = figure(ncols=3, width=5.0, height=4.4, title=TITLE)
    v = v_shape("sigmoid")
    ax = axes[0, 0]
    ax.loglog(v["h"], np.maximum(v["error"], 1e-18), "o-", ms=2.5, color="black",
              label="|central difference − σ'(0.5)|")
    ax.loglog(v["h"], v["truncation"], "--", color="tab:blue",
              label="truncation h²·|σ'''|/6 (slope 2)")
    ax.loglog(v["h"], v["rounding"], "--", color="tab:red", label="rounding ε·|σ|/h (slope −1)")
    eps = float(np.finfo(np.float64).eps)
    best = (3 * eps * v["f"].iloc[0] / v["f3"].iloc[0]) ** (1 / 3)
    ax.axvline(best, color="grey", ls=":", label=f"best h = (3ε|σ|/|σ'''|)^(1/3) ≈ {best:.0e}")
    ax.set(title="the V of central differences: sigmoid at x = 0.5, float64",
           xlabel="step h (smaller to the right)", ylabel="absolute error", ylim=(1e-16, 1e-1))
    ax.title.set_fontsize(10)
    ax.invert_xaxis()
    ax.legend(fontsize=7, loc="upper center")
    for ax, dtype in zip(axes[0, 1:], ("float64", "float32")):
        for (name, scheme), g in df[df["dtype"] == dtype].groupby(["function", "scheme"],
                                                                  sort=False):
            ax.loglog(g["h"], np.maximum(g["rel_err"], 1e-17), "--" if scheme == "forward"
                      else "-", label=f"{name}, {scheme}")
        eps_dt = np.finfo(dtype).eps
        for h, style, label in ((eps_dt ** 0.5, ":", "√ε (best forward h)"),
                                (eps_dt ** (1 / 3), "-.", "ε^(1/3) (best central h)")):
            ax.axvline(h, color="grey", ls=style, lw=1, label=label)
        ax.set(title=f"{dtype}: every function, forward (dashed) and central (solid)",
               xlabel="step h (smaller to the right)", ylabel="relative error")
        ax.title.set_fontsize(10)
        ax.invert_xaxis()
        ax.legend(fontsize=6, loc="upper left")
    return save_figure(fig, path)


main = main_for(__name__)

if __name__ == "__main__":
    raise SystemExit(main())
