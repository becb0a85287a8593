"""Deliberately wrong convolution and pooling layers, the negative controls of the layer
table (named by the records of :mod:`comparisons.cases.layers`). Each subclasses the correct
layer, so it keeps the correct layer's torch twin, and changes one thing in its backward
pass."""

from __future__ import annotations

import numpy as np

from manual.layers import Conv1d, Conv2d, ConvTranspose2d, MaxPool2d
from manual.layers.conv import (
    cols_times_weight,
    conv2d_backward,
    im2col,
    input_grad_flipped,
    weight_grad,
)
from manual.layers.pooling import avg_pool2d_backward

__all__ = ["Conv1dCircularGradCropped", "Conv2dKernelTransposed", "Conv2dUnflippedKernel",
           "ConvTranspose2dPaddingOffByOne", "MaxPool2dGradToWholeWindow"]


# --------------------------------------------------------------------------------------
class Conv2dUnflippedKernel(Conv2d):
    """dx as the correlation of dout with the kernel *not* flipped (a correlation where
    the backward needs a convolution): right only for a kernel symmetric under a
    180-degree rotation."""

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple, need_dx: bool) -> tuple:
        dx, dw, db = conv2d_backward(dout, cache, need_dx)
        x_shape, w, _, stride, pads, dilation, groups, _ = cache
        if need_dx:  # input_grad_flipped flips its kernel: hand it the pre-flipped one
            dx = input_grad_flipped(dout, w[:, :, ::-1, ::-1], x_shape[2:], stride,
                                    (pads[0][0], pads[1][0]), dilation, groups)
        return dx, dw, db


class Conv2dKernelTransposed(Conv2d):
    """dx with the kernel's two spatial axes swapped (w[..., q, p]) in place of the flip
    (w[..., kh-1-p, kw-1-q]): the transpose of the wrong axes."""

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple, need_dx: bool) -> tuple:
        dx, dw, db = conv2d_backward(dout, cache, need_dx)
        x_shape, w, _, stride, pads, dilation, groups, _ = cache
        if need_dx:
            wt = np.ascontiguousarray(w.transpose(0, 1, 3, 2))[:, :, ::-1, ::-1]
            dx = input_grad_flipped(dout, wt, x_shape[2:], stride, (pads[0][0], pads[1][0]),
                            dilation, groups)
        return dx, dw, db


class MaxPool2dGradToWholeWindow(MaxPool2d):
    """Max pooling's backward sending each window's gradient to every element of the
    window (average pooling without the divisor) instead of to its maximum only."""

    # an instance method where the parent's is static (it reads self.kernel_size): the
    # parent calls self._backward(dout, cache) either way
    def _backward(self, dout: np.ndarray, cache: tuple  # type: ignore[override]
                  ) -> np.ndarray:
        x_shape, xp_shape, pads, _, _ = cache
        ones = np.ones(dout.shape[2:], dtype=dout.dtype)
        return avg_pool2d_backward(dout, (x_shape, xp_shape, pads, self.kernel_size,
                                          self.stride, ones))


class ConvTranspose2dPaddingOffByOne(ConvTranspose2d):
    """Backward pads dout by padding + 1 before and padding - 1 after (instead of padding on
    both sides): same shapes, every receptive field shifted by one pixel."""

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple, need_dx: bool) -> tuple:
        x, w, stride, pad, dilation, groups, has_bias = cache
        N, _, H, W = x.shape
        db = dout.sum(axis=(0, 2, 3)) if has_bias else None
        dp = np.pad(dout, ((0, 0), (0, 0), (pad[0] + 1, pad[0] - 1), (pad[1] + 1, pad[1] - 1)))
        cols, out_hw = im2col(dp, tuple(w.shape[2:]), stride, dilation, groups)
        G, K = cols.shape[:2]
        cols = np.ascontiguousarray(
            cols.reshape(G, K, N, *out_hw)[..., :H, :W]).reshape(G, K, N * H * W)
        dx = cols_times_weight(cols, w, N, (H, W)) if need_dx else None
        return dx, weight_grad(x, cols, w.shape), db


# --------------------------------------------------------------------------------------
class Conv1dCircularGradCropped(Conv1d):
    """A circularly padded convolution whose backward crops the padded input's gradient as
    zero padding's does: the gradient of the wrapped copies (the padding at each end reads
    the other end of the input) dropped instead of added back onto the positions they
    copy. The forward, the weight and the bias gradients stay right."""

    def _pad_backward(self, dxp: np.ndarray, pad_cache: tuple) -> np.ndarray:
        x_shape, _ = pad_cache
        crop = tuple(slice(a, a + n) for (a, _), n in zip(self._pads, x_shape[2:]))
        return np.ascontiguousarray(dxp[(slice(None), slice(None), *crop)])
