"""Each activation and loss on its own, against torch, under a random upstream gradient,
at random points, at its kinks and at +-1e4 (cases from the registry)."""

import numpy as np
import pytest

from comparisons import failures
from comparisons.registry import COMPONENT_CASES
from comparisons.runner import run_component
from manual import activations


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in COMPONENT_CASES])
def test_component_matches_torch(case):
    rows = run_component(case)
    assert rows
    assert not failures(rows), "\n".join(failures(rows))


@pytest.mark.parametrize("shape", [(), (0,), (2, 3, 4)])
@pytest.mark.parametrize("name", activations.names())
def test_activation_any_shape(name, shape):
    from comparisons import compare_activation

    z = np.random.default_rng(1).standard_normal(shape)
    rows = compare_activation(name, z)
    assert not failures(rows), "\n".join(failures(rows))
    assert activations.get(name).forward(z).shape == shape


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", activations.names())
def test_activation_keeps_dtype(name, dtype):
    act = activations.get(name)
    z = np.linspace(-2, 2, 10).astype(dtype).reshape(2, 5)
    outs = [act.forward(z), act.backward(z, z)]
    if act.elementwise:
        outs += [act.derivative(z)]
    assert all(out.dtype == np.dtype(dtype) for out in outs)
