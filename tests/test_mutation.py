"""The mutation command's smoke test: a planted arithmetic mutant is killed by the suite's
own test, the live code is restored afterwards, and the tests pass on the original code
(so a kill means the mutant, not a broken test)."""

import numpy as np

from comparisons.slips.mutation import Mutant, _live_function, mutants, run_mutant
from manual import activations


def test_a_mutant_is_killed_and_the_code_restored():
    found = [m for m in mutants(["numerics"])
             if m.qualname == "Tanh._derivative" or m.qualname == "_sech2"]
    m = next(m for m in found if "'*' -> '/'" in m.what)
    func, _ = _live_function(m)
    before = func.__code__
    killed, why = run_mutant(m)
    assert killed, why
    assert func.__code__ is before
    z = np.linspace(-2, 2, 5)
    np.testing.assert_allclose(activations.get("tanh").derivative(z), 1 - np.tanh(z) ** 2,
                               rtol=1e-14)


def test_every_mutant_names_a_computing_function():
    ms = mutants(["schedules"])
    assert ms and all(isinstance(m, Mutant) and m.line > 0 for m in ms)
    assert {m.qualname.split(".")[-1] for m in ms} <= {"_next_lr", "_anneal", "_prepare",
                                                      "step"}
