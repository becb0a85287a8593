"""Worked examples: two students' networks, each checked against torch and finite
differences with at most three lines of checking code (plus the instructor's torch
reference), each with its planted bug caught and named.

The students' files sit beside this one and are loaded by path (``two_layer_net.py``,
``network.py`` and their buggy twins); they are not test files.
"""

import importlib.util
import re
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
    # and the slip is named: the ReLU's derivative (its mask) never multiplied in
    for r in rows:
        if r["oracle"] in ("torch", "fd") and r["status"] == "fail":
            assert (f"likely slip: your d{r['parameter']} is the gradient with every "
                    f"activation's derivative f'(z) left out (relu") in r["note"], r
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
    # the slip is named: the output layer's sigma'(z) (the last activation's) left out
    for r in rows:
        if r["oracle"] in ("torch", "fd") and r["status"] == "fail":
            assert ("the gradient with the derivative f'(z) of the 2nd of 2 activations "
                    "(sigmoid, the last) left out") in r["note"], r
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


# --------------------------------------------------------------------------------------
# Karpathy: manual backprop on torch tensors, a flat parameters list, batch norm with
# Bessel's correction (the loss does not depend on b1 at all)
# --------------------------------------------------------------------------------------
KARPATHY_NAMES = ["C", "W1", "b1", "W2", "b2", "bngain", "bnbias"]


def karpathy_batch():
    g = torch.Generator().manual_seed(42)
    return torch.randint(0, 6, (8, 3), generator=g), torch.randint(0, 6, (8,), generator=g)


def karpathy_reference(Xb, Yb, bessel=True):
    """The instructor's reference on the list [C, W1, b1, W2, b2, bngain, bnbias]; with
    bessel=False it uses F.batch_norm, whose batch variance is the biased one."""
    def reference(p):
        C, W1, b1, W2, b2, bngain, bnbias = p
        hpre = C[Xb].view(Xb.shape[0], -1) @ W1 + b1
        if bessel:
            mean, var = hpre.mean(0, keepdim=True), hpre.var(0, keepdim=True, correction=1)
            hpreact = bngain * (hpre - mean) / torch.sqrt(var + 1e-5) + bnbias
        else:
            hpreact = F.batch_norm(hpre, None, None, bngain[0], bnbias[0], training=True,
                                   eps=1e-5)
        return F.cross_entropy(torch.tanh(hpreact) @ W2 + b2, Yb)
    return reference


def test_karpathy_batchnorm_net_passes_with_b1_at_zero_gradient():
    net, (Xb, Yb) = student("makemore_bn").MLP(), karpathy_batch()
    before = [p.clone() for p in net.parameters]
    # the check, one line (names= so that rows read W1, not params[1]):
    rows = assert_gradients_match(lambda: net.loss_and_grads(Xb, Yb), net.parameters,
                                  karpathy_reference(Xb, Yb), names=KARPATHY_NAMES)
    assert {(r["oracle"], r["parameter"]) for r in rows} == {("torch", "loss")} | {
        (o, p) for o in ("torch", "fd", "taylor") for p in KARPATHY_NAMES}
    # b1 has no effect on the loss: a zero gradient, not "probably copies"
    b1 = next(r for r in rows if (r["oracle"], r["parameter"]) == ("fd", "b1"))
    assert abs(b1["reference_value"]) < 1e-8 and abs(b1["manual_value"]) < 1e-12
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters))  # restored


def test_karpathy_wrong_dW2_fails_naming_W2_only():
    net, (Xb, Yb) = student("makemore_bn_buggy").MLP(), karpathy_batch()
    rows = check_gradients(lambda: net.loss_and_grads(Xb, Yb), net.parameters,
                           karpathy_reference(Xb, Yb), names=KARPATHY_NAMES)
    failing = {(r["oracle"], r["parameter"]) for r in rows if r["status"] == "fail"}
    assert failing == {("torch", "W2"), ("fd", "W2"), ("taylor", "W2")}
    worst = next(r for r in rows if (r["oracle"], r["parameter"]) == ("fd", "W2"))
    assert worst["shape"] == "4x6" and worst["worst_index"].count(",") == 1  # (hidden, vocab)
    # the pre-activation where the activation belongs: named on W2's torch and fd rows
    named = {(r["oracle"], r["parameter"]) for r in rows if "likely slip" in str(r["note"])}
    assert named == {("torch", "W2"), ("fd", "W2")}
    assert all("weight gradient of the layer after activation 1 of 1 (tanh) taken from its "
               "pre-activation z" in r["note"] for r in rows if "likely slip" in str(r["note"]))


def test_a_reference_with_other_conventions_is_named_not_the_student():
    """F.batch_norm's biased variance against the student's Bessel-corrected one: only the
    torch rows fail, and a row says the reference computes a different function."""
    net, (Xb, Yb) = student("makemore_bn").MLP(), karpathy_batch()
    rows = check_gradients(lambda: net.loss_and_grads(Xb, Yb), net.parameters,
                           karpathy_reference(Xb, Yb, bessel=False), names=KARPATHY_NAMES)
    assert {r["oracle"] for r in rows if r["status"] == "fail"} == {"torch"}
    (hint,) = [r for r in rows if r["parameter"] == "reference"]
    assert re.search(r"your reference computes a different function \(rel \d\.\de-0[45]\): "
                     r"check its conventions \(e\.g\. biased vs unbiased variance", hint["note"])


# --------------------------------------------------------------------------------------
# Andrew Ng: examples as columns, zero biases, grads keyed dW1/db1 beside dA0; a blank
# example puts every first- and second-layer pre-activation exactly at ReLU's kink
# --------------------------------------------------------------------------------------
def ng_data(rng):
    X = rng.standard_normal((4, 6))
    X[:, 0] = 0  # a blank example: W1 @ 0 + b1 = 0 exactly, and then W2 @ relu(0) + b2 = 0
    Y = (rng.random((1, 6)) > 0.5).astype(float)
    return X, Y


def ng_reference(X, Y):
    def reference(p):
        A, L = torch.from_numpy(X), len(p) // 2
        for l in range(1, L):
            A = torch.relu(p[f"W{l}"] @ A + p[f"b{l}"])
        return F.binary_cross_entropy(torch.sigmoid(p[f"W{L}"] @ A + p[f"b{L}"]),
                                      torch.from_numpy(Y))
    return reference


def ng_check(name, rng):
    ng = student(name)
    parameters = ng.initialize_parameters_deep([4, 5, 3, 1])
    X, Y = ng_data(rng)

    # the check, three lines:
    def mine():
        AL, caches = ng.L_model_forward(X, parameters)
        return ng.compute_cost(AL, Y), ng.L_model_backward(AL, Y, caches)
    return check_gradients(mine, parameters, ng_reference(X, Y))


NG_PARAMS = ("W1", "b1", "W2", "b2", "W3", "b3")


def test_ng_deep_net_at_a_relu_kink_passes(rng):
    rows = ng_check("deep_nn", rng)
    assert not failures(rows)
    # dA0, dA1, dA2 are no parameters: ignored, and listed
    (ignored,) = [r for r in rows if r["parameter"] == "grads"]
    assert ignored["status"] == "skipped" and all(
        f"grads['dA{l}']" in ignored["note"] for l in range(3))
    # b1 and b2 sit at the kink: judged by torch only, named in the finite-difference row
    fd = {r["parameter"]: r for r in rows if r["oracle"] == "fd"}
    for name in ("b1", "b2"):
        assert "not differentiable here" in fd[name]["note"]
        assert "judged by torch only" in fd[name]["note"]
        assert fd[name]["worst_index"].endswith(", 0)")  # (unit, 0): columns as examples
    assert "3 of 3 elements" in fd["b2"]["note"]
    assert {r["parameter"] for r in rows if r["status"] == "skipped"} == {"grads", "b2"}
    assert all(fd[name]["note"] == "" for name in ("W1", "W2", "W3", "b3"))
    assert {(r["oracle"], r["parameter"]) for r in rows if r["status"] == "pass"} >= {
        (o, p) for o in ("torch", "fd") for p in NG_PARAMS}


def test_ng_output_layer_dW_without_1_over_m_fails_naming_W3_only(rng):
    rows = ng_check("deep_nn_buggy", rng)
    failing = {(r["oracle"], r["parameter"]) for r in rows if r["status"] == "fail"}
    assert failing == {("torch", "W3"), ("fd", "W3"), ("taylor", "W3")}
    w3 = next(r for r in rows if (r["oracle"], r["parameter"]) == ("torch", "W3"))
    assert w3["shape"] == "1x3" and w3["worst_index"].startswith("(0, ")
    # the slip is named: the mean over the examples forgotten
    m = 6  # examples (columns) in ng_data
    for oracle in ("torch", "fd"):
        row = next(r for r in rows if (r["oracle"], r["parameter"]) == (oracle, "W3"))
        assert f"likely slip: your dW3 is {m} times the true gradient" in row["note"], row
