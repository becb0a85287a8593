"""Built-in synthetic data for the cases: inputs, and targets that fit each loss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# the cases are comparisons.cases.registry's Case; the registry imports this module (through
# the case table), so they are typed by what is read from them
Case = Any

__all__ = ["EXTREME", "KINK_MARGIN", "TARGET_SAMPLERS", "case_data", "min_kink_distance"]

#: pre-activations closer than this to a kink are redrawn, so that finite
#: differences (step 1e-6) never straddle one
KINK_MARGIN = 1e-3

Sampler = Callable[[np.random.Generator, int, int, np.dtype], np.ndarray]


def _rows_softmax(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)

#: target_kind -> sampler(rng, n_samples, n_outputs, dtype)
TARGET_SAMPLERS: dict[str, Sampler] = {
    "real": lambda rng, n, k, dt: rng.standard_normal((n, k)).astype(dt),
    "probability": lambda rng, n, k, dt: rng.uniform(0.0, 1.0, (n, k)).astype(dt),
    "class_index": lambda rng, n, k, dt: rng.integers(0, k, n).astype(np.int64),
    "count": lambda rng, n, k, dt: rng.poisson(2.0, (n, k)).astype(dt),
    # rows of a probability distribution (a softmax of normals), for the KL divergence
    "distribution": lambda rng, n, k, dt: _rows_softmax(rng.standard_normal((n, k))).astype(dt),
}


def min_kink_distance(net, X: np.ndarray) -> float:
    """The smallest distance from any pre-activation of ``net`` on ``X`` to a kink of its
    activation (inf when no activation has kinks)."""
    net.forward(X)
    best = np.inf
    n_layers = len(net.layers)
    for l in range(1, n_layers + 1):
        f = net.output_activation if l == n_layers else net.activation
        z = net.intermediates[f"z{l}"]
        for k in getattr(f, "kinks", ()):
            best = min(best, float(np.min(np.abs(z - k))))
    return best


def case_data(case: Case, net=None, max_tries: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic ``(X, y)`` for ``case``: X ~ N(0, 1), y drawn to suit the loss.

    X is redrawn (from the same seeded stream) until every pre-activation is at
    least :data:`KINK_MARGIN` from a kink of its activation.
    """
    net = case.build() if net is None else net
    rng = np.random.default_rng([case.seed, 2024])
    kind = net.loss_fn.target_kind
    for _ in range(max_tries):
        X = rng.standard_normal((case.n_samples, case.sizes[0])).astype(case.np_dtype)
        if min_kink_distance(net, X) >= KINK_MARGIN:
            break
    else:
        raise RuntimeError(f"{case.id}: no input batch kept away from the kinks in "
                           f"{max_tries} draws")
    y = TARGET_SAMPLERS[kind](rng, case.n_samples, case.sizes[-1], case.np_dtype)
    return X, y


#: the extreme input every stable function must survive (finite, and equal to torch)
EXTREME = 1e4
