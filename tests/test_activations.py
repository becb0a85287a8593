"""The activation catalogue: complete, with a torch counterpart each, and bad
hyperparameters rejected. Every comparison with torch (kinks, +-1e4, shapes, dims,
Jacobians, deviations, negative controls) is a row of the case table,
comparisons/cases/components.py, run by tests/test_components.py."""

import numpy as np
import pytest

import reference
from comparisons.cases.components import sample_inputs
from manual import activations

ELEMENTWISE = [n for n in activations.names() if activations.get(n).elementwise]


def test_catalogue_is_complete():
    expected = {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "celu",
                "gelu", "gelu_tanh", "softplus", "silu", "mish", "softsign", "hardtanh",
                "hardsigmoid", "hardswish", "relu6", "logsigmoid", "tanhshrink", "lecun_tanh",
                "softmax", "log_softmax"}
    assert expected <= set(activations.names())
    assert len(activations.names()) >= 24
    assert sum(activations.get(n).analytic for n in ELEMENTWISE) >= 20  # complex step applies
    assert set(activations.names()) == set(reference.activations.names())


@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if activations.get(n).analytic])
def test_complex_step_runs_for_analytic_activations(name):
    act = activations.get(name)
    z = sample_inputs("activation", "points", act, "float64")["z"] + 1e-30j
    assert np.iscomplexobj(act.forward(z))


@pytest.mark.parametrize("name, kwargs, error, match", [
    ("leaky_relu", {"slope": 0.1}, TypeError, "unexpected keyword.*slope.*valid: negative_slope"),
    ("celu", {"alpha": 0.0}, ValueError, "alpha must not be 0"),
    ("hardtanh", {"min_val": 2.0, "max_val": 1.0}, ValueError, "cannot be greater than max_val"),
    ("softshrink", {"lambd": -0.5}, ValueError, "lambd must be >= 0"),
    ("elu", {"alpha": "big"}, TypeError, "alpha must be a number"),
    ("elu", {"alpha": float("nan")}, ValueError, "alpha must be finite"),
    ("softmax", {"dim": 1.5}, TypeError, "dim must be an integer"),
])
def test_bad_hyperparameters(name, kwargs, error, match):
    with pytest.raises(error, match=match):
        activations.get(name, **kwargs)


def test_softmax_dim_out_of_range():
    with pytest.raises(ValueError, match="dim 2 is out of range"):
        activations.get("softmax", dim=2).forward(np.zeros((2, 3)))


def test_non_numeric_input():
    with pytest.raises(TypeError, match="z must hold real numbers"):
        activations.get("relu").forward(np.array(["a"]))
