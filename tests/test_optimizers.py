"""The manual optimizers on their own: torch's names and defaults, any parameter shape,
dtypes kept, state as torch keeps it, and agreement with torch.optim under identical
gradients (no network in between)."""

import inspect

import numpy as np
import pytest
import torch

import reference
from comparisons.twins.state import state_as_manual
from comparisons.cases.registry import OPTIMIZER_SETTINGS
from comparisons.core.tolerances import trajectory_tolerance
from manual import optimizers
from manual.training import flat_state

#: torch's implementation selectors: no meaning for a NumPy implementation
SELECTORS = {"foreach", "fused", "capturable", "differentiable"}


@pytest.mark.parametrize("name", optimizers.names())
def test_names_and_defaults_are_torchs(name):
    cls = optimizers._REGISTRY[name]
    torch_cls = getattr(torch.optim, cls.torch_name)
    sig = inspect.signature(torch_cls.__init__).parameters
    torch_defaults = {k: p.default for k, p in sig.items()
                      if k not in {"self", "params"} | SELECTORS}
    assert set(cls.defaults) == set(torch_defaults)
    for key, value in torch_defaults.items():
        assert cls.defaults[key] == value, f"{name}.{key}: {cls.defaults[key]} vs {value}"
    assert reference.optimizers.get(name, [torch.zeros(1, requires_grad=True)]).__class__ \
        is torch_cls


def _settings():
    for name, settings in OPTIMIZER_SETTINGS.items():
        for variant, kwargs in settings:
            yield pytest.param(name, kwargs, id=f"{name}-{variant}" if variant else name)


SHAPES = {"scalar": (), "empty": (0,), "vector": (5,), "cube": (2, 3, 4)}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, kwargs", list(_settings()))
def test_matches_torch_under_identical_gradients(name, kwargs, dtype):
    """60 steps from the same gradients (a fixed random sequence, one parameter frozen for
    some steps): parameters and every state buffer after each step, any shape."""
    rng = np.random.default_rng(7)
    params = {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt = optimizers.get(name, params, **kwargs)
    topt = reference.optimizers.get(name, list(tparams.values()), **kwargs)
    named = {k: (p, False) for k, p in tparams.items()}
    for t in range(1, 61):
        grads = {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}
        if 10 <= t < 20:
            grads["vector"] = None  # frozen: no gradient, as p.grad = None
        for k, p in tparams.items():
            p.grad = None if grads[k] is None else torch.from_numpy(grads[k].copy())
        opt.step(grads)
        topt.step()
        tol = trajectory_tolerance(dtype, t)
        for k, p in params.items():
            assert p.dtype == np.dtype(dtype) and p.shape == SHAPES[k]
            np.testing.assert_allclose(p, tparams[k].detach().numpy(), rtol=tol.rtol,
                                       atol=tol.atol, err_msg=f"{k} at step {t}")
        mine = flat_state(opt.state)
        theirs = flat_state(state_as_manual(topt, named))
        assert mine.keys() == theirs.keys(), f"step {t}"
        for key, value in mine.items():
            np.testing.assert_allclose(value.astype(np.float64), theirs[key].astype(np.float64),
                                       rtol=tol.rtol, atol=tol.atol, err_msg=f"{key} at {t}")
            if value.ndim:
                assert value.dtype == np.dtype(dtype), key  # float32 state stays float32


def test_params_are_updated_in_place_and_state_is_lazy():
    params = {"w": np.ones(3), "b": np.zeros(2)}
    w = params["w"]
    opt = optimizers.get("adam", params, lr=0.1)
    assert opt.state == {}
    opt.step({"w": np.ones(3), "b": None})
    assert params["w"] is w and np.all(w < 1)
    assert set(opt.state) == {"w"}  # b has had no gradient yet, so no state
    assert opt.state["w"]["step"] == 1.0
    opt.zero_state()
    assert opt.state == {}


def test_adagrad_creates_its_state_at_construction_like_torch():
    opt = optimizers.get("adagrad", {"w": np.ones(2)}, initial_accumulator_value=0.5)
    assert opt.state["w"]["step"] == 0.0
    np.testing.assert_array_equal(opt.state["w"]["sum"], [0.5, 0.5])
    opt.step({"w": np.ones(2)})
    opt.zero_state()
    np.testing.assert_array_equal(opt.state["w"]["sum"], [0.5, 0.5])


def test_sgd_without_momentum_keeps_no_state():
    opt = optimizers.get("sgd", {"w": np.ones(2)}, lr=0.1)
    opt.step({"w": np.ones(2)})
    assert opt.state == {"w": {}}


def test_nadam_keeps_mu_product_in_float32_like_torch():
    opt = optimizers.get("nadam", {"w": np.ones(2)})
    opt.step({"w": np.ones(2)})
    assert isinstance(opt.state["w"]["mu_product"], np.float32)


def test_hyperparameters_are_live_attributes_and_kwargs_keep_the_constructor_values():
    opt = optimizers.get("sgd", {"w": np.zeros(1)}, lr=0.5, momentum=0.9)
    opt.lr = 0.25
    opt.step({"w": np.ones(1)})
    np.testing.assert_allclose(opt.params["w"], [-0.25])
    assert opt.kwargs["lr"] == 0.5
    assert "lr=0.5" in repr(opt)


def test_get_and_names():
    assert optimizers.names() == ["sgd", "adagrad", "rmsprop", "adam", "adamw", "adamax",
                                  "nadam", "radam", "adadelta"]
    assert reference.optimizers.names() == optimizers.names()
    assert isinstance(optimizers.get("adamw", {"w": np.zeros(1)}), optimizers.AdamW)
