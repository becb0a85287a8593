r"""Lesson 10 — what a convolution's backward really is: a convolution with the flipped
kernel.

Question: a convolution layer (torch's ``conv2d``, a cross-correlation) slides a kernel
:math:`w` over its input, :math:`y_{ij} = \sum_{a,b} w_{ab}\, x_{i+a,\,j+b}`. What is
:math:`\partial L/\partial x`? Is it the same sliding, with the same kernel?

Answer: input pixel :math:`x_{pq}` is read by every output :math:`y_{p-a,\,q-b}` whose
window covers it, through weight :math:`w_{ab}`, so

.. math::
    \frac{\partial L}{\partial x_{pq}} = \sum_{a,b} w_{ab}\,
    \frac{\partial L}{\partial y_{p-a,\,q-b}}
    = \sum_{a,b} \tilde w_{ab}\, \delta^{\text{pad}}_{p+a,\,q+b},
    \qquad \tilde w_{ab} = w_{k-1-a,\,k-1-b}

— the same sliding (a cross-correlation), but over the upstream gradient zero-padded by
:math:`k-1` on every side ("full"), with the kernel rotated by 180°: a *true*
convolution of :math:`\delta` with :math:`w`. With channels, the kernel's in and out
channels swap as well (:math:`\tilde w` is :math:`(C_\text{in}, C_\text{out}, k, k)`);
with stride :math:`s`, :math:`\delta` first gets :math:`s-1` zeros between its entries;
the forward's padding is cut off at the end. That is exactly the transposed convolution
(``conv_transpose2d``). The weight gradient is a cross-correlation too, of the input with
:math:`\delta`: :math:`\partial L/\partial w_{ab} = \sum_{ij} x_{i+a,\,j+b}\,\delta_{ij}`.
The table builds :math:`\partial L/\partial x` three ways: from the definition
(:math:`J^\top\delta` with the Jacobian :math:`J` assembled column by column), as the full
correlation with the flipped kernel (equal to rounding), and with the kernel *not*
flipped (wrong wherever the kernel is not symmetric); and it checks the layer's own
``manual.layers.conv2d_backward`` against the definition too. The tests check every gradient
against torch's autograd (``F.conv2d``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from manual.lessons._common import figure, main_for, save_figure

__all__ = ["CONFIGS", "TITLE", "correlate", "dx_by_definition", "dx_flipped", "dx_unflipped",
           "dw_correlation", "plot", "problem", "table", "tables"]

TITLE = "Lesson 10: a convolution's backward is a convolution with the flipped kernel"
SEED = 0
#: (C_in, C_out, kernel, stride, padding, input size)
CONFIGS = ((1, 1, 3, 1, 0, 6), (1, 1, 3, 1, 1, 6), (2, 3, 3, 1, 0, 6), (2, 3, 3, 2, 1, 7),
           (3, 2, 2, 2, 0, 6), (1, 2, 5, 1, 2, 5))


def correlate(x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    r"""torch's ``conv2d`` (no bias): :math:`y_{noij} = \sum_{c,a,b} w_{ocab}\,
    x^{\text{pad}}_{nc,\,si+a,\,sj+b}` for ``x`` (N, C, H, W) and ``w`` (O, C, k, k).
    Vectorised through ``sliding_window_view`` and one tensor contraction."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    k = w.shape[-1]
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))  # N,C,Ho',Wo',k,k
    win = win[:, :, ::stride, ::stride]  # the windows the stride keeps
    return np.einsum("ncijab,ocab->noij", win, w, optimize=True)


def problem(c_in: int, c_out: int, k: int, stride: int, padding: int, size: int,
            seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, w, dy)``: an input (2, C_in, size, size), a kernel (C_out, C_in, k, k) with no
    symmetry, and an upstream gradient of the output's shape, all standard normal."""
    rng = np.random.default_rng([seed, c_in, c_out, k, stride, padding, size])
    x = rng.standard_normal((2, c_in, size, size))
    w = rng.standard_normal((c_out, c_in, k, k))
    y = correlate(x, w, stride, padding)
    return x, w, rng.standard_normal(y.shape)


def dx_by_definition(x: np.ndarray, w: np.ndarray, dy: np.ndarray, stride: int,
                     padding: int) -> np.ndarray:
    r""":math:`J^\top\delta`: the Jacobian of the (linear) map :math:`x \mapsto y` built
    column by column — the forward pass applied to every unit input at once, as a batch —
    then transposed onto :math:`\delta`. No formula about flipping goes into it."""
    c, h, wd = x.shape[1:]
    n_in = c * h * wd
    basis = np.eye(n_in).reshape(n_in, c, h, wd)  # every unit input, one per batch row
    J = correlate(basis, w, stride, padding).reshape(n_in, -1)  # (inputs, outputs) = J^T
    return (dy.reshape(dy.shape[0], -1) @ J.T).reshape(x.shape)  # delta J, per sample


def _full(dy: np.ndarray, k: int, stride: int) -> np.ndarray:
    """``dy`` with ``stride - 1`` zeros between its entries, padded by ``k - 1``."""
    n, o, ho, wo = dy.shape
    dil = np.zeros((n, o, (ho - 1) * stride + 1, (wo - 1) * stride + 1), dtype=dy.dtype)
    dil[:, :, ::stride, ::stride] = dy
    return np.pad(dil, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))


def _crop(full: np.ndarray, shape: tuple[int, ...], padding: int) -> np.ndarray:
    """Back to the input's (H, W): pad the rows/columns the stride never reached (zero
    gradient), then cut the forward's padding off."""
    h, wd = shape[2] + 2 * padding, shape[3] + 2 * padding
    full = np.pad(full, ((0, 0), (0, 0), (0, h - full.shape[2]), (0, wd - full.shape[3])))
    return full[:, :, padding:h - padding, padding:wd - padding]


def dx_flipped(x: np.ndarray, w: np.ndarray, dy: np.ndarray, stride: int,
               padding: int) -> np.ndarray:
    r""":math:`\partial L/\partial x` as the full correlation of :math:`\delta` with the
    kernel rotated by 180° and its channels swapped: ``w[:, :, ::-1, ::-1]`` transposed to
    (C_in, C_out, k, k)."""
    k = w.shape[-1]
    flipped = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C_in, C_out, k, k)
    return _crop(correlate(_full(dy, k, stride), flipped), x.shape, padding)


def dx_unflipped(x: np.ndarray, w: np.ndarray, dy: np.ndarray, stride: int,
                 padding: int) -> np.ndarray:
    """The classic slip: the same full correlation with the kernel *not* rotated."""
    k = w.shape[-1]
    return _crop(correlate(_full(dy, k, stride), w.transpose(1, 0, 2, 3)), x.shape, padding)


def dw_correlation(x: np.ndarray, w: np.ndarray, dy: np.ndarray, stride: int,
                   padding: int) -> np.ndarray:
    r""":math:`\partial L/\partial w_{ocab} = \sum_{n,i,j} x^{\text{pad}}_{nc,\,si+a,\,sj+b}\,
    \delta_{noij}`: the input's windows correlated with :math:`\delta`."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    k = w.shape[-1]
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))
    win = win[:, :, ::stride, ::stride][:, :, :dy.shape[2], :dy.shape[3]]
    return np.einsum("ncijab,noij->ocab", win, dy, optimize=True)


def _layer_dx(x: np.ndarray, w: np.ndarray, dy: np.ndarray, stride: int,
              padding: int) -> np.ndarray:
    """The input gradient of :func:`manual.layers.conv2d_backward`, the layer's own."""
    from manual.layers import conv2d_backward, conv2d_forward

    _, cache = conv2d_forward(x, w, None, stride, padding)
    dx = conv2d_backward(dy, cache, need_dx=True)[0]
    if dx is None:  # never: need_dx=True
        raise RuntimeError("conv2d_backward returned no input gradient")
    return dx


def table() -> pd.DataFrame:
    """Per configuration: how far the flipped-kernel and the unflipped-kernel input
    gradients are from :math:`J^\\top\\delta`."""
    rows = []
    for c_in, c_out, k, stride, padding, size in CONFIGS:
        x, w, dy = problem(c_in, c_out, k, stride, padding, size)
        ref = dx_by_definition(x, w, dy, stride, padding)
        scale = float(np.abs(ref).max())
        rows.append({"C_in": c_in, "C_out": c_out, "kernel": k, "stride": stride,
                     "padding": padding, "input": f"{size}x{size}",
                     "output": "x".join(map(str, dy.shape[2:])), "max |Jᵀδ|": scale,
                     "flipped kernel: max err": float(np.abs(
                         dx_flipped(x, w, dy, stride, padding) - ref).max()),
                     "unflipped kernel: max err": float(np.abs(
                         dx_unflipped(x, w, dy, stride, padding) - ref).max()),
                     "conv2d_backward: max err": float(np.abs(
                         _layer_dx(x, w, dy, stride, padding) - ref).max())})
    return pd.DataFrame(rows)


def _example() -> tuple[np.ndarray, ...]:
    x, w, dy = problem(1, 1, 3, 1, 0, 6)
    return (x, w, dy, dx_by_definition(x, w, dy, 1, 0), dx_flipped(x, w, dy, 1, 0),
            dx_unflipped(x, w, dy, 1, 0))


def example() -> pd.DataFrame:
    """The 3x3 kernel of the one-channel example and its 180° rotation, row by row."""
    _, w, *_ = _example()
    k = w[0, 0]
    return pd.DataFrame({"row": range(3), **{f"w[row, {b}]": k[:, b] for b in range(3)},
                         **{f"flipped[row, {b}]": k[::-1, ::-1][:, b] for b in range(3)}})


def tables() -> dict[str, pd.DataFrame]:
    return {"dL/dx three ways (errors against the definition Jᵀδ)": table(),
            "the one-channel example's kernel and its 180° rotation": example()}


def plot(path: Path) -> Path:
    """The one-channel example: kernel, flipped kernel, dL/dx by definition, by the
    flipped kernel, and the error of the unflipped kernel; with the table's errors."""
    x, w, dy, ref, good, bad = _example()
    fig, axes = figure(ncols=3, nrows=2, width=3.6, height=3.3, title=TITLE)
    panels = [(w[0, 0], "kernel w"), (w[0, 0, ::-1, ::-1], "flipped kernel (180°)"),
              (dy[0, 0], "upstream gradient δ (4x4)"), (ref[0, 0], "dL/dx = Jᵀδ (definition)"),
              (good[0, 0], "flipped-kernel correlation")]
    for ax, (img, title) in zip(axes.flat, panels):
        im = ax.imshow(img, cmap="coolwarm")
        ax.set(title=title, xlabel="column", ylabel="row", xticks=range(img.shape[1]),
               yticks=range(img.shape[0]))
        fig.colorbar(im, ax=ax, shrink=0.8, label="value")
    ax = axes[1][2]
    df = table()
    i = np.arange(len(df))
    floor = 1e-17  # a zero error drawn at the bottom of the log axis
    ax.semilogy(i, np.maximum(df["flipped kernel: max err"], floor), "o",
                label="flipped kernel (an exact 0 drawn at 1e-17)")
    ax.semilogy(i, np.maximum(df["unflipped kernel: max err"], floor), "x",
                label="unflipped kernel")
    ax.set(title="max |error| against Jᵀδ", xlabel="configuration (table row)",
           ylabel="max abs error", xticks=i)
    ax.legend(fontsize=7, loc="center")
    return save_figure(fig, path)


main = main_for(__name__)

if __name__ == "__main__":
    raise SystemExit(main())
