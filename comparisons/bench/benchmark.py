"""Speed benchmark: manual NumPy against torch on the CPU, measured in the same run.

    python -m comparisons.bench.benchmark [--out reports] [--repeats 9] [--batch 256]
                                          [--threads N] [--quick] [--quiet]

First it measures this machine's matrix-product throughput (GFLOP/s of a large square
product, NumPy and torch, float64 and float32): the physical limit a step made of
matrix products can approach. Then, for each case of :func:`bench_cases`, it times the manual
workload and its torch twin in *interleaved* repetitions (manual, torch, torch, manual,
...: both see the same machine state, so a noisy moment affects both sides) and reports,
per case and dtype:

- ``manual_ms``, ``torch_ms``: medians of the per-call times;
- ``manual_over_torch``: the median of the per-repetition ratios (below 1: manual is
  faster), with ``ratio_q25``/``ratio_q75``, the spread over the repetitions;
- ``manual_gflops`` and ``manual_peak_fraction``: the manual step's matrix-product
  arithmetic per second, and its fraction of NumPy's measured peak in that dtype.

The table is printed and written to ``benchmark.csv``. Timings vary between machines and
runs (and on a busy machine), so they live in their own file, never in the deterministic
reports, and no test asserts on them.

Adding a case: a network-level case is one more :class:`BenchCase` in :data:`CASES` (a
name, a ``make`` that builds both sides for a dtype and a batch size, and a ``memory``
estimate; see :func:`_mlp_step`); a layer's workload lives in its record
(``LayerInfo.benchmarks``, :mod:`comparisons.cases.workloads`) and joins :func:`bench_cases`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import reference
from comparisons.cases import catalog
from comparisons.cases.info import DTYPES, BenchCase, LayerInfo, Workload, workloads_of
from manual.cli import HelpFormatter, exit_codes, fail, out_dir_problem, plain
from comparisons.core.progress import add_quiet_argument, progress
from comparisons.run.bridge import MLPTwin, torch_twin
from manual import MLP, activations, optimizers

__all__ = ["CASES", "BenchCase", "Workload", "available_memory", "bench_cases", "main",
           "matmul_peak", "run_benchmark"]



# --------------------------------------------------------------------------------------
# the cases
# --------------------------------------------------------------------------------------
def _mlp_flops(sizes: list[int], batch: int) -> float:
    """Matrix-product FLOPs of one training step: forward ``X W`` and backward ``X^T delta``
    for every layer, ``delta W^T`` for every layer but the first (its input is data)."""
    macs = [n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    return 2.0 * batch * (2 * sum(macs) + sum(macs[1:]))


def _mlp_memory(sizes: list[int]) -> Callable[[np.dtype, int], float]:
    def memory(dtype: np.dtype, batch: int) -> float:
        params = sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))
        acts = batch * sum(sizes)
        # both sides: parameters, gradients, optimizer temporaries; activations cached
        return 2 * np.dtype(dtype).itemsize * (4 * params + 6 * acts)
    return memory


def _sgd_steps(net: Any, X: np.ndarray, y: np.ndarray, tnet: Any, yt: torch.Tensor,
               loss_fn: Callable[..., torch.Tensor], flops: float = 0.0) -> Workload:
    """One SGD step (lr 1e-3) of the manual ``net`` on ``(X, y)`` and of its torch twin
    ``tnet`` with ``loss_fn`` on the same data, as a :class:`Workload`."""
    Xt = torch.from_numpy(X)
    opt = optimizers.get("sgd", net.params, lr=1e-3)
    topt = torch.optim.SGD(tnet.parameters(), lr=1e-3)

    def manual_step() -> None:
        _, grads = net.gradients(X, y)
        opt.step(grads)

    def torch_step() -> None:
        topt.zero_grad(set_to_none=True)
        loss_fn(tnet(Xt), yt).backward()
        topt.step()

    return Workload(manual_step, torch_step, flops)


def _mlp_step(sizes: list[int], act: str, out: str, loss: str, batch_factor: float = 1.0
              ) -> Callable[[np.dtype, int], Workload]:
    """One SGD training step (forward, loss, backward, update) of :class:`manual.MLP` and
    of its torch twin (``comparisons.run.bridge.MLPTwin``, autograd, ``torch.optim.SGD``)."""

    def make(dtype: np.dtype, batch: int) -> Workload:
        batch = max(2, int(batch * batch_factor))
        rng = np.random.default_rng(0)
        net = MLP(sizes, act, out, loss, seed=0, dtype=dtype)
        X = rng.standard_normal((batch, sizes[0])).astype(dtype)
        if loss == "cross_entropy":
            y = rng.integers(0, sizes[-1], batch)
        else:
            y = rng.uniform(0, 1, (batch, sizes[-1])).astype(dtype)
        tnet = MLPTwin.from_manual(net)
        return _sgd_steps(net, X, y, tnet, tnet.target_tensor(y), tnet.loss_fn,
                          _mlp_flops(sizes, batch))

    return make


def _activation(name: str, elements: int = 256 * 512) -> BenchCase:
    """forward + backward of one activation on ``elements`` values (scaled like the batch:
    one batch of a 512-wide layer at batch 256)."""

    def make(dtype: np.dtype, batch: int) -> Workload:
        n = max(16, elements * batch // 256)
        z = np.random.default_rng(1).standard_normal(n).astype(dtype)
        g = np.random.default_rng(2).standard_normal(n).astype(dtype)
        zt, gt = torch.from_numpy(z), torch.from_numpy(g)
        act, fn = activations.get(name), reference.activations.get(name)

        def manual_call() -> None:
            act.forward(z)
            act.backward(z, g)

        def torch_call() -> None:
            x = zt.detach().requires_grad_()
            torch.autograd.grad(fn(x), x, gt)

        return Workload(manual_call, torch_call)

    return BenchCase(f"{name} forward+backward, {elements} elements at --batch 256", make,
                     lambda dtype, batch: 10 * np.dtype(dtype).itemsize * elements * batch / 256)


def _cnn_step() -> BenchCase:
    """One SGD training step of the small CNN on digits (``model_trajectories.
    cnn_digits``: conv, batch norm, ReLU, max pool, conv, adaptive pool, dropout, linear;
    cross-entropy) against its ``torch.nn.Sequential`` twin and ``torch.optim.SGD``;
    ``--batch`` digits per step."""

    def make(dtype: np.dtype, batch: int) -> Workload:
        from comparisons.run.model_trajectories import cnn_digits

        problem = cnn_digits(np.dtype(dtype))
        net = problem.net
        X, y = problem.X[:batch], problem.y[:batch]
        return _sgd_steps(net, X, y, torch_twin(net),
                          torch.from_numpy(np.asarray(y, dtype=np.int64)),
                          torch.nn.functional.cross_entropy)

    return BenchCase("small CNN on digits (8x8), SGD step, --batch images", make,
                     lambda dtype, batch: 200 * np.dtype(dtype).itemsize * 8 * 64 * batch)


MLP_SIZES = [784, 256, 256, 10]

#: the network-level cases; the layers' workloads come from their records (bench_cases)
CASES: list[BenchCase] = [
    BenchCase("mlp 784-256-256-10 relu cross_entropy, SGD step", _mlp_step(
        MLP_SIZES, "relu", "identity", "cross_entropy"), _mlp_memory(MLP_SIZES)),
    BenchCase("mlp 32-128-128-8 sigmoid mse, SGD step", _mlp_step(
        [32, 128, 128, 8], "sigmoid", "identity", "mse"), _mlp_memory([32, 128, 128, 8])),
    BenchCase("classic 3-2-1 sigmoid sse, SGD step, batch 4", _mlp_step(
        [3, 2, 1], "sigmoid", "sigmoid", "sse", batch_factor=4 / 256),
        _mlp_memory([3, 2, 1])),
    *[_activation(name) for name in ("sigmoid", "tanh", "relu")],
    _cnn_step(),
]


def bench_cases(infos: list[LayerInfo] | None = None) -> list[BenchCase]:
    """The benchmark table: :data:`CASES`, then every layer record's workloads (``infos``;
    by default :data:`comparisons.cases.catalog.LAYER_INFOS`, read now), each handed
    :func:`comparisons.run.bridge.torch_twin` to build its torch side."""
    infos = catalog.LAYER_INFOS if infos is None else infos
    return CASES + [w.bench_case(torch_twin) for w in workloads_of(infos)]


# --------------------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------------------
def available_memory() -> float:
    """Bytes of memory available to a new allocation (MemAvailable; inf if unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


#: the clocks: wall time, or the CPU time of this thread (with one thread per library all
#: the work runs on it, and time spent waiting for a busy machine's cores is not counted)
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.thread_time}
_clock = CLOCKS["wall"]


def _calls_per_sample(fn: Callable[[], object], target_s: float = 0.02) -> int:
    fn()  # warm up: first-call allocations, lazy initialisation
    start = _clock()
    fn()
    once = _clock() - start
    return max(1, int(target_s / max(once, 1e-6)))


def _sample(fn: Callable[[], object], number: int) -> float:
    start = _clock()
    for _ in range(number):
        fn()
    return (_clock() - start) / number


def interleaved(a: Callable[[], object], b: Callable[[], object], repeats: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Per-call seconds of ``a`` and ``b``, ``repeats`` samples each, taken alternately
    (a b, b a, a b, ...) so that both sides see the same machine state."""
    na, nb = _calls_per_sample(a), _calls_per_sample(b)
    ta, tb = np.empty(repeats), np.empty(repeats)
    for r in range(repeats):
        if r % 2 == 0:
            ta[r], tb[r] = _sample(a, na), _sample(b, nb)
        else:
            tb[r], ta[r] = _sample(b, nb), _sample(a, na)
    return ta, tb


def matmul_peak(dtype: np.dtype, n: int, repeats: int) -> tuple[float, float]:
    """GFLOP/s of an ``n x n`` matrix product, NumPy and torch (medians of interleaved
    repetitions): the throughput a step made of matrix products can approach."""
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype)
    At, Bt = torch.from_numpy(A), torch.from_numpy(B)
    out, out_t = np.empty((n, n), dtype=dtype), torch.empty((n, n), dtype=At.dtype)
    ta, tb = interleaved(lambda: np.matmul(A, B, out=out), lambda: torch.mm(At, Bt, out=out_t),
                         repeats)
    flops = 2.0 * n ** 3
    return flops / np.median(ta) / 1e9, flops / np.median(tb) / 1e9


def check_memory(batch: int, matmul_n: int, cases: list[BenchCase] | None = None) -> None:
    """``MemoryError`` (before any work) when the largest case would not fit in memory."""
    need = max([3 * 2 * 8 * matmul_n ** 2]
               + [c.memory(np.dtype(d), batch) for c in cases or bench_cases()
                  for d in c.dtypes])
    free = available_memory()
    if need > free:
        raise MemoryError(f"the benchmark at --batch {batch} needs about {need / 2**30:.1f} GiB "
                          f"but only {free / 2**30:.1f} GiB of memory is available; use a "
                          f"smaller --batch")


def run_benchmark(repeats: int = 9, batch: int = 256, matmul_n: int = 1024,
                  cases: list[BenchCase] | None = None, quiet: bool = True,
                  clock: str = "wall") -> pd.DataFrame:
    """Measure the matrix-product peak, then every case in every dtype (see the module
    docstring for the columns). ``clock`` is ``"wall"`` or ``"cpu"`` (:data:`CLOCKS`)."""
    global _clock
    cases = bench_cases() if cases is None else cases
    _clock = CLOCKS[clock]
    check_memory(batch, matmul_n, cases)
    rows = []
    jobs = [(c, d) for c in cases for d in c.dtypes]
    with progress(total=len(jobs) + len(DTYPES), desc="benchmark", quiet=quiet) as bar:
        peaks = {}
        for d in DTYPES:
            peaks[d] = matmul_peak(np.dtype(d), matmul_n, repeats)
            bar.update(1)
        for case, d in jobs:
            work = case.make(np.dtype(d), batch)
            tm, tt = interleaved(work.manual, work.torch, repeats)
            ratios = tm / tt
            numpy_peak, torch_peak = peaks[d]
            gflops = work.flops / np.median(tm) / 1e9 if work.flops else np.nan
            rows.append({
                "case": case.name, "dtype": d, "batch": batch,
                "manual_ms": 1e3 * np.median(tm), "torch_ms": 1e3 * np.median(tt),
                "manual_over_torch": np.median(ratios),
                "ratio_q25": np.quantile(ratios, 0.25), "ratio_q75": np.quantile(ratios, 0.75),
                "manual_gflops": gflops, "numpy_peak_gflops": numpy_peak,
                "torch_peak_gflops": torch_peak, "manual_peak_fraction": gflops / numpy_peak,
                "repeats": repeats})
            bar.update(1)
    df = pd.DataFrame(rows)
    df["clock"] = clock
    df["torch_threads"] = torch.get_num_threads()
    df["cpus"] = os.cpu_count()
    df["numpy"], df["torch"] = np.__version__, torch.__version__.split("+")[0]
    df["machine"] = platform.machine()
    return df


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m comparisons.bench.benchmark",
                                description=plain(__doc__), formatter_class=HelpFormatter,
                                epilog=exit_codes(passed="the benchmark ran", failed=None,
                                                  bad="an unknown flag, a bad number, an --out "
                                                      "that is a file or not writable, a size "
                                                      "that does not fit in memory"))
    p.add_argument("--out", type=Path, default=Path("reports"), metavar="DIR",
                   help="folder for benchmark.csv")
    p.add_argument("--repeats", type=_positive_int, default=9, metavar="N",
                   help="interleaved timing samples per side and case (the median is reported)")
    p.add_argument("--batch", type=_positive_int, default=256, metavar="N",
                   help="batch size of the network cases; the other cases scale with it")
    p.add_argument("--only", default="", metavar="SUBSTRING",
                   help="run only the cases whose name contains this substring")
    p.add_argument("--quick", action="store_true",
                   help="a smoke test: batch 4, 3 repeats, a small matrix product")
    p.add_argument("--threads", type=int, default=0, metavar="N",
                   help="threads for NumPy's BLAS and for torch alike (needs threadpoolctl); "
                        "with 1, times are this thread's CPU time, which a busy machine "
                        "does not inflate; 0 keeps each library's default, timed by the "
                        "wall clock")
    add_quiet_argument(p)
    return p


@contextmanager
def _threads(n: int) -> Iterator[None]:
    """NumPy's BLAS and torch on ``n`` threads each inside the block (0: unchanged)."""
    if n == 0:
        yield
        return
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


def _blas_threads() -> int | float:
    """Threads of NumPy's BLAS (NaN without threadpoolctl to ask)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return np.nan
    return max((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"),
               default=np.nan)


COLUMNS = ["case", "dtype", "manual_ms", "torch_ms", "manual_over_torch", "ratio_q25",
           "ratio_q75", "manual_peak_fraction"]


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    repeats, batch, n = ((3, 4, 128) if args.quick else (args.repeats, args.batch, 1024))
    problem = out_dir_problem(args.out)
    if problem:
        fail(parser.prog, problem)
    if args.threads < 0:
        parser.error(f"--threads must be >= 0, got {args.threads}")
    if args.threads and importlib.util.find_spec("threadpoolctl") is None:
        parser.error("--threads needs threadpoolctl to set NumPy's BLAS threads "
                     "(pip install threadpoolctl)")
    table = bench_cases()
    cases = [c for c in table if args.only in c.name]
    if not cases:
        parser.error(f"no benchmark case contains {args.only!r}; the cases: "
                     f"{'; '.join(c.name for c in table)}")
    try:
        check_memory(batch, n, cases)
    except MemoryError as err:
        parser.error(str(err))
    clock = "cpu" if args.threads == 1 else "wall"
    with _threads(args.threads):
        df = run_benchmark(repeats=repeats, batch=batch, matmul_n=n, cases=cases,
                           quiet=args.quiet, clock=clock)
        df["blas_threads"] = _blas_threads()
    args.out.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / "benchmark.csv", index=False, float_format="%.4g")
    peaks = df.drop_duplicates("dtype")[["dtype", "numpy_peak_gflops", "torch_peak_gflops"]]
    print(f"matrix-product peak ({n}x{n} @ {n}x{n}), GFLOP/s: " + "; ".join(
        f"{r.dtype} NumPy {r.numpy_peak_gflops:.1f}, torch {r.torch_peak_gflops:.1f}"
        for r in peaks.itertuples()))
    with pd.option_context("display.width", 160, "display.max_colwidth", 56):
        print(df[COLUMNS].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"{clock} clock. manual_over_torch: median of {repeats} interleaved ratios "
          f"(q25-q75 beside it); "
          f"below 1 the manual step is faster. manual_peak_fraction: the manual step's "
          f"matrix-product GFLOP/s over NumPy's peak. wrote {args.out / 'benchmark.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
