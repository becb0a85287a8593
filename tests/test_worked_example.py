r"""The classic worked example of gradient descent, by manual.optimizers.SGD.

Minimise :math:`y = x^2 - 4x + 6` (:math:`y' = 2x - 4`, minimum at :math:`x = 2`) from
:math:`x_0 = 8` with learning rate 0.1. Each step is :math:`x_{k+1} = x_k - 0.1(2x_k - 4)
= 0.8x_k + 0.4`, so :math:`x_k = 2 + 6 \cdot 0.8^k` exactly.

The commonly printed table reads 8, 6.8, 5.84, 5.07, 4.45, ... -> 2.00. Against the exact
sequence (8, 6.8, 5.84, 5.072, 4.4576, 3.96608, 3.572864, ...):

- its values are *truncated* to two decimals, not rounded: :math:`x_4 = 4.4576` rounds to
  4.46, and even :math:`0.8 \cdot 5.07 + 0.4 = 4.456` from the rounded 5.07 rounds to
  4.46; only chopping gives the printed 4.45;
- chopping at each step before computing the next agrees with the exact values, chopped,
  up to step 5 (3.96) and drifts from step 6: 3.56 against :math:`x_6 = 3.5729` (3.57);
  the drift peaks at 0.023 (step 25) and the chopped sequence reaches 2.00 at step 25,
  while the exact :math:`x_k` stays above 2.005 until step 32;
- rounding to nearest at each step would never get there: it stalls at 2.02, a fixed
  point of :math:`c \mapsto \operatorname{round}(0.8c + 0.4, 2)`.
"""

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

import numpy as np
import torch

from comparisons.core.tolerances import trajectory_tolerance
from manual import optimizers

TABLE = [8.0, 6.8, 5.84, 5.07, 4.45]  # the commonly printed first rows
TABLE_LIMIT = 2.00
STEPS = 60


def f(x):
    return x**2 - 4 * x + 6


def manual_run() -> np.ndarray:
    x = np.array([8.0])  # a one-element parameter
    opt = optimizers.SGD({"x": x}, lr=0.1)
    xs = [x[0]]
    for _ in range(STEPS):
        opt.step({"x": 2 * x - 4})  # dy/dx
        xs.append(x[0])
    return np.array(xs)


def torch_run() -> np.ndarray:
    x = torch.tensor([8.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.1, foreach=False)
    xs = [x.item()]
    for _ in range(STEPS):
        opt.zero_grad()
        f(x).sum().backward()  # autograd's dy/dx
        opt.step()
        xs.append(x.item())
    return np.array(xs)


def exact(k: int) -> Decimal:
    return 2 + 6 * Decimal("0.8") ** k


def two_decimals(v: Decimal, rounding) -> Decimal:
    return v.quantize(Decimal("0.01"), rounding=rounding)


def test_manual_sgd_follows_torch_and_the_closed_form():
    xs = manual_run()
    tol = trajectory_tolerance("float64", STEPS)
    np.testing.assert_allclose(xs, torch_run(), rtol=tol.rtol, atol=tol.atol)
    closed = 2 + 6 * 0.8 ** np.arange(STEPS + 1)
    np.testing.assert_allclose(xs, closed, rtol=tol.rtol, atol=tol.atol)
    assert np.all(np.diff(f(xs)) < 0)  # every step goes downhill
    assert round(xs[-1], 2) == TABLE_LIMIT


def test_the_printed_table_within_its_two_decimal_rounding():
    xs = manual_run()
    for k, printed in enumerate(TABLE):
        assert abs(xs[k] - printed) < 0.01, f"step {k}: {xs[k]} vs printed {printed}"
        # the table chops (truncates) the exact value to two decimals ...
        assert float(two_decimals(exact(k), ROUND_DOWN)) == printed
    # ... it does not round: x_4 = 4.4576 would print as 4.46
    assert float(two_decimals(exact(4), ROUND_HALF_EVEN)) == 4.46 != TABLE[4]


def test_where_chopping_at_every_step_drifts_from_the_exact_values():
    chopped = [Decimal(8)]
    nearest = [Decimal(8)]
    for _ in range(STEPS):
        chopped.append(two_decimals(Decimal("0.8") * chopped[-1] + Decimal("0.4"), ROUND_DOWN))
        nearest.append(two_decimals(Decimal("0.8") * nearest[-1] + Decimal("0.4"),
                                    ROUND_HALF_EVEN))
    # chopping each step before the next reproduces the printed rows
    assert [float(c) for c in chopped[:len(TABLE)]] == TABLE
    # it agrees with the exact values (chopped) up to step 5, and drifts from step 6
    agree = [chopped[k] == two_decimals(exact(k), ROUND_DOWN) for k in range(STEPS + 1)]
    assert all(agree[:6]) and not agree[6]
    assert (chopped[6], two_decimals(exact(6), ROUND_DOWN)) == (Decimal("3.56"), Decimal("3.57"))
    drift = [abs(chopped[k] - exact(k)) for k in range(STEPS + 1)]
    assert max(drift) < Decimal("0.023") and drift.index(max(drift)) == 25
    # it reaches the printed 2.00 at step 25; the exact x_k stays above 2.005 until step 32
    assert chopped.index(Decimal("2.00")) == 25
    assert min(k for k in range(STEPS + 1) if exact(k) < Decimal("2.005")) == 32
    # rounding to nearest at each step stalls at 2.02 for good
    assert nearest[-1] == nearest[30] == Decimal("2.02")
    assert two_decimals(Decimal("0.8") * Decimal("2.02") + Decimal("0.4"),
                        ROUND_HALF_EVEN) == Decimal("2.02")
