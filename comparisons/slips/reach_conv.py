"""Deliberately wrong Conv3d, ConvTranspose1d, MaxPool3d and AdaptiveAvgPool1d layers: the
negative controls of :mod:`comparisons.cases.reach_conv`, each a subclass of the correct
layer with one classic slip in its backward pass; the records hold the classes themselves."""

from __future__ import annotations

import numpy as np

from manual.layers import AdaptiveAvgPool1d, Conv3d, ConvTranspose1d, MaxPool3d
from manual.layers.conv import conv3d_backward, conv_transpose1d_backward

__all__ = ["AdaptiveAvgPool1dGradNotDivided", "Conv3dWeightGradFirstDepthOnly",
           "ConvTranspose1dOutputPaddingIgnored", "MaxPool3dGradToWholeWindow"]


class Conv3dWeightGradFirstDepthOnly(Conv3d):
    """The weight gradient of a 3-d convolution taken over the first output depth slice
    only, as if the 2-d formula's sum over rows and columns were the whole sum: the sum over
    the output's depth forgotten. The input and bias gradients stay right."""

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple, need_dx: bool) -> tuple:
        dx, _, db = conv3d_backward(dout, cache, need_dx)
        first = np.zeros_like(dout)
        first[:, :, :1] = dout[:, :, :1]  # the gradient of output depth 0 alone
        _, dw, _ = conv3d_backward(first, cache, need_dx=False)
        return dx, dw, db


class ConvTranspose1dOutputPaddingIgnored(ConvTranspose1d):
    """The backward of a transposed 1-d convolution written as if ``output_padding`` were 0:
    the last ``output_padding`` entries of the upstream gradient dropped before padding it,
    so the outputs that ``output_padding`` added (real outputs when it is at most
    ``padding``) send no gradient to the input or the weight. The bias gradient stays
    right; the output's shape is right (the forward is correct)."""

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple, need_dx: bool) -> tuple:
        x, w, stride, pad, dilation, groups, has_bias = cache
        db = dout.sum(axis=(0, 2)) if has_bias else None
        plain = (x.shape[2] - 1) * stride[0] - 2 * pad[0] + dilation[0] * (w.shape[2] - 1) + 1
        cut = np.zeros_like(dout)
        cut[:, :, :plain] = dout[:, :, :plain]  # as if the output ended at output_padding=0
        dx, dw, _ = conv_transpose1d_backward(cut, cache, need_dx)
        return dx, dw, db


class MaxPool3dGradToWholeWindow(MaxPool3d):
    """3-d max pooling's backward sending each window's gradient to every element of the
    window (average pooling without the divisor) instead of to its maximum only."""

    # an instance method where the parent's is static (it reads self.kernel_size): the
    # parent calls self._backward(dout, cache) either way
    def _backward(self, dout: np.ndarray, cache: tuple  # type: ignore[override]
                  ) -> np.ndarray:
        x_shape, xp_shape, pads, _ = cache
        out = dout.shape[2:]
        dxp = np.zeros(xp_shape, dtype=dout.dtype)
        for offset in np.ndindex(*self.kernel_size):  # every element of every window
            reach = tuple(slice(k * d, k * d + (o - 1) * s + 1, s) for k, d, o, s in
                          zip(offset, self.dilation, out, self.stride))
            dxp[(slice(None), slice(None), *reach)] += dout
        crop = tuple(slice(p[0], p[0] + n) for p, n in zip(pads, x_shape[2:]))
        return dxp[(slice(None), slice(None), *crop)]


class AdaptiveAvgPool1dGradNotDivided(AdaptiveAvgPool1d):
    """Adaptive average pooling's backward sending each window's whole gradient to every
    element of the window: the 1/|window| of the mean forgotten (a sum where a mean
    belongs)."""

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
        (P,) = cache
        return dout @ (P > 0).astype(P.dtype)
