"""Worked examples: two students' networks, each checked against torch and finite
differences with at most three lines of checking code (plus the instructor's torch
reference), each with its planted bug caught and named.

The students' files sit beside this one and are loaded by path (``two_layer_net.py``,
``network.py`` and their buggy twins); they are not test files.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from comparisons import check_gradients, failures
from comparisons.testing import assert_gradients_match


HERE = Path(__file__).resolve().parent


def student(name):
    """A student's file as a module, loaded from its path."""
    spec = importlib.util.spec_from_file_location(f"student_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------------------
# CS231n: TwoLayerNet.loss(X, y, reg) -> (loss, grads)
# --------------------------------------------------------------------------------------
def two_layer_reference(X, y, reg):
    """The instructor's reference: torch's built-ins on the student's own params dict."""
    X, y = torch.from_numpy(X), torch.from_numpy(y)

    def reference(p):
        scores = F.relu(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
        return F.cross_entropy(scores, y) + reg * ((p["W1"] ** 2).sum() + (p["W2"] ** 2).sum())
    return reference


def two_layer_net(name, rng):
    np.random.seed(0)  # the student's constructor draws from NumPy's global generator
    net = student(name).TwoLayerNet(4, 10, 3, std=1e-1)
    return net, rng.standard_normal((5, 4)), rng.integers(0, 3, size=5)


@pytest.mark.parametrize("reg", [0.0, 0.05])
def test_cs231n_two_layer_net_passes(reg, rng):
    net, X, y = two_layer_net("two_layer_net", rng)
    # the check, one line:
    rows = assert_gradients_match(lambda: net.loss(X, y, reg=reg), net.params,
                                  two_layer_reference(X, y, reg))
    assert {(r["oracle"], r["parameter"]) for r in rows} == {("torch", "loss")} | {
        (o, p) for o in ("torch", "fd", "taylor") for p in ("W1", "b1", "W2", "b2")}


@pytest.mark.parametrize("reg", [0.0, 0.05])
def test_cs231n_relu_mask_forgotten_is_named(reg, rng):
    net, X, y = two_layer_net("two_layer_net_relu_bug", rng)
    rows = check_gradients(lambda: net.loss(X, y, reg=reg), net.params,
                           two_layer_reference(X, y, reg))
    failing = {(r["oracle"], r["parameter"]) for r in rows if r["status"] == "fail"}
    # the loss and the second layer are right; W1 and b1 fail against every oracle
    assert failing == {(o, p) for o in ("torch", "fd", "taylor") for p in ("W1", "b1")}
    with pytest.raises(AssertionError, match=r"(?m)^check \[torch\] W1: \d+ of 40 elements "
                                             r"beyond tolerance; worst element \(\d, \d\)"):
        assert_gradients_match(lambda: net.loss(X, y, reg=reg), net.params,
                               two_layer_reference(X, y, reg))


# --------------------------------------------------------------------------------------
# Nielsen: weights/biases lists, (out, in) layout, column biases, per-example backprop
# --------------------------------------------------------------------------------------
def nielsen_reference(data, lmbda):
    """The instructor's reference on {"biases": [...], "weights": [...]}: examples as
    columns, as the student's code has them."""
    X = torch.from_numpy(np.hstack([x for x, _ in data]))
    Y = torch.from_numpy(np.hstack([y for _, y in data]))
    n = len(data)

    def reference(p):
        a = X
        for b, w in zip(p["biases"], p["weights"]):
            a = torch.sigmoid(w @ a + b)
        return (0.5 * F.mse_loss(a, Y, reduction="sum") / n
                + 0.5 * lmbda / n * sum((w ** 2).sum() for w in p["weights"]))
    return reference


def nielsen_network(name, rng):
    np.random.seed(1)
    net = student(name).Network([3, 4, 2])
    data = [(rng.standard_normal((3, 1)), rng.random((2, 1))) for _ in range(4)]
    return net, data


NIELSEN_PARAMS = {(o, f"{kind}[{l}]") for o in ("torch", "fd", "taylor")
                  for kind in ("biases", "weights") for l in (0, 1)}


@pytest.mark.parametrize("lmbda", [0.0, 0.5])
def test_nielsen_network_passes(lmbda, rng):
    net, data = nielsen_network("network", rng)
    # the check, three lines:
    live = {"biases": net.biases, "weights": net.weights}
    mine = lambda: (net.total_cost(data, lmbda), dict(zip(live, net.gradient(data, lmbda))))  # noqa: E731
    rows = assert_gradients_match(mine, live, nielsen_reference(data, lmbda))
    assert {(r["oracle"], r["parameter"]) for r in rows} == NIELSEN_PARAMS | {("torch", "loss")}
    assert {r["shape"] for r in rows if r["parameter"] == "weights[0]"} == {"4x3"}  # (out, in)


@pytest.mark.parametrize("lmbda", [0.0, 0.5])
def test_nielsen_sigma_prime_dropped_is_named(lmbda, rng):
    net, data = nielsen_network("network_sigma_bug", rng)
    live = {"biases": net.biases, "weights": net.weights}
    mine = lambda: (net.total_cost(data, lmbda), dict(zip(live, net.gradient(data, lmbda))))  # noqa: E731
    rows = check_gradients(mine, live, nielsen_reference(data, lmbda))
    failing = {(r["oracle"], r["parameter"]) for r in rows if r["status"] == "fail"}
    assert failing == NIELSEN_PARAMS  # the output error feeds every layer; the loss is right
    worst = next(r for r in rows if (r["oracle"], r["parameter"]) == ("fd", "biases[1]"))
    assert worst["worst_index"].startswith("(") and worst["worst_index"].endswith(", 0)")


def test_nielsen_params_as_a_list_are_named_by_position(rng):
    """[biases, weights], the order backprop returns its (nabla_b, nabla_w) in."""
    net, data = nielsen_network("network", rng)
    x, y = data[0]
    rows = check_gradients(lambda: (0.5 * np.sum((net.feedforward(x) - y) ** 2),
                                    net.backprop(x, y)), [net.biases, net.weights])
    assert {r["parameter"] for r in rows} == {f"params[{i}][{l}]" for i in (0, 1)
                                              for l in (0, 1)}
    assert all(r["status"] == "pass" for r in rows)


# --------------------------------------------------------------------------------------
# the tutorial "Check your own code" runs as written, on these students' networks
# --------------------------------------------------------------------------------------
PAGE = "docs/tutorials/check-your-code.md"


def test_docs_examples_run(rng):
    from _docs import blocks, run

    cs231n, nielsen = [b for b in blocks(PAGE, "python", "tested-by")
                       if b.why == "tests/students/test_students.py"]
    net, X, y = two_layer_net("two_layer_net", rng)
    namespace = {"net": net, "X": X, "y": y, "reg": 0.05}
    run(cs231n, namespace)
    assert len(namespace["rows"]) == 13 and not failures(namespace["rows"])
    net, data = nielsen_network("network", rng)
    namespace.update(net=net, data=data, lmbda=0.5, reference=nielsen_reference(data, 0.5))
    run(nielsen, namespace)  # after the first block, as on the page
    assert len(namespace["rows"]) == 13 and not failures(namespace["rows"])
