"""Bad input to optimizers, schedules, the training loop and the data sets: a ValueError or
TypeError at our boundary whose message names the problem (and the valid choices)."""

import numpy as np
import pytest

from manual import MLP, datasets, optimizers, schedules, train
from manual.training import batch_order


@pytest.fixture
def params():
    return {"W1": np.ones((3, 2)), "b1": np.zeros(2)}


def test_unknown_optimizer_lists_the_valid_ones(params):
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'; valid: sgd, adagrad, "
                                         "rmsprop, adam, adamw, adamax, nadam, radam, adadelta"):
        optimizers.get("adamm", params)


@pytest.mark.parametrize("name, bad", [("adam", "beta1"), ("sgd", "nestrov"),
                                       ("rmsprop", "foreach"), ("adamw", "decoupled_weight_decay")])
def test_unknown_hyperparameter_lists_the_valid_ones(params, name, bad):
    valid = ", ".join(optimizers._REGISTRY[name].defaults)
    with pytest.raises(TypeError, match=rf"{name} got unexpected keyword argument\(s\) {bad}; "
                                        rf"valid: {valid}"):
        optimizers.get(name, params, **{bad: 1})


@pytest.mark.parametrize("name, key", [(n, k) for n in optimizers.names()
                                       for k in ("lr", "eps", "weight_decay")
                                       if k in optimizers._REGISTRY[n].defaults])
def test_negative_lr_eps_weight_decay(params, name, key):
    with pytest.raises(ValueError, match=rf"{name}: {key} must be >= 0.0, got -0.1"):
        optimizers.get(name, params, **{key: -0.1})


@pytest.mark.parametrize("name", ["adam", "adamw", "adamax", "nadam", "radam"])
@pytest.mark.parametrize("betas, where", [((1.0, 0.999), 0), ((-0.1, 0.999), 0),
                                          ((0.9, 1.0), 1), ((0.9, 1.5), 1)])
def test_betas_outside_zero_one(params, name, betas, where):
    with pytest.raises(ValueError, match=rf"{name}: betas\[{where}\] must lie in \[0, 1\), got"):
        optimizers.get(name, params, betas=betas)


@pytest.mark.parametrize("betas", [0.9, (0.9,), (0.9, 0.99, 0.999), "ab"])
def test_betas_not_a_pair(params, betas):
    with pytest.raises(TypeError, match="betas must be a pair"):
        optimizers.get("adam", params, betas=betas)


@pytest.mark.parametrize("kwargs, match", [
    ({"nesterov": True}, "nesterov momentum requires momentum > 0 and dampening = 0"),
    ({"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "requires momentum > 0"),
    ({"momentum": -0.5}, "momentum must be >= 0.0"),
    ({"lr": float("nan")}, "lr must be finite"),
    ({"lr": "0.1"}, "lr must be a number"),
    ({"nesterov": 1}, "nesterov must be True or False"),
])
def test_sgd_hyperparameters(params, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        optimizers.get("sgd", params, **kwargs)


def test_other_ranges(params):
    with pytest.raises(ValueError, match=r"adadelta: rho must lie in \[0, 1\], got 1.5"):
        optimizers.get("adadelta", params, rho=1.5)
    with pytest.raises(ValueError, match="adagrad: lr_decay must be >= 0.0"):
        optimizers.get("adagrad", params, lr_decay=-1)
    with pytest.raises(ValueError, match="adagrad: initial_accumulator_value must be >= 0.0"):
        optimizers.get("adagrad", params, initial_accumulator_value=-1)
    with pytest.raises(ValueError, match="nadam: momentum_decay must be >= 0.0"):
        optimizers.get("nadam", params, momentum_decay=-1)
    with pytest.raises(ValueError, match="rmsprop: alpha must be >= 0.0"):
        optimizers.get("rmsprop", params, alpha=-0.1)
    with pytest.raises(TypeError, match="amsgrad must be True or False"):
        optimizers.get("adam", params, amsgrad="yes")


def test_bad_params():
    with pytest.raises(TypeError, match="params must be a dict name -> array"):
        optimizers.get("sgd", [np.ones(2)])
    with pytest.raises(ValueError, match="empty parameter dict"):
        optimizers.get("sgd", {})
    with pytest.raises(TypeError, match=r"params\['w'\] must be a NumPy array"):
        optimizers.get("sgd", {"w": [1.0, 2.0]})
    with pytest.raises(TypeError, match=r"params\['w'\] must be float32 or float64, got dtype "
                                        r"int64"):
        optimizers.get("sgd", {"w": np.arange(3)})
    w = np.ones(2)
    w.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\['w'\] is read-only"):
        optimizers.get("sgd", {"w": w})


def test_grads_with_other_keys_or_shapes(params):
    opt = optimizers.get("adam", params)
    with pytest.raises(TypeError, match="grads must be a dict"):
        opt.step([np.ones((3, 2)), np.ones(2)])
    with pytest.raises(ValueError, match=r"grads has unknown parameter name\(s\) 'w1'; the "
                                         r"parameters: W1, b1"):
        opt.step({"W1": np.ones((3, 2)), "b1": np.ones(2), "w1": np.ones(2)})
    with pytest.raises(ValueError, match=r"grads is missing 'b1' \(give None to leave a "
                                         r"parameter untouched"):
        opt.step({"W1": np.ones((3, 2))})
    with pytest.raises(ValueError, match=r"grads\['W1'\] has shape \(2, 3\), expected the shape "
                                         r"of params\['W1'\] \(3, 2\)"):
        opt.step({"W1": np.ones((2, 3)), "b1": np.ones(2)})
    with pytest.raises(TypeError, match=r"grads\['b1'\] has dtype float32, params\['b1'\] has "
                                        r"float64"):
        opt.step({"W1": np.ones((3, 2)), "b1": np.ones(2, dtype=np.float32)})
    assert opt.state == {}  # nothing was half-applied


# -- schedules --------------------------------------------------------------------------
@pytest.fixture
def opt(params):
    return optimizers.get("sgd", params, lr=0.1)


def test_unknown_schedule_and_arguments(opt):
    with pytest.raises(ValueError, match="unknown schedule 'cosine'; valid: steplr, multisteplr, "
                                         "exponentiallr, cosineannealinglr, linearlr, onecyclelr"):
        schedules.get("cosine", opt)
    with pytest.raises(TypeError, match="steplr got unexpected keyword argument.*stepsize; "
                                        "valid: step_size, gamma, last_epoch"):
        schedules.get("steplr", opt, stepsize=3)
    with pytest.raises(TypeError, match="steplr missing required argument.*step_size"):
        schedules.get("steplr", opt)
    with pytest.raises(TypeError, match="exponentiallr missing required argument.*gamma"):
        schedules.get("exponentiallr", opt)


@pytest.mark.parametrize("name, kwargs, match", [
    ("steplr", {"step_size": 0}, "step_size must be an integer >= 1, got 0"),
    ("steplr", {"step_size": 2.5}, "step_size must be an integer"),
    ("steplr", {"step_size": 2, "last_epoch": 5}, "only last_epoch=-1"),
    ("multisteplr", {"milestones": 5}, "milestones must be a list"),
    ("multisteplr", {"milestones": [3, -1]}, "every milestone must be an integer >= 0"),
    ("cosineannealinglr", {"T_max": 0}, "T_max must be an integer >= 1"),
    ("linearlr", {"start_factor": 0.0}, r"start_factor must lie in \(0, 1\]"),
    ("linearlr", {"end_factor": 2.0}, r"end_factor must lie in \[0, 1\]"),
    ("onecyclelr", {"max_lr": 1.0}, "give total_steps, or epochs and steps_per_epoch"),
    ("onecyclelr", {"max_lr": 1.0, "total_steps": 10, "pct_start": 1}, "pct_start must be"),
    ("onecyclelr", {"max_lr": 1.0, "total_steps": 10, "anneal_strategy": "cosine"},
     "unknown onecyclelr anneal_strategy 'cosine'; valid: cos, linear"),
])
def test_schedule_ranges(opt, name, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        schedules.get(name, opt, **kwargs)


def test_onecycle_needs_momentum_and_stops_at_total_steps(params):
    adagrad = optimizers.get("adagrad", params)
    with pytest.raises(ValueError, match="cycle_momentum needs an optimizer with momentum or "
                                         "betas, adagrad has neither"):
        schedules.get("onecyclelr", adagrad, max_lr=1.0, total_steps=5)
    sched = schedules.get("onecyclelr", optimizers.get("sgd", params), max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="tried to step 4 times; total_steps is 3"):
        sched.step()


def test_schedule_needs_a_manual_optimizer():
    with pytest.raises(TypeError, match="optimizer must be a manual.optimizers optimizer"):
        schedules.get("steplr", object(), step_size=2)


# -- the training loop ------------------------------------------------------------------
@pytest.fixture
def setup():
    net = MLP([2, 4, 1], activation="tanh", loss="mse", seed=0)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 2)), rng.standard_normal((20, 1))
    return net, X, y, optimizers.get("sgd", net.params, lr=0.1)


@pytest.mark.parametrize("kwargs, match", [
    ({"epochs": 0}, "epochs must be a positive integer, got 0"),
    ({"batch_size": 2.5}, "batch_size must be a positive integer"),
    ({"schedule_every": "batch"}, "unknown schedule_every 'batch'; valid: step, epoch"),
    ({"freeze": {"W3": [1]}}, (r"freeze names unknown parameter\(s\) 'W3'; the parameters: "
                               r"W1, b1, W2, b2")),
])
def test_train_arguments(setup, kwargs, match):
    net, X, y, opt = setup
    args = {"epochs": 1, "batch_size": 4, **kwargs}
    with pytest.raises(ValueError, match=match):
        train(net, X, y, opt, **args)


def test_train_checks_y_and_the_optimizer(setup):
    net, X, y, opt = setup
    with pytest.raises(ValueError, match=r"y must have one row per sample of X \(20\)"):
        train(net, X, y[:5], opt, 1, 4)
    other = optimizers.get("sgd", {k: v.copy() for k, v in net.params.items()})
    with pytest.raises(ValueError, match="the optimizer must be built on net.params"):
        train(net, X, y, other, 1, 4)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_diverging_run_stops_naming_the_first_non_finite_step(setup, dtype):
    import re

    net0, X, y, _ = setup

    def run(epochs):
        net = net0.astype(dtype)
        return train(net, X, y * 1e3, optimizers.get("sgd", net.params, lr=5.0), epochs, 4)

    with pytest.raises(ValueError, match=r"train: the loss is (inf|nan) at step \d+ \(epoch "
                                         r"\d+, batch \d+\); training stopped") as info:
        run(epochs=50)
    step, epoch = map(int, re.search(r"step (\d+) \(epoch (\d+)", str(info.value)).groups())
    # the same batches up to the epoch before: every loss finite, and fewer steps than named
    history = run(epochs=epoch - 1)
    assert np.isfinite(history.loss).all() and history.steps < step


def test_an_overflowing_update_stops_naming_the_parameter_and_step(setup):
    net, X, y, _ = setup
    opt = optimizers.get("sgd", net.params, lr=1e307)
    with pytest.raises(ValueError, match=r"train: parameter W1 became non-finite in the update "
                                         r"of step 1 \(epoch 1, batch 1\)"):
        train(net, X, y * 1e3, opt, epochs=1, batch_size=4)


def test_a_nan_in_the_data_stops_at_its_batch(setup):
    net, X, y, opt = setup
    y = y.copy()
    order = batch_order(20, 4, 1, True, 0)
    y[order[0][2][0]] = np.nan  # a sample of the third batch
    with pytest.raises(ValueError, match="y contains a non-finite value"):
        train(net, X, y, opt, 1, 4)


# -- data sets --------------------------------------------------------------------------
def test_data_set_arguments():
    with pytest.raises(ValueError, match="unknown data set 'mnist'; valid: xor, spirals, moons, "
                                         "iris, digits, breast_cancer, diabetes"):
        datasets.load("mnist")
    with pytest.raises(ValueError, match="number of samples must be an integer >= 2"):
        datasets.xor(n=1)
    with pytest.raises(ValueError, match="noise must be >= 0.0"):
        datasets.moons(noise=-1)


def test_real_data_without_scikit_learn_says_how_to_get_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("no sklearn here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    assert not datasets.sklearn_available()
    with pytest.raises(ImportError, match=r"ships with scikit-learn, which is not installed: "
                                          r"pip install 'backprop-reference-suite\[data\]'"):
        datasets.load("iris")
