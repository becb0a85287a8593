"""The bridge between the two sides: building the torch twin of a manual object, copying
weights and buffers across, converting states and histories.

It lives here, in ``comparisons/``, because ``reference/`` (the oracle) must import nothing
from ``manual/`` and ``manual/`` must never import torch.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

import reference

__all__ = ["TWIN_BUILDERS", "TWIN_SYNC", "TorchSequential", "load_manual_state", "module_state",
           "register_twin", "torch_dtype", "torch_rnn_dropout_masks", "torch_twin", "twin_name"]

# --------------------------------------------------------------------------------------
# layers and Sequential models (the layer protocol of manual.layers)
# --------------------------------------------------------------------------------------
_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}

#: class name -> ``build(layer, dtype) -> nn.Module`` for layers whose torch twin is not
#: simply ``getattr(torch.nn, name)(**layer.config, dtype=dtype)`` (recurrent layers,
#: attention, …). The builder returns the module; :func:`torch_twin` still copies
#: ``params`` and ``buffers`` in by name afterwards, unless the builder sets
#: ``module._manual_state_loaded = True`` (it copied them itself).
TWIN_BUILDERS: dict[str, Callable[[Any, torch.dtype], nn.Module]] = {}

#: class name -> ``sync(layer, module, torch_inputs, torch_outputs)``, called by the layer
#: comparison after torch's forward and before the manual forward: for what torch draws
#: and NumPy cannot reproduce (dropout's mask, read from torch's own output).
TWIN_SYNC: dict[str, Callable[[Any, nn.Module, tuple, Any], None]] = {}


def register_twin(name: str, build: Callable[[Any, torch.dtype], nn.Module] | None = None,
                  sync: Callable[[Any, nn.Module, tuple, Any], None] | None = None) -> None:
    """Register a special twin builder and/or a post-forward sync for layer class ``name``."""
    if build is not None:
        TWIN_BUILDERS[name] = build
    if sync is not None:
        TWIN_SYNC[name] = sync


def _dropout_sync(layer: Any, module: nn.Module, inputs: tuple, output: Any) -> None:
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


def torch_dtype(dtype: Any) -> torch.dtype:
    """The torch dtype of a NumPy float32/float64 dtype (a torch dtype passes through)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    dt = np.dtype(dtype)
    if dt not in _TORCH_DTYPES:
        raise TypeError(f"no torch twin for dtype {dt}; valid: float32, float64")
    return _TORCH_DTYPES[dt]


def twin_name(layer: Any) -> str:
    """The name the twin is looked up by: the layer's class name, or, for a subclass of a
    known layer (a student's variant, a negative control), the nearest known base's."""
    for cls in type(layer).__mro__:
        if cls.__name__ in TWIN_BUILDERS or cls.__name__ == "Sequential" or (
                isinstance(getattr(nn, cls.__name__, None), type)
                and issubclass(getattr(nn, cls.__name__), nn.Module)):
            return cls.__name__
    raise TypeError(f"no torch twin for {type(layer).__name__}: torch.nn has no module of that "
                    f"name and none is registered (comparisons.bridge.register_twin)")


def torch_twin(layer: Any, dtype: Any = None) -> nn.Module:
    """The torch module matching ``layer``, with ``layer.params`` and ``layer.buffers`` copied
    in by name and the same train/eval mode.

    - a manual ``Sequential`` becomes an ``nn.Sequential`` of the twins of its layers;
    - a class registered in :data:`TWIN_BUILDERS` is built by its builder;
    - any other layer is ``getattr(torch.nn, name)(**layer.config, dtype=...)`` (``dtype``
      only where the torch constructor takes one: activations do not).

    ``dtype`` defaults to the layer's own (float64 for a layer without parameters)."""
    dt = torch_dtype(dtype if dtype is not None else getattr(layer, "dtype", np.float64))
    name = twin_name(layer)
    if name in TWIN_BUILDERS:
        module = TWIN_BUILDERS[name](layer, dt)
    elif name == "Sequential":
        module = nn.Sequential(*[torch_twin(sub, dt) for sub in layer.layers])
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


class TorchSequential:
    """The torch side of a manual ``Sequential`` with a loss, for
    :func:`comparisons.runner.compare_network`: ``nn.Sequential`` of torch's own modules
    (:func:`torch_twin`) and torch's loss from :mod:`reference.losses`.

    ``gradients(X, y)`` and ``vjp(X, g)`` return gradients keyed like the manual
    ``params`` (``0.weight``, …); ``intermediates`` (filled by forward hooks and
    ``retain_grad``) uses the keys of ``manual.layers.Sequential.intermediates``
    (``"0.Conv2d"``, …, ``"loss"``, ``"dJ/d(output)"``, ``"dJ/d(input of 3.Linear)"``), so
    that the first diverging layer is named.
    """

    def __init__(self, net: Any) -> None:
        self.net_dtype = np.dtype(net.dtype)
        self.dtype = torch_dtype(self.net_dtype)
        self.module = torch_twin(net, self.net_dtype)
        self.keys = [f"{i}.{type(sub).__name__}" for i, sub in enumerate(net.layers)]
        loss = getattr(net, "loss_fn", None)
        self.loss_fn = None
        if loss is not None:
            name = getattr(loss, "name", None)
            if not isinstance(name, str):
                raise TypeError(f"the network's loss needs a .name naming its torch "
                                f"counterpart, got {loss!r}")
            self.loss_fn = reference.losses.get(name, **dict(getattr(loss, "kwargs", {}) or {}))
        self.intermediates: dict[str, np.ndarray] = {}

    def buffers(self) -> dict[str, np.ndarray]:
        return module_state(self.module)[1]

    def _forward(self, X: Any) -> tuple[torch.Tensor, list[torch.Tensor]]:
        outputs: list[torch.Tensor] = []
        # a recurrent module returns (output, h_n): its output is what is recorded
        hooks = [sub.register_forward_hook(
            lambda m, i, o: outputs.append(o[0] if isinstance(o, tuple) else o))
            for sub in self.module]
        try:
            X = np.asarray(X)  # integer inputs (an embedding's indices) stay int64
            out = self.module(torch.as_tensor(X, dtype=torch.int64 if X.dtype.kind in "iu"
                                              else self.dtype))
        finally:
            for h in hooks:
                h.remove()
        return out, outputs

    def target_tensor(self, y: Any) -> torch.Tensor:
        y = np.asarray(y)
        if y.dtype.kind in "iu":
            return torch.as_tensor(y, dtype=torch.int64)
        return torch.as_tensor(y, dtype=self.dtype)

    def gradients(self, X: Any, y: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(loss, grads)`` by autograd through torch's loss; fills ``intermediates``."""
        if self.loss_fn is None:
            raise RuntimeError("TorchSequential.gradients: the manual network has no loss")
        self.module.zero_grad(set_to_none=True)
        out, outputs = self._forward(X)
        for t in outputs:
            if t.requires_grad:
                t.retain_grad()
        J = self.loss_fn(out, self.target_tensor(y))
        J.backward()
        trace = {k: t.detach().numpy().copy() for k, t in zip(self.keys, outputs)}
        trace["loss"] = J.detach().numpy().copy()

        def grad_of(t: torch.Tensor) -> np.ndarray:
            return np.zeros(tuple(t.shape)) if t.grad is None else t.grad.numpy().copy()

        trace["dJ/d(output)"] = grad_of(outputs[-1])
        for i in range(len(outputs) - 1, 0, -1):  # the input of layer i is the output of i-1
            trace[f"dJ/d(input of {self.keys[i]})"] = grad_of(outputs[i - 1])
        self.intermediates = trace
        grads = {k: (np.zeros(tuple(p.shape)) if p.grad is None else p.grad.numpy().copy())
                 for k, p in self.module.named_parameters()}
        return J.detach().numpy()[()], grads

    def vjp(self, X: Any, grad_out: np.ndarray) -> dict[str, np.ndarray]:
        """Autograd's vector–Jacobian product of the network output with ``grad_out``
        (no loss), keyed like the manual ``params``."""
        out, _ = self._forward(X)
        named = list(self.module.named_parameters())
        vjps = torch.autograd.grad(out, [p for _, p in named],
                                   torch.as_tensor(grad_out, dtype=self.dtype),
                                   allow_unused=True)
        return {k: (np.zeros(tuple(p.shape)) if g is None else g.numpy().copy())
                for (k, p), g in zip(named, vjps)}


register_twin("Dropout", sync=_dropout_sync)


# --------------------------------------------------------------------------------------
# recurrent layers: torch's dropout masks between layers
# --------------------------------------------------------------------------------------
def _recurrent_builder(name: str) -> Callable[[Any, torch.dtype], nn.Module]:
    """``nn.RNN``/``nn.LSTM``/``nn.GRU`` as usual, plus a forward pre-hook that saves torch's
    random state: the dropout masks between layers are drawn inside torch's fused kernel,
    and :func:`_recurrent_sync` replays them from that state."""

    def build(layer: Any, dtype: torch.dtype) -> nn.Module:
        module = getattr(nn, name)(**layer.config, dtype=dtype)
        module.register_forward_pre_hook(
            lambda m, args: setattr(m, "_rng_before_forward", torch.get_rng_state()))
        return module

    return build


def torch_rnn_dropout_masks(module: nn.Module, x: torch.Tensor) -> list[np.ndarray]:
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
    torch.set_rng_state(module._rng_before_forward)
    try:
        masks = [torch.empty((L, N, width), dtype=x.dtype).bernoulli_(1 - p).numpy()
                 for _ in range(layers - 1)]
    finally:
        torch.set_rng_state(after)
    return masks


def _recurrent_sync(layer: Any, module: nn.Module, inputs: tuple, outputs: Any) -> None:
    """Hand torch's dropout masks to the manual layer (kept for every later forward, so that
    the finite differences see the same noise)."""
    masks = torch_rnn_dropout_masks(module, inputs[0])
    layer.fixed_dropout_masks = masks or None


for _name in ("RNN", "LSTM", "GRU"):
    register_twin(_name, _recurrent_builder(_name), _recurrent_sync)


class TorchLastTimeStep(nn.Module):
    """The twin of ``manual.layers.LastTimeStep``: ``output[:, -1]`` or ``output[-1]`` of a
    recurrent module's ``(output, h_n)``, torch's usual indexing (no built-in module)."""

    def __init__(self, batch_first: bool = False) -> None:
        super().__init__()
        self.batch_first = batch_first

    def forward(self, x: tuple) -> torch.Tensor:
        out = x[0]
        return out[:, -1] if (self.batch_first and out.dim() == 3) else out[-1]


register_twin("LastTimeStep", lambda layer, dtype: TorchLastTimeStep(**layer.config))


# --------------------------------------------------------------------------------------
# the MLP, optimizer state and training histories
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# attention: the calls of comparisons.attention (fixed masks and flags) as torch modules
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
    ``need_weights=False`` (as :class:`comparisons.attention.MultiheadAttentionCall`)."""

    def forward(self, query, key, value):  # type: ignore[override]
        if self.training and self.dropout > 0:  # the one random draw: see _sync_mha
            torch.manual_seed(MHA_DROPOUT_SEED)
        out, weights = super().forward(query, key, value, **self.call)
        return out if weights is None else (out, weights)


class _TransformerEncoderLayerTwin(nn.TransformerEncoderLayer):
    """``nn.TransformerEncoderLayer`` called with fixed masks."""

    def forward(self, src):  # type: ignore[override]
        return super().forward(src, **self.call)


def _call_tensors(layer: Any, dt: torch.dtype) -> dict[str, Any]:
    return {k: _mask_tensor(v, dt) for k, v in layer.call.items()}


def _build_mha(layer: Any, dt: torch.dtype) -> nn.Module:
    module = _MultiheadAttentionTwin(**layer.config, dtype=dt)
    module.call = _call_tensors(layer, dt)
    return module


def _build_encoder(layer: Any, dt: torch.dtype) -> nn.Module:
    module = _TransformerEncoderLayerTwin(**layer.config, dtype=dt)
    module.call = _call_tensors(layer, dt)
    return module


#: torch's seed right before a training-mode MultiheadAttention twin with dropout runs
MHA_DROPOUT_SEED = 90210


def _sync_mha(layer: Any, module: nn.Module, t_in: tuple, t_out: Any) -> None:
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
    L, S, H = q.shape[s], k.shape[s], layer.num_heads
    with torch.random.fork_rng():
        torch.manual_seed(MHA_DROPOUT_SEED)
        kept = nn.functional.dropout(torch.ones(n * H, L, S, dtype=q.dtype), layer.dropout,
                                     training=True)
    layer.dropout_mask = (kept != 0).numpy().reshape(n, H, L, S)


register_twin("ScaledDotProductAttention",
              lambda layer, dt: _SDPATwin(layer.attn_mask, layer.config, dt,
                                          getattr(layer, "dropout_mask", None)))
register_twin("MultiheadAttentionCall", _build_mha, _sync_mha)
register_twin("TransformerEncoderLayerCall", _build_encoder)
