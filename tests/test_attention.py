"""Attention beyond the layer table: what torch does with a fully masked row (and that we do
the same), dropout on the attention weights with torch's own mask, and the one place where
Adam cannot follow torch in the transformer block's trajectory (the key bias; the trajectory
itself runs with every model trajectory in tests/test_model_trajectories.py)."""

from __future__ import annotations


import numpy as np
import pytest
import torch
import torch.nn.functional as F

from comparisons.core.compare import compare_arrays
from comparisons.run.model_trajectories import ModelTrajectoryCase, run_model_trajectory
from comparisons.core.tolerances import tolerance_for
from manual.layers import (MultiheadAttention, attention_backward, attention_forward,
                           scaled_dot_product_attention)

RNG = np.random.default_rng(7)


def _close(actual, expected, dtype=np.float64):
    c = compare_arrays(actual, expected, tolerance_for(dtype, "torch"))
    assert c.passed, c.message()


def test_sdpa_fully_masked_row_gives_zeros_as_torch():
    """torch's SDPA returns a zero row, and zero gradients through it, for a query that may
    attend to no key (its safe softmax); so do we."""
    q, k, v = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 5, 4)), \
        RNG.standard_normal((2, 5, 4))
    mask = RNG.random((3, 5)) < 0.7
    mask[:, 0] = True
    mask[1] = False  # query 1 sees nothing
    out, cache = attention_forward(q, k, v, mask)
    assert np.array_equal(out[:, 1], np.zeros((2, 4)))
    g = RNG.standard_normal(out.shape)
    dq, dk, dv = attention_backward(g, cache)
    assert np.array_equal(dq[:, 1], np.zeros((2, 4)))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    tout = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=torch.tensor(mask))
    tout.backward(torch.tensor(g))
    assert torch.equal(tout[:, 1], torch.zeros(2, 4, dtype=torch.float64))
    for mine, theirs in ((out, tout.detach()), (dq, tq.grad), (dk, tk.grad), (dv, tv.grad)):
        _close(mine, theirs.numpy())


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_fully_padded_sample_nan_with_weights_zeros_without(need_weights):
    """nn.MultiheadAttention: a sample whose keys are all padded gets NaN (need_weights=True:
    a plain softmax) or the output projection's bias (need_weights=False: SDPA's zeros)."""
    mha = MultiheadAttention(4, 2, rng=0)
    for p in mha.params.values():
        p += 0.1 * RNG.standard_normal(p.shape)
    tmha = torch.nn.MultiheadAttention(**mha.config, dtype=torch.float64)
    with torch.no_grad():
        for key, p in tmha.named_parameters():
            p.copy_(torch.from_numpy(mha.params[key]))
    x = RNG.standard_normal((3, 2, 4))
    kpm = np.zeros((2, 3), dtype=bool)
    kpm[0] = True  # sample 0: every key padded
    out, _ = mha.forward(x, x, x, key_padding_mask=kpm, need_weights=need_weights)
    tout, _ = tmha(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(kpm),
                   need_weights=need_weights)
    if need_weights:
        assert np.isnan(out[:, 0]).all() and not np.isnan(out[:, 1]).any()
    else:
        assert np.allclose(out[:, 0], mha.params["out_proj.bias"], rtol=0, atol=1e-15)
    _close(out, tout.detach().numpy())  # NaN matches NaN in the same places


def test_sdpa_dropout_with_torch_mask():
    """Dropout on the attention weights, with the keep-mask handed to torch's math kernel:
    forward and all three gradients agree (weights scaled by 1/(1-p) where kept)."""
    p = 0.3
    q, k, v = (RNG.standard_normal(s) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 2)))
    keep = RNG.random((2, 3, 5)) >= p
    out = scaled_dot_product_attention(q, k, v, dropout_p=p, dropout_mask=keep)
    out2, cache = attention_forward(q, k, v, dropout_p=p, dropout_mask=keep)
    assert np.array_equal(out, out2)
    g = RNG.standard_normal(out.shape)
    grads = attention_backward(g, cache)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    tout = torch.ops.aten._scaled_dot_product_attention_math(
        tq, tk, tv, dropout_p=p, dropout_mask=torch.tensor(keep))[0]
    tout.backward(torch.tensor(g))
    for mine, theirs in zip((out, *grads), (tout.detach(), tq.grad, tk.grad, tv.grad)):
        _close(mine, theirs.numpy())


def test_adam_cannot_follow_torch_on_the_key_bias_only():
    """The key bias's gradient is zero in exact arithmetic (softmax ignores a shift common to
    all keys), so both sides hold floating-point noise of ~1e-17 there, different noise;
    Adam divides by sqrt(v) + eps and makes steps of ~lr g/eps out of it. The trajectory
    then fails on in_proj_bias's key block (indices E..2E-1) and nowhere else."""
    case = ModelTrajectoryCase("transformer-seq", "adam", "float64", (("lr", 0.01),),
                               epochs=1, batch_size=16, clip_grad_norm=1.0)
    df = run_model_trajectory(case)
    steps = df[df["case"] == case.id]
    failing = steps[~steps["passed"]]
    assert len(failing) > 0, "Adam unexpectedly followed torch on the key bias"
    beyond = {name for cell in failing["beyond_tolerance"] for name in cell.split(";")}
    assert beyond == {"0.self_attn.in_proj_bias"}
    E = 8
    assert all(E <= int(i.strip("(),")) < 2 * E for i in failing["worst_index"])
    assert (failing["param_max_abs_err"] < 1e-9).all()  # noise, not a wrong gradient


def test_readme_example_runs():
    """The example of the docs' "Attention and transformers" section."""
    from _docs import run_tested_by

    namespace = run_tested_by("docs/reference/sequence-models.md", "tests/test_attention.py")
    assert not namespace["failures"](namespace["rows"])


def test_empty_batch_and_empty_key_sequence_as_torch():
    """A batch of 0 passes through; no keys at all (S = 0) gives zeros, as torch."""
    q, k = RNG.standard_normal((2, 3, 4)), np.zeros((2, 0, 4))
    out = scaled_dot_product_attention(q, k, np.zeros((2, 0, 5)))
    tout = F.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k),
                                          torch.zeros(2, 0, 5, dtype=torch.float64))
    assert out.shape == (2, 3, 5) and np.array_equal(out, tout.numpy())
    mha = MultiheadAttention(4, 2, rng=0)
    x = np.zeros((3, 0, 4))  # (L, N = 0, E)
    y, w = mha.forward(x, x, x)
    assert y.shape == (3, 0, 4) and w.shape == (0, 3, 3)
    assert [d.shape for d in mha.backward(np.zeros(y.shape))] == [(3, 0, 4)] * 3
