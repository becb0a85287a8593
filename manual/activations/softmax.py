"""Functions that mix features along ``dim``: softmax, log-softmax, softmin."""

from __future__ import annotations

import numpy as np

from manual._checks import as_real_array
from manual._numerics import _log_softmax, _softmax, _softmax_jacobian, _softmax_vjp
from manual.activations.base import Activation, register


def legacy_dim(ndim: int) -> int:
    """torch's ``_get_softmax_dim`` for an explicit ``dim=None``: 0 for 0-, 1- and 3-d
    input, else 1 (deprecated in torch, which warns; kept for its exact result)."""
    return 0 if ndim in (0, 1, 3) else 1


class _FeatureAxis(Activation):
    """Base of softmax-like activations: they mix the entries along ``dim`` (default the
    last axis; an explicit ``dim=None`` takes torch's legacy choice, :func:`legacy_dim`)."""

    defaults = {"dim": -1}
    dim: int | None
    elementwise = False

    def _check_params(self) -> None:
        if self.dim is None:
            return
        if isinstance(self.dim, bool) or not isinstance(self.dim, (int, np.integer)):
            raise TypeError(f"{self.name}: dim must be an integer or None, got {self.dim!r}")
        self.dim = int(self.dim)

    def _axis(self, z: np.ndarray) -> int:
        """``dim``, checked as torch checks it: in [-ndim, ndim) (a 0-d input counts as one
        axis, so -1 and 0), also for a 0-d or empty input; None: :func:`legacy_dim`."""
        ndim = max(z.ndim, 1)
        dim = legacy_dim(z.ndim) if self.dim is None else self.dim
        if not -ndim <= dim < ndim:
            raise ValueError(f"{self.name}: dim {dim} is out of range for an input of "
                             f"shape {z.shape} (valid: {-ndim} to {ndim - 1})")
        return dim

    def forward(self, z: np.ndarray) -> np.ndarray:
        z = as_real_array(z, "z", allow_complex=True)
        self._axis(z)
        if z.size == 0:
            return z.copy()
        if z.ndim == 0:  # torch treats a 0-d input as one feature
            return self._forward(z.reshape(1), 0).reshape(())
        return self._forward(z, self._axis(z))

    def derivative(self, z: np.ndarray) -> np.ndarray:
        raise TypeError(f"{self.name} is not elementwise: use backward(z, grad_out) for the "
                        f"vector-Jacobian product, or jacobian(z)")

    second_derivative = derivative

    def backward(self, z: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
        z = as_real_array(z, "z", allow_complex=True)
        g = as_real_array(grad_out, "grad_out", allow_complex=True)
        if g.shape != z.shape:
            raise ValueError(f"{self.name}.backward: grad_out has shape {g.shape}, expected "
                             f"the shape of z {z.shape}")
        self._axis(z)
        if z.size == 0:
            return np.zeros_like(z)
        if z.ndim == 0:
            return self._vjp(z.reshape(1), g.reshape(1), 0).reshape(())
        return self._vjp(z, g, self._axis(z))

    def jacobian(self, z: np.ndarray) -> np.ndarray:
        r"""The Jacobians :math:`J_{ij} = \partial f_i/\partial z_j` along the last axis,
        one per leading index: shape ``z.shape + (K,)`` (for teaching; ``backward`` never
        builds it). Only for ``dim=-1``."""
        z = as_real_array(z, "z", allow_complex=True)
        if self._axis(z) not in (-1, max(z.ndim, 1) - 1):
            raise ValueError(f"{self.name}.jacobian supports dim=-1 only")
        z1 = z.reshape(1) if z.ndim == 0 else z
        out = self._jacobian(z1)
        return out.reshape(()) if z.ndim == 0 else out

    # ``axis`` is optional so that the override keeps Activation._forward(z)'s signature
    # (None: ``dim``, checked by :meth:`_axis`); ``forward`` passes it resolved
    def _forward(self, z: np.ndarray, axis: int | None = None) -> np.ndarray:
        raise NotImplementedError

    def _vjp(self, z: np.ndarray, g: np.ndarray, axis: int) -> np.ndarray:
        raise NotImplementedError

    def _jacobian(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@register
class Softmax(_FeatureAxis):
    r"""Softmax along ``dim`` (default the last, feature axis), as ``F.softmax(z, dim)``.

    .. math::
        s_i = \frac{e^{z_i}}{\sum_j e^{z_j}}, \qquad
        \frac{\partial s_i}{\partial z_j} = s_i(\delta_{ij} - s_j)

    The backward is the vector–Jacobian product, never the elementwise
    :math:`s(1 - s)` (that is only the diagonal of the Jacobian):

    .. math::
        \frac{\partial L}{\partial z_j} = \sum_i g_i\, s_i(\delta_{ij} - s_j)
        = s_j \Big(g_j - \sum_i g_i s_i\Big)

    Computed from :math:`z - \max z`, so :math:`\pm 10^4` stays finite.
    """

    name = "softmax"
    output_range = (0.0, 1.0)

    def _forward(self, z: np.ndarray, axis: int | None = None) -> np.ndarray:
        return _softmax(z, self._axis(z) if axis is None else axis)

    def _vjp(self, z: np.ndarray, g: np.ndarray, axis: int) -> np.ndarray:
        return _softmax_vjp(_softmax(z, axis), g, axis)

    def _jacobian(self, z: np.ndarray) -> np.ndarray:
        return _softmax_jacobian(_softmax(z, -1))


@register
class LogSoftmax(_FeatureAxis):
    r"""Log-softmax along ``dim``, as ``F.log_softmax(z, dim)``.

    .. math::
        y_i = z_i - \log \sum_j e^{z_j}, \qquad
        \frac{\partial y_i}{\partial z_j} = \delta_{ij} - s_j, \qquad
        \frac{\partial L}{\partial z_j} = g_j - s_j \sum_i g_i

    with :math:`s = \operatorname{softmax}(z)`; stable at :math:`\pm 10^4` (log-sum-exp
    from :math:`z - \max z`).
    """

    name = "log_softmax"
    output_range = (-np.inf, 0.0)

    def _forward(self, z: np.ndarray, axis: int | None = None) -> np.ndarray:
        return _log_softmax(z, self._axis(z) if axis is None else axis)

    def _vjp(self, z: np.ndarray, g: np.ndarray, axis: int) -> np.ndarray:
        s = np.exp(self._forward(z, axis))
        return g - s * np.sum(g, axis=axis, keepdims=True)

    def _jacobian(self, z: np.ndarray) -> np.ndarray:
        s = np.exp(self._forward(z, -1))  # (..., K)
        return np.eye(s.shape[-1], dtype=s.dtype) - s[..., None, :]


@register
class Softmin(Softmax):
    r"""Softmin along ``dim``, as ``F.softmin(z, dim)``: :math:`\operatorname{softmax}(-z)`.

    .. math::
        \frac{\partial L}{\partial z_j} = -s_j \Big(g_j - \sum_i g_i s_i\Big),
        \qquad s = \operatorname{softmax}(-z)

    (the chain rule through the negation flips the sign of softmax's product).
    """

    name = "softmin"

    def _forward(self, z: np.ndarray, axis: int | None = None) -> np.ndarray:
        return _softmax(-z, self._axis(z) if axis is None else axis)

    def _vjp(self, z: np.ndarray, g: np.ndarray, axis: int) -> np.ndarray:
        return -_softmax_vjp(_softmax(-z, axis), g, axis)

    def _jacobian(self, z: np.ndarray) -> np.ndarray:
        return -_softmax_jacobian(_softmax(-z, -1))
