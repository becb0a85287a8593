"""Bad input to the convolution and pooling layers raises ValueError/TypeError at our API
boundary, naming the layer, the argument and the shapes; where torch refuses the same
thing, the test checks that it does (so "as torch" is a claim we test)."""

import numpy as np
import pytest
import torch

from manual.layers import (AdaptiveAvgPool2d, AvgPool2d, Conv1d, Conv2d, ConvTranspose2d,
                           MaxPool1d, MaxPool2d)


def _torch_refuses(fn):
    with pytest.raises((RuntimeError, ValueError)):
        fn()


def test_wrong_number_of_channels():
    with pytest.raises(ValueError, match=r"Conv2d: expected 3 input channels "
                                         r"\(in_channels=3\), got input of shape \(2, 2, 5, 5\)"):
        Conv2d(3, 4, 3).forward(np.ones((2, 2, 5, 5)))
    with pytest.raises(ValueError, match=r"Conv1d: expected 2 input channels .* \(3, 7\)"):
        Conv1d(2, 4, 3).forward(np.ones((3, 7)))  # unbatched (C, L)
    _torch_refuses(lambda: torch.nn.Conv2d(3, 4, 3)(torch.ones(2, 2, 5, 5)))


def test_input_smaller_than_the_dilated_kernel():
    with pytest.raises(ValueError, match=r"Conv2d: the padded input \(\(4, 4\) .* smaller than "
                                         r"the dilated kernel \(5, 5\).*dilation=\(2, 2\)"):
        Conv2d(1, 1, 3, dilation=2).forward(np.ones((1, 1, 4, 4)))
    _torch_refuses(lambda: torch.nn.Conv2d(1, 1, 3, dilation=2)(torch.ones(1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"MaxPool2d: input of shape \(1, 1, 2, 2\) is too "
                                         r"small for kernel_size=\(3, 3\)"):
        MaxPool2d(3).forward(np.ones((1, 1, 2, 2)))
    _torch_refuses(lambda: torch.nn.MaxPool2d(3)(torch.ones(1, 1, 2, 2)))


@pytest.mark.parametrize("key", ["stride", "dilation", "kernel_size"])
def test_stride_dilation_kernel_below_one(key):
    kwargs = {"kernel_size": 3, key: 0}
    with pytest.raises(ValueError, match=rf"Conv2d: {key} must be >= 1, got 0"):
        Conv2d(2, 2, **kwargs)
    with pytest.raises(ValueError, match=rf"ConvTranspose2d: {key} must be >= 1"):
        ConvTranspose2d(2, 2, **kwargs)
    if key != "kernel_size":
        _torch_refuses(lambda: torch.nn.Conv2d(2, 2, **kwargs)(torch.ones(1, 2, 5, 5)))
    pool = {"kernel_size": 2, key: 0}
    with pytest.raises(ValueError, match=rf"MaxPool2d: {key} must be >= 1"):
        MaxPool2d(**pool)


def test_channels_not_divisible_by_groups():
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(3\) must be divisible by "
                                         r"groups \(2\)"):
        Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"Conv2d: out_channels \(3\) must be divisible"):
        Conv2d(4, 3, 3, groups=2)
    _torch_refuses(lambda: torch.nn.Conv2d(3, 4, 3, groups=2))


def test_same_padding_with_stride():
    with pytest.raises(ValueError, match=r"Conv2d: padding='same' is not supported for "
                                         r"strided convolutions \(stride=\(2, 2\)\)"):
        Conv2d(2, 2, 3, stride=2, padding="same")
    _torch_refuses(lambda: torch.nn.Conv2d(2, 2, 3, stride=2, padding="same"))
    with pytest.raises(ValueError, match="Conv1d: padding must be an int, a tuple, 'valid' or "
                                         "'same', got 'full'"):
        Conv1d(2, 2, 3, padding="full")


def test_unknown_padding_mode_is_rejected():
    """torch's four padding modes are accepted (tests/test_padding_modes.py compares
    them); any other is refused, as torch refuses it."""
    for mode in ("zeros", "reflect", "replicate", "circular"):
        assert Conv2d(2, 2, 3, padding_mode=mode).padding_mode == mode
    with pytest.raises(ValueError, match="Conv2d: padding_mode must be one of"):
        Conv2d(2, 2, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        torch.nn.Conv2d(2, 2, 3, padding_mode="mirror")


@pytest.mark.parametrize("cls", [MaxPool2d, AvgPool2d])
def test_pooling_padding_over_half_the_kernel(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: padding should be at most half of "
                                         r"the kernel size .* padding=\(2, 2\) for "
                                         r"kernel_size=\(3, 3\)"):
        cls(3, padding=2)
    _torch_refuses(lambda: getattr(torch.nn, cls.__name__)(3, padding=2)(torch.ones(1, 1, 6, 6)))
    with pytest.raises(ValueError, match="MaxPool1d: padding should be at most half"):
        MaxPool1d(2, padding=2)


def test_transposed_output_padding_must_be_below_stride_or_dilation():
    with pytest.raises(ValueError, match=r"ConvTranspose2d: output_padding \(1, 1\) must be "
                                         r"smaller than either stride \(1, 1\) or dilation"):
        ConvTranspose2d(2, 2, 3, output_padding=1)
    _torch_refuses(lambda: torch.nn.ConvTranspose2d(2, 2, 3, output_padding=1)(
        torch.ones(1, 2, 4, 4)))
    with pytest.raises(ValueError, match="ConvTranspose2d: padding must be an int or a tuple"):
        ConvTranspose2d(2, 2, 3, padding="same")


def test_wrong_rank_and_types():
    with pytest.raises(ValueError, match=r"Conv2d: input must be \(N, C, H, W\) or \(C, H, W\), "
                                         r"got shape \(5, 5\)"):
        Conv2d(1, 1, 3).forward(np.ones((5, 5)))
    with pytest.raises(ValueError, match=r"MaxPool1d: input must be \(N, C, L\) or \(C, L\)"):
        MaxPool1d(2).forward(np.ones((1, 1, 4, 4)))
    with pytest.raises(TypeError, match=r"Conv2d: kernel_size must be an int or a tuple of 2 "
                                        r"ints, got 2.5"):
        Conv2d(1, 1, 2.5)
    with pytest.raises(ValueError, match=r"Conv2d: padding must be >= 0, got -1"):
        Conv2d(1, 1, 3, padding=-1)
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d: output_size must hold positive "
                                         r"ints or None, got \(0, 2\)"):
        AdaptiveAvgPool2d((0, 2))
    with pytest.raises(ValueError, match="AvgPool2d: divisor_override must be non-zero"):
        AvgPool2d(2, divisor_override=0)
    with pytest.raises(TypeError, match="Conv2d: input must hold real numbers"):
        Conv2d(1, 1, 1).forward(np.ones((1, 1, 2, 2), dtype=complex))


def test_non_finite_input_and_wrong_dout():
    x = np.ones((1, 1, 4, 4))
    x[0, 0, 2, 1] = np.nan
    with pytest.raises(ValueError, match=r"Conv2d: input contains a non-finite value .* at "
                                         r"index \(0, 0, 2, 1\)"):
        Conv2d(1, 1, 3).forward(x)
    layer = MaxPool2d(2)
    layer.forward(np.ones((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"MaxPool2d: dout has shape \(1, 1, 3, 3\), expected "
                                         r"the output's shape \(1, 1, 2, 2\)"):
        layer.backward(np.ones((1, 1, 3, 3)))
    with pytest.raises(RuntimeError, match="ConvTranspose2d.backward called before forward"):
        ConvTranspose2d(1, 1, 2).backward(np.ones((1, 1, 3, 3)))


def test_accepts_what_torch_accepts():
    """Unbatched inputs and empty batches, as torch."""
    conv = Conv2d(2, 3, 3, rng=0)
    assert conv.forward(np.ones((2, 5, 5))).shape == (3, 3, 3)
    assert conv.forward(np.ones((0, 2, 5, 5))).shape == (0, 3, 3, 3)
    assert conv.backward(np.ones((0, 3, 3, 3))).shape == (0, 2, 5, 5)
    assert conv.grads["weight"].shape == (3, 2, 3, 3) and not conv.grads["weight"].any()
    assert MaxPool2d(2).forward(np.ones((0, 3, 4, 4))).shape == (0, 3, 2, 2)
    assert AdaptiveAvgPool2d(2).forward(np.ones((3, 4, 4))).shape == (3, 2, 2)
