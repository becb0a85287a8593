"""The batched finite differences and Taylor test give exactly (bitwise) the numbers of the
element-by-element sweep, and fall back to the sweep for anything but a plain MLP."""

import numpy as np
import pytest

from comparisons.core.batched import mlp_batched_loss
from comparisons.cases.data import case_data
from comparisons.cases.registry import CASES
from comparisons.core.oracles import finite_difference_gradients, taylor_rows
from manual import MLP
from manual.losses import MSE


def _twin(case):
    net = case.build()
    X, y = case_data(case, net)
    twin = net if net.dtype == np.float64 else net.astype(np.float64)
    return twin, X, y


def _assert_bitwise_same(case):
    twin, X, y = _twin(case)
    batched = mlp_batched_loss(twin, X, y)
    assert batched is not None, f"{case.id}: a plain MLP must take the batched path"
    sweep = finite_difference_gradients(lambda: twin.loss(X, y), twin.params)
    fast = finite_difference_gradients(lambda: twin.loss(X, y), twin.params, batched=batched)
    for name in sweep:
        assert sweep[name].tobytes() == fast[name].tobytes(), f"{case.id} {name}"
    grads = twin.gradients(X, y)[1]
    slow_rows = taylor_rows(lambda: twin.loss(X, y), twin.params, grads)
    fast_rows = taylor_rows(lambda: twin.loss(X, y), twin.params, grads, batched=batched)
    assert slow_rows == fast_rows, case.id


# every loss (with five activations) and every activation (with three losses), small
# architecture, float64; some deep and float32 cases; all of them: pytest -m exhaustive
_ACTS = ("relu", "tanh", "softmax", "sigmoid", "gelu")
_LOSSES = ("mse", "cross_entropy", "bce")
SMALL = [c for c in CASES if c.arch != "deep" and c.dtype == "float64"
         and (c.activation in _ACTS or c.loss in _LOSSES)]
DEEP = [c for c in CASES if (c.arch == "deep" or c.dtype == "float32")
        and c.activation in ("relu", "softmax") and c.loss in ("cross_entropy", "mse")]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in SMALL + DEEP])
def test_batched_fd_and_taylor_equal_the_sweep_bitwise(case):
    _assert_bitwise_same(case)


@pytest.mark.exhaustive
@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES
                                  if c not in SMALL + DEEP])
def test_batched_fd_equals_the_sweep_bitwise_everywhere(case):
    _assert_bitwise_same(case)


def test_chunking_does_not_change_the_values(monkeypatch):
    import comparisons.core.batched as batched_mod
    import comparisons.core.oracles as oracles_mod

    twin, X, y = _twin(next(c for c in CASES if c.id == "tanh-cross_entropy-deep-float64"))
    whole = finite_difference_gradients(lambda: twin.loss(X, y), twin.params,
                                        batched=mlp_batched_loss(twin, X, y))
    monkeypatch.setattr(oracles_mod, "FD_CHUNK_ELEMENTS", 7)  # a few elements per call
    monkeypatch.setattr(batched_mod, "CHUNK_ELEMENTS", 50)  # a few copies per forward
    chunked = finite_difference_gradients(lambda: twin.loss(X, y), twin.params,
                                          batched=mlp_batched_loss(twin, X, y))
    assert all(whole[k].tobytes() == chunked[k].tobytes() for k in whole)


def test_anything_but_a_plain_mlp_falls_back_to_the_sweep(monkeypatch):
    X, y = np.ones((4, 3)), np.zeros((4, 2))

    class Custom(MLP):
        def forward(self, X):
            return super().forward(X) * 1.0

    assert mlp_batched_loss(Custom([3, 4, 2], "tanh", loss="mse"), X, y) is None

    class MyMSE(MSE):
        def value(self, pred, target):
            return super().value(pred, target)

    net = MLP([3, 4, 2], "tanh", loss=MyMSE())
    fn = mlp_batched_loss(net, X, y)  # the network batched, the loss one copy at a time
    sweep = finite_difference_gradients(lambda: net.loss(X, y), net.params)
    fast = finite_difference_gradients(lambda: net.loss(X, y), net.params, batched=fn)
    assert all(sweep[k].tobytes() == fast[k].tobytes() for k in sweep)

    net = MLP([3, 4, 2], "softmax", loss="mse")
    net.activation = type(net.activation)(dim=0)  # mixes along the batch axis
    assert mlp_batched_loss(net, X, y) is None
    monkeypatch.setattr(MLP, "forward", lambda self, X: X)  # a patched forward: no batching
    assert mlp_batched_loss(MLP([3, 4, 2], "tanh", loss="mse"), X, y) is None
