r"""Lesson 4 — the classic 3-2-1 network: what does the chain rule do, weight by weight?

Question: inputs :math:`x_1, x_2, x_3`; hidden units 4 and 5; output unit 6; sigmoid
everywhere; :math:`J = \tfrac12 \sum_n (y_n - h(x_n))^2`. What is the derivative of J with
respect to each of the eleven parameters ``w14, w24, w34, b4, w15, w25, w35, b5, w46, w56,
b6`` (``wij`` is the weight from unit i to unit j)?

Answer: with the pre-activations :math:`p = w_{14}x_1 + w_{24}x_2 + w_{34}x_3 + b_4` (unit 4),
:math:`r = w_{15}x_1 + w_{25}x_2 + w_{35}x_3 + b_5` (unit 5) and
:math:`q = w_{46}\sigma(p) + w_{56}\sigma(r) + b_6` (unit 6), :math:`h = \sigma(q)`, the chain
rule multiplies one local derivative per edge on the path from J down to the parameter:

.. math::
    \frac{\partial J}{\partial w_{46}} = \sum (h - y)\,\sigma'(q)\,\sigma(p), \qquad
    \frac{\partial J}{\partial w_{56}} = \sum (h - y)\,\sigma'(q)\,\sigma(r), \qquad
    \frac{\partial J}{\partial b_6} = \sum (h - y)\,\sigma'(q),

.. math::
    \frac{\partial J}{\partial w_{14}} = \sum (h - y)\,\sigma'(q)\,w_{46}\,\sigma'(p)\,x_1,
    \qquad
    \frac{\partial J}{\partial w_{24}} = \sum (h - y)\,\sigma'(q)\,w_{46}\,\sigma'(p)\,x_2,

.. math::
    \frac{\partial J}{\partial w_{34}} = \sum (h - y)\,\sigma'(q)\,w_{46}\,\sigma'(p)\,x_3,
    \qquad
    \frac{\partial J}{\partial b_4} = \sum (h - y)\,\sigma'(q)\,w_{46}\,\sigma'(p),

and the same for unit 5 with :math:`w_{56}` and :math:`\sigma'(r)`
(:math:`\partial J/\partial w_{15} = \sum (h - y)\,\sigma'(q)\,w_{56}\,\sigma'(r)\,x_1`, ...),
sums over the samples, :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))`. The common factor
:math:`\delta_6 = (h - y)\sigma'(q)` is computed once and handed down, multiplied by
:math:`w_{46}\sigma'(p)` or :math:`w_{56}\sigma'(r)`: that reuse is backpropagation. The
lesson's table checks every one against central differences; the tests against torch.

:func:`seed_network` draws the same numbers as ``manual.MLP([3, 2, 1], seed=seed)``, under
the layout :data:`LAYOUT`: ``w_ij = W1[i-1, j-4]``, ``b_j = b1[j-4]``,
``w_j6 = W2[j-4, 0]``, ``b6 = b2[0]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from manual import MLP, activations, losses
from manual._checks import FLOAT_DTYPES, as_real_array, check_finite
from manual.lessons._common import main_for, save_figure

__all__ = ["FORMULAS", "LAYOUT", "PARAM_NAMES", "TITLE", "Network321", "central_differences",
           "FD_TOLERANCE", "example_data", "from_layers", "plot", "seed_network", "table",
           "tables", "to_layers"]

TITLE = "Lesson 4: the classic 3-2-1 network, parameter by parameter"
PARAM_NAMES = ("w14", "w24", "w34", "b4", "w15", "w25", "w35", "b5", "w46", "w56", "b6")

#: named parameter -> (parameter of manual.MLP([3, 2, 1]), index): w_ij = W1[i-1, j-4]
LAYOUT: dict[str, tuple[str, tuple[int, ...]]] = {
    "w14": ("W1", (0, 0)), "w24": ("W1", (1, 0)), "w34": ("W1", (2, 0)), "b4": ("b1", (0,)),
    "w15": ("W1", (0, 1)), "w25": ("W1", (1, 1)), "w35": ("W1", (2, 1)), "b5": ("b1", (1,)),
    "w46": ("W2", (0, 0)), "w56": ("W2", (1, 0)), "b6": ("b2", (0,)),
}

#: the chain-rule product for each parameter (sums over samples)
FORMULAS: dict[str, str] = {
    "w14": "Σ (h−y)·σ'(q)·w46·σ'(p)·x1", "w24": "Σ (h−y)·σ'(q)·w46·σ'(p)·x2",
    "w34": "Σ (h−y)·σ'(q)·w46·σ'(p)·x3", "b4": "Σ (h−y)·σ'(q)·w46·σ'(p)",
    "w15": "Σ (h−y)·σ'(q)·w56·σ'(r)·x1", "w25": "Σ (h−y)·σ'(q)·w56·σ'(r)·x2",
    "w35": "Σ (h−y)·σ'(q)·w56·σ'(r)·x3", "b5": "Σ (h−y)·σ'(q)·w56·σ'(r)",
    "w46": "Σ (h−y)·σ'(q)·σ(p)", "w56": "Σ (h−y)·σ'(q)·σ(r)", "b6": "Σ (h−y)·σ'(q)",
}

_sigmoid = activations.get("sigmoid")


def to_layers(named: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Named values (parameters or gradients) -> ``W1`` (3, 2), ``b1`` (2,), ``W2`` (2, 1),
    ``b2`` (1,) in :class:`manual.MLP`'s (in, out) layout."""
    dtype = np.result_type(*[np.asarray(named[k]).dtype for k in PARAM_NAMES])
    out = {"W1": np.zeros((3, 2), dtype), "b1": np.zeros(2, dtype),
           "W2": np.zeros((2, 1), dtype), "b2": np.zeros(1, dtype)}
    for name, (key, idx) in LAYOUT.items():
        out[key][idx] = named[name]
    return out


def from_layers(layers: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``W1, b1, W2, b2`` (in, out layout) -> the eleven named values, each a 0-d array."""
    return {name: np.array(layers[key][idx]) for name, (key, idx) in LAYOUT.items()}


class Network321:
    r"""The 3-2-1 sigmoid network with its eleven parameters by name.

    ``params`` maps each name of :data:`PARAM_NAMES` to a live 0-d array (change it in
    place and the next forward uses it); ``gradients(X, y)`` returns ``(J, grads)`` with
    ``grads`` under the same names. ``intermediates`` uses :class:`manual.MLP`'s keys
    (``z1`` holds [p, r], ``z2`` holds q, ``dJ/dz1`` ...), so :mod:`comparisons` can point
    at the first quantity that differs from torch.
    """

    sizes: ClassVar[list[int]] = [3, 2, 1]
    activation = output_activation = _sigmoid
    loss_fn = losses.get("sse")  # J = 1/2 sum (y - h)^2

    def __init__(self, params: Mapping[str, Any], dtype: Any = np.float64) -> None:
        self.dtype = np.dtype(dtype)
        if self.dtype not in FLOAT_DTYPES:
            raise TypeError(f"Network321: dtype must be float32 or float64, got {self.dtype}")
        missing = [n for n in PARAM_NAMES if n not in params]
        extra = sorted(set(params) - set(PARAM_NAMES))
        if missing or extra:
            raise ValueError(f"Network321: parameters must be exactly {', '.join(PARAM_NAMES)}; "
                             f"missing {missing}, unexpected {extra}")
        self.params: dict[str, np.ndarray] = {}
        for name in PARAM_NAMES:
            value = np.asarray(params[name])
            if value.shape != ():
                raise ValueError(f"Network321: {name} must be a scalar, got shape {value.shape}")
            self.params[name] = np.array(value, dtype=self.dtype)  # a copy, 0-d, live
        self.intermediates: dict[str, np.ndarray] = {}

    def __repr__(self) -> str:
        values = ", ".join(f"{n}={float(v):.4g}" for n, v in self.params.items())
        return f"Network321({values})"

    # -- conversions ----------------------------------------------------------------
    @classmethod
    def from_mlp(cls, net: MLP) -> Network321:
        """The same network read from a :class:`manual.MLP` ``[3, 2, 1]`` (see :data:`LAYOUT`)."""
        if list(net.sizes) != [3, 2, 1]:
            raise ValueError(f"Network321.from_mlp needs an MLP [3, 2, 1], got {net.sizes}")
        return cls(from_layers(net.params), dtype=net.dtype)

    def to_mlp(self) -> MLP:
        """A :class:`manual.MLP` ``[3, 2, 1]`` (sigmoid, SSE) holding these parameters."""
        net = MLP([3, 2, 1], "sigmoid", "sigmoid", "sse", dtype=self.dtype)
        for key, value in to_layers(self.params).items():
            net.params[key][...] = value
        return net

    def astype(self, dtype: Any) -> Network321:
        """A copy in ``dtype`` (the same class, so a subclass keeps its behaviour)."""
        return type(self)(self.params, dtype=dtype)

    # -- forward and backward -----------------------------------------------------------
    def _check(self, X: Any) -> np.ndarray:
        X = as_real_array(X, "X")
        if X.ndim != 2 or X.shape[1] != 3:
            raise ValueError(f"X must be (samples, 3) with columns x1, x2, x3, got shape "
                             f"{X.shape}")
        check_finite(X, "X")
        return X.astype(self.dtype, copy=False)

    def _check_xy(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        X = self._check(X)
        y = as_real_array(y, "y")
        if y.shape not in ((X.shape[0],), (X.shape[0], 1)):
            raise ValueError(f"y must have shape ({X.shape[0]},) or ({X.shape[0]}, 1), got "
                             f"{y.shape}")
        check_finite(y, "y")
        return X, y.reshape(-1).astype(self.dtype, copy=False)

    def forward(self, X: np.ndarray) -> np.ndarray:
        """:math:`h(x)` for each row of ``X`` (N, 3); returns (N,)."""
        X = self._check(X)
        P = self.params
        x1, x2, x3 = X[:, 0], X[:, 1], X[:, 2]
        p = P["w14"] * x1 + P["w24"] * x2 + P["w34"] * x3 + P["b4"]  # unit 4, (N,)
        r = P["w15"] * x1 + P["w25"] * x2 + P["w35"] * x3 + P["b5"]  # unit 5, (N,)
        a4, a5 = _sigmoid.forward(p), _sigmoid.forward(r)
        q = P["w46"] * a4 + P["w56"] * a5 + P["b6"]  # unit 6, (N,)
        h = _sigmoid.forward(q)
        self._cache = (X, p, r, a4, a5, q, h)
        self.intermediates = {"z1": np.stack([p, r], axis=1), "a1": np.stack([a4, a5], axis=1),
                              "z2": q[:, None], "a2": h[:, None]}
        return h

    def loss(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        r""":math:`J = \tfrac12 \sum_n (y_n - h(x_n))^2`."""
        X, y = self._check_xy(X, y)
        h = self.forward(X)
        J = np.sum(0.5 * (y - h) ** 2, dtype=self.dtype)
        self.intermediates["loss"] = np.asarray(J)
        return J

    def _hidden_deltas(self, d6: np.ndarray, p: np.ndarray, r: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        r""":math:`\partial J/\partial p = \delta_6\,w_{46}\,\sigma'(p)` and
        :math:`\partial J/\partial r = \delta_6\,w_{56}\,\sigma'(r)`."""
        d4 = d6 * self.params["w46"] * _sigmoid.derivative(p)
        d5 = d6 * self.params["w56"] * _sigmoid.derivative(r)
        return d4, d5

    def gradients(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(J, grads)``, grads under the names of :data:`PARAM_NAMES` (0-d arrays)."""
        X, y = self._check_xy(X, y)
        J = self.loss(X, y)
        _, p, r, a4, a5, q, h = self._cache
        x1, x2, x3 = X[:, 0], X[:, 1], X[:, 2]
        d6 = (h - y) * _sigmoid.derivative(q)  # delta_6 = dJ/dq, (N,)
        d4, d5 = self._hidden_deltas(d6, p, r)  # dJ/dp, dJ/dr, (N,)
        grads = {"w14": np.sum(d4 * x1), "w24": np.sum(d4 * x2), "w34": np.sum(d4 * x3),
                 "b4": np.sum(d4),
                 "w15": np.sum(d5 * x1), "w25": np.sum(d5 * x2), "w35": np.sum(d5 * x3),
                 "b5": np.sum(d5),
                 "w46": np.sum(d6 * a4), "w56": np.sum(d6 * a5), "b6": np.sum(d6)}
        self.intermediates.update({
            "dJ/da2": (h - y)[:, None], "dJ/dz2": d6[:, None],
            "dJ/da1": np.stack([d6 * self.params["w46"], d6 * self.params["w56"]], axis=1),
            "dJ/dz1": np.stack([d4, d5], axis=1)})
        return J, {name: np.asarray(g, dtype=self.dtype) for name, g in grads.items()}


def seed_network(seed: int = 0, dtype: Any = np.float64) -> Network321:
    """The 3-2-1 network with the parameters ``manual.MLP([3, 2, 1], seed=seed)`` draws
    (torch's ``nn.Linear`` distribution), under the names w14 ... b6."""
    return Network321.from_mlp(MLP([3, 2, 1], "sigmoid", "sigmoid", "sse", seed=seed,
                                   dtype=dtype))


def example_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four samples: ``X`` (4, 3) standard normal and targets ``y`` (4,) in {0, 1}."""
    rng = np.random.default_rng([seed, 321])
    return rng.standard_normal((4, 3)), np.array([1.0, 0.0, 0.0, 1.0])


def central_differences(net: Network321, X: np.ndarray, y: np.ndarray,
                        h: float = 1e-5) -> dict[str, float]:
    r""":math:`(J(\theta + h) - J(\theta - h)) / 2h` for each named parameter, in float64,
    restoring each parameter exactly afterwards."""
    twin = net.astype(np.float64)
    out = {}
    for name, p in twin.params.items():
        saved = p[()]
        p[()] = saved + h
        up = float(twin.loss(X, y))
        p[()] = saved - h
        down = float(twin.loss(X, y))
        p[()] = saved
        out[name] = (up - down) / (2 * h)
    return out


def table(seed: int = 0) -> pd.DataFrame:
    """Each parameter: its value, its chain-rule formula, the backprop gradient and the
    central difference."""
    net = seed_network(seed)
    X, y = example_data(seed)
    _, grads = net.gradients(X, y)
    fd = central_differences(net, X, y)
    return pd.DataFrame([{"parameter": n, "value": float(net.params[n]), "dJ/dparam": FORMULAS[n],
                          "backprop": float(grads[n]), "central difference": fd[n],
                          "|difference|": abs(float(grads[n]) - fd[n])} for n in PARAM_NAMES])


def forward_table(seed: int = 0) -> pd.DataFrame:
    """The forward pass per sample: inputs, p, σ(p), r, σ(r), q, h, y."""
    net = seed_network(seed)
    X, y = example_data(seed)
    net.gradients(X, y)  # fills the intermediates
    m = net.intermediates
    return pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "x3": X[:, 2],
                         "p": m["z1"][:, 0], "σ(p)": m["a1"][:, 0],
                         "r": m["z1"][:, 1], "σ(r)": m["a1"][:, 1],
                         "q": m["z2"][:, 0], "h": m["a2"][:, 0], "y": y,
                         "½(y−h)²": 0.5 * (y - m["a2"][:, 0]) ** 2})


def tables() -> dict[str, pd.DataFrame]:
    return {"forward pass (seed_network(0) on example_data(0))": forward_table(),
            "gradients: chain rule against central differences (h = 1e-5, float64)": table()}


#: the harness's finite-difference tolerance (rtol, atol), as in
#: ``comparisons.core.tolerances.tolerance_for(np.float64, "fd")`` (``manual`` cannot import
#: ``comparisons``, which loads torch; tests/test_lessons.py checks the two agree)
FD_TOLERANCE = (1e-6, 1e-8)


def plot(path: Path) -> Path:
    """Left: the network, each edge named and coloured by the sign of its gradient ∂J/∂w
    (width: its size); middle: every parameter's value and gradient; right:
    |backprop − central difference| per parameter on a log scale, beside the
    finite-difference tolerance."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    df = table()
    g = dict(zip(df["parameter"], df["backprop"]))
    v = dict(zip(df["parameter"], df["value"]))
    fig = Figure(figsize=(15.5, 5.4), layout="constrained")
    fig.suptitle(TITLE, fontsize=12)
    left, mid, right = fig.subplots(1, 3, gridspec_kw={"width_ratios": [5.2, 2.6, 4.6]})
    pos = {1: (0.0, 4.0), 2: (0.0, 2.0), 3: (0.0, 0.0), 4: (2.4, 3.0), 5: (2.4, 1.0),
           6: (4.8, 2.0)}
    biggest = max(abs(x) for x in g.values())
    # where along each edge its name sits (from the source), chosen so no two collide
    where = {(1, 4): 0.2, (2, 4): 0.72, (3, 4): 0.8, (1, 5): 0.8, (2, 5): 0.72, (3, 5): 0.2,
             (4, 6): 0.5, (5, 6): 0.5}
    for (i, j), t in where.items():
        (x0, y0), (x1, y1) = pos[i], pos[j]
        name = f"w{i}{j}"
        colour = "tab:red" if g[name] > 0 else "tab:blue"
        left.plot([x0, x1], [y0, y1], color=colour, lw=0.8 + 6 * abs(g[name]) / biggest,
                  alpha=0.55, zorder=1, solid_capstyle="butt")
        x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
        left.annotate(name, (x, y), xytext=(0, 9), textcoords="offset points", ha="center",
                      va="bottom", fontsize=10, zorder=4,
                      bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": colour,
                            "lw": 0.8})
    for unit, (x, y) in pos.items():
        label = f"x{unit}" if unit <= 3 else str(unit)
        left.scatter([x], [y], s=800, color="tab:blue" if unit > 3 else "tab:green", zorder=2)
        left.text(x, y, label, ha="center", va="center", color="white", fontsize=12,
                  zorder=3)
        if unit > 3:
            left.text(x, y - 0.38, f"bias b{unit}", ha="center", va="top", fontsize=9)
    left.set(title="the network: edge colour = sign of ∂J/∂w, width = |∂J/∂w|",
             xlim=(-0.4, 5.3), ylim=(-0.5, 4.5))
    left.title.set_fontsize(10)
    left.axis("off")
    left.legend(handles=[
        Line2D([], [], color="tab:red", lw=3, alpha=0.6,
               label="∂J/∂w > 0: gradient descent lowers w"),
        Line2D([], [], color="tab:blue", lw=3, alpha=0.6,
               label="∂J/∂w < 0: gradient descent raises w"),
        Line2D([], [], marker="o", color="tab:green", lw=0, ms=9, label="inputs x1, x2, x3"),
        Line2D([], [], marker="o", color="tab:blue", lw=0, ms=9,
               label="sigmoid units: 4, 5 hidden, 6 output")],
        loc="upper center", bbox_to_anchor=(0.5, 0.0), fontsize=8, ncol=2, frameon=False)

    # the numbers behind the picture: value and gradient of each parameter
    mid.axis("off")
    mid.set_title("seed_network(0) on example_data(0)", fontsize=10)
    rows = [[n, f"{v[n]:+.3f}", f"{g[n]:+.2e}"] for n in PARAM_NAMES]
    tab = mid.table(cellText=rows, colLabels=["parameter", "value w", "gradient ∂J/∂w"],
                    loc="center", cellLoc="center")
    tab.auto_set_font_size(False)
    tab.set_fontsize(9)
    tab.scale(1.0, 1.45)
    for r, n in enumerate(PARAM_NAMES, start=1):
        tab[r, 2].get_text().set_color("tab:red" if g[n] > 0 else "tab:blue")

    rtol, atol = FD_TOLERANCE
    idx = np.arange(len(df))
    diff = df["|difference|"].to_numpy()
    tol = atol + rtol * np.abs(df["central difference"].to_numpy())
    right.bar(idx, np.maximum(diff, 1e-18), 0.6, color="tab:purple",
              label="|backprop − central difference| (h = 1e-5)")
    right.scatter(idx, tol, marker="_", s=500, color="black", zorder=3,
                  label=f"tolerance {atol:g} + {rtol:g}·|central difference|")
    right.set_yscale("log")
    right.set_xticks(idx, df["parameter"], fontsize=9)
    right.set(title="backprop against central differences, per parameter",
              xlabel="parameter", ylabel="absolute difference (log scale)",
              ylim=(1e-14, 1e-6))
    right.title.set_fontsize(10)
    right.legend(fontsize=8, loc="upper left")
    return save_figure(fig, path)


main = main_for(__name__)

if __name__ == "__main__":
    raise SystemExit(main())
