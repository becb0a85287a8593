"""Every registry case: manual gradients against torch's autograd and finite differences."""

import pytest

from comparisons import CASES, SKIPPED, failures, run_case


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_network_gradients_match(case):
    rows = run_case(case)
    assert rows, "no comparison ran"
    assert {r["oracle"] for r in rows} == {"torch", "vjp", "fd", "taylor"}
    n_params = 2 * (len(case.sizes) - 1)
    assert len(rows) == (1 + n_params) + 3 * n_params  # torch: loss + params; the rest: params
    problems = failures(rows)
    assert not problems, "\n".join(problems)


def test_matrix_is_complete():
    """Every compatible activation x loss pair is in the matrix, in both dtypes and both
    architectures; every other pair is listed as skipped with a reason."""
    from manual import activations, losses

    pairs = {(c.activation, c.loss) for c in CASES if c.arch in ("small", "deep")}
    skipped = {(s.activation, s.loss) for s in SKIPPED}
    assert pairs | skipped >= {(a, l) for a in activations.names() for l in losses.names()}
    assert not pairs & skipped
    assert all(s.reason for s in SKIPPED)
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert "sigmoid-sse-classic321-float64" in ids
