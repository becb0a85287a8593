r"""Optimizers that follow ``torch.optim`` step for step, in pure NumPy.

Each optimizer updates a dict of parameter arrays **in place** (pass ``net.params`` of a
:class:`manual.MLP`: the network computes with those very arrays), one
:meth:`Optimizer.step` per call, from a dict of gradients with the same keys:

>>> import numpy as np
>>> from manual import MLP, optimizers
>>> net = MLP([2, 3, 1], activation="tanh", loss="mse", seed=0)
>>> opt = optimizers.get("adam", net.params, lr=0.01)
>>> X, y = np.ones((4, 2)), np.zeros((4, 1))
>>> for _ in range(3):
...     loss, grads = net.gradients(X, y)
...     opt.step(grads)
>>> opt.state["W1"]["step"], sorted(opt.state["W1"])
(3.0, ['exp_avg', 'exp_avg_sq', 'step'])

Conventions, all torch's:

- Names, keyword arguments and defaults are those of ``torch.optim`` (``SGD(lr=1e-3,
  momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False)``, ...); the
  range checks are torch's too. torch's implementation selectors (``foreach``, ``fused``,
  ``capturable``, ``differentiable``) do not apply and are rejected as unknown names.
- The arithmetic follows torch's single-tensor code path (``foreach=False``) operation
  by operation, e.g. Adam's denominator is :math:`\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon`
  and its step :math:`-\frac{\gamma}{1-\beta_1^t} m_t / \text{denom}`, so float64 runs agree
  with torch to the last bits that fused multiply-adds leave (about 1e-16 per step).
- ``opt.state[name]`` holds the buffers under torch's names (``step``, ``exp_avg``,
  ``exp_avg_sq``, ``max_exp_avg_sq``, ``momentum_buffer``, ``square_avg``, ``grad_avg``,
  ``acc_delta``, ``sum``, ``exp_inf``, ``mu_product``), created lazily at a parameter's
  first update, as torch does (Adagrad creates its state at construction, as torch does).
  ``step`` is a float, like the value of torch's float32 step tensor.
- A gradient of ``None`` leaves its parameter and state untouched for that step, exactly
  as torch skips a parameter whose ``.grad`` is ``None`` (no weight decay, no step count).
- Hyperparameters are live attributes (``opt.lr``, ``opt.betas`` ...), like torch's
  ``param_groups[0]``, so the schedules in :mod:`manual.schedules` can change them;
  ``opt.kwargs`` keeps the values given to the constructor (torch's ``defaults``).
- float32 parameters stay float32: every hyperparameter enters the arithmetic as a
  Python float, which NumPy (like torch) rounds to the array's dtype.

In the update rules, :math:`\theta` is a parameter, :math:`g_t` its gradient at step
:math:`t`, :math:`\gamma` the learning rate and :math:`\lambda` the weight decay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from manual._checks import FLOAT_DTYPES, Configurable, as_real_array, check_choice, check_number

__all__ = ["SCALAR_DTYPE", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam",
           "Optimizer", "RAdam", "RMSprop", "get", "names", "register"]

#: dtype of torch's per-parameter scalar state (``mu_product``; ``step`` holds integers,
#: exact either way). torch uses float32 unless ``torch.get_default_dtype()`` is float64.
SCALAR_DTYPE = np.float32

_REGISTRY: dict[str, type[Optimizer]] = {}


def register(cls: type[Optimizer]) -> type[Optimizer]:
    """Class decorator: add an optimizer to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    """The registered optimizer names, in registration order."""
    return list(_REGISTRY)


def get(name: str, params: Mapping[str, np.ndarray], **kwargs: Any) -> Optimizer:
    """The optimizer called ``name`` (see :func:`names`) over ``params``, built with
    torch-named keyword arguments."""
    if not isinstance(name, str):
        raise TypeError(f"optimizer name must be a string, got {type(name).__name__}")
    check_choice(name, names(), "optimizer")
    return _REGISTRY[name](params, **kwargs)


# --------------------------------------------------------------------------------------
# torch's elementwise building blocks, in its order of operations
# --------------------------------------------------------------------------------------
def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start.lerp_(end, weight)`` in place: torch's two-sided formula (the small-weight
    form below 0.5, the form anchored at ``end`` above), which keeps the result exact at
    weight 0 and 1."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


def _check_bool(owner: str, key: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {key} must be True or False, got {value!r}")
    return bool(value)


def _check_betas(owner: str, betas: Any) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"{owner}: betas must be a pair (beta1, beta2), got {betas!r}")
    out = []
    for i, b in enumerate(betas):
        b = check_number(owner, f"betas[{i}]", b)
        if not 0.0 <= b < 1.0:
            raise ValueError(f"{owner}: betas[{i}] must lie in [0, 1), got {b}")
        out.append(b)
    return out[0], out[1]


# --------------------------------------------------------------------------------------
# the base class
# --------------------------------------------------------------------------------------
class Optimizer(Configurable):
    """Base class. Subclasses set ``name``, ``torch_name`` and ``defaults`` and write
    ``_update(p, g, state)`` for one parameter.

    Parameters
    ----------
    params
        Dict name -> float32/float64 ndarray, updated in place (e.g. ``net.params``).
    **kwargs
        Hyperparameters with torch's names; unknown names raise ``TypeError`` listing
        the valid ones, out-of-range values ``ValueError``.

    Attributes
    ----------
    params
        The same dict of live arrays.
    state
        name -> dict of buffers under torch's names (see the module docstring).
    kwargs
        The constructor's hyperparameters (torch's ``optimizer.defaults``); the live
        values are attributes (``self.lr``, ...), which schedules may change.
    """

    name: ClassVar[str] = ""
    torch_name: ClassVar[str] = ""  # the class in torch.optim
    defaults: ClassVar[dict[str, Any]] = {}
    #: non-negative hyperparameters (torch raises on negative values for these)
    non_negative: ClassVar[tuple[str, ...]] = ("lr", "eps", "weight_decay")
    flags: ClassVar[tuple[str, ...]] = ("maximize",)
    # the hyperparameters every optimizer has, set from ``defaults`` by Configurable
    lr: float
    weight_decay: float
    maximize: bool

    def __init__(self, params: Mapping[str, np.ndarray], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.params = self._check_param_dict(params)
        self.state: dict[str, dict[str, Any]] = {}
        self.zero_state()

    # -- checks -----------------------------------------------------------------
    def _check_params(self) -> None:
        for key, value in self.kwargs.items():
            if key in self.flags:
                value = _check_bool(self.name, key, value)
            elif key == "betas":
                value = _check_betas(self.name, value)
            else:
                value = check_number(self.name, key, value,
                                     low=0.0 if key in self.non_negative else None)
            self.kwargs[key] = value  # normalised: floats, bools, a tuple of betas
            setattr(self, key, value)

    def _check_param_dict(self, params: Any) -> Mapping[str, np.ndarray]:
        if not isinstance(params, Mapping):
            raise TypeError(f"{self.name}: params must be a dict name -> array (e.g. "
                            f"net.params), got {type(params).__name__}")
        if not params:
            raise ValueError(f"{self.name}: got an empty parameter dict")
        for key, p in params.items():
            if not isinstance(p, np.ndarray):
                raise TypeError(f"{self.name}: params[{key!r}] must be a NumPy array (updated "
                                f"in place), got {type(p).__name__}")
            if p.dtype not in FLOAT_DTYPES:
                raise TypeError(f"{self.name}: params[{key!r}] must be float32 or float64, got "
                                f"dtype {p.dtype}")
            if not p.flags.writeable:
                raise ValueError(f"{self.name}: params[{key!r}] is read-only; the optimizer "
                                 f"updates it in place")
        return params  # the caller's dict itself: its arrays are the live parameters

    def _check_grads(self, grads: Any) -> dict[str, np.ndarray | None]:
        if not isinstance(grads, Mapping):
            raise TypeError(f"{self.name}.step: grads must be a dict name -> array, got "
                            f"{type(grads).__name__}")
        valid = ", ".join(map(str, self.params))
        unknown = [k for k in grads if k not in self.params]
        if unknown:
            raise ValueError(f"{self.name}.step: grads has unknown parameter name(s) "
                             f"{', '.join(map(repr, unknown))}; the parameters: {valid}")
        missing = [k for k in self.params if k not in grads]
        if missing:
            raise ValueError(f"{self.name}.step: grads is missing {', '.join(map(repr, missing))}"
                             f" (give None to leave a parameter untouched this step, as torch "
                             f"does for p.grad None)")
        out: dict[str, np.ndarray | None] = {}
        for key, p in self.params.items():
            g = grads[key]
            if g is None:
                out[key] = None
                continue
            g = as_real_array(g, f"grads[{key!r}]")
            if g.shape != p.shape:
                raise ValueError(f"{self.name}.step: grads[{key!r}] has shape {g.shape}, "
                                 f"expected the shape of params[{key!r}] {p.shape}")
            if g.dtype != p.dtype:
                raise TypeError(f"{self.name}.step: grads[{key!r}] has dtype {g.dtype}, "
                                f"params[{key!r}] has {p.dtype} (torch requires them equal)")
            out[key] = g
        return out

    # -- public API -------------------------------------------------------------
    def step(self, grads: Mapping[str, np.ndarray | None]) -> None:
        """One update of every parameter whose gradient in ``grads`` is not ``None``."""
        grads = self._check_grads(grads)
        # inf/NaN propagate silently, as in torch; manual.training names the step
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for key, p in self.params.items():
                g = grads[key]
                if g is None:
                    continue  # torch skips parameters whose .grad is None
                if key not in self.state:
                    self.state[key] = self._init_state(p)
                self._update(p, g, self.state[key])

    def zero_state(self) -> None:
        """Forget all buffers and step counts (a fresh optimizer with the current
        hyperparameters)."""
        self.state = {}

    def _grad(self, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        r""":math:`g_t \leftarrow -g_t` if maximize; :math:`g_t \leftarrow g_t + \lambda\theta`
        if :math:`\lambda \ne 0` (torch's coupled L2 weight decay)."""
        g = -g if self.maximize else g
        if self.weight_decay != 0 and not getattr(self, "decoupled_weight_decay", False):
            g = g + self.weight_decay * p
        return g

    def _decoupled_decay(self, p: np.ndarray) -> None:
        r""":math:`\theta \leftarrow \theta (1 - \gamma\lambda)` (AdamW-style decay)."""
        if self.weight_decay != 0 and getattr(self, "decoupled_weight_decay", False):
            p *= 1 - self.lr * self.weight_decay

    # -- what subclasses write --------------------------------------------------
    def _init_state(self, p: np.ndarray) -> dict[str, Any]:
        return {}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        raise NotImplementedError


# --------------------------------------------------------------------------------------
# the optimizers
# --------------------------------------------------------------------------------------
@register
class SGD(Optimizer):
    r"""Stochastic gradient descent with momentum, as ``torch.optim.SGD``.

    .. math::
        \begin{aligned}
        & g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})
          \quad (-\nabla_\theta f_t(\theta_{t-1}) \text{ if maximize}) \\
        & \textbf{if } \lambda \ne 0: \; g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        & \textbf{if } \mu \ne 0: \\
        & \qquad \mathbf{b}_t \leftarrow \begin{cases} g_t & t = 1 \\
              \mu\,\mathbf{b}_{t-1} + (1-\tau)\,g_t & t > 1 \end{cases} \\
        & \qquad g_t \leftarrow \begin{cases} g_t + \mu\,\mathbf{b}_t & \text{nesterov} \\
              \mathbf{b}_t & \text{otherwise} \end{cases} \\
        & \theta_t \leftarrow \theta_{t-1} - \gamma g_t
        \end{aligned}

    :math:`\mu` is ``momentum``, :math:`\tau` ``dampening`` (not applied at the first
    step, where the buffer is the gradient itself, as in torch). Nesterov needs
    :math:`\mu > 0` and :math:`\tau = 0`. State: ``momentum_buffer`` (only when
    :math:`\mu \ne 0`; torch keeps no step count for SGD).
    """

    name = "sgd"
    torch_name = "SGD"
    defaults: ClassVar[dict[str, Any]] = {
        "lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False,
        "maximize": False}
    momentum: float
    dampening: float
    nesterov: bool
    non_negative = ("lr", "momentum", "weight_decay")
    flags = ("nesterov", "maximize")

    def _check_params(self) -> None:
        super()._check_params()
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("sgd: nesterov momentum requires momentum > 0 and dampening = 0, "
                             f"got momentum={self.momentum}, dampening={self.dampening}")

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        g = self._grad(p, g)
        if self.momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # b_1 = g_1, no dampening yet; np.array keeps a 0-d buffer an array (in place)
                buf = state["momentum_buffer"] = np.array(g, dtype=p.dtype)
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        p += -self.lr * g


@register
class Adagrad(Optimizer):
    r"""Adagrad, as ``torch.optim.Adagrad``.

    .. math::
        \begin{aligned}
        & \textbf{initialize}: \; state\_sum_0 \leftarrow \tau \\
        & g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})
          \quad (-\nabla_\theta f_t(\theta_{t-1}) \text{ if maximize}) \\
        & \tilde\gamma \leftarrow \gamma / (1 + (t-1)\eta) \\
        & \textbf{if } \lambda \ne 0: \; g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        & state\_sum_t \leftarrow state\_sum_{t-1} + g_t^2 \\
        & \theta_t \leftarrow \theta_{t-1} - \tilde\gamma\,
          \frac{g_t}{\sqrt{state\_sum_t} + \epsilon}
        \end{aligned}

    :math:`\eta` is ``lr_decay``, :math:`\tau` ``initial_accumulator_value``. State:
    ``step``, ``sum``, created for every parameter at construction (as torch does).
    """

    name = "adagrad"
    torch_name = "Adagrad"
    defaults: ClassVar[dict[str, Any]] = {
        "lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0,
        "eps": 1e-10, "maximize": False}
    lr_decay: float
    initial_accumulator_value: float
    eps: float
    non_negative = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def zero_state(self) -> None:
        self.state = {key: self._init_state(p) for key, p in self.params.items()}

    def _init_state(self, p: np.ndarray) -> dict[str, Any]:
        return {"step": 0.0, "sum": np.full_like(p, self.initial_accumulator_value)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        state["step"] += 1
        g = self._grad(p, g)
        clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        state["sum"] += g * g
        std = np.sqrt(state["sum"]) + self.eps
        p += (-clr * g) / std  # addcdiv: (value * g) / std


@register
class RMSprop(Optimizer):
    r"""RMSprop, as ``torch.optim.RMSprop``.

    .. math::
        \begin{aligned}
        & g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})
          \quad (-\nabla_\theta f_t(\theta_{t-1}) \text{ if maximize}) \\
        & \textbf{if } \lambda \ne 0: \; g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        & v_t \leftarrow \alpha v_{t-1} + (1-\alpha) g_t^2, \qquad \tilde v_t \leftarrow v_t \\
        & \textbf{if centered}: \; g^{ave}_t \leftarrow \alpha g^{ave}_{t-1} + (1-\alpha) g_t,
          \quad \tilde v_t \leftarrow \tilde v_t - (g^{ave}_t)^2 \\
        & \textbf{if } \mu > 0: \; \mathbf{b}_t \leftarrow \mu\mathbf{b}_{t-1}
          + g_t / (\sqrt{\tilde v_t} + \epsilon), \quad
          \theta_t \leftarrow \theta_{t-1} - \gamma\mathbf{b}_t \\
        & \textbf{else}: \; \theta_t \leftarrow \theta_{t-1}
          - \gamma\, g_t / (\sqrt{\tilde v_t} + \epsilon)
        \end{aligned}

    :math:`\alpha` is ``alpha`` (smoothing), :math:`\mu` ``momentum``; note that
    :math:`\epsilon` is added *outside* the square root. State: ``step``, ``square_avg``,
    ``momentum_buffer`` (if :math:`\mu > 0`), ``grad_avg`` (if centered).
    """

    name = "rmsprop"
    torch_name = "RMSprop"
    defaults: ClassVar[dict[str, Any]] = {
        "lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
        "centered": False, "maximize": False}
    alpha: float
    eps: float
    momentum: float
    centered: bool
    non_negative = ("lr", "alpha", "eps", "weight_decay", "momentum")
    flags = ("centered", "maximize")

    def _init_state(self, p: np.ndarray) -> dict[str, Any]:
        state = {"step": 0.0, "square_avg": np.zeros_like(p)}
        if self.momentum > 0:
            state["momentum_buffer"] = np.zeros_like(p)
        if self.centered:
            state["grad_avg"] = np.zeros_like(p)
        return state

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        state["step"] += 1
        g = self._grad(p, g)
        v = state["square_avg"]
        v *= self.alpha
        v += (1 - self.alpha) * g * g
        if self.centered:
            _lerp_(state["grad_avg"], g, 1 - self.alpha)
            gave = state["grad_avg"]
            avg = np.sqrt(v + (-1 * gave) * gave)  # addcmul(value=-1); NaN if < 0, as torch
        else:
            avg = np.sqrt(v)
        avg += self.eps
        if self.momentum > 0:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += g / avg
            p += -self.lr * buf
        else:
            p += (-self.lr * g) / avg


@register
class Adam(Optimizer):
    r"""Adam, as ``torch.optim.Adam``.

    .. math::
        \begin{aligned}
        & g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})
          \quad (-\nabla_\theta f_t(\theta_{t-1}) \text{ if maximize}) \\
        & \textbf{if } \lambda \ne 0: \; \begin{cases}
          \theta_{t-1} \leftarrow \theta_{t-1} - \gamma\lambda\theta_{t-1}
              & \text{decoupled\_weight\_decay (AdamW)} \\
          g_t \leftarrow g_t + \lambda\theta_{t-1} & \text{otherwise} \end{cases} \\
        & m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        & v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        & \widehat{m_t} \leftarrow m_t / (1-\beta_1^t) \\
        & \textbf{if amsgrad}: \; v_t^{max} \leftarrow \max(v_{t-1}^{max}, v_t), \quad
          \widehat{v_t} \leftarrow v_t^{max} / (1-\beta_2^t) \\
        & \textbf{else}: \; \widehat{v_t} \leftarrow v_t / (1-\beta_2^t) \\
        & \theta_t \leftarrow \theta_{t-1}
          - \gamma\,\widehat{m_t} / (\sqrt{\widehat{v_t}} + \epsilon)
        \end{aligned}

    Computed as torch does: :math:`m_t` by ``lerp``, the denominator as
    :math:`\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon` (so :math:`\epsilon` is added after the
    bias correction, outside the square root) and the step as
    :math:`\theta \leftarrow \theta + (-\frac{\gamma}{1-\beta_1^t}\, m_t) / \text{denom}`.
    State: ``step``, ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`),
    ``max_exp_avg_sq`` (amsgrad only).
    """

    name = "adam"
    torch_name = "Adam"
    defaults: ClassVar[dict[str, Any]] = {
        "lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
        "maximize": False, "decoupled_weight_decay": False}
    betas: tuple[float, float]
    eps: float
    amsgrad: bool
    decoupled_weight_decay: bool
    flags: ClassVar[tuple[str, ...]] = ("amsgrad", "maximize", "decoupled_weight_decay")

    def _init_state(self, p: np.ndarray) -> dict[str, Any]:
        state = {"step": 0.0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}
        if self.amsgrad:
            state["max_exp_avg_sq"] = np.zeros_like(p)
        return state

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        beta1, beta2 = self.betas
        state["step"] += 1
        step = state["step"]
        self._decoupled_decay(p)
        g = self._grad(p, g)
        _lerp_(state["exp_avg"], g, 1 - beta1)
        v = state["exp_avg_sq"]
        v *= beta2
        v += (1 - beta2) * g * g
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = self.lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = np.sqrt(v) / bias_correction2_sqrt + self.eps
        p += (-step_size * state["exp_avg"]) / denom


@register
class AdamW(Adam):
    r"""AdamW, as ``torch.optim.AdamW``: :class:`Adam` with decoupled weight decay
    (default :math:`\lambda = 10^{-2}`).

    .. math::
        \begin{aligned}
        & \theta_t \leftarrow \theta_{t-1} - \gamma\lambda\theta_{t-1} \\
        & m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
          v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        & \widehat{m_t} \leftarrow m_t / (1-\beta_1^t), \qquad
          \widehat{v_t} \leftarrow v_t / (1-\beta_2^t)
          \quad (v_t^{max} \text{ with amsgrad}) \\
        & \theta_t \leftarrow \theta_t - \gamma\,\widehat{m_t} / (\sqrt{\widehat{v_t}} + \epsilon)
        \end{aligned}

    The decay uses the gradient-free :math:`\theta_{t-1}` and the learning rate, not the
    adaptive step. State as :class:`Adam`.
    """

    name = "adamw"
    torch_name = "AdamW"
    defaults: ClassVar[dict[str, Any]] = {
        "lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": False,
        "maximize": False}
    flags = ("amsgrad", "maximize")
    decoupled_weight_decay = True


@register
class Adamax(Optimizer):
    r"""Adamax (Adam with the infinity norm), as ``torch.optim.Adamax``.

    .. math::
        \begin{aligned}
        & g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})
          \quad (-\nabla_\theta f_t(\theta_{t-1}) \text{ if maximize}) \\
        & \textbf{if } \lambda \ne 0: \; g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        & m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        & u_t \leftarrow \max(\beta_2 u_{t-1}, |g_t| + \epsilon) \\
        & \theta_t \leftarrow \theta_{t-1} - \frac{\gamma\, m_t}{(1-\beta_1^t)\, u_t}
        \end{aligned}

    State: ``step``, ``exp_avg`` (:math:`m`), ``exp_inf`` (:math:`u`).
    """

    name = "adamax"
    torch_name = "Adamax"
    defaults: ClassVar[dict[str, Any]] = {
        "lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "maximize": False}
    betas: tuple[float, float]
    eps: float

    def _init_state(self, p: np.ndarray) -> dict[str, Any]:
        return {"step": 0.0, "exp_avg": np.zeros_like(p), "exp_inf": np.zeros_like(p)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        beta1, beta2 = self.betas
        state["step"] += 1
        g = self._grad(p, g)
        _lerp_(state["exp_avg"], g, 1 - beta1)
        u = state["exp_inf"]
        u *= beta2
        np.maximum(u, np.abs(g) + self.eps, out=u)
        clr = self.lr / (1 - beta1 ** state["step"])
        p += (-clr * state["exp_avg"]) / u


@register
class NAdam(Optimizer):
    r"""NAdam (Adam with Nesterov momentum), as ``torch.optim.NAdam``.

    .. math::
        \begin{aligned}
        & g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})
          \quad (-\nabla_\theta f_t(\theta_{t-1}) \text{ if maximize}) \\
        & \textbf{if } \lambda \ne 0: \; \begin{cases}
          \theta_{t-1} \leftarrow \theta_{t-1} - \gamma\lambda\theta_{t-1}
              & \text{decoupled\_weight\_decay} \\
          g_t \leftarrow g_t + \lambda\theta_{t-1} & \text{otherwise} \end{cases} \\
        & \mu_t \leftarrow \beta_1 \big(1 - \tfrac{1}{2}\, 0.96^{t\psi}\big), \qquad
          \mu_{t+1} \leftarrow \beta_1 \big(1 - \tfrac{1}{2}\, 0.96^{(t+1)\psi}\big) \\
        & m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
          v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        & \widehat{m_t} \leftarrow \mu_{t+1} m_t / \big(1 - \textstyle\prod_{i=1}^{t+1}\mu_i\big)
          + (1-\mu_t)\, g_t / \big(1 - \textstyle\prod_{i=1}^{t}\mu_i\big) \\
        & \widehat{v_t} \leftarrow v_t / (1-\beta_2^t) \\
        & \theta_t \leftarrow \theta_{t-1}
          - \gamma\,\widehat{m_t} / (\sqrt{\widehat{v_t}} + \epsilon)
        \end{aligned}

    :math:`\psi` is ``momentum_decay``. The running product
    :math:`\prod_{i \le t}\mu_i` is state ``mu_product``, which torch keeps as a
    float32 scalar (:data:`SCALAR_DTYPE`) whatever the parameters' dtype, so it is
    accumulated in float32 here too; the two :math:`\widehat{m_t}` terms are applied as
    two separate updates, in torch's order. State: ``step``, ``mu_product``,
    ``exp_avg``, ``exp_avg_sq``.
    """

    name = "nadam"
    torch_name = "NAdam"
    defaults: ClassVar[dict[str, Any]] = {
        "lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "momentum_decay": 4e-3,
        "decoupled_weight_decay": False, "maximize": False}
    betas: tuple[float, float]
    eps: float
    momentum_decay: float
    decoupled_weight_decay: bool
    non_negative = ("lr", "eps", "weight_decay", "momentum_decay")
    flags = ("decoupled_weight_decay", "maximize")

    def _init_state(self, p: np.ndarray) -> dict[str, Any]:
        return {"step": 0.0, "mu_product": SCALAR_DTYPE(1.0), "exp_avg": np.zeros_like(p),
                "exp_avg_sq": np.zeros_like(p)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        beta1, beta2 = self.betas
        state["step"] += 1
        step = state["step"]
        bias_correction2 = 1 - beta2**step
        self._decoupled_decay(p)
        g = self._grad(p, g)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * self.momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * self.momentum_decay)))
        # float32 product, as torch's float32 scalar tensor: mu is rounded first
        state["mu_product"] = SCALAR_DTYPE(state["mu_product"] * SCALAR_DTYPE(mu))
        mu_product = float(state["mu_product"])
        _lerp_(state["exp_avg"], g, 1 - beta1)
        v = state["exp_avg_sq"]
        v *= beta2
        v += (1 - beta2) * g * g
        denom = np.sqrt(v / bias_correction2)
        mu_product_next = mu_product * mu_next
        denom += self.eps
        p += ((-self.lr * (1.0 - mu) / (1.0 - mu_product)) * g) / denom
        p += (((-self.lr * mu_next) / (1.0 - mu_product_next)) * state["exp_avg"]) / denom


@register
class RAdam(Optimizer):
    r"""RAdam (rectified Adam), as ``torch.optim.RAdam``.

    .. math::
        \begin{aligned}
        & \rho_\infty \leftarrow 2/(1-\beta_2) - 1 \\
        & g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})
          \quad (-\nabla_\theta f_t(\theta_{t-1}) \text{ if maximize}) \\
        & \textbf{if } \lambda \ne 0: \; \begin{cases}
          \theta_{t-1} \leftarrow \theta_{t-1} - \gamma\lambda\theta_{t-1}
              & \text{decoupled\_weight\_decay} \\
          g_t \leftarrow g_t + \lambda\theta_{t-1} & \text{otherwise} \end{cases} \\
        & m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
          v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        & \widehat{m_t} \leftarrow m_t / (1-\beta_1^t) \\
        & \rho_t \leftarrow \rho_\infty - 2t\beta_2^t / (1-\beta_2^t) \\
        & \textbf{if } \rho_t > 5: \\
        & \qquad l_t \leftarrow \sqrt{1-\beta_2^t} / (\sqrt{v_t} + \epsilon), \quad
          r_t \leftarrow \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}
                                    {(\rho_\infty-4)(\rho_\infty-2)\rho_t}} \\
        & \qquad \theta_t \leftarrow \theta_{t-1} - \gamma\,\widehat{m_t}\, r_t\, l_t \\
        & \textbf{else}: \; \theta_t \leftarrow \theta_{t-1} - \gamma\,\widehat{m_t}
        \end{aligned}

    With the default :math:`\beta_2 = 0.999` the first five steps are plain momentum
    SGD (:math:`\rho_t \le 5`). :math:`l_t` is computed as torch evaluates
    ``scalar / tensor``: the reciprocal of the tensor times the scalar. State: ``step``,
    ``exp_avg``, ``exp_avg_sq``.
    """

    name = "radam"
    torch_name = "RAdam"
    defaults: ClassVar[dict[str, Any]] = {
        "lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
        "decoupled_weight_decay": False, "maximize": False}
    betas: tuple[float, float]
    eps: float
    decoupled_weight_decay: bool
    flags = ("decoupled_weight_decay", "maximize")

    def _init_state(self, p: np.ndarray) -> dict[str, Any]:
        return {"step": 0.0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        beta1, beta2 = self.betas
        state["step"] += 1
        step = state["step"]
        self._decoupled_decay(p)
        g = self._grad(p, g)
        _lerp_(state["exp_avg"], g, 1 - beta1)
        v = state["exp_avg_sq"]
        v *= beta2
        v += (1 - beta2) * g * g
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        bias_corrected_exp_avg = state["exp_avg"] / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive_lr = (1 / (np.sqrt(v) + self.eps)) * bias_correction2**0.5
            p -= bias_corrected_exp_avg * self.lr * adaptive_lr * rect
        else:
            p -= bias_corrected_exp_avg * self.lr


@register
class Adadelta(Optimizer):
    r"""Adadelta, as ``torch.optim.Adadelta``.

    .. math::
        \begin{aligned}
        & g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})
          \quad (-\nabla_\theta f_t(\theta_{t-1}) \text{ if maximize}) \\
        & \textbf{if } \lambda \ne 0: \; g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        & v_t \leftarrow v_{t-1}\rho + g_t^2 (1-\rho) \\
        & \Delta x_t \leftarrow \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t \\
        & u_t \leftarrow u_{t-1}\rho + \Delta x_t^2 (1-\rho) \\
        & \theta_t \leftarrow \theta_{t-1} - \gamma\,\Delta x_t
        \end{aligned}

    :math:`\rho` is ``rho``; here :math:`\epsilon` sits *inside* both square roots.
    State: ``step``, ``square_avg`` (:math:`v`), ``acc_delta`` (:math:`u`).
    """

    name = "adadelta"
    torch_name = "Adadelta"
    defaults: ClassVar[dict[str, Any]] = {
        "lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0, "maximize": False}
    rho: float
    eps: float

    def _check_params(self) -> None:
        super()._check_params()
        if not 0.0 <= self.rho <= 1.0:
            raise ValueError(f"adadelta: rho must lie in [0, 1], got {self.rho}")

    def _init_state(self, p: np.ndarray) -> dict[str, Any]:
        return {"step": 0.0, "square_avg": np.zeros_like(p), "acc_delta": np.zeros_like(p)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        state["step"] += 1
        g = self._grad(p, g)
        v, u = state["square_avg"], state["acc_delta"]
        v *= self.rho
        v += (1 - self.rho) * g * g
        std = np.sqrt(v + self.eps)
        delta = np.sqrt(u + self.eps) / std * g
        u *= self.rho
        u += (1 - self.rho) * delta * delta
        p += -self.lr * delta
