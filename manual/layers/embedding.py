r"""Embedding: :class:`Embedding` and the CS231n-style pair :func:`word_embedding_forward`
/ :func:`word_embedding_backward`.

A lookup table: row :math:`i` of the weight :math:`W` (num_embeddings, embedding_dim) is
the vector of index :math:`i`, and for integer indices :math:`x` of any shape

.. math::
    y_{\ldots} = W_{x_{\ldots}}, \qquad
    \frac{\partial L}{\partial W_i} = \sum_{\ldots:\; x_{\ldots} = i}
    \frac{\partial L}{\partial y_{\ldots}}

— the gradient of a row is the *sum* of the upstream gradients of every position that
looked it up. The indices are integers: there is no gradient with respect to them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from manual.layers.base import Layer, as_rng, check_positive_int, layer_dtype

__all__ = ["Embedding", "check_indices", "word_embedding_backward", "word_embedding_forward"]


def check_indices(owner: str, x: Any, num_embeddings: int) -> np.ndarray:
    """``x`` as an int64 array of indices in ``[0, num_embeddings)``, else a
    ``TypeError`` (not integers) or ``ValueError`` (out of range) naming the layer."""
    x = np.asarray(x)
    if x.dtype.kind not in "iu":
        raise TypeError(f"{owner}: indices must be integers (torch: int64 or int32), got "
                        f"dtype {x.dtype} with shape {x.shape}")
    if x.size:
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi >= num_embeddings:
            bad = lo if lo < 0 else hi
            raise ValueError(f"{owner}: index {bad} out of range for num_embeddings="
                             f"{num_embeddings} (valid: 0 to {num_embeddings - 1}); indices "
                             f"of shape {x.shape} span [{lo}, {hi}]")
    return x.astype(np.int64, copy=False)


def word_embedding_forward(x: np.ndarray, W: np.ndarray
                           ) -> tuple[np.ndarray, tuple[np.ndarray, tuple[int, int]]]:
    r""":math:`y = W[x]`: ``x`` integer indices of any shape, ``W`` (V, D), ``y`` (\*x.shape,
    D). Returns ``(y, cache)``."""
    return W[x], (x, W.shape)  # (*, D): fancy indexing copies the rows


def word_embedding_backward(dout: np.ndarray, cache: tuple[np.ndarray, tuple[int, int]],
                            padding_idx: int | None = None,
                            scale_grad_by_freq: bool = False) -> np.ndarray:
    r""":math:`\partial L/\partial W`, (V, D): row :math:`i` is the sum of ``dout`` over the
    positions whose index is :math:`i`.

    Written ``dW[x] = dout`` it would be wrong: with repeated indices NumPy's fancy
    assignment keeps only the *last* write to a row, so a word seen twice in the batch
    gets one of its two gradients. ``np.add.at`` is the unbuffered form that adds every
    occurrence. The ``padding_idx`` row gets no gradient (as torch: it stays a fixed
    pad vector); with ``scale_grad_by_freq`` each contribution is divided by how often
    its index occurs in the batch."""
    x, (num, dim) = cache
    flat = x.reshape(-1)  # (M,)
    d2 = dout.reshape(-1, dim)  # (M, D)
    if scale_grad_by_freq:
        counts = np.bincount(flat, minlength=num)  # occurrences of each index
        d2 = d2 / counts[flat][:, None].astype(dout.dtype)
    dW = np.zeros((num, dim), dtype=dout.dtype)
    np.add.at(dW, flat, d2)  # dW[flat[m]] += d2[m] for every m, repeats accumulating
    if padding_idx is not None:
        dW[padding_idx] = 0
    return dW


class Embedding(Layer):
    r"""``nn.Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
    norm_type=2.0, scale_grad_by_freq=False, sparse=False)``.

    ``params``: ``weight`` (num_embeddings, embedding_dim), drawn from :math:`N(0, 1)` as
    torch's init (from ``rng``), with the ``padding_idx`` row zeroed. A negative
    ``padding_idx`` counts from the end, as torch. Input: integer indices of any shape
    (int64 or int32); output: (\*, embedding_dim). ``backward`` stores ``grads["weight"]``
    (:func:`word_embedding_backward`) and returns None: integer indices have no gradient.
    With ``max_norm``, each row looked up whose ``norm_type``-norm exceeds it is rescaled
    *in place* to norm ``max_norm`` before the lookup, as torch does. ``sparse=True`` asks
    torch for a sparse gradient; ours is always dense (the same values).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False, dtype: Any = None, *,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        self.num_embeddings = check_positive_int("Embedding", "num_embeddings", num_embeddings,
                                                 allow_zero=True)
        self.embedding_dim = check_positive_int("Embedding", "embedding_dim", embedding_dim,
                                                allow_zero=True)
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
                raise TypeError(f"Embedding: padding_idx must be an integer or None, got "
                                f"{padding_idx!r}")
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings="
                                 f"{self.num_embeddings} (from {-self.num_embeddings} to "
                                 f"{self.num_embeddings - 1}), got {padding_idx}")
            padding_idx = int(padding_idx) % self.num_embeddings  # negative: from the end
        self.padding_idx = padding_idx
        if max_norm is not None and not max_norm > 0:
            raise ValueError(f"Embedding: max_norm must be positive or None, got {max_norm}")
        self.max_norm = None if max_norm is None else float(max_norm)
        self.norm_type = float(norm_type)
        self.scale_grad_by_freq, self.sparse = bool(scale_grad_by_freq), bool(sparse)
        self.config = {"num_embeddings": self.num_embeddings,
                       "embedding_dim": self.embedding_dim, "padding_idx": self.padding_idx,
                       "max_norm": self.max_norm, "norm_type": self.norm_type,
                       "scale_grad_by_freq": self.scale_grad_by_freq, "sparse": self.sparse}
        dt = layer_dtype("Embedding", dtype)
        w = as_rng(rng).standard_normal((self.num_embeddings, self.embedding_dim)).astype(dt)
        if self.padding_idx is not None:
            w[self.padding_idx] = 0
        self.params["weight"] = w

    def _renorm(self, idx: np.ndarray) -> None:
        """torch's ``embedding_renorm_``: rows in ``idx`` with norm > max_norm scaled (in
        place) by max_norm / (norm + 1e-7)."""
        W = self.params["weight"]
        rows = np.unique(idx)
        norms = np.linalg.norm(W[rows], ord=self.norm_type, axis=1)  # (R,)
        big = norms > self.max_norm
        W[rows[big]] *= (self.max_norm / (norms[big] + 1e-7))[:, None].astype(W.dtype)

    def forward(self, x: Any) -> np.ndarray:
        idx = check_indices("Embedding", x, self.num_embeddings)
        if self.max_norm is not None and idx.size:
            self._renorm(idx)
        out, self._cache = word_embedding_forward(idx, self.params["weight"])
        self._out_shape = out.shape
        return out

    def backward(self, dout: np.ndarray) -> None:
        dout = self.check_dout(dout)
        self.grads = {"weight": word_embedding_backward(dout, self._cache, self.padding_idx,
                                                        self.scale_grad_by_freq)}
        return None  # integer indices: no input gradient
