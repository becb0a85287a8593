"""The loss catalogue: complete, with a torch counterpart each; gaussian_nll's var gradient;
bad hyperparameters and inputs rejected and named. Every comparison with torch (extreme
logits, BCE at 0 and 1, probability targets, unbatched and spatial inputs, empty batches,
negative controls) is a row of the case table, comparisons/cases/components.py, run by
tests/test_components.py."""

import numpy as np
import pytest

import reference
from comparisons import failures
from manual import losses

RNG = np.random.default_rng(7)


def _ok(rows):
    assert rows
    assert not failures(rows), "\n".join(failures(rows))


def test_catalogue_is_complete():
    expected = {"mse", "sse", "quadratic", "mae", "huber", "smooth_l1", "bce",
                "bce_with_logits", "cross_entropy", "nll", "kl_div", "multi_margin",
                "poisson_nll", "gaussian_nll"}
    assert expected <= set(losses.names()) and len(losses.names()) >= 14
    assert set(losses.names()) == set(reference.losses.names())


@pytest.mark.parametrize("name, kwargs, error, match", [
    ("huber", {"delta": -1.0}, ValueError, "delta must be > 0"),
    ("huber", {"delta": 0.0}, ValueError, "delta must be > 0"),
    ("smooth_l1", {"beta": -0.1}, ValueError, "beta must be >= 0"),
    ("cross_entropy", {"label_smoothing": 1.5}, ValueError, r"label_smoothing must be in \[0, 1\]"),
    ("cross_entropy", {"label_smoothing": -0.1}, ValueError, "label_smoothing must be >= 0"),
    ("cross_entropy", {"ignore_index": 1.5}, TypeError, "ignore_index must be an integer"),
    ("multi_margin", {"p": 3}, ValueError, "p must be 1 or 2"),
    ("poisson_nll", {"eps": -1.0}, ValueError, "eps must be >= 0"),
    ("poisson_nll", {"log_input": "yes"}, TypeError, "log_input must be True or False"),
    ("kl_div", {"reduction": "avg"}, ValueError, "valid: mean, batchmean, sum, none"),
    ("mse", {"delta": 1.0}, TypeError, "unexpected keyword argument.*delta.*valid: reduction"),
])
def test_bad_hyperparameters(name, kwargs, error, match):
    with pytest.raises(error, match=match):
        losses.get(name, **kwargs)


def test_bad_inputs_are_named():
    p = RNG.standard_normal((3, 4))
    with pytest.raises(ValueError, match=r"weight has shape \(3,\), expected \(4,\)"):
        losses.get("cross_entropy", weight=np.ones(3)).forward(p, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"target has shape \(2,\), expected \(3,\)"):
        losses.get("nll").forward(p, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"target must lie in \[0, inf\]"):
        losses.get("kl_div").forward(p, -np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"pred must lie in \[0.0, inf\]"):
        losses.get("poisson_nll", log_input=False).forward(-np.ones((3, 4)), np.ones((3, 4)))
    with pytest.raises(ValueError, match="var has negative entries"):
        losses.get("gaussian_nll").forward(p, p, var=-np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"class label 7 at index \(1,\) is out of range"):
        losses.get("multi_margin").forward(p, np.array([0, 7, 1]))
    with pytest.raises(TypeError, match="target must be floating point"):
        losses.get("huber").forward(p, np.ones((3, 4), dtype=int))
