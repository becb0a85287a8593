"""Speed benchmark: manual NumPy against torch, measured in the same run.

    python -m comparisons.benchmark [--out reports] [--repeats 7] [--quick]

For each workload it times one full training-step gradient (forward, loss, backward)
of :class:`manual.MLP` and of its torch twin (``comparisons.bridge.MLPTwin``, autograd), and single
activations' forward+backward on a large array, and writes ``benchmark.csv``:
median milliseconds per call on each side and their ratio (manual / torch). Timings
vary between machines and runs, so they live in their own file, never in the
deterministic reports, and no test asserts on them.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import reference
from comparisons.bridge import MLPTwin
from manual import MLP, activations
from manual._cli import HelpFormatter, exit_codes, fail, out_dir_problem, plain

__all__ = ["main", "run_benchmark"]

#: (name, sizes, hidden activation, output activation, loss, batch)
NETWORKS = [
    ("mlp-relu-ce", [64, 256, 256, 10], "relu", "identity", "cross_entropy", 256),
    ("mlp-sigmoid-mse", [32, 128, 128, 8], "sigmoid", "identity", "mse", 256),
    ("classic321", [3, 2, 1], "sigmoid", "sigmoid", "sse", 4),
]
ACTIVATIONS = ["sigmoid", "tanh", "relu"]
ELEMENTS = 256 * 512  # one batch of a wide layer; far larger arrays time page faults, not math


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    number = max(1, int(0.05 / max(timeit.timeit(fn, number=1), 1e-7)))  # ~50 ms per sample
    times = timeit.repeat(fn, number=number, repeat=repeats)
    return 1e3 * float(np.median(times)) / number


def _network_rows(dtype: np.dtype, repeats: int, scale: float) -> list[dict]:
    rows = []
    rng = np.random.default_rng(0)
    for name, sizes, act, out, loss, batch in NETWORKS:
        batch = max(2, int(batch * scale))
        net = MLP(sizes, act, out, loss, seed=0, dtype=dtype)
        X = rng.standard_normal((batch, sizes[0])).astype(dtype)
        if loss == "cross_entropy":
            y = rng.integers(0, sizes[-1], batch)
        else:
            y = rng.uniform(0, 1, (batch, sizes[-1])).astype(dtype)
        tnet = MLPTwin.from_manual(net)
        Xt, yt = torch.from_numpy(X), tnet.target_tensor(y)

        def manual_step(net=net, X=X, y=y):
            net.gradients(X, y)

        def torch_step(tnet=tnet, Xt=Xt, yt=yt):
            tnet.zero_grad(set_to_none=True)
            tnet.loss_fn(tnet(Xt), yt).backward()

        rows.append({"workload": f"{name} gradients, batch {batch}", "dtype": dtype.name,
                     "manual_ms": _median_ms(manual_step, repeats),
                     "torch_ms": _median_ms(torch_step, repeats)})
    return rows


def _activation_rows(dtype: np.dtype, repeats: int, scale: float) -> list[dict]:
    rows = []
    n = max(10, int(ELEMENTS * scale))
    z = np.random.default_rng(1).standard_normal(n).astype(dtype)
    g = np.random.default_rng(2).standard_normal(n).astype(dtype)
    zt, gt = torch.from_numpy(z), torch.from_numpy(g)
    for name in ACTIVATIONS:
        act, fn = activations.get(name), reference.activations.get(name)

        def manual_call(act=act):
            act.forward(z)
            act.backward(z, g)

        def torch_call(fn=fn):
            x = zt.detach().requires_grad_()
            torch.autograd.grad(fn(x), x, gt)

        rows.append({"workload": f"{name} forward+backward, {n} elements", "dtype": dtype.name,
                     "manual_ms": _median_ms(manual_call, repeats),
                     "torch_ms": _median_ms(torch_call, repeats)})
    return rows


# --------------------------------------------------------------------------------------
# layers (issue 8): Conv2d and MaxPool2d forward+backward, manual vs torch in the same run
# --------------------------------------------------------------------------------------
#: (workload, manual.layers class, torch.nn class, constructor arguments); the input is a
#: batch of 64 x 16 x 32 x 32, the upstream gradient a random array of the output's shape
LAYER_WORKLOADS = [
    ("Conv2d(16->32, 3x3, padding=1)", "Conv2d",
     {"in_channels": 16, "out_channels": 32, "kernel_size": 3, "padding": 1}),
    ("MaxPool2d(2)", "MaxPool2d", {"kernel_size": 2}),
]
LAYER_BATCH = (64, 16, 32, 32)


def _layer_rows(dtype: np.dtype, repeats: int, scale: float) -> list[dict]:
    """Forward + backward (input and parameter gradients) of each layer workload."""
    from comparisons.bridge import torch_twin
    from manual import layers

    rows = []
    batch = (max(1, int(LAYER_BATCH[0] * scale)),) + LAYER_BATCH[1:]
    x = np.random.default_rng(3).standard_normal(batch).astype(dtype)
    for label, name, config in LAYER_WORKLOADS:
        cls = getattr(layers, name)
        extra = {"dtype": dtype, "rng": 0} if "rng" in cls.__init__.__code__.co_varnames else {}
        layer = cls(**config, **extra)
        module = torch_twin(layer, dtype)
        g = np.random.default_rng(4).standard_normal(layer.forward(x).shape).astype(dtype)
        xt, gt = torch.from_numpy(x), torch.from_numpy(g)
        params = list(module.parameters())

        def manual_call(layer=layer, g=g):
            layer.forward(x)
            layer.backward(g)

        def torch_call(module=module, params=params, xt=xt, gt=gt):
            xi = xt.detach().requires_grad_()
            torch.autograd.grad(module(xi), [xi, *params], gt)

        rows.append({"workload": f"{label} forward+backward, batch {'x'.join(map(str, batch))}",
                     "dtype": dtype.name, "manual_ms": _median_ms(manual_call, repeats),
                     "torch_ms": _median_ms(torch_call, repeats)})
    return rows


# --------------------------------------------------------------------------------------
# attention (issue 9): the case lives in comparisons/benchmark_attention.py
# --------------------------------------------------------------------------------------
def _attention_rows(dtype: np.dtype, repeats: int, scale: float) -> list[dict]:
    from comparisons import benchmark_attention

    manual_call, torch_call = benchmark_attention.make(dtype, max(16, int(256 * scale)))
    return [{"workload": benchmark_attention.NAME, "dtype": dtype.name,
             "manual_ms": _median_ms(manual_call, repeats),
             "torch_ms": _median_ms(torch_call, repeats)}]


def run_benchmark(repeats: int = 7, scale: float = 1.0) -> pd.DataFrame:
    """Time every workload in float32 and float64; ``scale`` shrinks batch and array sizes."""
    rows = []
    for dtype in (np.dtype(np.float64), np.dtype(np.float32)):
        rows += _network_rows(dtype, repeats, scale) + _activation_rows(dtype, repeats, scale)
        rows += _layer_rows(dtype, repeats, scale)
        rows += _attention_rows(dtype, repeats, scale)
    df = pd.DataFrame(rows)
    df["manual_over_torch"] = df["manual_ms"] / df["torch_ms"]
    df["torch_threads"] = torch.get_num_threads()
    df["cpus"] = os.cpu_count()
    df["numpy"], df["torch"] = np.__version__, torch.__version__.split("+")[0]
    df["machine"] = platform.machine()
    return df


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m comparisons.benchmark",
                                description=plain(__doc__), formatter_class=HelpFormatter,
                                epilog=exit_codes(passed="the benchmark ran", failed=None,
                                                  bad="an unknown flag, an --out that is a "
                                                      "file or not writable"))
    p.add_argument("--out", type=Path, default=Path("reports"), metavar="DIR",
                   help="folder for benchmark.csv")
    p.add_argument("--repeats", type=int, default=7,
                   help="timing samples per workload (the median is reported)")
    p.add_argument("--quick", action="store_true", help="small sizes, 3 repeats (smoke test)")
    args = p.parse_args(argv)
    problem = out_dir_problem(args.out)
    if problem:
        fail(p.prog, problem)
    df = run_benchmark(repeats=3 if args.quick else args.repeats,
                       scale=0.01 if args.quick else 1.0)
    args.out.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / "benchmark.csv", index=False, float_format="%.4g")
    with pd.option_context("display.width", 120, "display.max_colwidth", 60):
        print(df[["workload", "dtype", "manual_ms", "torch_ms", "manual_over_torch"]]
              .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {args.out / 'benchmark.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
