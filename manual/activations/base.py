"""The activation protocol (:class:`Activation`) and the registry of names."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from manual._checks import Configurable, as_real_array, check_choice, check_number


_REGISTRY: dict[str, type[Activation]] = {}


def register(cls: type[Activation]) -> type[Activation]:
    """Class decorator: add an activation to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    """The registered activation names, in registration order."""
    return list(_REGISTRY)


def get(name: str | Activation, **kwargs: Any) -> Activation:
    """Return the activation called ``name``, built with torch-named keyword arguments.

    An object that already has ``forward`` and ``backward`` (your own activation)
    is returned unchanged, so every API that takes a name also takes an object.
    """
    if not isinstance(name, str):
        if callable(getattr(name, "forward", None)) and callable(getattr(name, "backward", None)):
            if kwargs:
                raise TypeError("keyword arguments are only accepted with an activation name")
            return name
        raise TypeError(f"activation must be a name or an object with forward/backward, "
                        f"got {type(name).__name__}")
    check_choice(name, names(), "activation")
    return _REGISTRY[name](**kwargs)


class Activation(Configurable):
    """Base class. Subclasses set ``name`` and implement ``forward`` and ``derivative``.

    Class attributes (``output_range``, ``kinks`` and ``analytic``: read-only, a property
    where they depend on the hyperparameters) describe the function for the harness and
    for readers:

    ``defaults``
        The hyperparameters, with torch's names and defaults.
    ``output_range``
        The closed interval that contains every output (used to decide which
        losses it can feed, e.g. BCE needs outputs in [0, 1]).
    ``kinks``
        Points where :math:`f` is not twice differentiable (:math:`f'` or :math:`f''`
        jumps); finite differences keep away from them, and the docstring says which
        one-sided value torch's autograd returns there.
    ``elementwise``
        False for functions that mix features (softmax); their ``backward`` is a full
        Jacobian product and they have no elementwise ``derivative``.
    ``analytic``
        True when :math:`f` is analytic away from its kinks and its NumPy code runs on
        complex input, so the complex-step derivative applies.

    Subclasses that check hyperparameter ranges override ``_check_params`` and call
    ``super()._check_params()`` first.
    """

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, float]] = {}
    elementwise: ClassVar[bool] = True

    # read-only: a subclass sets a class attribute, or a property where the value
    # depends on the hyperparameters (softplus's beta, hardtanh's bounds, celu's alpha)
    @property
    def analytic(self) -> bool:
        return True

    @property
    def output_range(self) -> tuple[float, float]:
        return (-np.inf, np.inf)

    @property
    def kinks(self) -> tuple[float, ...]:
        return ()

    def _check_params(self) -> None:
        for key, value in self.kwargs.items():
            setattr(self, key, check_number(self.name, key, value))

    # -- the four public methods ------------------------------------------------
    def forward(self, z: np.ndarray) -> np.ndarray:
        """:math:`a = f(z)`."""
        return self._forward(as_real_array(z, "z", allow_complex=True))

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """Elementwise :math:`f'(z)`."""
        return self._derivative(as_real_array(z, "z", allow_complex=True))

    def second_derivative(self, z: np.ndarray) -> np.ndarray:
        """Elementwise :math:`f''(z)`."""
        return self._second_derivative(as_real_array(z, "z", allow_complex=True))

    def backward(self, z: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
        r"""Vector–Jacobian product :math:`\partial L/\partial z = g \odot f'(z)`, with
        :math:`g = \partial L/\partial a` (``grad_out``) of the same shape as ``z``."""
        z = as_real_array(z, "z", allow_complex=True)
        grad_out = as_real_array(grad_out, "grad_out", allow_complex=True)
        if grad_out.shape != z.shape:
            raise ValueError(f"{self.name}.backward: grad_out has shape {grad_out.shape}, "
                             f"expected the shape of z {z.shape}")
        return self._backward(z, grad_out)

    # -- what subclasses write --------------------------------------------------
    def _forward(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _derivative(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _backward(self, z: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
        """:math:`g \\odot f'(z)`; a subclass may fuse the product into :math:`f'`."""
        return grad_out * self._derivative(z)

    def _second_derivative(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{self.name} has no second derivative")


def _positive(z: np.ndarray) -> np.ndarray:
    """The mask z > 0 (on the real part, so that complex-step input takes the same branch)."""
    return np.real(z) > 0


def _as(values: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``values`` in z's dtype (np.where with Python-float branches gives float64)."""
    return values.astype(z.dtype, copy=False)
