"""The loss catalogue: torch's conventions, extremes, extra inputs, bad input, and negative
controls (a perturbed gradient must fail and be named)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import reference
from comparisons import compare_loss, failures
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


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["bce_with_logits", "cross_entropy"])
def test_logit_losses_are_finite_and_torchs_at_extreme_logits(name, dtype):
    pred = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, 1e4, 1e4, -2.0]], dtype=dtype)
    target = (np.array([0, 2]) if name == "cross_entropy"
              else np.array([[0.0, 1.0, 0.5, 1.0], [1.0, 0.0, 1.0, 0.0]], dtype=dtype))
    loss = losses.get(name, reduction="none")
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss.forward(pred, target)
    assert np.isfinite(value).all()
    _ok(compare_loss(loss, pred, target))
    _ok(compare_loss(losses.get(name), pred, target))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bce_at_exactly_zero_and_one_matches_torchs_clamp(dtype):
    pred = np.array([0.0, 1.0, 0.0, 1.0, 0.5], dtype=dtype)
    target = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype)
    loss = losses.get("bce", reduction="none")
    np.testing.assert_array_equal(loss.forward(pred, target)[:2], [100.0, 100.0])  # log clamp
    _ok(compare_loss(loss, pred, target))
    _ok(compare_loss(losses.get("bce", reduction="sum"), pred, target))


@pytest.mark.parametrize("var_shape", [(5, 3), (5, 1), (1, 3), (5,), ()])
def test_gaussian_nll_gradient_for_var_matches_autograd(var_shape):
    """var in each of torch's layouts (a 0-d var stands for torch's Python-float var); the
    var gradient comes back in var's own shape."""
    pred, target = RNG.standard_normal((2, 5, 3))
    var = RNG.uniform(0.5, 2.0, var_shape)
    if var_shape:
        var.flat[0] = 1e-9  # below eps: clamped, with the gradient passing through
    loss = losses.get("gaussian_nll", full=True)
    pt, vt = torch.tensor(pred, requires_grad=True), torch.tensor(var, requires_grad=True)
    value_t = F.gaussian_nll_loss(pt, torch.tensor(target), vt.expand(pred.shape) if
                                  var_shape == () else vt, full=True)
    gp, gv = torch.autograd.grad(value_t, (pt, vt))
    mine = var if var_shape else float(var)
    np.testing.assert_allclose(loss.forward(pred, target, var=mine), value_t.item(), rtol=1e-12)
    np.testing.assert_allclose(loss.backward(pred, target, var=mine), gp.numpy(), rtol=1e-12)
    dvar = loss.backward_var(pred, target, var=mine)
    np.testing.assert_allclose(dvar if var_shape else dvar.sum(), gv.numpy(), rtol=1e-10,
                               atol=1e-14)


def test_cross_entropy_probability_targets_with_smoothing_and_weight():
    pred = RNG.standard_normal((5, 4))
    target = RNG.dirichlet(np.ones(4), 5)
    for kwargs in ({}, {"label_smoothing": 0.3}, {"weight": np.array([1.0, 2.0, 0.5, 1.5]),
                                                   "label_smoothing": 0.1}):
        for reduction in ("mean", "sum", "none"):
            _ok(compare_loss(losses.get("cross_entropy", reduction=reduction, **kwargs),
                             pred, target))


@pytest.mark.parametrize("name", ["cross_entropy", "nll", "multi_margin"])
def test_class_losses_on_a_single_sample(name):
    pred = RNG.standard_normal(4)
    if name == "nll":
        pred = pred - np.log(np.exp(pred).sum())
    _ok(compare_loss(losses.get(name), pred, np.array(2)))


def test_all_ignored_gives_nan_loss_and_zero_gradient_like_torch():
    loss = losses.get("cross_entropy", ignore_index=1)
    pred = RNG.standard_normal((3, 4))
    with np.errstate(invalid="ignore"):
        assert np.isnan(loss.forward(pred, np.array([1, 1, 1])))
    pt = torch.tensor(pred, requires_grad=True)
    value_t = F.cross_entropy(pt, torch.tensor([1, 1, 1]), ignore_index=1)
    assert torch.isnan(value_t)
    (grad_t,) = torch.autograd.grad(value_t, pt)
    np.testing.assert_array_equal(loss.backward(pred, np.array([1, 1, 1])), grad_t.numpy())


def test_empty_batch_mean_is_nan_like_torch():
    with np.errstate(invalid="ignore"):
        assert np.isnan(losses.get("mse").forward(np.zeros((0, 3)), np.zeros((0, 3))))
    assert losses.get("mse", reduction="sum").forward(np.zeros((0, 3)), np.zeros((0, 3))) == 0


def test_multi_margin_p2_puts_the_weight_outside_the_square_as_torchs_code():
    pred, target = RNG.standard_normal((4, 3)), np.array([0, 1, 2, 1])
    w = np.array([0.5, 2.0, 3.0])
    _ok(compare_loss(losses.get("multi_margin", p=2, weight=w), pred, target))


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


# ---- negative controls: perturbed gradients are caught and named ---------------------
class NoSmoothingGradient(losses.CrossEntropy):
    """Label smoothing in the loss but forgotten in the gradient."""

    def _backward(self, pred, target):
        keep, labels = self._kept_labels(target)
        w = self._class_weight(pred)[labels][..., None]
        return np.where(keep[..., None], w * (losses.softmax(pred) - self._one_hot(pred, labels)),
                        0)


class UnweightedNLLGradient(losses.NLL):
    """The class weight dropped from the gradient."""

    def _backward(self, pred, target):
        keep, labels = self._kept_labels(target)
        return -(keep[..., None] * self._one_hot(pred, labels))


class SteepHuber(losses.Huber):
    """Huber's linear part with slope 1 instead of delta."""

    def _backward(self, pred, target):
        d = pred - target
        return np.where(np.abs(d) <= self.delta, d, np.sign(d))


@pytest.mark.parametrize("broken, kwargs, make", [
    (NoSmoothingGradient, {"label_smoothing": 0.2},
     lambda: (RNG.standard_normal((6, 4)), RNG.integers(0, 4, 6))),
    (UnweightedNLLGradient, {"weight": np.array([0.5, 1.0, 2.0, 3.0])},
     lambda: (-RNG.uniform(0.1, 3, (6, 4)), RNG.integers(0, 4, 6))),
    (SteepHuber, {"delta": 0.5}, lambda: tuple(2 * RNG.standard_normal((2, 6, 4)))),
], ids=["ce-smoothing-forgotten", "nll-weight-dropped", "huber-wrong-slope"])
def test_perturbed_loss_gradients_are_caught(broken, kwargs, make):
    pred, target = make()
    rows = compare_loss(broken(**kwargs), pred, target, torch_fn=reference.losses.get(
        broken.name, **kwargs))
    failing = {(r["oracle"], r["parameter"]) for r in rows if r["passed"] is False}
    assert {("torch", "gradient"), ("fd", "gradient"), ("complex-step", "gradient")} <= failing
    assert ("torch", "value") not in failing
    assert all("gradient" in m for m in failures(rows))
