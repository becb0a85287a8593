"""The report as pictures: ``summary.png`` (and, with ``--plots``, each panel large).

- **heatmap**: the worst error/tolerance ratio (``err_over_tol``, the figure that decides
  pass or fail) of every network case, per hidden activation x loss, float64 and float32
  side by side; skipped pairs blank, a failing cell marked.
- **errors**: every comparison row's worst element, its absolute error against the
  magnitude of the reference, one panel per oracle, with the tolerance lines
  ``atol + rtol * |reference|`` of each dtype: a point above its line fails.
- **trajectories**: per optimizer, the largest parameter error of any run at each step,
  float64 (relative, against its fixed bound) and float32 (absolute, against the bound
  that grows with the step).

matplotlib (the ``plots`` extra) is imported inside the functions only, and figures are
built without pyplot (no global state, no display).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from comparisons.core.tolerances import tolerance_for

__all__ = ["write_summary"]

#: values at or below this are drawn at it on log axes (an exact 0 has no logarithm)
FLOOR = 1e-18
ORACLE_TITLES = {"torch": "torch autograd (through the loss)",
                 "vjp": "torch vector-Jacobian product", "fd": "central finite differences",
                 "complex-step": "complex step"}
DTYPE_COLOURS = {"float64": "tab:blue", "float32": "tab:orange"}


def _plain_log(ax, axis: str = "y", every: int = 1) -> None:
    """Log-axis tick labels as plain text ("1e-12"): mathtext labels cost more to lay out
    than the rest of the figure."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(LogLocator(base=10.0 ** every))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0e}".replace("e-0", "e-")
                                             .replace("e+0", "e").replace("e+", "e")))
    target.set_minor_formatter(NullFormatter())


def _trajectory_rule(dtype: str) -> str:
    """The tolerance rule of a trajectory panel, from the policy's own constants."""
    from comparisons.core.tolerances import (
        FLOAT32_SPREAD_FACTOR,
        TRAJECTORY_FLOAT32,
        TRAJECTORY_FLOAT64,
    )
    if dtype == "float32":
        t = TRAJECTORY_FLOAT32
        return (f"(tolerance {t.atol:g} + {t.rtol:g}|ref| + {FLOAT32_SPREAD_FACTOR:g} x "
                f"torch's own float32 drift from float64, per run)")
    t = TRAJECTORY_FLOAT64
    return f"(tolerance {t.atol:g} + {t.rtol:g}|ref|, fixed)"


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)


# --------------------------------------------------------------------------------------
# the panels
# --------------------------------------------------------------------------------------
def heatmap(axes, fig, gradients: pd.DataFrame, cax=None) -> None:
    """One heatmap per dtype on ``axes``: hidden activation (rows) x loss (columns); the
    colour bar in ``cax`` (or beside the axes)."""
    from matplotlib.colors import LogNorm

    rows = gradients[(gradients["kind"] == "network") & (gradients["oracle"] != "taylor")]
    acts = sorted(set(gradients["activation"].dropna()))
    losses = sorted(set(gradients["loss"].dropna()))
    ratio = rows.assign(r=_num(rows, "err_over_tol")).groupby(
        ["dtype", "activation", "loss"])["r"].max()
    norm = LogNorm(vmin=1e-6, vmax=10.0)
    image = None
    for ax, dtype in zip(axes, ("float64", "float32")):
        grid = np.full((len(acts), len(losses)), np.nan)
        for (dt, act, loss), value in ratio.items():
            if dt == dtype:
                grid[acts.index(act), losses.index(loss)] = max(value, 1e-6)
        image = ax.imshow(grid, norm=norm, cmap="viridis", aspect="auto",
                          interpolation="nearest")
        bad = np.argwhere(grid > 1)
        if len(bad):
            ax.scatter(bad[:, 1], bad[:, 0], marker="x", color="red", s=30, label="fails (> 1)")
            ax.legend(loc="upper right", fontsize=7)
        ax.set_xticks(range(len(losses)), losses, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(acts)), acts, fontsize=7)
        ax.set(title=f"{dtype}: worst error / tolerance per pair\n(blank: pair skipped or "
                     f"not selected)", xlabel="loss", ylabel="activation (every layer)")
        ax.title.set_fontsize(9)
    if image is not None:
        cbar = (fig.colorbar(image, cax=cax, extend="both") if cax is not None else
                fig.colorbar(image, ax=list(axes), shrink=0.9, extend="both"))
        cbar.set_label("worst error / tolerance (≤ 1 passes; 0 drawn at 1e-6)")
        cbar.ax.axhline(1.0, color="red", lw=1.5)


def errors(axes, rows: pd.DataFrame) -> None:
    """One panel per oracle: |error| of each row's worst element against |reference|, with
    each dtype's tolerance line."""
    oracles = [o for o in ORACLE_TITLES if (rows["oracle"] == o).any()]
    x_all = np.logspace(-18, 6, 50)
    for ax, oracle in zip(axes, oracles):
        g = rows[rows["oracle"] == oracle]
        for dtype, colour in DTYPE_COLOURS.items():
            d = g[g["dtype"] == dtype]
            if d.empty:
                continue
            ref = np.maximum(np.abs(_num(d, "reference_value")), FLOOR)
            err = np.maximum(_num(d, "worst_abs_err"), FLOOR)
            ok = np.isfinite(ref) & np.isfinite(err)
            ax.plot(ref[ok], err[ok], ".", ms=2, alpha=0.35, color=colour, mew=0,
                    label=f"{dtype} rows ({ok.sum()})")
            failed = ok & (d["status"].to_numpy() == "fail") if "status" in d else ok & False
            if failed.any():
                ax.plot(ref[failed], err[failed], "x", ms=5, color="red",
                        label=f"{dtype} failing rows ({failed.sum()})")
            tol = tolerance_for(dtype, oracle if oracle in ("fd", "complex-step") else "torch")
            # float32 against torch: the floor; networks and layers add torch's own measured
            # float32 rounding per row (the rows' atol), so only the red marks fail
            measured = dtype == "float32" and oracle in ("torch", "vjp")
            ax.loglog(x_all, tol.atol + tol.rtol * x_all, color=colour, lw=1.5,
                      label=(f"{dtype} floor: {tol.atol:g} + {tol.rtol:g}·|ref| + measured"
                             if measured else
                             f"{dtype} tolerance: {tol.atol:g} + {tol.rtol:g}·|ref|"))
        ax.set(xscale="log", yscale="log", xlim=(1e-18, 1e6), ylim=(1e-19, 1e-2),
               title=ORACLE_TITLES[oracle], xlabel="|reference| at the worst element",
               ylabel="|error| of the worst element")
        ax.title.set_fontsize(9)
        _plain_log(ax, "x", every=3)
        _plain_log(ax, "y", every=2)
        ax.legend(fontsize=7, loc="upper left", markerscale=4)
        ax.text(0.98, 0.02, "above its line: fails\n(float32 vs torch: failing rows in red)"
                "\n0 drawn at 1e-18", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=6, color="grey")
    for ax in axes[len(oracles):]:
        ax.set_visible(False)


def trajectories(axes, df: pd.DataFrame) -> None:
    """Per dtype: each step's deciding error over its tolerance (``err_over_tol``: the worst
    of any parameter element, any optimizer-state element, the loss and the learning rate),
    the worst run per optimizer, against 1; a failing run is marked where it first fails.
    (The largest *relative* error would mislead: an element whose torch value is almost 0
    can have a relative error of 1e3 and pass, within atol.)"""
    for ax, dtype in zip(axes, ("float64", "float32")):
        g = df[df["dtype"] == dtype]
        if g.empty:
            ax.set_visible(False)
            continue
        ratio = np.where(np.isfinite(_num(g, "err_over_tol")), _num(g, "err_over_tol"), 1e3)
        env = g.assign(v=ratio).groupby(["optimizer", "step"])["v"].max()
        for opt in g["optimizer"].unique():
            s = env.loc[opt]
            ax.semilogy(s.index, np.clip(s.to_numpy(), FLOOR, 1e3), lw=1, label=opt)
        ax.axhline(1.0, color="red", lw=1.5, ls="--", label="fails above 1")
        failed = g[g["status"] == "fail"].groupby("case", sort=False).head(1)
        if len(failed):
            y = np.clip(np.where(np.isfinite(_num(failed, "err_over_tol")),
                                 _num(failed, "err_over_tol"), 1e3), 1.0, 1e3)
            ax.plot(_num(failed, "step"), y, "x", color="red", ms=8, mew=2,
                    label=f"first failing step ({len(failed)} runs)")
            for (_, r), yy in zip(failed.iterrows(), y):
                quantity = r["beyond_tolerance"] or r["note"]
                ax.annotate(f"{r['case']}: {str(quantity)[:40]}", (r["step"], yy),
                            fontsize=6, color="red", xytext=(3, 3), textcoords="offset points")
        ax.set(xlabel="optimizer step", ylabel="error / tolerance (parameters, state, loss, lr)",
               title=f"training trajectories, {dtype}: worst run per optimizer"
               + "\n" + _trajectory_rule(dtype))
        ax.title.set_fontsize(9)
        _plain_log(ax, "y")
        ax.legend(fontsize=6, ncol=2, loc="lower right")


# --------------------------------------------------------------------------------------
# the files
# --------------------------------------------------------------------------------------
def _rows(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    parts = [frames[k] for k in ("gradients", "components", "layers") if k in frames]
    if not parts:
        return pd.DataFrame()
    rows = pd.concat(parts, ignore_index=True)
    return rows[rows["oracle"].isin(list(ORACLE_TITLES)) & (rows["status"] != "xfail")]


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    return path


def write_summary(frames: Mapping[str, pd.DataFrame], out: Path,
                  large: bool = False) -> list[Path]:
    """Write ``out/summary.png`` from the report frames this run made (``gradients``,
    ``components``, ``trajectories``); with ``large``, also ``heatmap.png``, ``errors.png``
    and ``trajectories.png``. Returns the paths written."""
    from matplotlib.figure import Figure

    rows = _rows(frames)
    grad = frames.get("gradients")
    has_heat = grad is not None and (grad["kind"] == "network").any()
    has_err = not rows.empty
    traj = frames.get("trajectories")
    has_traj = traj is not None and not traj.empty
    sections = [s for s, on in (("heat", has_heat), ("err", has_err), ("traj", has_traj)) if on]
    if not sections:
        return []
    # a fixed layout (margins in inches): constrained layout would measure every tick
    # label of the figure and take longer than drawing it
    heights = {"heat": 6.6, "err": 4.2, "traj": 3.9}
    total = sum(heights[s] for s in sections) + 0.5  # + the title
    width = 16.0
    fig = Figure(figsize=(width, total))
    fig.suptitle("backprop-compare: how far each comparison is from its tolerance",
                 fontsize=13, y=1 - 0.12 / total)
    top = total - 0.5
    for section in sections:
        h = heights[section]
        below = {"heat": 1.45, "err": 0.55, "traj": 0.55}[section]
        grid = {"left": 0.9 / width if section != "heat" else 1.1 / width,
                "right": 1 - (1.2 if section == "heat" else 0.15) / width,
                "top": (top - 0.45) / total, "bottom": (top - h + below) / total,
                "wspace": 0.25 if section != "heat" else 0.2}
        n = {"heat": 2, "err": 4, "traj": 2}[section]
        axes = fig.add_gridspec(1, n, **grid).subplots()
        if section == "heat":
            cax = fig.add_axes((1 - 0.95 / width, grid["bottom"], 0.18 / width,
                                grid["top"] - grid["bottom"]))
            heatmap(axes, fig, grad, cax=cax)
        elif section == "err":
            errors(axes, rows)
        else:
            trajectories(axes, traj)
        top -= h
    written = [_save(fig, out / "summary.png")]
    if large:
        if has_heat:
            fig = Figure(figsize=(16, 8), layout="constrained")
            fig.suptitle("The worst error / tolerance of every network case, per activation x loss")
            heatmap(fig.subplots(1, 2), fig, grad)
            written.append(_save(fig, out / "heatmap.png"))
        if has_err:
            fig = Figure(figsize=(12, 10), layout="constrained")
            fig.suptitle("Each comparison's worst element against its tolerance line, per oracle")
            errors(fig.subplots(2, 2).ravel(), rows)
            written.append(_save(fig, out / "errors.png"))
        if has_traj:
            fig = Figure(figsize=(14, 5.5), layout="constrained")
            fig.suptitle("Training trajectories against torch.optim: error per step and its bound")
            trajectories(fig.subplots(1, 2), traj)
            written.append(_save(fig, out / "trajectories.png"))
    return written
