"""Inputs torch rejects are rejected, with a ValueError naming the argument (issue 11's list
of accept/reject mismatches). What torch accepts is compared with torch's answer in the
case table (comparisons/cases/components.py: gaussian_nll's var layouts, all-zero weights,
softplus with beta <= 0, hardtanh with min_val == max_val, celu with alpha = 0.3)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from manual import activations, losses


@pytest.mark.parametrize("pred_shape, var_shape", [((2, 3), (1, 1)), ((2, 3), ()),
                                                   ((2, 3), (3,)), ((4, 2, 3), (2, 3))])
def test_gaussian_nll_rejects_var_shapes_torch_rejects(pred_shape, var_shape):
    pred = np.zeros(pred_shape)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(torch.tensor(pred), torch.tensor(pred), torch.ones(var_shape,
                                                                                dtype=torch.float64))
    with pytest.raises(ValueError, match=r"var of shape .* does not fit pred's shape"):
        losses.get("gaussian_nll").forward(pred, pred, var=np.ones(var_shape))


def test_cross_entropy_probability_targets_reject_ignore_index_as_torch():
    pred, target = np.zeros((2, 3)), np.full((2, 3), 1 / 3)
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        F.cross_entropy(torch.tensor(pred), torch.tensor(target), ignore_index=1)
    with pytest.raises(ValueError, match="ignore_index .* not supported with probability"):
        losses.get("cross_entropy", ignore_index=1).forward(pred, target)
    losses.get("cross_entropy").forward(pred, target)  # the default -100 is accepted


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape, dim", [((), 1), ((), -2), ((0, 3), 2), ((0, 3), -3)])
def test_softmax_family_checks_dim_on_0d_and_empty_input(name, shape, dim):
    z = np.zeros(shape)
    with pytest.raises(IndexError, match="Dimension out of range"):
        getattr(F, name)(torch.tensor(z), dim=dim)
    act = activations.get(name, dim=dim)
    with pytest.raises(ValueError, match=f"dim {dim} is out of range"):
        act.forward(z)
    with pytest.raises(ValueError, match=f"dim {dim} is out of range"):
        act.backward(z, z)


def test_hardtanh_min_above_max_is_rejected_as_torch():
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(torch.zeros(2), 2.0, 1.0)
    with pytest.raises(ValueError, match="cannot be greater than max_val"):
        activations.get("hardtanh", min_val=2.0, max_val=1.0)


@pytest.mark.parametrize("alpha", [0.3, 1.7, -1.3])
def test_celu_backward_uses_torchs_float32_alpha(alpha):
    """Reproduced (not a documented deviation): torch's celu backward takes 1/fl32(alpha);
    exact to rounding against torch, while the textbook e^{z/alpha} is not."""
    z = np.array([-5.0, -2.0, -0.5, -1e-3])
    zt = torch.tensor(z, requires_grad=True)
    (d1,) = torch.autograd.grad(F.celu(zt, alpha=alpha).sum(), zt)
    act = activations.get("celu", alpha=alpha)
    np.testing.assert_allclose(act.derivative(z), d1.numpy(), rtol=1e-15, atol=0)
    textbook = np.exp(z / alpha)
    assert np.max(np.abs(textbook - d1.numpy()) / np.abs(d1.numpy())) > 1e-9
    assert act.analytic is False and activations.get("celu", alpha=2.0).analytic is True


def _stricter_cases():
    x, t = np.full((2, 3), 0.5), np.full((2, 3), 0.25)
    yield ("poisson_nll", "eps"), lambda: losses.get("poisson_nll", eps=-1.0), (x, t), \
        lambda: F.poisson_nll_loss(torch.tensor(x), torch.tensor(t), eps=-1.0)
    yield ("gaussian_nll", "eps"), lambda: losses.get("gaussian_nll", eps=-1.0), (x, t), \
        lambda: F.gaussian_nll_loss(torch.tensor(x), torch.tensor(t), 1.0, eps=-1.0)
    yield ("cross_entropy", "label_smoothing"), \
        lambda: losses.get("cross_entropy", label_smoothing=-0.1), (x, np.array([0, 1])), \
        lambda: F.cross_entropy(torch.tensor(x), torch.tensor([0, 1]), label_smoothing=-0.1)
    yield ("kl_div", "target"), lambda: losses.get("kl_div"), (-x, -t), \
        lambda: F.kl_div(torch.tensor(-x), torch.tensor(-t))
    yield ("poisson_nll", "target"), lambda: losses.get("poisson_nll"), (x, -t), \
        lambda: F.poisson_nll_loss(torch.tensor(x), torch.tensor(-t))
    yield ("*", "target shape"), lambda: losses.get("mse"), (x, t[:1]), \
        lambda: F.mse_loss(torch.tensor(x), torch.tensor(t[:1]))
    yield ("*", "non-finite target"), lambda: losses.get("mse"), (x, t * np.nan), \
        lambda: F.mse_loss(torch.tensor(x), torch.tensor(t * np.nan))


@pytest.mark.parametrize("key, ours, inputs, theirs", list(_stricter_cases()),
                         ids=lambda v: "-".join(v) if isinstance(v, tuple) and
                         isinstance(v[0], str) else None)
def test_where_we_stay_stricter_than_torch_it_is_documented(key, ours, inputs, theirs):
    """torch computes (with at most a warning); we raise, naming the problem: each such
    choice is listed with its reason in the case table's STRICTER_THAN_TORCH."""
    import warnings

    from comparisons.cases.components import STRICTER_THAN_TORCH

    assert STRICTER_THAN_TORCH[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs()  # torch accepts
    with pytest.raises((ValueError, TypeError)):
        ours().forward(*inputs)
