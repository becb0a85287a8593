"""Negative controls for the trajectory comparison: optimizers with a classic bug each must
fail against torch, and the failure must name the step and the parameter or buffer."""

import numpy as np
import pytest

from comparisons.cases.registry import TrajectoryCase
from comparisons.run.trajectories import build_trajectory, compare_training, trajectory_failures
from manual import optimizers
from manual.optimizers import Adam, RMSprop


class AdamEpsInsideSqrt(Adam):
    r"""denom = sqrt(v_hat + eps) instead of sqrt(v_hat) + eps."""

    def _update(self, p, g, state):
        beta1, beta2 = self.betas
        state["step"] += 1
        t = state["step"]
        g = self._grad(p, g)
        state["exp_avg"] += (1 - beta1) * (g - state["exp_avg"])
        state["exp_avg_sq"] *= beta2
        state["exp_avg_sq"] += (1 - beta2) * g * g
        m_hat = state["exp_avg"] / (1 - beta1**t)
        v_hat = state["exp_avg_sq"] / (1 - beta2**t)
        p -= self.lr * m_hat / np.sqrt(v_hat + self.eps)


class AdamWithoutBiasCorrection(Adam):
    """m and v used raw: the first steps are far too small."""

    def _update(self, p, g, state):
        beta1, beta2 = self.betas
        state["step"] += 1
        g = self._grad(p, g)
        state["exp_avg"] += (1 - beta1) * (g - state["exp_avg"])
        state["exp_avg_sq"] *= beta2
        state["exp_avg_sq"] += (1 - beta2) * g * g
        p -= self.lr * state["exp_avg"] / (np.sqrt(state["exp_avg_sq"]) + self.eps)


class RMSpropNeverCentred(RMSprop):
    """Ignores centered=True: divides by sqrt(v) instead of sqrt(v - g_ave^2); keeps the
    grad_avg buffer up to date, so only the values betray it."""

    def _update(self, p, g, state):
        state["step"] += 1
        g = self._grad(p, g)
        v = state["square_avg"]
        v *= self.alpha
        v += (1 - self.alpha) * g * g
        state["grad_avg"] += (1 - self.alpha) * (g - state["grad_avg"])
        p -= self.lr * g / (np.sqrt(v) + self.eps)


class SGDZeroForMissingGrad(optimizers.SGD):
    """Treats a missing gradient as zero: weight decay and momentum keep moving a frozen
    parameter, which torch leaves alone."""

    def step(self, grads):
        super().step({k: (np.zeros_like(self.params[k]) if g is None else g)
                      for k, g in grads.items()})


class AdamSlowVariance(Adam):
    """A stale cache: v decays with beta1 instead of beta2. Parameters drift slowly; the
    state comparison catches exp_avg_sq at once."""

    def _update(self, p, g, state):
        beta1, _ = self.betas
        saved = self.betas
        self.betas = (beta1, beta1)
        try:
            super()._update(p, g, state)
        finally:
            self.betas = saved


def _run(case_kwargs, broken_cls):
    case = TrajectoryCase(**{"dtype": "float64", "epochs": 5, **case_kwargs})
    kw = build_trajectory(case)
    opt = kw["optimizer"]
    kw["optimizer"] = broken_cls(opt.params, **opt.kwargs)
    df = compare_training(**kw, case=case.id)
    return df, trajectory_failures(df)


@pytest.mark.parametrize("broken, case_kwargs, first_step, names", [
    (AdamEpsInsideSqrt, {"optimizer": "adam", "activation": "tanh", "loss": "mse",
                         "optimizer_kwargs": (("lr", 0.01),)}, 1, "W1"),
    (AdamWithoutBiasCorrection, {"optimizer": "adam", "activation": "relu",
                                 "loss": "cross_entropy", "optimizer_kwargs": (("lr", 0.01),)},
     1, "W1"),
    (RMSpropNeverCentred, {"optimizer": "rmsprop", "activation": "tanh", "loss": "mse",
                           "optimizer_kwargs": (("lr", 0.005), ("centered", True))}, 1, "W1"),
    (SGDZeroForMissingGrad, {"optimizer": "sgd", "activation": "tanh", "loss": "mse",
                             "optimizer_kwargs": (("lr", 0.05), ("momentum", 0.9),
                                                  ("weight_decay", 0.01)),
                             "freeze": (("W1", 20, 40),)}, 20, "W1"),
])
def test_broken_optimizer_fails_at_the_right_step_naming_the_parameter(broken, case_kwargs,
                                                                       first_step, names):
    df, problems = _run(case_kwargs, broken)
    assert not df["passed"].all()
    first = df[~df["passed"]].iloc[0]
    assert first["step"] == first_step, problems
    assert names in first["beyond_tolerance"].split(";"), first["beyond_tolerance"]
    assert len(problems) == 1
    msg = problems[0]
    for part in (f"first at step {first_step} ", names, "worst parameter", "manual", "reference",
                 "max abs err", "max rel err", "tolerance: atol"):
        assert part in msg, f"{part!r} missing from: {msg}"
    assert (df["step"] < first_step).sum() == (df["passed"] & (df["step"] < first_step)).sum()


def test_state_comparison_names_the_buffer():
    """v decaying with beta1 (0.9) instead of beta2 (0.999). At step 1 the bias
    correction (made with the same wrong beta) hides it in the parameters, so only the
    state comparison sees it: exp_avg_sq is 100 times too large."""
    df, problems = _run({"optimizer": "adam", "activation": "tanh", "loss": "mse",
                         "optimizer_kwargs": (("lr", 0.01),)}, AdamSlowVariance)
    first = df[~df["passed"]].iloc[0]
    assert first["step"] == 1
    beyond = set(first["beyond_tolerance"].split(";"))
    assert beyond == {f"{p}.exp_avg_sq" for p in ("W1", "b1", "W2", "b2")}, beyond
    assert "W1.exp_avg_sq" in problems[0]
    assert df.loc[df["step"] == 2, "beyond_tolerance"].iloc[0].split(";")[0] == "W1"


def test_a_missing_state_buffer_is_a_failure():
    """A parameter frozen from step 1 must have no state until its first update, as in
    torch; an optimizer that creates state for it anyway is caught."""

    class EagerAdam(Adam):
        def step(self, grads):
            for key, p in self.params.items():
                self.state.setdefault(key, self._init_state(p))
            super().step(grads)

    df, _ = _run({"optimizer": "adam", "activation": "tanh", "loss": "mse",
                  "optimizer_kwargs": (("lr", 0.01),), "freeze": (("b2", 1, 10),)}, EagerAdam)
    first = df[~df["passed"]].iloc[0]
    assert first["step"] == 1
    assert "b2.step (missing on the reference side)" in first["beyond_tolerance"]


def test_the_correct_optimizers_pass_the_same_setups():
    """The controls' control: the unbroken classes on the same cases pass."""
    for cls, kwargs in ((Adam, {"optimizer": "adam", "activation": "tanh", "loss": "mse",
                                "optimizer_kwargs": (("lr", 0.01),), "freeze": (("b2", 1, 10),)}),
                        (RMSprop, {"optimizer": "rmsprop", "activation": "tanh", "loss": "mse",
                                   "optimizer_kwargs": (("lr", 0.005), ("centered", True))})):
        df, problems = _run(kwargs, cls)
        assert df["passed"].all(), problems


def test_nadam_mu_product_in_float64_is_caught(monkeypatch):
    """torch keeps NAdam's running product of mu_t in a float32 scalar even for float64
    parameters; accumulating it in float64 changes the update at step 1 by ~1e-10."""
    monkeypatch.setattr(optimizers, "SCALAR_DTYPE", np.float64)
    df, problems = _run({"optimizer": "nadam", "activation": "tanh", "loss": "mse",
                         "optimizer_kwargs": (("lr", 0.01),)}, optimizers.NAdam)
    first = df[~df["passed"]].iloc[0]
    assert first["step"] == 1 and "W1" in first["beyond_tolerance"].split(";")
    assert "first at step 1 " in problems[0]
