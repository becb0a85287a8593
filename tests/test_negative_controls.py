"""Negative controls: deliberately wrong derivatives must make the comparisons fail, and the
failure must name the parameter, the worst element, both errors and the tolerance. The
planted bugs are the case table's (comparisons.cases.components.PLANTED_BUGS; their
component-level checks run in tests/test_components.py)."""

import numpy as np
import pytest

from comparisons import compare_network, failures
from comparisons.slips.components import FlippedExponentSigmoid, FlippedSigmoid, NearlyRightSigmoid
from manual import MLP


def _data(n_in=4, n_out=3, n=8, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n_in)), rng.standard_normal((n, n_out))


def _failing(rows, oracle):
    return {r["parameter"] for r in rows if r["oracle"] == oracle and r["passed"] is False}


def test_flipped_sigmoid_derivative_is_caught_by_both_oracles():
    act = FlippedSigmoid()
    net = MLP([4, 5, 3], activation=act, output_activation=act, loss="mse")
    X, y = _data()
    rows = compare_network(net, X, y, case="flipped-sigmoid")
    # Layer 2 sees one flipped factor. Layer 1 sees two (its own and layer 2's), which
    # cancel: a sign error can hide in a deeper layer, so every parameter is compared.
    assert _failing(rows, "torch") == {"W2", "b2"}
    assert _failing(rows, "fd") == {"W2", "b2"}
    assert _failing(rows, "taylor") == {"W2", "b2"}
    taylor = {r["parameter"]: r for r in rows if r["oracle"] == "taylor"}
    assert taylor["W2"]["taylor_slope"] < 1.3 and taylor["W1"]["taylor_slope"] > 1.9
    assert "loss" not in _failing(rows, "torch")  # the forward pass is right
    msg = "\n".join(failures(rows))
    for part in ("flipped-sigmoid [torch] W2", "worst element", "max abs err", "max rel err",
                 "tolerance: atol", "first divergence: backward dJ/dz2"):
        assert part in msg, f"{part!r} missing from:\n{msg}"


def test_forward_bug_is_located_in_the_forward_pass():
    act = FlippedExponentSigmoid()
    net = MLP([4, 5, 3], activation=act, output_activation="identity", loss="mse")
    X, y = _data()
    rows = compare_network(net, X, y, case="flipped-exponent", oracles=["torch"])
    assert "loss" in _failing(rows, "torch")
    assert {r["first_divergence"] for r in rows} == {"forward a1"}


def test_dropped_weight_factor_in_the_chain_rule_is_caught():
    """Backprop passes dJ/dz_l down unchanged instead of dJ/dz_l W_l^T. The hidden layers
    are square so the shapes still agree; only the values betray the bug."""
    net = MLP([3, 4, 4, 4], activation="tanh", output_activation="identity", loss="mse")
    for layer in net.layers:
        def broken_backward(dz, layer=layer):
            x, _ = layer._cache
            layer.dW, layer.db = x.T @ dz, dz.sum(axis=0)
            return dz  # should be dz @ layer.W.T
        layer.backward = broken_backward
    X, y = _data(n_in=3, n_out=4)
    rows = compare_network(net, X, y, case="dropped-weight")
    for oracle in ("torch", "fd", "taylor"):
        assert _failing(rows, oracle) == {"W1", "b1", "W2", "b2"}  # W3, b3 are still right
    assert "first divergence: backward dJ/da2" in "\n".join(failures(rows))


def test_float64_tolerance_is_tight_enough_to_see_one_part_in_ten_million():
    act = NearlyRightSigmoid()
    net = MLP([4, 5, 3], activation=act, output_activation="identity", loss="mse")
    X, y = _data()
    rows = compare_network(net, X, y, oracles=["torch"])
    assert _failing(rows, "torch") >= {"W1", "b1"}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_correct_network_passes(dtype):
    """The control's control: the same setups with the right derivative pass."""
    net = MLP([4, 5, 3], activation="sigmoid", output_activation="sigmoid", loss="mse",
              dtype=dtype)
    X, y = _data()
    rows = compare_network(net, X, y)
    assert not failures(rows), "\n".join(failures(rows))


@pytest.mark.parametrize("manual, oracle", [(0.0, np.nan), (1.0, np.inf), (np.inf, -np.inf),
                                             (np.nan, 0.0)])
def test_non_finite_mismatches_never_pass(manual, oracle):
    from comparisons import compare_arrays, tolerance_for

    c = compare_arrays(np.array([1.0, manual]), np.array([1.0, oracle]), tolerance_for("float64"))
    assert not c.passed and c.worst_index == (1,)


def test_matching_non_finite_values_pass():
    from comparisons import compare_arrays, tolerance_for

    both = np.array([np.nan, np.inf, -np.inf, 2.0])
    assert compare_arrays(both, both.copy(), tolerance_for("float64")).passed
