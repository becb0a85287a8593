"""The torch twins of the manual layers: how each is built, how the manual parameters and
buffers are copied in, and what a twin hands back to its manual layer after torch's forward
(a dropout mask torch drew).

:func:`build_twin` builds the twin of any layer from a table of special builders (class
name -> builder); :mod:`comparisons.run.bridge` hands it the table of the layer records
(:data:`comparisons.cases.catalog.LAYER_INFOS`), whose ``twin`` and ``sync`` fields point
at the builders and syncs defined here. This module imports nothing from the records.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from comparisons.core.device import seed_torch

__all__ = ["MHA_DROPOUT_SEED", "TorchLastTimeStep", "build_twin", "dropout_sync",
           "last_time_step_twin", "load_manual_state", "module_state", "mha_twin",
           "mha_sync", "encoder_twin", "recurrent_sync", "recurrent_twin", "sdpa_twin",
           "torch_dtype", "torch_rnn_dropout_masks", "twin_name"]

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}

Builder = Callable[[Any, torch.dtype], nn.Module]

def torch_dtype(dtype: Any) -> torch.dtype:
    """The torch dtype of a NumPy float32/float64 dtype (a torch dtype passes through)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    dt = np.dtype(dtype)
    if dt not in _TORCH_DTYPES:
        raise TypeError(f"no torch twin for dtype {dt}; valid: float32, float64")
    return _TORCH_DTYPES[dt]



def twin_name(layer: Any, builders: Mapping[str, Builder]) -> str:
    """The name the twin is looked up by: the layer's class name, or, for a subclass of a
    known layer (a student's variant, a negative control), the nearest known base's."""
    for cls in type(layer).__mro__:
        if cls.__name__ in builders or cls.__name__ == "Sequential" or (
                isinstance(getattr(nn, cls.__name__, None), type)
                and issubclass(getattr(nn, cls.__name__), nn.Module)):
            return cls.__name__
    raise TypeError(f"no torch twin for {type(layer).__name__}: torch.nn has no module of that "
                    f"name and no layer record gives a twin builder for it "
                    f"(comparisons.cases.catalog.LAYER_INFOS)")


def build_twin(layer: Any, dtype: Any, builders: Mapping[str, Builder]) -> nn.Module:
    """The torch module matching ``layer``, with ``layer.params`` and ``layer.buffers`` copied
    in by name and the same train/eval mode.

    - a manual ``Sequential`` becomes an ``nn.Sequential`` of the twins of its layers;
    - a class named in ``builders`` (class name -> ``build(layer, torch_dtype)``) is built
      by its builder;
    - any other layer is ``getattr(torch.nn, name)(**layer.config, dtype=...)`` (``dtype``
      only where the torch constructor takes one: activations do not).

    ``dtype`` defaults to the layer's own (float64 for a layer without parameters)."""
    dt = torch_dtype(dtype if dtype is not None else getattr(layer, "dtype", np.float64))
    name = twin_name(layer, builders)
    if name in builders:
        module = builders[name](layer, dt)
    elif name == "Sequential":
        module = nn.Sequential(*[build_twin(sub, dt, builders) for sub in layer.layers])
    else:
        cls = getattr(nn, name)
        kwargs = dict(getattr(layer, "config", {}))
        if "dtype" in inspect.signature(cls).parameters:
            kwargs["dtype"] = dt
        module = cls(**kwargs)
    if name != "Sequential" and not getattr(module, "_manual_state_loaded", False):
        load_manual_state(module, layer)
    module.train(bool(getattr(layer, "training", True)))
    return module


@torch.no_grad()
def load_manual_state(module: nn.Module, layer: Any) -> None:
    """Copy ``layer.params`` and ``layer.buffers`` into ``module`` by (dotted) name, as
    ``load_state_dict(strict=True)`` would: the two sides must name the same parameters and
    buffers with the same shapes, else a ``ValueError`` lists the difference."""
    owner = type(layer).__name__
    for what, ours, theirs in (
            ("parameters", dict(getattr(layer, "params", {})), dict(module.named_parameters())),
            ("buffers", dict(getattr(layer, "buffers", {})),
             {k: v for k, v in module.named_buffers() if v is not None})):
        if set(ours) != set(theirs):
            raise ValueError(f"{owner}: the manual layer's {what} {sorted(ours)} differ from "
                             f"torch's {sorted(theirs)}")
        for key, value in ours.items():
            target = theirs[key]
            value = np.asarray(value)
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(f"{owner}: {key} has shape {value.shape}, torch's "
                                 f"{tuple(target.shape)}")
            target.copy_(torch.as_tensor(value).to(target.dtype))


def module_state(module: nn.Module) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``(params, buffers)`` of a torch module as NumPy copies, by dotted name."""
    params = {k: v.detach().numpy().copy() for k, v in module.named_parameters()}
    buffers = {k: v.detach().numpy().copy() for k, v in module.named_buffers() if v is not None}
    return params, buffers



# --------------------------------------------------------------------------------------
# dropout: torch's mask, read from torch's output
# --------------------------------------------------------------------------------------
def dropout_sync(layer: Any, module: nn.Module, inputs: tuple, output: Any) -> None:
    """Dropout: hand the mask torch's ``nn.Dropout`` just drew to the manual layer, read
    from torch's own output (kept elements are x/(1-p), dropped ones 0). It stays the
    layer's mask (``mask_source``) for every later train-mode forward, so the torch-free
    oracles differentiate the same function. An input element exactly 0 would hide
    whether it was kept, so such an input is refused."""
    if not module.training or module.p == 0.0:
        return  # the identity: no mask drawn
    x = inputs[0].detach()
    if bool((x == 0).any()):
        raise ValueError("Dropout twin: an input element is exactly 0, so torch's mask cannot "
                         "be read from its output there; use inputs without zeros")
    mask = (output.detach() != 0).numpy()
    layer.mask_source = lambda shape, dtype: mask



# --------------------------------------------------------------------------------------
# recurrent layers: torch's dropout masks between layers
# --------------------------------------------------------------------------------------
def recurrent_twin(name: str) -> Callable[[Any, torch.dtype], nn.Module]:
    """``nn.RNN``/``nn.LSTM``/``nn.GRU`` as usual, plus a forward pre-hook that saves torch's
    random state: the dropout masks between layers are drawn inside torch's fused kernel,
    and :func:`recurrent_sync` replays them from that state."""

    def build(layer: Any, dtype: torch.dtype) -> nn.Module:
        module = getattr(nn, name)(**layer.config, dtype=dtype)
        module.register_forward_pre_hook(
            lambda m, args: setattr(m, "_rng_before_forward", torch.get_rng_state()))
        return module

    return build


def torch_rnn_dropout_masks(module: nn.RNNBase, x: torch.Tensor) -> list[np.ndarray]:
    """The keep-masks torch drew in ``module``'s last train-mode forward on ``x``: one per
    layer boundary, (L, N, num_directions * H_out), time first.

    ATen's recurrent kernel (``_rnn_impl``, CPU) applies ``at::dropout`` to the output of
    every layer but the last, which draws ``empty_like(output).bernoulli_(1 - p)`` from the
    default generator, in layer order, and nothing else; replaying those draws from the
    state saved before the forward gives the same masks (the output comparison would show
    at once if it did not). The generator is put back where torch left it."""
    p, layers = float(module.dropout), int(module.num_layers)
    if not (module.training and p > 0 and layers > 1):
        return []
    L, N = (x.shape[0], 1) if x.dim() == 2 else (
        (x.shape[1], x.shape[0]) if module.batch_first else (x.shape[0], x.shape[1]))
    width = (2 if module.bidirectional else 1) * (getattr(module, "proj_size", 0)
                                                  or module.hidden_size)
    after = torch.get_rng_state()
    # saved by the forward pre-hook the recurrent builder registers
    torch.set_rng_state(cast(torch.Tensor, module._rng_before_forward))
    try:
        masks = [torch.empty((L, N, width), dtype=x.dtype).bernoulli_(1 - p).numpy()
                 for _ in range(layers - 1)]
    finally:
        torch.set_rng_state(after)
    return masks


def recurrent_sync(layer: Any, module: nn.Module, inputs: tuple, outputs: Any) -> None:
    """Hand torch's dropout masks to the manual layer (kept for every later forward, so that
    the finite differences see the same noise)."""
    # the recurrent builders make nn.RNN, nn.LSTM or nn.GRU
    masks = torch_rnn_dropout_masks(cast(nn.RNNBase, module), inputs[0])
    layer.fixed_dropout_masks = masks or None



class TorchLastTimeStep(nn.Module):
    """The twin of ``manual.layers.LastTimeStep``: ``output[:, -1]`` or ``output[-1]`` of a
    recurrent module's ``(output, h_n)``, torch's usual indexing (no built-in module)."""

    def __init__(self, batch_first: bool = False) -> None:
        super().__init__()
        self.batch_first = batch_first

    def forward(self, x: tuple) -> torch.Tensor:
        out = x[0]
        return out[:, -1] if (self.batch_first and out.dim() == 3) else out[-1]



def last_time_step_twin(layer: Any, dtype: torch.dtype) -> nn.Module:
    """The twin of ``manual.layers.LastTimeStep``."""
    return TorchLastTimeStep(**layer.config)


# --------------------------------------------------------------------------------------
# attention: the calls of comparisons.core.attention_calls (fixed masks and flags) as torch modules
# --------------------------------------------------------------------------------------
def _mask_tensor(mask: Any, dt: torch.dtype) -> Any:
    """A NumPy mask as a tensor: bool stays bool, a float mask takes the compared dtype."""
    if not isinstance(mask, np.ndarray):
        return mask
    return torch.as_tensor(mask) if mask.dtype == np.bool_ else torch.as_tensor(mask, dtype=dt)


class _SDPATwin(nn.Module):
    """``F.scaled_dot_product_attention`` with fixed mask and options."""

    def __init__(self, attn_mask: Any, config: dict[str, Any], dt: torch.dtype,
                 dropout_mask: Any = None) -> None:
        super().__init__()
        self.attn_mask, self.config = _mask_tensor(attn_mask, dt), dict(config)
        self.dropout_mask = None if dropout_mask is None else torch.as_tensor(dropout_mask)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> Any:
        if self.dropout_mask is not None:  # torch's own math kernel, told which mask to use
            mask = self.attn_mask
            if mask is not None and mask.dtype == torch.bool:  # as F.sdpa converts it first
                mask = torch.zeros(mask.shape, dtype=query.dtype).masked_fill(~mask,
                                                                              float("-inf"))
            return torch.ops.aten._scaled_dot_product_attention_math(
                query, key, value, mask, self.config["dropout_p"],
                self.config["is_causal"], self.dropout_mask, scale=self.config["scale"])[0]
        return nn.functional.scaled_dot_product_attention(query, key, value,
                                                          attn_mask=self.attn_mask,
                                                          **self.config)


class _MultiheadAttentionTwin(nn.MultiheadAttention):
    """``nn.MultiheadAttention`` called with fixed options; returns the output alone when
    ``need_weights=False`` (as :class:`comparisons.core.attention_calls.MultiheadAttentionCall`)."""

    call: dict[str, Any]  # the forward's fixed keyword arguments (masks as tensors)

    def forward(self, query, key, value):  # type: ignore[override]
        if self.training and self.dropout > 0:  # the one random draw: see mha_sync
            seed_torch(MHA_DROPOUT_SEED)
        out, weights = super().forward(query, key, value, **self.call)
        return out if weights is None else (out, weights)


class _TransformerEncoderLayerTwin(nn.TransformerEncoderLayer):
    """``nn.TransformerEncoderLayer`` called with fixed masks."""

    call: dict[str, Any]  # the forward's fixed keyword arguments (masks as tensors)

    def forward(self, src):  # type: ignore[override]
        return super().forward(src, **self.call)


def _call_tensors(layer: Any, dt: torch.dtype) -> dict[str, Any]:
    return {k: _mask_tensor(v, dt) for k, v in layer.call.items()}


def mha_twin(layer: Any, dt: torch.dtype) -> nn.Module:
    module = _MultiheadAttentionTwin(**layer.config, dtype=dt)
    module.call = _call_tensors(layer, dt)
    return module


def encoder_twin(layer: Any, dt: torch.dtype) -> nn.Module:
    from comparisons.twins.transformers import torch_activation

    config = dict(layer.config, activation=torch_activation(layer.config["activation"]))
    module = _TransformerEncoderLayerTwin(**config, dtype=dt)
    module.call = _call_tensors(layer, dt)
    return module


#: torch's seed right before a training-mode MultiheadAttention twin with dropout runs
MHA_DROPOUT_SEED = 90210


def mha_sync(layer: Any, module: nn.Module, t_in: tuple, t_out: Any) -> None:
    """Hand the manual layer the dropout mask torch drew on the attention weights.

    With ``need_weights=True`` torch's only random draw in the forward is
    ``F.dropout(weights, p)`` on the (N·H, L, S) weights, right after the twin seeded the
    generator: the same draw on ones gives the mask. (``need_weights=False`` runs SDPA's
    fused kernel, whose draws cannot be replayed: not compared with dropout.)"""
    if not (layer.training and layer.dropout > 0):
        return
    if not layer.call.get("need_weights", True):
        raise ValueError("MultiheadAttentionCall: dropout is compared with need_weights=True "
                         "only (SDPA's kernel draws its own masks)")
    q, k = t_in[0], t_in[1]
    batched = q.dim() == 3
    n = (q.shape[0] if layer.batch_first else q.shape[1]) if batched else 1
    s = 1 if (batched and layer.batch_first) else 0  # the sequence dimension
    L, H = q.shape[s], layer.num_heads
    S = k.shape[s] + int(layer.add_bias_kv) + int(layer.add_zero_attn)  # the keys attended
    with torch.random.fork_rng():
        seed_torch(MHA_DROPOUT_SEED)
        kept = nn.functional.dropout(torch.ones(n * H, L, S, dtype=q.dtype), layer.dropout,
                                     training=True)
    layer.dropout_mask = (kept != 0).numpy().reshape(n, H, L, S)




def sdpa_twin(layer: Any, dt: torch.dtype) -> nn.Module:
    """``F.scaled_dot_product_attention`` with the layer's fixed mask and options."""
    return _SDPATwin(layer.attn_mask, layer.config, dt, getattr(layer, "dropout_mask", None))
