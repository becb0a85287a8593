"""The activation catalogue: torch's one-sided values at every kink, stability at +-1e4,
softmax Jacobians, documented deviations, and bad hyperparameters."""

import numpy as np
import pytest
import torch

import reference
from comparisons import compare_activation, failures
from comparisons.registry import KNOWN_DEVIATIONS
from manual import activations

DTYPES = ["float64", "float32"]
ELEMENTWISE = [n for n in activations.names() if activations.get(n).elementwise]

#: (name, kwargs) with a kink, in the default and a non-default parametrisation
KINKED = [(n, {}) for n in activations.names() if activations.get(n).kinks] + [
    ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.5}), ("celu", {"alpha": 2.0}),
    ("softplus", {"beta": 2.0, "threshold": 5.0}), ("hardtanh", {"min_val": -2.0, "max_val": 3.0}),
    ("softshrink", {"lambd": 1.0}),
]


def test_catalogue_is_complete():
    expected = {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "celu",
                "gelu", "gelu_tanh", "softplus", "silu", "mish", "softsign", "hardtanh",
                "hardsigmoid", "hardswish", "relu6", "logsigmoid", "tanhshrink", "lecun_tanh",
                "softmax", "log_softmax"}
    assert expected <= set(activations.names())
    assert len(activations.names()) >= 24
    assert sum(activations.get(n).analytic for n in ELEMENTWISE) >= 20  # complex step applies
    assert set(activations.names()) == set(reference.activations.names())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs", KINKED, ids=lambda v: str(v) if v else "default")
def test_derivative_at_the_kinks_is_torchs(name, kwargs, dtype):
    """Exactly at each kink, f' and f'' are the one-sided values torch's autograd returns."""
    act = activations.get(name, **kwargs)
    z = np.array(sorted(act.kinks), dtype=dtype)
    zt = torch.tensor(z, requires_grad=True)
    fn = reference.activations.get(name, **kwargs)
    (d1,) = torch.autograd.grad(fn(zt), zt, torch.ones_like(zt), create_graph=True)
    # one side against the other differs by far more than this (e.g. softplus' sigma(20)
    # against 1 by 2e-9); the rest is rounding
    tight = {"rtol": 1e-12 if dtype == "float64" else 1e-6, "atol": 0}
    np.testing.assert_allclose(act.derivative(z), d1.detach().numpy(), **tight,
                               err_msg=f"{name}{kwargs} f' at kinks {z}")
    if d1.requires_grad and name != "hardsigmoid":  # torch has no double backward for it
        (d2,) = torch.autograd.grad(d1, zt, torch.ones_like(zt))
        np.testing.assert_allclose(act.second_derivative(z), d2.numpy(), **tight,
                                   err_msg=f"{name}{kwargs} f'' at kinks {z}")
    rows = compare_activation(act, z)
    assert not failures(rows), "\n".join(failures(rows))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", activations.names())
def test_finite_and_equal_to_torch_at_extremes(name, dtype):
    z = np.array([[-1e4, -800.0, -50.0, 0.0, 50.0], [800.0, 1e4, -1e4, 1e4, 0.0]], dtype=dtype)
    act = activations.get(name)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        out, back = act.forward(z), act.backward(z, np.ones_like(z))
    assert np.isfinite(out).all() and np.isfinite(back).all()
    rows = [r for r in compare_activation(act, z) if r["parameter"] != "second_derivative"]
    assert not failures(rows), "\n".join(failures(rows))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_jacobian_matches_jacrev_and_backward_is_its_transpose_product(name):
    act = activations.get(name)
    z = np.random.default_rng(0).standard_normal((4, 5))
    g = np.random.default_rng(1).standard_normal((4, 5))
    J = act.jacobian(z)  # (4, 5, 5)
    Jt = torch.vmap(torch.func.jacrev(reference.activations.get(name)))(torch.from_numpy(z))
    np.testing.assert_allclose(J, Jt.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(act.backward(z, g), np.einsum("ni,nij->nj", g, J),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_along_any_dim(name, dim):
    act = activations.get(name, dim=dim)
    z = np.random.default_rng(2).standard_normal((3, 4, 5))
    rows = compare_activation(act, z)
    assert not failures(rows), "\n".join(failures(rows))


def test_softmax_backward_is_not_elementwise():
    """The classic slip s(1 - s) is only the Jacobian's diagonal: it differs from the VJP."""
    act = activations.get("softmax")
    z = np.random.default_rng(3).standard_normal((2, 4))
    g = np.random.default_rng(4).standard_normal((2, 4))
    s = act.forward(z)
    assert not np.allclose(act.backward(z, g), g * s * (1 - s))
    with pytest.raises(TypeError, match="not elementwise"):
        act.derivative(z)


@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if activations.get(n).analytic])
def test_complex_step_runs_for_analytic_activations(name):
    act = activations.get(name)
    z = np.array([-2.3, -0.7, 0.4, 1.9]) + 1e-30j
    assert np.iscomplexobj(act.forward(z))


@pytest.mark.parametrize("key", list(KNOWN_DEVIATIONS))
def test_documented_deviation_still_deviates(key):
    """Each documented deviation from torch is an xfail: if torch changes, this tells us."""
    name, parameter, oracle = key
    rows = compare_activation(name, np.array([1e4, 0.5]))
    row = next(r for r in rows if r["parameter"] == parameter and r["oracle"] == oracle)
    assert row["status"] == "xfail" and not row["passed"], row


@pytest.mark.xfail(strict=True, reason=KNOWN_DEVIATIONS[("mish", "second_derivative", "torch")])
def test_mish_second_derivative_at_large_z_equals_torch():
    act = activations.get("mish")
    zt = torch.tensor([1e4], dtype=torch.float64, requires_grad=True)
    (d1,) = torch.autograd.grad(torch.nn.functional.mish(zt), zt, create_graph=True)
    (d2,) = torch.autograd.grad(d1, zt)
    np.testing.assert_array_equal(act.second_derivative(np.array([1e4])), d2.numpy())


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


# ---- negative controls across the catalogue ---------------------------------------------
class LeakyAtZeroOne(activations.get("leaky_relu").__class__):
    """f'(0) taken as 1 (the right side) where torch uses negative_slope."""

    def _derivative(self, z):
        return np.where(np.real(z) >= 0, 1.0, self.negative_slope).astype(z.dtype)


class GeluWithoutDensityTerm(activations.get("gelu").__class__):
    """GELU' written as Phi(z), forgetting the product rule's z * phi(z)."""

    def _derivative(self, z):
        return self._cdf(z)


class SoftplusAlwaysCurved(activations.get("softplus").__class__):
    """Softplus' with torch's linear region ignored: sigma(beta z) everywhere."""

    def _derivative(self, z):
        return 1 / (1 + np.exp(-self.beta * z))


class ElementwiseSoftmax(activations.get("softmax").__class__):
    """The classic slip: softmax backward as the elementwise s(1 - s)."""

    def _vjp(self, z, g, axis):
        s = self._forward(z, axis)
        return g * s * (1 - s)


@pytest.mark.parametrize("broken, kwargs, z, expect", [
    (LeakyAtZeroOne, {}, np.array([-1.0, 0.0, 2.0]), {("torch", "derivative"),
                                                       ("torch", "backward")}),
    (GeluWithoutDensityTerm, {}, np.linspace(-3, 3, 7),
     {("torch", "derivative"), ("torch", "backward"), ("fd", "derivative"),
      ("complex-step", "derivative")}),
    (SoftplusAlwaysCurved, {"threshold": 2.0}, np.array([-1.0, 0.5, 2.5, 30.0]),
     {("torch", "derivative"), ("torch", "backward")}),
    (ElementwiseSoftmax, {}, np.random.default_rng(5).standard_normal((3, 4)),
     {("torch", "backward")}),
], ids=["leaky_relu-at-0", "gelu-product-rule", "softplus-threshold", "softmax-elementwise"])
def test_broken_activations_are_caught(broken, kwargs, z, expect):
    act = broken(**kwargs)
    rows = compare_activation(act, z)
    failing = {(r["oracle"], r["parameter"]) for r in rows if r["passed"] is False}
    assert expect <= failing, failing
    assert ("torch", "forward") not in failing
