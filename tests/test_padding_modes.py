"""The convolutions' ``padding_mode`` ('zeros', 'reflect', 'replicate', 'circular') against
torch in both dtypes (Conv1d/2d/3d x modes x 'same'/'valid'/int paddings x stride,
dilation, groups), the N-d padding pair ``pad_nd_forward``/``pad_nd_backward`` against
``F.pad`` (every mode, negative amounts included), the N-d padding layers (ZeroPad1d/3d,
ReflectionPad1d/3d, ReplicationPad1d/2d/3d, CircularPad1d/2d/3d; torch's module_db
samples are in tests/test_module_db.py), and the refusals: each where torch refuses, as a
``ValueError`` naming the layer and the problem.

Tolerances are ``tests/_layers.py``'s: the padding is a gather (exact) and its backward
adds at most a few copies of each gradient entry, so the convolution's roundings are
the whole error."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from manual import layers
from manual.layers import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d
from manual.layers.padding import pad_nd_backward, pad_nd_forward

from _layers import DTYPES, arguments, compare, x_of

MODES = ("zeros", "reflect", "replicate", "circular")
CLASSES = {1: Conv1d, 2: Conv2d, 3: Conv3d}
#: torch warns at the forward of padding='same' with an even kernel span (a copy)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def _twin(ours):
    with warnings.catch_warnings():  # torch warns about 'same' with an even kernel span
        warnings.filterwarnings("ignore", message=".*padding='same'.*")
        return getattr(torch.nn, type(ours).__name__)(**ours.config)


#: (nd, constructor keywords, input shape): 'same' (odd and even kernel spans: the
#: asymmetric padding), 'valid', int and tuple paddings, stride, dilation, groups,
#: unbatched, padding equal to the size - 1 (reflect's limit)
CASES = [
    (1, {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": 2}, (2, 2, 5)),
    (1, {"in_channels": 2, "out_channels": 4, "kernel_size": 4, "padding": "same",
         "groups": 2}, (2, 2, 6)),
    (1, {"in_channels": 2, "out_channels": 2, "kernel_size": 2, "padding": "same",
         "dilation": 3}, (2, 5)),
    (1, {"in_channels": 3, "out_channels": 3, "kernel_size": 3, "padding": 3, "stride": 2,
         "dilation": 2, "groups": 3}, (2, 3, 4)),
    (2, {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": 1}, (2, 2, 4, 5)),
    (2, {"in_channels": 2, "out_channels": 3, "kernel_size": (2, 3), "padding": "same"},
     (2, 2, 4, 3)),
    (2, {"in_channels": 2, "out_channels": 3, "kernel_size": 2, "padding": "valid"},
     (2, 2, 3, 4)),
    (2, {"in_channels": 4, "out_channels": 2, "kernel_size": (3, 2), "padding": (2, 1),
         "stride": (2, 1), "dilation": (1, 2), "groups": 2, "bias": False}, (2, 4, 3, 4)),
    (2, {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "padding": (1, 3)},
     (2, 3, 4)),
    (3, {"in_channels": 2, "out_channels": 2, "kernel_size": 2, "padding": 1},
     (1, 2, 3, 2, 3)),
    (3, {"in_channels": 2, "out_channels": 4, "kernel_size": (2, 3, 2), "padding": "same",
         "groups": 2}, (1, 2, 3, 3, 2)),
    (3, {"in_channels": 1, "out_channels": 2, "kernel_size": 2, "padding": (1, 0, 2),
         "stride": (1, 2, 1), "dilation": (2, 1, 1)}, (1, 3, 2, 3)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("nd, config, shape", CASES,
                         ids=[f"{nd}d-{i}" for i, (nd, _, _) in enumerate(CASES)])
def test_conv_padding_mode_matches_torch(nd, config, shape, mode, dtype):
    ours = CLASSES[nd](**config, padding_mode=mode, dtype=dtype, rng=0)
    assert ours.padding_mode == mode and ours.config["padding_mode"] == mode
    compare(ours, _twin(ours), [x_of(shape)], dtype)


def test_padding_modes_differ_from_each_other():
    """The cases above are not vacuous: each mode gives another output and gradient."""
    x = x_of((1, 2, 4, 5))
    outs, grads = [], []
    for mode in MODES:
        layer = Conv2d(2, 3, 3, padding=2, padding_mode=mode, dtype=np.float64, rng=0)
        outs.append(layer.forward(x))
        grads.append(layer.backward(np.ones_like(outs[-1])))
    for (a, b), (ga, gb) in zip(itertools.combinations(outs, 2),
                                itertools.combinations(grads, 2)):
        assert not np.allclose(a, b) and not np.allclose(ga, gb)


def test_circular_adds_the_wrapped_gradient_back():
    """A 1x1 kernel of weight 1 makes the conv the padding itself: circular padding by one
    reads the first and last positions twice, so their gradient is 2, the others' 1."""
    layer = Conv1d(1, 1, 1, padding=1, padding_mode="circular", bias=False,
                   dtype=np.float64)
    layer.params["weight"][...] = 1.0
    y = layer.forward(np.array([[[1.0, 2.0, 3.0, 4.0]]]))
    np.testing.assert_array_equal(y, [[[4.0, 1.0, 2.0, 3.0, 4.0, 1.0]]])
    np.testing.assert_array_equal(layer.backward(np.ones_like(y)), [[[2.0, 1.0, 1.0, 2.0]]])


def test_no_input_gradient_skips_the_padding_backward():
    layer = Conv2d(2, 2, 3, padding=1, padding_mode="reflect", dtype=np.float64, rng=0)
    layer.needs_input_grad = False
    y = layer.forward(x_of((1, 2, 3, 3)))
    assert layer.backward(np.ones_like(y)) is None
    assert layer.grads["weight"].shape == (2, 2, 3, 3)


# --------------------------------------------------------------------------------------
# the N-d padding pair against F.pad
# --------------------------------------------------------------------------------------
def _pad_cases():
    rng = np.random.default_rng(0)
    for mode in ("constant", "reflect", "replicate", "circular"):
        for nd in (1, 2, 3):
            for _ in range(12):
                pads = tuple(int(v) for v in rng.integers(-1, 4, size=2 * nd))
                yield mode, pads, (2, 2, *(int(v) for v in rng.integers(3, 5, size=nd)))


@pytest.mark.parametrize("mode, pads, shape", list(_pad_cases()))
def test_pad_nd_matches_f_pad(mode, pads, shape):
    x = x_of(shape)
    t = torch.tensor(x, requires_grad=True)
    kept = [shape[-1 - k] - max(-pads[2 * k], 0) - max(-pads[2 * k + 1], 0)
            for k in range(len(pads) // 2)]
    if mode == "circular" and any(max(pads[2 * k:2 * k + 2]) > m for k, m in enumerate(kept)):
        # more than one wrap of the cropped axis: torch raises an aliasing error or returns
        # memory it never wrote (it checks the uncropped size); refused here
        with pytest.raises(ValueError, match="wraps around more than once"):
            pad_nd_forward(x, pads, mode)
        return
    try:
        ty = F.pad(t, pads, mode=mode)
    except RuntimeError:
        with pytest.raises(ValueError, match="pad_nd: "):
            pad_nd_forward(x, pads, mode)
        return
    y, cache = pad_nd_forward(x, pads, mode)
    np.testing.assert_array_equal(y, ty.detach().numpy())  # a gather: exact
    if 0 in y.shape:  # torch's gradient of an empty output is unwritten memory
        return
    g = x_of(y.shape, seed=2)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(pad_nd_backward(g, cache), t.grad.numpy(), rtol=1e-14,
                               atol=1e-15)


def test_pad_nd_keeps_the_dtype_and_unpadded_axes():
    x = x_of((3, 2, 4)).astype(np.float32)
    y, cache = pad_nd_forward(x, (1, 2), "replicate")
    assert y.dtype == np.float32 and y.shape == (3, 2, 7)
    d = pad_nd_backward(np.ones_like(y), cache)
    assert d.dtype == np.float32
    np.testing.assert_array_equal(d[0, 0], [2.0, 1.0, 1.0, 3.0])


# --------------------------------------------------------------------------------------
# refusals
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, shape, match", [
    (lambda: Conv2d(1, 1, 1, padding=3, padding_mode="reflect"), (1, 1, 3, 3),
     r"Conv2d \(padding_mode='reflect'\): reflection padding must be less than"),
    (lambda: Conv1d(1, 1, 3, padding=1, padding_mode="reflect"), (1, 1, 1),
     "reflection padding must be less than"),
    (lambda: Conv3d(1, 1, 1, padding=(0, 0, 4), padding_mode="circular"), (1, 1, 2, 2, 3),
     r"Conv3d \(padding_mode='circular'\): circular padding must be at most"),
    (lambda: Conv1d(1, 1, 5, padding=1, padding_mode="replicate"), (1, 1, 2),
     "smaller than the dilated kernel"),
    (lambda: Conv1d(1, 1, 1, padding=1, padding_mode="replicate"), (1, 1, 0),
     "replicate padding of an empty axis"),
])
def test_bad_padding_for_the_mode_is_refused_as_torch_refuses_it(make, shape, match):
    ours = make()
    with pytest.raises(ValueError, match=match):
        ours.forward(np.zeros(shape))
    with pytest.raises(RuntimeError):
        _twin(ours).double()(torch.zeros(shape, dtype=torch.float64))


def test_padding_at_the_limit_is_accepted():
    """Reflection by size - 1 and circular by the whole size: accepted, as torch."""
    for mode, pad in (("reflect", 2), ("circular", 3)):
        ours = Conv1d(1, 1, 1, padding=pad, padding_mode=mode, dtype=np.float64, rng=0)
        compare(ours, _twin(ours), [x_of((1, 1, 3))], np.float64)


@pytest.mark.parametrize("make, match", [
    (lambda: Conv2d(2, 2, 3, padding_mode="mirror"),
     r"Conv2d: padding_mode must be one of \('zeros', 'reflect', 'replicate', 'circular'\), "
     r"got padding_mode='mirror'"),
    (lambda: Conv1d(2, 2, 3, padding_mode=None), "padding_mode must be one of"),
    (lambda: Conv3d(2, 2, 3, padding_mode="constant"), "padding_mode must be one of"),
    (lambda: ConvTranspose2d(2, 2, 3, padding_mode="reflect"),
     "ConvTranspose2d: only padding_mode='zeros' is supported"),
    (lambda: ConvTranspose1d(2, 2, 3, padding_mode="circular"),
     "ConvTranspose1d: only padding_mode='zeros' is supported"),
])
def test_bad_padding_mode_is_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("pads, mode, exc, match", [
    ((1, 1), "symmetric", ValueError, "mode must be one of"),
    ((1,), "constant", TypeError, "even number of ints"),
    ((1.0, 1), "constant", TypeError, "even number of ints"),
    ((1, 1, 1, 1, 1, 1), "constant", ValueError, "pad 3 axes"),
    ((-3, -2), "constant", ValueError, "crops more than the input holds"),
])
def test_pad_nd_bad_arguments(pads, mode, exc, match):
    with pytest.raises(exc, match=match):
        pad_nd_forward(np.zeros((2, 4)), pads, mode)


# --------------------------------------------------------------------------------------
# the N-d padding layers
# --------------------------------------------------------------------------------------
PAD_LAYERS = {1: ["ZeroPad1d", "ReflectionPad1d", "ReplicationPad1d", "CircularPad1d"],
              2: ["ReplicationPad2d", "CircularPad2d"],
              3: ["ZeroPad3d", "ReflectionPad3d", "ReplicationPad3d", "CircularPad3d"]}
ALL_PAD_LAYERS = [name for names in PAD_LAYERS.values() for name in names]
#: (n, padding, input shape): int and tuple paddings, crops, batched and unbatched inputs,
#: reflection by size - 1 and circular padding by the whole size
PAD_CASES = [
    (1, 2, (2, 3, 4)), (1, (3, 1), (3, 4)), (1, (-1, 2), (2, 2, 4)),
    (2, (1, 2, 3, 0), (2, 2, 4, 3)), (2, 1, (2, 3, 3)), (2, (2, -1, 0, 3), (1, 2, 4, 4)),
    (3, 1, (1, 2, 2, 3, 2)), (3, (2, 0, 1, 2, 1, 1), (2, 3, 3, 3)),
    (3, (0, -1, 2, 1, 1, 0), (1, 1, 2, 3, 3)),
]


@pytest.mark.parametrize("name", ALL_PAD_LAYERS)
def test_pad_layer_arguments_are_torchs(name):
    assert name in layers.__all__
    assert arguments(getattr(layers, name)) == arguments(getattr(torch.nn, name))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("n, padding, shape", PAD_CASES)
def test_pad_layers_match_torch(n, padding, shape, dtype):
    for name in PAD_LAYERS[n]:
        ours = getattr(layers, name)(padding)
        compare(ours, getattr(torch.nn, name)(padding), [x_of(shape)], dtype)


def test_zero_pad_takes_any_leading_dims():
    for shape, cls, pads in (((5,), layers.ZeroPad1d, (1, 2)),
                             ((1, 2, 2, 2, 3, 2), layers.ZeroPad3d, (1, 0, 0, 1, 2, 0))):
        compare(cls(pads), getattr(torch.nn, cls.__name__)(pads), [x_of(shape)], np.float64)


@pytest.mark.parametrize("make, x, exc, match", [
    (lambda: layers.ReplicationPad1d((1, 2, 3)), None, ValueError, "a 2-tuple"),
    (lambda: layers.CircularPad3d((1, 2)), None, ValueError, "a 6-tuple"),
    (lambda: layers.ZeroPad1d(1.0), None, TypeError, "ints"),
    (lambda: layers.ReflectionPad1d(1), np.zeros(4), ValueError, r"\(N, C, W\) or \(C, W\)"),
    (lambda: layers.CircularPad2d(1), np.zeros((1, 1, 1, 3, 3)), ValueError,
     r"\(N, C, H, W\) or \(C, H, W\)"),
    (lambda: layers.ZeroPad3d(1), np.zeros((3, 3)), ValueError, r"\(\*, D, H, W\)"),
    (lambda: layers.ReflectionPad3d((0, 0, 0, 0, 2, 0)), np.zeros((1, 1, 2, 3, 3)),
     ValueError, "ReflectionPad3d: reflection padding must be less than"),
    (lambda: layers.CircularPad1d((0, 4)), np.zeros((1, 1, 3)), ValueError,
     "CircularPad1d: circular padding must be at most"),
    (lambda: layers.ZeroPad1d(-2), np.zeros((1, 1, 3)), ValueError, "crops more"),
    (lambda: layers.ReplicationPad2d(-2), np.zeros((1, 1, 4, 4)), ValueError,
     "the output is empty along every padded axis"),
])
def test_pad_layers_bad_input(make, x, exc, match):
    """Each refused as torch refuses it (the forward checked where there is an input)."""
    if x is None:
        with pytest.raises(exc, match=match):
            make()
        return
    layer = make()
    with pytest.raises(exc, match=match):
        layer.forward(x)
    twin = getattr(torch.nn, type(layer).__name__)(layer.padding)
    with pytest.raises((RuntimeError, ValueError, NotImplementedError)):
        twin(torch.zeros(x.shape))
