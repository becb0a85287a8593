"""The row of the lessons' comparison table: one quantity of a lesson against torch.

Shared by :mod:`comparisons.teaching.lessons` and the lessons' own comparison modules
(:mod:`comparisons.teaching.layer_lessons`, :mod:`comparisons.teaching.gradients_through_time`),
which the lessons module imports: this module sits below all of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from comparisons.core.compare import compare_arrays
from comparisons.core.tolerances import tolerance_for

__all__ = ["COLUMNS", "TOL", "lesson_row"]

TOL = tolerance_for(np.float64, "torch")
#: ``err_over_tol`` (the worst element's error over its tolerance, > 1 fails) decides;
#: ``worst_*`` are that element's errors, ``max_*`` the maxima over all elements
COLUMNS = ["lesson", "quantity", "oracle", "size", "err_over_tol", "worst_abs_err",
           "worst_rel_err", "max_abs_err", "max_rel_err", "rtol", "atol", "passed", "note"]


def lesson_row(lesson: str, quantity: str, manual: Any, torch_value: Any,
               oracle: str = "torch") -> dict[str, Any]:
    """``quantity`` of ``lesson``, ``manual`` against ``torch_value`` (float64, torch's
    float64 tolerance), with the columns of :data:`COLUMNS`."""
    c = compare_arrays(np.asarray(manual, dtype=np.float64),
                       np.asarray(torch_value, dtype=np.float64), TOL, quantity)
    row = c.row()
    return {"lesson": lesson, "quantity": quantity, "oracle": oracle,
            **{k: row[k] for k in COLUMNS if k in row and k != "note"}, "note": c.note}
