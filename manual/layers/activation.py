r"""Every activation of :mod:`manual.activations` as a layer, named like its torch module.

``ReLU()``, ``LeakyReLU(negative_slope=0.01)``, ``GELU(approximate='none')``,
``Softmax(dim=None)``, …: each layer caches its input :math:`z` in ``forward`` and returns
the activation's vector–Jacobian product
:math:`\partial L/\partial z = \partial L/\partial a \odot f'(z)` (a full Jacobian product
for softmax-like ones) in ``backward``. The math, and the value used at each kink, is the
activation's own docstring.

torch's ``inplace`` flag is accepted for the same signature and changes nothing: these
layers never overwrite their input. ``Softmax``/``LogSoftmax``/``Softmin`` with
``dim=None`` pick the dimension as torch's legacy rule does (0 for 0-, 1- and 3-d input,
else 1). ``LeCunTanh`` has no torch module (torch has no such built-in).

Two activations are layers of their own, with CS231n-style pairs: :class:`PReLU` (a leaky
ReLU whose slope is a learned parameter, one per channel or one shared;
:func:`prelu_forward`/:func:`prelu_backward`) and :class:`GLU` (the gated linear unit,
:func:`glu_forward`/:func:`glu_backward`).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from manual import activations
from manual.layers.base import Layer, check_positive_int, layer_dtype

__all__ = ["GLU", "ActivationLayer", "PReLU", "TORCH_MODULES", "glu_backward", "glu_forward",
           "prelu_backward", "prelu_forward"]


class ActivationLayer(Layer):
    """A layer that applies ``activations.get(self.activation, **kwargs)`` elementwise (or
    along ``dim``). Subclasses set ``activation`` and ``defaults`` (torch's arguments)."""

    activation = "identity"
    defaults: dict[str, Any] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        owner = type(self).__name__
        names = list(self.defaults)
        if len(args) > len(names):
            raise TypeError(f"{owner} takes at most {len(names)} positional argument(s), got "
                            f"{len(args)}")
        given = dict(zip(names, args))
        for k, v in kwargs.items():
            if k not in self.defaults:
                raise TypeError(f"{owner} got an unexpected keyword argument {k!r}; valid: "
                                f"{', '.join(names) or 'none'}")
            if k in given:
                raise TypeError(f"{owner} got multiple values for argument {k!r}")
            given[k] = v
        self.kwargs = {**self.defaults, **given}
        self.config = dict(self.kwargs)  # torch's constructor arguments
        self.fn: activations.Activation | None = self._build(self.kwargs)

    def _build(self, kwargs: dict[str, Any]) -> activations.Activation | None:
        """The activation (None: chosen by the first forward, see _DimActivationLayer)."""
        return activations.get(self.activation, **{k: v for k, v in kwargs.items()
                                                   if k != "inplace"})

    def _fn(self) -> activations.Activation:
        if self.fn is None:  # a Softmax(dim=None) picks its dim in forward, before this
            raise RuntimeError(f"{type(self).__name__}: call forward first")
        return self.fn

    def forward(self, x: np.ndarray) -> np.ndarray:
        z = self.check_input(x, tuple(range(0, 33)))
        out = self._fn().forward(z)
        self._cache, self._out_shape = z, out.shape
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout = self.check_dout(dout)
        return self._fn().backward(self._cache, dout)  # dL/dz = dL/da (.) f'(z), or J^T dL/da

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items() if k != "inplace")


def _legacy_softmax_dim(ndim: int) -> int:
    """torch's ``_get_softmax_dim`` for ``dim=None``: 0 for 0-, 1- and 3-d input, else 1."""
    return 0 if ndim in (0, 1, 3) else 1


class _DimActivationLayer(ActivationLayer):
    """Softmax-like: the dimension may be left to torch's legacy rule (``dim=None``)."""

    defaults = {"dim": None}

    def _build(self, kwargs: dict[str, Any]) -> activations.Activation | None:
        return None if kwargs["dim"] is None else activations.get(self.activation, **kwargs)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.kwargs["dim"] is None:  # fixed by the first input's rank, as torch does
            ndim = np.ndim(x)
            self.fn = activations.get(self.activation, dim=_legacy_softmax_dim(ndim))
        return super().forward(x)


#: torch module name -> (our activation, torch's constructor arguments with their defaults)
TORCH_MODULES: dict[str, tuple[str, dict[str, Any]]] = {
    "Sigmoid": ("sigmoid", {}),
    "Tanh": ("tanh", {}),
    "ReLU": ("relu", {"inplace": False}),
    "LeakyReLU": ("leaky_relu", {"negative_slope": 0.01, "inplace": False}),
    "ELU": ("elu", {"alpha": 1.0, "inplace": False}),
    "SELU": ("selu", {"inplace": False}),
    "CELU": ("celu", {"alpha": 1.0, "inplace": False}),
    "Softplus": ("softplus", {"beta": 1.0, "threshold": 20.0}),
    "SiLU": ("silu", {"inplace": False}),
    "Mish": ("mish", {"inplace": False}),
    "Softsign": ("softsign", {}),
    "Hardtanh": ("hardtanh", {"min_val": -1.0, "max_val": 1.0, "inplace": False}),
    "ReLU6": ("relu6", {"inplace": False}),
    "Hardsigmoid": ("hardsigmoid", {"inplace": False}),
    "Hardswish": ("hardswish", {"inplace": False}),
    "LogSigmoid": ("logsigmoid", {}),
    "Tanhshrink": ("tanhshrink", {}),
    "Softshrink": ("softshrink", {"lambd": 0.5}),
}


class GELU(ActivationLayer):
    """``nn.GELU(approximate='none')``: the exact :math:`z\\Phi(z)`, or with
    ``approximate='tanh'`` torch's tanh approximation (our ``gelu_tanh``)."""

    defaults = {"approximate": "none"}

    def _build(self, kwargs: dict[str, Any]) -> activations.Activation:
        approx = kwargs["approximate"]
        if approx not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approx!r}")
        return activations.get("gelu" if approx == "none" else "gelu_tanh")


class Softmax(_DimActivationLayer):
    """``nn.Softmax(dim=None)``."""

    activation = "softmax"


class LogSoftmax(_DimActivationLayer):
    """``nn.LogSoftmax(dim=None)``."""

    activation = "log_softmax"


class Softmin(_DimActivationLayer):
    """``nn.Softmin(dim=None)``."""

    activation = "softmin"


class LeCunTanh(ActivationLayer):
    """:math:`1.7159 \\tanh(2z/3)`; torch has no such module (see ``manual.activations``)."""

    activation = "lecun_tanh"


def _signature(defaults: dict[str, Any]) -> inspect.Signature:
    return inspect.Signature([inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                default=v) for k, v in defaults.items()])


def _make(torch_name: str, act: str, defaults: dict[str, Any]) -> type[ActivationLayer]:
    doc = (f"``nn.{torch_name}({', '.join(f'{k}={v!r}' for k, v in defaults.items())})``: "
           f"the layer form of ``activations.get({act!r})``.")
    cls = type(torch_name, (ActivationLayer,), {"activation": act, "defaults": defaults,
                                                "__doc__": doc, "__module__": __name__})
    return cls


# the classes made from TORCH_MODULES below, declared for the type checker (a test checks
# that every TORCH_MODULES name is declared here)
Sigmoid: type[ActivationLayer]
Tanh: type[ActivationLayer]
ReLU: type[ActivationLayer]
LeakyReLU: type[ActivationLayer]
ELU: type[ActivationLayer]
SELU: type[ActivationLayer]
CELU: type[ActivationLayer]
Softplus: type[ActivationLayer]
SiLU: type[ActivationLayer]
Mish: type[ActivationLayer]
Softsign: type[ActivationLayer]
Hardtanh: type[ActivationLayer]
ReLU6: type[ActivationLayer]
Hardsigmoid: type[ActivationLayer]
Hardswish: type[ActivationLayer]
LogSigmoid: type[ActivationLayer]
Tanhshrink: type[ActivationLayer]
Softshrink: type[ActivationLayer]

for _torch_name, (_act, _defaults) in TORCH_MODULES.items():
    globals()[_torch_name] = _make(_torch_name, _act, _defaults)
for _cls_name in [*TORCH_MODULES, "GELU", "Softmax", "LogSoftmax", "Softmin", "LeCunTanh"]:
    _cls = globals()[_cls_name]
    _cls.__signature__ = _signature(_cls.defaults)  # inspect.signature shows torch's arguments
    __all__.append(_cls_name)


# --------------------------------------------------------------------------------------
# PReLU: a learned negative slope
# --------------------------------------------------------------------------------------
def _channel_weight(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``weight`` (C,) shaped to broadcast against ``x`` along dim 1 (a single weight:
    a scalar, any rank of ``x``)."""
    if weight.size == 1:
        return weight.reshape(())
    return weight.reshape((1, -1) + (1,) * (x.ndim - 2))


def prelu_forward(x: np.ndarray, weight: np.ndarray
                  ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    r"""``F.prelu``: :math:`y = x` where :math:`x > 0`, else :math:`a_c x`, with
    :math:`a_c` the weight of the element's channel (dim 1 of ``x``; one shared weight
    when ``weight`` has one element). Returns ``(y, cache)``."""
    a = _channel_weight(x, weight)
    y = np.where(x > 0, x, a * x)
    return y, (x, weight)


def prelu_backward(dout: np.ndarray, cache: tuple[np.ndarray, np.ndarray]
                   ) -> tuple[np.ndarray, np.ndarray]:
    r"""``(dx, dweight)`` of :func:`prelu_forward`:

    .. math::
        \frac{\partial L}{\partial x} = \begin{cases} \delta & x > 0 \\
        a_c\,\delta & x \le 0 \end{cases}, \qquad
        \frac{\partial L}{\partial a_c} = \sum_{x \in c,\ x \le 0} x\,\delta

    At the kink :math:`x = 0` the slope used is :math:`a_c`, torch's (its kernel tests
    :math:`x > 0`); that element adds :math:`0` to :math:`\partial L/\partial a_c`."""
    x, weight = cache
    a = _channel_weight(x, weight)
    pos = x > 0
    dx = np.where(pos, dout, a * dout)
    contrib = np.where(pos, 0, x * dout)
    if weight.size == 1:
        dw = np.asarray(contrib.sum(dtype=np.float64)).reshape(1)
    else:
        dw = contrib.sum(axis=(0,) + tuple(range(2, x.ndim)), dtype=np.float64)
    return dx, dw.astype(x.dtype)


class PReLU(Layer):
    r"""``nn.PReLU(num_parameters=1, init=0.25)``: :math:`y = \max(0, x) + a \min(0, x)`
    with a learned slope :math:`a`.

    ``params``: ``weight`` (num_parameters,), filled with ``init`` (torch's
    initialisation). With ``num_parameters=1`` one slope serves every element of an input
    of any rank (0-d included); otherwise the input is (N, C, \*) with
    ``C == num_parameters``, and channel :math:`c` (dim 1) uses :math:`a_c`.

    .. math::
        y = \begin{cases} x & x > 0 \\ a_c x & x \le 0 \end{cases}, \qquad
        \frac{\partial L}{\partial x} = \begin{cases} \delta & x > 0 \\
        a_c\,\delta & x \le 0 \end{cases}, \qquad
        \frac{\partial L}{\partial a_c} = \sum_{x \in c,\ x \le 0} x\,\delta

    At the kink :math:`x = 0` the gradient wrt :math:`x` is :math:`a_c\,\delta`, as
    torch's. The functional pair is :func:`prelu_forward`/:func:`prelu_backward`.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype: Any = None) -> None:
        super().__init__()
        self.num_parameters = check_positive_int("PReLU", "num_parameters", num_parameters)
        if isinstance(init, bool) or not isinstance(init, (int, float, np.integer,
                                                           np.floating)):
            raise TypeError(f"PReLU: init must be a float, got {init!r}")
        if not np.isfinite(init):
            raise ValueError(f"PReLU: init must be finite, got {init!r}")
        self.init = float(init)
        self.config = {"num_parameters": self.num_parameters, "init": self.init}
        self.params["weight"] = np.full(self.num_parameters, self.init,
                                        dtype=layer_dtype("PReLU", dtype))

    def forward(self, x: Any) -> np.ndarray:
        x = self.check_input(x, tuple(range(0, 33)))
        c = self.params["weight"].size
        if c > 1 and (x.ndim < 2 or x.shape[1] != c):
            raise ValueError(f"PReLU: num_parameters={c} needs an input (N, {c}, *) with "
                             f"the channels on dim 1, got shape {x.shape}")
        y, self._cache = prelu_forward(x, self.params["weight"])
        self._out_shape = y.shape
        return y

    def backward(self, dout: Any) -> np.ndarray | None:
        dout = self.check_dout(dout)
        dx, dw = prelu_backward(dout, self._cache)
        self.grads = {"weight": dw}
        return dx if self.needs_input_grad else None


# --------------------------------------------------------------------------------------
# GLU: the gated linear unit
# --------------------------------------------------------------------------------------
def _sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function without overflow: :math:`e^{z}/(1+e^{z})` for :math:`z < 0`."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def glu_forward(x: np.ndarray, dim: int = -1) -> tuple[np.ndarray, tuple]:
    r"""``F.glu``: ``x`` split in halves :math:`a, b` along ``dim`` (whose size must be
    even), :math:`y = a \odot \sigma(b)`. Returns ``(y, cache)``."""
    a, b = np.split(x, 2, axis=dim)
    s = _sigmoid(b)
    return a * s, (a, s, dim)


def glu_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    r""":math:`\partial L/\partial x` of :func:`glu_forward`, the halves' gradients joined
    along ``dim``:

    .. math::
        \frac{\partial L}{\partial a} = \delta \odot \sigma(b), \qquad
        \frac{\partial L}{\partial b} = \delta \odot a \odot \sigma(b)(1-\sigma(b))

    (smooth: no kinks)."""
    a, s, dim = cache
    da = dout * s
    db = da * a * (1 - s)
    return np.concatenate([da, db], axis=dim)


class GLU(Layer):
    r"""``nn.GLU(dim=-1)``: the input split in halves :math:`a, b` along ``dim`` (its size
    must be even), :math:`y = a \odot \sigma(b)`; output half the size along ``dim``.

    .. math::
        y = a \odot \sigma(b), \qquad
        \frac{\partial L}{\partial a} = \delta \odot \sigma(b), \qquad
        \frac{\partial L}{\partial b} = \delta \odot a \odot \sigma(b)(1-\sigma(b))

    No parameters; any input of at least one dim (torch refuses scalars). The functional
    pair is :func:`glu_forward`/:func:`glu_backward`.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"GLU: dim must be an int, got {dim!r}")
        self.dim = int(dim)
        self.config = {"dim": self.dim}

    def forward(self, x: Any) -> np.ndarray:
        x = self.check_input(x, tuple(range(1, 33)), what="at least 1-d (GLU halves a dim)")
        if not -x.ndim <= self.dim < x.ndim:
            raise ValueError(f"GLU: dim={self.dim} is out of range for input of shape "
                             f"{x.shape}")
        if x.shape[self.dim] % 2:
            raise ValueError(f"GLU: the size of dim {self.dim} must be even to halve it, got "
                             f"shape {x.shape}")
        y, self._cache = glu_forward(x, self.dim)
        self._out_shape = y.shape
        return y

    def backward(self, dout: Any) -> np.ndarray:
        return glu_backward(self.check_dout(dout), self._cache)
