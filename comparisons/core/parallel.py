"""Run cases in worker processes, results in the order of the cases.

:func:`run_ordered` maps a function over the cases in ``jobs`` worker processes
(:mod:`concurrent.futures`) and returns the results in the order of the cases, never in
the order they finish, so a report written from them is byte-identical to a run in one
process. Each case is computed from its own seed, and nothing is shared between cases,
so where a case runs does not change its numbers.

torch runs every worker (and a ``jobs=1`` run) on one intra-op thread: the tensors
here are tiny, and extra threads only spin-wait on a busy machine (measured ten times
slower under load).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

import torch

from comparisons.core.progress import progress
from reference.training import one_torch_thread  # torch on one thread inside a block

__all__ = ["auto_jobs", "available_cpus", "one_torch_thread", "run_ordered"]

#: with the default (automatic) number of jobs, each worker gets at least this many cases:
#: a handful of cases runs faster in this process than through a pool
MIN_CASES_PER_WORKER = 16

T = TypeVar("T")
R = TypeVar("R")


def available_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def auto_jobs(n_items: int) -> int:
    """The default number of worker processes for ``n_items`` cases: one per CPU, at
    most one per :data:`MIN_CASES_PER_WORKER` cases (1: no workers)."""
    return max(1, min(available_cpus(), n_items // MIN_CASES_PER_WORKER))


def _init_worker() -> None:
    torch.set_num_threads(1)


def _run_chunk(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    return [fn(item) for item in items]


def run_ordered(fn: Callable[[T], R], items: Sequence[T], jobs: int = 1, *, desc: str = "",
                quiet: bool = False, start_method: str | None = None) -> list[R]:
    """``[fn(item) for item in items]``, in ``jobs`` processes, with a progress bar.

    ``fn`` must be a module-level function (it is pickled to the workers) and its results
    picklable. ``start_method`` is a :mod:`multiprocessing` start method (default: the
    platform's, fork on Linux; use ``"spawn"`` once CUDA is initialised, which cannot survive
    a fork).
    """
    items = list(items)
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    results: list[Any] = [None] * len(items)
    with progress(total=len(items), desc=desc, quiet=quiet) as bar:
        if jobs == 1 or len(items) <= 1:
            with one_torch_thread():
                for i, item in enumerate(items):
                    results[i] = fn(item)
                    bar.update(1)
            return results
        # the first case here, before the fork: its lazy imports (torch pulls in sympy on
        # first use) then happen once, not once per worker
        with one_torch_thread():
            results[0] = fn(items[0])
        bar.update(1)
        # small chunks: the cases differ in cost, and the bar moves as chunks finish
        size = max(1, min(32, len(items) // (8 * jobs)))
        chunks = [(i, items[i:i + size]) for i in range(1, len(items), size)]
        if start_method is None and sys.platform == "linux":
            start_method = "fork"  # workers inherit the loaded modules: no start-up imports
        ctx = multiprocessing.get_context(start_method)
        with ProcessPoolExecutor(max_workers=min(jobs, len(chunks)), mp_context=ctx,
                                 initializer=_init_worker) as pool:
            futures = {pool.submit(_run_chunk, fn, chunk): start for start, chunk in chunks}
            for future in as_completed(futures):
                out = future.result()
                start = futures[future]
                results[start:start + len(out)] = out
                bar.update(len(out))
    return results
