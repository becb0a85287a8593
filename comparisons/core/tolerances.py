r"""The tolerance policy, written down once and used by every comparison.

An element passes when

.. math:: |\text{manual} - \text{reference}| \le \text{atol} + \text{rtol}\cdot|\text{reference}|

(the rule of ``torch.testing.assert_close`` and ``numpy.isclose``), with
``(rtol, atol)`` chosen by the dtype under test and the oracle:

=================  ===========  ===========  ==================================================
oracle             dtype        rtol         atol
=================  ===========  ===========  ==================================================
torch (autograd)   float64      1e-10        1e-12   (both sides float64: only reordering of sums)
torch (autograd)   float32      1e-5         1e-6    (float32 eps is 1.2e-7; ~100 ops per gradient;
                                                     networks and layers add 4 x torch's own
                                                     float32 rounding, measured: below)
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
(:mod:`comparisons.core.device`). The torch-free oracles run on the CPU in either case.

**float32 against torch, measured.** A float32 gradient that sums many terms (a
convolution's weight gradient, a recurrent layer's over its time steps) rounds by more
than 100 ulps where the terms cancel, and by how much depends on the summation order, so
on the BLAS kernel and the thread count. So the networks' and the layers' float32 torch
rows run torch a second time in float64, on the same inputs upcast and the same random
draws, and add :data:`FLOAT32_SPREAD_FACTOR` times torch's own float32 rounding of that
quantity (the largest distance of its float32 result from its float64 one) to ``atol``
(:func:`measured_tolerance`): a correct float32 implementation rounds by the same order,
and a slip of 1e-4 still fails (tested). A drift beyond :data:`MAX_ROUNDING_DRIFT` of the
quantity's scale is not rounding (the float64 run computed something else) and adds
nothing. Elementwise activations and losses keep the fixed row.

A float32 case checked against a float64 oracle (finite differences, complex step)
takes the looser of its own row and the oracle's. Errors that grow over a training
trajectory are reported per step in ``trajectories.csv``, not absorbed into these numbers.

Training trajectories against ``torch.optim`` (:func:`trajectory_tolerance`) apply the
same rule at every step ``t`` to every parameter, optimizer-state buffer, loss and
learning rate:

=================  ============  =================================  =======================
trajectory         rtol          atol                               why
=================  ============  =================================  =======================
float64            1e-9          1e-12                              fixed, however many steps
float32            1e-5          1e-6 + 4·S_q(t)                    measured on the run itself
=================  ============  =================================  =======================

**float32 trajectories: a bound measured on the run, not tuned on a machine.** Two float32
implementations of the same training round differently at every step (summation order
of a matrix product, fused multiply-adds, the BLAS kernel and the thread count), and each
step feeds its rounding into the next; how far that carries depends on the run's own
conditioning (centred RMSprop divides by √(v − ḡ² + ε), which cancels when the
gradient barely varies). So the float32 bound is measured on each run: torch trains the
same network a second time in float64 from the same float32 start, on the same batches
(:func:`comparisons.run.trajectories.float32_spread`). For each quantity ``q`` (a parameter, an
optimizer-state buffer, the loss) and step ``t``

.. math:: S_q(t) = \max_{s \le t} \lVert q^{\text{torch, float32}}_s -
          q^{\text{torch, float64}}_s \rVert_\infty

is how far torch's own float32 run has drifted from (near) exact arithmetic by then. A
correct manual float32 run drifts by the same order (the same operations, the same
conditioning, a different realisation of the rounding), so the two float32 runs differ by
at most about 2·S_q(t); :data:`FLOAT32_SPREAD_FACTOR` = 4 allows twice that again, for the
realisation of one run's rounding against the other's (the largest element of one tensor
against the largest of the other). The floor (1e-5, 1e-6) is the one-gradient float32
tolerance above, which a well-conditioned run never leaves. A slip of 1e-4 relative in
an update still fails: torch's float32 drift is ~1e-7 relative on a well-conditioned run,
and the drift S is reported beside every step (``float32_allowance`` in
``trajectories.csv``), so a loose bound shows. float64 tolerances are fixed: nothing is
measured and nothing added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["FD_STEP", "FLOAT32_SPREAD_FACTOR", "MAX_ROUNDING_DRIFT", "Tolerance",
           "measured_tolerance", "tolerance_for", "trajectory_tolerance"]


@dataclass(frozen=True)
class Tolerance:
    """``|actual - expected| <= atol + rtol * |expected|`` elementwise."""

    rtol: float | np.ndarray  # arrays: one per step (trajectory_tolerance)
    atol: float | np.ndarray

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
ORACLE_TOLERANCES = {"fd": FINITE_DIFFERENCES, "complex-step": COMPLEX_STEP}
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
    if oracle in ORACLE_TOLERANCES:  # float64 oracles: a float32 result carries its own rounding
        if dtype == np.dtype(np.float64):
            return ORACLE_TOLERANCES[oracle]
        return AUTOGRAD[dtype].loosest(ORACLE_TOLERANCES[oracle])
    raise ValueError(f"unknown oracle {oracle!r}; valid: torch, {', '.join(ORACLE_TOLERANCES)}")


# --------------------------------------------------------------------------------------
# training trajectories: manual optimizers against torch.optim, step by step
# --------------------------------------------------------------------------------------
#: float64: every parameter, every optimizer-state buffer, the loss and the learning rate
#: within 1e-9 relative of torch at every step (after 200 steps and beyond)
TRAJECTORY_FLOAT64 = Tolerance(rtol=1e-9, atol=1e-12)
#: float32: the one-gradient float32 tolerance at every step, plus a per-run allowance
#: FLOAT32_SPREAD_FACTOR * S_q(t) measured on the run (module docstring)
TRAJECTORY_FLOAT32 = Tolerance(rtol=1e-5, atol=1e-6)
#: two float32 runs differ by about twice one run's drift; twice again for the realisation
FLOAT32_SPREAD_FACTOR = 4.0


def trajectory_tolerance(dtype: np.dtype | type | str, step: int | np.ndarray) -> Tolerance:
    """The tolerance for a training trajectory against torch at ``step`` (from 1; an array
    of steps gives arrays of ``rtol`` and ``atol``). For float32 this is the floor: the
    comparison of a run adds ``FLOAT32_SPREAD_FACTOR * S_q(t)`` to ``atol``, the drift that
    torch's own float32 run shows from float64 (module docstring)."""
    dtype = np.dtype(dtype)
    if dtype == np.float64:
        return TRAJECTORY_FLOAT64
    if dtype == np.float32:
        t = np.asarray(step, dtype=np.float64)
        return Tolerance(np.full_like(t, TRAJECTORY_FLOAT32.rtol)[()],
                         np.full_like(t, TRAJECTORY_FLOAT32.atol)[()])
    raise ValueError(f"no tolerance for dtype {dtype}; valid: float32, float64")


#: torch's float32 rounding of one forward and backward stays far below this fraction of a
#: quantity's largest element (float32's eps is 1.2e-7, and a few thousand terms summed in
#: the worst order reach ~1e-4); a larger drift means the float64 shadow did not compute the
#: same thing (a random draw it could not replay), and it is not used
MAX_ROUNDING_DRIFT = 1e-3


def measured_tolerance(tol: Tolerance, ref: Any, exact: Any) -> Tolerance:
    """A float32 comparison against torch: ``tol`` (the policy's float32 row) with its atol
    raised by :data:`FLOAT32_SPREAD_FACTOR` times torch's own float32 rounding of this
    quantity, the largest distance of torch's float32 result ``ref`` from its float64 one
    ``exact`` on the same inputs (``exact`` None: ``tol`` unchanged)."""
    if exact is None or ref is None:
        return tol
    a, b = np.asarray(ref, dtype=np.float64), np.asarray(exact, dtype=np.float64)
    if a.shape != b.shape or a.size == 0:
        return tol
    with np.errstate(invalid="ignore"):
        d = np.abs(a - b)
    drift = float(np.max(np.where(np.isfinite(d), d, 0.0)))
    scale = float(np.max(np.abs(np.where(np.isfinite(b), b, 0.0))))
    if drift > MAX_ROUNDING_DRIFT * scale:  # not rounding: the shadow computed something else
        return tol
    return Tolerance(tol.rtol, tol.atol + FLOAT32_SPREAD_FACTOR * drift)
