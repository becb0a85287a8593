"""The attention benchmark case (issue 9): ``MultiheadAttention`` self-attention, forward and
backward under a random upstream gradient, manual against ``nn.MultiheadAttention`` in the
same run. Kept apart from :mod:`comparisons.benchmark` so that the benchmark's own table can
take it with one line (``make(dtype, batch)`` and ``memory(dtype, batch)``, batch 256
scaled to the case's 16)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["BATCH", "EMBED", "HEADS", "NAME", "SEQ", "flops", "make", "memory"]

BATCH, SEQ, EMBED, HEADS = 16, 128, 128, 4
NAME = (f"multihead-attention forward+backward, batch {BATCH}, seq {SEQ}, embed {EMBED}, "
        f"{HEADS} heads")


def _batch(batch: int) -> int:
    """``batch`` is the benchmark's (256 by default); this case runs at 16 per 256."""
    return max(1, batch * BATCH // 256)


def flops(batch: int, seq: int = SEQ, embed: int = EMBED) -> float:
    """Matrix-product FLOPs of forward + backward: the four projections (3 products each
    way, minus nothing: the input gradient is needed) and the two attention products
    forward, four backward."""
    proj = 2.0 * batch * seq * embed * embed  # one (N L, E) x (E, E) product
    att = 2.0 * batch * seq * seq * embed  # QK^T or PV over all heads
    return 4 * proj * 3 + att * 6


def make(dtype: np.dtype, batch: int = 256) -> Any:
    """Both sides, ready to call: a :class:`comparisons.benchmark.Workload` where the
    benchmark defines one, else the pair ``(manual_call, torch_call)``."""
    from manual.layers import MultiheadAttention

    n = _batch(batch)
    dtype = np.dtype(dtype)
    mha = MultiheadAttention(EMBED, HEADS, batch_first=True, dtype=dtype, rng=0)
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    tmha = torch.nn.MultiheadAttention(**mha.config, dtype=tdtype)
    with torch.no_grad():
        for key, p in tmha.named_parameters():
            p.copy_(torch.from_numpy(mha.params[key]))
    rng = np.random.default_rng(3)
    x = rng.standard_normal((n, SEQ, EMBED)).astype(dtype)
    g = rng.standard_normal((n, SEQ, EMBED)).astype(dtype)
    xt, gt = torch.from_numpy(x), torch.from_numpy(g)
    params = list(tmha.parameters())

    def manual_call() -> None:
        mha.forward(x, x, x, need_weights=False)
        mha.backward(g)

    def torch_call() -> None:
        xr = xt.detach().requires_grad_()
        out, _ = tmha(xr, xr, xr, need_weights=False)
        torch.autograd.grad(out, [xr, *params], gt)

    from comparisons import benchmark

    workload = getattr(benchmark, "Workload", None)
    if workload is None:
        return manual_call, torch_call
    return workload(manual_call, torch_call, flops(n))


def memory(dtype: np.dtype, batch: int = 256) -> float:
    """Bytes held: activations and caches of both sides (about 12 (N, L, E) arrays and
    4 (N, H, L, L) attention maps each)."""
    n = _batch(batch)
    item = np.dtype(dtype).itemsize
    return 2 * item * (12 * n * SEQ * EMBED + 4 * n * HEADS * SEQ * SEQ)
