r"""Attention: ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention``.

Scaled dot-product attention of queries :math:`Q` (\*, L, E), keys :math:`K` (\*, S, E)
and values :math:`V` (\*, S, E_v), with an additive mask :math:`M` (\*, L, S) (0 where a
query may attend to a key, :math:`-\infty` where it may not, or any float) and the scale
:math:`\alpha` (default :math:`1/\sqrt{E}`):

.. math::
    A = \alpha\, Q K^\top + M, \qquad
    P = \operatorname{softmax}_{\text{rows}}(A), \qquad
    O = P V

Backward, given :math:`G = \partial L/\partial O` (\*, L, E_v):

.. math::
    \frac{\partial L}{\partial V} = P^\top G, \qquad
    \frac{\partial L}{\partial P} = G V^\top, \qquad
    \frac{\partial L}{\partial A} = P \odot \Big(\frac{\partial L}{\partial P}
        - \big(P \odot \tfrac{\partial L}{\partial P}\big)\mathbf{1}\,\mathbf{1}^\top\Big),

.. math::
    \frac{\partial L}{\partial Q} = \alpha\, \frac{\partial L}{\partial A} K, \qquad
    \frac{\partial L}{\partial K} = \alpha \Big(\frac{\partial L}{\partial A}\Big)^{\!\top} Q

The softmax row's Jacobian is :math:`\operatorname{diag}(p) - p p^\top`; its product with
:math:`g` is :math:`p \odot (g - p\cdot g)`, and forgetting the :math:`-p\,(p\cdot g)` term
is the classic attention bug (a negative control in the suite). The mask is added
*before* the softmax: applying it after (zeroing probabilities) leaves rows that no longer
sum to one.

**A row with every key masked** (:math:`A` all :math:`-\infty`): softmax is 0/0. torch's
``F.scaled_dot_product_attention`` (its math and CPU kernels, torch >= 2.5) returns **zeros**
for such a row, and zero gradients through it (the "safe softmax"); ``nn.MultiheadAttention``
with ``need_weights=True`` computes a plain softmax and returns **NaN** for that query (and
NaN parameter gradients), while with ``need_weights=False`` it calls scaled dot-product
attention and returns zeros (then the output projection's bias). Both are reproduced here:
:func:`attention_forward`'s ``safe_softmax`` flag picks the behaviour.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from manual._checks import as_real_array, check_finite
from manual.activations import _softmax, _softmax_vjp
from manual.layers.base import Layer, as_rng, check_positive_int, layer_dtype, uniform_init

__all__ = ["MultiheadAttention", "attention_backward", "attention_forward",
           "scaled_dot_product_attention"]

AttentionCache = dict[str, Any]


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def _sum_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``x`` down to ``shape``: the adjoint of broadcasting ``shape`` up to ``x.shape``."""
    lead = x.ndim - len(shape)
    x = x.sum(axis=tuple(range(lead))) if lead else x
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and x.shape[i] != 1)
    return x.sum(axis=axes, keepdims=True) if axes else x


def _softmax_rows(scores: np.ndarray, safe: bool) -> np.ndarray:
    """Softmax along the last axis (the keys), stable (from ``scores - max``; reuses
    :mod:`manual.activations`' softmax). A row of only :math:`-\\infty` gives zeros when
    ``safe`` (torch's scaled dot-product attention), NaN otherwise (a plain softmax, as
    ``nn.MultiheadAttention`` with ``need_weights=True``)."""
    if scores.shape[-1] == 0:  # no keys at all: nothing to weigh, the output is zeros
        return scores.copy()
    if not safe:
        with np.errstate(invalid="ignore"):  # -inf - (-inf) = NaN on a fully masked row
            return _softmax(scores, -1)
    dead = np.all(scores == -np.inf, axis=-1, keepdims=True)  # (*, L, 1)
    if not dead.any():
        return _softmax(scores, -1)
    # a dead row is softmaxed as zeros (any finite value would do), then zeroed
    p = _softmax(np.where(dead, 0.0, scores), -1)
    return np.where(dead, 0.0, p)


def _softmax_rows_backward(p: np.ndarray, dp: np.ndarray) -> np.ndarray:
    r""":math:`\partial L/\partial A = p \odot (g - p\cdot g)` row by row (a zero row of
    ``p``, a dead row, gives a zero gradient, as torch's safe softmax)."""
    return _softmax_vjp(p, dp, -1)


def _check_mask(owner: str, name: str, mask: Any, dtype: np.dtype) -> np.ndarray | None:
    """A mask as a bool array, or a float array of ``dtype`` (NaN rejected, ``-inf`` kept)."""
    if mask is None:
        return None
    if isinstance(mask, (list, tuple)):
        mask = np.asarray(mask)
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"{owner}: {name} must be a NumPy array (bool or float), got "
                        f"{type(mask).__name__}")
    if mask.dtype == np.bool_:
        return mask
    if mask.dtype.kind != "f":
        raise TypeError(f"{owner}: {name} must be bool or floating point, got dtype "
                        f"{mask.dtype} (shape {mask.shape})")
    if np.isnan(mask).any():
        idx = tuple(int(i) for i in np.argwhere(np.isnan(mask))[0])
        raise ValueError(f"{owner}: {name} contains NaN at index {idx}")
    return mask.astype(dtype, copy=False)


def _additive(mask: np.ndarray, true_means_attend: bool) -> np.ndarray:
    """A bool mask as the float mask it stands for: 0 where attending, -inf elsewhere."""
    allowed = mask if true_means_attend else ~mask
    return np.where(allowed, 0.0, -np.inf)


# --------------------------------------------------------------------------------------
# scaled dot-product attention: the CS231n-style pair and F.scaled_dot_product_attention
# --------------------------------------------------------------------------------------
def attention_forward(query: np.ndarray, key: np.ndarray, value: np.ndarray,
                      attn_mask: np.ndarray | None = None, dropout_p: float = 0.0,
                      is_causal: bool = False, scale: float | None = None, *,
                      dropout_mask: np.ndarray | None = None,
                      rng: np.random.Generator | int | None = None,
                      safe_softmax: bool = True) -> tuple[np.ndarray, AttentionCache]:
    r"""Scaled dot-product attention, forward. Returns ``(out, cache)``.

    .. math::
        A = \alpha\,QK^\top + M, \quad P = \operatorname{softmax}(A), \quad
        \tilde P = P \odot D/(1-p), \quad O = \tilde P V

    with :math:`\alpha` = ``scale`` (default :math:`1/\sqrt{E}`), :math:`M` the additive
    mask (a bool ``attn_mask`` is True where a query *may* attend, as torch's SDPA; a float
    one is added; ``is_causal``: query :math:`i` sees keys :math:`j \le i`, the top-left
    aligned lower triangle torch uses when L ≠ S) and :math:`D` the dropout keep-mask
    (``dropout_mask``, e.g. torch's, or drawn from ``rng``). No checks here: see
    :func:`scaled_dot_product_attention`. Leading dimensions broadcast as in ``matmul``.

    ``cache`` holds :math:`Q, K, V, P, \tilde P`, the keep-mask and :math:`\alpha`.
    """
    L, S = query.shape[-2], key.shape[-2]
    alpha = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = (query @ np.swapaxes(key, -1, -2)) * alpha  # (*, L, S)
    if is_causal:
        attn_mask = np.tril(np.ones((L, S), dtype=bool))  # key j <= query i
    if attn_mask is not None:
        bias = _additive(attn_mask, True) if attn_mask.dtype == np.bool_ else attn_mask
        scores = scores + bias.astype(scores.dtype, copy=False)  # before the softmax
    p = _softmax_rows(scores, safe_softmax)  # (*, L, S)
    keep = None
    p_drop = p
    if dropout_p > 0.0:
        if dropout_mask is None:
            keep = as_rng(rng).random(p.shape) >= dropout_p
        else:
            keep = np.asarray(dropout_mask).astype(bool)
        # inverted dropout, as torch: the kept weights are scaled by 1/(1-p) (0 when p = 1)
        factor = 0.0 if dropout_p >= 1.0 else 1.0 / (1.0 - dropout_p)
        p_drop = p * (keep * factor).astype(p.dtype)
    out = p_drop @ value  # (*, L, Ev)
    cache = {"q": query, "k": key, "v": value, "p": p, "p_drop": p_drop, "keep": keep,
             "dropout_p": dropout_p, "scale": alpha}
    return out, cache


def attention_backward(dout: np.ndarray, cache: AttentionCache,
                       dweights: np.ndarray | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Scaled dot-product attention, backward: ``(dq, dk, dv)`` from
    :math:`G = \partial L/\partial O` (and, optionally, ``dweights`` =
    :math:`\partial L/\partial \tilde P` for a caller that also returned the weights).

    .. math::
        \frac{\partial L}{\partial V} = \tilde P^\top G, \quad
        \frac{\partial L}{\partial P} = \big(G V^\top\big) \odot D/(1-p), \quad
        \frac{\partial L}{\partial A} = P \odot \Big(\frac{\partial L}{\partial P}
        - \operatorname{rowsum}\big(P \odot \tfrac{\partial L}{\partial P}\big)\Big),

    .. math::
        \frac{\partial L}{\partial Q} = \alpha\,\frac{\partial L}{\partial A}\,K, \quad
        \frac{\partial L}{\partial K} = \alpha\,\Big(\frac{\partial L}{\partial A}\Big)^{\!\top} Q

    The mask is a constant: it adds nothing to these products (a masked score has
    :math:`P = 0`, so its gradient is 0). Gradients of broadcast leading dimensions are
    summed back to each input's shape.
    """
    q, k, v, p, p_drop = cache["q"], cache["k"], cache["v"], cache["p"], cache["p_drop"]
    alpha = cache["scale"]
    dv = np.swapaxes(p_drop, -1, -2) @ dout  # (*, S, Ev)
    dp_drop = dout @ np.swapaxes(v, -1, -2)  # (*, L, S)
    if dweights is not None:
        dp_drop = dp_drop + dweights
    dp = dp_drop
    if cache["keep"] is not None:
        factor = 0.0 if cache["dropout_p"] >= 1.0 else 1.0 / (1.0 - cache["dropout_p"])
        dp = dp_drop * (cache["keep"] * factor).astype(dp_drop.dtype)
    dscores = _softmax_rows_backward(p, dp)  # (*, L, S)
    dq = (dscores @ k) * alpha  # (*, L, E)
    dk = (np.swapaxes(dscores, -1, -2) @ q) * alpha  # (*, S, E)
    return _sum_to(dq, q.shape), _sum_to(dk, k.shape), _sum_to(dv, v.shape)


def _check_sdpa(query: Any, key: Any, value: Any, attn_mask: Any, dropout_p: Any,
                is_causal: Any, scale: Any, enable_gqa: Any
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    owner = "scaled_dot_product_attention"
    arrays = []
    for name, x in (("query", query), ("key", key), ("value", value)):
        x = as_real_array(x, f"{owner}: {name}")
        if x.ndim < 2:
            raise ValueError(f"{owner}: {name} must be (*, seq, features) with at least 2 "
                             f"dimensions, got shape {x.shape}")
        check_finite(x, f"{owner}: {name}")
        arrays.append(x)
    q, k, v = arrays
    dtype = np.result_type(q, k, v)
    q, k, v = (x.astype(dtype, copy=False) for x in (q, k, v))
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"{owner}: key must have the query's feature size E = {q.shape[-1]} "
                         f"(query (*, L, E) {q.shape}), got key shape {k.shape}")
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(f"{owner}: value must have the key's sequence length S = "
                         f"{k.shape[-2]} (key {k.shape}), got value shape {v.shape}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"{owner}: the leading (batch) dimensions of query {q.shape}, key "
                         f"{k.shape} and value {v.shape} do not broadcast") from None
    if not isinstance(is_causal, (bool, np.bool_)):
        raise TypeError(f"{owner}: is_causal must be a bool, got {is_causal!r}")
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, (int, float, np.number)) \
            or not 0.0 <= float(dropout_p) <= 1.0:
        raise ValueError(f"{owner}: dropout_p must be a number in [0, 1], got {dropout_p!r}")
    if scale is not None and (isinstance(scale, bool)
                              or not isinstance(scale, (int, float, np.number))
                              or not np.isfinite(scale)):
        raise TypeError(f"{owner}: scale must be None or a finite number, got {scale!r}")
    if enable_gqa:
        raise NotImplementedError(f"{owner}: enable_gqa=True (grouped-query attention) is "
                                  f"not implemented; repeat key/value over the heads instead")
    mask = _check_mask(owner, "attn_mask", attn_mask, dtype)
    L, S = q.shape[-2], k.shape[-2]
    if mask is not None:
        if is_causal:
            raise ValueError(f"{owner}: attn_mask must be None when is_causal=True (as torch: "
                             f"the causal mask is built from L = {L} and S = {S}), got a mask "
                             f"of shape {mask.shape}")
        try:
            np.broadcast_shapes(mask.shape, (*batch, L, S))
        except ValueError:
            raise ValueError(f"{owner}: attn_mask must broadcast to (*, L, S) = "
                             f"{(*batch, L, S)}, got shape {mask.shape}") from None
    return q, k, v, mask


def scaled_dot_product_attention(query: np.ndarray, key: np.ndarray, value: np.ndarray,
                                 attn_mask: np.ndarray | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False, *,
                                 dropout_mask: np.ndarray | None = None,
                                 rng: np.random.Generator | int | None = None) -> np.ndarray:
    r"""``F.scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
    is_causal=False, scale=None)``: the checked forward of :func:`attention_forward`.

    .. math::
        O = \operatorname{softmax}\!\Big(\frac{QK^\top}{\sqrt{E}} + M\Big) V

    Parameters
    ----------
    query, key, value
        (\*, L, E), (\*, S, E), (\*, S, E_v); leading dimensions broadcast.
    attn_mask
        bool, True where the query **may** attend (torch's SDPA convention, the opposite
        of ``nn.MultiheadAttention``'s), or float, added to the scores; broadcastable to
        (\*, L, S).
    dropout_p
        dropout on the attention weights; the keep-mask is ``dropout_mask`` (e.g. torch's)
        or drawn from ``rng`` (torch's random stream cannot be reproduced).
    is_causal
        the top-left aligned causal mask (query i sees keys j ≤ i); excludes ``attn_mask``.
    scale
        :math:`\alpha`, default :math:`1/\sqrt{E}`.

    Notes
    -----
    A query whose keys are all masked gets a zero output row, as torch (see the module
    docstring). For the gradients use :func:`attention_forward`/:func:`attention_backward`.
    """
    q, k, v, mask = _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale,
                                enable_gqa)
    if dropout_mask is not None:
        want = (*np.broadcast_shapes(q.shape[:-2], k.shape[:-2]), q.shape[-2], k.shape[-2])
        if np.shape(dropout_mask) != want:
            raise ValueError(f"scaled_dot_product_attention: dropout_mask must have the "
                             f"weights' shape (*, L, S) = {want}, got {np.shape(dropout_mask)}")
    out, _ = attention_forward(q, k, v, mask, float(dropout_p), bool(is_causal), scale,
                               dropout_mask=dropout_mask, rng=rng)
    return out


# --------------------------------------------------------------------------------------
# nn.MultiheadAttention
# --------------------------------------------------------------------------------------
def _xavier_uniform(rng: np.random.Generator, shape: tuple[int, int],
                    dtype: np.dtype) -> np.ndarray:
    r"""torch's ``xavier_uniform_``: :math:`U(\pm\sqrt{6/(\text{fan\_in}+\text{fan\_out})})`."""
    return uniform_init(rng, math.sqrt(6.0 / (shape[0] + shape[1])), shape, dtype)


def _xavier_normal(rng: np.random.Generator, shape: tuple[int, ...],
                   dtype: np.dtype) -> np.ndarray:
    r"""torch's ``xavier_normal_``: :math:`\mathcal N(0, 2/(\text{fan\_in}+\text{fan\_out}))`,
    with torch's fans of a tensor of 3 or more dimensions: ``fan_in`` = ``shape[1]`` times
    the receptive field :math:`\prod` ``shape[2:]``, ``fan_out`` = ``shape[0]`` times it
    (for ``bias_k`` (1, 1, E): both E, so the standard deviation is :math:`1/\sqrt E`).
    Drawn in float64 and rounded, as :func:`~manual.layers.base.uniform_init`."""
    receptive = math.prod(shape[2:])
    fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
    return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), size=shape).astype(dtype)


def appended_row_backward(dZ: np.ndarray, S: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Split the gradient of the projected keys (or values) with ``bias_k`` (``bias_v``)
    appended, :math:`\partial L/\partial K'` (N, S + 1, E), into the keys' own (N, S, E)
    and the bias's (1, 1, E). The bias row is one parameter broadcast to every sample,
    :math:`K'_{n, S} = \beta_k`, so its gradient is the sum over the batch:
    :math:`\partial L/\partial \beta_k = \sum_n \partial L/\partial K'_{n, S}`."""
    return dZ[:, :S], dZ[:, S:].sum(axis=0, keepdims=True)


class MultiheadAttention(Layer):
    r"""``nn.MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True,
    add_bias_kv=False, add_zero_attn=False, kdim=None, vdim=None, batch_first=False)``.

    For each head :math:`h` (of :math:`H`, head size :math:`d = E/H`), with
    :math:`W_q, W_k, W_v` the three (E, ·) blocks of ``in_proj_weight`` (or
    ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` when ``kdim``/``vdim`` differ from
    ``embed_dim``) and :math:`b_q, b_k, b_v` those of ``in_proj_bias``:

    .. math::
        Q = x_q W_q^\top + b_q, \quad K = x_k W_k^\top + b_k, \quad V = x_v W_v^\top + b_v,

    .. math::
        O_h = \operatorname{softmax}\!\Big(\frac{Q_h K_h^\top}{\sqrt d} + M\Big) V_h, \qquad
        y = [O_1 \dots O_H]\, W_o^\top + b_o

    (``out_proj.weight`` :math:`W_o`, ``out_proj.bias`` :math:`b_o`). Backward runs the
    same steps in reverse: :math:`\partial L/\partial W_o = G^\top O`, attention's backward
    per head (:func:`attention_backward`), then each projection's
    :math:`\partial L/\partial W = \delta^\top x`, :math:`\partial L/\partial b = \sum\delta`,
    :math:`\partial L/\partial x = \delta W`; the three blocks of ``in_proj_weight`` get
    their own gradient blocks.

    Masks follow ``nn.MultiheadAttention`` (the opposite of
    :func:`scaled_dot_product_attention`'s bool convention): a bool ``attn_mask`` (L, S)
    or (N·H, L, S) and ``key_padding_mask`` (N, S) are **True where attention is not
    allowed**; float masks are added to the scores. Inputs are (L, N, E) (``batch_first``:
    (N, L, E)) or unbatched (L, E).

    **Extra keys** (torch's ``F.multi_head_attention_forward``, in this order):

    - ``add_bias_kv=True``: two parameters ``bias_k`` :math:`\beta_k` and ``bias_v``
      :math:`\beta_v` (1, 1, E) are appended to every sample's projected keys and values,
      after the in-projection, as one more key position: :math:`K' = [K;\, \beta_k]`,
      :math:`V' = [V;\, \beta_v]` (S + 1 rows);
    - ``add_zero_attn=True``: after the split into heads, a zero key and a zero value are
      appended per head: :math:`K'_h = [K_h;\, 0]`, :math:`V'_h = [V_h;\, 0]` (its score is
      0, its contribution to the output 0: it only takes a share of the softmax).

    Each pads ``attn_mask`` and ``key_padding_mask`` (given for the S keys of the input,
    as torch checks them) with a zero (attend) column, so every query may attend to the
    extra keys; the weights returned are (N, L, S + 1 or 2) (a causal ``is_causal`` hint
    taken by SDPA is the top-left lower triangle of (L, S + extra), as torch's).
    Backward: the extra columns are keys like the others in :func:`attention_backward`;
    then the zero key's gradient is dropped (a constant) and the appended row's goes to the
    bias, summed over the batch it was broadcast to:

    .. math::
        \frac{\partial L}{\partial \beta_k} = \sum_n \frac{\partial L}{\partial K'_{n, S}},
        \qquad
        \frac{\partial L}{\partial \beta_v} = \sum_n \frac{\partial L}{\partial V'_{n, S}}

    (:func:`appended_row_backward`), the first S rows going on to the projections.

    ``params`` are initialised as torch's (Xavier-uniform projections, zero biases,
    ``bias_k``/``bias_v`` Xavier-normal, :math:`\mathcal N(0, 1/E)`, ``out_proj.weight``
    :math:`U(\pm 1/\sqrt E)`) from ``rng``, keyed and ordered as torch's
    ``named_parameters()``. Dropout on the attention weights (train mode,
    ``dropout > 0``) draws its keep-mask from ``rng``, or uses ``self.dropout_mask``
    (N, H, L, S + extra) when set (e.g. torch's).
    """

    #: the attention kernel, a pair of plain functions: a variant (a student's, a negative
    #: control) replaces them on a subclass without copying the projections around them
    attention_forward = staticmethod(attention_forward)
    attention_backward = staticmethod(attention_backward)
    #: the gradient of the appended bias_k/bias_v row (a negative control replaces it)
    appended_row_backward = staticmethod(appended_row_backward)

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 dtype: Any = None, *, rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        owner = "MultiheadAttention"
        E = check_positive_int(owner, "embed_dim", embed_dim)
        H = check_positive_int(owner, "num_heads", num_heads)
        if E % H:
            raise ValueError(f"{owner}: embed_dim must be divisible by num_heads, got "
                             f"embed_dim={E} and num_heads={H} (head size {E}/{H} is not an "
                             f"integer)")
        kd = E if kdim is None else check_positive_int(owner, "kdim", kdim)
        vd = E if vdim is None else check_positive_int(owner, "vdim", vdim)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float, np.number)) \
                or not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f"{owner}: dropout must be a number in [0, 1], got {dropout!r}")
        self.embed_dim, self.num_heads, self.head_dim = E, H, E // H
        self.kdim, self.vdim = kd, vd
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        self.bias = bool(bias)
        self.add_bias_kv, self.add_zero_attn = bool(add_bias_kv), bool(add_zero_attn)
        self._qkv_same_embed_dim = kd == E and vd == E
        self.config = {"embed_dim": E, "num_heads": H, "dropout": self.dropout,
                       "bias": self.bias, "add_bias_kv": self.add_bias_kv,
                       "add_zero_attn": self.add_zero_attn, "kdim": kd, "vdim": vd,
                       "batch_first": self.batch_first}
        self.dropout_mask: np.ndarray | None = None
        dt = layer_dtype(owner, dtype)
        self._rng = as_rng(rng)
        if self._qkv_same_embed_dim:
            self.params["in_proj_weight"] = _xavier_uniform(self._rng, (3 * E, E), dt)
        else:
            self.params["q_proj_weight"] = _xavier_uniform(self._rng, (E, E), dt)
            self.params["k_proj_weight"] = _xavier_uniform(self._rng, (E, kd), dt)
            self.params["v_proj_weight"] = _xavier_uniform(self._rng, (E, vd), dt)
        if self.bias:
            self.params["in_proj_bias"] = np.zeros(3 * E, dtype=dt)
        if self.add_bias_kv:  # torch's order of named_parameters(): before out_proj's
            self.params["bias_k"] = _xavier_normal(self._rng, (1, 1, E), dt)
            self.params["bias_v"] = _xavier_normal(self._rng, (1, 1, E), dt)
        self.params["out_proj.weight"] = uniform_init(self._rng, 1 / math.sqrt(E), (E, E), dt)
        if self.bias:
            self.params["out_proj.bias"] = np.zeros(E, dtype=dt)
        self._weights_shape: tuple[int, ...] | None = None

    # -- the projections, as views of the live parameters ----------------------------------
    def _proj_weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.params["in_proj_weight"]  # (3E, E): rows [W_q; W_k; W_v], torch's packing
            return w[:E], w[E:2 * E], w[2 * E:]
        return (self.params["q_proj_weight"], self.params["k_proj_weight"],
                self.params["v_proj_weight"])

    def _proj_biases(self) -> tuple[np.ndarray | None, ...]:
        if not self.bias:
            return None, None, None
        b, E = self.params["in_proj_bias"], self.embed_dim
        return b[:E], b[E:2 * E], b[2 * E:]

    # -- checks ------------------------------------------------------------------------------
    def _check_inputs(self, query: Any, key: Any, value: Any
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        owner = "MultiheadAttention"
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        q = self.check_input(query, (2, 3), "query", f"{layout} or unbatched (L, E)")
        k = self.check_input(key, (2, 3), "key", f"{layout} or unbatched (S, kdim)")
        v = self.check_input(value, (2, 3), "value", f"{layout} or unbatched (S, vdim)")
        if not (q.ndim == k.ndim == v.ndim):
            raise ValueError(f"{owner}: query, key and value must all be batched (3-d) or all "
                             f"unbatched (2-d), got shapes {q.shape}, {k.shape} and {v.shape}")
        for name, x, size, arg in (("query", q, self.embed_dim, "embed_dim"),
                                   ("key", k, self.kdim, "kdim"),
                                   ("value", v, self.vdim, "vdim")):
            if x.shape[-1] != size:
                raise ValueError(f"{owner}: {name} must have {size} features ({arg}={size}) "
                                 f"in its last dimension, got shape {x.shape}")
        batched = q.ndim == 3
        if batched:
            b = 0 if self.batch_first else 1  # the batch dimension
            s = 1 - b  # the sequence dimension
            if not (q.shape[b] == k.shape[b] == v.shape[b]):
                raise ValueError(f"{owner}: query, key and value must have the same batch size "
                                 f"in dimension {b} ({layout}), got shapes {q.shape}, "
                                 f"{k.shape} and {v.shape}")
            if k.shape[s] != v.shape[s]:
                raise ValueError(f"{owner}: key and value must have the same sequence length "
                                 f"in dimension {s} ({layout}), got shapes {k.shape} and "
                                 f"{v.shape}")
            if not self.batch_first:  # work batch-first: (N, L, E)
                q, k, v = (np.swapaxes(x, 0, 1) for x in (q, k, v))
        else:
            if k.shape[0] != v.shape[0]:
                raise ValueError(f"{owner}: key and value must have the same sequence length, "
                                 f"got shapes {k.shape} and {v.shape}")
            q, k, v = q[None], k[None], v[None]  # a batch of one
        return q, k, v, batched

    def _merged_mask(self, attn_mask: Any, key_padding_mask: Any, N: int, L: int, S: int,
                     batched: bool) -> np.ndarray | None:
        """The additive mask (N, H or 1, L or 1, S) of both masks, True = -inf."""
        owner, H = "MultiheadAttention", self.num_heads
        am = _check_mask(owner, "attn_mask", attn_mask, self.dtype)
        kpm = _check_mask(owner, "key_padding_mask", key_padding_mask, self.dtype)
        total = None
        if am is not None:
            shapes = [(L, S), (N * H, L, S)] if batched else [(L, S), (H, L, S)]
            if am.shape not in shapes:
                raise ValueError(f"{owner}: attn_mask must be {' or '.join(map(str, shapes))} "
                                 f"((L, S) or ({'N*' if batched else ''}num_heads, L, S)), got "
                                 f"shape {am.shape}")
            am = _additive(am, False) if am.dtype == np.bool_ else am
            total = am.reshape(N, H, L, S) if am.ndim == 3 else am  # index n*H + h, as torch
        if kpm is not None:
            want = (N, S) if batched else (S,)
            if kpm.shape != want:
                raise ValueError(f"{owner}: key_padding_mask must be {want} "
                                 f"({'(N, S)' if batched else '(S,)'}), got shape {kpm.shape}")
            kpm = _additive(kpm, False) if kpm.dtype == np.bool_ else kpm
            kpm = kpm.reshape(N, 1, 1, S)
            total = kpm if total is None else total + kpm
        return None if total is None else total.astype(self.dtype, copy=False)

    # -- forward -----------------------------------------------------------------------------
    # torch's three inputs (query, key, value): unlike Layer.forward(x), so a
    # MultiheadAttention cannot sit in a Sequential (nor can torch's)
    def forward(self, query: np.ndarray, key: np.ndarray,  # type: ignore[override]
                value: np.ndarray,
                key_padding_mask: np.ndarray | None = None, need_weights: bool = True,
                attn_mask: np.ndarray | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """``(attn_output, attn_weights)`` as torch: output shaped like ``query`` with
        ``embed_dim`` features; weights (N, L, S) averaged over the heads (or (N, H, L, S)
        with ``average_attn_weights=False``; unbatched without N; S counts ``bias_k`` and
        the zero key when added), or ``None`` when ``need_weights=False``. ``is_causal`` is
        torch's hint that ``attn_mask`` is the causal mask (which must then be given)."""
        owner = "MultiheadAttention"
        for name, flag in (("need_weights", need_weights), ("is_causal", is_causal),
                           ("average_attn_weights", average_attn_weights)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"{owner}: {name} must be a bool, got {flag!r}")
        q_in, k_in, v_in, batched = self._check_inputs(query, key, value)
        N, L, E = q_in.shape
        S = k_in.shape[1]
        H, d = self.num_heads, self.head_dim
        if is_causal and attn_mask is None:
            raise ValueError(f"{owner}: is_causal=True is a hint that attn_mask is the causal "
                             f"mask and needs attn_mask (L, S) = {(L, S)}, got None")
        mask = self._merged_mask(attn_mask, key_padding_mask, N, L, S, batched)
        # bias_k/bias_v and the zero key add columns that every query may attend to
        extra = int(self.add_bias_kv) + int(self.add_zero_attn)
        if mask is not None and extra:
            mask = np.pad(mask, [(0, 0)] * (mask.ndim - 1) + [(0, extra)])  # pad with 0
        causal = False
        if is_causal and key_padding_mask is None and not need_weights:
            # torch then drops attn_mask and lets SDPA build the causal mask itself
            mask, causal = None, True

        wq, wk, wv = self._proj_weights()
        bq, bk, bv = self._proj_biases()
        Q = q_in @ wq.T + (0 if bq is None else bq)  # (N, L, E)
        K = k_in @ wk.T + (0 if bk is None else bk)  # (N, S, E)
        V = v_in @ wv.T + (0 if bv is None else bv)  # (N, S, E)
        if self.add_bias_kv:  # one more key and value, the same for every sample
            K = np.concatenate([K, np.broadcast_to(self.params["bias_k"], (N, 1, E))], axis=1)
            V = np.concatenate([V, np.broadcast_to(self.params["bias_v"], (N, 1, E))], axis=1)
        Sk = K.shape[1]  # S, or S + 1 with bias_k
        # split the features into heads: (N, L, E) -> (N, H, L, d)
        Qh = Q.reshape(N, L, H, d).transpose(0, 2, 1, 3)
        Kh = K.reshape(N, Sk, H, d).transpose(0, 2, 1, 3)
        Vh = V.reshape(N, Sk, H, d).transpose(0, 2, 1, 3)
        if self.add_zero_attn:  # a zero key and value per head, after the projections
            zero = np.zeros((N, H, 1, d), dtype=Kh.dtype)
            Kh, Vh = np.concatenate([Kh, zero], axis=2), np.concatenate([Vh, zero], axis=2)
        St = S + extra  # the keys attended to: the weights' last dimension
        p_drop = self.dropout if self.training else 0.0
        if p_drop > 0 and self.dropout_mask is not None \
                and np.shape(self.dropout_mask) != (N, H, L, St):
            raise ValueError(f"{owner}: dropout_mask must be (N, num_heads, L, S) = "
                             f"{(N, H, L, St)} (S counting bias_k and the zero key), got "
                             f"shape {np.shape(self.dropout_mask)}")
        # need_weights: torch's explicit softmax (NaN on a fully masked row); else SDPA (zeros)
        Oh, att = self.attention_forward(Qh, Kh, Vh, mask, p_drop, causal,
                                         dropout_mask=self.dropout_mask, rng=self._rng,
                                         safe_softmax=not need_weights)
        O = Oh.transpose(0, 2, 1, 3).reshape(N, L, H * d)  # heads back together: (N, L, E)
        wo, bo = self.params["out_proj.weight"], self.params.get("out_proj.bias")
        Y = O @ wo.T + (0 if bo is None else bo)  # (N, L, E)

        weights = None
        if need_weights:
            weights = att["p_drop"]  # (N, H, L, S), after dropout, as torch returns them
            if average_attn_weights:
                weights = weights.mean(axis=1)  # (N, L, S)
            if not batched:
                weights = weights[0]
        out = Y if (self.batch_first or not batched) else np.swapaxes(Y, 0, 1)
        out = out if batched else out[0]
        self._cache = {"q_in": q_in, "k_in": k_in, "v_in": v_in, "O": O, "att": att, "S": S,
                       "batched": batched, "average": average_attn_weights,
                       "need_weights": need_weights}
        self._out_shape = out.shape
        self._weights_shape = None if weights is None else weights.shape
        return out, weights

    # -- backward ----------------------------------------------------------------------------
    def backward(self, d_attn_output: np.ndarray, d_attn_weights: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | tuple[None, None, None]:
        r"""``(dquery, dkey, dvalue)`` from :math:`\partial L/\partial y` (shaped like the
        output) and, optionally, :math:`\partial L/\partial(\text{attn\_weights})`; every
        parameter's gradient lands in ``grads``. For self-attention (one tensor passed as
        query, key and value) its gradient is the sum of the three."""
        owner = "MultiheadAttention"
        dY = self.check_dout(d_attn_output)
        c = self._cache
        batched = c["batched"]
        if not batched:
            dY = dY[None]
        elif not self.batch_first:
            dY = np.swapaxes(dY, 0, 1)  # (N, L, E)
        N, L, E = dY.shape
        H, d = self.num_heads, self.head_dim
        dP = None
        if d_attn_weights is not None:
            if self._weights_shape is None:
                raise ValueError(f"{owner}: d_attn_weights given but forward returned no "
                                 f"weights (need_weights=False)")
            dW = as_real_array(d_attn_weights, f"{owner}: d_attn_weights")
            if dW.shape != self._weights_shape:
                raise ValueError(f"{owner}: d_attn_weights must have the weights' shape "
                                 f"{self._weights_shape}, got {dW.shape}")
            check_finite(dW, f"{owner}: d_attn_weights")
            dW = dW.astype(self.dtype, copy=False)
            dW = dW if batched else dW[None]
            # the mean over heads spreads 1/H of the gradient to each head
            dP = np.broadcast_to(dW[:, None] / H, (N, H, L, dW.shape[-1])) if c["average"] \
                else dW

        grads: dict[str, np.ndarray] = {}
        O = c["O"]
        wo = self.params["out_proj.weight"]
        grads["out_proj.weight"] = dY.reshape(-1, E).T @ O.reshape(-1, E)  # (E, E)
        dO = dY @ wo  # (N, L, E)
        dOh = dO.reshape(N, L, H, d).transpose(0, 2, 1, 3)  # (N, H, L, d)
        dQh, dKh, dVh = self.attention_backward(dOh, c["att"], dP)
        dQ = dQh.transpose(0, 2, 1, 3).reshape(N, L, E)  # heads merged back: (N, L, E)
        if self.add_zero_attn:  # the zero key and value are constants: their gradient ends
            dKh, dVh = dKh[:, :, :-1], dVh[:, :, :-1]
        Sk = dKh.shape[2]  # S, or S + 1 with bias_k
        dK = dKh.transpose(0, 2, 1, 3).reshape(N, Sk, E)
        dV = dVh.transpose(0, 2, 1, 3).reshape(N, Sk, E)
        if self.add_bias_kv:  # the appended row's gradient goes to bias_k/bias_v
            dK, grads["bias_k"] = self.appended_row_backward(dK, c["S"])
            dV, grads["bias_v"] = self.appended_row_backward(dV, c["S"])

        wq, wk, wv = self._proj_weights()
        dwq, dwk, dwv = (dZ.reshape(-1, E).T @ x.reshape(-1, x.shape[-1])  # (E, in)
                         for dZ, x in ((dQ, c["q_in"]), (dK, c["k_in"]), (dV, c["v_in"])))
        if self._qkv_same_embed_dim:
            grads["in_proj_weight"] = np.concatenate([dwq, dwk, dwv], axis=0)  # (3E, E)
        else:
            grads["q_proj_weight"], grads["k_proj_weight"], grads["v_proj_weight"] = \
                dwq, dwk, dwv
        if self.bias:
            grads["in_proj_bias"] = np.concatenate(
                [dQ.sum(axis=(0, 1)), dK.sum(axis=(0, 1)), dV.sum(axis=(0, 1))])  # (3E,)
            grads["out_proj.bias"] = dY.sum(axis=(0, 1))  # (E,)
        self.grads = {k: grads[k] for k in self.params}  # torch's order
        if not self.needs_input_grad:
            return None, None, None
        dq, dk, dv = dQ @ wq, dK @ wk, dV @ wv  # (N, L, E), (N, S, kdim), (N, S, vdim)
        if not batched:
            return dq[0], dk[0], dv[0]
        if not self.batch_first:
            dq, dk, dv = (np.swapaxes(x, 0, 1) for x in (dq, dk, dv))
        return dq, dk, dv
