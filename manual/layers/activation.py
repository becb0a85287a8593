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
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from manual import activations
from manual.layers.base import Layer

__all__ = ["ActivationLayer", "TORCH_MODULES"]


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
