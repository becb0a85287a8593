"""Bad input raises ValueError/TypeError at our API boundary, with a message naming it."""

import numpy as np
import pytest

from manual import MLP, activations, losses


@pytest.fixture
def net():
    return MLP([3, 4, 2], activation="tanh", loss="mse")


@pytest.fixture
def clf():
    return MLP([3, 4, 3], activation="relu", loss="cross_entropy")


X = np.ones((5, 3))


def test_wrong_x_width(net):
    with pytest.raises(ValueError, match=r"X must be \(samples, 3\).*\(5, 4\)"):
        net.loss(np.ones((5, 4)), np.ones((5, 2)))


def test_x_not_2d(net):
    with pytest.raises(ValueError, match="X must be"):
        net.forward(np.ones(3))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_x(net, bad):
    Xb = X.copy()
    Xb[2, 1] = bad
    with pytest.raises(ValueError, match=r"X contains a non-finite value .* at index \(2, 1\)"):
        net.forward(Xb)


def test_x_wrong_dtype(net):
    with pytest.raises(TypeError, match="X must hold real numbers"):
        net.forward(np.array([["a", "b", "c"]]))


def test_y_wrong_shape(net):
    with pytest.raises(ValueError, match=r"y must have shape \(5, 2\)"):
        net.loss(X, np.ones((5, 3)))
    with pytest.raises(ValueError, match="one row per sample"):
        net.loss(X, np.ones((4, 2)))


def test_y_column_hint():
    net = MLP([3, 2, 1], loss="mse")
    with pytest.raises(ValueError, match=r"reshape\(-1, 1\)"):
        net.loss(X, np.ones(5))


def test_y_wrong_dtype(net):
    with pytest.raises(TypeError, match="y must be floating point"):
        net.loss(X, np.ones((5, 2), dtype=int))


def test_labels_must_be_integers(clf):
    with pytest.raises(TypeError, match="integer class labels"):
        clf.loss(X, np.zeros(5))


@pytest.mark.parametrize("label", [3, -1])
def test_label_out_of_range(clf, label):
    y = np.zeros(5, dtype=int)
    y[4] = label
    with pytest.raises(ValueError, match=rf"class label {label} at index \(4,\) is out of range"):
        clf.loss(X, y)


def test_unknown_names_list_valid_ones():
    with pytest.raises(ValueError, match="unknown activation 'sigmod'; valid: .*sigmoid"):
        MLP([3, 1], activation="sigmod")
    with pytest.raises(ValueError, match="unknown loss 'mse2'; valid: .*mse"):
        MLP([3, 1], loss="mse2")
    with pytest.raises(ValueError, match="unknown activation"):
        activations.get("nope")
    with pytest.raises(ValueError, match="unknown loss"):
        losses.get("nope")


@pytest.mark.parametrize("sizes", [[3], []])
def test_sizes_too_short(sizes):
    with pytest.raises(ValueError, match="at least two entries"):
        MLP(sizes)


@pytest.mark.parametrize("sizes", [[3, 0], [3, -2], [3, 2.5]])
def test_sizes_not_positive_integers(sizes):
    with pytest.raises(ValueError, match="positive integer"):
        MLP(sizes)


def test_bad_dtype():
    with pytest.raises(TypeError, match="float32 or float64"):
        MLP([3, 1], dtype=np.int32)


def test_unknown_keyword_lists_valid_ones():
    with pytest.raises(TypeError, match="unexpected keyword argument.*reductoin.*valid: reduction"):
        losses.get("mse", reductoin="sum")


def test_bad_reduction():
    with pytest.raises(ValueError, match="unknown mse reduction 'avg'; valid: mean, sum, none"):
        losses.get("mse", reduction="avg")


def test_bce_probabilities_out_of_range():
    with pytest.raises(ValueError, match=r"bce: pred must lie in \[0.0, 1.0\]"):
        losses.get("bce").forward(np.array([0.5, 1.5]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"bce: target must lie in \[0, 1\]"):
        losses.get("bce").forward(np.array([0.5, 0.5]), np.array([0.0, 2.0]))


def test_loss_shape_mismatch():
    with pytest.raises(ValueError, match=r"mse: target has shape \(3,\), expected pred's "):
        losses.get("mse").forward(np.zeros(2), np.zeros(3))


def test_backward_needs_loss_first(net):
    with pytest.raises(RuntimeError, match="call net.loss"):
        net.backward()


def test_activation_backward_shape_mismatch():
    with pytest.raises(ValueError, match="grad_out has shape"):
        activations.get("relu").backward(np.zeros(3), np.zeros(2))
