"""Deliberately wrong attention kernels, the negative controls of the attention cases
(the controls of :data:`comparisons.cases.attention.ATTENTION_LAYERS`), kept apart from the
correct code.

Each is one classic slip in :func:`manual.layers.attention_forward`,
:func:`manual.layers.attention_backward` or
:func:`manual.layers.attention.appended_row_backward`, written out in full so that it reads
as the wrong derivation it is, and plugged into the attention calls of
:mod:`comparisons.core.attention_calls` (whose kernels are class attributes), so the correct
layer's torch twin still applies.
"""

from __future__ import annotations

import math

import numpy as np

from comparisons.core.attention_calls import MultiheadAttentionCall, ScaledDotProductAttention
from manual.layers.attention import _softmax_rows, _sum_to, attention_backward, attention_forward

__all__ = ["MhaBiasKvGradientAveragedOverBatch", "MhaSoftmaxBackwardWithoutSubtraction",
           "SdpaCausalMaskAfterSoftmax", "SdpaScaleMissingInBackward",
           "SdpaSoftmaxBackwardWithoutSubtraction", "appended_row_backward_averaged",
           "causal_mask_after_softmax", "scale_missing_in_backward",
           "softmax_backward_without_subtraction"]


def softmax_backward_without_subtraction(dout, cache, dweights=None):
    """dA = p * dP: the diagonal of the softmax Jacobian only, the - p (p . dP) term dropped.
    (No dropout in the controls: the keep-mask is ignored.)"""
    q, k, v, p, alpha = cache["q"], cache["k"], cache["v"], cache["p"], cache["scale"]
    dv = np.swapaxes(cache["p_drop"], -1, -2) @ dout
    dp = dout @ np.swapaxes(v, -1, -2)
    if dweights is not None:
        dp = dp + dweights
    dscores = p * dp  # SLIP: should be p * (dp - sum(p * dp, axis=-1))
    dq = (dscores @ k) * alpha
    dk = (np.swapaxes(dscores, -1, -2) @ q) * alpha
    return _sum_to(dq, q.shape), _sum_to(dk, k.shape), _sum_to(dv, v.shape)


def scale_missing_in_backward(dout, cache, dweights=None):
    """The forward scales the scores by 1/sqrt(d); this backward forgets to."""
    dq, dk, dv = attention_backward(dout, cache, dweights)
    alpha = cache["scale"]
    return dq / alpha, dk / alpha, dv  # SLIP: dQ = dA K and dK = dA^T Q, without alpha


def causal_mask_after_softmax(query, key, value, attn_mask=None, dropout_p=0.0,
                              is_causal=False, scale=None, **kwargs):
    """The causal mask applied to the probabilities instead of the scores: future keys are
    zeroed after the softmax, so each row no longer sums to one."""
    if not is_causal:
        return attention_forward(query, key, value, attn_mask, dropout_p, is_causal, scale,
                                 **kwargs)
    L, S = query.shape[-2], key.shape[-2]
    alpha = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = (query @ np.swapaxes(key, -1, -2)) * alpha
    p = _softmax_rows(scores, True) * np.tril(np.ones((L, S)))  # SLIP: mask after softmax
    out = p @ value
    return out, {"q": query, "k": key, "v": value, "p": p, "p_drop": p, "keep": None,
                 "dropout_p": 0.0, "scale": alpha}


def appended_row_backward_averaged(dZ, S):
    """bias_k's (bias_v's) gradient as the batch's mean of the appended row's gradient: the
    shape (1, 1, E) comes out right, but one parameter broadcast to N samples collects
    the sum of their N gradients."""
    return dZ[:, :S], dZ[:, S:].mean(axis=0, keepdims=True)  # SLIP: should be .sum


class SdpaSoftmaxBackwardWithoutSubtraction(ScaledDotProductAttention):
    attention_backward = staticmethod(softmax_backward_without_subtraction)


class SdpaScaleMissingInBackward(ScaledDotProductAttention):
    attention_backward = staticmethod(scale_missing_in_backward)


class SdpaCausalMaskAfterSoftmax(ScaledDotProductAttention):
    attention_forward = staticmethod(causal_mask_after_softmax)


class MhaSoftmaxBackwardWithoutSubtraction(MultiheadAttentionCall):
    attention_backward = staticmethod(softmax_backward_without_subtraction)


class MhaBiasKvGradientAveragedOverBatch(MultiheadAttentionCall):
    appended_row_backward = staticmethod(appended_row_backward_averaged)
