"""The oracle itself: parameters copied exactly, layout converted explicitly, torch built-ins."""

import numpy as np
import torch

import reference
from comparisons.run.bridge import MLPTwin
from manual import MLP


def test_from_manual_copies_parameters_exactly_with_transposed_weights():
    net = MLP([3, 5, 2], activation="tanh", dtype=np.float64, seed=3)
    tnet = MLPTwin.from_manual(net)
    for l, lin in enumerate(tnet.linears, start=1):
        assert lin.weight.shape == net.params[f"W{l}"].T.shape  # torch: (out, in)
        assert np.array_equal(lin.weight.detach().numpy(), net.params[f"W{l}"].T)
        assert np.array_equal(lin.bias.detach().numpy(), net.params[f"b{l}"])
    back = tnet.manual_params()
    assert all(np.array_equal(back[k], v) for k, v in net.params.items())


def test_dtype_follows_the_manual_network():
    net = MLP([3, 2], dtype=np.float32)
    tnet = MLPTwin.from_manual(net)
    assert tnet.linears[0].weight.dtype == torch.float32
    _, grads = tnet.gradients(np.ones((2, 3), np.float32), np.ones((2, 2), np.float32))
    assert grads["W1"].dtype == np.float32 and grads["W1"].shape == (3, 2)


def test_reference_uses_torch_builtins():
    assert reference.activations.get("sigmoid") is torch.sigmoid
    assert reference.activations.get("tanh") is torch.tanh


def test_params_are_live():
    """An in-place change to net.params takes effect in the next forward."""
    net = MLP([2, 1], activation="identity")
    X = np.array([[1.0, 2.0]])
    net.params["W1"][...] = 0
    net.params["b1"][...] = 7
    assert net.forward(X)[0, 0] == 7


def test_network_vjp_matches_autograd_under_a_random_upstream_gradient():
    """The network's own backward (no loss) against torch, with a random cotangent."""
    from comparisons import compare_arrays, tolerance_for

    net = MLP([4, 6, 3], activation="tanh", output_activation="sigmoid", seed=2)
    rng = np.random.default_rng(0)
    X, g = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    net.forward(X)
    mine = net.backward(grad_out=g)
    theirs = MLPTwin.from_manual(net).vjp(X, g)
    tol = tolerance_for(np.float64)
    for k in net.params:
        c = compare_arrays(mine[k], theirs[k], tol, k)
        assert c.passed, c.message("vjp")
    # negative control: the all-ones cotangent gives a different answer
    ones = net.backward(grad_out=np.ones_like(g))
    assert not compare_arrays(ones["W1"], theirs["W1"], tol).passed


def test_astype_keeps_the_class_and_casts_exactly():
    class MyMLP(MLP):
        pass

    net = MyMLP([3, 4, 2], activation="tanh", dtype=np.float32, seed=1)
    twin = net.astype(np.float64)
    assert type(twin) is MyMLP and twin.dtype == np.float64
    for k, v in net.params.items():
        assert twin.params[k].dtype == np.float64 and np.array_equal(twin.params[k], v)
        assert twin.params[k] is twin.layers[int(k[1:]) - 1].__dict__[k[0]]  # live arrays
    assert net.params["W1"].dtype == np.float32  # the original is untouched
