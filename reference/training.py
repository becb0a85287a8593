"""The torch side of a training run: the same batches, torch's optimizer and schedule.

:func:`train` replays a batch order made by :func:`manual.training.batch_order` (never
drawing its own) on a :class:`reference.MLP`, with a ``torch.optim`` optimizer and an
optional ``torch.optim.lr_scheduler`` schedule, and returns a
:class:`manual.training.History` in the manual names and layout, so that the two runs
compare step by step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from manual.training import History, flat_state, frozen_at
from reference.optimizers import manual_named_parameters, state_as_manual

__all__ = ["train"]


def train(tnet: Any, X: np.ndarray, y: np.ndarray, optimizer: torch.optim.Optimizer,
          order: list[list[np.ndarray]], scheduler: Any = None, *,
          schedule_every: str = "step", freeze: Mapping[str, Iterable[int]] | None = None,
          record: bool = False, clip_grad_norm: float | None = None,
          clip_grad_value: float | None = None) -> History:
    """Train ``tnet`` on the batches of ``order`` (one list of index arrays per epoch).

    Per step: ``zero_grad(set_to_none=True)``, forward, the loss, ``backward``; the
    gradient of every parameter frozen at this step is set to ``None``; then
    ``optimizer.step()`` and, per step or per epoch, ``scheduler.step()``. A non-finite
    loss or parameter raises ``ValueError`` naming the step, as in :func:`manual.train`.
    ``clip_grad_value``/``clip_grad_norm`` clip the gradients before the step with torch's
    own ``torch.nn.utils.clip_grad_value_``/``clip_grad_norm_`` (by value first).
    """
    with _one_thread():
        return _train(tnet, X, y, optimizer, order, scheduler, schedule_every, freeze, record,
                      clip_grad_norm, clip_grad_value)


@contextmanager
def _one_thread():
    """Run torch on one intra-op thread, then restore the setting. These tensors are tiny:
    a second thread only adds synchronisation, and on a busy machine its spin-waits made
    runs ten times slower (measured)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _train(tnet, X, y, optimizer, order, scheduler, schedule_every, freeze, record,
           clip_grad_norm=None, clip_grad_value=None) -> History:
    named = manual_named_parameters(tnet)
    frozen = frozen_at(freeze, named)
    device = getattr(tnet, "device", torch.device("cpu"))
    Xt = torch.as_tensor(np.asarray(X), dtype=tnet.dtype, device=device)
    yt = tnet.target_tensor(np.asarray(y))
    losses, lrs, epoch_of = [], [], []
    history = History(np.empty(0), np.empty(0), np.empty(0, dtype=int), order)
    t = 0
    for e, batches in enumerate(order, start=1):
        for b, idx in enumerate(batches, start=1):
            t += 1
            rows = torch.from_numpy(np.asarray(idx, dtype=np.int64)).to(device)
            optimizer.zero_grad(set_to_none=True)
            J = tnet.loss_fn(tnet(Xt[rows]), yt[rows])
            J.backward()
            loss = J.item()
            if not np.isfinite(loss):
                raise ValueError(f"reference train: the loss is {loss} at step {t} (epoch {e}, "
                                 f"batch {b}); training stopped")
            for key, steps in frozen.items():
                if t in steps:
                    named[key][0].grad = None  # torch skips a parameter without .grad
            params = [p for group in optimizer.param_groups for p in group["params"]]
            if clip_grad_value is not None:
                torch.nn.utils.clip_grad_value_(params, clip_grad_value)
            if clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
            lrs.append(float(optimizer.param_groups[0]["lr"]))
            optimizer.step()
            # the parameters as NumPy copies (kept when recording): checking those is one
            # cheap NumPy call per parameter instead of two torch dispatches
            params = {k: (p.detach().cpu().numpy().T if tr else p.detach().cpu().numpy())
                      .copy() for k, (p, tr) in named.items()}
            for key, p in params.items():
                if not np.isfinite(p).all():
                    raise ValueError(f"reference train: parameter {key} became non-finite in "
                                     f"the update of step {t} (epoch {e}, batch {b})")
            losses.append(loss)
            epoch_of.append(e)
            if record:
                history.params.append(params)
                history.state.append(flat_state(state_as_manual(optimizer, named)))
            if scheduler is not None and schedule_every == "step":
                scheduler.step()
        if scheduler is not None and schedule_every == "epoch":
            scheduler.step()
    history.loss = np.array(losses, dtype=np.float64)
    history.lr = np.array(lrs, dtype=np.float64)
    history.epoch = np.array(epoch_of, dtype=int)
    return history
