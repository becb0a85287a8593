"""Elementwise comparison of two arrays under a :class:`~comparisons.tolerances.Tolerance`,
with a failure message that names the item, the worst element and both errors."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from comparisons.tolerances import Tolerance

__all__ = ["Comparison", "compare_arrays", "describe"]


@dataclass
class Comparison:
    """The verdict on one array: worst absolute and relative error, where, and pass/fail."""

    name: str
    shape: tuple[int, ...]
    max_abs_err: float
    max_rel_err: float
    worst_index: tuple[int, ...] | None
    manual_value: float
    reference_value: float
    n_bad: int
    size: int
    rtol: float
    atol: float
    passed: bool
    note: str = ""

    def row(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}  # asdict deep-copies: slow
        d["parameter"] = d.pop("name")
        d["shape"] = "x".join(map(str, self.shape)) or "scalar"
        d["worst_index"] = "" if self.worst_index is None else str(self.worst_index)
        return d

    def message(self, context: str = "") -> str:
        return describe({"case": context, **self.row()})


def describe(row: dict[str, Any]) -> str:
    """One line for a comparison row: where (case, oracle, parameter), the worst element,
    both values, the absolute and relative error and the tolerance."""
    row = {k: v for k, v in row.items() if not (isinstance(v, float) and np.isnan(v))
           or k in ("manual_value", "reference_value")}  # empty CSV cells read back as NaN
    where = " ".join(str(p) for p in (row.get("case"), row.get("oracle") and f"[{row['oracle']}]",
                                       row.get("parameter")) if p)
    if row.get("note"):
        msg = f"{where}: {row['note']}"
    else:
        verdict = ("ok" if row["passed"] else
                   f"{row['n_bad']} of {row['size']} elements beyond tolerance")
        msg = (f"{where}: {verdict}; worst element {row['worst_index']}: "
               f"manual {row['manual_value']!r} vs reference {row['reference_value']!r}, "
               f"max abs err {row['max_abs_err']:.3e}, max rel err {row['max_rel_err']:.3e} "
               f"(tolerance: atol {row['atol']:g} + rtol {row['rtol']:g} * |reference|)")
    if row.get("first_divergence"):
        msg += f"; first divergence: {row['first_divergence']}"
    return msg


def compare_arrays(actual: Any, expected: Any, tol: Tolerance, name: str = "value") -> Comparison:
    """Compare ``actual`` (manual) with ``expected`` (the oracle) elementwise.

    NaN matches NaN at the same place (torch propagates NaN the same way); any other
    NaN or infinity mismatch counts as an infinite error. Shapes must agree exactly.
    """
    a = np.asarray(actual)
    e = np.asarray(expected)
    base = {"name": name, "rtol": tol.rtol, "atol": tol.atol}
    if a.shape != e.shape:
        return Comparison(shape=a.shape, max_abs_err=np.inf, max_rel_err=np.inf,
                          worst_index=None, manual_value=np.nan, reference_value=np.nan,
                          n_bad=max(a.size, e.size), size=e.size, passed=False,
                          note=f"shape {a.shape} differs from the reference's {e.shape}", **base)
    a64 = a.astype(np.float64)
    e64 = e.astype(np.float64)
    if a.size == 0:
        return Comparison(shape=a.shape, max_abs_err=0.0, max_rel_err=0.0, worst_index=None,
                          manual_value=np.nan, reference_value=np.nan, n_bad=0, size=0,
                          passed=True, **base)
    both_nan = np.isnan(a64) & np.isnan(e64)
    same_inf = np.isinf(a64) & (a64 == e64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        abs_err = np.where(both_nan | same_inf, 0.0, np.abs(a64 - e64))
        abs_err = np.where(np.isnan(abs_err), np.inf, abs_err)  # NaN on one side only
        # relative error over the elements with a non-zero reference (abs err covers zeros)
        rel_err = np.where((abs_err == 0) | (e64 == 0), 0.0, abs_err / np.abs(e64))
        # a non-finite reference allows only atol, so that inf/inf or x/NaN never passes
        allowed = tol.allowed(np.where(np.isfinite(e64), e64, 0.0))
        excess = np.where(abs_err == 0, 0.0, abs_err / allowed)  # > 1: beyond tolerance
    bad = excess > 1
    worst = np.unravel_index(int(np.argmax(excess)), a.shape)
    worst = tuple(int(i) for i in worst)
    return Comparison(shape=a.shape, max_abs_err=float(abs_err.max()),
                      max_rel_err=float(np.nan_to_num(rel_err, nan=np.inf, posinf=np.inf).max()),
                      worst_index=worst, manual_value=float(a64[worst]),
                      reference_value=float(e64[worst]), n_bad=int(bad.sum()), size=a.size,
                      passed=not bad.any(), **base)
