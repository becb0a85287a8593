"""Lessons 9 and 10 (batch norm's three-term backward; a convolution's backward is a
convolution with the flipped kernel): every claim asserted from the math, every gradient
against torch (comparisons.teaching.layer_lessons), and a broken derivation caught."""

from __future__ import annotations

import numpy as np
import pytest

from comparisons import compare_arrays, tolerance_for
from comparisons.teaching.lessons import lesson_rows
from manual.layers import batchnorm_backward, batchnorm_forward
from manual.lessons import batchnorm_backward as bn_lesson
from manual.lessons import conv_backward as conv_lesson

TOL64 = tolerance_for(np.float64, "torch")


def assert_close(actual, expected, name="value"):
    c = compare_arrays(np.asarray(actual), np.asarray(expected), TOL64, name)
    assert c.passed, c.message()


@pytest.mark.parametrize("m", bn_lesson.BATCH_SIZES)
def test_three_terms_are_batchnorm_backward_and_blind_to_shift_and_scale(m):
    x, gamma, beta, t = bn_lesson.problem(m)
    y, cache = batchnorm_forward(x, gamma, beta, bn_lesson.EPS)
    parts = bn_lesson.terms(x, gamma, y - t)
    assert_close(parts["sum"], batchnorm_backward(y - t, cache)[0], "dx")
    scale = np.abs(parts["direct"]).sum()
    assert abs(parts["sum"].sum()) < 1e-12 * scale  # shift invariance: sums to zero
    # scale invariance, up to eps: s * eps / (var + eps) * sum g xhat
    var = cache.var.item()
    expected = cache.inv_std.item() * bn_lesson.EPS / (var + bn_lesson.EPS) * float(
        (gamma * (y - t) * cache.xhat).sum())
    assert abs((parts["sum"] * cache.xhat).sum() - expected) < 1e-12 * scale


def test_dropping_a_term_stays_wrong_at_every_batch_size():
    df = bn_lesson.sizes_table()
    for col in [c for c in df.columns if c.startswith("rel err")]:
        assert (df[col] > 0.2).all(), (col, df[col].tolist())
    assert (df["Σ dx (direct only)"].abs() > 1.0).all()


def test_eval_mode_needs_only_the_direct_term():
    modes = bn_lesson.modes().set_index("mode")
    assert modes.loc["eval (running statistics)", "max |dx - direct|"] == 0.0
    assert modes.loc["train (batch statistics)", "max |dx - direct|"] > 1.0


def test_flipped_kernel_is_the_definition_and_unflipped_is_not():
    df = conv_lesson.table()
    assert (df["flipped kernel: max err"] <= 1e-12 * df["max |Jᵀδ|"]).all(), df
    assert (df["conv2d_backward: max err"] <= 1e-12 * df["max |Jᵀδ|"]).all(), df
    assert (df["unflipped kernel: max err"] > 0.1 * df["max |Jᵀδ|"]).all(), df


# lesson_rows against torch, the tables and the plots run for every lesson in
# tests/test_lessons.py (test_lesson_numbers_match_torch, the lessons command)


def test_conv_lesson_catches_an_unflipped_kernel(monkeypatch):
    """Negative control: the flipped-kernel gradient replaced by the unflipped one must fail
    against torch, naming the configuration."""
    monkeypatch.setattr(conv_lesson, "dx_flipped", conv_lesson.dx_unflipped)
    bad = [r["quantity"] for r in lesson_rows("conv_backward") if not r["passed"]]
    assert len(bad) == len(conv_lesson.CONFIGS)
    assert all(q.startswith("dx flipped kernel") for q in bad), bad


def test_batchnorm_lesson_catches_constant_statistics(monkeypatch):
    """Negative control: the terms through the mean and the variance dropped (the batch
    statistics treated as constants) must fail against torch at every batch size."""
    def direct_only(x, gamma, dout, eps=bn_lesson.EPS):
        parts = dict(original(x, gamma, dout, eps))
        parts["sum"] = parts["direct"]
        return parts

    original = bn_lesson.terms
    monkeypatch.setattr(bn_lesson, "terms", direct_only)
    bad = [r["quantity"] for r in lesson_rows("batchnorm_backward") if not r["passed"]]
    assert bad == [f"three terms summed, M = {m} (train)" for m in bn_lesson.BATCH_SIZES]
