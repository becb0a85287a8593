"""Whole models trained step by step against torch (comparisons.run.model_trajectories): the
registered cases, the dropout masks taken from torch, the running buffers compared every
step, and negative controls that must fail naming the buffer or parameter."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from comparisons.run.model_trajectories import (MODEL_BUILDERS, MODEL_TRAJECTORY_CASES,
                                                compare_model_training, run_model_trajectory,
                                                torch_dropout_mask)
from comparisons.run.trajectories import trajectory_failures
from manual import layers, optimizers

pytest.importorskip("sklearn")


def _params(cases):
    return [pytest.param(c, id=c.id, marks=[pytest.mark.exhaustive] if c.exhaustive else [])
            for c in cases]


@pytest.mark.parametrize("case", _params(MODEL_TRAJECTORY_CASES))
def test_model_trajectory_matches_torch(case):
    df = run_model_trajectory(case)
    assert not trajectory_failures(df), "\n".join(trajectory_failures(df))
    steps = df[df["case"] == case.id]
    assert len(steps) >= 100 and steps["note"].fillna("").eq("").all()
    evals = df[df["case"] == f"{case.id}-eval"]
    assert len(evals) == 1 and evals["worst_param"].iloc[0] == "eval-output"
    # the running statistics are compared as state every step, in every model that has
    # them: test_every_models_running_var_is_compared_from_step_one shows it


#: the registered models with running statistics (batch norm), by name (listed, so that
#: collecting the tests builds no model; the next test keeps the list complete)
MODELS_WITH_STATS = ["bn-mlp-digits", "cnn-digits", "conv3d-digits"]


def test_models_with_stats_lists_every_model_with_a_running_var():
    assert MODELS_WITH_STATS == sorted(
        m for m in {c.model for c in MODEL_TRAJECTORY_CASES}
        if any("running_var" in layer.buffers
               for layer in MODEL_BUILDERS[m](np.dtype("float64"), 0).net.layers))


@pytest.mark.parametrize("model", MODELS_WITH_STATS)
def test_every_models_running_var_is_compared_from_step_one(model):
    """The negative control of each model's buffers: its batch norms' running variance off
    by a relative 1e-6 after every update (the outputs and gradients right) fails at step 1
    on a ``running_var``."""
    problem = MODEL_BUILDERS[model](np.dtype("float64"), 0)
    for layer in problem.net.layers:
        if "running_var" in layer.buffers:
            def slipped(cache, m, layer=layer, update=layer._update_running_stats):
                update(cache, m)
                layer.buffers["running_var"] *= 1 + 1e-6
            layer._update_running_stats = slipped
    opt = optimizers.get("adam", problem.net.params, lr=0.01)
    df = compare_model_training(problem.net, problem.X[:64], problem.y[:64], opt, 1, 32,
                                case="control")
    first = df[~df["passed"].astype(bool)].iloc[0]
    assert int(first["step"]) == 1 and "running_var" in first["beyond_tolerance"], first


def test_torch_dropout_mask_is_the_mask_nn_dropout_draws():
    for dtype, p in ((np.float64, 0.3), (np.float32, 0.5), (np.float64, 1.0)):
        mask = torch_dropout_mask((5, 7), dtype, p, torch_seed=123)
        x = torch.randn(5, 7, dtype=torch.float64 if dtype == np.float64 else torch.float32)
        torch.manual_seed(123)
        out = torch.nn.Dropout(p)(x)
        assert np.array_equal(out.numpy() != 0, mask)


def _small_problem(dtype=np.float64):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((48, 6)).astype(dtype)
    y = rng.integers(0, 3, size=48)
    return X, y


def _bn_net(bn_cls=layers.BatchNorm1d, dropout=0.0, dtype=np.float64):
    net = layers.Sequential(layers.Linear(6, 8, bias=False, dtype=dtype, rng=0),
                            bn_cls(8, dtype=dtype), layers.Tanh(),
                            *([layers.Dropout(dropout)] if dropout else []),
                            layers.Linear(8, 3, dtype=dtype, rng=1), loss="cross_entropy")
    return net


def _run(net, epochs=2):
    X, y = _small_problem(net.dtype)
    opt = optimizers.get("sgd", net.params, lr=0.1, momentum=0.9)
    return compare_model_training(net, X, y, opt, epochs, 12, X_eval=X[:10], y_eval=y[:10],
                                  case="control")


def test_dropout_runs_match_only_with_torchs_masks():
    assert not trajectory_failures(_run(_bn_net(dropout=0.4)))


class BiasedRunningVar(layers.BatchNorm1d):
    """The slip: the biased batch variance (the one used to normalise) written into
    running_var, where torch keeps the unbiased one."""

    def _update_running_stats(self, cache, m):
        super()._update_running_stats(cache, m)
        rv = self.buffers["running_var"]
        f = self.momentum
        unbiased = cache.var.reshape(-1) * (m / (m - 1))
        rv -= f * unbiased
        rv += f * cache.var.reshape(-1)


def test_negative_control_running_var_biased_fails_at_step_one():
    df = _run(_bn_net(BiasedRunningVar))
    lines = trajectory_failures(df)
    assert lines and lines[0].startswith("control:"), lines
    first = df[~df["passed"].astype(bool)].iloc[0]
    assert int(first["step"]) == 1 and first["beyond_tolerance"] == "1.running_var"
    # the eval output uses the running statistics: it differs as well
    assert any(line.startswith("control-eval:") and "eval-output" in line for line in lines)


def test_negative_control_own_dropout_masks_fail():
    """A Dropout that ignores the torch mask (draws its own) must fail from step 1."""

    class OwnMasks(layers.Dropout):
        def forward(self, x):
            self.mask_source = None
            return super().forward(x)

    net = _bn_net(dropout=0.4)
    net.layers[3] = OwnMasks(0.4, rng=5)
    df = _run(net)
    first = df[~df["passed"].astype(bool)].iloc[0]
    assert int(first["step"]) == 1 and "loss" in first["beyond_tolerance"].split(";")
