"""The transformer modules of issue 18 (``TransformerDecoderLayer``, ``TransformerEncoder``,
``TransformerDecoder``, ``Transformer``, and ``TransformerEncoderLayer``'s activations)
against torch directly: the same weights copied in by name, the same inputs and masks,
forward and the backward of every input and parameter under a random upstream gradient;
float64 rtol 1e-10, atol 1e-12 (a handful of roundings either side), float32 rtol 1e-5,
atol 1e-6 for one block (~100 ulp of float32; the deeper stacks in float32 run through the
case table, whose tolerance is measured against torch's own float64). Unbatched inputs,
masks, the activation bridge, bad input, and every sample torch's ``module_db`` has for
these modules, in float64."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from comparisons.core.parallel import one_torch_thread
from comparisons.twins.transformers import (copy_params_to_manual, manual_activation,
                                            manual_arguments, manual_from_torch,
                                            torch_activation, torch_from_manual)
from manual import layers as ml

from _layers import DTYPES, TOL, arguments, compare, module_db_samples
from _layers import x_of as _x

NAMES = ["TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
         "TransformerDecoder", "Transformer"]


@pytest.fixture(autouse=True)
def _quiet_and_one_thread():
    """torch on one thread (tiny tensors: more threads only spin on a busy machine, ten
    times slower), and without its note that the nested-tensor path is off."""
    with warnings.catch_warnings(), one_torch_thread():
        warnings.filterwarnings("ignore", message="enable_nested_tensor is True")
        yield


def _noisy(layer, seed=0):
    """Parameters away from torch's ones and zeros (a forgotten gamma or bias shows)."""
    rng = np.random.default_rng(seed)
    for p in layer.params.values():
        p += (0.1 * rng.standard_normal(p.shape)).astype(p.dtype)
    return layer


def _compare(ours, theirs, inputs, dtype, kwargs=None, seed=0):
    """Forward and backward of ``ours`` against ``theirs`` (parameters copied from ours by
    name), inputs and masks (``kwargs``) the same; asserts within TOL."""
    compare(ours, theirs, inputs, dtype, seed, kwargs)


def _block(N=4, H=2, ff=8):
    return dict(d_model=N, nhead=H, dim_feedforward=ff, dropout=0.0)


def _pad(shape, seed=5):
    m = np.random.default_rng(seed).random(shape) < 0.3
    m[..., 0] = False  # every query keeps a key
    return m


CAUSAL3 = np.triu(np.ones((3, 3), dtype=bool), k=1)


# --------------------------------------------------------------------------------------
# exports and signatures
# --------------------------------------------------------------------------------------
FUNCTIONS = ["transformer_encoder_layer_forward", "transformer_encoder_layer_backward",
             "transformer_decoder_layer_forward", "transformer_decoder_layer_backward",
             "transformer_forward", "transformer_backward"]


@pytest.mark.parametrize("name", NAMES + FUNCTIONS)
def test_exported(name):
    assert name in ml.__all__ and hasattr(ml, name)


@pytest.mark.parametrize("name", NAMES)
def test_arguments_names_order_and_defaults_are_torchs(name):
    """torch's constructor (less device/dtype and our rng), its default activation F.relu
    being our 'relu'."""
    ours = arguments(getattr(ml, name))
    theirs = [(k, manual_activation(v) if k == "activation" else v)
              for k, v in arguments(getattr(torch.nn, name))]
    assert ours == theirs


# --------------------------------------------------------------------------------------
# against torch: the decoder layer, the stacks, the whole model
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer_with_masks(dtype, norm_first, batch_first):
    ours = _noisy(ml.TransformerDecoderLayer(**_block(), norm_first=norm_first,
                                             batch_first=batch_first, dtype=dtype, rng=1))
    tgt, mem = ((2, 3, 4), (2, 5, 4)) if batch_first else ((3, 2, 4), (5, 2, 4))
    kw = {"tgt_mask": CAUSAL3, "tgt_is_causal": True, "memory_mask": _pad((3, 5), 7),
          "tgt_key_padding_mask": _pad((2, 3)), "memory_key_padding_mask": _pad((2, 5), 6)}
    _compare(ours, torch_from_manual(ours, {np.float64: torch.float64,
                                            np.float32: torch.float32}[dtype]),
             [_x(tgt, 1), _x(mem, 2)], dtype, kw)


@pytest.mark.parametrize("dtype", DTYPES)
def test_decoder_layer_unbatched_float_masks(dtype):
    ours = _noisy(ml.TransformerDecoderLayer(**_block(), activation="gelu", dtype=dtype))
    kw = {"tgt_mask": _x((3, 3), 8), "memory_mask": _x((3, 4), 9),
          "memory_key_padding_mask": np.where(_pad((4,)), -np.inf, 0.0)}
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    _compare(ours, torch_from_manual(ours, tdt), [_x((3, 4), 1), _x((4, 4), 2)], dtype, kw)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("shapes", [((3, 2, 4), (4, 2, 4)), ((3, 4), (4, 4))])
def test_transformer_float64(norm_first, shapes):
    """The whole model, all six masks; unbatched too. Different encoder and decoder
    depths; every parameter's gradient (layers.0 and layers.1 differ after the init)."""
    ours = _noisy(ml.Transformer(4, 2, 2, 1, 8, 0.0, norm_first=norm_first, rng=3))
    batch = (2,) if len(shapes[0]) == 3 else ()
    S, T = shapes[0][0], shapes[1][0]
    kw = {"src_mask": _pad((S, S), 1), "tgt_mask": np.triu(np.ones((T, T), bool), 1),
          "memory_mask": _pad((T, S), 2), "src_key_padding_mask": _pad(batch + (S,), 3),
          "tgt_key_padding_mask": _pad(batch + (T,), 4),
          "memory_key_padding_mask": _pad(batch + (S,), 5)}
    _compare(ours, torch_from_manual(ours), [_x(shapes[0], 1), _x(shapes[1], 2)],
             np.float64, kw)


def test_transformer_initialises_like_torch():
    """Xavier-uniform for every matrix (the clones then differ), ones and zeros for the
    norms, zero attention biases; torch's names."""
    ours = ml.Transformer(8, 2, 2, 2, 16, rng=0)
    assert list(ours.params) == [n for n, _ in torch.nn.Transformer(8, 2, 2, 2, 16)
                                 .named_parameters()]
    p = ours.params
    w0, w1 = (p[f"encoder.layers.{i}.linear1.weight"] for i in (0, 1))
    assert not np.array_equal(w0, w1)
    bound = np.sqrt(6 / (16 + 8))
    assert np.abs(w0).max() <= bound and np.abs(w0).max() > 0.8 * bound
    assert (p["encoder.norm.weight"] == 1).all() and (p["decoder.norm.bias"] == 0).all()
    assert (p["decoder.layers.1.multihead_attn.in_proj_bias"] == 0).all()


def test_stacks_are_deep_copies_with_their_own_state():
    block = ml.TransformerEncoderLayer(**_block(), rng=0)
    enc = ml.TransformerEncoder(block, 3, ml.LayerNorm(4))
    names = list(enc.params)
    assert names[0] == "layers.0.self_attn.in_proj_weight" and names[-1] == "norm.bias"
    assert enc.layers[0] is not block and enc.layers[0].linear1 is not enc.layers[1].linear1
    np.testing.assert_array_equal(enc.params["layers.2.linear2.weight"],
                                  block.params["linear2.weight"])  # equal at the start
    enc.params["layers.0.linear2.weight"][...] = 0  # an in-place update reaches one layer
    assert enc.layers[0].linear2.params["weight"].sum() == 0
    assert block.params["linear2.weight"].any()
    # dropout in train mode: each clone draws its own masks
    rngs = {id(layer.dropout.rng) for layer in enc.layers}
    assert len(rngs) == 3


@pytest.mark.parametrize("dtype", DTYPES)
def test_encoder_and_decoder_stacks(dtype):
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    enc = _noisy(ml.TransformerEncoder(ml.TransformerEncoderLayer(**_block(), dtype=dtype),
                                       2, ml.LayerNorm(4, dtype=dtype)), 1)
    _compare(enc, torch_from_manual(enc, tdt), [_x((3, 2, 4))], dtype,
             {"mask": CAUSAL3, "src_key_padding_mask": _pad((2, 3))})
    dec = _noisy(ml.TransformerDecoder(ml.TransformerDecoderLayer(**_block(), dtype=dtype),
                                       2, ml.LayerNorm(4, dtype=dtype)), 2)
    _compare(dec, torch_from_manual(dec, tdt), [_x((3, 2, 4), 1), _x((4, 2, 4), 2)], dtype,
             {"tgt_mask": CAUSAL3, "memory_key_padding_mask": _pad((2, 4))})


def test_memory_gradient_sums_over_the_decoder_layers():
    """Each block reads memory: d memory of a 2-layer stack is the sum of the blocks'."""
    dec = _noisy(ml.TransformerDecoder(ml.TransformerDecoderLayer(**_block()), 2))
    tgt, mem = _x((3, 2, 4), 1), _x((4, 2, 4), 2)
    out = dec.forward(tgt, mem)
    g = _x(out.shape, 3)
    _, dmem = dec.backward(g)
    h = dec.layers[0].forward(tgt, mem)
    dec.layers[1].forward(h, mem)
    dh, dm1 = dec.layers[1].backward(g)
    _, dm0 = dec.layers[0].backward(dh)
    np.testing.assert_allclose(dmem, dm0 + dm1, rtol=1e-12, atol=1e-14)


def test_causal_mask_detected_as_torch():
    from manual.layers.transformer import detect_is_causal_mask

    assert detect_is_causal_mask(CAUSAL3, None, 3)
    assert detect_is_causal_mask(np.where(CAUSAL3, -np.inf, 0.0), None, 3)
    assert not detect_is_causal_mask(CAUSAL3.T, None, 3)
    assert not detect_is_causal_mask(CAUSAL3, None, 4)
    assert not detect_is_causal_mask(CAUSAL3, False, 3)
    assert detect_is_causal_mask(None, True, 3)


# --------------------------------------------------------------------------------------
# activations: ours, and torch's bridged
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("torch_act, ours", [
    (F.relu, "relu"), (F.gelu, "gelu"), ("gelu", "gelu"), (torch.relu, "relu"),
])
def test_torch_activation_functions_map_to_names(torch_act, ours):
    assert manual_activation(torch_act) == ours


@pytest.mark.parametrize("cls", ["TransformerEncoderLayer", "TransformerDecoderLayer"])
@pytest.mark.parametrize("torch_act", [torch.nn.GELU(approximate="tanh"), torch.nn.ReLU(),
                                       torch.nn.Tanh(), torch.nn.SiLU(), F.gelu])
def test_blocks_with_torch_activations(cls, torch_act):
    """torch's block built with its activation; ours through the bridge; same numbers."""
    theirs = getattr(torch.nn, cls)(**_block(), activation=torch_act, dtype=torch.float64)
    ours = manual_from_torch(theirs)
    assert type(ours).__name__ == cls
    inputs = [_x((3, 2, 4), 1)] + ([_x((4, 2, 4), 2)] if "Decoder" in cls else [])
    _compare(_noisy(ours), theirs, inputs, np.float64)


def test_activation_layer_kept_as_a_copy_and_bridged_back():
    act = ml.GELU(approximate="tanh")
    a = ml.TransformerEncoderLayer(**_block(), activation=act)
    b = ml.TransformerEncoderLayer(**_block(), activation=act)
    assert a.activation is not act and a.activation is not b.activation
    t = torch_activation(a.config["activation"])
    assert isinstance(t, torch.nn.GELU) and t.approximate == "tanh"


@pytest.mark.parametrize("act, exc, match", [
    (lambda x: x, TypeError, "cannot be differentiated"),
    (torch.nn.Softmax2d(), TypeError, "cannot be differentiated"),
])
def test_bridge_refuses_what_it_cannot_differentiate(act, exc, match):
    with pytest.raises(exc, match=match):
        manual_activation(act)


@pytest.mark.parametrize("act, exc, match", [
    (F.relu, TypeError, "a callable cannot be differentiated here"),
    (lambda x: x, TypeError, "manual.layers activation layer"),
    ("tanh", ValueError, "'relu', 'gelu'"),
])
def test_manual_blocks_refuse_callables(act, exc, match):
    for cls in (ml.TransformerEncoderLayer, ml.TransformerDecoderLayer):
        with pytest.raises(exc, match=match):
            cls(**_block(), activation=act)


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
def _enc():
    return ml.TransformerEncoderLayer(**_block())


@pytest.mark.parametrize("make, exc, words", [
    (lambda: ml.TransformerDecoderLayer(6, 4, 8), ValueError, ["d_model", "nhead"]),
    (lambda: ml.TransformerEncoder(torch.nn.TransformerEncoderLayer(4, 2), 2), TypeError,
     ["encoder_layer", "manual TransformerEncoderLayer"]),
    (lambda: ml.TransformerDecoder(_enc(), 2), TypeError, ["decoder_layer"]),
    (lambda: ml.TransformerEncoder(_enc(), 0), ValueError, ["num_layers", ">= 1"]),
    (lambda: ml.TransformerEncoder(_enc(), 2, norm=torch.nn.LayerNorm(4)), TypeError,
     ["norm"]),
    (lambda: ml.TransformerEncoder(_enc(), 2, norm=ml.LayerNorm(4, dtype=np.float32)),
     ValueError, ["norm", "dtype"]),
    (lambda: ml.Transformer(4, 2, custom_encoder=_enc()), TypeError, ["custom_encoder"]),
    (lambda: ml.TransformerDecoderLayer(**_block()).forward(_x((3, 2, 4)), _x((4, 4))),
     ValueError, ["tgt and memory", "must both be batched"]),
    (lambda: ml.TransformerDecoderLayer(**_block()).forward(_x((3, 2, 4)), _x((4, 2, 5))),
     ValueError, ["memory", "d_model=4"]),
    (lambda: ml.Transformer(4, 2, 1, 1, 8).forward(_x((3, 2, 4)), _x((3, 3, 4))),
     ValueError, ["same batch size"]),
    (lambda: ml.TransformerEncoder(_enc(), 1).forward(_x((3, 2, 4)), is_causal=1),
     TypeError, ["is_causal", "bool"]),
])
def test_bad_input(make, exc, words):
    with pytest.raises(exc) as info:
        make()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_bridge_names_parameter_mismatches():
    ours = ml.TransformerEncoderLayer(**_block())
    with pytest.raises(ValueError, match="parameter names differ"):
        copy_params_to_manual(ours, torch.nn.TransformerEncoderLayer(4, 2, 8, bias=False))


# --------------------------------------------------------------------------------------
# torch's own samples: module_db
# --------------------------------------------------------------------------------------
MODULE_DB = ["TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
             "Transformer"]


@pytest.fixture(scope="module")
def module_db_by_name():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="enable_nested_tensor is True")
        samples = module_db_samples(MODULE_DB)
    out: dict[str, list] = {}
    for name, info, sample in samples:
        out.setdefault(name, []).append((info, sample))
    return out


def _module_db_sample(name, info, sample):
    """One sample: torch's constructor arguments through the bridge (torch layer instances
    -> manual twins, F.gelu -> 'gelu'), torch's module in float64, its parameters copied
    into ours by name, then forward, every input and parameter gradient under a random
    upstream gradient (TOL, float64), masks as given."""
    c = sample.constructor_input
    theirs = info.module_cls(*c.args, **c.kwargs).double()
    args, kwargs = manual_arguments(c.args, c.kwargs)
    cls = getattr(ml, name)
    if name != "TransformerEncoder":  # the others take a dtype; the encoder its layer's
        kwargs["dtype"] = np.float64
    ours = cls(*args, **kwargs)
    copy_params_to_manual(ours, theirs)
    assert ours.training and theirs.training
    f = sample.forward_input
    kw = {k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in f.kwargs.items()}
    _compare(ours, theirs, [a.detach().numpy() for a in f.args], np.float64, kw)


@pytest.mark.parametrize("name, at_least", [("TransformerEncoderLayer", 39),
                                            ("TransformerEncoder", 39),
                                            ("TransformerDecoderLayer", 67),
                                            ("Transformer", 64)])
def test_module_db_samples_agree_with_torch(module_db_by_name, name, at_least):
    """Every module_db sample of ``name`` (constructor forms with positional F.gelu, torch
    layer instances for the encoder, bias=False, batch_first, norm_first, unbatched inputs,
    key padding and attention masks), float64. The counts are torch 2.13's."""
    samples = module_db_by_name[name]
    for info, sample in samples:
        _module_db_sample(name, info, sample)
    assert len(samples) >= at_least, len(samples)


# --------------------------------------------------------------------------------------
# the functional pairs, the causal mask helper, dtype casts
# --------------------------------------------------------------------------------------
def test_functional_pairs_agree_with_torch():
    tl = torch.nn.TransformerDecoderLayer(4, 2, 8, 0.0, dtype=torch.float64)
    params = {k: v.detach().numpy() + 0.1 for k, v in tl.named_parameters()}
    with torch.no_grad():
        for v in tl.parameters():
            v.add_(0.1)
    tgt, mem, g = _x((3, 2, 4), 1), _x((5, 2, 4), 2), _x((3, 2, 4), 3)
    out, cache = ml.transformer_decoder_layer_forward(tgt, mem, params, nhead=2,
                                                      tgt_mask=CAUSAL3)
    dtgt, dmem, grads = ml.transformer_decoder_layer_backward(g, cache)
    tt, tm = (torch.tensor(a, requires_grad=True) for a in (tgt, mem))
    tout = tl(tt, tm, tgt_mask=torch.as_tensor(CAUSAL3))
    tout.backward(torch.as_tensor(g))
    tol = TOL[np.float64]
    np.testing.assert_allclose(out, tout.detach().numpy(), **tol)
    np.testing.assert_allclose(dtgt, tt.grad.numpy(), **tol)
    np.testing.assert_allclose(dmem, tm.grad.numpy(), **tol)
    for k, v in tl.named_parameters():
        np.testing.assert_allclose(grads[k], v.grad.numpy(), **tol, err_msg=k)

    te = torch.nn.TransformerEncoderLayer(4, 2, 8, 0.0, norm_first=True, dtype=torch.float64)
    params = {k: v.detach().numpy() for k, v in te.named_parameters()}
    out, cache = ml.transformer_encoder_layer_forward(tgt, params, nhead=2, norm_first=True)
    dsrc, grads = ml.transformer_encoder_layer_backward(g, cache)
    ts = torch.tensor(tgt, requires_grad=True)
    te(ts).backward(torch.as_tensor(g))
    np.testing.assert_allclose(dsrc, ts.grad.numpy(), **tol)
    assert set(grads) == set(params)


def test_transformer_functional_pair_reads_its_sizes_off_the_params():
    tr = _noisy(ml.Transformer(4, 2, 2, 1, 8, 0.0, rng=2))
    src, tgt = _x((3, 2, 4), 1), _x((2, 2, 4), 2)
    mask = ml.Transformer.generate_square_subsequent_mask(2)
    out, cache = ml.transformer_forward(src, tgt, {k: v.copy() for k, v in tr.params.items()},
                                        nhead=2, tgt_mask=mask)
    assert len(cache.encoder.layers) == 2 and len(cache.decoder.layers) == 1
    np.testing.assert_array_equal(out, tr.forward(src, tgt, tgt_mask=mask))
    g = _x(out.shape, 3)
    dsrc, dtgt, grads = ml.transformer_backward(g, cache)
    esrc, etgt = tr.backward(g)
    np.testing.assert_array_equal(dsrc, esrc)
    assert grads.keys() == tr.grads.keys()
    with pytest.raises(ValueError, match="missing"):
        ml.transformer_encoder_layer_forward(src, {"linear1.weight": np.zeros((8, 4))}, 2)


def test_generate_square_subsequent_mask_is_torchs():
    np.testing.assert_array_equal(ml.Transformer.generate_square_subsequent_mask(4),
                                  torch.nn.Transformer.generate_square_subsequent_mask(
                                      4, dtype=torch.float64).numpy())


def test_astype_casts_every_sublayer():
    tr = ml.Transformer(4, 2, 1, 1, 8, 0.0)
    t32 = tr.astype(np.float32)
    assert t32.dtype == np.float32 and all(p.dtype == np.float32 for p in t32.params.values())
    assert all(p.dtype == np.float64 for p in tr.params.values())
    out = t32.forward(_x((3, 2, 4)), _x((2, 2, 4)))
    assert out.dtype == np.float32
