"""The layers' benchmark workloads, as the layer records hold them (:class:`~comparisons.
cases.info.LayerBench`): forward + backward of one layer and of its torch twin, built for a
dtype and a batch size. :mod:`comparisons.bench.benchmark` times them; the function that builds a
torch twin is handed in (``twin``), so that the records, which sit below the bridge, need
nothing from it.

- :func:`forward_backward` — one layer on an image-like batch (convolution, pooling, batch
  norm);
- :func:`self_attention` — ``MultiheadAttention`` self-attention, need_weights=False;
- :func:`through_time` — a recurrent layer over a sequence, with random upstream gradients
  on the output and the final states.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import torch

from comparisons.cases.info import LayerBench, TwinFn, Workload

__all__ = ["forward_backward", "self_attention", "through_time"]


def forward_backward(label: str, cls: type, config: dict[str, Any],
                     shape: tuple[int, ...] = (64, 16, 32, 32)) -> LayerBench:
    """forward + backward (input and parameter gradients) of ``cls(**config)`` and its
    torch twin, on a batch of ``shape`` at ``--batch`` 256 (scaled)."""

    def make(dtype: np.dtype, batch: int, twin: TwinFn) -> Workload:
        n = max(1, shape[0] * batch // 256)
        x = np.random.default_rng(3).standard_normal((n,) + shape[1:]).astype(dtype)
        params = inspect.signature(cls).parameters
        extra = {k: v for k, v in (("dtype", dtype), ("rng", 0)) if k in params}
        layer = cls(**config, **extra)
        module = twin(layer, dtype)
        g = np.random.default_rng(4).standard_normal(layer.forward(x).shape).astype(dtype)
        xt, gt = torch.from_numpy(x), torch.from_numpy(g)
        weights = list(module.parameters())

        def manual_call() -> None:
            layer.forward(x)
            layer.backward(g)

        def torch_call() -> None:
            xi = xt.detach().requires_grad_()
            torch.autograd.grad(module(xi), [xi, *weights], gt)

        return Workload(manual_call, torch_call)

    def memory(dtype: np.dtype, batch: int) -> float:
        n = max(1, shape[0] * batch // 256)
        return 2 * 12 * np.dtype(dtype).itemsize * n * int(np.prod(shape[1:])) * 2

    size = "x".join(map(str, shape))
    return LayerBench(f"{label} forward+backward, input {size} at --batch 256", make, memory)


# --------------------------------------------------------------------------------------
# attention
# --------------------------------------------------------------------------------------
BATCH, SEQ, EMBED, HEADS = 16, 128, 128, 4


def _attention_batch(batch: int) -> int:
    """``batch`` is the benchmark's (256 by default); this case runs at 16 per 256."""
    return max(1, batch * BATCH // 256)


def attention_flops(batch: int, seq: int = SEQ, embed: int = EMBED) -> float:
    """Matrix-product FLOPs of forward + backward: the four projections (3 products each
    way: the input gradient is needed) and the two attention products forward, four
    backward."""
    proj = 2.0 * batch * seq * embed * embed  # one (N L, E) x (E, E) product
    att = 2.0 * batch * seq * seq * embed  # QK^T or PV over all heads
    return 4 * proj * 3 + att * 6


def self_attention(cls: type) -> LayerBench:
    """Multi-head self-attention, forward and backward under a random upstream gradient,
    ``cls`` (the manual ``MultiheadAttention``) against its twin ``nn.MultiheadAttention``,
    batch 16 per ``--batch`` 256, sequence 128, embedding 128, 4 heads."""

    def make(dtype: np.dtype, batch: int, twin: TwinFn) -> Workload:
        n = _attention_batch(batch)
        dtype = np.dtype(dtype)
        mha = cls(EMBED, HEADS, batch_first=True, dtype=dtype, rng=0)
        tmha = twin(mha, dtype)
        rng = np.random.default_rng(3)
        x = rng.standard_normal((n, SEQ, EMBED)).astype(dtype)
        g = rng.standard_normal((n, SEQ, EMBED)).astype(dtype)
        xt, gt = torch.from_numpy(x), torch.from_numpy(g)
        weights = list(tmha.parameters())

        def manual_call() -> None:
            mha.forward(x, x, x, need_weights=False)
            mha.backward(g)

        def torch_call() -> None:
            xr = xt.detach().requires_grad_()
            out, _ = tmha(xr, xr, xr, need_weights=False)
            torch.autograd.grad(out, [xr, *weights], gt)

        return Workload(manual_call, torch_call, attention_flops(n))

    def memory(dtype: np.dtype, batch: int) -> float:
        """Activations and caches of both sides (about 12 (N, L, E) arrays and 4
        (N, H, L, L) attention maps each)."""
        n = _attention_batch(batch)
        item = np.dtype(dtype).itemsize
        return 2 * item * (12 * n * SEQ * EMBED + 4 * n * HEADS * SEQ * SEQ)

    return LayerBench(f"multihead-attention forward+backward, batch {BATCH}, seq {SEQ}, "
                      f"embed {EMBED}, {HEADS} heads", make, memory)


# --------------------------------------------------------------------------------------
# recurrent layers
# --------------------------------------------------------------------------------------
def through_time(cls: type, input_size: int = 64, hidden: int = 128, steps: int = 50,
                 batch: int = 32) -> LayerBench:
    """One forward and backward of ``cls(input_size, hidden)`` (``LSTM`` or ``GRU``) over
    ``steps`` steps at a fixed ``batch`` on each side (the torch side with autograd: input,
    initial state and every parameter require grad); the flops count the manual matrix
    products."""
    lstm = cls.__name__ == "LSTM"
    gates = (4 if lstm else 3) * hidden

    def make(dtype: np.dtype, _batch: int, twin: TwinFn) -> Workload:
        dtype = np.dtype(dtype)
        rng = np.random.default_rng(0)
        layer = cls(input_size, hidden, dtype=dtype, rng=0)
        module = twin(layer, dtype)
        x = rng.standard_normal((steps, batch, input_size)).astype(dtype)
        h0 = rng.standard_normal((1, batch, hidden)).astype(dtype)
        hx = (h0, h0.copy()) if lstm else h0
        g_out = rng.standard_normal((steps, batch, hidden)).astype(dtype)
        g_h = rng.standard_normal((1, batch, hidden)).astype(dtype)
        d_hx = (g_h, g_h.copy()) if lstm else g_h

        def manual_call() -> None:
            layer.forward(x, hx)
            layer.backward(g_out, d_hx)

        xt = torch.from_numpy(x).requires_grad_()
        hxt = tuple(torch.from_numpy(h).requires_grad_() for h in (hx if lstm else (hx,)))
        gs = [torch.from_numpy(g) for g in (g_out, *(d_hx if lstm else (d_hx,)))]

        def torch_call() -> None:
            module.zero_grad(set_to_none=True)
            out, hn = module(xt, hxt if lstm else hxt[0])
            torch.autograd.backward([out, *(hn if lstm else (hn,))], gs)

        # forward: x W_ih^T once, h W_hh^T per step; backward: three products for the
        # weights and the input, one per step for h
        macs = steps * batch * gates * (2 * input_size + 2 * hidden) + (
            steps * batch * gates * (input_size + hidden))
        return Workload(manual_call, torch_call, 2.0 * macs)

    def memory(dtype: np.dtype, _batch: int) -> float:
        return 40 * np.dtype(dtype).itemsize * steps * batch * (input_size + hidden)

    return LayerBench(f"{cls.__name__.lower()} {input_size}->{hidden}, {steps} steps, batch "
                      f"{batch}, forward+backward", make, memory)
