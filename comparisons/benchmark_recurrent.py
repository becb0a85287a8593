"""Speed of backpropagation through time: the manual ``LSTM`` against torch's ``nn.LSTM``,
measured in the same run (issue 9's workload: LSTM(64 -> 128) over 50 steps at batch 32,
forward + backward with random upstream gradients on the output and the final states,
every parameter gradient and the input gradient), float64 and float32.

    python -m comparisons.benchmark_recurrent [--repeats 9]

Kept apart from :mod:`comparisons.benchmark` (which is being reworked): :data:`WORKLOADS`
is a plain list, :func:`workload` builds both sides of one entry, :func:`bench_cases`
wraps them as ``comparisons.benchmark.BenchCase`` objects when that class exists, so the
main benchmark can take them with ``CASES += bench_cases()``. Timings depend on the
machine and its load; no test asserts on them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from comparisons.bridge import torch_twin
from manual.layers import GRU, LSTM

__all__ = ["WORKLOADS", "bench_cases", "main", "run", "workload"]

#: (name, layer class, input size, hidden size, steps, batch)
WORKLOADS = [
    ("lstm 64->128, 50 steps, batch 32, forward+backward", LSTM, 64, 128, 50, 32),
    ("gru 64->128, 50 steps, batch 32, forward+backward", GRU, 64, 128, 50, 32),
]


def workload(cls: type, input_size: int, hidden: int, steps: int, batch: int,
             dtype: np.dtype) -> tuple[Callable[[], object], Callable[[], object], float]:
    """``(manual_call, torch_call, flops)``: one forward and backward on each side (the
    torch side with autograd on one thread's worth of the same work: input, initial state
    and every parameter require grad). ``flops`` counts the manual matrix products."""
    rng = np.random.default_rng(0)
    layer = cls(input_size, hidden, dtype=dtype, rng=0)
    module = torch_twin(layer)
    x = rng.standard_normal((steps, batch, input_size)).astype(dtype)
    lstm = cls is LSTM
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
        outs = [out, *(hn if lstm else (hn,))]
        torch.autograd.backward(outs, gs)

    gates = {LSTM: 4, GRU: 3}[cls] * hidden
    # forward: x W_ih^T once, h W_hh^T per step; backward: three products for the weights
    # and the input, one per step for h
    macs = steps * batch * gates * (2 * input_size + 2 * hidden) + steps * batch * gates * (
        input_size + hidden)
    return manual_call, torch_call, 2.0 * macs


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(repeats: int = 9) -> pd.DataFrame:
    """Median milliseconds per call on each side, repetitions interleaved (manual, torch,
    torch, manual, ...) so that a noisy moment hits both; ratio manual / torch."""
    rows = []
    for name, cls, n_in, hidden, steps, batch in WORKLOADS:
        for dtype in (np.dtype(np.float64), np.dtype(np.float32)):
            manual_call, torch_call, flops = workload(cls, n_in, hidden, steps, batch, dtype)
            manual_call(), torch_call()  # warm up
            m, t = [], []
            for k in range(repeats):
                pair = (manual_call, torch_call) if k % 2 == 0 else (torch_call, manual_call)
                times = [_time(f) for f in pair]
                m.append(times[0] if k % 2 == 0 else times[1])
                t.append(times[1] if k % 2 == 0 else times[0])
            mm, tm = 1e3 * float(np.median(m)), 1e3 * float(np.median(t))
            rows.append({"workload": name, "dtype": dtype.name, "manual_ms": mm,
                         "torch_ms": tm, "manual_over_torch": float(np.median(
                             np.array(m) / np.array(t))),
                         "manual_gflops": flops / (mm * 1e6),
                         "torch_threads": torch.get_num_threads()})
    return pd.DataFrame(rows)


def bench_cases() -> list:
    """The workloads as ``comparisons.benchmark.BenchCase`` objects (fixed batch 32, the
    issue's; ``[]`` if that class does not exist)."""
    from comparisons import benchmark

    case_cls, work_cls = getattr(benchmark, "BenchCase", None), getattr(benchmark, "Workload",
                                                                        None)
    if case_cls is None or work_cls is None:
        return []
    cases = []
    for name, cls, n_in, hidden, steps, batch in WORKLOADS:
        def make(dtype, _batch, cls=cls, n_in=n_in, hidden=hidden, steps=steps, batch=batch):
            manual_call, torch_call, flops = workload(cls, n_in, hidden, steps, batch,
                                                      np.dtype(dtype))
            return work_cls(manual_call, torch_call, flops)

        def memory(dtype, _batch, n_in=n_in, hidden=hidden, steps=steps, batch=batch):
            return 40 * np.dtype(dtype).itemsize * steps * batch * (n_in + hidden)

        cases.append(case_cls(name, make, memory))
    return cases


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m comparisons.benchmark_recurrent",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=9)
    args = p.parse_args(argv)
    df = run(args.repeats)
    with pd.option_context("display.width", 140, "display.max_colwidth", 60):
        print(df.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
