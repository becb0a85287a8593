"""The training loop and its batch order; the synthetic and bundled data sets."""

import numpy as np
import pytest

from comparisons.run.bridge import MLPTwin
from comparisons.twins.state import optimizer_from_manual, train_twin
from comparisons.run.trajectories import compare_training, trajectory_failures
from manual import MLP, datasets, optimizers, schedules, train
from manual.training import batch_order


def test_batch_order_is_a_fresh_permutation_each_epoch_with_a_short_last_batch():
    order = batch_order(10, 4, 3, shuffle=True, seed=5)
    assert len(order) == 3
    for epoch in order:
        assert [len(b) for b in epoch] == [4, 4, 2]  # as DataLoader(drop_last=False)
        assert sorted(np.concatenate(epoch).tolist()) == list(range(10))
        assert all(b.dtype == np.int64 for b in epoch)
    assert not np.array_equal(np.concatenate(order[0]), np.concatenate(order[1]))
    again = batch_order(10, 4, 3, shuffle=True, seed=5)
    assert all(np.array_equal(a, b) for e, f in zip(order, again) for a, b in zip(e, f))
    plain = batch_order(10, 4, 2, shuffle=False)
    assert np.concatenate(plain[1]).tolist() == list(range(10))


def test_history_records_the_order_it_used_and_one_entry_per_step():
    X, labels = datasets.xor(n=30, seed=1)
    net = MLP([2, 5, 2], activation="tanh", loss="cross_entropy", seed=1)
    opt = optimizers.get("sgd", net.params, lr=0.1, momentum=0.9)
    h = train(net, X, labels, opt, epochs=3, batch_size=8, seed=4, record=True)
    expected = batch_order(30, 8, 3, True, 4)
    assert all(np.array_equal(a, b) for e, f in zip(h.order, expected) for a, b in zip(e, f))
    assert h.steps == 12 and h.epoch.tolist() == [1] * 4 + [2] * 4 + [3] * 4
    assert len(h.params) == len(h.state) == 12
    np.testing.assert_array_equal(h.params[-1]["W1"], net.params["W1"])
    assert h.params[0]["W1"] is not net.params["W1"]  # copies, not the live arrays
    assert set(h.state[0]) == {f"{k}.momentum_buffer" for k in net.params}


def test_schedule_per_epoch_changes_the_rate_at_epoch_boundaries():
    X, labels = datasets.moons(n=20, seed=0)
    net = MLP([2, 3, 2], activation="tanh", loss="cross_entropy")
    opt = optimizers.get("sgd", net.params, lr=1.0)
    sched = schedules.get("steplr", opt, step_size=1, gamma=0.5)
    h = train(net, X, labels, opt, epochs=3, batch_size=10, scheduler=sched,
              schedule_every="epoch")
    assert h.lr.tolist() == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_compare_training_takes_a_users_own_network_and_optimizer():
    """The public API: hand it any network and optimizer (here the manual ones, float32,
    one parameter frozen for a while); the report has a row per step."""
    X, labels = datasets.two_spirals(n=40, seed=2)
    net = MLP([2, 6, 2], activation="tanh", loss="cross_entropy", dtype=np.float32, seed=3)
    opt = optimizers.get("nadam", net.params, lr=0.01)
    df = compare_training(net, X, labels, opt, epochs=5, batch_size=8, seed=1,
                          freeze={"b1": range(3, 9)}, case="spirals-nadam")
    assert len(df) == 25 and df["passed"].all(), trajectory_failures(df)
    assert df["frozen"].tolist()[2:8] == ["b1"] * 6


def test_compare_training_wants_a_fresh_optimizer():
    net = MLP([2, 2], loss="mse")
    opt = optimizers.get("adam", net.params)
    opt.step({k: np.ones_like(v) for k, v in net.params.items()})
    with pytest.raises(ValueError, match="needs a fresh optimizer"):
        compare_training(net, np.ones((4, 2)), np.ones((4, 2)), opt, 1, 2)


def test_reference_training_replays_the_given_order():
    """torch's side draws nothing: given a reversed order it trains on it."""
    X, labels = datasets.xor(n=16, seed=0)
    net = MLP([2, 3, 2], activation="tanh", loss="cross_entropy")
    tnet = MLPTwin.from_manual(net)
    topt = optimizer_from_manual(optimizers.get("sgd", net.params, lr=0.1), tnet)
    order = [[np.arange(15, -1, -1)]]
    h = train_twin(tnet, X, labels, topt, order)
    tnet2 = MLPTwin.from_manual(net)
    loss, _ = tnet2.gradients(X[::-1].copy(), labels[::-1].copy())
    assert h.loss[0] == pytest.approx(float(loss), rel=1e-15)


# -- data sets ----------------------------------------------------------------------------
@pytest.mark.parametrize("make", [datasets.xor, datasets.two_spirals, datasets.moons])
def test_synthetic_sets_are_seeded_balanced_and_two_class(make):
    X, labels = make(n=101, seed=3)
    X2, labels2 = make(n=101, seed=3)
    assert X.shape == (101, 2) and labels.shape == (101,) and labels.dtype == np.int64
    assert np.array_equal(X, X2) and np.array_equal(labels, labels2)
    assert not np.array_equal(X, make(n=101, seed=4)[0])
    assert set(labels.tolist()) == {0, 1} and abs(int(labels.sum()) - 50) <= 1


def test_xor_without_noise_is_the_truth_table():
    X, labels = datasets.xor(n=4, noise=0.0)
    assert X.tolist() == [[-1, -1], [-1, 1], [1, -1], [1, 1]]
    assert labels.tolist() == [0, 1, 1, 0]


def test_two_spirals_arms_are_half_a_turn_apart():
    X, labels = datasets.two_spirals(n=200, noise=0.0, seed=0)
    r = np.hypot(*X.T)
    angle = np.arctan2(X[:, 1], X[:, 0])
    expected = 2 * np.pi * 1.5 * r + np.pi * labels
    np.testing.assert_allclose(np.cos(angle), np.cos(expected), atol=1e-12)


def test_moons_lie_on_their_half_circles_without_noise():
    X, labels = datasets.moons(n=50, noise=0.0)
    upper = X[labels == 0]
    lower = X[labels == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)


@pytest.mark.parametrize("name, shape, n_classes", [("iris", (150, 4), 3),
                                                    ("digits", (1797, 64), 10),
                                                    ("breast_cancer", (569, 30), 2),
                                                    ("diabetes", (442, 10), 0)])
def test_real_data_sets(name, shape, n_classes):
    pytest.importorskip("sklearn")  # the optional extra "data" (part of "dev")
    data = datasets.load(name)
    assert data.X.shape == shape and data.n_classes == n_classes
    assert data.source == f"sklearn.datasets.load_{name}"
    varying = data.X.std(axis=0) > 0
    np.testing.assert_allclose(data.X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(data.X.std(axis=0)[varying], 1)
    if n_classes:
        assert data.target.dtype == np.int64 and set(data.target) == set(range(n_classes))
        assert data.one_hot().shape == (shape[0], n_classes)
    else:
        assert abs(data.target.mean()) < 1e-12 and data.target.std() == pytest.approx(1)
        with pytest.raises(ValueError, match="regression data set"):
            data.one_hot()


def test_the_readme_training_example_runs():
    """The example of the tutorial "Train and compare a run"."""
    from _docs import run_tested_by

    namespace = run_tested_by("docs/tutorials/training.md", "tests/test_training.py")
    assert len(namespace["df"]) == 200 and namespace["history"].loss.shape == (200,)
