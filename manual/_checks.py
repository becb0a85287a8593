"""Input checks shared by the public API of :mod:`manual`.

Every public function validates its arguments here, at the boundary, so that a
wrong shape, dtype or value is reported as a ``ValueError``/``TypeError`` that
names the problem, instead of surfacing as a broadcasting error deep in NumPy.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_real_array(x: Any, name: str, *, allow_complex: bool = False) -> np.ndarray:
    """Return ``x`` as a floating-point ndarray (integers and bools become float64).

    float32 and float64 keep their dtype. Complex input is accepted only where the
    caller supports it (the complex-step derivative runs elementwise code on it).
    """
    if type(x) is np.ndarray and x.dtype.kind == "f" and x.dtype.itemsize >= 4:
        return x  # why: the common case first; a training step makes ~20 of these checks
    if isinstance(x, (list, tuple)) or np.isscalar(x):
        x = np.asarray(x)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(x).__name__}")
    kind = x.dtype.kind
    if kind in "biu":
        return x.astype(np.float64)
    if kind == "f":
        if x.dtype.itemsize < 4:  # float16: promote, NumPy has no fast float16 math
            return x.astype(np.float32)
        return x
    if kind == "c" and allow_complex:
        return x
    raise TypeError(f"{name} must hold real numbers (float32/float64), got dtype {x.dtype}")


def check_finite(x: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` naming the first NaN or infinite entry of ``x``."""
    # why: a sum is finite only if every term is (a NaN or an inf poisons it): one pass and
    # no temporary in the common case; a sum that overflows falls through to the exact test
    if x.flags.c_contiguous and x.dtype.kind in "fc" and np.isfinite(np.einsum("i->",
                                                                             x.reshape(-1))):
        return
    if np.isfinite(x).all():
        return
    bad = ~np.isfinite(x)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} contains a non-finite value ({x[idx]!r}) at index {idx}")


def check_choice(value: str, valid: tuple[str, ...] | list[str], what: str) -> None:
    """Raise ``ValueError`` listing the valid choices when ``value`` is not one of them."""
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(valid)}")


class Configurable:
    """Keyword-argument handling shared by activations, losses and optimizers.

    A subclass lists its hyperparameters, with torch's names and defaults, in
    ``defaults``; the constructor rejects unknown names (listing the valid ones),
    stores the merged values in ``self.kwargs`` and as attributes (the arguments the
    caller passed, alone, in ``self.explicit_kwargs``: the harness hands torch only those,
    so that torch's own defaults meet ours), then calls ``_check_params`` for range
    checks.
    """

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - set(self.defaults))
        if unknown:
            valid = ", ".join(self.defaults) or "none"
            raise TypeError(f"{self.name} got unexpected keyword argument(s) "
                            f"{', '.join(unknown)}; valid: {valid}")
        self.explicit_kwargs: dict[str, Any] = dict(kwargs)  # what the caller passed
        self.kwargs: dict[str, Any] = {**self.defaults, **kwargs}
        for key, value in self.kwargs.items():
            setattr(self, key, value)
        self._check_params()

    def _check_params(self) -> None:
        """Subclasses raise ``ValueError``/``TypeError`` here for bad hyperparameters."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{type(self).__name__}({args})"


def check_number(owner: str, key: str, value: Any, *, low: float | None = None,
                 low_open: bool = False) -> float:
    """Return ``value`` as float, raising if it is not a real number or is below ``low``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {key} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{owner}: {key} must be finite, got {value}")
    if low is not None and (value < low or (low_open and value == low)):
        bound = f"> {low}" if low_open else f">= {low}"
        raise ValueError(f"{owner}: {key} must be {bound}, got {value}")
    return value
