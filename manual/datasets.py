r"""Small data sets to train on: synthetic ones made here in NumPy, and real ones that
ship inside scikit-learn (no download).

Synthetic, two classes each, drawn from a seed:

- :func:`xor` — four Gaussian clusters at :math:`(\pm1, \pm1)`; the label is the XOR of
  the two signs, so no straight line separates the classes.
- :func:`two_spirals` — two interleaved spirals (the Lang–Witbrock benchmark).
- :func:`moons` — two interleaving half circles (as scikit-learn's ``make_moons``).
- :func:`parity` — sequences of bits, labelled by their parity (for recurrent layers).

Real (the optional extra ``pip install "backprop-reference-suite[data]"``, which brings
scikit-learn): ``iris`` (150 x 4, 3 classes), ``digits`` (1797 x 64, 10 classes),
``breast_cancer`` (569 x 30, 2 classes), ``diabetes`` (442 x 10, a real-valued target).

:func:`load` returns any of them as a :class:`Dataset` with standardised features
(zero mean, unit variance per column; constant columns are left at zero), and for
``diabetes`` a standardised target.

>>> from manual import datasets
>>> X, labels = datasets.xor(n=8, seed=0)
>>> X.shape, labels.tolist()
((8, 2), [0, 1, 1, 0, 0, 1, 1, 0])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from manual._checks import check_choice, check_number

__all__ = ["REAL", "SYNTHETIC", "Dataset", "load", "moons", "names", "parity",
           "sklearn_available", "two_spirals", "xor"]

SYNTHETIC = ("xor", "spirals", "moons")
REAL = ("iris", "digits", "breast_cancer", "diabetes")


def names() -> list[str]:
    """Every data set :func:`load` knows, synthetic first."""
    return list(SYNTHETIC + REAL)


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"the number of samples must be an integer >= 2, got {n!r}")
    return int(n)


def xor(n: int = 200, noise: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""``(X, labels)``: ``n`` points around the corners :math:`(\pm1, \pm1)`, cycling
    through the corners in the order (-,-), (-,+), (+,-), (+,+), with Gaussian noise of
    standard deviation ``noise``; label :math:`[\,c_1 > 0\,] \oplus [\,c_2 > 0\,]` of the
    corner :math:`c`. With ``noise=0`` and ``n=4`` this is the truth table of XOR."""
    n = _check_n(n)
    noise = check_number("xor", "noise", noise, low=0.0)
    corners = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    c = corners[np.arange(n) % 4]  # (n, 2)
    rng = np.random.default_rng(seed)
    X = c + noise * rng.standard_normal((n, 2))
    labels = ((c[:, 0] > 0) ^ (c[:, 1] > 0)).astype(np.int64)
    return X, labels


def two_spirals(n: int = 200, noise: float = 0.05, turns: float = 1.5,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""``(X, labels)``: two spirals of ``turns`` turns, the second the first rotated by
    :math:`\pi`. A point at radius :math:`r \in (0, 1]` sits at angle
    :math:`2\pi\cdot\text{turns}\cdot r`; :math:`r = \sqrt{u}`, :math:`u \sim U(0.02, 1)`,
    spreads the points evenly along the arm. Labels alternate 0, 1, 0, 1, ..."""
    n = _check_n(n)
    noise = check_number("two_spirals", "noise", noise, low=0.0)
    turns = check_number("two_spirals", "turns", turns, low=0.0, low_open=True)
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 2).astype(np.int64)
    r = np.sqrt(rng.uniform(0.02, 1.0, n))  # (n,)
    angle = 2 * np.pi * turns * r + np.pi * labels  # class 1: rotated by pi
    X = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    return X + noise * rng.standard_normal((n, 2)), labels


def moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""``(X, labels)``: the upper half circle :math:`(\cos\phi, \sin\phi)` (label 0) and
    the lower one :math:`(1 - \cos\phi,\ \tfrac12 - \sin\phi)` (label 1),
    :math:`\phi \in [0, \pi]` evenly spaced, shuffled, with Gaussian noise."""
    n = _check_n(n)
    noise = check_number("moons", "noise", noise, low=0.0)
    n0 = n // 2
    phi0 = np.linspace(0, np.pi, n0)
    phi1 = np.linspace(0, np.pi, n - n0)
    X = np.vstack([np.column_stack([np.cos(phi0), np.sin(phi0)]),
                   np.column_stack([1 - np.cos(phi1), 0.5 - np.sin(phi1)])])
    labels = np.concatenate([np.zeros(n0), np.ones(n - n0)]).astype(np.int64)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    return X[perm] + noise * rng.standard_normal((n, 2)), labels[perm]


def parity(n: int = 256, length: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""``(tokens, labels)``: ``n`` sequences of ``length`` random bits (int64 (n, length),
    tokens 0 and 1, for an embedding) and the parity of each, :math:`\sum_t b_t \bmod 2`.
    A classic recurrent task: the label depends on every step, so the gradient has to
    travel back through all of them."""
    n = _check_n(n)
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"parity: length must be an integer >= 1, got {length!r}")
    bits = np.random.default_rng(seed).integers(0, 2, size=(n, int(length))).astype(np.int64)
    return bits, (bits.sum(axis=1) % 2).astype(np.int64)


@dataclass(frozen=True)
class Dataset:
    """A data set ready to train on.

    ``X`` (samples, features) float64, standardised. ``target``: int64 class labels
    (``n_classes >= 2``) or, for regression (``n_classes == 0``), float64 values.
    """

    name: str
    X: np.ndarray
    target: np.ndarray
    n_classes: int
    source: str

    @property
    def is_classification(self) -> bool:
        return self.n_classes > 0

    def one_hot(self, dtype=np.float64) -> np.ndarray:
        """(samples, n_classes) indicator targets, for MSE or BCE on class labels."""
        if not self.is_classification:
            raise ValueError(f"{self.name} is a regression data set; it has no classes")
        return np.eye(self.n_classes, dtype=dtype)[self.target]


def _standardise(a: np.ndarray) -> np.ndarray:
    std = a.std(axis=0)
    # why: constant columns (digits' always-blank border pixels) have std 0; keep them 0
    return (a - a.mean(axis=0)) / np.where(std > 0, std, 1.0)


def sklearn_available() -> bool:
    """Whether scikit-learn (the optional ``data`` extra) can be imported."""
    try:
        import sklearn.datasets  # noqa: F401
    except ImportError:
        return False
    return True


def _load_real(name: str) -> Dataset:
    try:
        import sklearn.datasets as skd
    except ImportError:
        raise ImportError(f"the {name!r} data set ships with scikit-learn, which is not "
                          f"installed: pip install 'backprop-reference-suite[data]' (or "
                          f"scikit-learn)") from None
    bunch = getattr(skd, f"load_{name}")()
    X = _standardise(np.asarray(bunch.data, dtype=np.float64))
    source = f"sklearn.datasets.load_{name}"
    if name == "diabetes":
        y = np.asarray(bunch.target, dtype=np.float64)
        return Dataset(name, X, (y - y.mean()) / y.std(), 0, source)
    labels = np.asarray(bunch.target, dtype=np.int64)
    return Dataset(name, X, labels, int(labels.max()) + 1, source)


def load(name: str, n: int = 200, seed: int = 0) -> Dataset:
    """The data set called ``name`` (see :func:`names`); ``n`` and ``seed`` apply to the
    synthetic ones (the real ones are used whole)."""
    check_choice(name, names(), "data set")
    if name in REAL:
        return _load_real(name)
    makers: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
        "xor": xor, "spirals": two_spirals, "moons": moons}
    make = makers[name]
    X, labels = make(n=n, seed=seed)
    return Dataset(name, _standardise(X), labels, 2, f"manual.datasets.{make.__name__}")
