"""Normalisation, dropout and embedding layers: bad input at the API boundary (named layer,
argument and shapes; the same inputs torch refuses), the functional pairs, dropout's mask
mechanism and the embedding's accumulation. The comparisons with torch and the torch-free
oracles are the layer cases (tests/test_layers.py, comparisons/cases/norms.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from manual import layers
from manual.layers import (BatchNorm1d, BatchNorm2d, Dropout, Embedding, GroupNorm, LayerNorm,
                           batchnorm_backward, batchnorm_forward, dropout_backward,
                           dropout_forward, groupnorm_backward, groupnorm_forward,
                           layernorm_backward, layernorm_forward, word_embedding_backward,
                           word_embedding_forward)

RNG = np.random.default_rng(0)


def _torch_raises(module, x):
    with pytest.raises((ValueError, RuntimeError, IndexError)):
        module(torch.as_tensor(x))


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, shape", [(BatchNorm1d, (1, 3)), (BatchNorm1d, (1, 3, 1)),
                                        (BatchNorm2d, (1, 3, 1, 1))])
def test_batchnorm_one_value_per_channel_in_train_mode(cls, shape):
    x = RNG.standard_normal(shape)
    with pytest.raises(ValueError, match=f"{cls.__name__}: expected more than 1 value per "
                                         f"channel") as err:
        cls(3).forward(x)
    assert f"got input of shape {shape}" in str(err.value)
    _torch_raises(getattr(torch.nn, cls.__name__)(3).double(), x)
    # eval mode with running statistics: allowed, as torch
    assert cls(3).eval().forward(x).shape == shape
    # no running statistics: eval uses the batch's own, so it is refused there too, as torch
    with pytest.raises(ValueError, match="track_running_stats=False"):
        cls(3, track_running_stats=False).eval().forward(x)
    _torch_raises(getattr(torch.nn, cls.__name__)(3, track_running_stats=False).double().eval(),
                  x)


def test_eval_before_any_running_statistics():
    """Eval mode before any training uses torch's initial running statistics (mean 0,
    variance 1), as torch; with track_running_stats=False eval mode uses the batch's own."""
    x = RNG.standard_normal((5, 3))
    out = BatchNorm1d(3, eps=0.0).eval().forward(x)
    assert np.array_equal(out, x)  # (x - 0) / sqrt(1 + 0) * 1 + 0
    bn = BatchNorm1d(3, track_running_stats=False).eval()
    assert bn.buffers == {}
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(bn.forward(x), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-12)


@pytest.mark.parametrize("layer, shape, match", [
    (BatchNorm2d(3), (2, 4, 2, 2), r"BatchNorm2d: input has 4 channels \(shape \(2, 4, 2, 2\)\),"
                                   r" expected num_features=3"),
    (BatchNorm1d(3), (2, 4), r"BatchNorm1d: input has 4 channels"),
    (BatchNorm2d(3), (3, 2, 2), r"BatchNorm2d: input must be \(N, C, H, W\), got shape"),
    (BatchNorm1d(3), (2, 3, 2, 2), r"BatchNorm1d: input must be \(N, C\) or \(N, C, L\)"),
    (LayerNorm((2, 3)), (4, 3, 2), r"LayerNorm: input of shape \(4, 3, 2\) does not end with "
                                   r"normalized_shape=\(2, 3\)"),
    (LayerNorm(4), (), r"LayerNorm: input must be \(\*, 4\)"),
    (GroupNorm(2, 4), (3, 6, 2), r"GroupNorm: input has 6 channels .*num_channels=4"),
    (GroupNorm(2, 4), (4,), r"GroupNorm: input must be \(N, C, \*\)"),
])
def test_wrong_input_shapes(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer.forward(RNG.standard_normal(shape))


@pytest.mark.parametrize("build, error, match", [
    (lambda: BatchNorm1d(0), ValueError, "BatchNorm1d: num_features must be >= 1"),
    (lambda: BatchNorm2d(3, eps=-1.0), ValueError, "BatchNorm2d: eps must be >= 0"),
    (lambda: BatchNorm1d(3, momentum="0.1"), TypeError, "BatchNorm1d: momentum must be"),
    (lambda: LayerNorm(()), ValueError, "LayerNorm: normalized_shape must name"),
    (lambda: GroupNorm(3, 4), ValueError, r"GroupNorm: num_channels \(4\) must be divisible "
                                          r"by num_groups \(3\)"),
    (lambda: Dropout(1.5), ValueError, "Dropout: dropout probability has to be between 0 and "
                                       "1, but got 1.5"),
    (lambda: Dropout("0.5"), TypeError, "Dropout: p must be a float"),
    (lambda: Embedding(5, 3, padding_idx=5), ValueError, "Embedding: padding_idx must be "
                                                         "within num_embeddings=5"),
    (lambda: Embedding(5, 3, padding_idx=-6), ValueError, "padding_idx must be within"),
    (lambda: Embedding(5, 3, max_norm=0.0), ValueError, "Embedding: max_norm must be positive"),
])
def test_bad_constructor_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_torch_refuses_the_same_constructor_arguments():
    for build in (lambda: torch.nn.GroupNorm(3, 4), lambda: torch.nn.Dropout(1.5),
                  lambda: torch.nn.Embedding(5, 3, padding_idx=5)):
        with pytest.raises((ValueError, AssertionError)):
            build()


@pytest.mark.parametrize("idx, error, match", [
    (np.array([[0, 5]]), ValueError, r"Embedding: index 5 out of range for num_embeddings=5 "
                                     r"\(valid: 0 to 4\); indices of shape \(1, 2\)"),
    (np.array([-1, 2]), ValueError, r"Embedding: index -1 out of range"),
    (np.array([0.0, 1.0]), TypeError, r"Embedding: indices must be integers .*float64"),
])
def test_embedding_bad_indices(idx, error, match):
    emb = Embedding(5, 3, rng=0)
    with pytest.raises(error, match=match):
        emb.forward(idx)
    if error is ValueError:
        _torch_raises(torch.nn.Embedding(5, 3), idx)


def test_dout_checks_and_order():
    bn = BatchNorm1d(3)
    with pytest.raises(RuntimeError, match="BatchNorm1d.backward called before forward"):
        bn.backward(np.ones((4, 3)))
    bn.forward(RNG.standard_normal((4, 3)))
    with pytest.raises(ValueError, match=r"BatchNorm1d: dout has shape \(3, 3\), expected "
                                         r"the output's shape \(4, 3\)"):
        bn.backward(np.ones((3, 3)))
    with pytest.raises(ValueError, match="non-finite"):
        bn.backward(np.full((4, 3), np.nan))
    d = Dropout(0.5)
    d.set_mask(np.ones((2, 2), dtype=bool))
    with pytest.raises(ValueError, match=r"Dropout: the mask has shape \(2, 2\), the input "
                                         r"\(3, 2\)"):
        d.forward(np.ones((3, 2)))


def test_zero_size_batches_are_accepted_as_torch():
    bn = BatchNorm2d(2)
    out = bn.forward(np.zeros((0, 2, 3, 3)))
    assert out.shape == (0, 2, 3, 3) and int(bn.buffers["num_batches_tracked"]) == 1
    assert np.array_equal(bn.buffers["running_mean"], [0, 0])  # an empty batch moves nothing
    dx = bn.backward(np.zeros((0, 2, 3, 3)))
    assert dx.shape == (0, 2, 3, 3) and np.array_equal(bn.grads["weight"], [0, 0])
    assert LayerNorm(3).forward(np.zeros((0, 3))).shape == (0, 3)
    assert GroupNorm(1, 3).forward(np.zeros((0, 3, 2))).shape == (0, 3, 2)
    assert Embedding(4, 2, rng=0).forward(np.zeros((0, 3), dtype=np.int64)).shape == (0, 3, 2)


# --------------------------------------------------------------------------------------
# the functional pairs and the classes
# --------------------------------------------------------------------------------------
def test_functional_pairs_are_what_the_classes_compute():
    x = RNG.standard_normal((6, 4, 3))
    dout = RNG.standard_normal(x.shape)
    g, b = RNG.standard_normal(4), RNG.standard_normal(4)
    bn = BatchNorm1d(4)
    bn.params["weight"][...], bn.params["bias"][...] = g, b
    out, cache = batchnorm_forward(x, g, b)
    assert np.array_equal(out, bn.forward(x))
    dx, dg, db = batchnorm_backward(dout, cache)
    assert np.array_equal(dx, bn.backward(dout))
    assert np.array_equal(dg, bn.grads["weight"]) and np.array_equal(db, bn.grads["bias"])

    ln = LayerNorm(3)
    out, cache = layernorm_forward(x, ln.params["weight"], ln.params["bias"], 1)
    assert np.array_equal(out, ln.forward(x))
    assert np.array_equal(layernorm_backward(dout, cache)[0], ln.backward(dout))

    gn = GroupNorm(2, 4)
    out, cache = groupnorm_forward(x, gn.params["weight"], gn.params["bias"], 2)
    assert np.array_equal(out, gn.forward(x))
    assert np.array_equal(groupnorm_backward(dout, cache, 2)[0], gn.backward(dout))

    mask = RNG.random(x.shape) > 0.3
    out, cache = dropout_forward(x, 0.3, mask=mask)
    np.testing.assert_allclose(out, np.where(mask, x / 0.7, 0.0), rtol=1e-15)
    np.testing.assert_allclose(dropout_backward(dout, cache), np.where(mask, dout / 0.7, 0.0),
                               rtol=1e-15)

    W = RNG.standard_normal((5, 2))
    idx = np.array([[1, 1, 4], [0, 1, 4]])
    out, cache = word_embedding_forward(idx, W)
    assert np.array_equal(out, W[idx])
    d = RNG.standard_normal(out.shape)
    dW = word_embedding_backward(d, cache)
    np.testing.assert_allclose(dW[1], d[0, 0] + d[0, 1] + d[1, 1], rtol=1e-15)  # accumulated
    assert np.array_equal(dW[[2, 3]], np.zeros((2, 2)))


def test_batchnorm_running_statistics_momentum_none_is_the_plain_mean():
    bn = BatchNorm1d(2, momentum=None)
    batches = [RNG.standard_normal((5, 2)) * (k + 1) + k for k in range(4)]
    for xb in batches:
        bn.forward(xb)
    np.testing.assert_allclose(bn.buffers["running_mean"], np.mean([b.mean(0) for b in batches],
                                                                     axis=0), rtol=1e-13)
    np.testing.assert_allclose(bn.buffers["running_var"],
                               np.mean([b.var(0, ddof=1) for b in batches], axis=0), rtol=1e-13)
    assert bn.buffers["num_batches_tracked"].dtype == np.int64
    assert bn.buffers["num_batches_tracked"].shape == () and int(
        bn.buffers["num_batches_tracked"]) == 4


def test_dropout_masks_seed_explicit_and_source():
    x = np.arange(1, 13, dtype=np.float32).reshape(3, 4)
    a, b = Dropout(0.5, rng=3), Dropout(0.5, rng=3)
    assert np.array_equal(a.forward(x), b.forward(x))  # its own seed: reproducible
    assert a.forward(x).dtype == np.float32
    mask = np.eye(3, 4, dtype=bool)
    d = Dropout(0.25).set_mask(mask)
    np.testing.assert_array_equal(d.forward(x), np.where(mask, x / np.float32(0.75), 0))
    assert np.array_equal(d.mask, mask)
    assert not np.array_equal(d.forward(x) != 0, mask)  # one-shot: then its own draws
    d.mask_source = lambda shape, dtype: mask
    assert np.array_equal(d.forward(x) != 0, mask) and np.array_equal(d.forward(x) != 0, mask)
    assert np.array_equal(Dropout(1.0).forward(x), np.zeros_like(x))
    assert np.array_equal(Dropout(0.0).forward(x), x)
    assert np.array_equal(Dropout(0.9).eval().forward(x), x)
    p1 = Dropout(1.0)
    p1.forward(x)
    assert np.array_equal(p1.backward(np.ones_like(x)), np.zeros_like(x))


def test_embedding_padding_row_and_accumulation():
    emb = Embedding(6, 2, padding_idx=-2, rng=1)
    assert emb.padding_idx == 4 and np.array_equal(emb.params["weight"][4], [0, 0])
    idx = np.array([4, 1, 1, 1, 4])
    out = emb.forward(idx)
    assert emb.backward(np.ones_like(out)) is None  # integer indices: no input gradient
    assert np.array_equal(emb.grads["weight"][1], [3, 3])  # three lookups, three gradients
    assert np.array_equal(emb.grads["weight"][4], [0, 0])  # the pad row: none


def test_layers_are_exported():
    for name in ("BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "Dropout",
                 "Embedding", "batchnorm_forward", "batchnorm_backward", "layernorm_forward",
                 "layernorm_backward", "groupnorm_forward", "groupnorm_backward",
                 "dropout_forward", "dropout_backward", "word_embedding_forward",
                 "word_embedding_backward"):
        assert name in layers.__all__, name
        assert name.split("_")[0] in layers.__doc__, name  # the package's list names it
