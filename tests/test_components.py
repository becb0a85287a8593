"""Each activation and loss on its own, against torch, under a random upstream gradient, on
every sample of the case table (random points, kinks, +-1e4, 0-d, empty, 3-d, spatial,
probability targets, ...), and the table's negative controls and documented deviations.
Everything here is generated from comparisons/cases/components.py."""

import dataclasses

import numpy as np
import pytest

from comparisons import failures
from comparisons.cases.components import COMPONENTS, PLANTED_BUGS, Deviation
from comparisons.cases.registry import COMPONENT_CASES, ComponentCase
from comparisons.run.components import compare_activation, compare_loss, run_component
from manual import activations


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in COMPONENT_CASES])
def test_component_matches_torch(case):
    rows = run_component(case)
    assert rows
    assert not failures(rows), "\n".join(failures(rows))
    deviations = case.deviations()
    assert {(r["parameter"], r["oracle"]) for r in rows if r["status"] == "xfail"} == set(
        deviations)  # a documented deviation must still occur on its samples (strict)


def _run(bug, component):
    inputs = bug.inputs(np.dtype("float64"))
    if "z" in inputs:
        return compare_activation(component, inputs["z"], case=bug.id)
    return compare_loss(component, inputs["pred"], inputs["target"], case=bug.id)


@pytest.mark.parametrize("bug", [pytest.param(b, id=b.id) for b in PLANTED_BUGS.values()])
def test_planted_bug_fails_exactly_where_expected(bug):
    rows = _run(bug, bug.build())
    failing = {(r["oracle"], r["parameter"]) for r in rows if r["passed"] is False}
    assert failing == bug.fails, f"failing {sorted(failing)}, expected {sorted(bug.fails)}"
    msg = "\n".join(failures(rows))
    for oracle, quantity in bug.fails:
        assert f"[{oracle}] {quantity}: " in msg, msg
    assert not failures(_run(bug, bug.correct()))  # the control's control


def test_a_deviation_that_no_longer_occurs_is_xpass_and_fails(monkeypatch):
    """A documented deviation that passes is reported ``xpass`` and fails the run, as
    pytest's strict xfail."""
    info = COMPONENTS["relu"]
    planted = Deviation("forward", "torch", "planted: relu's forward differs", ("points",))
    monkeypatch.setitem(COMPONENTS, "relu", dataclasses.replace(info, deviations=(planted,)))
    rows = run_component(ComponentCase("activation", "relu", "float64"))
    row = next(r for r in rows if r["parameter"] == "forward")
    assert row["status"] == "fail" and "no longer occurs (xpass)" in row["note"]
    assert any("[torch] forward" in m for m in failures(rows))


def test_cli_exits_1_on_xpass(monkeypatch, tmp_path, capsys):
    import pandas as pd

    from comparisons.cli import main

    info = COMPONENTS["relu"]
    planted = Deviation("forward", "torch", "planted", ("points",))
    monkeypatch.setitem(COMPONENTS, "relu", dataclasses.replace(info, deviations=(planted,)))
    assert main(["--parts", "components", "--only", "relu-float64", "--out", str(tmp_path)]) == 1
    df = pd.read_csv(tmp_path / "components.csv")
    assert df.loc[df["status"] == "fail", "note"].str.contains("xpass").any()


def test_every_activation_has_the_shapes_torch_accepts():
    for name in activations.names():
        samples = {c.sample for c in COMPONENT_CASES if c.name == name}
        assert {"points", "shape-0d", "shape-empty", "shape-3d"} <= samples, name


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", activations.names())
def test_activation_keeps_dtype(name, dtype):
    from comparisons.cases.components import sample_inputs

    act = activations.get(name)
    z = sample_inputs("activation", "points", act, dtype)["z"]
    outs = [act.forward(z), act.backward(z, z)]
    if act.elementwise:
        outs += [act.derivative(z)]
    assert all(out.dtype == np.dtype(dtype) for out in outs)


def _activation_points(name):
    act = activations.get(name)
    z = next(c for c in COMPONENT_CASES if c.name == name and c.sample == "points"
             and c.dtype == "float64" and not c.kwargs).inputs()["z"]
    return act, z


@pytest.mark.parametrize("name", [n for n in activations.names() if activations.get(n).kinks])
def test_kinks_are_where_a_derivative_jumps(name):
    """``kinks`` says where finite differences must keep away and where the samples test
    torch's one-sided choice: each listed kink is a real jump of f' or f''."""
    act = activations.get(name)
    for k in act.kinks:
        # 1e-12 to either side: a smooth f' changes by ~1e-12 there, the smallest real jump
        # (softplus at its threshold: 1 - sigma(20) = 2e-9) is far larger
        side = np.array([k - 1e-12, k + 1e-12])
        jumps = [np.abs(np.diff(d(side)))[0] for d in (act.derivative, act.second_derivative)]
        assert max(jumps) > 1e-10, f"{name}: no jump at the listed kink {k}"


@pytest.mark.parametrize("name", activations.names())
def test_outputs_lie_in_the_declared_range(name):
    """``output_range`` decides which losses an activation may feed in the matrix."""
    act, z = _activation_points(name)
    lo, hi = act.output_range
    out = act.forward(z)
    assert np.all((out >= lo) & (out <= hi)), (name, out.min(), out.max(), lo, hi)
