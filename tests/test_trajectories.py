"""Every training-trajectory case of the registry: manual optimizers (and schedules) follow
torch.optim step for step, parameters and optimizer state, for at least 200 steps."""

import numpy as np
import pytest

from comparisons.cases.registry import (OPTIMIZER_SETTINGS, REAL_DATA_CASES, TRAINING_PAIRS,
                                        TRAJECTORY_CASES)
from comparisons.core.tolerances import trajectory_tolerance
from comparisons.run.trajectories import (TRAJECTORY_COLUMNS, build_trajectory, run_trajectory,
                                          steps_of, trajectory_failures)
from manual import datasets, optimizers, schedules, train

MIN_STEPS = 200


def _check(case):
    df = run_trajectory(case)
    problems = trajectory_failures(df)
    assert not problems, "\n".join(problems)
    assert list(df.columns) == TRAJECTORY_COLUMNS
    assert len(df) >= MIN_STEPS and df["step"].tolist() == list(range(1, len(df) + 1))
    if case.dtype == "float64":  # the number, stated directly
        rel = np.abs(df["param_manual_value"] - df["param_reference_value"])
        assert (rel <= 1e-9 * np.abs(df["param_reference_value"]) + 1e-12).all()
    return df


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in TRAJECTORY_CASES])
def test_trajectory_matches_torch(case):
    _check(case)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in REAL_DATA_CASES])
def test_trajectory_on_real_data_matches_torch(case):
    pytest.importorskip("sklearn")  # the optional extra "data" (part of "dev")
    _check(case)


def test_matrix_covers_every_optimizer_option_schedule_and_dtype():
    ids = [c.id for c in TRAJECTORY_CASES]
    assert len(ids) == len(set(ids)), "trajectory ids must be unique"
    assert set(OPTIMIZER_SETTINGS) == set(optimizers.names())
    for opt in optimizers.names():
        pairs = {(c.activation, c.loss) for c in TRAJECTORY_CASES
                 if c.optimizer == opt and c.dtype == "float64"}
        assert pairs >= set(TRAINING_PAIRS), f"{opt} lacks an activation/loss pair"
    options = {k for c in TRAJECTORY_CASES for k, v in c.optimizer_kwargs if v is True}
    assert options >= {"nesterov", "centered", "amsgrad", "maximize", "decoupled_weight_decay"}
    weight_decay = {c.optimizer for c in TRAJECTORY_CASES
                    if dict(c.optimizer_kwargs).get("weight_decay", 0) > 0}
    assert weight_decay >= set(optimizers.names()) - {"adamw"}  # adamw decays by default
    assert {c.scheduler for c in TRAJECTORY_CASES} - {None} == set(schedules.names())
    assert any(c.freeze for c in TRAJECTORY_CASES)
    assert any("stress" in c.variant for c in TRAJECTORY_CASES)
    assert {c.dataset for c in TRAJECTORY_CASES} == set(datasets.SYNTHETIC)
    assert {c.dataset for c in REAL_DATA_CASES} == set(datasets.REAL)
    # every case but the documented float64-only chaotic stress run comes in both dtypes
    by_id = {c.id for c in TRAJECTORY_CASES}
    lonely = [i for i in by_id if i.replace("float64", "float32") not in by_id
              or i.replace("float32", "float64") not in by_id]
    assert lonely == ["adam-stress-chaotic-relu-cross_entropy-float64"]


def test_all_cases_run_at_least_200_steps():
    short = [c.id for c in TRAJECTORY_CASES if steps_of(c) < MIN_STEPS]
    assert not short


def test_trajectory_floors_are_fixed_constants():
    """float64: 1e-9 relative at every step; float32: the one-gradient tolerance at every
    step (its growth is measured on each run: tests/test_float32_bound.py)."""
    t = np.array([1, 100, 200])
    tol32 = trajectory_tolerance("float32", t)
    assert np.all(tol32.rtol == 1e-5) and np.all(tol32.atol == 1e-6)
    tol64 = trajectory_tolerance("float64", 200)
    assert (tol64.rtol, tol64.atol) == (1e-9, 1e-12)
    with pytest.raises(ValueError, match="no tolerance for dtype"):
        trajectory_tolerance("float16", 1)


@pytest.mark.parametrize("case_id", ["sgd-frozen-tanh-mse-float64",
                                     "adam-frozen-relu-cross_entropy-float64"])
def test_frozen_parameter_stays_put_and_its_state_waits(case_id):
    """While frozen, a parameter does not move at all (no weight decay, no momentum) and
    its step count does not advance: torch's treatment of p.grad = None."""
    case = next(c for c in TRAJECTORY_CASES if c.id == case_id)
    kw = build_trajectory(case)
    hist = train(kw["net"], kw["X"], kw["y"], kw["optimizer"], kw["epochs"], kw["batch_size"],
                 seed=kw["seed"], freeze=kw["freeze"], record=True)
    def own_state(t):  # the parameter's buffers after update t (none before step 1)
        return {} if t == 0 else {k: v for k, v in hist.state[t - 1].items()
                                  if k.startswith(f"{name}.")}

    for name, first, last in case.freeze:
        before = own_state(first - 1)
        for t in range(first, last + 1):  # hist.params[t - 1] is after update t
            if first > 1:
                assert np.array_equal(hist.params[t - 1][name], hist.params[first - 2][name])
            now = own_state(t)
            assert now.keys() == before.keys()  # frozen from step 1: no state, as in torch
            assert all(np.array_equal(now[k], before[k]) for k in now)
        after = own_state(last + 1)  # the first update after the freeze
        assert after.keys() and (not before or any(not np.array_equal(after[k], v)
                                                   for k, v in before.items()))
        if f"{name}.step" in after:
            assert after[f"{name}.step"] == before.get(f"{name}.step", 0) + 1
        assert not np.array_equal(hist.params[last][name], hist.params[last - 1][name])
    df = run_trajectory(case)
    assert df["frozen"].str.len().gt(0).sum() == sum(b - a + 1 for _, a, b in case.freeze)
    assert df["passed"].all()
