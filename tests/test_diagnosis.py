"""The slip diagnosis names a classic slip only when it explains the wrong array exactly."""

import numpy as np
import pytest

from comparisons.core.compare import compare_arrays, describe
from comparisons.core.diagnosis import likely_slip
from comparisons.teaching.gallery import GALLERY, gallery_table
from comparisons.core.tolerances import tolerance_for

TOL64 = tolerance_for("float64")
TOL32 = tolerance_for("float32")


@pytest.fixture
def g():
    return np.random.default_rng(0).standard_normal((5, 5))


@pytest.mark.parametrize("slip, text", [
    (lambda g: -g, "the negative of the true gradient"),
    (lambda g: 2 * g, "twice the true gradient"),
    (lambda g: g / 2, "half the true gradient"),
    (lambda g: 32 * g, "32 times the true gradient (a sum where a mean over 32 belongs?"),
    (lambda g: g / 32, "1/32 of the true gradient (averaged twice?"),
    (lambda g: g * 32 / 31, "32/31 times the true gradient (Bessel's correction"),
    (lambda g: g * 31 / 32, "31/32 times the true gradient (the biased 1/n, n = 32"),
    (lambda g: g.T, "the transpose of the true gradient"),
    (lambda g: np.zeros_like(g), "all zeros"),
    (lambda g: 0.37 * g, "0.37 times the true gradient (a constant factor)"),
])
@pytest.mark.parametrize("tol", [TOL64, TOL32], ids=["float64", "float32"])
def test_each_classic_slip_is_named(g, slip, text, tol):
    e = g.astype(np.float32).astype(np.float64) if tol is TOL32 else g
    assert text in likely_slip(slip(e), e, tol)


def test_a_missing_mask_and_an_unsummed_axis(g):
    upstream = g
    z = np.random.default_rng(1).standard_normal(g.shape)
    dx = upstream * (z > 0)
    assert "a missing mask" in likely_slip(upstream, dx, TOL64)
    per_example = np.random.default_rng(2).standard_normal((8, 3))
    assert "not summed over axis 0" in likely_slip(per_example, per_example.sum(0), TOL64)
    assert "transpose" in likely_slip(per_example.T, per_example, TOL64)


@pytest.mark.parametrize("error", [1e-3, 1e-6])
def test_a_random_error_or_a_single_number_names_nothing(g, error):
    noisy = g + error * np.random.default_rng(3).standard_normal(g.shape)
    assert likely_slip(noisy, g, TOL64) is None
    assert likely_slip(g * (1 + 1e-3 * (g > 0)), g, TOL64) is None  # a factor on half
    assert likely_slip(np.array([3.0]), np.array([1.5]), TOL64) is None  # 1 element: any factor
    assert likely_slip(np.array(np.nan), np.array(1.0), TOL64) is None


def test_a_failing_comparison_says_it_and_keeps_its_numbers(g):
    c = compare_arrays(10 * g, g, TOL64, "W")
    assert not c.passed and c.note.startswith("likely slip: your dW is 10 times")
    msg = describe({"case": "net", "oracle": "torch", **c.row()})
    assert "worst element" in msg and msg.endswith(c.note)
    assert compare_arrays(g, g, TOL64, "W").note == ""


def test_the_gallery_names_the_slips_that_have_a_classic_form():
    table = gallery_table([s for s in GALLERY if s.id in (
        "mean-forgotten", "relu-derivative-at-zero", "sigmoid-exponent-sign")]).set_index("slip")
    assert "dW1 is 24 times the true gradient" in table.loc["mean-forgotten", "likely slip"]
    assert "a missing mask" in table.loc["relu-derivative-at-zero", "likely slip"]
    assert "the negative of the true gradient" in table.loc["sigmoid-exponent-sign",
                                                            "likely slip"]
