r"""Mini-batch training: forward, backward and one optimizer step per batch.

For each step :math:`t = 1, 2, \dots` with mini-batch :math:`B_t`:

.. math::
    J_t = \mathcal{L}\big(\hat y(X_{B_t}; \theta_{t-1}),\, y_{B_t}\big), \qquad
    g_t = \nabla_\theta J_t, \qquad \theta_t = \text{update}(\theta_{t-1}, g_t)

then the schedule, if any, sets the learning rate for step :math:`t + 1` (every step,
or at the end of every epoch). The batches come from :func:`batch_order`, drawn once
by a seeded generator; :attr:`History.order` records them, so another implementation (the
torch oracle in :mod:`reference.training`) can replay the very same sequence rather than
drawing its own.

>>> import numpy as np
>>> from manual import MLP, optimizers, train
>>> from manual.datasets import xor
>>> X, labels = xor(n=64, seed=0)
>>> net = MLP([2, 8, 2], activation="tanh", loss="cross_entropy", seed=0)
>>> opt = optimizers.get("adam", net.params, lr=0.05)
>>> history = train(net, X, labels, opt, epochs=20, batch_size=16, seed=0)
>>> len(history.loss), bool(history.loss[-10:].mean() < history.loss[:10].mean())
(80, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from manual._checks import check_choice
from manual.clipping import clip_grad_norm_, clip_grad_value_

__all__ = ["History", "batch_order", "flat_state", "train"]


def _check_positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"train: {key} must be a positive integer, got {value!r}")
    return int(value)


def batch_order(n: int, batch_size: int, epochs: int, shuffle: bool = True,
                seed: int = 0) -> list[list[np.ndarray]]:
    """The sample indices of every mini-batch: one list per epoch, one int64 array per
    batch.

    Each epoch is a fresh permutation of ``range(n)`` drawn from
    ``np.random.default_rng(seed)`` (or ``range(n)`` in order, without ``shuffle``), cut
    into batches of ``batch_size``; the last batch of an epoch holds the remainder, as
    torch's ``DataLoader(drop_last=False)`` does.
    """
    n = _check_positive_int("the number of samples", n)
    batch_size = _check_positive_int("batch_size", batch_size)
    epochs = _check_positive_int("epochs", epochs)
    rng = np.random.default_rng(seed)
    order = []
    for _ in range(epochs):
        perm = rng.permutation(n) if shuffle else np.arange(n)
        order.append([perm[i:i + batch_size].astype(np.int64) for i in range(0, n, batch_size)])
    return order


def flat_state(state: Mapping[str, Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """An optimizer's state as ``{"W1.exp_avg": copy, "W1.step": 0-d array, ...}`` (the
    form :class:`History` records; ``None`` buffers are left out)."""
    return {f"{name}.{key}": np.array(value, copy=True)
            for name, entries in state.items() for key, value in entries.items()
            if value is not None}


@dataclass
class History:
    """What :func:`train` did, step by step (``t = 1 .. steps``).

    Attributes
    ----------
    loss
        (steps,) float64: the mini-batch loss :math:`J_t` at :math:`\\theta_{t-1}`, before
        update ``t``.
    lr
        (steps,) float64: the learning rate update ``t`` used.
    epoch
        (steps,) int: the epoch (from 1) of each step.
    order
        The batches, as returned by :func:`batch_order`.
    params
        With ``record=True``: one dict per step of copies of the parameters after update
        ``t``.
    state
        With ``record=True``: one :func:`flat_state` of the optimizer per step, after
        update ``t``.
    """

    loss: np.ndarray
    lr: np.ndarray
    epoch: np.ndarray
    order: list[list[np.ndarray]]
    params: list[dict[str, np.ndarray]] = field(default_factory=list)
    state: list[dict[str, np.ndarray]] = field(default_factory=list)

    @property
    def steps(self) -> int:
        return len(self.loss)


def frozen_at(freeze: Mapping[str, Iterable[int]] | None, names: Iterable[str]
              ) -> dict[str, frozenset[int]]:
    """Check ``freeze`` (parameter name -> steps, counted from 1, at which the parameter
    gets no gradient) against the parameter ``names``."""
    if not freeze:
        return {}
    names = list(names)
    unknown = [k for k in freeze if k not in names]
    if unknown:
        raise ValueError(f"train: freeze names unknown parameter(s) "
                         f"{', '.join(map(repr, unknown))}; the parameters: {', '.join(names)}")
    return {k: frozenset(int(t) for t in steps) for k, steps in freeze.items()}


def train(net: Any, X: np.ndarray, y: np.ndarray, optimizer: Any, epochs: int,
          batch_size: int, shuffle: bool = True, seed: int = 0, scheduler: Any = None, *,
          schedule_every: str = "step", freeze: Mapping[str, Iterable[int]] | None = None,
          record: bool = False, clip_grad_norm: float | None = None,
          clip_grad_value: float | None = None) -> History:
    """Train ``net`` on ``(X, y)`` with mini-batches; returns the :class:`History`.

    Parameters
    ----------
    net
        A :class:`manual.MLP` (or anything with ``params`` and ``gradients(X, y)``).
    X, y
        Inputs (samples, features) and targets (one row per sample).
    optimizer
        A :mod:`manual.optimizers` optimizer built on ``net.params``.
    epochs, batch_size, shuffle, seed
        Passed to :func:`batch_order`.
    scheduler
        A :mod:`manual.schedules` schedule on ``optimizer``, stepped after every
        optimizer step (``schedule_every="step"``) or after every epoch (``"epoch"``).
    freeze
        Parameter name -> steps (from 1) at which that parameter gets no gradient: its
        gradient is ``None``, so the optimizer leaves it and its state untouched, as
        torch does for ``p.grad = None`` (a frozen parameter).
    record
        Keep a copy of the parameters and the optimizer state after every step.
    clip_grad_norm, clip_grad_value
        Optional: clip the gradients between backward and the optimizer step, with
        :func:`manual.clipping.clip_grad_norm_` (max_norm, 2-norm) and/or
        :func:`manual.clipping.clip_grad_value_` (by value first when both are given), as
        ``torch.nn.utils`` does on ``.grad``; frozen parameters are left out.

    Raises
    ------
    ValueError
        If a loss or a parameter becomes NaN or infinite; the message names the step
        (and the epoch and batch) where it happened, so no NaN reaches a report.
    """
    check_choice(schedule_every, ("step", "epoch"), "schedule_every")
    epochs = _check_positive_int("epochs", epochs)
    batch_size = _check_positive_int("batch_size", batch_size)
    X, y = np.asarray(X), np.asarray(y)
    n = len(X) if X.ndim else 0
    if y.ndim == 0 or len(y) != n:
        raise ValueError(f"train: y must have one row per sample of X ({n}), got shape {y.shape}")
    live = getattr(optimizer, "params", None)
    if live is not None and any(live.get(k) is not v for k, v in net.params.items()):
        raise ValueError("train: the optimizer must be built on net.params (the live arrays "
                         "the network computes with)")
    frozen = frozen_at(freeze, net.params)
    order = batch_order(n, batch_size, epochs, shuffle, seed)
    losses, lrs, epoch_of = [], [], []
    history = History(np.empty(0), np.empty(0), np.empty(0, dtype=int), order)
    t = 0
    for e, batches in enumerate(order, start=1):
        for b, idx in enumerate(batches, start=1):
            t += 1
            # a diverging run overflows here; it is reported below as a non-finite loss
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                loss, grads = net.gradients(X[idx], y[idx])
            loss = float(loss)
            if not np.isfinite(loss):
                raise ValueError(f"train: the loss is {loss} at step {t} (epoch {e}, batch {b}); "
                                 f"training stopped (try a smaller learning rate)")
            for key, steps in frozen.items():
                if t in steps:
                    grads[key] = None
            if clip_grad_value is not None:
                clip_grad_value_(grads, clip_grad_value)
            if clip_grad_norm is not None:
                clip_grad_norm_(grads, clip_grad_norm)
            lrs.append(float(optimizer.lr))
            optimizer.step(grads)
            for key, p in net.params.items():
                if not np.isfinite(p).all():
                    raise ValueError(f"train: parameter {key} became non-finite in the update "
                                     f"of step {t} (epoch {e}, batch {b}); training stopped "
                                     f"(try a smaller learning rate)")
            losses.append(loss)
            epoch_of.append(e)
            if record:
                history.params.append({k: v.copy() for k, v in net.params.items()})
                history.state.append(flat_state(optimizer.state))
            if scheduler is not None and schedule_every == "step":
                scheduler.step()
        if scheduler is not None and schedule_every == "epoch":
            scheduler.step()
    history.loss = np.array(losses, dtype=np.float64)
    history.lr = np.array(lrs, dtype=np.float64)
    history.epoch = np.array(epoch_of, dtype=int)
    return history
