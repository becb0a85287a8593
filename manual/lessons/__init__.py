r"""Lessons: the classic "why do neural networks need derivatives" questions, each answered
by running code (pure NumPy; the tests check every number torch can compute against torch).

Run them all, printing each table and writing each plot (matplotlib, the ``plots`` extra)::

    python -m manual.lessons [--out reports/lessons] [--only NAME]

or one: ``python -m manual.lessons.network_321``. Each lesson module has a docstring with
the question and the answer, ``tables()`` (pandas DataFrames), ``table()`` (the main one)
and ``plot(path)``.

1. :mod:`~manual.lessons.derivative_as_limit` — forward vs central differences, best h.
2. :mod:`~manual.lessons.gradient_descent_1d` — y = x² − 4x + 6, learning rates and |1 − 2η|.
3. :mod:`~manual.lessons.single_neuron` — one sigmoid neuron, its gradient, trained.
4. :mod:`~manual.lessons.network_321` — the 3-2-1 network, parameter by parameter
   (:func:`seed_network`).
5. :mod:`~manual.lessons.why_nonlinear` — linear layers collapse; XOR.
6. :mod:`~manual.lessons.constant_derivative` — identity's f' = 1 against sigmoid and ReLU.
7. :mod:`~manual.lessons.vanishing_gradients` — per-layer gradient norms, 10 layers.
8. :mod:`~manual.lessons.targets_and_scaling` — targets 0.1/0.9, standardised inputs.
9. :mod:`~manual.lessons.batchnorm_backward` — batch norm's three-term backward.
10. :mod:`~manual.lessons.conv_backward` — a convolution's input gradient is a convolution
    with the flipped kernel.
11. :mod:`~manual.lessons.gradients_through_time` — |dL/dh_t| over 50 steps, RNN vs LSTM,
    clipping.

The lesson modules are imported on demand, so ``python -m manual.lessons.<name>`` runs a
module that is not already loaded.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["LESSONS", "lesson", "seed_network"]

#: the lesson modules, in order
LESSONS: tuple[str, ...] = ("derivative_as_limit", "gradient_descent_1d", "single_neuron",
                            "network_321", "why_nonlinear", "constant_derivative",
                            "vanishing_gradients", "targets_and_scaling",
                            "batchnorm_backward", "conv_backward",
                            "gradients_through_time")


def lesson(name: str) -> ModuleType:
    """The lesson module ``name`` (one of :data:`LESSONS`)."""
    if name not in LESSONS:
        raise ValueError(f"unknown lesson {name!r}; valid: {', '.join(LESSONS)}")
    return importlib.import_module(f"manual.lessons.{name}")


def seed_network(seed: int = 0, dtype: Any = None):
    """The classic 3-2-1 network with parameters ``w14 ... b6``: see
    :func:`manual.lessons.network_321.seed_network`."""
    from manual.lessons.network_321 import seed_network as _seed_network

    return _seed_network(seed) if dtype is None else _seed_network(seed, dtype)
