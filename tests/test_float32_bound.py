"""The float32 trajectory bound is measured on each run (comparisons.core.tolerances): it must
hold on any CPU (no false failure), and it must stay tight enough that a 1e-4 relative
slip in any optimizer's state update fails in float32 as in float64 (no false pass)."""

import json
import os
import platform
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from comparisons.cases.registry import OPTIMIZER_SETTINGS, TrajectoryCase
from comparisons.core.tolerances import FLOAT32_SPREAD_FACTOR
from comparisons.run.trajectories import build_trajectory, compare_training

SLIP = 1e-4
#: settings whose optimizer keeps floating state (plain SGD keeps none: momentum instead)
STATEFUL = {name: next(kw for _, kw in settings if name != "sgd" or kw.get("momentum"))
            for name, settings in OPTIMIZER_SETTINGS.items()}


def _slipped(cls):
    """``cls`` whose every floating state buffer comes out of each update 1e-4 too large."""
    class Slipped(cls):
        def _update(self, p, g, state):
            super()._update(p, g, state)
            for key, value in state.items():
                if key != "step" and isinstance(value, np.ndarray) and value.ndim:
                    value *= value.dtype.type(1 + SLIP)
    Slipped.__name__ = f"{cls.__name__}StateSlip"
    return Slipped


def _case(name, dtype):
    return TrajectoryCase(optimizer=name, activation="tanh", loss="mse", dtype=dtype,
                          optimizer_kwargs=tuple(STATEFUL[name].items()), epochs=2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_a_relative_slip_in_the_state_update_fails(name, dtype):
    case = _case(name, dtype)
    kw = build_trajectory(case)
    opt = kw["optimizer"]
    kw["optimizer"] = _slipped(type(opt))(opt.params, **opt.kwargs)
    df = compare_training(**kw, case=case.id)
    assert (df["status"] == "fail").any(), (
        f"{case.id}: a {SLIP:g} relative slip in every state buffer passed; worst "
        f"err_over_tol {df['err_over_tol'].max():.3g}, largest float32 allowance "
        f"{df['float32_allowance'].max():.3g}")
    first = df[df["status"] == "fail"].iloc[0]
    assert "." in first["beyond_tolerance"], first["beyond_tolerance"]  # a buffer is named


@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_the_unslipped_optimizer_passes_with_a_measured_allowance(name):
    """The controls' control, and what the allowance is: zero in float64; in float32
    FLOAT32_SPREAD_FACTOR times torch's own drift from float64, far below the slip."""
    df32 = compare_training(**build_trajectory(_case(name, "float32")), case=name)
    assert (df32["status"] == "pass").all(), df32.loc[df32["status"] != "pass", "note"]
    allowance = df32["float32_allowance"].to_numpy()
    assert np.all(allowance >= 0) and np.all(np.diff(allowance) >= 0)  # a running maximum
    assert allowance[-1] < SLIP * FLOAT32_SPREAD_FACTOR  # the params here are O(1)
    df64 = compare_training(**build_trajectory(_case(name, "float64")), case=name)
    assert (df64["status"] == "pass").all() and (df64["float32_allowance"] == 0).all()


#: the float32 trajectories whose verdict used to depend on the CPU (a tolerance constant),
#: and one of each family of the default report
CPU_SENSITIVE = ["rmsprop-centered-momentum-tanh-mse-float32",
                 "transformer-seq-sgd-momentum-clip-float32",
                 "adam-tanh-mse-float32", "cnn-digits-adam-float32"]
OTHER_CPUS = {"OPENBLAS_CORETYPE": "SandyBridge", "ATEN_CPU_CAPABILITY": "default",
              "OMP_NUM_THREADS": "1"}


def _verdicts(tmp_path, env):
    out = tmp_path / "_".join(env.values() or ["here"])
    cmd = [sys.executable, "-m", "comparisons", "--parts", "trajectories", "--no-plots",
           "--quiet", "--jobs", "1", "--out", str(out), "--only", ",".join(CPU_SENSITIVE)]
    proc = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=600)
    runs = pd.read_csv(out / "trajectory_runs.csv")
    return proc.returncode, dict(zip(runs["case"], runs["status"])), proc.stdout[-2000:]


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                    reason="OPENBLAS_CORETYPE names x86-64 kernels")
def test_float32_verdicts_do_not_depend_on_the_cpu(tmp_path):
    """Another BLAS kernel, torch's plain (non-SIMD) kernels and one thread: the same
    verdicts (all pass) as on this machine's own configuration."""
    rc_here, here, log_here = _verdicts(tmp_path, {})
    rc_other, other, log_other = _verdicts(tmp_path, OTHER_CPUS)
    assert rc_here == 0, log_here
    assert rc_other == 0, f"{json.dumps(OTHER_CPUS)}:\n{log_other}"
    assert here == other == {c: "pass" for c in CPU_SENSITIVE} | {
        "cnn-digits-adam-float32-eval": "pass",
        "transformer-seq-sgd-momentum-clip-float32-eval": "pass"}


# ---- one gradient: float32 against torch, measured the same way ------------------------
def _conv(cls):
    from manual.layers import Conv2d

    assert issubclass(cls, Conv2d)
    return cls(3, 4, 3, padding=1, dtype=np.float32, rng=0)


def test_a_float32_layer_is_judged_by_torchs_own_float32_rounding():
    """compare_layer in float32: each torch row's atol is the floor plus 4 x the distance of
    torch's float32 result from its float64 one on the same inputs (no constant tuned on
    a machine), and that allowance stays far below a 1e-4 slip."""
    from comparisons.run.layers import compare_layer
    from manual.layers import Conv2d

    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    rows = compare_layer(_conv(Conv2d), x, oracles=("torch",), case="conv-float32")
    assert all(r["status"] == "pass" for r in rows)
    weight = next(r for r in rows if r["parameter"] == "weight")
    assert 1e-6 < weight["atol"] < SLIP * abs(weight["reference_value"]) + 1e-6


def test_a_small_slip_in_a_float32_layer_gradient_still_fails():
    from comparisons.run.layers import compare_layer
    from manual.layers import Conv2d

    class WeightGradSlipped(Conv2d):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grads["weight"] = self.grads["weight"] * np.float32(1 + SLIP)
            return dx

    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    rows = compare_layer(_conv(WeightGradSlipped), x, oracles=("torch",), case="slip-float32")
    assert {r["parameter"] for r in rows if r["status"] == "fail"} == {"weight"}


def test_a_float32_student_pair_is_judged_by_torchs_own_rounding():
    """check_layer on a student's float32 affine pair with long sums (512 terms per
    element): the torch rows' atol includes torch's own float32 rounding, so the correct
    pair passes, and the same pair with dW 1e-4 too large fails on dW alone."""
    from comparisons import check_layer
    from manual.layers import affine_backward, affine_forward

    def slipped(dz, cache):
        dx, dW, db = affine_backward(dz, cache)
        return dx, dW * np.float32(1 + SLIP), db

    rng = np.random.default_rng(0)
    x, W, b = (rng.standard_normal(s).astype(np.float32) for s in ((512, 64), (64, 32), (32,)))
    ref = lambda x, W, b: x @ W + b  # noqa: E731
    rows = check_layer(affine_forward, affine_backward, (x, W, b), ref, oracles=("torch",))
    assert all(r["status"] == "pass" for r in rows), [r for r in rows if r["status"] != "pass"]
    assert max(r["atol"] for r in rows) > 1e-6  # measured, not the bare floor
    bad = check_layer(affine_forward, slipped, (x, W, b), ref, oracles=("torch",))
    assert {r["parameter"] for r in bad if r["status"] == "fail"} == {"W"}


def test_a_float32_network_checked_by_check_gradients_is_judged_by_torchs_rounding():
    """A student's float32 two-layer net (sums over 512 examples): the torch rows pass with
    a measured atol; dW1 1e-4 too large fails on W1 alone (finite differences and Taylor
    are skipped in float32)."""
    import torch

    from comparisons import check_gradients

    rng = np.random.default_rng(1)
    X = rng.standard_normal((512, 20)).astype(np.float32)
    y = rng.standard_normal((512, 1)).astype(np.float32)
    params = {"W1": (rng.standard_normal((20, 16)) / 4).astype(np.float32),
              "W2": (rng.standard_normal((16, 1)) / 4).astype(np.float32)}

    def loss_and_grads(slip=1.0):
        h = np.tanh(X @ params["W1"])
        r = h @ params["W2"] - y
        d = 2 * r / len(X)
        dh = (d @ params["W2"].T) * (1 - h * h)
        return float(np.mean(r * r)), {"W1": X.T @ dh * np.float32(slip), "W2": h.T @ d}

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def reference(p):  # dtype-generic, so that it can run in float64 too (the measurement)
        x, t = Xt.to(p["W1"].dtype), yt.to(p["W1"].dtype)
        return ((torch.tanh(x @ p["W1"]) @ p["W2"] - t) ** 2).mean()

    rows = check_gradients(loss_and_grads, params, reference)
    torch_rows = [r for r in rows if r["oracle"] == "torch"]
    assert all(r["status"] == "pass" for r in torch_rows), torch_rows
    assert max(r["atol"] for r in torch_rows) > 1e-6
    bad = check_gradients(lambda: loss_and_grads(1 + SLIP), params, reference)
    assert {r["parameter"] for r in bad if r["status"] == "fail"} == {"W1"}
