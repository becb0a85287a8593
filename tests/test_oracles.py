"""The torch-free oracles agree with known derivatives and reject wrong ones."""

import numpy as np

from comparisons.core.oracles import (central_difference, complex_step, complex_step_gradient,
                                      taylor_slope)
from manual import MLP, activations


def test_complex_step_is_exact_for_sigmoid_and_tanh():
    z = np.linspace(-6, 6, 25)
    for name in ("sigmoid", "tanh"):
        act = activations.get(name)
        np.testing.assert_allclose(complex_step(act.forward, z), act.derivative(z),
                                   rtol=1e-14, atol=1e-16)
        np.testing.assert_allclose(central_difference(act.forward, z), act.derivative(z),
                                   rtol=1e-8, atol=1e-10)


def test_complex_step_gradient_of_a_scalar_function():
    x = np.array([0.3, -1.2, 2.0])
    g = complex_step_gradient(lambda v: np.sum(np.sin(v) * v), x)
    np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x), rtol=1e-15)


def test_taylor_slope_is_two_for_the_right_gradient_and_one_for_a_wrong_one():
    net = MLP([3, 4, 2], activation="tanh", loss="mse", seed=5)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    W = net.params["W1"]
    theta0 = W.copy()

    def L(theta):
        W[...] = theta
        return float(net.loss(X, y))

    _, grads = net.gradients(X, y)
    v = rng.standard_normal(W.shape)
    right = taylor_slope(L, grads["W1"], theta0, v)
    wrong = taylor_slope(L, grads["W1"] * 1.01, theta0, v)  # a 1% error in the gradient
    W[...] = theta0
    assert 1.9 < right < 2.1, right
    assert wrong < 1.3, wrong
