r"""Lesson 9 — why batch norm's backward has three terms.

Question: batch norm normalises each channel by the mean and variance *of the batch*,
:math:`y_i = \gamma\,(x_i-\mu)/\sqrt{\sigma^2+\epsilon} + \beta`. Differentiate that as
if :math:`\mu` and :math:`\sigma^2` were constants and you get
:math:`\partial L/\partial x_i = \gamma\,\partial L/\partial y_i/\sqrt{\sigma^2+\epsilon}`.
Why is that wrong in train mode, how wrong, and what are the missing terms?

Answer: :math:`\mu` and :math:`\sigma^2` are functions of every :math:`x_i` of the batch,
so each :math:`x_i` reaches the loss three ways. With :math:`g_j = \gamma\,\partial
L/\partial y_j`, :math:`s = 1/\sqrt{\sigma^2+\epsilon}` and :math:`M` values per channel:

.. math::
    \frac{\partial L}{\partial x_i} =
    \underbrace{s\,g_i}_{\text{direct}}
    \underbrace{-\;\frac{s}{M}\sum_j g_j}_{\text{through the mean}}
    \underbrace{-\;\frac{s}{M}\,\hat x_i\sum_j g_j\hat x_j}_{\text{through the variance}}

The two extra terms remove from :math:`g` its mean and its component along
:math:`\hat x`: the output does not change when the whole batch is shifted (that is what
subtracting :math:`\mu` is for) or scaled (dividing by :math:`\sigma`), so the true
gradient is blind to those two directions — it sums to zero over the batch and is
orthogonal to :math:`\hat x` (exactly so as :math:`\epsilon \to 0`: the product is
:math:`s\,\epsilon/(\sigma^2+\epsilon)\sum_j g_j\hat x_j`). The direct term alone has
neither property. The error of dropping terms does not shrink with the batch size: it
stays of the order of the gradient itself (the table below, for :math:`M` = 4 … 512;
with :math:`M = 2` the outputs are :math:`\pm\gamma` whatever the inputs, and the true
gradient is nearly zero). In eval mode the running statistics *are* constants and the
direct term alone is exactly right. The tests check every gradient against torch's
autograd (``nn.BatchNorm1d``, train and eval mode).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from manual.layers.normalization import batchnorm_backward, batchnorm_forward
from manual.lessons._common import figure, main_for, save_figure

__all__ = ["BATCH_SIZES", "EPS", "GAMMA", "TITLE", "example", "modes", "plot", "problem",
           "sizes_table", "table", "tables", "terms", "variants"]

TITLE = "Lesson 9: why batch norm's backward has three terms"
EPS = 1e-5
GAMMA = 1.5
BETA = -0.5
BATCH_SIZES = (4, 8, 32, 128, 512)
SEED = 0


def problem(m: int = 8, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                   np.ndarray]:
    r"""One channel of ``m`` values, ``x`` (m, 1), with :math:`\gamma` = ``GAMMA``,
    :math:`\beta` = ``BETA`` and the loss :math:`L = \tfrac12\sum_i (y_i - t_i)^2` for random
    targets ``t``: returns ``(x, gamma, beta, t)``."""
    rng = np.random.default_rng([seed, m])
    x = 2.0 + 1.5 * rng.standard_normal((m, 1))
    t = rng.standard_normal((m, 1))
    return x, np.array([GAMMA]), np.array([BETA]), t


def terms(x: np.ndarray, gamma: np.ndarray, dout: np.ndarray, eps: float = EPS
          ) -> dict[str, np.ndarray]:
    r"""The three terms of :math:`\partial L/\partial x`, each written out from the
    derivation (``x``, ``dout`` (M, C); ``gamma`` (C,)): ``direct`` :math:`s g_i`,
    ``mean`` :math:`-\frac{s}{M}\sum_j g_j`, ``variance`` :math:`-\frac{s}{M}\hat x_i
    \sum_j g_j \hat x_j`, and their ``sum``."""
    m = x.shape[0]
    mu = x.mean(axis=0)  # (C,)
    var = ((x - mu) ** 2).mean(axis=0)  # biased, as the forward pass normalises
    s = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * s
    g = gamma * dout  # dL/dxhat
    direct = s * g
    through_mean = np.broadcast_to(-s / m * g.sum(axis=0), x.shape)
    through_var = -s / m * xhat * (g * xhat).sum(axis=0)
    return {"direct": direct, "mean": np.array(through_mean), "variance": through_var,
            "sum": direct + through_mean + through_var}


def _dout(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, t: np.ndarray) -> np.ndarray:
    """:math:`\\partial L/\\partial y = y - t` at the batch-norm output."""
    y, _ = batchnorm_forward(x, gamma, beta, EPS)
    return y - t


def example(m: int = 8) -> pd.DataFrame:
    """Per sample of one channel: x, x̂, the upstream gradient, the three terms, their sum and
    :func:`manual.layers.batchnorm_backward`'s dx."""
    x, gamma, beta, t = problem(m)
    dout = _dout(x, gamma, beta, t)
    parts = terms(x, gamma, dout)
    _, cache = batchnorm_forward(x, gamma, beta, EPS)
    dx, _, _ = batchnorm_backward(dout, cache)
    return pd.DataFrame({"i": np.arange(m), "x": x[:, 0], "x̂": cache.xhat[:, 0],
                         "dL/dy": dout[:, 0], "direct": parts["direct"][:, 0],
                         "through mean": parts["mean"][:, 0],
                         "through variance": parts["variance"][:, 0],
                         "sum": parts["sum"][:, 0], "batchnorm_backward": dx[:, 0]})


#: the gradients you get when you keep only some of the terms
VARIANTS = {"direct only (statistics constant)": ("direct",),
            "direct + mean": ("direct", "mean"),
            "direct + variance": ("direct", "variance"),
            "all three": ("direct", "mean", "variance")}


def variants(x: np.ndarray, gamma: np.ndarray, dout: np.ndarray) -> dict[str, np.ndarray]:
    """dx for each entry of :data:`VARIANTS`."""
    parts = terms(x, gamma, dout)
    zero = np.zeros_like(x)  # the start of each sum (0 + the first term, as sum() does)
    return {name: sum((parts[k] for k in keys), start=zero) for name, keys in VARIANTS.items()}


def sizes_table() -> pd.DataFrame:
    """Per batch size M: the relative error ‖dx_variant − dx‖/‖dx‖ of each truncated
    variant, and the two invariances: Σ dx and dx·x̂ (0 for the true gradient)."""
    rows = []
    for m in BATCH_SIZES:
        x, gamma, beta, t = problem(m)
        dout = _dout(x, gamma, beta, t)
        v = variants(x, gamma, dout)
        true = v["all three"]
        _, cache = batchnorm_forward(x, gamma, beta, EPS)
        row: dict[str, float] = {"M": m}
        for name in list(VARIANTS)[:-1]:
            row[f"rel err: {name}"] = float(np.linalg.norm(v[name] - true)
                                            / np.linalg.norm(true))
        direct = v["direct only (statistics constant)"]
        row["Σ dx (true)"] = float(true.sum())
        row["Σ dx (direct only)"] = float(direct.sum())
        row["dx·x̂ (true)"] = float((true * cache.xhat).sum())
        row["dx·x̂ (direct only)"] = float((direct * cache.xhat).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def modes() -> pd.DataFrame:
    """Train against eval mode: the direct term alone is the whole gradient in eval mode
    (running statistics are constants), and wrong in train mode."""
    x, gamma, beta, t = problem(8)
    rm, rv = np.array([1.0]), np.array([4.0])  # running statistics, as after training
    rows = []
    for training in (True, False):
        y, cache = batchnorm_forward(x, gamma, beta, EPS, rm, rv, training=training)
        dout = y - t
        dx, _, _ = batchnorm_backward(dout, cache)
        direct = gamma * dout * cache.inv_std
        rows.append({"mode": "train (batch statistics)" if training else
                     "eval (running statistics)",
                     "|dx| (batchnorm_backward)": float(np.linalg.norm(dx)),
                     "|direct term alone|": float(np.linalg.norm(direct)),
                     "max |dx - direct|": float(np.abs(dx - direct).max())})
    return pd.DataFrame(rows)


def table() -> pd.DataFrame:
    """The main table: the three terms, sample by sample."""
    return example()


def tables() -> dict[str, pd.DataFrame]:
    return {"one channel, M = 8: the three terms of dL/dx per sample": example(),
            "dropping terms, by batch size (the error does not shrink)": sizes_table(),
            "train against eval mode": modes()}


def plot(path: Path) -> Path:
    """Left: the three terms per sample and their sum. Right: the relative error of each
    truncated gradient against the batch size."""
    df = example()
    sizes = sizes_table()
    fig, axes = figure(ncols=2, width=5.2, title=TITLE)
    ax = axes[0][0]
    w = 0.27
    i = df["i"].to_numpy()
    ax.bar(i - w, df["direct"], w, label="direct  s·g_i")
    ax.bar(i, df["through mean"], w, label="through the mean")
    ax.bar(i + w, df["through variance"], w, label="through the variance")
    ax.plot(i, df["sum"], "kD", ms=5, label="sum = dL/dx")
    ax.axhline(0, color="grey", lw=0.6)
    ax.set(title="dL/dx of one channel, M = 8", xlabel="sample i", ylabel="contribution to dL/dx_i")
    ax.legend(fontsize=7)
    ax = axes[0][1]
    for name, marker in zip(list(VARIANTS)[:-1], "osv"):
        ax.semilogx(sizes["M"], sizes[f"rel err: {name}"], marker + "-", label=name)
    ax.set(title="error of a truncated backward", xlabel="batch size M (values per channel)",
           ylabel="‖dx_variant − dx‖ / ‖dx‖", ylim=(0, None))
    ax.legend(fontsize=7)
    return save_figure(fig, path)


main = main_for(__name__)

if __name__ == "__main__":
    raise SystemExit(main())
