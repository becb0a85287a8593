"""Elementwise comparison of two arrays under a :class:`~comparisons.core.tolerances.Tolerance`,
with a failure message that names the item, the worst element and its errors.

Two kinds of figure, kept apart in the column names:

- the **worst element** is the one furthest beyond (or nearest to) its own tolerance
  ``atol + rtol * |reference|``: ``worst_index``, both values there, its ``worst_abs_err``
  and ``worst_rel_err``, and ``err_over_tol``, its error divided by its tolerance. That
  ratio decides the verdict: the row passes when it is at most 1.
- the **maxima over the array**, ``max_abs_err`` and ``max_rel_err``, may come from other
  elements: a large relative error on an element whose reference is tiny passes when its
  absolute error is within ``atol``.

A relative error is never computed where the reference is 0: ``worst_rel_err`` is NaN
there (an empty CSV cell, "n/a" in messages) and ``max_rel_err`` runs over the elements
with a non-zero reference only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from comparisons.core.diagnosis import Alternatives, likely_slip
from comparisons.core.tolerances import Tolerance

__all__ = ["COMPARISON_COLUMNS", "Comparison", "compare_arrays", "describe"]


@dataclass
class Comparison:
    """The verdict on one array: its worst element (furthest beyond its tolerance) with that
    element's own errors, the maxima over all elements, and pass/fail."""

    name: str
    shape: tuple[int, ...]
    size: int
    #: the worst element's |manual - reference| / (atol + rtol |reference|); > 1 fails
    err_over_tol: float
    worst_index: tuple[int, ...] | None
    manual_value: float
    reference_value: float
    #: |manual - reference| at the worst element
    worst_abs_err: float
    #: worst_abs_err / |reference| at the worst element (NaN where the reference is 0)
    worst_rel_err: float
    #: max over all elements of |manual - reference|
    max_abs_err: float
    #: max over the elements with a non-zero reference of |manual - reference| / |reference|
    max_rel_err: float
    n_bad: int
    rtol: float
    atol: float
    passed: bool
    note: str = ""

    def row(self) -> dict[str, Any]:
        """The CSV row: the columns :data:`COMPARISON_COLUMNS`, in that order."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}  # asdict deep-copies: slow
        d["parameter"] = d.pop("name")
        d["shape"] = "x".join(map(str, self.shape)) or "scalar"
        d["worst_index"] = "" if self.worst_index is None else str(self.worst_index)
        return {k: d[k] for k in COMPARISON_COLUMNS}

    def message(self, context: str = "") -> str:
        return describe({"case": context, **self.row()})


#: the columns of :meth:`Comparison.row`, in order (the single source of the report's
#: comparison columns; ``comparisons.run.rows.ROW_COLUMNS`` is built around them)
COMPARISON_COLUMNS: list[str] = ["parameter" if f.name == "name" else f.name
                                 for f in fields(Comparison)]


def _num(value: Any) -> float | None:
    """A float, or None for a missing/NaN cell (CSV rows read back hold NaN for empty)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _e(value: Any, spec: str = ".3e") -> str:
    value = _num(value)
    return "n/a" if value is None else format(value, spec)


def describe(row: dict[str, Any]) -> str:
    """One line for a comparison row: where (case, oracle, parameter), the verdict, the worst
    element (furthest beyond its tolerance) with both values and its own errors, then the
    maxima over all elements and the tolerance. "n/a": no relative error (reference 0)."""
    where = " ".join(str(p) for p in (row.get("case"), row.get("oracle") and f"[{row['oracle']}]",
                                       row.get("parameter")) if p and p == p)
    note = row.get("note")
    slip = ""
    if isinstance(note, str) and note.startswith(SLIP_PREFIX):
        note, slip = "", note  # the numbers, then the slip
    if isinstance(note, str) and note:
        msg = f"{where}: {note}"
    else:
        ratio = _num(row.get("err_over_tol"))
        verdict = ("ok" if row.get("passed") else
                   f"{row.get('n_bad')} of {row.get('size')} elements beyond tolerance")
        msg = f"{where}: {verdict}"
        if row.get("worst_index") not in (None, "") and row.get("worst_index") == row.get(
                "worst_index"):
            msg += (f"; worst element {row['worst_index']} (error "
                    f"{'n/a' if ratio is None else format(ratio, '.3g')} x its tolerance): "
                    f"manual {_num(row.get('manual_value'))!r} vs reference "
                    f"{_num(row.get('reference_value'))!r}, abs err "
                    f"{_e(row.get('worst_abs_err'))}, rel err {_e(row.get('worst_rel_err'))}")
        msg += (f"; over all elements max abs err {_e(row.get('max_abs_err'))}, max rel err "
                f"{_e(row.get('max_rel_err'))} (tolerance: atol {row.get('atol'):g} + rtol "
                f"{row.get('rtol'):g} * |reference|)")
    divergence = row.get("first_divergence")
    if isinstance(divergence, str) and divergence:
        msg += f"; first divergence: {divergence}"
    return f"{msg}; {slip}" if slip else msg


def compare_arrays(actual: Any, expected: Any, tol: Tolerance, name: str = "value",
                   alternatives: Alternatives = None) -> Comparison:
    """Compare ``actual`` (manual) with ``expected`` (the oracle) elementwise.

    NaN matches NaN at the same place (torch propagates NaN the same way); any other
    NaN or infinity mismatch counts as an infinite error. Shapes must agree exactly.
    A failing comparison's note names the slip that explains ``actual`` exactly, if one
    does (:func:`comparisons.core.diagnosis.likely_slip`, which also tests
    ``alternatives``: the gradients of slips that only the caller can compute, or a
    function giving them, called only on a failure).
    """
    a = np.asarray(actual)
    e = np.asarray(expected)
    base: dict[str, Any] = {"name": name, "rtol": tol.rtol, "atol": tol.atol}
    nan = float("nan")
    if a.shape != e.shape:
        return Comparison(shape=a.shape, size=e.size, err_over_tol=np.inf, worst_index=None,
                          manual_value=nan, reference_value=nan, worst_abs_err=np.inf,
                          worst_rel_err=np.inf, max_abs_err=np.inf, max_rel_err=np.inf,
                          n_bad=max(a.size, e.size), passed=False,
                          note=f"shape {a.shape} differs from the reference's {e.shape}"
                          + _slip_note(a, e, tol, name, "; ", alternatives), **base)
    a64 = a.astype(np.float64)
    e64 = e.astype(np.float64)
    if a.size == 0:
        return Comparison(shape=a.shape, size=0, err_over_tol=0.0, worst_index=None,
                          manual_value=nan, reference_value=nan, worst_abs_err=nan,
                          worst_rel_err=nan, max_abs_err=0.0, max_rel_err=nan, n_bad=0,
                          passed=True, **base)
    both_nan = np.isnan(a64) & np.isnan(e64)
    same_inf = np.isinf(a64) & (a64 == e64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        abs_err = np.where(both_nan | same_inf, 0.0, np.abs(a64 - e64))
        abs_err = np.where(np.isnan(abs_err), np.inf, abs_err)  # NaN on one side only
        # no relative error where the reference is 0 (NaN there; abs err covers those)
        rel_err = np.where(e64 == 0, np.nan,
                           np.where(abs_err == 0, 0.0, abs_err / np.abs(e64)))
        rel_err = np.where(np.isnan(rel_err) & (e64 != 0), np.inf, rel_err)  # inf/inf, x/NaN
        # a non-finite reference allows only atol, so that inf/inf or x/NaN never passes
        allowed = tol.allowed(np.where(np.isfinite(e64), e64, 0.0))
        excess = np.where(abs_err == 0, 0.0, abs_err / allowed)  # > 1: beyond tolerance
    bad = excess > 1
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), a.shape))
    has_rel = ~np.isnan(rel_err)
    return Comparison(shape=a.shape, size=a.size, err_over_tol=float(excess[worst]),
                      worst_index=worst, manual_value=float(a64[worst]),
                      reference_value=float(e64[worst]), worst_abs_err=float(abs_err[worst]),
                      worst_rel_err=float(rel_err[worst]), max_abs_err=float(abs_err.max()),
                      max_rel_err=float(rel_err[has_rel].max()) if has_rel.any() else nan,
                      n_bad=int(bad.sum()), passed=not bad.any(),
                      note=_slip_note(a, e, tol, name, "", alternatives) if bad.any() else "",
                      **base)


def _slip_note(actual: np.ndarray, expected: np.ndarray, tol: Tolerance, name: str,
               sep: str = "", alternatives: Alternatives = None) -> str:
    """``"likely slip: your W1 is ..."`` when a classic slip explains ``actual`` exactly
    (:func:`comparisons.core.diagnosis.likely_slip`), else ``""``."""
    slip = likely_slip(actual, expected, tol, alternatives)
    if not slip:
        return ""
    # a parameter's or an input's name (W1, x, 0.weight) means its gradient: dW1, dx; an
    # input's gradient row (grad_input, grad_key) is named as the gradient already
    what = name if name in _QUANTITIES or not name or name.startswith("grad_") else (
        f"d{name}" if name.isidentifier() else f"d({name})")
    return f"{sep}{SLIP_PREFIX} your {what} is {slip}"


#: comparison names that are a quantity themselves, not a parameter whose gradient it is
_QUANTITIES = {"derivative", "second_derivative", "backward", "forward", "gradient", "value",
               "jacobian", "loss", "output", "eval-output", "eval-loss", "grad_input"}


#: how a note that names a slip begins; :func:`describe` keeps the numbers beside it
SLIP_PREFIX = "likely slip:"
