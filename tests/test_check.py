"""check_gradients and check_layer on untrusted student code: every way a student's code can
go wrong gives a failing row with its named message (or, for the instructor's own
arguments, a clear error before any work), and the checker never crashes or leaves an
array changed."""

import threading
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from comparisons import check_gradients, check_layer, compare_network, failures
from comparisons.run.rows import ROW_COLUMNS
from comparisons.testing import assert_gradients_match, assert_layer_matches
from manual import MLP
from manual.layers import Linear


class Student:
    """A small softmax regression written as students write it: live params, (loss, grads)."""

    def __init__(self, rng, dtype=np.float64):
        self.params = {"W": rng.standard_normal((4, 3)).astype(dtype),
                       "b": rng.standard_normal(3).astype(dtype)}
        self.X = rng.standard_normal((5, 4)).astype(dtype)
        self.y = np.array([0, 1, 2, 1, 0])

    def loss(self):
        W, b = self.params["W"], self.params["b"]
        s = self.X @ W + b
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        N = len(self.y)
        loss = -np.log(p[np.arange(N), self.y]).mean()
        d = p.copy()
        d[np.arange(N), self.y] -= 1
        d /= N
        return loss, {"W": self.X.T @ d, "b": d.sum(axis=0)}

    def reference(self, p):
        X, y = torch.from_numpy(self.X), torch.from_numpy(self.y)
        return F.cross_entropy(X @ p["W"] + p["b"], y)


def notes(rows):
    return [r["note"] for r in rows if r["status"] == "fail"]


def test_student_passes_and_rows_have_the_report_columns(rng):
    s = Student(rng)
    before = {k: v.copy() for k, v in s.params.items()}
    rows = assert_gradients_match(s.loss, s.params, s.reference)
    assert all(list(r) == ROW_COLUMNS for r in rows)
    assert {r["oracle"] for r in rows} == {"torch", "fd", "taylor"}
    assert all(np.array_equal(before[k], s.params[k]) for k in before)  # restored exactly


def test_without_reference_the_torch_free_oracles_run(rng):
    s = Student(rng)
    rows = check_gradients(s.loss, s.params)
    assert {r["oracle"] for r in rows} == {"fd", "taylor"} and not failures(rows)


# --------------------------------------------------------------------------------------
# negative controls: each its named message
# --------------------------------------------------------------------------------------
def test_copies_instead_of_live_params_are_named_not_blamed_on_the_gradient(rng):
    s = Student(rng)
    copies = {k: v.copy() for k, v in s.params.items()}
    rows = check_gradients(s.loss, copies, s.reference)
    for name in ("W", "b"):
        for oracle in ("fd", "taylor"):
            (row,) = [r for r in rows if (r["oracle"], r["parameter"]) == (oracle, name)]
            assert row["status"] == "fail"
            assert row["note"].startswith(f"perturbing params['{name}'] does not change the "
                                          f"loss: the arrays are probably copies, not the live "
                                          f"arrays your loss reads")
    assert all(r["status"] == "pass" for r in rows if r["oracle"] == "torch")


def test_an_exception_in_student_code_is_a_failing_row(rng):
    s = Student(rng)

    def broken():
        return s.loss()[0] / 0 if False else 1 / 0

    (row,) = check_gradients(broken, s.params, s.reference)
    assert row["status"] == "fail" and row["note"] == (
        "loss_and_grads() raised ZeroDivisionError: division by zero")


def test_an_exception_during_the_sweep_names_the_perturbed_element(rng):
    s = Student(rng)
    w00 = s.params["W"][0, 0]

    def fragile():
        if s.params["W"][0, 0] == w00 + 1e-5:  # fails only at the finite-difference step
            raise ValueError("bad input")
        return s.loss()

    before = {k: v.copy() for k, v in s.params.items()}
    rows = check_gradients(fragile, s.params, oracles=["fd"])
    assert "during the finite-difference sweep, loss_and_grads() raised ValueError: bad " \
           "input (while params['W'][0, 0] was perturbed)" in notes(rows)
    assert all(np.array_equal(before[k], s.params[k]) for k in before)


def test_in_place_mutation_of_the_input_is_reported():
    def relu_forward(x):
        x[x < 0] = 0  # overwrites the caller's x
        return x, x

    def relu_backward(dout, cache):
        return dout * (cache > 0)

    x = np.random.default_rng(0).standard_normal((3, 4)) + 0.01
    saved = x.copy()
    rows = check_layer(relu_forward, relu_backward, (x,), torch.relu)
    assert notes(rows)[0].startswith("relu_forward(x) changed its input x in place")
    assert np.array_equal(x, saved)  # the checker hands over copies
    # the gradients themselves are right: only the mutation fails
    assert [r["parameter"] for r in rows if r["status"] == "fail"] == ["x"]


def test_a_training_step_inside_the_call_is_reported(rng):
    s = Student(rng)

    def loss_and_step():
        loss, grads = s.loss()
        s.params["W"] -= 0.1 * grads["W"]
        return loss, grads

    rows = check_gradients(loss_and_step, s.params, oracles=["torch"], reference=s.reference)
    assert notes(rows)[0].startswith("loss_and_grads() changed params['W'] in place")


@pytest.mark.parametrize("mangle, message", [
    (lambda g: {**g, "W": g["W"].T}, "grads['W'] has shape (3, 4), params['W'] is (4, 3)"),
    (lambda g: {"W": g["W"]}, "grads has no entry for 'b'"),
    (lambda g: {**g, "W2": g["W"]}, "grads has an entry 'W2' that params lacks"),
    (lambda g: {**g, "b": None}, "grads['b'] is None, not an array"),
    (lambda g: [g["W"], g["b"]], "grads is a list, but params is a dict: grads must mirror "
                                 "params"),
    (lambda g: {**g, "b": g["b"] * np.nan}, "loss_and_grads(): grads['b'] contains nan "
                                           "(first at index (0,))"),
])
def test_mis_shaped_or_missing_grads_are_named(rng, mangle, message):
    s = Student(rng)
    rows = check_gradients(lambda: (s.loss()[0], mangle(s.loss()[1])), s.params, s.reference)
    assert message in notes(rows)
    # only the student's structure fails: every comparison that could be made passes
    assert all(r["status"] == "pass" for r in rows if r["oracle"] != "student")


@pytest.mark.parametrize("result, message", [
    (lambda s: (np.ones(3), s.loss()[1]), "returned a loss of shape (3,), not a scalar"),
    (lambda s: (np.nan, s.loss()[1]), "returned a loss of nan"),
    (lambda s: (np.inf, s.loss()[1]), "returned a loss of inf"),
    (lambda s: ("0.5", s.loss()[1]), "returned a loss of type str, not a number"),
    (lambda s: s.loss()[0], "returned a float64, not a (loss, grads) pair"),
])
def test_bad_loss_values_are_failing_rows(rng, result, message):
    s = Student(rng)
    (row,) = check_gradients(lambda: result(s), s.params, s.reference)
    assert row["note"] == f"loss_and_grads() {message}"


@pytest.mark.parametrize("reference, message", [
    (lambda p: 1 / 0, "reference(params) raised ZeroDivisionError: division by zero"),
    (lambda p: p["W"].sum(dim=0), "reference(params) returned a tensor of shape (3,), not a "
                                  "scalar"),
    (lambda p: 0.5, "reference(params) returned a float, not a torch tensor"),
    (lambda p: torch.tensor(0.5), "reference(params)'s result does not depend on its tensors"),
])
def test_a_broken_reference_is_a_failing_row(rng, reference, message):
    s = Student(rng)
    rows = check_gradients(s.loss, s.params, reference)
    (row,) = [r for r in rows if r["oracle"] == "torch"]
    assert row["status"] == "fail" and row["note"].startswith(message)
    assert all(r["status"] == "pass" for r in rows if r["oracle"] != "torch")


def test_oracles_are_checked_before_any_work(rng):
    s = Student(rng)
    calls = []

    def counted():
        calls.append(1)
        return s.loss()

    with pytest.raises(TypeError, match=r"not the string 'fd' \(write \['fd'\]\)"):
        check_gradients(counted, s.params, oracles="fd")
    with pytest.raises(ValueError, match=r"unknown oracle\(s\) \['vjp'\]"):
        check_gradients(counted, s.params, oracles=["fd", "vjp"])
    with pytest.raises(ValueError, match="oracle 'torch' needs a reference"):
        check_gradients(counted, s.params, oracles=["torch"])
    assert not calls
    net = MLP([3, 2, 1], activation="tanh", loss="mse", seed=0)
    with pytest.raises(TypeError, match="not the string 'fd'"):
        compare_network(net, np.ones((2, 3)), np.ones((2, 1)), oracles="fd")
    with pytest.raises(ValueError, match=r"unknown oracle\(s\) \['complex'\]"):
        compare_network(net, np.ones((2, 3)), np.ones((2, 1)), oracles=["complex"])


def test_bad_params_are_rejected_with_a_clear_message(rng):
    s = Student(rng)
    with pytest.raises(TypeError, match="params must be a dict, a list or a tuple of NumPy "
                                        "arrays"):
        check_gradients(s.loss, 3.0)
    # one array is params (CS231n's bare (loss, dW)): grads must then be one array too
    assert notes(check_gradients(s.loss, s.params["W"])) == [
        "the gradient is a dict, not an array"]
    ints = {"W": np.ones((4, 3), dtype=np.int64), "b": s.params["b"]}
    rows = check_gradients(lambda: s.loss(), ints)
    assert ("params['W'] has integer dtype int64: gradients and finite differences need float "
            "arrays (np.float64)") in notes(rows)
    shared = {"W": s.params["W"], "W_again": s.params["W"][:2], "b": s.params["b"]}
    assert ("params['W_again'] shares memory with params['W']: each parameter must be its own "
            "array") in notes(check_gradients(s.loss, shared))
    assert notes(check_gradients(s.loss, {"b": 0.0}))[0].startswith(
        "params['b'] is a float, not a NumPy array")


def test_a_random_loss_is_named(rng):
    s = Student(rng)
    noise = np.random.default_rng(0)
    rows = check_gradients(lambda: (s.loss()[0] + noise.standard_normal(), s.loss()[1]),
                           s.params)
    assert "the loss is random (dropout? a random batch?)" in notes(rows)[0]


def test_slow_student_code_hits_the_time_limit(rng):
    s = Student(rng)

    def slow():
        time.sleep(0.02)
        return s.loss()

    rows = check_gradients(slow, s.params, time_limit=0.3)
    (row,) = [r for r in rows if r["parameter"] == "time"]
    assert row["status"] == "fail" and row["note"].startswith(
        "time limit of 0.3 s reached during the finite-difference sweep (30 calls of "
        "loss_and_grads())")


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="an endless loop is interrupted by SIGALRM, in the main thread only")
def test_an_endless_loop_is_interrupted(rng):
    s = Student(rng)

    def endless():
        while True:
            try:
                time.sleep(0.01)
            except Exception:  # noqa: BLE001 - a student's catch-all cannot swallow the limit
                pass

    (row,) = check_gradients(endless, s.params, time_limit=0.2)
    assert row["note"].startswith("time limit of 0.2 s reached during the first call of "
                                  "loss_and_grads()")


def test_float32_params_are_compared_in_float32_and_fd_is_skipped_with_reason(rng):
    s = Student(rng, np.float32)
    rows = check_gradients(s.loss, s.params, s.reference)
    assert {r["status"] for r in rows if r["oracle"] == "torch"} == {"pass"}
    assert {r["rtol"] for r in rows if r["oracle"] == "torch"} == {1e-5}
    skipped = [r for r in rows if r["oracle"] in ("fd", "taylor")]
    assert len(skipped) == 4 and {r["status"] for r in skipped} == {"skipped"}
    assert "need float64" in skipped[0]["note"]


def test_compare_network_tells_no_intermediates_from_none_differing():
    X = np.random.default_rng(0).standard_normal((4, 3))
    y = np.random.default_rng(1).standard_normal((4, 1))

    class Halved(MLP):  # right forward and intermediates, every gradient halved
        def gradients(self, X, y):
            loss, grads = super().gradients(X, y)
            return loss, {k: v / 2 for k, v in grads.items()}

    class NoTrace:  # a student's network: the methods compare_network uses, no intermediates
        def __init__(self, *args, **kwargs):
            self._net = Halved(*args, **kwargs)
            for name in ("params", "activation", "output_activation", "loss_fn", "gradients",
                         "loss", "forward", "backward"):
                setattr(self, name, getattr(self._net, name))

    for cls, text in ((Halved, "no intermediate differs: parameter gradients only"),
                      (NoTrace, "no intermediates given: the network has no `intermediates` "
                                "to compare")):
        net = cls([3, 2, 1], activation="tanh", loss="mse", seed=0)
        rows = compare_network(net, X, y, oracles=["torch"])
        assert {r["first_divergence"] for r in rows} == {text}


# --------------------------------------------------------------------------------------
# check_layer
# --------------------------------------------------------------------------------------
def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def test_check_layer_function_pair_passes_and_names_inputs():
    r = np.random.default_rng(0)
    inputs = (r.standard_normal((3, 4)), r.standard_normal((4, 2)), r.standard_normal(2))
    rows = assert_layer_matches(affine_forward, affine_backward, inputs,
                                lambda x, w, b: F.linear(x, w.T, b))
    assert {(r["oracle"], r["parameter"]) for r in rows} == {
        ("torch", "out"), ("torch", "x"), ("torch", "w"), ("torch", "b"),
        ("fd", "x"), ("fd", "w"), ("fd", "b")}


def test_check_layer_catches_a_wrong_backward_and_bad_returns():
    r = np.random.default_rng(0)
    inputs = (r.standard_normal((3, 4)), r.standard_normal((4, 2)), r.standard_normal(2))
    ref = lambda x, w, b: F.linear(x, w.T, b)  # noqa: E731
    with pytest.raises(AssertionError, match=r"(?m)^affine_forward/wrong \[torch\] b: 2 of 2 "):
        def wrong(dout, cache):
            dx, dw, db = affine_backward(dout, cache)
            return dx, dw, 2 * db
        assert_layer_matches(affine_forward, wrong, inputs, ref)

    def two(dout, cache):
        return affine_backward(dout, cache)[:2]
    assert ("two(dout, cache) returned 2 gradient(s), expected 3: (dx, dw, db)"
            in notes(check_layer(affine_forward, two, inputs, ref)))

    def no_cache(x, w, b):
        return x @ w + b
    assert notes(check_layer(no_cache, affine_backward, inputs, ref)) == [
        "no_cache(x, w, b) returned a ndarray, not (out, cache)"]

    def raises(x, w, b):
        return np.linalg.inv(w), None  # w is (4, 2)
    assert notes(check_layer(raises, affine_backward, inputs, ref))[0].startswith(
        "raises(x, w, b) raised LinAlgError: ")

    def mutates_dout(dout, cache):
        dout *= 1.0
        dout[0] = 0.0
        return affine_backward(dout, cache)
    assert notes(check_layer(affine_forward, mutates_dout, inputs, ref))[0].startswith(
        "mutates_dout(dout, cache) changed dout in place")


def test_check_layer_accepts_the_layer_protocol():
    layer = Linear(4, 3, rng=0)
    x = np.random.default_rng(1).standard_normal((5, 4))
    rows = assert_layer_matches(layer, inputs=x, reference=torch.nn.Linear(4, 3,
                                                                           dtype=torch.float64))
    assert {r["parameter"] for r in rows} == {"out", "input", "weight", "bias"}

    class Broken(Linear):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grads["bias"] = self.grads["bias"] + 1.0
            return dx

    # float32: compared with torch in float32, finite differences on the float64 twin
    rows = assert_layer_matches(Linear(4, 3, dtype=np.float32, rng=0),
                                inputs=x.astype(np.float32),
                                reference=torch.nn.Linear(4, 3, dtype=torch.float32))
    assert {(r["oracle"], r["rtol"]) for r in rows} == {("torch", 1e-5), ("fd", 1e-5)}

    rows = check_layer(Broken(4, 3, rng=0), x, lambda x, p: F.linear(x, p["weight"], p["bias"]))
    assert {(r["oracle"], r["parameter"]) for r in rows if r["status"] == "fail"} == {
        ("torch", "bias"), ("fd", "bias")}


# --------------------------------------------------------------------------------------
# students' conventions, zero gradients and kinks
# --------------------------------------------------------------------------------------
def test_a_parameter_the_loss_ignores_passes_with_a_rounding_residue_as_gradient(rng):
    """A bias before batch norm: the loss is exactly unchanged when it moves, and a
    gradient of 5.6e-18 is 0 within the finite-difference tolerance, not "copies"."""
    s = Student(rng)
    params = {**s.params, "unused": rng.standard_normal(3)}

    def loss():
        value, grads = s.loss()
        return value, {**grads, "unused": np.full(3, 5.6e-18)}

    rows = check_gradients(loss, params)
    assert not failures(rows)
    assert {r["status"] for r in rows if r["parameter"] == "unused"} == {"pass"}
    # a gradient beyond the tolerance for a parameter that moves nothing still fails
    rows = check_gradients(lambda: (s.loss()[0], {**s.loss()[1], "unused": np.ones(3)}),
                           params)
    assert "probably copies" in notes(rows)[0]


def test_cs231n_bare_loss_and_dW_with_one_array(rng):
    """svm_loss_naive(W, X, y, reg) -> (loss, dW): one array is params, one array grads."""
    s = Student(rng)
    W, b = s.params["W"], s.params["b"]
    rows = assert_gradients_match(lambda: (s.loss()[0], s.loss()[1]["W"]), W,
                                  lambda W_t: s.reference({"W": W_t, "b": torch.from_numpy(b)}),
                                  names="W")
    assert {r["parameter"] for r in rows} == {"loss", "W"}
    rows = check_gradients(lambda: (s.loss()[0], s.loss()[1]["W"].T), W)
    assert notes(rows) == ["the gradient has shape (3, 4), params is (4, 3)"]


def test_list_params_named_with_names(rng):
    s = Student(rng)
    params = [s.params["W"], s.params["b"]]
    rows = check_gradients(lambda: (s.loss()[0], [s.loss()[1]["W"], 2 * s.loss()[1]["b"]]),
                           params, names=["W", "b"])
    assert {r["parameter"] for r in rows if r["status"] == "fail"} == {"b"}
    with pytest.raises(ValueError, match="names has 3 entries for 2 parameter"):
        check_gradients(s.loss, params, names=["W", "b", "c"])
    with pytest.raises(TypeError, match="a dict's keys already name its entries"):
        check_gradients(s.loss, s.params, names=["W", "b"])


def test_torch_tensors_are_the_students_arrays(rng):
    """Manual backprop on tensors (requiring grad, as in Karpathy's notebooks): perturbed
    through their shared .detach().numpy() view, and restored."""
    s = Student(rng)
    W = torch.tensor(s.params["W"], requires_grad=True)
    b = torch.tensor(s.params["b"], requires_grad=True)

    def loss():
        s.params = {"W": W.detach().numpy(), "b": b.detach().numpy()}
        value, grads = s.loss()
        return torch.tensor(value), {k: torch.from_numpy(v) for k, v in grads.items()}

    before = W.detach().clone()
    rows = assert_gradients_match(loss, {"W": W, "b": b}, s.reference)
    assert {r["oracle"] for r in rows} == {"torch", "fd", "taylor"}
    assert torch.equal(W.detach(), before)
    ints = torch.ones(3, dtype=torch.int64)
    assert "is a torch tensor of dtype torch.int64" in notes(check_gradients(loss, {"b": ints}))[0]


def test_ng_grads_keyed_dW_ignore_the_other_entries(rng):
    s = Student(rng)
    rows = check_gradients(lambda: (s.loss()[0], {"dW": s.loss()[1]["W"], "db": s.loss()[1]["b"],
                                                  "dA0": np.zeros(2)}), s.params, s.reference)
    assert not failures(rows)
    (row,) = [r for r in rows if r["parameter"] == "grads"]
    assert row["status"] == "skipped" and "not parameters, ignored: grads['dA0']" in row["note"]


@pytest.mark.parametrize("offset", [0.0, 1e-5 / 3, 0.7e-5])
def test_an_element_at_a_kink_is_judged_by_torch_only(offset):
    """sum |x - c| with one element at the kink (offset 0) or within a finite-difference
    step of it (where the central difference is off): torch's convention (sign(0) = 0)
    decides that element; the others are compared with finite differences as ever."""
    c = np.array([0.3, -0.2, 0.5])
    x = c + np.array([offset, 0.8, -0.6])

    def loss():
        return np.abs(x - c).sum() + 0.5 * (x ** 2).sum(), {"x": np.sign(x - c) + x}

    reference = lambda p: (p["x"] - torch.from_numpy(c)).abs().sum() + 0.5 * (p["x"] ** 2).sum()  # noqa: E731
    rows = check_gradients(loss, {"x": x}, reference)
    assert not failures(rows)
    (fd,) = [r for r in rows if r["oracle"] == "fd"]
    assert fd["note"].startswith("1 of 3 elements not differentiable here")
    (taylor,) = [r for r in rows if r["oracle"] == "taylor"]
    assert taylor["status"] == "pass" and taylor["size"] == 2
    # without a reference the element is not checked at all, and the row says so
    (fd,) = [r for r in check_gradients(loss, {"x": x}) if r["oracle"] == "fd"]
    assert "not checked (no torch reference)" in fd["note"]
    # a wrong gradient elsewhere still fails, and the note keeps the figures
    wrong = lambda: (loss()[0], {"x": loss()[1]["x"] * np.array([1, 1.01, 1])})  # noqa: E731
    (fd,) = [r for r in check_gradients(wrong, {"x": x}, reference) if r["oracle"] == "fd"]
    assert fd["status"] == "fail" and fd["note"].startswith("1 of 3 elements beyond tolerance")


def test_check_layer_names_a_loop_that_kept_its_last_pass_and_nothing_for_noise():
    """The shares of the upstream gradient (check_layer's own hypotheses): dw from the
    last sample only, as ``dw = x[n].T @ dout[n]`` in a loop over n with = for +=, is
    named; noise on every gradient names nothing."""
    from manual.layers import affine_backward, affine_forward

    r = np.random.default_rng(0)
    inputs = (r.standard_normal((3, 4)), r.standard_normal((4, 2)), r.standard_normal(2))
    ref = lambda x, w, b: F.linear(x, w.T, b)  # noqa: E731

    def last_sample(dout, cache):
        dx, dw, db = affine_backward(dout, cache)
        x = cache[0]
        return dx, np.outer(x[-1], dout[-1]), db

    def noisy(dout, cache):
        noise = np.random.default_rng(1)
        return tuple(g + 1e-4 * noise.standard_normal(g.shape)
                     for g in affine_backward(dout, cache))

    rows = check_layer(affine_forward, last_sample, inputs, ref)
    w_notes = [r["note"] for r in rows if r["parameter"] == "W" and r["status"] == "fail"]
    assert w_notes and all("the share of the last index along output axis 0 only" in n
                           for n in w_notes), w_notes
    rows = check_layer(affine_forward, noisy, inputs, ref)
    failing = [r for r in rows if r["status"] == "fail"]
    assert {r["parameter"] for r in failing} == {"x", "W", "b"}
    assert not [r["note"] for r in failing if "likely slip" in str(r["note"])]


@pytest.mark.parametrize("slip, words", [
    (lambda y: 1 - y, "tanh's derivative written as 1 - tanh(z), not squared"),
    (lambda y: np.ones_like(y), "every activation's derivative f'(z) left out"),
])
def test_check_layer_names_a_wrong_or_missing_activation_derivative(slip, words):
    """A pair y = tanh(x @ w) whose backward uses ``slip(y)`` for tanh'(z): named from the
    reference's own tanh, in every failing row (x and w)."""
    def forward(x, w):
        y = np.tanh(x @ w)
        return y, (x, w, y)

    def backward(dy, cache):
        x, w, y = cache
        dz = dy * slip(y)
        return dz @ w.T, x.T @ dz

    r = np.random.default_rng(2)
    rows = check_layer(forward, backward, (r.standard_normal((4, 3)), r.standard_normal((3, 5))),
                       lambda x, w: torch.tanh(x @ w))
    failing = [row for row in rows if row["status"] == "fail"]
    assert {row["parameter"] for row in failing} == {"x", "w"}
    assert all(words in str(row["note"]) for row in failing), [row["note"] for row in failing]
