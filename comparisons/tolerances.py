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
finite differences any          1e-6         1e-8    (central, float64, h = 1e-5: truncation h²·f'''/6
                                                     ~2e-11, rounding eps·|L|/h ~ 2e-11·|L|)
=================  ===========  ===========  ==================================================

A float32 case checked against float64 finite differences takes the looser of the
two rows. Errors that grow over a training trajectory are reported per step in
``trajectories.csv``, not absorbed into these numbers.

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
FD_STEP = 1e-5  # central-difference step, in float64: near eps^(1/3), balancing truncation and rounding


def tolerance_for(dtype: np.dtype | type | str, oracle: str = "torch") -> Tolerance:
    """The tolerance for comparing a ``dtype`` computation against ``oracle``
    (``"torch"`` or ``"fd"``)."""
    dtype = np.dtype(dtype)
    if dtype not in AUTOGRAD:
        raise ValueError(f"no tolerance for dtype {dtype}; valid: float32, float64")
    if oracle == "torch":
        return AUTOGRAD[dtype]
    if oracle == "fd":
        return AUTOGRAD[dtype].loosest(FINITE_DIFFERENCES)
    raise ValueError(f"unknown oracle {oracle!r}; valid: torch, fd")


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
