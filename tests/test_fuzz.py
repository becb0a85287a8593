"""The seeded fuzz of activations and losses against torch (comparisons.run.fuzz), small enough
for every run, and torch's own OpInfo samples for the functions we implement."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
import torch

from comparisons.run.fuzz import (OPINFO_NAMES, fuzz, make_case, opinfo, opinfo_case, run_case,
                              summary)


def _failures(table: pd.DataFrame) -> str:
    rows = table[table.status == "fail"]
    with pd.option_context("display.max_colwidth", 300, "display.width", 250):
        return rows.to_string(index=False)


def test_small_fuzz_has_no_failures():
    table = fuzz(600, seed=0)
    counts = summary(table)
    assert counts["total"] == 600 and counts["fail"] == 0, _failures(table)
    assert list(table.columns) == ["case", "function", "shape", "kwargs", "dtype", "status",
                                   "err_over_tol", "note"]
    assert set(table.status) <= {"pass", "xfail"}
    assert table.loc[table.status == "xfail", "note"].str.len().gt(0).all()  # with a reason
    assert set(table.dtype) == {"float32", "float64"}


def test_small_fuzz_with_infinities_and_nan_has_no_failures():
    """--nonfinite: +-inf and NaN inputs, with the documented deviations as xfail."""
    table = fuzz(300, seed=0, nonfinite=True)
    assert summary(table)["fail"] == 0, _failures(table)


def test_fuzz_is_deterministic_case_by_case():
    a, b = make_case(17, seed=3), make_case(17, seed=3)
    assert a.function == b.function and a.kwargs.keys() == b.kwargs.keys()
    for key in a.inputs:
        np.testing.assert_array_equal(a.inputs[key], b.inputs[key])
    assert run_case(a) == run_case(b)


def test_fuzz_catches_a_wrong_function(monkeypatch):
    """Negative control: a relu whose derivative is 1 at the kink fails the fuzz."""
    from manual.activations import ReLU

    monkeypatch.setattr(ReLU, "_derivative",
                        lambda self, z: (np.real(z) >= 0).astype(z.dtype))
    table = fuzz(400, seed=0)
    failed = table[table.status == "fail"]
    assert len(failed) and set(failed.function) == {"relu"}, _failures(table)


# ---- torch's OpInfo samples ------------------------------------------------------------
@pytest.fixture(scope="module")
def opinfo_ops():
    """The OpInfo entries of our activations and losses (op_db is imported once: ~5 s;
    torch's test helpers need ``expecttest``, in the dev extra)."""
    # no skip: the pinned torch ships its test helpers and the dev extra has expecttest,
    # so an ImportError here is a broken install and must fail
    from torch.testing._internal.common_methods_invocations import op_db

    return [op for op in op_db if op.name in OPINFO_NAMES and op.variant_test_name == ""]


def test_opinfo_covers_every_function_it_names(opinfo_ops):
    assert {op.name for op in opinfo_ops} == set(OPINFO_NAMES)


def test_opinfo_samples_agree_with_torch(opinfo_ops):
    """Each sample (CPU, float32 and float64, at most 20 per op and dtype) and each error
    input either matches torch (value and input gradient) or is refused exactly where
    torch refuses it; at least 95% pass, and none fails."""
    table = opinfo(opinfo_ops, (torch.float32, torch.float64), max_per_op=20)
    counts = summary(table)
    not_passing = table[table.status != "pass"]
    with pd.option_context("display.max_colwidth", 300, "display.width", 250):
        listing = not_passing.to_string(index=False)
    assert counts["fail"] == 0, listing
    assert counts["pass"] >= 0.95 * counts["total"], listing
    assert counts["total"] >= 400  # every op contributed samples


def test_opinfo_case_maps_gelu_approximation_to_our_two_names(opinfo_ops):
    gelu = next(op for op in opinfo_ops if op.name == "nn.functional.gelu")
    names = {opinfo_case(gelu.name, s, 0).function
             for s in gelu.sample_inputs("cpu", torch.float64)}
    assert names == {"gelu", "gelu_tanh"}


def test_the_module_example_runs():
    import doctest

    import comparisons.run.fuzz

    result = doctest.testmod(comparisons.run.fuzz)
    assert result.attempted > 0 and result.failed == 0


# ---- what the fuzz found: each difference, now fixed, as a fixed case ----------------------
def _case(name, kwargs, dtype=np.float64, **inputs):
    from comparisons.run.fuzz import FuzzCase

    kind = "activation" if "z" in inputs else "loss"
    return FuzzCase(0, name, kind, np.dtype(dtype), kwargs, inputs, [0, 0, 1])


_F = np.array
FOUND = {
    # torch divides the two smoothed terms by a zero weight sum apart: NaN, not inf
    "ce-smoothing-zero-weights": _case(
        "cross_entropy", {"label_smoothing": 0.1, "weight": _F([1.0, 0.7, 0.0], np.float32)},
        np.float32, pred=_F([[-4.5, -1.0, -4.4]], np.float32), target=_F([2])),
    "ce-smoothing-all-ignored": _case(
        "cross_entropy", {"label_smoothing": 0.3, "ignore_index": 1},
        pred=_F([[0.5, -1.0], [2.0, 0.1]]), target=_F([1, 1])),
    # a negative ignore_index is allowed (and ignored) with probability targets
    "ce-probabilities-negative-ignore-index": _case(
        "cross_entropy", {"ignore_index": -1}, pred=_F([0.3, -2.0, 1.0]),
        target=_F([0.2, 0.5, 0.3])),
    "ce-probabilities-ignore-index-0-refused": _case(
        "cross_entropy", {"ignore_index": 0}, pred=_F([0.3, -2.0, 1.0]),
        target=_F([0.2, 0.5, 0.3])),
    # no classes: NaN means (0/0), empty gradients; (N, 0, d1) with labels refused as torch
    "ce-no-classes-probabilities": _case(
        "cross_entropy", {"label_smoothing": 0.5}, pred=np.zeros((2, 0, 2)),
        target=np.zeros((2, 0, 2))),
    "nll-no-classes-all-ignored": _case("nll", {}, pred=np.zeros((2, 0)), target=_F([-100, -100])),
    "ce-no-classes-spatial-refused": _case(
        "cross_entropy", {"ignore_index": 0}, pred=np.zeros((5, 0, 3)),
        target=np.zeros((5, 3), np.int64)),
    # multi_margin: a 0-d score (one class), and a (C,) vector with a (1,) label
    "multi-margin-0d": _case("multi_margin", {"p": 2, "margin": -1.0}, pred=_F(2.5),
                             target=_F(0)),
    "multi-margin-label-(1,)": _case("multi_margin", {"reduction": "none"},
                                     pred=_F([0.1, 1.5, -0.3]), target=_F([1])),
    # an explicit dim=None takes torch's legacy choice: 0 for 0-, 1- and 3-d input, else 1
    "softmax-dim-none-3d": _case("softmax", {"dim": None},
                                 z=np.linspace(-2, 2, 24).reshape(2, 3, 4)),
    "log-softmax-dim-none-2d": _case("log_softmax", {"dim": None},
                                     z=np.linspace(-2, 2, 12).reshape(3, 4)),
    "softmin-dim-none-0d": _case("softmin", {"dim": None}, np.float32, z=_F(0.5, np.float32)),
    # the limits at +-inf, and torch's gradient at NaN where every torch kernel agrees
    "softplus-at-minus-inf": _case("softplus", {}, z=_F([-np.inf, 0.0, np.inf])),
    "logsigmoid-at-inf": _case("logsigmoid", {}, z=_F([-np.inf, 0.0, np.inf])),
    "bce-with-logits-at-inf": _case("bce_with_logits", {"reduction": "none"},
                                    pred=_F([np.inf, np.inf, -np.inf]),
                                    target=_F([0.3, 0.0, 0.0])),
    "hardswish-grad-at-inf": _case("hardswish", {}, z=_F([-np.inf, np.inf, 1.0])),
    "relu-grad-at-nan": _case("relu", {}, z=np.r_[np.nan, np.linspace(-2, 2, 20)]),
    "mae-grad-at-nan": _case("mae", {}, pred=_F([np.nan, 1.0, 2.0]), target=_F([0.0, 1.0, 0.0])),
    "huber-at-inf-and-nan": _case("huber", {"delta": 0.5, "reduction": "sum"},
                                  pred=_F([np.inf, -np.inf, np.nan, 0.2]), target=np.zeros(4)),
    "smooth-l1-at-inf-and-nan": _case("smooth_l1", {"reduction": "sum"},
                                      pred=_F([np.inf, -np.inf, np.nan, 0.2]),
                                      target=np.zeros(4)),
    "multi-margin-inf-scores": _case("multi_margin", {"p": 2},
                                     pred=_F([[np.inf, np.inf, 0.0], [1.0, -np.inf, 0.5]]),
                                     target=_F([0, 2])),
    # gaussian_nll: a target that broadcasts to pred's shape, as torch documents
    "gaussian-nll-broadcast-target": _case(
        "gaussian_nll", {"reduction": "none"}, pred=np.linspace(-1, 1, 6).reshape(2, 3),
        target=_F([[0.5], [-0.2]]), var=np.full((2, 3), 0.7)),
}


@pytest.mark.parametrize("key", FOUND)
def test_what_the_fuzz_found_now_agrees_with_torch(key):
    row = run_case(FOUND[key])
    assert row["status"] == "pass", row


def test_gaussian_nll_refuses_a_target_that_would_enlarge_the_loss():
    from manual import losses

    with pytest.raises(ValueError, match="target has shape"):
        losses.get("gaussian_nll").forward(np.zeros((2, 1)), np.zeros((2, 3)))
