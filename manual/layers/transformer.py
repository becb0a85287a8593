r"""One transformer encoder block, as ``nn.TransformerEncoderLayer``.

Self-attention and a position-wise feed-forward network, each wrapped in a residual
connection and a layer norm, after (``norm_first=False``, the original "post-norm"
transformer) or before (``norm_first=True``, "pre-norm"):

.. math::
    \text{post-norm:}\quad
    z_1 = x + \operatorname{SA}(x),\ x_1 = \operatorname{LN}_1(z_1),\quad
    z_2 = x_1 + \operatorname{FF}(x_1),\ y = \operatorname{LN}_2(z_2)

.. math::
    \text{pre-norm:}\quad
    x_1 = x + \operatorname{SA}(\operatorname{LN}_1(x)),\quad
    y = x_1 + \operatorname{FF}(\operatorname{LN}_2(x_1))

with :math:`\operatorname{SA}(h) = \operatorname{MHA}(h, h, h)` and
:math:`\operatorname{FF}(h) = W_2\,\phi(W_1 h + b_1) + b_2` (:math:`\phi` ReLU or GELU),
each followed by dropout.

Backward. A residual sum :math:`z = a + f(a)` passes its gradient down **both** paths and
adds them where they meet:

.. math::
    \frac{\partial L}{\partial a} = \frac{\partial L}{\partial z}
        + \mathrm{vjp}_f\Big(\frac{\partial L}{\partial z}\Big)

and self-attention uses its input three times (as query, key and value), so
:math:`\mathrm{vjp}_{\operatorname{SA}}(g) = \partial_q + \partial_k + \partial_v`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from manual.layers.activation import GELU, ActivationLayer, ReLU
from manual.layers.attention import MultiheadAttention
from manual.layers.base import Layer, as_rng, check_positive_int, layer_dtype
from manual.layers.dropout import Dropout
from manual.layers.linear import Linear
from manual.layers.normalization import LayerNorm

__all__ = ["TransformerEncoderLayer"]

ACTIVATIONS: dict[str, type[ActivationLayer]] = {"relu": ReLU, "gelu": GELU}


def _dx(g: np.ndarray | None) -> np.ndarray:
    """A sub-layer's input gradient, never None here: the block never sets a sub-layer's
    ``needs_input_grad`` to False (its inputs are computed from ``src``)."""
    if g is None:
        raise RuntimeError("TransformerEncoderLayer: a sub-layer skipped its input gradient")
    return g


class TransformerEncoderLayer(Layer):
    r"""``nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation='relu', layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True)``.

    Sub-layers, named as torch names them (so ``params`` are torch's
    ``named_parameters()``: ``self_attn.in_proj_weight``, ``self_attn.in_proj_bias``,
    ``self_attn.out_proj.weight``, …, ``linear1.weight``, ``linear2.bias``, ``norm1.weight``,
    ``norm2.bias``): ``self_attn`` (:class:`~manual.layers.attention.MultiheadAttention`),
    ``linear1`` (d_model → dim_feedforward), ``linear2`` (back), ``norm1``/``norm2``
    (:class:`~manual.layers.normalization.LayerNorm`), ``dropout`` (inside the feed-forward
    network), ``dropout1``/``dropout2`` (on each residual branch) and the activation,
    ``"relu"`` or ``"gelu"`` (exact, erf-based, as torch's string ``"gelu"``).

    Input (L, N, E) (``batch_first``: (N, L, E)) or unbatched (L, E); ``forward(src,
    src_mask=None, src_key_padding_mask=None, is_causal=False)`` with
    ``nn.MultiheadAttention``'s masks (bool True = may not attend). ``backward(dout)``
    returns :math:`\partial L/\partial\,\text{src}` and fills ``grads``.

    Dropout (train mode, ``dropout > 0``) draws its masks from ``rng``; comparisons with
    torch use ``dropout=0`` or eval mode, since torch's random stream cannot be replayed.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 dtype: Any = None, *, rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        owner = "TransformerEncoderLayer"
        d = check_positive_int(owner, "d_model", d_model)
        h = check_positive_int(owner, "nhead", nhead)
        ff = check_positive_int(owner, "dim_feedforward", dim_feedforward)
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            raise ValueError(f"{owner}: activation must be 'relu' or 'gelu', got {activation!r}")
        if d % h:
            raise ValueError(f"{owner}: d_model must be divisible by nhead, got d_model={d} and "
                             f"nhead={h}")
        dt = layer_dtype(owner, dtype)
        gen = as_rng(rng)
        self.norm_first, self.batch_first = bool(norm_first), bool(batch_first)
        self.config = {"d_model": d, "nhead": h, "dim_feedforward": ff,
                       "dropout": float(dropout), "activation": activation,
                       "layer_norm_eps": float(layer_norm_eps), "batch_first": self.batch_first,
                       "norm_first": self.norm_first, "bias": bool(bias)}
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
        self.activation = ACTIVATIONS[activation]()
        self._dtype = dt

    # -- the sub-layers' arrays under torch's names ------------------------------------------
    _PARAM_LAYERS = ("self_attn", "linear1", "linear2", "norm1", "norm2")

    def _named(self, attr: str) -> dict[str, np.ndarray]:
        return {f"{name}.{k}": v for name in self._PARAM_LAYERS
                for k, v in getattr(getattr(self, name), attr).items()}

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self._named("params")

    @params.setter
    def params(self, value: dict[str, np.ndarray]) -> None:  # Layer.__init__ sets {}
        if value:
            raise AttributeError("TransformerEncoderLayer.params is computed from its layers")

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return self._named("grads") if hasattr(self, "norm2") else {}

    @grads.setter
    def grads(self, value: dict[str, np.ndarray]) -> None:
        if value:
            raise AttributeError("TransformerEncoderLayer.grads is computed from its layers")
        for name in self._PARAM_LAYERS:
            if hasattr(self, name):
                getattr(self, name).grads = {}

    def _sublayers(self) -> list[Layer]:
        return [self.self_attn, self.linear1, self.dropout, self.linear2, self.norm1,
                self.norm2, self.dropout1, self.dropout2, self.activation]

    def train(self, mode: bool = True) -> TransformerEncoderLayer:
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

    # -- forward -----------------------------------------------------------------------------
    def _sa_block(self, h: np.ndarray, src_mask: Any, src_key_padding_mask: Any,
                  is_causal: bool) -> np.ndarray:
        out, _ = self.self_attn.forward(h, h, h, key_padding_mask=src_key_padding_mask,
                                        need_weights=False, attn_mask=src_mask,
                                        is_causal=is_causal)
        return self.dropout1.forward(out)

    def _ff_block(self, h: np.ndarray) -> np.ndarray:
        a = self.activation.forward(self.linear1.forward(h))  # (*, dim_feedforward)
        return self.dropout2.forward(self.linear2.forward(self.dropout.forward(a)))

    def _ff_backward(self, d: np.ndarray) -> np.ndarray:
        d = _dx(self.linear2.backward(_dx(self.dropout2.backward(d))))
        return _dx(self.linear1.backward(self.activation.backward(_dx(self.dropout.backward(d)))))

    def _sa_backward(self, d: np.ndarray) -> np.ndarray:
        dq, dk, dv = self.self_attn.backward(_dx(self.dropout1.backward(d)))
        # one input used as query, key and value: the paths add up
        return _dx(dq) + _dx(dk) + _dx(dv)

    def forward(self, src: np.ndarray, src_mask: np.ndarray | None = None,
                src_key_padding_mask: np.ndarray | None = None,
                is_causal: bool = False) -> np.ndarray:
        """The block's output, shaped like ``src`` (see the class docstring)."""
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        x = self.check_input(src, (2, 3), "src", f"{layout} or unbatched (L, E)")
        if x.shape[-1] != self.config["d_model"]:
            raise ValueError(f"TransformerEncoderLayer: src must have d_model="
                             f"{self.config['d_model']} features in its last dimension, got "
                             f"shape {x.shape}")
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

    # -- backward ----------------------------------------------------------------------------
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
