"""``nn.MultiheadAttention``'s ``add_bias_kv`` and ``add_zero_attn`` against torch: the
parameters (names, order, initial distribution), forward, attention weights and every
gradient, in both dtypes, across key_padding_mask / attn_mask / need_weights /
average_attn_weights / batch_first / unbatched / kdim-vdim / the is_causal hint; and every
sample torch's own ``module_db`` has for ``MultiheadAttention``, in float64.

Tolerances: the project's torch tolerance (:func:`comparisons.core.tolerances.tolerance_for`,
float64 rtol 1e-10 atol 1e-12, float32 rtol 1e-5 atol 1e-6): inputs and parameters of
order one, every sum of a few dozen terms (E = 8, at most 6 keys, N L = 6 rows), so each
side's rounding is a few dozen ulp. The module_db samples (values up to 9, E = 3) are
compared in float64 only, as in tests/test_new_layers.py.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from comparisons.core.compare import compare_arrays
from comparisons.core.tolerances import tolerance_for
from manual.layers import MultiheadAttention

from _layers import DTYPES, TORCH_DTYPE, module_db_samples

E, H, L, S, N = 8, 2, 3, 4, 2
OPTIONS = [(True, False), (False, True), (True, True)]  # (add_bias_kv, add_zero_attn)
LAYOUTS = ["(L, N, E)", "(N, L, E)", "unbatched"]


def _close(label, actual, expected, dtype):
    c = compare_arrays(actual, expected, tolerance_for(dtype, "torch"))
    assert c.passed, c.message(label)


def _as_torch(x, dtype):
    """A mask or input as torch's: bool stays bool, floats in the compared dtype."""
    if x is None:
        return None
    x = np.asarray(x)
    return torch.from_numpy(x) if x.dtype == np.bool_ else torch.tensor(x, dtype=dtype)


def _torch_twin(ours):
    """``nn.MultiheadAttention(**ours.config)`` holding our parameter values, by name."""
    theirs = torch.nn.MultiheadAttention(**ours.config, dtype=TORCH_DTYPE[ours.dtype.type])
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.from_numpy(ours.params[name]))
    return theirs


def _agree(ours, theirs, inputs, call, dtype, label, seed=0):
    """One forward and backward on both sides: output, weights, the gradients of query, key,
    value and of every parameter, under random upstream gradients on the output and on
    the weights when returned."""
    tdt = TORCH_DTYPE[dtype]
    xs = [np.asarray(x, dtype=dtype) for x in inputs]
    txs = [torch.tensor(x, requires_grad=True) for x in xs]
    out, weights = ours.forward(*xs, **call)
    tout, tweights = theirs(*txs, **{k: _as_torch(v, tdt) if isinstance(v, np.ndarray) else v
                                     for k, v in call.items()})
    assert out.dtype == dtype, label
    _close(f"{label} attn_output", out, tout.detach().numpy(), dtype)
    assert (weights is None) == (tweights is None), label
    rng = np.random.default_rng(seed)
    dout = rng.standard_normal(out.shape).astype(dtype)
    outs, grads = [tout], [torch.from_numpy(dout)]
    dweights = None
    if weights is not None:
        _close(f"{label} attn_weights", weights, tweights.detach().numpy(), dtype)
        dweights = rng.standard_normal(weights.shape).astype(dtype)
        outs.append(tweights)
        grads.append(torch.from_numpy(dweights))
    torch.autograd.backward(outs, grads)
    dxs = ours.backward(dout, dweights)
    for name, dx, tx in zip(("query", "key", "value"), dxs, txs, strict=True):
        _close(f"{label} grad_{name}", dx, tx.grad.numpy(), dtype)
    assert list(ours.grads) == [n for n, _ in theirs.named_parameters()], label
    for name, p in theirs.named_parameters():
        _close(f"{label} {name}", ours.grads[name], p.grad.numpy(), dtype)


# --------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kv", [{}, {"kdim": 5, "vdim": 6}])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("add_bias_kv,add_zero_attn", OPTIONS + [(False, False)])
def test_parameters_named_shaped_and_ordered_as_torch(add_bias_kv, add_zero_attn, bias, kv):
    config = dict(add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn, bias=bias, **kv)
    ours = MultiheadAttention(E, H, **config, rng=0)
    theirs = torch.nn.MultiheadAttention(E, H, **config)
    assert [(n, p.shape) for n, p in ours.params.items()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert ours.config["add_bias_kv"] is add_bias_kv
    assert ours.config["add_zero_attn"] is add_zero_attn


def test_bias_kv_initialised_xavier_normal_as_torch():
    """torch: ``xavier_normal_`` on (1, 1, E): fan_in = fan_out = E, so N(0, 1/E). Over
    n = 64 layers x 2 x 64 draws the sample mean has standard error std/sqrt(n) and the
    sample standard deviation a relative one of 1/sqrt(2n) = 0.6 %: bounds of 5 standard
    errors (seeded: the same draws every run)."""
    big = 64
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(1, 1, big))
    std = math.sqrt(2.0 / (fan_in + fan_out))
    assert std == pytest.approx(1 / math.sqrt(big))
    layers = [MultiheadAttention(big, 1, add_bias_kv=True, rng=seed) for seed in range(64)]
    draws = np.concatenate([m.params[k].ravel() for m in layers for k in ("bias_k", "bias_v")])
    ours = layers[0]
    n = draws.size
    assert abs(draws.mean()) < 5 * std / math.sqrt(n)
    assert abs(draws.std() / std - 1) < 5 / math.sqrt(2 * n)
    assert not np.array_equal(ours.params["bias_k"], ours.params["bias_v"])


def test_default_layer_draws_the_same_parameters_as_before():
    """Without the options nothing new is drawn: a default layer's parameters come from the
    same random stream (out_proj.weight right after the projections)."""
    plain = MultiheadAttention(E, H, rng=3)
    zero = MultiheadAttention(E, H, add_zero_attn=True, rng=3)
    for name in plain.params:
        assert np.array_equal(plain.params[name], zero.params[name]), name


# --------------------------------------------------------------------------------------
# against torch: options x layouts x masks x weights, both dtypes
# --------------------------------------------------------------------------------------
def _masks(batched, rng):
    """name -> forward keyword arguments: bool and float masks, 2-D and per-head attention
    masks, a sample with every input key padded (the extra keys are never padded, so it
    stays finite)."""
    kpm_shape = (N, S) if batched else (S,)
    head_shape = (N * H, L, S) if batched else (H, L, S)
    blocked = rng.random((L, S)) < 0.3
    blocked[:, 0] = False  # every query keeps a key of the input
    kpm = rng.random(kpm_shape) < 0.3
    kpm[..., 0] = False
    all_padded = kpm.copy()
    all_padded[0 if batched else slice(None)] = True  # (sample 0's) every input key padded
    return {
        "no-mask": {},
        "kpm-bool": {"key_padding_mask": kpm},
        "attn-float-per-head": {"attn_mask": rng.standard_normal(head_shape)},
        "both-bool": {"key_padding_mask": kpm, "attn_mask": blocked},
        "both-float-inf": {"key_padding_mask": np.where(kpm, -np.inf, 0.0),
                           "attn_mask": np.where(rng.random(head_shape) < 0.3, -np.inf,
                                                 rng.standard_normal(head_shape))},
        "kpm-all-padded": {"key_padding_mask": all_padded},
    }


WEIGHTS = {"no-weights": {"need_weights": False}, "weights": {},
           "per-head-weights": {"average_attn_weights": False}}


def _inputs(layout, kv, rng):
    kd, vd = kv.get("kdim", E), kv.get("vdim", E)
    shape = {"(L, N, E)": lambda n, f: (n, N, f), "(N, L, E)": lambda n, f: (N, n, f),
             "unbatched": lambda n, f: (n, f)}[layout]
    return [rng.standard_normal(shape(n, f)) for n, f in ((L, E), (S, kd), (S, vd))]


@pytest.mark.parametrize("kv", [{}, {"kdim": 5, "vdim": 6}], ids=["kdim=E", "kdim-vdim"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("add_bias_kv,add_zero_attn", OPTIONS,
                         ids=["bias_kv", "zero_attn", "bias_kv-zero_attn"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_against_torch(dtype, add_bias_kv, add_zero_attn, layout, kv):
    rng = np.random.default_rng(11)
    ours = MultiheadAttention(E, H, add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn,
                              batch_first=layout == "(N, L, E)", dtype=dtype, rng=0, **kv)
    for p in ours.params.values():  # generic values: the zero biases shifted too
        p += (0.1 * rng.standard_normal(p.shape)).astype(dtype)
    theirs = _torch_twin(ours)
    inputs = _inputs(layout, kv, rng)
    masks = _masks(layout != "unbatched", rng)
    for (mname, mask), (wname, flags) in itertools.product(masks.items(), WEIGHTS.items()):
        theirs.zero_grad()
        _agree(ours, theirs, inputs, {**mask, **flags}, dtype,
               f"{layout} {kv} {mname} {wname}")


@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("add_bias_kv,add_zero_attn", OPTIONS,
                         ids=["bias_kv", "zero_attn", "bias_kv-zero_attn"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_is_causal_hint_against_torch(dtype, add_bias_kv, add_zero_attn, need_weights):
    """``is_causal=True`` with the causal ``attn_mask``: without weights torch drops the mask
    and SDPA builds the top-left triangle of (L, S + extra), so query i sees key j <= i,
    the extra keys included; with weights the mask as given, padded. One key (S = 1) for
    L = 3 queries, so that queries 1 and 2 reach bias_k and the zero key. (With L <= S no
    query sees an extra key, and the key block of in_proj_bias gets a gradient that is zero
    in exact arithmetic, softmax ignoring a shift common to every visible key: rounding
    noise on both sides, which no elementwise tolerance bounds.)"""
    rng = np.random.default_rng(12)
    ours = MultiheadAttention(E, H, add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn,
                              dtype=dtype, rng=0)
    for p in ours.params.values():
        p += (0.1 * rng.standard_normal(p.shape)).astype(dtype)
    inputs = [rng.standard_normal(shape) for shape in ((L, N, E), (1, N, E), (1, N, E))]
    call = {"attn_mask": np.triu(np.ones((L, 1), bool), k=1), "is_causal": True,
            "need_weights": need_weights}
    _agree(ours, _torch_twin(ours), inputs, call, dtype, f"is_causal {call}")


def test_bias_k_gradient_is_summed_over_the_batch():
    """A batch of copies of one sample: bias_k's and bias_v's gradients are N times the
    single sample's (the batch's sum), every other projection's too."""
    ours = MultiheadAttention(E, H, add_bias_kv=True, add_zero_attn=True, rng=0)
    x = np.random.default_rng(2).standard_normal((L, 1, E))
    g = np.random.default_rng(3).standard_normal((L, 1, E))
    ours.forward(x, x, x)
    ours.backward(g)
    one = dict(ours.grads)
    ours.forward(*(np.repeat(x, 3, axis=1),) * 3)
    ours.backward(np.repeat(g, 3, axis=1))
    for name in ("bias_k", "bias_v", "in_proj_weight"):
        _close(name, ours.grads[name], 3 * one[name], np.float64)


def test_zero_key_takes_a_share_of_the_softmax_only():
    """add_zero_attn: the output is the attention without the zero key, scaled by each
    query's weight on the real keys (the zero value adds nothing); the weights' last
    column is the zero key's share, exp(0)/Z."""
    x = np.random.default_rng(4).standard_normal((L, N, E))
    plain = MultiheadAttention(E, H, bias=False, rng=5)
    zero = MultiheadAttention(E, H, bias=False, add_zero_attn=True, rng=5)
    _, w0 = plain.forward(x, x, x, average_attn_weights=False)
    _, w1 = zero.forward(x, x, x, average_attn_weights=False)
    assert w1.shape == (N, H, L, L + 1)
    share = 1 - w1[..., -1:]  # the real keys' total weight
    _close("weights", w1[..., :-1], w0 * share, np.float64)


def test_extra_keys_are_never_masked():
    """Masks are padded with "attend": with every input key padded, a query still attends
    to bias_k (need_weights=True gives finite numbers, where the plain layer gives NaN)."""
    x = np.random.default_rng(6).standard_normal((L, N, E))
    kpm = np.ones((N, L), bool)
    _, w = MultiheadAttention(E, H, add_bias_kv=True, rng=0).forward(x, x, x,
                                                                    key_padding_mask=kpm)
    assert np.array_equal(w, np.broadcast_to([0.0] * L + [1.0], w.shape))
    _, w = MultiheadAttention(E, H, rng=0).forward(x, x, x, key_padding_mask=kpm)
    assert np.isnan(w).all()


# --------------------------------------------------------------------------------------
# torch's own samples: module_db
# --------------------------------------------------------------------------------------
def _numpy(x):
    return x.detach().numpy() if isinstance(x, torch.Tensor) else x


def _module_db_sample(info, sample):
    """Ours built with the sample's constructor arguments and torch's initial parameter
    values (copied by name); then forward (query, key, value, **kwargs) -> (out, weights)
    and backward under random upstream gradients, everything compared in float64. A
    sample torch refuses must be refused by ours, with ValueError/TypeError. Returns
    whether torch accepted the sample."""
    c, f = sample.constructor_input, sample.forward_input
    theirs = info.module_cls(*c.args, **c.kwargs).to(torch.float64)
    try:
        ours = MultiheadAttention(*c.args, **c.kwargs, dtype=np.float64)
    except (ValueError, TypeError):
        ours = None
    inputs = [_numpy(a) for a in f.args]
    call = {k: _numpy(v) for k, v in f.kwargs.items()}
    try:
        theirs(*f.args, **f.kwargs)
        refused = False
    except (RuntimeError, ValueError, TypeError, AssertionError, IndexError):
        refused = True
    if refused:  # ours refuses it too: at construction or in forward
        if ours is not None:
            with pytest.raises((ValueError, TypeError)):
                ours.forward(*inputs, **call)
        return False
    assert ours is not None, f"torch builds {c.kwargs}, ours refuses"
    with torch.no_grad():
        for name, p in theirs.named_parameters():  # torch's initial values into ours
            ours.params[name][...] = p.detach().numpy()
    theirs.zero_grad()
    masks = {k: None if v is None else v.shape for k, v in call.items()}
    _agree(ours, theirs, inputs, call, np.float64, f"module_db {c.kwargs} {masks}")
    return True


def test_module_db_samples_agree_with_torch():
    """Every sample torch's module_db has for MultiheadAttention (64: bias x add_bias_kv x
    add_zero_attn x key_padding_mask x attn_mask (H, L, S) x batch_first, each with or
    without; unbatched (3, 3) inputs), forward, weights and every gradient, float64."""
    samples = module_db_samples({"MultiheadAttention"})
    accepted = [_module_db_sample(info, sample) for _, info, sample in samples]
    assert len(samples) == 64, len(samples)
    assert all(accepted), f"torch refused {accepted.count(False)} of {len(samples)} samples"
    options = {(s.constructor_input.kwargs["add_bias_kv"],
                s.constructor_input.kwargs["add_zero_attn"]) for _, _, s in samples}
    assert options == {(False, False), (True, False), (False, True), (True, True)}
