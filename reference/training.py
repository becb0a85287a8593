"""The torch side of a training run: given batches, torch's optimizer and schedule.

:func:`train` replays a batch order it is handed (never drawing its own) on a torch
module with a ``torch.optim`` optimizer and an optional ``torch.optim.lr_scheduler``
schedule, and returns a :class:`Record` in torch's own terms (parameters and optimizer
state by torch's parameter names, in torch's layout). Turning it into a manual
``History`` is the bridge's job (:func:`comparisons.twins.state.history_from_record`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

__all__ = ["Record", "one_torch_thread", "train"]


@dataclass
class Record:
    """What :func:`train` did, step by step: the mini-batch loss before each update, the
    learning rate each update used, its epoch (from 1), and with ``record=True`` a copy of
    every parameter (``{torch name: array}``) and of the optimizer state
    (``{torch name: {key: array}}``) after each update."""

    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    epoch: list[int] = field(default_factory=list)
    params: list[dict[str, np.ndarray]] = field(default_factory=list)
    state: list[dict[str, dict[str, Any]]] = field(default_factory=list)


def train(module: Any, X: np.ndarray, y: np.ndarray, optimizer: torch.optim.Optimizer,
          order: list[list[np.ndarray]], scheduler: Any = None, *,
          schedule_every: str = "step", freeze: Mapping[str, Iterable[int]] | None = None,
          record: bool = False, clip_grad_norm: float | None = None,
          clip_grad_value: float | None = None) -> Record:
    """Train ``module`` (a torch module with ``loss_fn``, ``dtype`` and ``target_tensor``,
    such as :class:`reference.MLP`) on the batches of ``order`` (one list of index arrays
    per epoch).

    Per step: ``zero_grad(set_to_none=True)``, forward, the loss, ``backward``; the
    gradient of every parameter frozen at this step (``freeze``: torch parameter name ->
    steps, counted from 1) is set to ``None``; then ``optimizer.step()`` and, per step or
    per epoch, ``scheduler.step()``. A non-finite loss or parameter raises ``ValueError``
    naming the step. ``clip_grad_value``/``clip_grad_norm`` clip the gradients before the
    step with torch's own ``torch.nn.utils.clip_grad_value_``/``clip_grad_norm_`` (by value
    first).
    """
    named = dict(module.named_parameters())
    unknown = [k for k in (freeze or {}) if k not in named]
    if unknown:
        raise ValueError(f"reference train: freeze names unknown parameter(s) "
                         f"{', '.join(map(repr, unknown))}; the parameters: {', '.join(named)}")
    frozen = {k: frozenset(int(t) for t in steps) for k, steps in (freeze or {}).items()}
    with one_torch_thread():
        return _train(module, named, X, y, optimizer, order, scheduler, schedule_every, frozen,
                      record, clip_grad_norm, clip_grad_value)


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch on one intra-op thread, then restore the setting. These tensors are tiny:
    a second thread only adds synchronisation, and on a busy machine its spin-waits made
    runs ten times slower (measured)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _copy(value: Any) -> Any:
    return value.detach().cpu().numpy().copy() if isinstance(value, torch.Tensor) else value


def _train(module, named, X, y, optimizer, order, scheduler, schedule_every, frozen,
           record, clip_grad_norm=None, clip_grad_value=None) -> Record:
    device = next(module.parameters()).device  # where the module lives (cpu or cuda)
    Xt = torch.as_tensor(np.asarray(X), dtype=module.dtype, device=device)
    yt = module.target_tensor(np.asarray(y))
    by_param = {id(p): k for k, p in named.items()}
    out = Record()
    t = 0
    for e, batches in enumerate(order, start=1):
        for b, idx in enumerate(batches, start=1):
            t += 1
            rows = torch.from_numpy(np.asarray(idx, dtype=np.int64)).to(device)
            optimizer.zero_grad(set_to_none=True)
            J = module.loss_fn(module(Xt[rows]), yt[rows])
            J.backward()
            loss = J.item()
            if not np.isfinite(loss):
                raise ValueError(f"reference train: the loss is {loss} at step {t} (epoch {e}, "
                                 f"batch {b}); training stopped")
            for key, steps in frozen.items():
                if t in steps:
                    named[key].grad = None  # torch skips a parameter without .grad
            params = [p for group in optimizer.param_groups for p in group["params"]]
            if clip_grad_value is not None:
                torch.nn.utils.clip_grad_value_(params, clip_grad_value)
            if clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
            out.lr.append(float(optimizer.param_groups[0]["lr"]))
            optimizer.step()
            for key, p in named.items():
                if not torch.isfinite(p).all():
                    raise ValueError(f"reference train: parameter {key} became non-finite in "
                                     f"the update of step {t} (epoch {e}, batch {b})")
            out.loss.append(loss)
            out.epoch.append(e)
            if record:
                out.params.append({k: _copy(p) for k, p in named.items()})
                out.state.append({by_param[id(p)]: {k: _copy(v) for k, v in st.items()}
                                  for p, st in optimizer.state.items() if st})
            if scheduler is not None and schedule_every == "step":
                scheduler.step()
        if scheduler is not None and schedule_every == "epoch":
            scheduler.step()
    return out
