"""The bridge between torch's transformer modules and the manual ones.

- :func:`manual_activation` / :func:`torch_activation`: a block's ``activation`` from one
  side to the other. torch takes a name or any callable (``F.relu``, ``F.gelu``,
  ``nn.GELU(approximate='tanh')``, a lambda); the manual side takes a name or one of its
  activation layers, since it must differentiate what it applies. A callable we cannot
  differentiate is refused with a ``TypeError`` naming what is accepted.
- :func:`manual_from_torch`: the manual twin of a torch ``TransformerEncoderLayer``,
  ``TransformerDecoderLayer``, ``TransformerEncoder``, ``TransformerDecoder``,
  ``Transformer`` or ``LayerNorm`` *instance* (torch's ``module_db`` passes such instances
  as constructor arguments), its parameters copied by name; :func:`manual_arguments`
  converts a whole argument list.
- :func:`torch_from_manual`: the torch twin of a manual transformer module (the layer
  records' twin builders), built from the manual configuration, parameters copied by name.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from manual import layers as ml
from manual.layers.activation import GELU, TORCH_MODULES, ActivationLayer

__all__ = ["DecoderLayerTwin", "DecoderTwin", "EncoderTwin", "PackedTransformerTwin",
           "TransformerTwin", "call_twin", "packed_twin",
           "copy_params_to_manual", "manual_activation", "manual_arguments", "manual_from_torch",
           "torch_activation", "torch_from_manual"]

_ACCEPTED = ("'relu', 'gelu', F.relu, F.gelu, torch.relu, an nn.ReLU/nn.GELU module or "
             "another torch.nn activation module with a manual twin (nn.Tanh(), nn.SiLU(), …)")


def manual_activation(activation: Any) -> Any:
    """torch's ``activation`` argument as the manual side's: ``"relu"``/``"gelu"`` and
    ``F.relu``/``F.gelu`` become the names, ``nn.GELU(approximate=...)`` and the other
    ``torch.nn`` activation modules become the manual layers of the same name and
    arguments; a manual activation passes through. Anything else: ``TypeError``."""
    if isinstance(activation, str) or isinstance(activation, ActivationLayer):
        return activation
    if activation is F.relu or activation is torch.relu:
        return "relu"
    if activation is F.gelu:
        return "gelu"
    if isinstance(activation, nn.GELU):
        return GELU(approximate=activation.approximate)
    if isinstance(activation, nn.Module):
        name = type(activation).__name__
        if name in TORCH_MODULES and hasattr(ml, name):
            _, defaults = TORCH_MODULES[name]
            return getattr(ml, name)(**{k: getattr(activation, k) for k in defaults})
    raise TypeError(f"activation {activation!r} cannot be differentiated by the manual "
                    f"transformer: accepted are {_ACCEPTED} (or a manual activation layer)")


def torch_activation(activation: Any) -> Any:
    """The manual side's ``activation`` (a name or a manual activation layer) as torch's:
    the name stays; a manual layer becomes the ``torch.nn`` module of the same name and
    configuration (``GELU(approximate='tanh')`` -> ``nn.GELU(approximate='tanh')``)."""
    if isinstance(activation, str):
        return activation
    if isinstance(activation, ActivationLayer):
        cls = getattr(nn, type(activation).__name__, None)
        if isinstance(cls, type) and issubclass(cls, nn.Module):
            return cls(**activation.config)
    raise TypeError(f"no torch activation for {activation!r}")


# --------------------------------------------------------------------------------------
# torch instance -> manual
# --------------------------------------------------------------------------------------
_BLOCK_KEYS = ("nhead", "dim_feedforward", "dropout", "layer_norm_eps", "batch_first",
               "norm_first", "bias")


def _block_config(block: Any) -> dict[str, Any]:
    """The constructor arguments of a torch encoder/decoder block, read off the instance."""
    attn = block.self_attn
    return {"d_model": attn.embed_dim, "nhead": attn.num_heads,
            "dim_feedforward": block.linear1.out_features, "dropout": block.dropout.p,
            "activation": manual_activation(block.activation),
            "layer_norm_eps": block.norm1.eps, "batch_first": attn.batch_first,
            "norm_first": block.norm_first, "bias": block.linear1.bias is not None}


def _dtype_of(module: nn.Module) -> np.dtype:
    for p in module.parameters():
        return np.dtype(str(p.dtype).replace("torch.", ""))
    return np.dtype(np.float64)


def copy_params_to_manual(ours: Any, module: nn.Module) -> None:
    """torch's parameter values into the manual layer, by name (the names must agree)."""
    theirs = dict(module.named_parameters())
    if set(theirs) != set(ours.params):
        raise ValueError(f"{type(ours).__name__}: parameter names differ from torch's: only "
                         f"manual {sorted(set(ours.params) - set(theirs))}, only torch "
                         f"{sorted(set(theirs) - set(ours.params))}")
    for name, p in ours.params.items():
        p[...] = theirs[name].detach().cpu().numpy()


def _manual_module(module: nn.Module, dt: np.dtype) -> Any:
    if isinstance(module, nn.TransformerEncoderLayer):
        return ml.TransformerEncoderLayer(**_block_config(module), dtype=dt)
    if isinstance(module, nn.TransformerDecoderLayer):
        return ml.TransformerDecoderLayer(**_block_config(module), dtype=dt)
    if isinstance(module, nn.LayerNorm):
        return ml.LayerNorm(tuple(module.normalized_shape), eps=module.eps,
                            elementwise_affine=module.elementwise_affine,
                            bias=module.bias is not None, dtype=dt)
    if isinstance(module, nn.TransformerEncoder):
        norm = None if module.norm is None else _manual_module(module.norm, dt)
        return ml.TransformerEncoder(_manual_module(module.layers[0], dt), module.num_layers,
                                     norm, enable_nested_tensor=module.enable_nested_tensor,
                                     mask_check=module.mask_check)
    if isinstance(module, nn.TransformerDecoder):
        norm = None if module.norm is None else _manual_module(module.norm, dt)
        return ml.TransformerDecoder(_manual_module(module.layers[0], dt), module.num_layers,
                                     norm)
    if isinstance(module, nn.Transformer):
        return ml.Transformer(d_model=module.d_model, nhead=module.nhead,
                              custom_encoder=_manual_module(module.encoder, dt),
                              custom_decoder=_manual_module(module.decoder, dt),
                              batch_first=module.batch_first, dtype=dt)
    raise TypeError(f"no manual twin for the torch module {type(module).__name__}: accepted "
                    f"are the transformer modules and LayerNorm")


def manual_from_torch(module: nn.Module) -> Any:
    """The manual twin of a torch transformer module (or ``LayerNorm``) instance, with
    torch's current parameter values (every layer of a stack its own, by name)."""
    ours = _manual_module(module, _dtype_of(module))
    copy_params_to_manual(ours, module)
    return ours.train(module.training)


def manual_arguments(args: tuple, kwargs: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
    """A torch constructor's arguments as the manual one's: torch module instances become
    manual twins (:func:`manual_from_torch`), activation callables manual activations."""
    def one(v: Any) -> Any:
        if isinstance(v, (nn.TransformerEncoderLayer, nn.TransformerDecoderLayer,
                          nn.TransformerEncoder, nn.TransformerDecoder, nn.LayerNorm)):
            return manual_from_torch(v)
        if callable(v) and not isinstance(v, type):
            return manual_activation(v)
        return v
    return tuple(one(a) for a in args), {k: one(v) for k, v in kwargs.items()}


# --------------------------------------------------------------------------------------
# manual -> torch twin
# --------------------------------------------------------------------------------------
def _torch_block_kwargs(layer: Any) -> dict[str, Any]:
    c = dict(layer.config)
    c["activation"] = torch_activation(c["activation"])
    return c


def _torch_module(layer: Any, dt: torch.dtype, wrap: dict[str, type] | None = None) -> nn.Module:
    """The torch module of the same structure (parameters not yet copied); ``wrap`` maps a
    manual class name to the torch subclass to build instead (the call twins below)."""
    wrap = wrap or {}
    kinds = [c.__name__ for c in type(layer).__mro__]

    def cls(name: str) -> type:
        return wrap.get(name, getattr(nn, name))

    if "TransformerEncoderLayer" in kinds:
        return cls("TransformerEncoderLayer")(**_torch_block_kwargs(layer), dtype=dt)
    if "TransformerDecoderLayer" in kinds:
        return cls("TransformerDecoderLayer")(**_torch_block_kwargs(layer), dtype=dt)
    if "LayerNorm" in kinds:
        return nn.LayerNorm(**layer.config, dtype=dt)
    if "TransformerEncoder" in kinds or "TransformerDecoder" in kinds:
        name = "TransformerEncoder" if "TransformerEncoder" in kinds else "TransformerDecoder"
        norm = None if layer.norm is None else _torch_module(layer.norm, dt)
        extra = ({"enable_nested_tensor": False} if name == "TransformerEncoder" else {})
        return cls(name)(_torch_module(layer.layers[0], dt), layer.num_layers, norm, **extra)
    if "Transformer" in kinds:
        return cls("Transformer")(d_model=layer.d_model, nhead=layer.nhead,
                                  custom_encoder=_torch_module(layer.encoder, dt),
                                  custom_decoder=_torch_module(layer.decoder, dt),
                                  batch_first=layer.batch_first, dtype=dt)
    raise TypeError(f"no torch twin for {type(layer).__name__}")


def _load(module: nn.Module, layer: Any) -> nn.Module:
    theirs = dict(module.named_parameters())
    if set(theirs) != set(layer.params):
        raise ValueError(f"{type(layer).__name__}: parameter names differ from torch's: only "
                         f"manual {sorted(set(layer.params) - set(theirs))}, only torch "
                         f"{sorted(set(theirs) - set(layer.params))}")
    with torch.no_grad():
        for k, v in layer.params.items():
            theirs[k].copy_(torch.as_tensor(np.asarray(v)).to(theirs[k].dtype))
    module._manual_state_loaded = True  # type: ignore[assignment]
    return module.train(bool(layer.training))


def torch_from_manual(layer: Any, dt: torch.dtype = torch.float64) -> nn.Module:
    """The torch twin of a manual transformer module, the manual parameters copied in."""
    return _load(_torch_module(layer, dt), layer)


# --------------------------------------------------------------------------------------
# the twins of the case calls (fixed masks; comparisons.core.transformer_calls)
# --------------------------------------------------------------------------------------
def _tensors(call: dict[str, Any], dt: torch.dtype) -> dict[str, Any]:
    out = {}
    for k, v in call.items():
        if isinstance(v, np.ndarray):
            t = torch.as_tensor(v)
            out[k] = t.to(dt) if t.is_floating_point() else t
        else:
            out[k] = v
    return out


class EncoderTwin(nn.TransformerEncoder):
    """``nn.TransformerEncoder`` called with fixed masks: ``forward(src)``."""

    call: dict[str, Any]

    def forward(self, src):  # type: ignore[override]
        return super().forward(src, **self.call)


class DecoderLayerTwin(nn.TransformerDecoderLayer):
    """``nn.TransformerDecoderLayer`` called with fixed masks: ``forward(tgt, memory)``."""

    call: dict[str, Any]

    def forward(self, tgt, memory):  # type: ignore[override]
        return super().forward(tgt, memory, **self.call)


class DecoderTwin(nn.TransformerDecoder):
    """``nn.TransformerDecoder`` called with fixed masks: ``forward(tgt, memory)``."""

    call: dict[str, Any]

    def forward(self, tgt, memory):  # type: ignore[override]
        return super().forward(tgt, memory, **self.call)


class TransformerTwin(nn.Transformer):
    """``nn.Transformer`` called with fixed masks: ``forward(src, tgt)``."""

    call: dict[str, Any]

    def forward(self, src, tgt):  # type: ignore[override]
        return super().forward(src, tgt, **self.call)


_CALL_TWINS: dict[str, type] = {"TransformerEncoder": EncoderTwin,
                                "TransformerDecoderLayer": DecoderLayerTwin,
                                "TransformerDecoder": DecoderTwin, "Transformer": TransformerTwin}


def call_twin(layer: Any, dt: torch.dtype) -> nn.Module:
    """The twin of a case call (a manual transformer module with ``call``, its fixed forward
    options): the outermost module is the call twin, called with the same options."""
    outer = next(c.__name__ for c in type(layer).__mro__ if c.__name__ in _CALL_TWINS)
    module = _torch_module(layer, dt, {outer: _CALL_TWINS[outer]})
    module.call = _tensors(layer.call, dt)  # type: ignore[assignment]
    return _load(module, layer)


class PackedTransformerTwin(nn.Transformer):
    """The twin of :class:`comparisons.core.transformer_calls.PackedTransformer`: ``x`` (N,
    src_len + T, E) split into ``src`` and ``tgt``, the decoder's self-attention causal."""

    src_len: int

    def forward(self, x):  # type: ignore[override]
        T = x.shape[1] - self.src_len
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        return super().forward(x[:, :self.src_len], x[:, self.src_len:], tgt_mask=causal,
                               tgt_is_causal=True)


def packed_twin(layer: Any, dt: torch.dtype) -> nn.Module:
    """:class:`PackedTransformerTwin` of a manual ``PackedTransformer`` (its encoder and
    decoder built as the manual ones, parameters copied by name)."""
    module = PackedTransformerTwin(d_model=layer.d_model, nhead=layer.nhead,
                                   custom_encoder=_torch_module(layer.encoder, dt),
                                   custom_decoder=_torch_module(layer.decoder, dt),
                                   batch_first=True, dtype=dt)
    module.src_len = layer.src_len
    return _load(module, layer)
