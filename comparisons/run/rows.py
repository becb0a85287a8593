"""The rows of the report: the columns every comparison row has (:data:`ROW_COLUMNS`,
``gradients.csv``, ``components.csv``, ``layers.csv``, ``check.csv``), the status of a row,
the check of an oracle list, and :func:`failures`, the failing rows as readable messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from comparisons.cases.registry import KNOWN_DEVIATIONS
from comparisons.core.compare import COMPARISON_COLUMNS, describe

__all__ = ["ROW_COLUMNS", "failures", "validate_oracles", "with_status"]


#: the report's columns: what was compared, then :meth:`Comparison.row`'s columns (the
#: single source of the error figures), the Taylor slope and the verdict
ROW_COLUMNS = ["case", "kind", "activation", "output_activation", "loss", "arch", "sizes",
               "dtype", "oracle",
               *[c for c in COMPARISON_COLUMNS if c not in ("passed", "note")],
               "taylor_slope", "passed", "status", "first_divergence", "note"]



def validate_oracles(oracles: Iterable[str], valid: Iterable[str]) -> tuple[str, ...]:
    """``oracles`` as a tuple of names from ``valid``, checked before any work: a string
    (``"fd"`` would read as ``['f', 'd']``) is a TypeError, an unknown name a ValueError."""
    valid = tuple(valid)
    if isinstance(oracles, (str, bytes)):
        raise TypeError(f"oracles must be a list of names such as {list(valid[:2])}, not the "
                        f"string {oracles!r} (write [{oracles!r}])")
    try:
        chosen = tuple(oracles)
    except TypeError:
        raise TypeError(f"oracles must be a list of names from {', '.join(valid)}, got "
                        f"{oracles!r}") from None
    unknown = [o for o in chosen if not isinstance(o, str) or o not in valid]
    if unknown:
        raise ValueError(f"unknown oracle(s) {unknown}; valid: {', '.join(valid)}")
    if not chosen:
        raise ValueError(f"no oracle given; valid: {', '.join(valid)}")
    return chosen


def with_status(rows: list[dict[str, Any]], name: str | None = None,
                deviations: dict[tuple[str, str], str] | None = None) -> list[dict[str, Any]]:
    """Set each row's ``status``: ``pass``, ``fail``, or ``xfail`` for a failure that is a
    documented deviation (a documented deviation that no longer occurs is a ``fail``,
    noted as ``xpass``).

    ``deviations`` ((quantity, oracle) -> reason) are the deviations the inputs are known
    to show, strictly, as pytest's strict xfail: a listed row that passes fails the run
    (:func:`failures` reports it), its note saying ``xpass``. Without them (a caller's own
    inputs, which may or may not reach the deviation), the case table's deviations for
    ``name`` (:data:`~comparisons.cases.registry.KNOWN_DEVIATIONS`) turn a failure into
    ``xfail`` and a pass stays a pass.
    """
    strict = deviations is not None
    if deviations is None:
        deviations = {(p, o): r for (n, p, o), r in KNOWN_DEVIATIONS.items() if n == name}
    for row in rows:
        key: tuple[Any, Any] = (row.get("parameter"), row.get("oracle"))
        reason = deviations.get(key)
        if reason is None:
            row["status"] = "pass" if row["passed"] else "fail"
        elif row["passed"]:
            row["status"] = "fail" if strict else "pass"
            if strict:
                row["note"] = (f"documented deviation no longer occurs (xpass): remove it "
                               f"from the case table: {reason}")
        else:
            row["status"] = "xfail"
            row["note"] = f"known deviation from torch: {reason}"
    return rows


def failures(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Readable messages for the failing rows: case, oracle, parameter, worst element,
    absolute and relative error, tolerance and first divergence."""
    return [describe(r) for r in rows
            if r.get("status", "fail" if r.get("passed") is False else "pass") in ("fail", "xpass")]
