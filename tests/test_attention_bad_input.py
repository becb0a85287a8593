"""Bad input to attention and the transformer block: each a ValueError/TypeError at our API
boundary naming the layer, the argument, and the expected and received shapes."""

import numpy as np
import pytest

from manual.layers import MultiheadAttention, TransformerEncoderLayer, scaled_dot_product_attention

RNG = np.random.default_rng(0)
Q, K, V = (RNG.standard_normal(s) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 6)))


def _mha(**kw):
    return MultiheadAttention(8, 2, rng=0, **kw)


X = RNG.standard_normal((4, 2, 8))  # (L, N, E) with L = 4, N = 2


def _nan(a):
    a = a.copy()
    a.flat[3] = np.nan
    return a


SDPA_BAD = [
    ("q-k-features", dict(key=RNG.standard_normal((2, 5, 3))), ValueError,
     ["scaled_dot_product_attention", "key", "E = 4", "(2, 5, 3)"]),
    ("k-v-length", dict(value=RNG.standard_normal((2, 6, 6))), ValueError,
     ["value", "S = 5", "(2, 6, 6)"]),
    ("batch-dims", dict(key=RNG.standard_normal((3, 5, 4)), value=RNG.standard_normal((3, 5, 6))),
     ValueError, ["leading", "(2, 3, 4)", "(3, 5, 4)"]),
    ("1-d", dict(query=np.ones(4)), ValueError, ["query", "at least 2", "(4,)"]),
    ("mask-shape", dict(attn_mask=np.ones((3, 4), bool)), ValueError,
     ["attn_mask", "(2, 3, 5)", "(3, 4)"]),
    ("mask-dtype", dict(attn_mask=np.ones((3, 5), np.int64)), TypeError,
     ["attn_mask", "bool or floating", "int64", "(3, 5)"]),
    ("mask-nan", dict(attn_mask=_nan(np.zeros((3, 5)))), ValueError, ["attn_mask", "NaN"]),
    ("mask-and-causal", dict(attn_mask=np.ones((3, 5), bool), is_causal=True), ValueError,
     ["attn_mask", "is_causal", "(3, 5)"]),
    ("nan-query", dict(query=_nan(Q)), ValueError, ["query", "non-finite"]),
    ("nan-value", dict(value=_nan(V)), ValueError, ["value", "non-finite"]),
    ("dropout-range", dict(dropout_p=1.5), ValueError, ["dropout_p", "1.5"]),
    ("scale-type", dict(scale="big"), TypeError, ["scale", "'big'"]),
    ("gqa", dict(enable_gqa=True), NotImplementedError, ["enable_gqa"]),
    ("dropout-mask-shape", dict(dropout_p=0.5, dropout_mask=np.ones((3, 5), bool)), ValueError,
     ["dropout_mask", "(2, 3, 5)", "(3, 5)"]),
]


@pytest.mark.parametrize("kwargs,exc,parts", [p[1:] for p in SDPA_BAD],
                         ids=[p[0] for p in SDPA_BAD])
def test_sdpa_bad_input(kwargs, exc, parts):
    args = {"query": Q, "key": K, "value": V, **kwargs}
    with pytest.raises(exc) as info:
        scaled_dot_product_attention(**args)
    for part in parts:
        assert part in str(info.value), f"{part!r} missing from: {info.value}"


MHA_BAD = [
    ("embed-heads", lambda: MultiheadAttention(6, 4), ValueError,
     ["MultiheadAttention", "embed_dim", "num_heads", "6", "4"]),
    # masks are given for the input's S keys, before bias_k/the zero key pad them
    ("bias-kv-kpm-shape",
     lambda: _mha(add_bias_kv=True, add_zero_attn=True).forward(
         X, X, X, key_padding_mask=np.zeros((2, 6), bool)),
     ValueError, ["key_padding_mask", "(2, 4)", "(2, 6)"]),
    ("bias-kv-attn-mask-shape",
     lambda: _mha(add_bias_kv=True).forward(X, X, X, attn_mask=np.zeros((4, 5), bool)),
     ValueError, ["attn_mask", "(4, 4)", "(4, 5)"]),
    ("dropout", lambda: MultiheadAttention(8, 2, dropout=2.0), ValueError, ["dropout", "2.0"]),
    ("query-features", lambda: _mha().forward(X[..., :6], X, X), ValueError,
     ["MultiheadAttention", "query", "embed_dim=8", "(4, 2, 6)"]),
    ("key-kdim", lambda: _mha(kdim=3).forward(X, X, X), ValueError,
     ["key", "kdim=3", "(4, 2, 8)"]),
    ("key-value-length", lambda: _mha().forward(X, X, X[:3]), ValueError,
     ["key and value", "sequence length", "dimension 0", "(4, 2, 8)", "(3, 2, 8)"]),
    ("batch-size", lambda: _mha().forward(X, X[:, :1], X[:, :1]), ValueError,
     ["batch size", "dimension 1", "(L, N, E)", "(4, 2, 8)", "(4, 1, 8)"]),
    # key and value given (L, N, E) to a batch_first layer
    ("batch-first-confusion",
     lambda: _mha(batch_first=True).forward(X, X.swapaxes(0, 1), X.swapaxes(0, 1)),
     ValueError, ["batch size", "dimension 0", "(N, L, E)", "(4, 2, 8)", "(2, 4, 8)"]),
    ("batched-unbatched", lambda: _mha().forward(X, X[:, 0], X[:, 0]), ValueError,
     ["all be batched", "(4, 2, 8)", "(4, 8)"]),
    ("4-d", lambda: _mha().forward(X[None], X[None], X[None]), ValueError,
     ["query", "(L, N, E) or unbatched (L, E)", "(1, 4, 2, 8)"]),
    ("attn-mask-shape", lambda: _mha().forward(X, X, X, attn_mask=np.zeros((4, 5), bool)),
     ValueError, ["attn_mask", "(4, 4)", "(4, 4, 4)", "(4, 5)"]),
    ("attn-mask-dtype", lambda: _mha().forward(X, X, X, attn_mask=np.zeros((4, 4), np.int32)),
     TypeError, ["attn_mask", "bool or floating", "int32"]),
    ("kpm-shape", lambda: _mha().forward(X, X, X, key_padding_mask=np.zeros((4, 2), bool)),
     ValueError, ["key_padding_mask", "(2, 4)", "(4, 2)"]),
    ("kpm-dtype", lambda: _mha().forward(X, X, X, key_padding_mask=np.zeros((2, 4), int)),
     TypeError, ["key_padding_mask", "bool or floating"]),
    ("kpm-unbatched", lambda: _mha().forward(X[:, 0], X[:, 0], X[:, 0],
                                             key_padding_mask=np.zeros((1, 4), bool)),
     ValueError, ["key_padding_mask", "(4,)", "(1, 4)"]),
    ("nan-query", lambda: _mha().forward(_nan(X), X, X), ValueError,
     ["MultiheadAttention", "query", "non-finite"]),
    ("nan-key", lambda: _mha().forward(X, _nan(X), X), ValueError, ["key", "non-finite"]),
    ("causal-without-mask", lambda: _mha().forward(X, X, X, is_causal=True), ValueError,
     ["is_causal", "attn_mask", "(4, 4)"]),
    ("need-weights-type", lambda: _mha().forward(X, X, X, need_weights="yes"), TypeError,
     ["need_weights"]),
    ("dout-shape", lambda: (lambda m: (m.forward(X, X, X), m.backward(X[:3]))[1])(_mha()),
     ValueError, ["dout", "(3, 2, 8)", "(4, 2, 8)"]),
    ("dropout-mask-shape",
     lambda: (lambda m: (setattr(m, "dropout_mask", np.ones((2, 2, 4, 3), bool)),
                         m.forward(X, X, X))[1])(_mha(dropout=0.5)),
     ValueError, ["dropout_mask", "(2, 2, 4, 4)", "(2, 2, 4, 3)"]),
    ("dropout-mask-shape-extra-keys",
     lambda: (lambda m: (setattr(m, "dropout_mask", np.ones((2, 2, 4, 4), bool)),
                         m.forward(X, X, X))[1])(_mha(dropout=0.5, add_zero_attn=True)),
     ValueError, ["dropout_mask", "(2, 2, 4, 5)", "(2, 2, 4, 4)"]),
    ("encoder-heads", lambda: TransformerEncoderLayer(6, 4, 8), ValueError,
     ["TransformerEncoderLayer", "d_model", "nhead"]),
    ("encoder-activation", lambda: TransformerEncoderLayer(8, 2, 8, activation="tanh"),
     ValueError, ["activation", "'tanh'"]),
    ("encoder-features", lambda: TransformerEncoderLayer(8, 2, 8, rng=0).forward(X[..., :6]),
     ValueError, ["TransformerEncoderLayer", "src", "d_model=8", "(4, 2, 6)"]),
    ("encoder-nan", lambda: TransformerEncoderLayer(8, 2, 8, rng=0).forward(_nan(X)),
     ValueError, ["TransformerEncoderLayer", "src", "non-finite"]),
]


@pytest.mark.parametrize("call,exc,parts", [p[1:] for p in MHA_BAD], ids=[p[0] for p in MHA_BAD])
def test_multihead_attention_bad_input(call, exc, parts):
    with pytest.raises(exc) as info:
        call()
    for part in parts:
        assert part in str(info.value), f"{part!r} missing from: {info.value}"
