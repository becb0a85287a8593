r"""Training trajectories: a manual optimizer against ``torch.optim``, step by step.

:func:`compare_training` trains a manual network and its torch twin from the same
parameters, on the same batches (drawn once by :func:`manual.training.batch_order` and
replayed by :func:`reference.training.train` via :func:`comparisons.twins.state.train_twin`),
with a manual optimizer (and schedule)
against torch's own, and compares after **every** update:

- the mini-batch loss (at the parameters before the update) and the learning rate used;
- every element of every parameter;
- every optimizer-state buffer (``step``, ``exp_avg``, ``momentum_buffer`` ...), and that
  both sides hold the same buffers (a frozen parameter's state must be missing on both).

Each step passes when every compared element meets
:func:`comparisons.core.tolerances.trajectory_tolerance` (fixed for float64, growing with the
step for float32). The result is one row per step (:data:`TRAJECTORY_COLUMNS`), as written
to ``trajectories.csv``; :func:`trajectory_failures` turns a failing case into one line
naming the first failing step and the parameter or buffer.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from comparisons.cases.registry import TrajectoryCase
from comparisons.core.compare import _e
from comparisons.core.device import torch_device
from comparisons.core.tolerances import FLOAT32_SPREAD_FACTOR, Tolerance, trajectory_tolerance
from comparisons.run.bridge import MLPTwin
from comparisons.twins.state import (float64_data, float64_shadow, optimizer_from_manual,
                                     schedule_from_manual, train_twin)
from manual import MLP, datasets, losses, optimizers, schedules
from manual.training import History, batch_order, train

__all__ = ["TRAJECTORY_COLUMNS", "build_trajectory", "compare_histories", "compare_training",
           "float32_spread",
           "run_trajectories", "run_trajectory", "steps_of", "trajectory_data",
           "trajectory_failures", "trajectory_runs", "trajectory_summary", "with_verdicts"]

TRAJECTORY_COLUMNS = [
    "case", "optimizer", "optimizer_kwargs", "scheduler", "activation", "output_activation",
    "loss", "dataset", "sizes", "dtype", "step", "epoch", "frozen",
    "lr_manual", "lr_reference", "loss_manual", "loss_reference", "loss_diff",
    "param_err_over_tol", "worst_param", "worst_index", "param_manual_value",
    "param_reference_value", "param_worst_abs_err", "param_worst_rel_err",
    "param_max_abs_err", "param_max_rel_err",
    "state_err_over_tol", "worst_state", "state_max_abs_err", "state_max_rel_err",
    "loss_err_over_tol", "rtol", "atol", "float32_allowance", "err_over_tol", "status",
    "beyond_tolerance", "passed", "note"]


# --------------------------------------------------------------------------------------
# elementwise errors over all steps at once
# --------------------------------------------------------------------------------------
def _errors(m: np.ndarray, r: np.ndarray, tol: Tolerance) -> dict[str, np.ndarray]:
    """Per-row (step) errors of (steps, n) arrays: max abs, max rel (over the non-zero
    references; NaN if none), the worst element by tolerance excess (> 1 fails), its index
    and its own abs and rel errors (rel NaN where the reference is 0)."""
    m = m.astype(np.float64, copy=False)
    r = r.astype(np.float64, copy=False)
    steps = m.shape[0]
    if m.shape[1] == 0:
        zero, nan = np.zeros(steps), np.full(steps, np.nan)
        return {"abs": zero, "rel": nan, "excess": zero, "arg": np.zeros(steps, dtype=int),
                "worst_abs": nan, "worst_rel": nan}
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        d = np.abs(m - r)
        d = np.where(np.isnan(d), np.inf, d)  # a NaN on one side is an infinite error
        rel = np.where(r == 0, np.nan, np.where(d == 0, 0.0, d / np.abs(r)))
        rel = np.where(np.isnan(rel) & (r != 0), np.inf, rel)  # inf/inf, x/NaN
        atol = np.asarray(tol.atol).reshape(-1, 1)  # per step (rows)
        allowed = atol + np.asarray(tol.rtol).reshape(-1, 1) * np.abs(r)
        excess = np.where(d == 0, 0.0, d / allowed)
    arg = np.argmax(excess, axis=1)
    rows = np.arange(steps)
    return {"abs": d.max(axis=1), "rel": np.fmax.reduce(rel, axis=1),  # fmax skips NaN
            "excess": excess[rows, arg], "arg": arg, "worst_abs": d[rows, arg],
            "worst_rel": rel[rows, arg]}


def _index(shape: tuple[int, ...], flat: int) -> str:
    return str(tuple(int(i) for i in np.unravel_index(flat, shape))) if shape else "()"


def float32_spread(ref: History, exact: History) -> dict[str, np.ndarray]:
    r"""How far torch's float32 run ``ref`` has drifted from ``exact``, the same training
    run by torch in float64 from the same (float32) start on the same batches: for each
    quantity (every parameter, every optimizer-state buffer ``W1.exp_avg``, and ``"loss"``)
    a (steps,) array :math:`S_q(t) = \max_{s \le t} \lVert q_s^{32} - q_s^{64}\rVert_\infty`
    (steps where a buffer is missing on either side add nothing). The float32 comparison
    allows :data:`comparisons.core.tolerances.FLOAT32_SPREAD_FACTOR` times this on top of its
    floor (the tolerance policy in :mod:`comparisons.core.tolerances`)."""
    if exact.steps != ref.steps:
        raise ValueError(f"the runs have {ref.steps} and {exact.steps} steps")

    def running_max(d: np.ndarray) -> np.ndarray:
        # a NaN or inf on either side is no information about rounding: it adds nothing
        return np.maximum.accumulate(np.where(np.isfinite(d), d, 0.0))

    out = {"loss": running_max(np.abs(ref.loss - exact.loss))}
    for name in ref.params[0] if ref.params else ():
        out[name] = running_max(np.array([
            np.max(np.abs(a[name].astype(np.float64) - b[name]), initial=0.0)
            for a, b in zip(ref.params, exact.params)]))
    for key in sorted({k for st in ref.state for k in st}):
        out[key] = running_max(np.array([
            np.max(np.abs(np.asarray(a[key], np.float64) - np.asarray(b[key], np.float64)),
                   initial=0.0) if key in a and key in b else 0.0
            for a, b in zip(ref.state, exact.state)]))
    return out


def compare_histories(manual: History, ref: History, dtype: Any,
                      info: Mapping[str, Any] | None = None,
                      frozen: Mapping[str, Collection[int]] | None = None,
                      spread: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Compare two recorded runs (``train(..., record=True)``) step by step; one row per
    step with the columns :data:`TRAJECTORY_COLUMNS`.

    ``spread`` (float32 runs: :func:`float32_spread` of the torch run against its float64
    shadow) adds ``FLOAT32_SPREAD_FACTOR * spread[q]`` to the tolerance's ``atol`` for each
    quantity ``q``; the largest such allowance of a step is its ``float32_allowance``."""
    steps = manual.steps
    if ref.steps != steps:
        raise ValueError(f"the runs have {steps} and {ref.steps} steps")
    t = np.arange(1, steps + 1)
    tol = trajectory_tolerance(dtype, t)
    rtol = np.broadcast_to(np.asarray(tol.rtol, dtype=np.float64), (steps,))
    atol = np.broadcast_to(np.asarray(tol.atol, dtype=np.float64), (steps,))
    tol = Tolerance(rtol, atol)
    beyond: list[list[str]] = [[] for _ in range(steps)]
    allowance = np.zeros(steps)

    def tol_of(q: str, rows: np.ndarray | slice = slice(None)) -> Tolerance:
        """The tolerance of quantity ``q`` at ``rows``: the floor, plus the measured
        float32 allowance."""
        if not spread or q not in spread:
            return Tolerance(rtol[rows], atol[rows])
        extra = FLOAT32_SPREAD_FACTOR * np.asarray(spread[q], dtype=np.float64)
        allowance[rows] = np.maximum(allowance[rows], extra[rows])
        return Tolerance(rtol[rows], atol[rows] + extra[rows])

    def flag(name: str, excess: np.ndarray) -> None:
        for i in np.flatnonzero(~(excess <= 1)):
            beyond[i].append(name)

    # loss and learning rate
    loss_err = _errors(manual.loss[:, None], ref.loss[:, None], tol_of("loss"))
    flag("loss", loss_err["excess"])
    flag("lr", _errors(manual.lr[:, None], ref.lr[:, None], tol)["excess"])

    # parameters: the worst element over all of them, by tolerance excess
    names = list(manual.params[0])
    p_abs = np.zeros(steps)
    p_rel = np.full(steps, np.nan)
    best = np.full(steps, -1.0)
    w_abs = np.full(steps, np.nan)
    w_rel = np.full(steps, np.nan)
    worst_param = np.array([""] * steps, dtype=object)
    worst_index = np.array([""] * steps, dtype=object)
    m_val = np.full(steps, np.nan)
    r_val = np.full(steps, np.nan)
    for name in names:
        shape = manual.params[0][name].shape
        M = np.stack([p[name].reshape(-1) for p in manual.params])  # (steps, size)
        R = np.stack([p[name].reshape(-1) for p in ref.params])
        err = _errors(M, R, tol_of(name))
        flag(name, err["excess"])
        p_abs = np.maximum(p_abs, err["abs"])
        p_rel = np.fmax(p_rel, err["rel"])
        better = err["excess"] > best
        best = np.where(better, err["excess"], best)
        rows = np.flatnonzero(better)
        worst_param[rows] = name
        worst_index[rows] = [_index(shape, err["arg"][i]) for i in rows]
        m_val[rows] = M[rows, err["arg"][rows]]
        r_val[rows] = R[rows, err["arg"][rows]]
        w_abs[rows] = err["worst_abs"][rows]
        w_rel[rows] = err["worst_rel"][rows]

    # optimizer state: the same buffers on both sides, and their values
    s_abs = np.zeros(steps)
    s_rel = np.full(steps, np.nan)
    s_best = np.full(steps, -1.0)
    worst_state = np.array([""] * steps, dtype=object)
    keys = sorted({k for st in manual.state + ref.state for k in st})
    for key in keys:
        in_m = np.array([key in st for st in manual.state])
        in_r = np.array([key in st for st in ref.state])
        for i in np.flatnonzero(in_m != in_r):
            side = "reference" if in_m[i] else "manual"
            beyond[i].append(f"{key} (missing on the {side} side)")
        both = np.flatnonzero(in_m & in_r)
        if not both.size:
            continue
        M = np.stack([np.asarray(manual.state[i][key], dtype=np.float64).reshape(-1)
                      for i in both])
        R = np.stack([np.asarray(ref.state[i][key], dtype=np.float64).reshape(-1) for i in both])
        err = _errors(M, R, tol_of(key, both))
        for j in np.flatnonzero(~(err["excess"] <= 1)):
            beyond[both[j]].append(key)
        s_abs[both] = np.maximum(s_abs[both], err["abs"])
        s_rel[both] = np.fmax(s_rel[both], err["rel"])
        better = err["excess"] > s_best[both]
        s_best[both[better]] = err["excess"][better]
        worst_state[both[better]] = key

    frozen_now = [";".join(k for k, s in (frozen or {}).items() if step in s) for step in t]
    info = dict(info or {})
    df = pd.DataFrame({
        **{k: [v] * steps for k, v in info.items() if k in TRAJECTORY_COLUMNS},
        "dtype": np.dtype(dtype).name, "step": t, "epoch": manual.epoch, "frozen": frozen_now,
        "lr_manual": manual.lr, "lr_reference": ref.lr,
        "loss_manual": manual.loss, "loss_reference": ref.loss,
        "loss_diff": manual.loss - ref.loss,
        "param_err_over_tol": np.maximum(best, 0.0), "worst_param": worst_param,
        "worst_index": worst_index, "param_manual_value": m_val, "param_reference_value": r_val,
        "param_worst_abs_err": w_abs, "param_worst_rel_err": w_rel,
        "param_max_abs_err": p_abs, "param_max_rel_err": p_rel,
        "state_err_over_tol": np.maximum(s_best, 0.0), "worst_state": worst_state,
        "state_max_abs_err": s_abs, "state_max_rel_err": s_rel,
        "loss_err_over_tol": loss_err["excess"], "rtol": rtol, "atol": atol,
        "float32_allowance": allowance, "beyond_tolerance": [";".join(b) for b in beyond],
        "passed": [not b for b in beyond], "note": "",
    })
    return with_verdicts(df.reindex(columns=TRAJECTORY_COLUMNS))


# --------------------------------------------------------------------------------------
# a whole comparison: both trainings, then the step-by-step rows
# --------------------------------------------------------------------------------------
def _failed_run(info: Mapping[str, Any], dtype: Any, note: str) -> pd.DataFrame:
    row = {**{k: v for k, v in info.items() if k in TRAJECTORY_COLUMNS},
           "dtype": np.dtype(dtype).name, "passed": False, "note": note}
    return with_verdicts(pd.DataFrame([row]).reindex(columns=TRAJECTORY_COLUMNS))


def compare_training(net: Any, X: np.ndarray, y: np.ndarray, optimizer: Any, epochs: int,
                     batch_size: int, *, shuffle: bool = True, seed: int = 0,
                     scheduler: Any = None, schedule_every: str = "step",
                     freeze: Mapping[str, Iterable[int]] | None = None, case: str = "custom",
                     info: Mapping[str, Any] | None = None, device: str = "cpu") -> pd.DataFrame:
    """Train ``net`` with ``optimizer`` (and ``scheduler``) and its torch twin with torch's
    counterparts on the same batches; compare after every step.

    ``net`` is a :class:`manual.MLP` (or any object
    :meth:`comparisons.run.bridge.MLPTwin.from_manual` accepts); ``optimizer`` a freshly
    built optimizer on ``net.params`` whose ``name`` names the torch counterpart and whose
    ``kwargs`` are torch's keyword arguments (a
    :mod:`manual.optimizers` optimizer, or your own subclass of one); ``scheduler`` a
    fresh :mod:`manual.schedules` schedule on it. Training changes ``net.params``. The torch
    side runs on ``device`` (``"cpu"`` or ``"cuda"``).

    Returns one row per step (:data:`TRAJECTORY_COLUMNS`). If either side stops (a
    non-finite loss or parameter), a single failing row says where, in ``note``.
    """
    dtype = np.dtype(net.params["W1"].dtype)
    if any(np.any(np.asarray(v.get("step", 0)) != 0) for v in optimizer.state.values()):
        raise ValueError("compare_training needs a fresh optimizer (this one has taken steps)")
    info = {"case": case, "optimizer": getattr(optimizer, "name", type(optimizer).__name__),
            "optimizer_kwargs": _kwargs_text(_non_default(optimizer)),
            "scheduler": "" if scheduler is None else _schedule_text(scheduler),
            "activation": getattr(net.activation, "name", ""),
            "output_activation": getattr(net.output_activation, "name", ""),
            "loss": getattr(net.loss_fn, "name", ""),
            "sizes": "-".join(map(str, getattr(net, "sizes", []))), **(info or {})}
    # the torch side is built before training starts, from the same starting point
    tnet = MLPTwin.from_manual(net, torch_device(device))
    topt = optimizer_from_manual(optimizer, tnet)
    tsched = None if scheduler is None else schedule_from_manual(scheduler, topt)
    # float32: torch also trains in float64 from the same start, to measure its own drift
    shadow = float64_shadow(tnet) if dtype == np.float32 else None
    sopt = None if shadow is None else optimizer_from_manual(optimizer, shadow)
    ssched = None if scheduler is None or sopt is None else schedule_from_manual(scheduler, sopt)
    try:
        hist_m = train(net, X, y, optimizer, epochs, batch_size, shuffle, seed, scheduler,
                       schedule_every=schedule_every, freeze=freeze, record=True)
    except ValueError as err:
        return _failed_run(info, dtype, f"manual side stopped: {err}")
    try:
        hist_r = train_twin(tnet, X, y, topt, hist_m.order, tsched,
                            schedule_every=schedule_every, freeze=freeze, record=True)
    except ValueError as err:
        return _failed_run(info, dtype, f"reference side stopped: {err}")
    spread = None
    if shadow is not None:
        assert sopt is not None  # built whenever the shadow is
        try:
            exact = train_twin(shadow, float64_data(X), float64_data(y), sopt,
                               hist_m.order, ssched, schedule_every=schedule_every,
                               freeze=freeze, record=True)
            spread = float32_spread(hist_r, exact)
        except ValueError:  # the float64 run stopped: no allowance, the floor alone
            spread = None
    frozen = {k: set(v) for k, v in (freeze or {}).items()}
    return compare_histories(hist_m, hist_r, dtype, info, frozen, spread)


def _non_default(optimizer: Any) -> dict[str, Any]:
    """The constructor arguments that differ from torch's defaults (all, if unknown)."""
    defaults = getattr(optimizer, "defaults", {})
    return {k: v for k, v in getattr(optimizer, "kwargs", {}).items()
            if k not in defaults or defaults[k] != v}


def _kwargs_text(kwargs: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in kwargs.items())


def _schedule_text(schedule: Any) -> str:
    args = {k: v for k, v in schedule.kwargs.items() if v is not None and k != "last_epoch"}
    return f"{schedule.name}({_kwargs_text(args)})"


# --------------------------------------------------------------------------------------
# registry cases
# --------------------------------------------------------------------------------------
def trajectory_data(case: TrajectoryCase) -> tuple[np.ndarray, np.ndarray, int]:
    """``(X, y, n_outputs)`` for ``case``: its data set, with targets in the form its loss
    takes (class labels for cross-entropy, one-hot rows for MSE or BCE on classes, a
    column of values for regression)."""
    data = datasets.load(case.dataset, n=case.n_samples, seed=case.seed)
    kind = losses.get(case.loss).target_kind
    X = data.X.astype(case.np_dtype)
    if not data.is_classification:
        if kind != "real":
            raise ValueError(f"{case.id}: {case.loss} needs classes; {case.dataset} is a "
                             f"regression data set")
        return X, data.target.reshape(-1, 1).astype(case.np_dtype), 1
    if kind == "class_index":
        return X, data.target, data.n_classes
    return X, data.one_hot(case.np_dtype), data.n_classes


def build_trajectory(case: TrajectoryCase) -> dict[str, Any]:
    """The network, data, optimizer and schedule of ``case``, ready for
    :func:`compare_training` (as keyword arguments)."""
    X, y, n_out = trajectory_data(case)
    sizes = [X.shape[1], *case.hidden, n_out]
    net = MLP(sizes, case.activation, case.output_activation, case.loss, seed=case.seed,
              dtype=case.np_dtype)
    opt = optimizers.get(case.optimizer, net.params, **dict(case.optimizer_kwargs))
    sched = (None if case.scheduler is None else
             schedules.get(case.scheduler, opt, **dict(case.scheduler_kwargs)))
    freeze = {name: range(first, last + 1) for name, first, last in case.freeze}
    return {"net": net, "X": X, "y": y, "optimizer": opt, "epochs": case.epochs,
            "batch_size": case.batch_size, "seed": case.seed, "scheduler": sched,
            "schedule_every": case.schedule_every, "freeze": freeze or None}


def run_trajectory(case: TrajectoryCase, device: str = "cpu") -> pd.DataFrame:
    """Build ``case`` from its seed and compare its training run with torch's (on
    ``device``)."""
    kw = build_trajectory(case)
    return compare_training(**kw, case=case.id, info={"dataset": case.dataset}, device=device)


def with_verdicts(df: pd.DataFrame) -> pd.DataFrame:
    """Fill ``err_over_tol`` and ``status`` (``pass``/``fail``, as every report) of step rows.

    ``err_over_tol`` is the step's deciding ratio: the largest of the worst parameter
    element's, the worst state element's, the loss's and the learning rate's error over
    their tolerance ``atol + rtol * |reference|``. A step can fail with every ratio <= 1
    (a buffer missing on one side, a run that stopped): its ratio is then ``inf``.
    """
    def ratio(m: str, r: str) -> np.ndarray:
        manual = pd.to_numeric(df[m], errors="coerce").to_numpy(np.float64)
        ref = pd.to_numeric(df[r], errors="coerce").to_numpy(np.float64)
        allowed = (pd.to_numeric(df["atol"], errors="coerce").to_numpy(np.float64)
                   + pd.to_numeric(df["rtol"], errors="coerce").to_numpy(np.float64)
                   * np.abs(ref))
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.abs(manual - ref)
            return np.where(d == 0, 0.0, d / allowed)

    parts = [pd.to_numeric(df[c], errors="coerce").to_numpy(np.float64)
             for c in ("param_err_over_tol", "state_err_over_tol")]
    loss = pd.to_numeric(df["loss_err_over_tol"], errors="coerce").to_numpy(np.float64)
    # the loss's ratio as compare_histories measured it (its own float32 allowance); else
    # from the step's floor tolerance
    loss = np.where(np.isnan(loss), ratio("loss_manual", "loss_reference"), loss)
    parts += [loss, ratio("lr_manual", "lr_reference")]
    worst = np.fmax.reduce(np.stack(parts), axis=0) if len(df) else np.zeros(0)
    passed = df["passed"].astype(bool).to_numpy()
    out = df.copy()
    out["err_over_tol"] = np.where(passed, worst, np.where(worst > 1, worst, np.inf))
    out["status"] = np.where(passed, "pass", "fail")
    return out


def run_trajectories(cases: Iterable[TrajectoryCase]) -> pd.DataFrame:
    """All rows of ``cases``, one per case x step."""
    frames = [run_trajectory(c) for c in cases]
    if not frames:
        return pd.DataFrame(columns=TRAJECTORY_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def trajectory_failures(df: pd.DataFrame) -> list[str]:
    """One line per failing case: how many steps fail, and at the first one what is beyond
    tolerance (parameters, buffers ``W1.exp_avg``, ``loss``, ``lr``), the worst parameter
    element with both values, and the errors."""
    out = []
    for case, rows in df.groupby("case", sort=False):
        bad = rows[~rows["passed"].astype(bool)]
        if bad.empty:
            continue
        first = bad.iloc[0]
        if first["note"]:
            out.append(f"{case}: {first['note']}")
            continue
        out.append(
            f"{case}: {len(bad)} of {len(rows)} steps beyond tolerance; first at step "
            f"{int(first['step'])} (epoch {int(first['epoch'])}): {first['beyond_tolerance']}; "
            f"worst parameter element {first['worst_param']}{first['worst_index']} (error "
            f"{first['param_err_over_tol']:.3g} x its tolerance): manual "
            f"{float(first['param_manual_value'])!r} vs reference "
            f"{float(first['param_reference_value'])!r}, abs err "
            f"{_e(first['param_worst_abs_err'])}, rel err {_e(first['param_worst_rel_err'])}; "
            f"over all parameters max abs err {_e(first['param_max_abs_err'])}, max rel err "
            f"{_e(first['param_max_rel_err'])}; worst state {first['worst_state'] or '-'} "
            f"(error {first['state_err_over_tol']:.3g} x its tolerance, max abs err "
            f"{_e(first['state_max_abs_err'])}); loss {float(first['loss_manual'])!r} vs "
            f"{float(first['loss_reference'])!r} (tolerance: atol {first['atol']:g} + rtol "
            f"{first['rtol']:g} * |reference|)")
    return out


#: trajectory_runs.csv: one row per training run
RUN_COLUMNS = ["case", "optimizer", "optimizer_kwargs", "scheduler", "activation", "loss",
               "dataset", "sizes", "dtype", "steps", "status", "err_over_tol", "worst_step",
               "worst_quantity", "failed_steps", "first_failed_step", "first_beyond_tolerance",
               "param_err_over_tol", "state_err_over_tol", "param_max_abs_err_step_1",
               "param_max_abs_err_last", "param_max_abs_err", "param_max_rel_err", "note"]


def trajectory_runs(df: pd.DataFrame) -> pd.DataFrame:
    """One row per run of the step rows ``df`` (``trajectory_runs.csv``): its verdict
    (``fail`` if any step fails), the deciding error/tolerance over all steps with the step
    and the quantity it comes from, the first failing step and what was beyond tolerance
    there, and how the parameters' absolute error grew from the first step to the last."""
    rows = []
    for _, g in df.groupby("case", sort=False):
        ratio = g["err_over_tol"].astype(float)
        worst = g.loc[ratio.fillna(np.inf).idxmax()] if len(g) else None
        assert worst is not None  # a groupby group is never empty
        bad = g[g["status"] == "fail"]
        first = bad.iloc[0] if len(bad) else None
        param_wins = worst["param_err_over_tol"] >= worst["state_err_over_tol"]
        quantity = (worst["beyond_tolerance"] or
                    (worst["worst_param"] if param_wins else worst["worst_state"]))
        steps = pd.to_numeric(g["step"], errors="coerce")
        notes = [n for n in g["note"].fillna("").unique() if n]
        rows.append({
            **{c: g[c].iloc[0] for c in ("case", "optimizer", "optimizer_kwargs", "scheduler",
                                          "activation", "loss", "dataset", "sizes", "dtype")},
            "steps": int(steps.max()) if steps.notna().any() else 0,
            "status": "fail" if len(bad) else "pass",
            "err_over_tol": worst["err_over_tol"], "worst_step": worst["step"],
            "worst_quantity": quantity, "failed_steps": len(bad),
            "first_failed_step": first["step"] if first is not None else np.nan,
            "first_beyond_tolerance": first["beyond_tolerance"] if first is not None else "",
            "param_err_over_tol": g["param_err_over_tol"].max(),
            "state_err_over_tol": g["state_err_over_tol"].max(),
            "param_max_abs_err_step_1": g["param_max_abs_err"].iloc[0],
            "param_max_abs_err_last": g["param_max_abs_err"].iloc[-1],
            "param_max_abs_err": g["param_max_abs_err"].max(),
            "param_max_rel_err": g["param_max_rel_err"].max(), "note": "; ".join(notes)})
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def steps_of(case: TrajectoryCase) -> int:
    """The number of optimizer steps ``case`` runs."""
    X, _, _ = trajectory_data(case)
    return sum(len(b) for b in batch_order(len(X), case.batch_size, case.epochs, True, 0))


def trajectory_summary(df: pd.DataFrame, at: Iterable[int] = (1, 50, 100, 200)) -> pd.DataFrame:
    """The worst case per optimizer and dtype: the largest error/tolerance ratio of any
    step (the figure that decides: parameters, state, loss and lr) and its case, the
    largest elementwise relative and absolute parameter error at any step (and the case
    where it occurs), and how the absolute error grows, as the largest error reached by
    step ``t`` for each ``t`` in ``at`` and by the last step."""
    df = df[df["note"].fillna("") == ""]
    rows = []
    for (opt, dtype), g in df.groupby(["optimizer", "dtype"], sort=False):
        worst = g.loc[g["param_max_rel_err"].fillna(-1.0).idxmax()]
        deciding = g.loc[g["err_over_tol"].fillna(-1.0).idxmax()]
        row = {"optimizer": opt, "dtype": dtype, "cases": g["case"].nunique(),
               "err_over_tol": deciding["err_over_tol"],
               "err_over_tol_case": deciding["case"],
               "max_rel_err": worst["param_max_rel_err"], "worst_case": worst["case"],
               "worst_step": int(worst["step"]), "max_abs_err": g["param_max_abs_err"].max()}
        for t in at:
            row[f"abs_err_step_{t}"] = g.loc[g["step"] <= t, "param_max_abs_err"].max()
        row["abs_err_last"] = row["max_abs_err"]
        rows.append(row)
    return pd.DataFrame(rows)
