r"""The affine (fully connected) layer: CS231n-style functions, the MLP's :class:`Dense`
and torch's :class:`Linear`.

For a batch :math:`X` of shape (N, in), weights :math:`W` (in, out) and bias
:math:`b` (out,):

.. math::
    Z = X W + b

and, given the upstream gradient :math:`\delta = \partial L/\partial Z` (N, out):

.. math::
    \frac{\partial L}{\partial W} = X^\top \delta, \qquad
    \frac{\partial L}{\partial b} = \sum_n \delta_n, \qquad
    \frac{\partial L}{\partial X} = \delta W^\top

``W`` is stored (in, out) by :class:`Dense` and the functions, the layout of the
textbook formula :math:`XW`; torch's ``nn.Linear`` stores the transpose, (out, in),
and so does :class:`Linear`, whose ``weight`` is torch's.

:class:`Bilinear` (torch's ``nn.Bilinear``) is the bilinear form of two inputs,
:math:`y_k = x_1^\top W_k x_2 + b_k`, with :func:`bilinear_forward`/:func:`bilinear_backward`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from manual.layers.base import Layer, as_rng, check_positive_int, layer_dtype, uniform_init

__all__ = ["Bilinear", "Dense", "Identity", "Linear", "affine_backward", "affine_forward",
           "bilinear_backward", "bilinear_forward", "linear_backward", "linear_forward"]


def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray
                   ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """:math:`Z = XW + b`. Returns ``(Z, cache)``; the cache is what backward needs."""
    z = x @ W  # (N, out)
    z += b  # why: in place, no second (N, out) array for the sum
    return z, (x, W)


def affine_backward(dz: np.ndarray, cache: tuple[np.ndarray, np.ndarray],
                    need_dx: bool = True) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    r"""Given :math:`\delta = \partial L/\partial Z`, return ``(dX, dW, db)``.

    With ``need_dx=False`` (the input is data), ``dX`` is not computed and is ``None``:
    as torch skips the gradient of an input that does not require grad."""
    x, W = cache
    dW = x.T @ dz  # (in, out): X^T delta, summed over the batch by the product
    db = dz.sum(axis=0)  # (out,)
    dx = dz @ W.T if need_dx else None  # (N, in)
    return dx, dW, db


class Dense:
    """Affine layer holding live references to its parameters.

    ``forward`` caches its input; ``backward(dz)`` returns the gradient for the
    input and stores the parameter gradients in ``dW`` and ``db``. ``W`` and ``b``
    are the very arrays the owner (e.g. :class:`manual.MLP`) exposes in ``params``,
    so an in-place change to them takes effect in the next forward.

    With ``needs_input_grad = False`` (the first layer of a network: its input is data),
    ``backward`` skips ``dz @ W.T`` and returns ``None``, as torch skips the
    gradient of an input that does not require grad.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(f"Dense: W must be (in, out) and b (out,), got {W.shape} and "
                             f"{b.shape}")
        self.W, self.b = W, b
        self.needs_input_grad = True
        self._cache: tuple[np.ndarray, np.ndarray] | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None

    @classmethod
    def init(cls, n_in: int, n_out: int, rng: np.random.Generator,
             dtype: type = np.float64) -> Dense:
        r"""Draw W and b from :math:`U(-1/\sqrt{n_{in}},\ 1/\sqrt{n_{in}})`, the
        distribution of torch's ``nn.Linear`` default initialisation."""
        bound = 1 / np.sqrt(n_in)
        W: np.ndarray = rng.uniform(-bound, bound, size=(n_in, n_out)).astype(dtype)
        b: np.ndarray = rng.uniform(-bound, bound, size=n_out).astype(dtype)
        return cls(W, b)

    def forward(self, x: np.ndarray) -> np.ndarray:
        z, self._cache = affine_forward(x, self.W, self.b)
        return z

    def backward(self, dz: np.ndarray) -> np.ndarray | None:
        if self._cache is None:
            raise RuntimeError("Dense.backward called before forward")
        # getattr: a Dense unpickled from before the attribute existed still computes dX
        need_dx = getattr(self, "needs_input_grad", True)
        dx, self.dW, self.db = affine_backward(dz, self._cache, need_dx)
        return dx


# --------------------------------------------------------------------------------------
# torch's layout: nn.Linear
# --------------------------------------------------------------------------------------
def linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None
                   ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, bool]]:
    r""":math:`y = x W^\top + b` over any leading dimensions, as ``F.linear``: ``x`` is
    (\*, in), ``weight`` (out, in), ``bias`` (out,) or None. Returns ``(y, cache)``."""
    y = x @ weight.T  # (*, out)
    if bias is not None:
        y = y + bias
    return y, (x, weight, bias is not None)


def linear_backward(dout: np.ndarray, cache: tuple[np.ndarray, np.ndarray, bool],
                    need_dx: bool = True
                    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    r"""Given :math:`\delta = \partial L/\partial y` (\*, out), return ``(dx, dW, db)``:

    .. math::
        \frac{\partial L}{\partial W} = \delta^\top x, \qquad
        \frac{\partial L}{\partial b} = \sum \delta, \qquad
        \frac{\partial L}{\partial x} = \delta W

    with every leading dimension summed over (``db`` is None without a bias; ``dx`` is
    None with ``need_dx=False``)."""
    x, weight, has_bias = cache
    d2 = dout.reshape(-1, dout.shape[-1])  # (M, out): the leading dims are all "batch"
    dw = d2.T @ x.reshape(-1, x.shape[-1])  # (out, in)
    db = d2.sum(axis=0) if has_bias else None  # (out,)
    dx = dout @ weight if need_dx else None  # (*, in)
    return dx, dw, db


class Linear(Layer):
    r"""``nn.Linear(in_features, out_features, bias=True)``: :math:`y = xW^\top + b`.

    ``params``: ``weight`` (out, in) and ``bias`` (out,), drawn from
    :math:`U(-1/\sqrt{\text{in}}, 1/\sqrt{\text{in}})` as torch's default init (from
    ``rng``, a seed or Generator: torch's own random stream cannot be reproduced, so the
    harness copies our values into torch). Input (\*, in), output (\*, out).
    ``device`` is torch's argument and has no meaning here; it is not accepted.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None, *, rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        self.in_features = check_positive_int("Linear", "in_features", in_features,
                                              allow_zero=True)
        self.out_features = check_positive_int("Linear", "out_features", out_features,
                                               allow_zero=True)
        self.config = {"in_features": self.in_features, "out_features": self.out_features,
                       "bias": bool(bias)}
        dt = layer_dtype("Linear", dtype)
        gen = as_rng(rng)
        bound = 1 / np.sqrt(in_features) if in_features else 0.0
        self.params["weight"] = uniform_init(gen, bound, (out_features, in_features), dt)
        if bias:
            self.params["bias"] = uniform_init(gen, bound, (out_features,), dt)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.check_input(x, tuple(range(1, 33)), what="(*, in_features)")
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Linear: input must be (*, {self.in_features}) for in_features="
                             f"{self.in_features}, got shape {x.shape}")
        y, self._cache = linear_forward(x, self.params["weight"], self.params.get("bias"))
        self._out_shape = y.shape
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dout = self.check_dout(dout)
        dx, dw, db = linear_backward(dout, self._cache, self.needs_input_grad)
        self.grads = {"weight": dw} if db is None else {"weight": dw, "bias": db}
        return dx


class Identity(Layer):
    """``nn.Identity()``: returns its input; backward returns ``dout``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # torch ignores its arguments too
        super().__init__()

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.check_input(x, tuple(range(0, 33)))
        self._cache = self._out_shape = x.shape
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return self.check_dout(dout)


# --------------------------------------------------------------------------------------
# nn.Bilinear
# --------------------------------------------------------------------------------------
def bilinear_forward(x1: np.ndarray, x2: np.ndarray, weight: np.ndarray,
                     bias: np.ndarray | None) -> tuple[np.ndarray, tuple]:
    r""":math:`y_k = \sum_{ij} x_{1i} W_{kij} x_{2j} + b_k` over any leading dims, as
    ``F.bilinear``: ``x1`` (\*, in1), ``x2`` (\*, in2) with the same leading dims,
    ``weight`` (out, in1, in2), ``bias`` (out,) or None. Returns ``(y, cache)``."""
    t = np.einsum("...j,kij->...ki", x2, weight)  # (*, out, in1): W_k x2
    y = np.einsum("...i,...ki->...k", x1, t)  # (*, out)
    if bias is not None:
        y = y + bias
    return y, (x1, x2, weight, t, bias is not None)


def bilinear_backward(dout: np.ndarray, cache: tuple
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    r"""``(dx1, dx2, dweight, dbias)`` of :func:`bilinear_forward` (``dbias`` None
    without a bias), given :math:`\delta = \partial L/\partial y` (\*, out):

    .. math::
        \frac{\partial L}{\partial x_1} = \sum_k \delta_k W_k x_2, \quad
        \frac{\partial L}{\partial x_2} = \sum_k \delta_k W_k^\top x_1, \quad
        \frac{\partial L}{\partial W_{kij}} = \sum \delta_k x_{1i} x_{2j}, \quad
        \frac{\partial L}{\partial b_k} = \sum \delta_k

    with the parameter gradients summed over every leading dim (bilinear: no kinks)."""
    x1, x2, weight, t, has_bias = cache
    dx1 = np.einsum("...k,...ki->...i", dout, t)
    dx2 = np.einsum("...k,kij,...i->...j", dout, weight, x1, optimize=True)
    d2 = dout.reshape(-1, dout.shape[-1])
    a = x1.reshape(-1, x1.shape[-1])
    b = x2.reshape(-1, x2.shape[-1])
    dw = np.einsum("nk,ni,nj->kij", d2, a, b, optimize=True)
    db = d2.sum(axis=0) if has_bias else None
    return dx1, dx2, dw, db


class Bilinear(Layer):
    r"""``nn.Bilinear(in1_features, in2_features, out_features, bias=True)``:
    :math:`y_k = x_1^\top W_k x_2 + b_k`.

    ``params``: ``weight`` (out, in1, in2) and ``bias`` (out,), drawn from
    :math:`U(-1/\sqrt{\text{in1}}, 1/\sqrt{\text{in1}})` as torch's default init (from
    ``rng``, a seed or Generator). ``forward(x1, x2)`` takes (\*, in1) and (\*, in2) with
    the same leading dims (none: one sample) and returns (\*, out); ``backward(dout)``
    returns ``(dx1, dx2)`` (``None`` with ``needs_input_grad = False``):

    .. math::
        \frac{\partial L}{\partial x_1} = \sum_k \delta_k W_k x_2, \quad
        \frac{\partial L}{\partial x_2} = \sum_k \delta_k W_k^\top x_1, \quad
        \frac{\partial L}{\partial W_{kij}} = \sum \delta_k x_{1i} x_{2j}, \quad
        \frac{\partial L}{\partial b_k} = \sum \delta_k

    The functional pair is :func:`bilinear_forward`/:func:`bilinear_backward`.
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, dtype: Any = None, *,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        self.in1_features = check_positive_int("Bilinear", "in1_features", in1_features)
        self.in2_features = check_positive_int("Bilinear", "in2_features", in2_features)
        self.out_features = check_positive_int("Bilinear", "out_features", out_features,
                                               allow_zero=True)
        self.config = {"in1_features": self.in1_features, "in2_features": self.in2_features,
                       "out_features": self.out_features, "bias": bool(bias)}
        dt = layer_dtype("Bilinear", dtype)
        gen = as_rng(rng)
        bound = 1 / np.sqrt(self.in1_features)
        shape = (self.out_features, self.in1_features, self.in2_features)
        self.params["weight"] = uniform_init(gen, bound, shape, dt)
        if bias:
            self.params["bias"] = uniform_init(gen, bound, (self.out_features,), dt)

    def forward(self, x1: Any, x2: Any = None) -> np.ndarray:
        if x2 is None:
            raise TypeError("Bilinear.forward takes two inputs, forward(x1, x2)")
        a = self.check_input(x1, tuple(range(1, 33)), name="input1",
                             what=f"(*, {self.in1_features})")
        b = self.check_input(x2, tuple(range(1, 33)), name="input2",
                             what=f"(*, {self.in2_features})")
        if a.shape[-1] != self.in1_features or b.shape[-1] != self.in2_features:
            raise ValueError(f"Bilinear: inputs must be (*, {self.in1_features}) and "
                             f"(*, {self.in2_features}), got shapes {a.shape} and {b.shape}")
        if a.shape[:-1] != b.shape[:-1]:
            raise ValueError(f"Bilinear: the inputs' leading dims must match, got shapes "
                             f"{a.shape} and {b.shape}")
        y, self._cache = bilinear_forward(a, b, self.params["weight"], self.params.get("bias"))
        self._out_shape = y.shape
        return y

    def backward(self, dout: Any) -> tuple[np.ndarray, np.ndarray] | None:
        dout = self.check_dout(dout)
        dx1, dx2, dw, db = bilinear_backward(dout, self._cache)
        self.grads = {"weight": dw} if db is None else {"weight": dw, "bias": db}
        return (dx1, dx2) if self.needs_input_grad else None
