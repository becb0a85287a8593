r"""The transformer of ``torch.nn``, built from the manual layers: ``TransformerEncoderLayer``,
``TransformerDecoderLayer``, the stacks ``TransformerEncoder`` and ``TransformerDecoder``,
and the encoder–decoder ``Transformer``.

Each block wraps its sub-layers in residual connections and layer norms, after
(``norm_first=False``, the original "post-norm" transformer) or before (``norm_first=True``,
"pre-norm"). The encoder block:

.. math::
    \text{post-norm:}\quad
    z_1 = x + \operatorname{SA}(x),\ x_1 = \operatorname{LN}_1(z_1),\quad
    z_2 = x_1 + \operatorname{FF}(x_1),\ y = \operatorname{LN}_2(z_2)

.. math::
    \text{pre-norm:}\quad
    x_1 = x + \operatorname{SA}(\operatorname{LN}_1(x)),\quad
    y = x_1 + \operatorname{FF}(\operatorname{LN}_2(x_1))

with :math:`\operatorname{SA}(h) = \operatorname{MHA}(h, h, h)` and
:math:`\operatorname{FF}(h) = W_2\,\phi(W_1 h + b_1) + b_2` (:math:`\phi` the activation),
each followed by dropout. The decoder block puts a cross-attention on the encoder's output
``memory``, :math:`\operatorname{CA}(h, m) = \operatorname{MHA}(h, m, m)`, between the two:

.. math::
    \text{post-norm:}\quad x_1 = \operatorname{LN}_1(x + \operatorname{SA}(x)),\
    x_2 = \operatorname{LN}_2(x_1 + \operatorname{CA}(x_1, m)),\
    y = \operatorname{LN}_3(x_2 + \operatorname{FF}(x_2))

.. math::
    \text{pre-norm:}\quad x_1 = x + \operatorname{SA}(\operatorname{LN}_1(x)),\
    x_2 = x_1 + \operatorname{CA}(\operatorname{LN}_2(x_1), m),\
    y = x_2 + \operatorname{FF}(\operatorname{LN}_3(x_2))

Backward. A residual sum :math:`z = a + f(a)` passes its gradient down **both** paths and
adds them where they meet:

.. math::
    \frac{\partial L}{\partial a} = \frac{\partial L}{\partial z}
        + \mathrm{vjp}_f\Big(\frac{\partial L}{\partial z}\Big);

self-attention uses its input three times (as query, key and value), so
:math:`\mathrm{vjp}_{\operatorname{SA}}(g) = \partial_q + \partial_k + \partial_v`; the
cross-attention reads ``memory`` twice (key and value): :math:`\partial L/\partial m =
\partial_k + \partial_v`, summed over every decoder layer of a stack, since each reads the
same ``memory``. In the ``Transformer`` that sum is the upstream gradient of the encoder.

CS231n-style pairs (no dropout; parameters keyed by torch's names, sizes read off them):
``transformer_encoder_layer_forward(src, params, nhead, …) -> (out, cache)`` /
``transformer_encoder_layer_backward(dout, cache) -> (d src, grads)``,
``transformer_decoder_layer_forward(tgt, memory, params, nhead, …)`` /
``transformer_decoder_layer_backward -> (d tgt, d memory, grads)``,
``transformer_forward(src, tgt, params, nhead, …)`` /
``transformer_backward -> (d src, d tgt, grads)``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from manual.layers.activation import GELU, ActivationLayer, ReLU
from manual.layers.attention import MultiheadAttention
from manual.layers.base import Layer, as_rng, check_positive_int, layer_dtype, uniform_init
from manual.layers.dropout import Dropout
from manual.layers.linear import Linear
from manual.layers.normalization import LayerNorm

__all__ = ["Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerEncoderLayer", "transformer_backward",
           "transformer_decoder_layer_backward", "transformer_decoder_layer_forward",
           "transformer_encoder_layer_backward", "transformer_encoder_layer_forward",
           "transformer_forward"]

#: the activations torch's blocks take by name
ACTIVATIONS: dict[str, type[ActivationLayer]] = {"relu": ReLU, "gelu": GELU}
ACCEPTED_ACTIVATIONS = ("'relu', 'gelu' or a manual.layers activation layer instance "
                        "(ReLU(), GELU(approximate='tanh'), Tanh(), ...)")


def _activation(owner: str, activation: Any) -> ActivationLayer:
    """The block's own activation layer: a fresh one for a name, a copy of a layer (a layer
    caches its input: two blocks must not share one, as torch's deep copies do not)."""
    if isinstance(activation, str) and activation in ACTIVATIONS:
        return ACTIVATIONS[activation]()
    if isinstance(activation, ActivationLayer):
        return copy.deepcopy(activation)
    if isinstance(activation, str):
        raise ValueError(f"{owner}: activation must be {ACCEPTED_ACTIVATIONS}, got "
                         f"{activation!r}")
    raise TypeError(f"{owner}: activation must be {ACCEPTED_ACTIVATIONS}; a callable cannot be "
                    f"differentiated here, got {activation!r} (torch's F.relu/F.gelu/nn.GELU() "
                    f"are converted by comparisons.twins.transformers.manual_activation)")


def _dx(g: Any) -> np.ndarray:
    """A sub-layer's input gradient, never None here: a block never sets a sub-layer's
    ``needs_input_grad`` to False (its inputs are computed from the block's input)."""
    if g is None:
        raise RuntimeError("transformer: a sub-layer skipped its input gradient")
    return g


def _check_flag(owner: str, name: str, value: Any, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be a bool{' or None' if allow_none else ''}, "
                        f"got {value!r}")


def detect_is_causal_mask(mask: Any, is_causal: bool | None, size: int | None) -> bool:
    """torch's ``_detect_is_causal_mask``: ``is_causal`` when given; else True when ``mask``
    is the (size, size) causal mask (bool True above the diagonal, or float ``-inf`` above
    and 0 elsewhere). Only a hint: the mask itself is applied either way."""
    if is_causal is not None:
        return bool(is_causal)
    if mask is None or size is None:
        return False
    m = np.asarray(mask)
    if m.shape != (size, size):
        return False
    upper = np.triu(np.ones((size, size), dtype=bool), k=1)
    if m.dtype == bool:
        return bool(np.array_equal(m, upper))
    return bool(np.array_equal(m, np.where(upper, -np.inf, 0.0)))


# --------------------------------------------------------------------------------------
# a layer made of layers
# --------------------------------------------------------------------------------------
class _Composite(Layer):
    """A layer whose ``params``/``grads`` are its sub-layers', under torch's dotted names
    (``self_attn.in_proj_weight``, ``layers.0.linear1.weight``, …). Subclasses list them in
    :meth:`_children` (those with parameters, in torch's registration order) and
    :meth:`_sublayers` (every one: train/eval and dtype casts reach them all)."""

    _owner = "transformer"

    def _children(self) -> list[tuple[str, Layer]]:
        raise NotImplementedError

    def _sublayers(self) -> list[Layer]:
        return [layer for _, layer in self._children()]

    def _named(self, attr: str) -> dict[str, np.ndarray]:
        return {f"{name}.{k}": v for name, layer in self._children()
                for k, v in getattr(layer, attr).items()}

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self._named("params") if getattr(self, "_built", False) else {}

    @params.setter
    def params(self, value: dict[str, np.ndarray]) -> None:  # Layer.__init__ sets {}
        if value:
            raise AttributeError(f"{type(self).__name__}.params is computed from its layers")

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return self._named("grads") if getattr(self, "_built", False) else {}

    @grads.setter
    def grads(self, value: dict[str, np.ndarray]) -> None:
        if value:
            raise AttributeError(f"{type(self).__name__}.grads is computed from its layers")
        if getattr(self, "_built", False):
            for _, layer in self._children():
                layer.grads = {}

    def train(self, mode: bool = True) -> _Composite:
        super().train(mode)
        for layer in self._sublayers():
            layer.train(mode)
        return self

    def _retype(self, dtype: np.dtype) -> None:
        for layer in self._sublayers():
            layer._retype(dtype)
        self._dtype = dtype
        self._cache = None

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    def _generators(self) -> Iterator[Layer]:
        for layer in self._sublayers():
            if isinstance(layer, _Composite):
                yield from layer._generators()
            else:
                yield layer

    def _reseed(self, gen: np.random.Generator) -> None:
        """Fresh generators for every dropout (and attention dropout) below: a deep copy
        would otherwise draw the same masks as its original."""
        for layer in self._generators():
            if isinstance(layer, Dropout):
                layer.rng = np.random.default_rng(gen.integers(2**63))
            elif isinstance(layer, MultiheadAttention):
                layer._rng = np.random.default_rng(gen.integers(2**63))

    def _check_seq(self, x: Any, name: str) -> np.ndarray:
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        a = self.check_input(x, (2, 3), name, f"{layout} or unbatched (L, E)")
        if a.shape[-1] != self.d_model:
            raise ValueError(f"{type(self).__name__}: {name} must have d_model={self.d_model} "
                             f"features in its last dimension, got shape {a.shape}")
        return a

    d_model: int
    batch_first: bool


def _block_init(block: Any, owner: str, d_model: Any, nhead: Any, dim_feedforward: Any,
                dropout: Any, activation: Any, layer_norm_eps: Any, batch_first: Any,
                norm_first: Any, bias: Any, dtype: Any) -> tuple[int, int, int, np.dtype]:
    """The arguments every block checks, and its ``config`` (torch's constructor's)."""
    d = check_positive_int(owner, "d_model", d_model)
    h = check_positive_int(owner, "nhead", nhead)
    ff = check_positive_int(owner, "dim_feedforward", dim_feedforward)
    if d % h:
        raise ValueError(f"{owner}: d_model must be divisible by nhead, got d_model={d} and "
                         f"nhead={h}")
    block.activation = _activation(owner, activation)
    block.norm_first, block.batch_first = bool(norm_first), bool(batch_first)
    block.d_model = d
    block.config = {"d_model": d, "nhead": h, "dim_feedforward": ff,
                    "dropout": float(dropout),
                    "activation": activation if isinstance(activation, str)
                    else block.activation,
                    "layer_norm_eps": float(layer_norm_eps), "batch_first": block.batch_first,
                    "norm_first": block.norm_first, "bias": bool(bias)}
    return d, h, ff, layer_dtype(owner, dtype)


class _Block(_Composite):
    """What the encoder and decoder blocks share: the feed-forward network and the
    self-attention, each with its dropout."""

    linear1: Linear
    linear2: Linear
    dropout: Dropout
    dropout1: Dropout
    activation: ActivationLayer
    self_attn: MultiheadAttention
    _ff_dropout: str  # the dropout after the feed-forward network: dropout2 or dropout3
    norm_first: bool

    def _ff_block(self, h: np.ndarray) -> np.ndarray:
        a = self.activation.forward(self.linear1.forward(h))  # (*, dim_feedforward)
        out = self.linear2.forward(self.dropout.forward(a))
        return getattr(self, self._ff_dropout).forward(out)

    def _ff_backward(self, d: np.ndarray) -> np.ndarray:
        d = _dx(self.linear2.backward(_dx(getattr(self, self._ff_dropout).backward(d))))
        return _dx(self.linear1.backward(self.activation.backward(_dx(self.dropout.backward(d)))))

    def _sa_block(self, h: np.ndarray, attn_mask: Any, key_padding_mask: Any,
                  is_causal: bool) -> np.ndarray:
        out, _ = self.self_attn.forward(h, h, h, key_padding_mask=key_padding_mask,
                                        need_weights=False, attn_mask=attn_mask,
                                        is_causal=is_causal)
        return self.dropout1.forward(out)

    def _sa_backward(self, d: np.ndarray) -> np.ndarray:
        dq, dk, dv = self.self_attn.backward(_dx(self.dropout1.backward(d)))
        # one input used as query, key and value: the paths add up
        return _dx(dq) + _dx(dk) + _dx(dv)


# --------------------------------------------------------------------------------------
# nn.TransformerEncoderLayer
# --------------------------------------------------------------------------------------
class TransformerEncoderLayer(_Block):
    r"""``nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation='relu', layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True)``.

    Sub-layers, named as torch names them (so ``params`` are torch's
    ``named_parameters()``: ``self_attn.in_proj_weight``, ``self_attn.in_proj_bias``,
    ``self_attn.out_proj.weight``, …, ``linear1.weight``, ``linear2.bias``, ``norm1.weight``,
    ``norm2.bias``): ``self_attn`` (:class:`~manual.layers.attention.MultiheadAttention`),
    ``linear1`` (d_model → dim_feedforward), ``linear2`` (back), ``norm1``/``norm2``
    (:class:`~manual.layers.normalization.LayerNorm`), ``dropout`` (inside the feed-forward
    network), ``dropout1``/``dropout2`` (on each residual branch) and ``activation``:
    ``"relu"``, ``"gelu"`` (exact, erf-based, as torch's ``F.gelu``) or an activation layer
    of :mod:`manual.layers` (``ReLU()``, ``GELU(approximate='tanh')``, ``Tanh()``, …; the
    block keeps a copy). torch also takes any callable (``F.relu``, a lambda); a callable
    cannot be differentiated here, so it is refused with a ``TypeError`` (the bridge
    :func:`comparisons.twins.transformers.manual_activation` converts torch's own).

    Input (L, N, E) (``batch_first``: (N, L, E)) or unbatched (L, E); ``forward(src,
    src_mask=None, src_key_padding_mask=None, is_causal=False)`` with
    ``nn.MultiheadAttention``'s masks (bool True = may not attend). ``backward(dout)``
    returns :math:`\partial L/\partial\,\text{src}` and fills ``grads``.

    Dropout (train mode, ``dropout > 0``) draws its masks from ``rng``; comparisons with
    torch use ``dropout=0`` or eval mode, since torch's random stream cannot be replayed.
    """

    _owner = "TransformerEncoderLayer"
    _ff_dropout = "dropout2"

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Any = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 dtype: Any = None, *, rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        d, h, ff, dt = _block_init(self, "TransformerEncoderLayer", d_model, nhead,
                                   dim_feedforward, dropout, activation, layer_norm_eps,
                                   batch_first, norm_first, bias, dtype)
        gen = as_rng(rng)
        # torch's registration order, which is the order of named_parameters()
        self.self_attn = MultiheadAttention(d, h, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dt, rng=gen)
        self.linear1 = Linear(d, ff, bias=bias, dtype=dt, rng=gen)
        self.dropout = Dropout(dropout, rng=gen)
        self.linear2 = Linear(ff, d, bias=bias, dtype=dt, rng=gen)
        self.norm1 = LayerNorm(d, eps=layer_norm_eps, bias=bias, dtype=dt)
        self.norm2 = LayerNorm(d, eps=layer_norm_eps, bias=bias, dtype=dt)
        self.dropout1 = Dropout(dropout, rng=gen)
        self.dropout2 = Dropout(dropout, rng=gen)
        self._dtype = dt
        self._built = True

    def _children(self) -> list[tuple[str, Layer]]:
        return [(n, getattr(self, n)) for n in ("self_attn", "linear1", "linear2", "norm1",
                                                "norm2")]

    def _sublayers(self) -> list[Layer]:
        return [self.self_attn, self.linear1, self.dropout, self.linear2, self.norm1,
                self.norm2, self.dropout1, self.dropout2, self.activation]

    def forward(self, src: np.ndarray, src_mask: np.ndarray | None = None,
                src_key_padding_mask: np.ndarray | None = None,
                is_causal: bool = False) -> np.ndarray:
        """The block's output, shaped like ``src`` (see the class docstring)."""
        x = self._check_seq(src, "src")
        _check_flag(self._owner, "is_causal", is_causal)
        if self.norm_first:
            x1 = x + self._sa_block(self.norm1.forward(x), src_mask, src_key_padding_mask,
                                    is_causal)  # residual around attention
            y = x1 + self._ff_block(self.norm2.forward(x1))  # residual around the FFN
        else:
            x1 = self.norm1.forward(x + self._sa_block(x, src_mask, src_key_padding_mask,
                                                       is_causal))
            y = self.norm2.forward(x1 + self._ff_block(x1))
        self._cache = True  # the sub-layers hold their own caches
        self._out_shape = y.shape
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        r""":math:`\partial L/\partial\,\text{src}`; every sub-layer's parameter gradient
        lands in ``grads``. Each residual sum :math:`z = a + f(a)` gives
        :math:`\partial L/\partial a = \partial L/\partial z
        + \mathrm{vjp}_f(\partial L/\partial z)`."""
        g = self.check_dout(dout)
        if self.norm_first:
            dx1 = g + _dx(self.norm2.backward(self._ff_backward(g)))  # y = x1 + FF(LN2(x1))
            dx = dx1 + _dx(self.norm1.backward(self._sa_backward(dx1)))  # x1 = x + SA(LN1(x))
        else:
            dz2 = _dx(self.norm2.backward(g))  # y = LN2(z2)
            dx1 = dz2 + self._ff_backward(dz2)  # z2 = x1 + FF(x1)
            dz1 = _dx(self.norm1.backward(dx1))  # x1 = LN1(z1)
            dx = dz1 + self._sa_backward(dz1)  # z1 = x + SA(x)
        return dx if self.needs_input_grad else None


# --------------------------------------------------------------------------------------
# nn.TransformerDecoderLayer
# --------------------------------------------------------------------------------------
class TransformerDecoderLayer(_Block):
    r"""``nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation='relu', layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True)``.

    Self-attention on ``tgt`` (``self_attn``), cross-attention from ``tgt`` to ``memory``
    (``multihead_attn``: query the block's stream, key and value ``memory``), the
    feed-forward network (``linear1``, ``linear2``), three layer norms ``norm1``–``norm3``
    and the dropouts ``dropout`` (inside the FFN), ``dropout1``–``dropout3`` (on each
    residual branch); ``params`` are torch's ``named_parameters()``. ``activation`` as
    :class:`TransformerEncoderLayer`'s.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``: ``tgt``
    (T, N, E), ``memory`` (S, N, E) (``batch_first``: (N, ·, E)) or both unbatched;
    ``tgt_mask`` (T, T), ``memory_mask`` (T, S), key padding masks (N, T), (N, S), as
    ``nn.MultiheadAttention``'s (bool True = may not attend). ``backward(dout)`` returns
    ``(d tgt, d memory)``, :math:`\partial L/\partial m = \partial_k + \partial_v` of the
    cross-attention.
    """

    _owner = "TransformerDecoderLayer"
    _ff_dropout = "dropout3"

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Any = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 dtype: Any = None, *, rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        d, h, ff, dt = _block_init(self, "TransformerDecoderLayer", d_model, nhead,
                                   dim_feedforward, dropout, activation, layer_norm_eps,
                                   batch_first, norm_first, bias, dtype)
        gen = as_rng(rng)
        self.self_attn = MultiheadAttention(d, h, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dt, rng=gen)
        self.multihead_attn = MultiheadAttention(d, h, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, dtype=dt, rng=gen)
        self.linear1 = Linear(d, ff, bias=bias, dtype=dt, rng=gen)
        self.dropout = Dropout(dropout, rng=gen)
        self.linear2 = Linear(ff, d, bias=bias, dtype=dt, rng=gen)
        self.norm1 = LayerNorm(d, eps=layer_norm_eps, bias=bias, dtype=dt)
        self.norm2 = LayerNorm(d, eps=layer_norm_eps, bias=bias, dtype=dt)
        self.norm3 = LayerNorm(d, eps=layer_norm_eps, bias=bias, dtype=dt)
        self.dropout1 = Dropout(dropout, rng=gen)
        self.dropout2 = Dropout(dropout, rng=gen)
        self.dropout3 = Dropout(dropout, rng=gen)
        self._dtype = dt
        self._built = True

    def _children(self) -> list[tuple[str, Layer]]:
        return [(n, getattr(self, n)) for n in ("self_attn", "multihead_attn", "linear1",
                                                "linear2", "norm1", "norm2", "norm3")]

    def _sublayers(self) -> list[Layer]:
        return [self.self_attn, self.multihead_attn, self.linear1, self.dropout, self.linear2,
                self.norm1, self.norm2, self.norm3, self.dropout1, self.dropout2,
                self.dropout3, self.activation]

    def _mha_block(self, h: np.ndarray, mem: np.ndarray, attn_mask: Any,
                   key_padding_mask: Any, is_causal: bool) -> np.ndarray:
        out, _ = self.multihead_attn.forward(h, mem, mem, key_padding_mask=key_padding_mask,
                                             need_weights=False, attn_mask=attn_mask,
                                             is_causal=is_causal)
        return self.dropout2.forward(out)

    def _mha_backward(self, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dq, dk, dv = self.multihead_attn.backward(_dx(self.dropout2.backward(d)))
        return _dx(dq), _dx(dk) + _dx(dv)  # memory is both key and value

    def forward(self, tgt: np.ndarray, memory: np.ndarray,  # type: ignore[override]
                tgt_mask: np.ndarray | None = None, memory_mask: np.ndarray | None = None,
                tgt_key_padding_mask: np.ndarray | None = None,
                memory_key_padding_mask: np.ndarray | None = None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> np.ndarray:
        """The block's output, shaped like ``tgt`` (see the class docstring)."""
        x = self._check_seq(tgt, "tgt")
        m = self._check_seq(memory, "memory")
        if x.ndim != m.ndim:
            raise ValueError(f"{self._owner}: tgt and memory must both be batched (3-d) or "
                             f"both unbatched (2-d), got shapes {x.shape} and {m.shape}")
        _check_flag(self._owner, "tgt_is_causal", tgt_is_causal)
        _check_flag(self._owner, "memory_is_causal", memory_is_causal)
        sa = (tgt_mask, tgt_key_padding_mask, tgt_is_causal)
        ca = (memory_mask, memory_key_padding_mask, memory_is_causal)
        if self.norm_first:
            x1 = x + self._sa_block(self.norm1.forward(x), *sa)
            x2 = x1 + self._mha_block(self.norm2.forward(x1), m, *ca)
            y = x2 + self._ff_block(self.norm3.forward(x2))
        else:
            x1 = self.norm1.forward(x + self._sa_block(x, *sa))
            x2 = self.norm2.forward(x1 + self._mha_block(x1, m, *ca))
            y = self.norm3.forward(x2 + self._ff_block(x2))
        self._cache = True  # the sub-layers hold their own caches
        self._out_shape = y.shape
        return y

    def backward(self, dout: np.ndarray
                 ) -> tuple[np.ndarray | None, np.ndarray | None]:
        r"""``(d tgt, d memory)``; every sub-layer's parameter gradient lands in ``grads``.
        Residual sums as the encoder's; ``memory`` gets the cross-attention's key and
        value gradients."""
        g = self.check_dout(dout)
        if self.norm_first:
            dx2 = g + _dx(self.norm3.backward(self._ff_backward(g)))  # y = x2 + FF(LN3(x2))
            dh, dm = self._mha_backward(dx2)  # x2 = x1 + CA(LN2(x1), m)
            dx1 = dx2 + _dx(self.norm2.backward(dh))
            dx = dx1 + _dx(self.norm1.backward(self._sa_backward(dx1)))  # x1 = x + SA(LN1(x))
        else:
            dz3 = _dx(self.norm3.backward(g))  # y = LN3(z3)
            dx2 = dz3 + self._ff_backward(dz3)  # z3 = x2 + FF(x2)
            dz2 = _dx(self.norm2.backward(dx2))  # x2 = LN2(z2)
            dh, dm = self._mha_backward(dz2)  # z2 = x1 + CA(x1, m)
            dx1 = dz2 + dh
            dz1 = _dx(self.norm1.backward(dx1))  # x1 = LN1(z1)
            dx = dz1 + self._sa_backward(dz1)  # z1 = x + SA(x)
        if not self.needs_input_grad:
            return None, None
        return dx, dm


# --------------------------------------------------------------------------------------
# the stacks
# --------------------------------------------------------------------------------------
def _check_norm(owner: str, norm: Any) -> Layer | None:
    if norm is not None and not isinstance(norm, Layer):
        raise TypeError(f"{owner}: norm must be None or a manual layer (LayerNorm(d_model)), "
                        f"got {norm!r}")
    return norm


class _Stack(_Composite):
    """``num_layers`` deep copies of one block (``layers.0``, ``layers.1``, …, as torch's
    ``_get_clones``: they start equal) and an optional final ``norm``."""

    layers: list[Any]
    norm: Layer | None

    def _stack_init(self, block: Any, block_cls: type, num_layers: Any, norm: Any,
                    rng: Any) -> None:
        owner = self._owner
        if not isinstance(block, block_cls):
            raise TypeError(f"{owner}: {'en' if block_cls is TransformerEncoderLayer else 'de'}"
                            f"coder_layer must be a manual {block_cls.__name__} instance, got "
                            f"{block!r}")
        n = check_positive_int(owner, "num_layers", num_layers)
        first: Any = block  # a block of block_cls (checked above)
        self.layers = [copy.deepcopy(first) for _ in range(n)]
        self.num_layers = n
        self.norm = _check_norm(owner, norm)
        self.d_model, self.batch_first = first.d_model, first.batch_first
        self._dtype = first.dtype
        if self.norm is not None and self.norm.params and self.norm.dtype != self._dtype:
            raise ValueError(f"{owner}: norm has dtype {self.norm.dtype}, the block "
                             f"{self._dtype}: build both with the same dtype")
        self._built = True
        self._reseed(as_rng(rng))

    def _children(self) -> list[tuple[str, Layer]]:
        kids: list[tuple[str, Layer]] = [(f"layers.{i}", layer)
                                         for i, layer in enumerate(self.layers)]
        return kids + ([("norm", self.norm)] if self.norm is not None else [])

    def _seq_len(self, x: np.ndarray) -> int:
        return x.shape[0] if x.ndim == 2 else x.shape[1 if self.batch_first else 0]


class TransformerEncoder(_Stack):
    r"""``nn.TransformerEncoder(encoder_layer, num_layers, norm=None,
    enable_nested_tensor=True, mask_check=True)``: ``num_layers`` deep copies of
    ``encoder_layer`` (a manual :class:`TransformerEncoderLayer`; ``params`` named
    ``layers.0.self_attn.in_proj_weight``, … as torch's), then ``norm`` (a manual layer,
    e.g. ``LayerNorm(d_model)``, used as given, not copied) when given.

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``: every block with
    the same masks; ``is_causal=None`` detects a causal ``mask`` as torch does (a hint only:
    the mask is applied either way). ``backward(dout)`` returns
    :math:`\partial L/\partial\,\text{src}`, through the blocks in reverse.

    ``enable_nested_tensor`` and ``mask_check`` are accepted and ignored: they steer torch's
    nested-tensor fast path, which runs only in eval mode without autograd (an inference
    speed-up, never part of a gradient; there torch returns zeros at padded positions,
    where this class, like torch's training path, computes them).
    """

    _owner = "TransformerEncoder"

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int,
                 norm: Layer | None = None, enable_nested_tensor: bool = True,
                 mask_check: bool = True, *,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        self._stack_init(encoder_layer, TransformerEncoderLayer, num_layers, norm, rng)
        self.enable_nested_tensor, self.mask_check = bool(enable_nested_tensor), bool(mask_check)
        self.config = {"encoder_layer": encoder_layer, "num_layers": self.num_layers,
                       "norm": norm, "enable_nested_tensor": self.enable_nested_tensor,
                       "mask_check": self.mask_check}

    def forward(self, src: np.ndarray, mask: np.ndarray | None = None,
                src_key_padding_mask: np.ndarray | None = None,
                is_causal: bool | None = None) -> np.ndarray:
        """The stack's output, shaped like ``src``."""
        x = self._check_seq(src, "src")
        _check_flag(self._owner, "is_causal", is_causal, allow_none=True)
        causal = detect_is_causal_mask(mask, is_causal, self._seq_len(x))
        for layer in self.layers:
            x = layer.forward(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=causal)
        if self.norm is not None:
            x = self.norm.forward(x)
        self._cache, self._out_shape = True, x.shape
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        r""":math:`\partial L/\partial\,\text{src}`, the blocks' backward in reverse."""
        g = self.check_dout(dout)
        if self.norm is not None:
            g = _dx(self.norm.backward(g))
        for layer in reversed(self.layers):
            g = _dx(layer.backward(g))
        return g if self.needs_input_grad else None


class TransformerDecoder(_Stack):
    r"""``nn.TransformerDecoder(decoder_layer, num_layers, norm=None)``: ``num_layers`` deep
    copies of ``decoder_layer`` (a manual :class:`TransformerDecoderLayer`) and an optional
    final ``norm``.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``: every block
    reads the same ``memory``; ``backward(dout)`` returns ``(d tgt, d memory)`` with
    :math:`\partial L/\partial m` summed over the blocks.
    """

    _owner = "TransformerDecoder"

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int,
                 norm: Layer | None = None, *,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        self._stack_init(decoder_layer, TransformerDecoderLayer, num_layers, norm, rng)
        self.config = {"decoder_layer": decoder_layer, "num_layers": self.num_layers,
                       "norm": norm}

    def forward(self, tgt: np.ndarray, memory: np.ndarray,  # type: ignore[override]
                tgt_mask: np.ndarray | None = None, memory_mask: np.ndarray | None = None,
                tgt_key_padding_mask: np.ndarray | None = None,
                memory_key_padding_mask: np.ndarray | None = None,
                tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> np.ndarray:
        """The stack's output, shaped like ``tgt``."""
        x = self._check_seq(tgt, "tgt")
        _check_flag(self._owner, "tgt_is_causal", tgt_is_causal, allow_none=True)
        causal = detect_is_causal_mask(tgt_mask, tgt_is_causal, self._seq_len(x))
        for layer in self.layers:
            x = layer.forward(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                              tgt_key_padding_mask=tgt_key_padding_mask,
                              memory_key_padding_mask=memory_key_padding_mask,
                              tgt_is_causal=causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            x = self.norm.forward(x)
        self._cache, self._out_shape = True, x.shape
        return x

    def backward(self, dout: np.ndarray
                 ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(d tgt, d memory)``: every block adds its share to ``d memory``."""
        g = self.check_dout(dout)
        if self.norm is not None:
            g = _dx(self.norm.backward(g))
        dmem: np.ndarray | None = None
        for layer in reversed(self.layers):
            g, dm = layer.backward(g)
            g = _dx(g)
            dmem = _dx(dm) if dmem is None else dmem + _dx(dm)
        if not self.needs_input_grad:
            return None, None
        return g, dmem


# --------------------------------------------------------------------------------------
# nn.Transformer
# --------------------------------------------------------------------------------------
class Transformer(_Composite):
    r"""``nn.Transformer(d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
    dim_feedforward=2048, dropout=0.1, activation='relu', custom_encoder=None,
    custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
    bias=True)``.

    ``encoder``: a :class:`TransformerEncoder` of ``num_encoder_layers`` blocks and a final
    ``LayerNorm`` (or ``custom_encoder``, a manual :class:`TransformerEncoder`); ``decoder``
    likewise (``custom_decoder``, a manual :class:`TransformerDecoder`). As torch's
    ``_reset_parameters``, every parameter with more than one dimension (custom ones too) is
    then redrawn Xavier-uniform, :math:`U(\pm\sqrt{6/(\text{fan\_in}+\text{fan\_out})})`.
    ``params`` are torch's ``named_parameters()``: ``encoder.layers.0.self_attn.…``,
    ``encoder.norm.weight``, ``decoder.layers.0.multihead_attn.…``, ``decoder.norm.bias``.

    .. math::
        m = \operatorname{Enc}(\text{src}),\qquad y = \operatorname{Dec}(\text{tgt}, m)

    ``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False)``; ``backward(dout)``
    returns ``(d src, d tgt)``: the decoder gives ``(d tgt, d memory)`` and ``d memory`` is
    the encoder's upstream gradient.
    """

    _owner = "Transformer"

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Any = "relu",
                 custom_encoder: TransformerEncoder | None = None,
                 custom_decoder: TransformerDecoder | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype: Any = None, *,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        owner = self._owner
        d = check_positive_int(owner, "d_model", d_model)
        dt = layer_dtype(owner, dtype)
        gen = as_rng(rng)
        block = dict(d_model=d, nhead=nhead, dim_feedforward=dim_feedforward, dropout=dropout,
                     activation=activation, layer_norm_eps=layer_norm_eps,
                     batch_first=batch_first, norm_first=norm_first, bias=bias, dtype=dt)
        if custom_encoder is not None:
            if not isinstance(custom_encoder, TransformerEncoder):
                raise TypeError(f"{owner}: custom_encoder must be None or a manual "
                                f"TransformerEncoder, got {custom_encoder!r}")
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(**block, rng=gen), num_encoder_layers,
                LayerNorm(d, eps=layer_norm_eps, bias=bias, dtype=dt), rng=gen)
        if custom_decoder is not None:
            if not isinstance(custom_decoder, TransformerDecoder):
                raise TypeError(f"{owner}: custom_decoder must be None or a manual "
                                f"TransformerDecoder, got {custom_decoder!r}")
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(**block, rng=gen), num_decoder_layers,
                LayerNorm(d, eps=layer_norm_eps, bias=bias, dtype=dt), rng=gen)
        self.d_model, self.nhead, self.batch_first = d, int(nhead), bool(batch_first)
        self._dtype = dt
        self._built = True
        for p in self.params.values():  # torch's _reset_parameters
            if p.ndim > 1:
                p[...] = uniform_init(gen, math.sqrt(6.0 / (p.shape[0] + p.shape[1])),
                                      p.shape, p.dtype)
        self.config = {"d_model": d, "nhead": int(nhead),
                       "num_encoder_layers": self.encoder.num_layers,
                       "num_decoder_layers": self.decoder.num_layers,
                       "dim_feedforward": int(dim_feedforward), "dropout": float(dropout),
                       "activation": activation, "custom_encoder": custom_encoder,
                       "custom_decoder": custom_decoder, "layer_norm_eps": float(layer_norm_eps),
                       "batch_first": self.batch_first, "norm_first": bool(norm_first),
                       "bias": bool(bias)}

    def _children(self) -> list[tuple[str, Layer]]:
        return [("encoder", self.encoder), ("decoder", self.decoder)]

    @staticmethod
    def generate_square_subsequent_mask(sz: int, dtype: Any = None) -> np.ndarray:
        """torch's causal mask: (sz, sz), ``-inf`` above the diagonal, 0 elsewhere."""
        n = check_positive_int("Transformer.generate_square_subsequent_mask", "sz", sz)
        upper = np.triu(np.ones((n, n), dtype=bool), k=1)
        return np.where(upper, -np.inf, 0.0).astype(layer_dtype("Transformer", dtype))

    def forward(self, src: np.ndarray, tgt: np.ndarray,  # type: ignore[override]
                src_mask: np.ndarray | None = None, tgt_mask: np.ndarray | None = None,
                memory_mask: np.ndarray | None = None,
                src_key_padding_mask: np.ndarray | None = None,
                tgt_key_padding_mask: np.ndarray | None = None,
                memory_key_padding_mask: np.ndarray | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> np.ndarray:
        """The decoder's output, shaped like ``tgt``."""
        s = self._check_seq(src, "src")
        t = self._check_seq(tgt, "tgt")
        b = 0 if self.batch_first else 1
        if s.ndim != t.ndim or (s.ndim == 3 and s.shape[b] != t.shape[b]):
            raise ValueError(f"Transformer: src and tgt must have the same batch size (both "
                             f"batched or both unbatched), got shapes {s.shape} and {t.shape}")
        memory = self.encoder.forward(s, mask=src_mask,
                                      src_key_padding_mask=src_key_padding_mask,
                                      is_causal=src_is_causal)
        out = self.decoder.forward(t, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                                   tgt_key_padding_mask=tgt_key_padding_mask,
                                   memory_key_padding_mask=memory_key_padding_mask,
                                   tgt_is_causal=tgt_is_causal,
                                   memory_is_causal=memory_is_causal)
        self._cache, self._out_shape = True, out.shape
        return out

    def backward(self, dout: np.ndarray
                 ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(d src, d tgt)``: the decoder's ``d memory`` flows into the encoder."""
        g = self.check_dout(dout)
        dtgt, dmem = self.decoder.backward(g)
        dsrc = self.encoder.backward(_dx(dmem))
        if not self.needs_input_grad:
            return None, None
        return dsrc, dtgt


# --------------------------------------------------------------------------------------
# CS231n-style functional pairs: parameters in, (out, cache) out; the cache is the block
# built around them, which holds its sub-layers' caches
# --------------------------------------------------------------------------------------
def _block_sizes(params: dict[str, np.ndarray], prefix: str = "") -> dict[str, Any]:
    """d_model, dim_feedforward and bias, read off a block's parameters."""
    w1 = params.get(f"{prefix}linear1.weight")
    if w1 is None:
        raise ValueError(f"transformer: params must hold {prefix}linear1.weight (torch's "
                         f"names), got {sorted(params)[:6]}...")
    return {"d_model": w1.shape[1], "dim_feedforward": w1.shape[0],
            "bias": f"{prefix}linear1.bias" in params}


def _with_params(layer: _Composite, params: dict[str, np.ndarray]) -> _Composite:
    """``layer`` computing with copies of ``params`` (the same names as its own)."""
    ours = layer.params
    if set(ours) != set(params):
        raise ValueError(f"{type(layer).__name__}: params must be exactly "
                         f"{sorted(ours)}; missing {sorted(set(ours) - set(params))}, "
                         f"unknown {sorted(set(params) - set(ours))}")
    for name, p in ours.items():
        value = np.asarray(params[name])
        if value.shape != p.shape:
            raise ValueError(f"{type(layer).__name__}: {name} must have shape {p.shape}, got "
                             f"{value.shape}")
        p[...] = value
    return layer


def _params_dtype(params: dict[str, np.ndarray]) -> np.dtype:
    for v in params.values():
        return np.asarray(v).dtype
    return np.dtype(np.float64)


def transformer_encoder_layer_forward(
        src: np.ndarray, params: dict[str, np.ndarray], nhead: int,
        activation: Any = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
        norm_first: bool = False, src_mask: np.ndarray | None = None,
        src_key_padding_mask: np.ndarray | None = None, is_causal: bool = False
) -> tuple[np.ndarray, TransformerEncoderLayer]:
    """:class:`TransformerEncoderLayer`'s forward as a function, without dropout:
    ``params`` keyed by torch's names (d_model, dim_feedforward and bias read off them).
    Returns ``(out, cache)``; :func:`transformer_encoder_layer_backward` takes the cache."""
    block = TransformerEncoderLayer(nhead=nhead, dropout=0.0, activation=activation,
                                    layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                                    norm_first=norm_first, dtype=_params_dtype(params),
                                    **_block_sizes(params))
    _with_params(block, params)
    return block.forward(src, src_mask, src_key_padding_mask, is_causal), block


def transformer_encoder_layer_backward(dout: np.ndarray, cache: TransformerEncoderLayer
                                       ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``(d src, grads)`` (grads keyed like ``params``) from the forward's cache."""
    return _dx(cache.backward(dout)), cache.grads


def transformer_decoder_layer_forward(
        tgt: np.ndarray, memory: np.ndarray, params: dict[str, np.ndarray], nhead: int,
        activation: Any = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
        norm_first: bool = False, tgt_mask: np.ndarray | None = None,
        memory_mask: np.ndarray | None = None, tgt_key_padding_mask: np.ndarray | None = None,
        memory_key_padding_mask: np.ndarray | None = None, tgt_is_causal: bool = False,
        memory_is_causal: bool = False) -> tuple[np.ndarray, TransformerDecoderLayer]:
    """:class:`TransformerDecoderLayer`'s forward as a function, without dropout; returns
    ``(out, cache)`` for :func:`transformer_decoder_layer_backward`."""
    block = TransformerDecoderLayer(nhead=nhead, dropout=0.0, activation=activation,
                                    layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                                    norm_first=norm_first, dtype=_params_dtype(params),
                                    **_block_sizes(params))
    _with_params(block, params)
    out = block.forward(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                        memory_key_padding_mask, tgt_is_causal, memory_is_causal)
    return out, block


def transformer_decoder_layer_backward(dout: np.ndarray, cache: TransformerDecoderLayer
                                       ) -> tuple[np.ndarray, np.ndarray,
                                                  dict[str, np.ndarray]]:
    """``(d tgt, d memory, grads)`` from the forward's cache."""
    dtgt, dmem = cache.backward(dout)
    return _dx(dtgt), _dx(dmem), cache.grads


def _num_layers(params: dict[str, np.ndarray], stack: str) -> int:
    idx = {int(k.split(".")[2]) for k in params if k.startswith(f"{stack}.layers.")}
    if not idx:
        raise ValueError(f"transformer_forward: params hold no {stack}.layers.0.* (torch's "
                         f"names)")
    return max(idx) + 1


def transformer_forward(src: np.ndarray, tgt: np.ndarray, params: dict[str, np.ndarray],
                        nhead: int, activation: Any = "relu", layer_norm_eps: float = 1e-5,
                        batch_first: bool = False, norm_first: bool = False,
                        **masks: Any) -> tuple[np.ndarray, Transformer]:
    """:class:`Transformer`'s forward as a function, without dropout: ``params`` keyed by
    torch's names (the layer counts read off ``encoder.layers.K``/``decoder.layers.K``),
    ``masks`` :meth:`Transformer.forward`'s keyword arguments. Returns ``(out, cache)``
    for :func:`transformer_backward`."""
    sizes = _block_sizes(params, "encoder.layers.0.")
    model = Transformer(nhead=nhead, num_encoder_layers=_num_layers(params, "encoder"),
                        num_decoder_layers=_num_layers(params, "decoder"), dropout=0.0,
                        activation=activation, layer_norm_eps=layer_norm_eps,
                        batch_first=batch_first, norm_first=norm_first,
                        dtype=_params_dtype(params), **sizes)
    _with_params(model, params)
    return model.forward(src, tgt, **masks), model


def transformer_backward(dout: np.ndarray, cache: Transformer
                         ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """``(d src, d tgt, grads)`` from the forward's cache."""
    dsrc, dtgt = cache.backward(dout)
    return _dx(dsrc), _dx(dtgt), cache.grads
