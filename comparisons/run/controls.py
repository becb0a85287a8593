"""The layers' negative controls, run: a deliberately broken layer (a record's
:class:`~comparisons.cases.info.LayerControl`) must fail exactly the rows it names, and the
correct layer must pass the same case.

:func:`run_control` runs one side; :func:`control_rows` runs both and gives each broken
row its ``control_verdict``: ``caught`` (a row the slip must fail, failed), ``missed`` (a
row it must fail, passed: the comparison is blind there), or empty (a row the slip must
not touch). ``status`` is every report's: a caught row is an expected failure, ``xfail``;
a missed row, or any other failing row, ``fail``; so ``df[df.status == "fail"]`` lists
what is wrong in ``controls.csv`` as in every report. The CLI writes them to
``controls.csv`` (``backprop-compare --parts controls``) and pytest asserts on them
(``tests/test_layers.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from comparisons.cases.info import LayerControl, NetworkCase
from comparisons.core.device import seed_torch
from comparisons.run.layers import case_names, compare_layer, compare_sequential

__all__ = ["CONTROL_COLUMNS", "control_failures", "control_rows", "run_control"]

#: the columns control_rows adds in front of the comparison's
CONTROL_COLUMNS = ["control", "slip", "side", "control_verdict"]
#: a broken row's verdict -> its status in the report
_STATUS = {"caught": "xfail", "missed": "fail"}


def run_control(control: LayerControl, broken: bool) -> list[dict[str, Any]]:
    """The rows of ``control``'s case with the broken class in place (``broken=True``) or
    with the correct layer."""
    factory = control.broken if broken else None
    case = control.case
    # each side seeds torch itself, as every layer case does (comparisons.run.layers): a
    # dropout's masks then do not depend on what ran before, in which process
    seed_torch(getattr(case, "seed", 0))
    if isinstance(case, NetworkCase):
        replace: dict[int, Callable[..., Any]] | None = None
        if factory:
            assert control.layer_index is not None, "a network control names its layer"
            replace = {control.layer_index: factory}
        net = case.build(replace)
        X, y = case.data()
        return compare_sequential(net, X, y, case=case.id, oracles=case.oracles)
    return compare_layer(case.build(factory), case.inputs(), oracles=case.oracles,
                         case=case.id, seed=case.seed, **case_names(case))


def _label(control: LayerControl, row: dict[str, Any]) -> str:
    expected = (row["oracle"], row["parameter"]) in control.fails
    failed = row["status"] == "fail"
    if expected and failed:
        first = control.first_divergence
        if first and row["oracle"] == "torch" and row.get("first_divergence") != first:
            return "missed"  # caught, but the wrong layer named
        return "caught"
    if expected:
        return "missed"
    return row["status"]


def control_rows(control: LayerControl) -> list[dict[str, Any]]:
    """Both sides of ``control``: the broken layer's rows labelled ``caught``/``missed``/
    ``fail``/``pass``, a ``missed`` row for an expected pair that has no row at all, then
    the correct layer's rows (``pass``/``fail``); each with :data:`CONTROL_COLUMNS`."""
    info = {"control": control.id, "slip": control.slip}
    broken = run_control(control, broken=True)
    out = []
    for r in broken:
        label = _label(control, r)
        verdict = label if label in _STATUS else ""
        out.append({**info, "side": "broken", **r, "control_verdict": verdict,
                    "status": _STATUS.get(label, label)})
    seen = {(r["oracle"], r["parameter"]) for r in broken}
    for oracle, parameter in sorted(control.fails - seen):
        out.append({**info, "side": "broken", "case": control.case.id, "oracle": oracle,
                    "parameter": parameter, "control_verdict": "missed", "status": "fail",
                    "note": "no such row: the slip must fail it"})
    out += [{**info, "side": "correct", "control_verdict": "", **r}
            for r in run_control(control, broken=False)]
    return out


def control_failures(rows: list[dict[str, Any]]) -> list[str]:
    """One line per row that makes the controls fail: a ``missed`` row (the slip went
    unseen there) or a ``fail`` (a row that must pass failed, on either side)."""
    from comparisons.core.compare import describe

    lines = []
    for r in rows:
        if r.get("control_verdict") == "missed":
            note = r.get("note")
            lines.append(f"control {r['control']}: {r['case']} [{r['oracle']}] "
                         f"{r['parameter']} was not caught where expected, though the slip "
                         f"({r['slip']}) must fail it"
                         + (f"; {note}" if isinstance(note, str) and note else ""))
        elif r["status"] in ("fail", "xpass"):
            lines.append(f"control {r['control']} ({r['side']} side): {describe(r)}")
    return lines
