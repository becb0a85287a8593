r"""The tolerance policy, written down once and used by every comparison.

An element passes when

.. math:: |\text{manual} - \text{reference}| \le \text{atol} + \text{rtol}\cdot|\text{reference}|

(the rule of ``torch.testing.assert_close`` and ``numpy.isclose``), with
``(rtol, atol)`` chosen by the dtype under test and the oracle:

=================  ===========  ===========  ==================================================
oracle             dtype        rtol         atol
=================  ===========  ===========  ==================================================
torch (autograd)   float64      1e-10        1e-12   (both sides float64: only reordering of sums)
torch (autograd)   float32      1e-5         1e-6    (float32 eps is 1.2e-7; ~100 ops per gradient)
finite differences any          1e-6         1e-8    (central, float64, h = 1e-5:
                                                     truncation h²·f'''/6 ~2e-11,
                                                     rounding eps·|L|/h ~ 2e-11·|L|)
complex step       any          1e-12        1e-14   (Im f(x + ih)/h, h = 1e-30: no cancellation;
                                                     only the rounding of f itself, float64)
Taylor remainder   any          slope >= 1.8         (|L(θ+εv) − L(θ) − ε∇L·v| ~ ε², fitted
                                                     over ε = 1e-3 … 8e-6; no step to tune)
=================  ===========  ===========  ==================================================

On a GPU (``backprop-compare --device cuda``) nothing changes, by design: float64 is IEEE
double there too, TF32 is turned off so float32 products stay float32, and a GPU kernel's
own order of summation is the reordering the torch rows already allow
(:mod:`comparisons.device`). The torch-free oracles run on the CPU in either case.

A float32 case checked against a float64 oracle (finite differences, complex step)
takes the looser of its own row and the oracle's. Errors that grow over a training
trajectory are reported per step in ``trajectories.csv``, not absorbed into these numbers.

Training trajectories against ``torch.optim`` (:func:`trajectory_tolerance`) apply the
same rule at every step ``t`` to every parameter, optimizer-state buffer, loss and
learning rate:

=================  ===================  ===================  ===============================
trajectory         rtol                 atol                 why
=================  ===================  ===================  ===============================
float64            1e-9                 1e-12                fixed, however many steps
float32            1e-5 + 1e-6 t        1e-6 + 1e-7 t        grows linearly with the step
=================  ===================  ===================  ===============================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FD_STEP", "Tolerance", "tolerance_for", "trajectory_tolerance"]


@dataclass(frozen=True)
class Tolerance:
    """``|actual - expected| <= atol + rtol * |expected|`` elementwise."""

    rtol: float
    atol: float

    def allowed(self, expected: np.ndarray) -> np.ndarray:
        return self.atol + self.rtol * np.abs(expected)

    def loosest(self, other: Tolerance) -> Tolerance:
        return Tolerance(max(self.rtol, other.rtol), max(self.atol, other.atol))


AUTOGRAD = {
    np.dtype(np.float64): Tolerance(rtol=1e-10, atol=1e-12),
    np.dtype(np.float32): Tolerance(rtol=1e-5, atol=1e-6),
}
FINITE_DIFFERENCES = Tolerance(rtol=1e-6, atol=1e-8)
COMPLEX_STEP = Tolerance(rtol=1e-12, atol=1e-14)
ORACLES = {"fd": FINITE_DIFFERENCES, "complex-step": COMPLEX_STEP}
#: Taylor-remainder test: steps 1e-3 down to 8e-6 along a unit direction, small enough that
#: cubic terms do not bend the curve, large enough that r stays far above float64 rounding
TAYLOR_EPS = tuple(1e-3 / 2**k for k in range(8))
#: a right gradient leaves r ~ eps^2 (slope 2); one off by a relative delta leaves a linear
#: term delta*eps*|grad.v| that dominates over this eps range for delta >~ 1e-4, pulling
#: the slope to ~1. 1.8 sits between, with room for the curvature of the loss.
TAYLOR_MIN_SLOPE = 1.8
FD_STEP = 1e-5  # central-difference step in float64: near eps^(1/3), balancing the two errors


def tolerance_for(dtype: np.dtype | type | str, oracle: str = "torch") -> Tolerance:
    """The tolerance for comparing a ``dtype`` computation against ``oracle``
    (``"torch"``, ``"fd"`` or ``"complex-step"``)."""
    dtype = np.dtype(dtype)
    if dtype not in AUTOGRAD:
        raise ValueError(f"no tolerance for dtype {dtype}; valid: float32, float64")
    if oracle == "torch":
        return AUTOGRAD[dtype]
    if oracle in ORACLES:  # float64 oracles: a float32 result also carries its own rounding
        if dtype == np.dtype(np.float64):
            return ORACLES[oracle]
        return AUTOGRAD[dtype].loosest(ORACLES[oracle])
    raise ValueError(f"unknown oracle {oracle!r}; valid: torch, {', '.join(ORACLES)}")


# --------------------------------------------------------------------------------------
# training trajectories: manual optimizers against torch.optim, step by step
# --------------------------------------------------------------------------------------
#: float64: every parameter, every optimizer-state buffer, the loss and the learning rate
#: within 1e-9 relative of torch at every step (after 200 steps and beyond)
TRAJECTORY_FLOAT64 = Tolerance(rtol=1e-9, atol=1e-12)
#: float32 starts from the one-gradient tolerance and may grow linearly with the step
#: count: the two sides round differently (matmul summation order, fused multiply-adds)
#: and each step feeds its rounding into the next
TRAJECTORY_FLOAT32_START = Tolerance(rtol=1e-5, atol=1e-6)
TRAJECTORY_FLOAT32_GROWTH = Tolerance(rtol=1e-6, atol=1e-7)  # added per step


def trajectory_tolerance(dtype: np.dtype | type | str, step: int | np.ndarray) -> Tolerance:
    """The tolerance for a training trajectory against torch at ``step`` (from 1; an array
    of steps gives arrays of ``rtol`` and ``atol``)."""
    dtype = np.dtype(dtype)
    if dtype == np.float64:
        return TRAJECTORY_FLOAT64
    if dtype == np.float32:
        t = np.asarray(step, dtype=np.float64)
        return Tolerance(TRAJECTORY_FLOAT32_START.rtol + TRAJECTORY_FLOAT32_GROWTH.rtol * t,
                         TRAJECTORY_FLOAT32_START.atol + TRAJECTORY_FLOAT32_GROWTH.atol * t)
    raise ValueError(f"no tolerance for dtype {dtype}; valid: float32, float64")
