"""The default report's selection: every family once in each dtype, the rest on request.

``backprop-compare`` runs, by default, a *covering* subset of the case table: the first case
(in table order) of each family it has not yet seen, where a case's families are the keys
:func:`coverage` gives it — each activation, loss and architecture of the gradient matrix in
each dtype; each layer in each dtype, mode and input kind; each layer of the networks; each
optimizer, schedule and data set of the training runs. The torch-free oracles run on every
selected case, so every oracle meets every family.

``backprop-compare --exhaustive`` runs every case, and ``pytest`` every case that is not
marked ``exhaustive``: the selection only makes the everyday report fast (it is not a
different test).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, TypeVar

__all__ = ["core", "coverage"]

T = TypeVar("T")


def coverage(case: Any) -> frozenset[Hashable]:
    """The families ``case`` represents (any case of the table, told apart by its fields)."""
    dtype = getattr(case, "dtype", None)
    if hasattr(case, "optimizer"):  # a training run: registry or whole-model trajectory
        if hasattr(case, "model"):  # whole models are slow: each once, and each dtype once
            return frozenset({("model", case.model), ("model-dtype", dtype)})
        keys = {("optimizer", case.optimizer, dtype), ("dataset", case.dataset)}
        if case.scheduler:
            keys.add(("scheduler", case.scheduler, case.schedule_every))
        if case.freeze:
            keys.add(("frozen", case.optimizer))
        return frozenset(keys)
    if hasattr(case, "layers"):  # a Sequential network with a loss
        return frozenset({("network-layer", name, dtype) for name, _ in case.layers}
                         | {("network-loss", case.loss, dtype), ("network-mode", case.mode)})
    if hasattr(case, "layer"):  # a single layer (linear, conv, norm, recurrent, attention)
        kind = getattr(case, "kind", "normal")
        return frozenset({("layer", case.layer, dtype), ("layer-mode", case.layer, case.mode),
                          ("layer-kind", case.layer, kind)})
    if hasattr(case, "arch"):  # the activation x loss matrix and the classic networks
        keys = {("activation", case.activation, dtype), ("loss", case.loss, dtype),
                ("arch", case.arch, dtype)}
        if case.output_activation not in (None, case.activation):
            keys.add(("output-activation", case.output_activation, dtype))
        return frozenset(keys)
    return frozenset({("case", case.id)})  # anything else: every case is its own family


def core(cases: Iterable[T]) -> list[T]:
    """The first case of each family not yet covered, in table order (deterministic)."""
    seen: set[Hashable] = set()
    chosen = []
    for case in cases:
        keys = coverage(case)
        if not keys <= seen:
            chosen.append(case)
            seen |= keys
    return chosen
