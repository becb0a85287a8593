r"""Normalisation layers: :class:`BatchNorm1d`, :class:`BatchNorm2d`, :class:`BatchNorm3d`,
:class:`InstanceNorm1d`, :class:`InstanceNorm2d`, :class:`LayerNorm`, :class:`GroupNorm`,
:class:`RMSNorm`, :class:`LocalResponseNorm`, and their CS231n-style functional pairs.

Batch, instance, layer and group norm normalise a set :math:`S` of :math:`M` numbers by
that set's mean and *biased* variance, then apply a per-feature scale and shift:

.. math::
    \mu = \frac{1}{M}\sum_{i\in S} x_i, \qquad
    \sigma^2 = \frac{1}{M}\sum_{i\in S} (x_i - \mu)^2, \qquad
    \hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad
    y_i = \gamma\,\hat x_i + \beta

They differ only in what :math:`S` is:

================  ======================================================  ================
layer             the set :math:`S` (one per …)                           :math:`\gamma`
================  ======================================================  ================
batch norm        all samples and positions of one channel (per channel)  per channel
instance norm     the positions of one channel (per sample and channel)   per channel
layer norm        the last ``len(normalized_shape)`` dims (per sample)     per element
group norm        the channels of one group and their positions           per channel
                  (per sample and group)
================  ======================================================  ================

so one backward serves them all. Because :math:`\mu` and :math:`\sigma^2` are functions
of every :math:`x_i` in the set, :math:`\partial L/\partial x_i` has three terms (the
direct path, the path through the mean, the path through the variance; derived in
:func:`batchnorm_backward`):

.. math::
    \frac{\partial L}{\partial x_i} = \frac{1}{\sqrt{\sigma^2+\epsilon}}
    \Big(g_i - \frac{1}{M}\sum_{j\in S} g_j
         - \hat x_i\,\frac{1}{M}\sum_{j\in S} g_j\,\hat x_j\Big),
    \qquad g_i = \gamma\,\frac{\partial L}{\partial y_i}

In eval mode batch norm uses its running statistics instead: constants, so only the
first term is left. RMS norm (:func:`rmsnorm_forward`) divides by the root mean square
without subtracting the mean, so its backward has no mean term. Local response norm
(:func:`local_response_norm_forward`) divides each channel by a power of the mean square
of its neighbouring channels: its backward reaches every channel of the window.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from manual.layers.base import Layer, check_positive_int, layer_dtype

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "InstanceNorm1d",
           "InstanceNorm2d", "LayerNorm", "LocalResponseNorm", "NormCache",
           "batchnorm_backward", "batchnorm_forward", "groupnorm_backward", "groupnorm_forward",
           "instancenorm_backward", "instancenorm_forward", "layernorm_backward",
           "layernorm_forward", "local_response_norm_backward", "local_response_norm_forward",
           "normalize_backward", "normalize_forward", "RMSNorm", "rmsnorm_backward",
           "rmsnorm_forward"]


# --------------------------------------------------------------------------------------
# the shared core: normalise over some axes, and its three-term backward
# --------------------------------------------------------------------------------------
@dataclass
class NormCache:
    """What a normalisation's backward needs (and, for batch norm, the statistics used).

    ``xhat`` is :math:`\\hat x` (the input's shape), ``inv_std`` is
    :math:`1/\\sqrt{\\sigma^2+\\epsilon}` broadcastable against it, ``axes`` the axes the
    statistics were taken over, ``batch_stats`` whether they were this input's own (False
    for eval-mode batch norm: constants, one-term backward). ``mean`` and ``var`` (biased)
    are the statistics, broadcastable like ``inv_std``."""

    xhat: np.ndarray
    inv_std: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    axes: tuple[int, ...]
    batch_stats: bool
    gamma: np.ndarray | None = None  # broadcast against x (None: no affine)
    param_axes: tuple[int, ...] = ()  # axes summed to get dgamma/dbeta


def normalize_forward(x: np.ndarray, axes: tuple[int, ...], eps: float,
                      mean: np.ndarray | None = None, var: np.ndarray | None = None
                      ) -> NormCache:
    r""":math:`\hat x = (x - \mu)/\sqrt{\sigma^2+\epsilon}` over ``axes``.

    With ``mean``/``var`` None, :math:`\mu` and the biased :math:`\sigma^2` are ``x``'s own
    over ``axes``; otherwise the given constants (broadcastable against ``x``) are used.
    The variance is taken in two passes, :math:`\frac{1}{M}\sum (x-\mu)^2`, never as
    :math:`E[x^2] - \mu^2`, which cancels catastrophically when :math:`|\mu| \gg \sigma`."""
    batch_stats = mean is None
    if batch_stats and x.size == 0:  # an empty batch: no statistics, nothing to normalise
        mean = var = np.zeros([1 if a in axes else d for a, d in enumerate(x.shape)], x.dtype)
        centred = x - mean
    elif batch_stats:
        mean = x.mean(axis=axes, keepdims=True)  # mu, one per set S
        centred = x - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)  # biased: divide by M
    elif var is None:
        raise TypeError("normalize_forward: give both mean and var (constants), or neither "
                        "(the input's own statistics)")
    else:
        centred = x - mean
    inv_std = 1.0 / np.sqrt(var + eps)  # eps > 0: finite even for a constant set (var 0)
    xhat = centred * inv_std
    return NormCache(xhat.astype(x.dtype, copy=False), inv_std.astype(x.dtype, copy=False),
                     np.asarray(mean, dtype=x.dtype), np.asarray(var, dtype=x.dtype), axes,
                     batch_stats)


def normalize_backward(dxhat: np.ndarray, cache: NormCache) -> np.ndarray:
    r""":math:`\partial L/\partial x` from :math:`g = \partial L/\partial \hat x`:

    .. math::
        \frac{\partial L}{\partial x} = \frac{1}{\sqrt{\sigma^2+\epsilon}}
        \big(g - \overline{g} - \hat x\,\overline{g\hat x}\big)

    (bars: means over the normalised set) with the set's own statistics, or just
    :math:`g/\sqrt{\sigma^2+\epsilon}` when they were constants (eval-mode batch norm)."""
    if not cache.batch_stats:
        return dxhat * cache.inv_std  # mu and sigma are constants: one term
    if dxhat.size == 0:
        return dxhat.copy()
    xhat, axes = cache.xhat, cache.axes
    mean_g = dxhat.mean(axis=axes, keepdims=True)  # the path through mu
    mean_gx = (dxhat * xhat).mean(axis=axes, keepdims=True)  # the path through sigma^2
    # written with xhat (bounded by sqrt(M)) rather than x - mu: no large numbers cancel
    return cache.inv_std * (dxhat - mean_g - xhat * mean_gx)


def _affine(cache: NormCache, gamma: np.ndarray | None, beta: np.ndarray | None,
            shape: tuple[int, ...]) -> np.ndarray:
    """:math:`y = \\gamma \\hat x + \\beta`, with ``gamma``/``beta`` reshaped to ``shape``."""
    out = cache.xhat
    if gamma is not None:
        cache.gamma = gamma.reshape(shape)
        out = out * cache.gamma
    if beta is not None:
        out = out + beta.reshape(shape)
    return out


def _affine_backward(dout: np.ndarray, cache: NormCache, has_beta: bool, shape: tuple[int, ...]
                     ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(dxhat, dgamma, dbeta)`` of the affine step; the parameter gradients in ``shape``."""
    if cache.gamma is None:
        return dout, None, (dout.sum(axis=cache.param_axes).reshape(shape) if has_beta
                            else None)
    dgamma = (dout * cache.xhat).sum(axis=cache.param_axes).reshape(shape)
    dbeta = dout.sum(axis=cache.param_axes).reshape(shape) if has_beta else None
    return dout * cache.gamma, dgamma, dbeta


# --------------------------------------------------------------------------------------
# batch norm
# --------------------------------------------------------------------------------------
def _channel_shape(x: np.ndarray) -> tuple[int, ...]:
    """(1, C, 1, 1, ...): per-channel values broadcast against an (N, C, \\*) input."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batchnorm_forward(x: np.ndarray, gamma: np.ndarray | None, beta: np.ndarray | None,
                      eps: float = 1e-5, running_mean: np.ndarray | None = None,
                      running_var: np.ndarray | None = None, training: bool = True
                      ) -> tuple[np.ndarray, NormCache]:
    r"""Batch normalisation of ``x`` (N, C) or (N, C, \*) per channel ``C``.

    .. math::
        \mu_c = \frac{1}{M}\sum_{n,\ell} x_{nc\ell}, \quad
        \sigma_c^2 = \frac{1}{M}\sum_{n,\ell} (x_{nc\ell}-\mu_c)^2, \quad
        y_{nc\ell} = \gamma_c\,\frac{x_{nc\ell}-\mu_c}{\sqrt{\sigma_c^2+\epsilon}} + \beta_c

    over the :math:`M = N\cdot L` values of channel :math:`c` (all samples and positions).
    ``training=True`` uses these batch statistics (the biased variance, as torch's
    normalisation); ``training=False`` uses ``running_mean``/``running_var`` (C,) instead.
    ``gamma``/``beta`` (C,) may be None (``affine=False``). Returns ``(y, cache)``;
    ``cache.mean`` and ``cache.var`` hold the statistics used (updating running statistics
    is the layer's job, see :class:`BatchNorm1d`)."""
    shape = _channel_shape(x)
    axes = (0,) + tuple(range(2, x.ndim))  # everything but the channel axis
    if training and x.size:
        cache = _channel_statistics(x, eps)
    elif training:
        cache = normalize_forward(x, axes, eps)
    elif running_mean is None or running_var is None:
        raise TypeError("batchnorm_forward: training=False needs running_mean and running_var")
    else:
        cache = normalize_forward(x, axes, eps, running_mean.reshape(shape),
                                  running_var.reshape(shape))
    cache.param_axes = axes
    if x.size == 0:
        return _affine(cache, gamma, beta, shape), cache
    # the same affine step on the (N, C, L) view: a per-channel scale broadcast along the
    # contiguous L axis is one long inner loop, not one per row of W
    out = _by_channel(cache.xhat)
    if gamma is not None:
        cache.gamma = gamma.reshape(shape)
        out = out * gamma[:, None]
    if beta is not None:
        out = out + beta[:, None] if gamma is None else np.add(out, beta[:, None], out=out)
    return out.reshape(x.shape), cache


def _by_channel(a: np.ndarray) -> np.ndarray:
    """An (N, C, \\*) array as (N, C, L): a view when ``a`` is contiguous."""
    return a.reshape(a.shape[0], a.shape[1], -1)


def _channel_statistics(x: np.ndarray, eps: float) -> NormCache:
    """:func:`normalize_forward` over every axis but the channel axis 1 (batch norm in train
    mode): the same two-pass mean and biased variance, taken as per-channel reductions of
    the (N, C, L) view (``einsum``: one pass, no temporary) and normalised in place."""
    x3 = _by_channel(x)
    m = x3.shape[0] * x3.shape[2]  # values per channel
    mean = np.einsum("ncl->c", x3) / m  # mu_c = sum / M
    xhat = x3 - mean[:, None]  # centred; becomes xhat in place below
    var = np.einsum("ncl,ncl->c", xhat, xhat) / m  # biased: sum of squares / M
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat *= inv_std[:, None]
    shape, dtype = _channel_shape(x), x.dtype
    return NormCache(xhat.reshape(x.shape), inv_std.reshape(shape).astype(dtype, copy=False),
                     mean.reshape(shape).astype(dtype, copy=False),
                     var.reshape(shape).astype(dtype, copy=False),
                     (0,) + tuple(range(2, x.ndim)), True)


def batchnorm_backward(dout: np.ndarray, cache: NormCache, has_beta: bool = True
                       ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    r"""Given :math:`\partial L/\partial y`, return ``(dx, dgamma, dbeta)``.

    The parameters are the easy part, sums over the channel's :math:`M` values:

    .. math::
        \frac{\partial L}{\partial \gamma_c} = \sum_{n,\ell} \frac{\partial L}{\partial y}\,
        \hat x, \qquad
        \frac{\partial L}{\partial \beta_c} = \sum_{n,\ell} \frac{\partial L}{\partial y}

    The input is the lesson. With :math:`g = \gamma\,\partial L/\partial y` (the gradient
    reaching :math:`\hat x`) and :math:`s = 1/\sqrt{\sigma^2+\epsilon}`, every :math:`x_i`
    reaches the loss three ways: directly through :math:`\hat x_i = (x_i-\mu)s`, through
    the mean :math:`\mu` every :math:`\hat x_j` subtracts, and through the variance
    every :math:`\hat x_j` divides by. With :math:`\partial\mu/\partial x_i = 1/M` and
    :math:`\partial\sigma^2/\partial x_i = 2(x_i-\mu)/M`:

    .. math::
        \frac{\partial L}{\partial x_i}
        = \underbrace{g_i\, s}_{\text{direct}}
        \;\underbrace{-\;\frac{s}{M}\sum_j g_j}_{\text{through } \mu}
        \;\underbrace{-\;\frac{s}{M}\,\hat x_i \sum_j g_j\,\hat x_j}_{\text{through }
        \sigma^2}
        = \frac{s}{M}\Big(M g_i - \sum_j g_j - \hat x_i \sum_j g_j \hat x_j\Big)

    (the :math:`\mu`-path of the variance term vanishes: :math:`\sum_j (x_j-\mu) = 0`).
    Drop the last two terms — treat the batch statistics as constants — and the gradient
    is wrong in train mode, though right in eval mode, where the statistics *are*
    constants: then ``dx`` is the first term alone. ``has_beta=False``: ``dbeta`` is None.
    """
    if not cache.batch_stats or dout.size == 0:
        dxhat, dgamma, dbeta = _affine_backward(dout, cache, has_beta, (-1,))
        return normalize_backward(dxhat, cache), dgamma, dbeta
    # the same formula in two per-channel reductions and three in-place passes on the
    # (N, C, L) view: with g = gamma dout, sum_j g_j = gamma dbeta and
    # sum_j g_j xhat_j = gamma dgamma, so dx = gamma s (dout - dbeta/M - xhat dgamma/M)
    d3, xhat = _by_channel(dout), _by_channel(cache.xhat)
    m = d3.shape[0] * d3.shape[2]
    sum_d = np.einsum("ncl->c", d3)  # dbeta
    sum_dx = np.einsum("ncl,ncl->c", d3, xhat)  # dgamma
    scale = cache.inv_std.reshape(-1)
    if cache.gamma is not None:
        scale = scale * cache.gamma.reshape(-1)
    dx = xhat * (sum_dx / m)[:, None]
    dx += (sum_d / m)[:, None]
    np.subtract(d3, dx, out=dx)
    dx *= scale[:, None]
    return (dx.reshape(dout.shape), sum_dx if cache.gamma is not None else None,
            sum_d if has_beta else None)


class _NormBase(Layer):
    """Shared by the batch and instance norms (torch's ``_NormBase``): the constructor's
    checks, the per-channel parameters and the running-statistics buffers."""

    _ndims: tuple[int, ...] = ()
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        owner = type(self).__name__
        self.num_features = check_positive_int(owner, "num_features", num_features)
        self.eps = _check_eps(owner, eps)
        if momentum is not None and (isinstance(momentum, bool) or not
                                     isinstance(momentum, (int, float, np.floating))):
            raise TypeError(f"{owner}: momentum must be a float or None, got {momentum!r}")
        self.momentum = None if momentum is None else float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.bias = bool(bias)  # torch 2.13: affine=True, bias=False scales without a shift
        self.config = {"num_features": self.num_features, "eps": self.eps,
                       "momentum": self.momentum, "affine": self.affine,
                       "track_running_stats": self.track_running_stats, "bias": self.bias}
        dt = layer_dtype(owner, dtype)
        self._dtype = dt
        c = self.num_features
        if self.affine:  # torch's init: gamma = 1, beta = 0
            self.params["weight"] = np.ones(c, dtype=dt)
            if self.bias:
                self.params["bias"] = np.zeros(c, dtype=dt)
        if self.track_running_stats:
            self.buffers["running_mean"] = np.zeros(c, dtype=dt)
            self.buffers["running_var"] = np.ones(c, dtype=dt)
            self.buffers["num_batches_tracked"] = np.array(0, dtype=np.int64)  # as torch: long

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, counter 0 (in place), as torch's."""
        if self.track_running_stats:
            self.buffers["running_mean"][...] = 0
            self.buffers["running_var"][...] = 1
            self.buffers["num_batches_tracked"][...] = 0

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dout = self.check_dout(dout)
        dx, dgamma, dbeta = batchnorm_backward(dout, self._cache, "bias" in self.params)
        self.grads = {k: v for k, v in (("weight", dgamma), ("bias", dbeta))
                      if k in self.params and v is not None}
        return dx if self.needs_input_grad else None


class _BatchNorm(_NormBase):
    """Shared by :class:`BatchNorm1d`, :class:`BatchNorm2d` and :class:`BatchNorm3d`."""

    def forward(self, x: Any) -> np.ndarray:
        owner = type(self).__name__
        x = self.check_input(x, self._ndims, what=self._layout)
        if x.shape[1] != self.num_features:
            raise ValueError(f"{owner}: input has {x.shape[1]} channels (shape {x.shape}), "
                             f"expected num_features={self.num_features}")
        # batch statistics in train mode, and in eval mode when there are no running ones
        use_batch = self.training or not self.track_running_stats
        m = x.size // self.num_features  # values per channel
        if use_batch and m == 1:
            raise ValueError(f"{owner}: expected more than 1 value per channel when using "
                             f"batch statistics (train mode, or track_running_stats=False), "
                             f"got input of shape {x.shape}")
        out, cache = batchnorm_forward(x, self.params.get("weight"), self.params.get("bias"),
                                       self.eps, self.buffers.get("running_mean"),
                                       self.buffers.get("running_var"), training=use_batch)
        if self.training and self.track_running_stats:
            self._update_running_stats(cache, m)
        self._cache, self._out_shape = cache, out.shape
        return out

    def _update_running_stats(self, cache: NormCache, m: int) -> None:
        r"""As torch: count the batch, then, unless it is empty,

        .. math::
            \hat\mu \leftarrow (1-f)\hat\mu + f\mu, \qquad
            \hat\sigma^2 \leftarrow (1-f)\hat\sigma^2 + f\,\frac{M}{M-1}\sigma^2

        with :math:`f` = ``momentum``, or :math:`1/t` after :math:`t` batches when
        ``momentum`` is None (the cumulative moving average: the plain mean of every
        batch's statistics). The running variance is the *unbiased* one."""
        nbt = self.buffers["num_batches_tracked"]
        nbt += 1  # in place: the 0-d int64 array stays the live buffer
        if m == 0:
            return  # torch counts an empty batch but leaves the statistics alone
        f = 1.0 / float(nbt) if self.momentum is None else self.momentum
        rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
        mean = cache.mean.reshape(-1)
        unbiased = cache.var.reshape(-1) * (m / (m - 1))  # Bessel's correction
        rm *= 1 - f
        rm += f * mean
        rv *= 1 - f
        rv += f * unbiased


class BatchNorm1d(_BatchNorm):
    r"""``nn.BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True,
    track_running_stats=True, *, bias=True)`` on (N, C) or (N, C, L) inputs.

    Train mode normalises with the batch's own statistics per channel (biased variance)
    and, with ``track_running_stats``, updates ``buffers``: ``running_mean``,
    ``running_var`` (with the *unbiased* variance) and the int64 counter
    ``num_batches_tracked``; ``momentum=None`` makes them the cumulative average.
    Eval mode normalises with the running statistics (0 and 1 before any training, as
    torch) — or, with ``track_running_stats=False``, with the batch's own, as torch.
    ``params``: ``weight`` (:math:`\gamma`, ones) and ``bias`` (:math:`\beta`, zeros), (C,),
    when ``affine`` (no ``bias`` with ``bias=False``, torch 2.13's scale without a shift).
    The math is :func:`batchnorm_forward` and :func:`batchnorm_backward`.
    """

    _ndims = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    r"""``nn.BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True,
    track_running_stats=True, *, bias=True)`` on (N, C, H, W) inputs: :class:`BatchNorm1d`'s
    statistics over the N·H·W values of each channel."""

    _ndims = (4,)
    _layout = "(N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    r"""``nn.BatchNorm3d(num_features, eps=1e-5, momentum=0.1, affine=True,
    track_running_stats=True, *, bias=True)`` on (N, C, D, H, W) inputs (volumes, video):
    :class:`BatchNorm1d`'s statistics over the N·D·H·W values of each channel, the same
    buffers (the running variance unbiased, :math:`M/(M-1)` with :math:`M = NDHW`),
    ``momentum=None`` the cumulative average, an empty batch (N = 0) counted but leaving
    the running statistics alone, as torch."""

    _ndims = (5,)
    _layout = "(N, C, D, H, W)"


def _check_eps(owner: str, eps: Any) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)):
        raise TypeError(f"{owner}: eps must be a float, got {eps!r}")
    if not eps >= 0:
        raise ValueError(f"{owner}: eps must be >= 0, got {eps}")
    return float(eps)


# --------------------------------------------------------------------------------------
# layer norm
# --------------------------------------------------------------------------------------
def layernorm_forward(x: np.ndarray, gamma: np.ndarray | None, beta: np.ndarray | None,
                      normalized_ndim: int = 1, eps: float = 1e-5
                      ) -> tuple[np.ndarray, NormCache]:
    r"""Layer normalisation: each sample normalised over its last ``normalized_ndim`` dims.

    .. math::
        \mu_n = \frac{1}{D}\sum_{d} x_{nd}, \quad
        \sigma_n^2 = \frac{1}{D}\sum_{d} (x_{nd}-\mu_n)^2, \quad
        y_{nd} = \gamma_d\,\frac{x_{nd}-\mu_n}{\sqrt{\sigma_n^2+\epsilon}} + \beta_d

    with :math:`d` running over the :math:`D` elements of the normalised dims and
    :math:`n` over all leading ones; ``gamma``/``beta`` have the normalised dims' shape
    (or are None). Train and eval are the same. Returns ``(y, cache)``."""
    k = normalized_ndim
    axes = tuple(range(x.ndim - k, x.ndim))
    cache = normalize_forward(x, axes, eps)
    cache.param_axes = tuple(range(x.ndim - k))  # the leading dims
    shape = x.shape[x.ndim - k:]
    return _affine(cache, gamma, beta, shape), cache


def layernorm_backward(dout: np.ndarray, cache: NormCache, has_beta: bool = True
                       ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    r"""``(dx, dgamma, dbeta)``: the three-term backward of :func:`batchnorm_backward`,
    with the mean and variance taken per sample over the normalised dims,

    .. math::
        \frac{\partial L}{\partial x_{nd}} = \frac{1}{\sqrt{\sigma_n^2+\epsilon}}
        \Big(g_{nd} - \frac{1}{D}\sum_{d'} g_{nd'} - \hat x_{nd}\,
        \frac{1}{D}\sum_{d'} g_{nd'}\hat x_{nd'}\Big), \qquad g = \gamma\odot
        \frac{\partial L}{\partial y}

    and :math:`\partial L/\partial\gamma = \sum_n \partial L/\partial y \odot \hat x`,
    :math:`\partial L/\partial\beta = \sum_n \partial L/\partial y` over the leading dims."""
    shape = cache.xhat.shape[len(cache.param_axes):]
    dxhat, dgamma, dbeta = _affine_backward(dout, cache, has_beta, shape)
    return normalize_backward(dxhat, cache), dgamma, dbeta


class LayerNorm(Layer):
    r"""``nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True)``.

    Normalises each sample over its last ``len(normalized_shape)`` dims, which must equal
    ``normalized_shape`` (an int means one dim). ``params``: ``weight`` (ones) and
    ``bias`` (zeros) of shape ``normalized_shape`` when ``elementwise_affine`` (no
    ``bias`` with ``bias=False``). Any number of leading dims, none included (a single
    sample). Train and eval modes are the same. The math is :func:`layernorm_forward`.
    """

    def __init__(self, normalized_shape: int | tuple[int, ...] | list[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        shape = ((normalized_shape,) if isinstance(normalized_shape, (int, np.integer))
                 else tuple(normalized_shape))
        self.normalized_shape = tuple(check_positive_int("LayerNorm", "normalized_shape", d)
                                      for d in shape)
        if not self.normalized_shape:
            raise ValueError("LayerNorm: normalized_shape must name at least one dim, got ()")
        self.eps = _check_eps("LayerNorm", eps)
        self.elementwise_affine, self.bias = bool(elementwise_affine), bool(bias)
        self.config = {"normalized_shape": self.normalized_shape, "eps": self.eps,
                       "elementwise_affine": self.elementwise_affine, "bias": self.bias}
        dt = layer_dtype("LayerNorm", dtype)
        self._dtype = dt
        if self.elementwise_affine:
            self.params["weight"] = np.ones(self.normalized_shape, dtype=dt)
            if self.bias:
                self.params["bias"] = np.zeros(self.normalized_shape, dtype=dt)

    def forward(self, x: Any) -> np.ndarray:
        k = len(self.normalized_shape)
        x = self.check_input(x, tuple(range(k, 33)),
                             what=f"(*, {', '.join(map(str, self.normalized_shape))})")
        if x.shape[x.ndim - k:] != self.normalized_shape:
            raise ValueError(f"LayerNorm: input of shape {x.shape} does not end with "
                             f"normalized_shape={self.normalized_shape}")
        out, cache = layernorm_forward(x, self.params.get("weight"), self.params.get("bias"),
                                       k, self.eps)
        self._cache, self._out_shape = cache, out.shape
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dout = self.check_dout(dout)
        dx, dgamma, dbeta = layernorm_backward(dout, self._cache, "bias" in self.params)
        self.grads = {k: v for k, v in (("weight", dgamma), ("bias", dbeta))
                      if k in self.params and v is not None}
        return dx if self.needs_input_grad else None


# --------------------------------------------------------------------------------------
# group norm
# --------------------------------------------------------------------------------------
def groupnorm_forward(x: np.ndarray, gamma: np.ndarray | None, beta: np.ndarray | None,
                      num_groups: int, eps: float = 1e-5) -> tuple[np.ndarray, NormCache]:
    r"""Group normalisation of ``x`` (N, C, \*): the C channels split into ``num_groups``
    groups of C/G consecutive channels, each sample's group normalised over its channels
    and positions, then a per-channel scale and shift:

    .. math::
        \mu_{ng} = \frac{1}{M}\sum_{c\in g,\,\ell} x_{nc\ell}, \quad
        \sigma_{ng}^2 = \frac{1}{M}\sum_{c\in g,\,\ell} (x_{nc\ell}-\mu_{ng})^2, \quad
        y_{nc\ell} = \gamma_c\,\frac{x_{nc\ell}-\mu_{ng}}{\sqrt{\sigma_{ng}^2+\epsilon}}
        + \beta_c

    (:math:`M = (C/G)\cdot L`). ``num_groups=1`` is layer norm over (C, \*) with
    per-channel parameters; ``num_groups=C`` is instance norm. Returns ``(y, cache)``;
    the backward is :func:`groupnorm_backward`."""
    n, c = x.shape[:2]
    # (N, G, C/G, *): a free view, so that one group is one slice over axes 2..
    xg = x.reshape(n, num_groups, c // num_groups, *x.shape[2:])
    cache = normalize_forward(xg, tuple(range(2, xg.ndim)), eps)
    cache.xhat = cache.xhat.reshape(x.shape)  # kept in x's layout for the affine step
    cache.param_axes = (0,) + tuple(range(2, x.ndim))
    return _affine(cache, gamma, beta, _channel_shape(x)), cache


def groupnorm_backward(dout: np.ndarray, cache: NormCache, num_groups: int,
                       has_beta: bool = True
                       ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    r"""``(dx, dgamma, dbeta)``: the three-term backward of :func:`batchnorm_backward`
    with the statistics per sample and group (the sums over the group's channels and
    positions), :math:`g = \gamma_c\,\partial L/\partial y`; :math:`\partial
    L/\partial\gamma_c` and :math:`\partial L/\partial\beta_c` sum over samples and
    positions, as batch norm's."""
    dxhat, dgamma, dbeta = _affine_backward(dout, cache, has_beta, (-1,))
    n, c = dout.shape[:2]
    grouped = (n, num_groups, c // num_groups, *dout.shape[2:])
    inner = NormCache(cache.xhat.reshape(grouped), cache.inv_std, cache.mean, cache.var,
                      cache.axes, True)
    return normalize_backward(dxhat.reshape(grouped), inner).reshape(dout.shape), dgamma, dbeta


class GroupNorm(Layer):
    r"""``nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True, *, bias=True)`` on
    (N, C, \*) inputs. ``num_channels`` must be divisible by ``num_groups``. ``params``:
    ``weight`` (ones) and ``bias`` (zeros), (C,), when ``affine`` (no ``bias`` with
    ``bias=False``). Train and eval are the same. The math is :func:`groupnorm_forward`."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_groups = check_positive_int("GroupNorm", "num_groups", num_groups)
        self.num_channels = check_positive_int("GroupNorm", "num_channels", num_channels)
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels ({self.num_channels}) must be divisible "
                             f"by num_groups ({self.num_groups})")
        self.eps = _check_eps("GroupNorm", eps)
        self.affine, self.bias = bool(affine), bool(bias)
        self.config = {"num_groups": self.num_groups, "num_channels": self.num_channels,
                       "eps": self.eps, "affine": self.affine, "bias": self.bias}
        dt = layer_dtype("GroupNorm", dtype)
        self._dtype = dt
        if self.affine:
            self.params["weight"] = np.ones(self.num_channels, dtype=dt)
            if self.bias:
                self.params["bias"] = np.zeros(self.num_channels, dtype=dt)

    def forward(self, x: Any) -> np.ndarray:
        x = self.check_input(x, tuple(range(2, 33)), what="(N, C, *)")
        if x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: input has {x.shape[1]} channels (shape {x.shape}), "
                             f"expected num_channels={self.num_channels}")
        out, cache = groupnorm_forward(x, self.params.get("weight"), self.params.get("bias"),
                                       self.num_groups, self.eps)
        self._cache, self._out_shape = cache, out.shape
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dout = self.check_dout(dout)
        dx, dgamma, dbeta = groupnorm_backward(dout, self._cache, self.num_groups,
                                               "bias" in self.params)
        self.grads = {k: v for k, v in (("weight", dgamma), ("bias", dbeta))
                      if k in self.params and v is not None}
        return dx if self.needs_input_grad else None


# --------------------------------------------------------------------------------------
# RMS norm
# --------------------------------------------------------------------------------------
def rmsnorm_forward(x: np.ndarray, weight: np.ndarray | None, normalized_ndim: int = 1,
                    eps: float | None = None) -> tuple[np.ndarray, tuple]:
    r"""Root-mean-square normalisation over the last ``normalized_ndim`` dims, as
    ``F.rms_norm``:

    .. math::
        r_n = \Big(\frac{1}{D}\sum_d x_{nd}^2 + \epsilon\Big)^{-1/2}, \qquad
        \hat x_{nd} = x_{nd}\, r_n, \qquad y_{nd} = \gamma_d\, \hat x_{nd}

    (:math:`d` over the :math:`D` elements of the normalised dims, :math:`n` over the
    leading ones; ``weight`` :math:`\gamma` of the normalised dims' shape, or None).
    ``eps=None`` is torch's default, the machine epsilon of ``x``'s dtype
    (``np.finfo(x.dtype).eps``). Returns ``(y, cache)``."""
    k = normalized_ndim
    axes = tuple(range(x.ndim - k, x.ndim))
    e = float(np.finfo(x.dtype).eps) if eps is None else eps
    ms = np.mean(x * x, axis=axes, keepdims=True)
    r = 1 / np.sqrt(ms + e)
    xhat = x * r
    y = xhat if weight is None else xhat * weight
    return y, (xhat, r, weight, axes)


def rmsnorm_backward(dout: np.ndarray, cache: tuple
                     ) -> tuple[np.ndarray, np.ndarray | None]:
    r"""``(dx, dweight)`` of :func:`rmsnorm_forward` (``dweight`` None without a weight):

    .. math::
        \frac{\partial L}{\partial x_{nd}} = r_n\Big(g_{nd} - \hat x_{nd}\,
        \frac{1}{D}\sum_{d'} g_{nd'}\hat x_{nd'}\Big), \quad
        g = \gamma\odot\frac{\partial L}{\partial y}, \qquad
        \frac{\partial L}{\partial \gamma_d} = \sum_n
        \frac{\partial L}{\partial y_{nd}}\,\hat x_{nd}

    (the direct path and the path through :math:`r_n`, since
    :math:`\partial r_n/\partial x_{nd} = -r_n^3 x_{nd}/D`; smooth for
    :math:`\epsilon > 0`)."""
    xhat, r, weight, axes = cache
    g = dout if weight is None else dout * weight
    dx = r * (g - xhat * np.mean(g * xhat, axis=axes, keepdims=True))
    if weight is None:
        return dx, None
    lead = tuple(range(dout.ndim - len(axes)))
    dw = (dout * xhat).sum(axis=lead) if lead else dout * xhat
    return dx, dw


class RMSNorm(Layer):
    r"""``nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True)``.

    Normalises each sample by the root mean square over its last ``len(normalized_shape)``
    dims (which must equal ``normalized_shape``; an int means one dim), with no mean
    subtracted and no bias:

    .. math::
        y = \gamma \odot \frac{x}{\sqrt{\frac{1}{D}\sum_d x_d^2 + \epsilon}}, \qquad
        \frac{\partial L}{\partial x} = r\Big(g - \hat x\,
        \frac{1}{D}\sum_{d} g_d \hat x_d\Big),\ g = \gamma\odot\delta

    ``eps=None`` (torch's default) is the machine epsilon of the input's dtype.
    ``params``: ``weight`` (ones) of shape ``normalized_shape`` when
    ``elementwise_affine``. Any number of leading dims, none included (a single sample).
    The functional pair is :func:`rmsnorm_forward`/:func:`rmsnorm_backward`.
    """

    def __init__(self, normalized_shape: int | tuple[int, ...] | list[int],
                 eps: float | None = None, elementwise_affine: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        shape = ((normalized_shape,) if isinstance(normalized_shape, (int, np.integer))
                 else tuple(normalized_shape))
        self.normalized_shape = tuple(check_positive_int("RMSNorm", "normalized_shape", d)
                                      for d in shape)
        if not self.normalized_shape:
            raise ValueError("RMSNorm: normalized_shape must name at least one dim, got ()")
        self.eps = None if eps is None else _check_eps("RMSNorm", eps)
        self.elementwise_affine = bool(elementwise_affine)
        self.config = {"normalized_shape": self.normalized_shape, "eps": self.eps,
                       "elementwise_affine": self.elementwise_affine}
        dt = layer_dtype("RMSNorm", dtype)
        self._dtype = dt
        if self.elementwise_affine:
            self.params["weight"] = np.ones(self.normalized_shape, dtype=dt)

    def forward(self, x: Any) -> np.ndarray:
        k = len(self.normalized_shape)
        x = self.check_input(x, tuple(range(k, 33)),
                             what=f"(*, {', '.join(map(str, self.normalized_shape))})")
        if x.shape[x.ndim - k:] != self.normalized_shape:
            raise ValueError(f"RMSNorm: input of shape {x.shape} does not end with "
                             f"normalized_shape={self.normalized_shape}")
        y, self._cache = rmsnorm_forward(x, self.params.get("weight"), k, self.eps)
        self._out_shape = y.shape
        return y

    def backward(self, dout: Any) -> np.ndarray | None:
        dout = self.check_dout(dout)
        dx, dw = rmsnorm_backward(dout, self._cache)
        self.grads = {} if dw is None else {"weight": dw}
        return dx if self.needs_input_grad else None


# --------------------------------------------------------------------------------------
# instance norm
# --------------------------------------------------------------------------------------
def instancenorm_forward(x: np.ndarray, gamma: np.ndarray | None, beta: np.ndarray | None,
                         eps: float = 1e-5, running_mean: np.ndarray | None = None,
                         running_var: np.ndarray | None = None, use_input_stats: bool = True
                         ) -> tuple[np.ndarray, NormCache]:
    r"""Instance normalisation of ``x`` (N, C, \*): each sample's channel normalised over
    its own :math:`L` positions, then a per-channel scale and shift:

    .. math::
        \mu_{nc} = \frac{1}{L}\sum_{\ell} x_{nc\ell}, \quad
        \sigma_{nc}^2 = \frac{1}{L}\sum_{\ell} (x_{nc\ell}-\mu_{nc})^2, \quad
        y_{nc\ell} = \gamma_c\,\frac{x_{nc\ell}-\mu_{nc}}{\sqrt{\sigma_{nc}^2+\epsilon}}
        + \beta_c

    (the biased variance, as batch norm's normalisation). Unlike batch norm nothing is
    shared across the batch: :math:`\mu_{nc}` depends on sample :math:`n` alone. It is
    :func:`groupnorm_forward` with ``num_groups=C``. ``use_input_stats=False`` (torch's
    eval mode with ``track_running_stats``) normalises with ``running_mean``/
    ``running_var`` (C,), shared by every sample, instead. ``gamma``/``beta`` (C,) may be
    None. Returns ``(y, cache)``; ``cache.mean``/``cache.var`` (N, C, 1, …) hold the
    statistics used (updating running statistics is the layer's job, see
    :class:`InstanceNorm1d`)."""
    shape = _channel_shape(x)
    axes = tuple(range(2, x.ndim))  # the positions only: one set per sample and channel
    if use_input_stats:
        cache = normalize_forward(x, axes, eps)
    elif running_mean is None or running_var is None:
        raise TypeError("instancenorm_forward: use_input_stats=False needs running_mean and "
                        "running_var")
    else:
        cache = normalize_forward(x, axes, eps, running_mean.reshape(shape),
                                  running_var.reshape(shape))
    cache.param_axes = (0,) + axes
    return _affine(cache, gamma, beta, shape), cache


def instancenorm_backward(dout: np.ndarray, cache: NormCache, has_beta: bool = True
                          ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    r"""``(dx, dgamma, dbeta)``: the three-term backward of :func:`batchnorm_backward`
    (:func:`normalize_backward`) with the means over one sample's channel,

    .. math::
        \frac{\partial L}{\partial x_{nc\ell}} = \frac{1}{\sqrt{\sigma_{nc}^2+\epsilon}}
        \Big(g_{nc\ell} - \frac{1}{L}\sum_{\ell'} g_{nc\ell'} - \hat x_{nc\ell}\,
        \frac{1}{L}\sum_{\ell'} g_{nc\ell'}\hat x_{nc\ell'}\Big), \qquad
        g = \gamma_c\,\frac{\partial L}{\partial y}

    (the first term alone with running statistics, constants), and
    :math:`\partial L/\partial\gamma_c = \sum_{n,\ell} \partial L/\partial y\,\hat x`,
    :math:`\partial L/\partial\beta_c = \sum_{n,\ell} \partial L/\partial y`."""
    dxhat, dgamma, dbeta = _affine_backward(dout, cache, has_beta, (-1,))
    return normalize_backward(dxhat, cache), dgamma, dbeta


class _InstanceNorm(_NormBase):
    """Shared by :class:`InstanceNorm1d` and :class:`InstanceNorm2d`: torch's defaults
    (``affine=False``, ``track_running_stats=False``), unbatched inputs, torch's running
    statistics."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype,
                         bias=bias)
        self._unbatched = False

    def forward(self, x: Any) -> np.ndarray:
        owner = type(self).__name__
        x = self.check_input(x, self._ndims, what=self._layout)
        unbatched = x.ndim == min(self._ndims)
        xb = x[None] if unbatched else x  # (N, C, *): an unbatched input is a batch of one
        self._check_channels(xb, unbatched)
        use_input = self.training or not self.track_running_stats
        m = int(np.prod(xb.shape[2:]))  # positions per instance
        if use_input and m == 1:
            raise ValueError(f"{owner}: expected more than 1 spatial element when using the "
                             f"input's statistics (train mode, or track_running_stats=False),"
                             f" got input of shape {x.shape}")
        update = self.training and self.track_running_stats
        if update and xb.shape[0] == 0:
            raise ValueError(f"{owner}: an empty batch (input of shape {x.shape}) cannot "
                             f"update the running statistics (torch refuses it too)")
        out, cache = instancenorm_forward(xb, self.params.get("weight"),
                                          self.params.get("bias"), self.eps,
                                          self.buffers.get("running_mean"),
                                          self.buffers.get("running_var"), use_input)
        if update:
            self._update_running_stats(cache, m)
        out = out[0] if unbatched else out
        self._cache, self._out_shape, self._unbatched = cache, out.shape, unbatched
        return out

    def _check_channels(self, x: np.ndarray, unbatched: bool) -> None:
        """As torch: a channel count other than ``num_features`` is an error when it is used
        (``affine`` parameters or running statistics), otherwise a warning."""
        if x.shape[1] == self.num_features:
            return
        owner = type(self).__name__
        dim = 0 if unbatched else 1
        if self.affine or self.track_running_stats:
            raise ValueError(f"{owner}: input has {x.shape[1]} channels on dim {dim} (shape "
                             f"{x.shape[1:] if unbatched else x.shape}), expected "
                             f"num_features={self.num_features}")
        warnings.warn(f"{owner}: input's size at dim={dim} does not match num_features "
                      f"({self.num_features}), which is not used because affine=False",
                      UserWarning, stacklevel=3)

    def _update_running_stats(self, cache: NormCache, m: int) -> None:
        r"""As torch (``F.instance_norm``: batch norm of the (1, N·C, \*) view, the running
        statistics repeated per sample, then averaged back): unless there are no positions,

        .. math::
            \hat\mu_c \leftarrow (1-f)\hat\mu_c + \frac{f}{N}\sum_n \mu_{nc}, \qquad
            \hat\sigma_c^2 \leftarrow (1-f)\hat\sigma_c^2 + \frac{f}{N}\sum_n
            \frac{L}{L-1}\sigma_{nc}^2

        with :math:`f` = ``momentum``, and :math:`f = 0` (no update) for ``momentum=None``:
        torch's module passes 0 then, not a cumulative average. ``num_batches_tracked``
        exists, as torch's buffer, and stays 0: instance norm never counts."""
        if m == 0:
            return
        f = 0.0 if self.momentum is None else self.momentum
        c = self.num_features
        mean = cache.mean.reshape(-1, c).mean(axis=0)
        unbiased = (cache.var.reshape(-1, c) * (m / (m - 1))).mean(axis=0)  # Bessel, per instance
        rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
        rm *= 1 - f
        rm += f * mean
        rv *= 1 - f
        rv += f * unbiased

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dout = self.check_dout(dout)
        if self._unbatched:
            dout = dout[None]
        dx, dgamma, dbeta = instancenorm_backward(dout, self._cache, "bias" in self.params)
        self.grads = {k: v for k, v in (("weight", dgamma), ("bias", dbeta))
                      if k in self.params and v is not None}
        if not self.needs_input_grad:
            return None
        return dx[0] if self._unbatched else dx


class InstanceNorm1d(_InstanceNorm):
    r"""``nn.InstanceNorm1d(num_features, eps=1e-5, momentum=0.1, affine=False,
    track_running_stats=False, *, bias=True)`` on (N, C, L) or unbatched (C, L) inputs.

    Each sample's channel is normalised over its own L positions
    (:func:`instancenorm_forward`, the biased variance). torch's defaults: no parameters
    and no buffers, train and eval the same. ``affine=True``: ``weight`` (ones) and
    ``bias`` (zeros), (C,) (no ``bias`` with ``bias=False``). ``track_running_stats=True``:
    ``buffers`` ``running_mean``, ``running_var`` and ``num_batches_tracked`` (which torch
    never increments); train mode updates the running statistics with the batch average
    of the per-instance mean and *unbiased* variance, eval mode normalises with them
    (momentum ``None`` means 0 here, as torch's module: no update). Refused as torch: one
    position per instance when the input's statistics are used, an empty batch when the
    running statistics are updated; a channel count other than ``num_features`` is an
    error with parameters or running statistics, a ``UserWarning`` without, as torch.
    The backward is :func:`instancenorm_backward`.
    """

    _ndims = (2, 3)
    _layout = "(N, C, L) or (C, L)"


class InstanceNorm2d(_InstanceNorm):
    r"""``nn.InstanceNorm2d(num_features, eps=1e-5, momentum=0.1, affine=False,
    track_running_stats=False, *, bias=True)`` on (N, C, H, W) or unbatched (C, H, W)
    inputs: :class:`InstanceNorm1d` with each sample's channel normalised over its
    H·W positions."""

    _ndims = (3, 4)
    _layout = "(N, C, H, W) or (C, H, W)"


# --------------------------------------------------------------------------------------
# local response norm
# --------------------------------------------------------------------------------------
def _channel_window_sum(a: np.ndarray, before: int, after: int) -> np.ndarray:
    """``s[:, c] = a[:, c - before] + … + a[:, c + after]`` along the channel axis (1), zeros
    beyond the channels: the windows of the zero-padded array as a strided view, summed.
    Each window is summed from its own terms (a cumulative-sum difference would carry the
    rounding of the whole running total into every window)."""
    pad = [(0, 0)] * a.ndim
    pad[1] = (before, after)
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(a, pad), before + after + 1,
                                                       axis=1)
    return windows.sum(axis=-1)


def local_response_norm_forward(x: np.ndarray, size: int, alpha: float = 1e-4,
                                beta: float = 0.75, k: float = 1.0
                                ) -> tuple[np.ndarray, tuple]:
    r"""Local response normalisation of ``x`` (N, C, \*) across channels, as
    ``F.local_response_norm``:

    .. math::
        a_{c} = \frac{1}{n}\sum_{c'=c-\lfloor n/2\rfloor}^{c+\lfloor (n-1)/2\rfloor}
        x_{c'}^2, \qquad d_c = k + \alpha\, a_c, \qquad y_c = \frac{x_c}{d_c^{\beta}}

    per sample and position, :math:`n` = ``size``, the channels outside ``0..C-1`` zeros
    (torch zero-pads the channel axis by :math:`\lfloor n/2\rfloor` before and
    :math:`\lfloor (n-1)/2\rfloor` after and average-pools a window of :math:`n`: the
    divisor is always :math:`n`, even where the window hangs over the edge). An even
    ``size`` reaches one channel further back than forward. An empty input is returned
    as it is, as torch. Returns ``(y, cache)``; the backward is
    :func:`local_response_norm_backward`."""
    if x.size == 0:
        return x.copy(), (x, None, x, size, alpha, beta)
    sq_avg = _channel_window_sum(x * x, size // 2, (size - 1) // 2) / size
    d = k + alpha * sq_avg
    y = x / d ** beta
    return y, (x, d, y, size, alpha, beta)


def local_response_norm_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    r""":math:`\partial L/\partial x` of :func:`local_response_norm_forward`.

    :math:`x_j` reaches the loss directly through :math:`y_j`, and through the divisor
    :math:`d_c` of every channel :math:`c` whose window holds :math:`j`, i.e. of
    :math:`c = j-\lfloor (n-1)/2\rfloor, …, j+\lfloor n/2\rfloor` (the window, transposed).
    With :math:`\partial d_c/\partial x_j = 2\alpha x_j/n` and
    :math:`\partial y_c/\partial d_c = -\beta x_c d_c^{-\beta-1} = -\beta y_c/d_c`:

    .. math::
        \frac{\partial L}{\partial x_j} = \frac{g_j}{d_j^{\beta}}
        - \frac{2\alpha\beta}{n}\, x_j
        \sum_{c=j-\lfloor (n-1)/2\rfloor}^{j+\lfloor n/2\rfloor} \frac{g_c\, y_c}{d_c},
        \qquad g = \frac{\partial L}{\partial y}

    The cross-channel sum is the forward's window sum with ``before`` and ``after``
    swapped, vectorised over every element at once (strided windows of the padded
    channel axis, no loop)."""
    x, d, y, size, alpha, beta = cache
    if dout.size == 0:
        return dout.copy()
    direct = dout / d ** beta
    cross = _channel_window_sum(dout * y / d, (size - 1) // 2, size // 2)
    return direct - (2 * alpha * beta / size) * x * cross


def _check_real(owner: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {key} must be a real number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{owner}: {key} must be finite, got {value}")
    return float(value)


class LocalResponseNorm(Layer):
    r"""``nn.LocalResponseNorm(size, alpha=1e-4, beta=0.75, k=1.0)`` on (N, C, \*) inputs
    with at least one dim after the channels (3-d, 4-d, 5-d, …), as torch.

    .. math::
        y_c = x_c\Big(k + \frac{\alpha}{n}\sum_{c'\in W(c)} x_{c'}^2\Big)^{-\beta}, \qquad
        \frac{\partial L}{\partial x_j} = \frac{g_j}{d_j^{\beta}}
        - \frac{2\alpha\beta}{n}\, x_j \sum_{c:\, j\in W(c)} \frac{g_c y_c}{d_c}

    :math:`W(c)` the ``size`` = :math:`n` channels :math:`c-\lfloor n/2\rfloor … c+\lfloor
    (n-1)/2\rfloor` (zeros outside the channels, the divisor :math:`n` throughout), per
    sample and position. No parameters; train and eval are the same; the dtype follows
    the input. The functional pair is :func:`local_response_norm_forward`/
    :func:`local_response_norm_backward`.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        owner = "LocalResponseNorm"
        self.size = check_positive_int(owner, "size", size)
        self.alpha = _check_real(owner, "alpha", alpha)
        self.beta = _check_real(owner, "beta", beta)
        self.k = _check_real(owner, "k", k)
        self.config = {"size": self.size, "alpha": self.alpha, "beta": self.beta, "k": self.k}

    def forward(self, x: Any) -> np.ndarray:
        x = self.check_input(x, tuple(range(3, 33)),
                             what="(N, C, *) with at least one dim after C (3-d or more)")
        y, self._cache = local_response_norm_forward(x, self.size, self.alpha, self.beta,
                                                     self.k)
        self._out_shape = y.shape
        return y

    def backward(self, dout: Any) -> np.ndarray | None:
        dx = local_response_norm_backward(self.check_dout(dout), self._cache)
        return dx if self.needs_input_grad else None
