r"""The layer protocol every layer of :mod:`manual.layers` follows, as ``torch.nn`` modules do.

A layer is configured like its torch module (same class name, argument names, order and
defaults) and holds:

``params``
    dict of the live parameter arrays, named as torch names them (``weight``, ``bias``),
    in torch's layouts (``Linear.weight`` is (out, in); conv weights are
    (out, in/groups, \*kernel)). An optimizer updates these arrays in place.
``buffers``
    dict of state that is not trained (batch norm's ``running_mean``, ``running_var``,
    ``num_batches_tracked``), as torch's ``named_buffers()``.
``grads``
    after :meth:`Layer.backward`: the gradient of every parameter, keyed like ``params``.
``config``
    the arguments of the torch constructor, named as torch names them (``in_features``,
    ``kernel_size``, ``momentum``, …), with the values this layer was built with: the
    harness builds the torch twin as ``getattr(torch.nn, type(layer).__name__)(**config)``
    and copies ``params`` and ``buffers`` into it.
``training``
    True in train mode (the default, as torch's); :meth:`Layer.train` and :meth:`Layer.eval`
    switch it for the layers whose forward depends on it (dropout, batch norm).

and two methods:

``forward(x) -> out``
    computes the output and caches what backward needs (nothing else is cached);
``backward(dout) -> dx``
    given :math:`\partial L/\partial \text{out}`, stores the parameter gradients in
    ``grads`` and returns :math:`\partial L/\partial x`, the vector–Jacobian product.

Where nobody needs :math:`\partial L/\partial x` (the first layer of a network: its input
is data), setting ``needs_input_grad = False`` lets a layer skip that product, as torch
skips it for an input that does not require grad; ``backward`` then returns ``None``.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from manual._checks import FLOAT_DTYPES, as_real_array, check_finite

__all__ = ["Layer", "as_rng", "check_positive_int", "layer_dtype", "uniform_init"]


def layer_dtype(owner: str, dtype: Any) -> np.dtype:
    """``dtype`` as a float32/float64 NumPy dtype (``None``: float64, NumPy's default float;
    torch's default is float32, so the harness always states the dtype it compares)."""
    if dtype is None:
        return np.dtype(np.float64)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{owner}: dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"{owner}: dtype must be float32 or float64, got {dt}")
    return dt


def as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A NumPy generator from a generator, a seed, or ``None`` (seed 0: reproducible)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, bool) or not isinstance(rng, (int, np.integer)):
        raise TypeError(f"rng must be a numpy Generator or an integer seed, got {rng!r}")
    return np.random.default_rng(int(rng))


def check_positive_int(owner: str, key: str, value: Any, *, allow_zero: bool = False) -> int:
    """``value`` as an int, raising ``ValueError``/``TypeError`` naming the layer and argument."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{owner}: {key} must be an integer, got {value!r}")
    if value < (0 if allow_zero else 1):
        bound = ">= 0" if allow_zero else ">= 1"
        raise ValueError(f"{owner}: {key} must be {bound}, got {value}")
    return int(value)


def uniform_init(rng: np.random.Generator, bound: float, shape: tuple[int, ...],
                 dtype: np.dtype) -> np.ndarray:
    r""":math:`U(-\text{bound}, \text{bound})`, the distribution of torch's default init for
    linear and convolution layers (``bound`` :math:`= 1/\sqrt{\text{fan\_in}}`). Values are
    drawn in float64 and rounded, so both dtypes start from the same numbers."""
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


class Layer:
    """Base class of the layer protocol (see the module docstring).

    Subclasses fill ``params``/``buffers`` in ``__init__`` and implement ``forward`` and
    ``backward``; they read their arrays from ``params`` at every call (never from a copy
    kept elsewhere), so an in-place update by an optimizer or a finite-difference sweep
    takes effect in the next forward. :meth:`check_input` validates an input at the API boundary.
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.config: dict[str, Any] = {}
        self.training = True
        self.needs_input_grad = True
        self._cache: Any = None  # what backward needs, set by forward
        self._out_shape: tuple[int, ...] = ()

    # -- the protocol ------------------------------------------------------------------
    # Typed Any: most layers take and return one array, but a recurrent layer returns
    # ``(output, h_n)``, which the next layer of a Sequential (LastTimeStep) takes, and its
    # backward returns ``(dx, dhx)``; subclasses state their own, narrower types.
    def forward(self, x: Any) -> Any:
        raise NotImplementedError

    def backward(self, dout: Any) -> Any:
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def train(self, mode: bool = True) -> Layer:
        """Train mode (``mode=True``, the default of a new layer) or eval mode; returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"{type(self).__name__}.train: mode must be a bool, got {mode!r}")
        self.training = mode
        return self

    def eval(self) -> Layer:
        """Eval mode, as ``module.eval()``; returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget the stored gradients."""
        self.grads = {}

    # -- helpers for subclasses ----------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:
        """The dtype of the parameters (float64 for a layer without any)."""
        for p in self.params.values():
            return p.dtype
        return getattr(self, "_dtype", np.dtype(np.float64))

    def check_input(self, x: Any, ndims: tuple[int, ...], name: str = "input",
                    what: str = "") -> np.ndarray:
        """``x`` as a float array of this layer's dtype with one of ``ndims`` dimensions and
        no NaN/inf, else a ``ValueError``/``TypeError`` naming the layer and the shape.

        ``what`` describes the expected layout, e.g. ``"(N, C, H, W) or (C, H, W)"``."""
        owner = type(self).__name__
        x = as_real_array(x, f"{owner}: {name}")
        if x.ndim not in ndims:
            layout = what or " or ".join(f"{d}-d" for d in ndims)
            raise ValueError(f"{owner}: {name} must be {layout}, got shape {x.shape}")
        check_finite(x, f"{owner}: {name}")
        if self._follows_input():  # no float state of its own: compute in the input's
            self._dtype = x.dtype  # dtype, as a torch ReLU or Flatten does
        return x.astype(self.dtype, copy=False)

    def _follows_input(self) -> bool:
        """True for a layer without parameters or float buffers (activations, Flatten,
        pooling): its dtype is its last input's, as for torch's parameter-free modules."""
        return not self.params and not any(np.asarray(v).dtype.kind == "f"
                                           for v in self.buffers.values())

    def check_dout(self, dout: Any) -> np.ndarray:
        """The upstream gradient, checked against the shape of the last output (which
        ``forward`` records in ``self._out_shape`` beside its cache)."""
        owner = type(self).__name__
        if self._cache is None:
            raise RuntimeError(f"{owner}.backward called before forward")
        dout = as_real_array(dout, f"{owner}: dout")
        if dout.shape != tuple(self._out_shape):
            raise ValueError(f"{owner}: dout has shape {dout.shape}, expected the output's "
                             f"shape {tuple(self._out_shape)}")
        check_finite(dout, f"{owner}: dout")
        return dout.astype(self.dtype, copy=False)

    def astype(self, dtype: Any) -> Layer:
        """A copy of this layer with its parameters and floating buffers cast to ``dtype``
        (the float64 twin the torch-free oracles use for a float32 layer)."""
        dt = layer_dtype(f"{type(self).__name__}.astype", dtype)
        twin = copy.deepcopy(self)
        twin._retype(dt)
        return twin

    def _retype(self, dtype: np.dtype) -> None:
        """Cast in place (the arrays are replaced: a copy must not share them)."""
        for d in (self.params, self.buffers):
            for k, v in d.items():
                if v.dtype.kind == "f":
                    d[k] = v.astype(dtype)
        if hasattr(self, "_dtype"):
            self._dtype = dtype
        self.grads, self._cache = {}, None

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.config.items())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"
