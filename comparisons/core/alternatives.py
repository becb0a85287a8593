r"""The gradients that slips needing context would give: the ``alternatives`` of
:func:`comparisons.core.diagnosis.likely_slip`, worked out by the code that holds the
context (the network runner, the student checker, a layer's record).

- :func:`activation_alternatives`: a torch reference's gradients with an activation's
  derivative left out. Under :class:`ActivationDerivativeDropped` (a
  :class:`torch.overrides.TorchFunctionMode`), the chosen calls of an elementwise
  activation (``torch.sigmoid``, ``F.relu``, ``x.tanh()``, ``nn.GELU``, …) return the same
  value, :math:`f(z)`, with the derivative of the identity: autograd then computes the
  gradient a student gets who forgets to multiply by :math:`f'(z)`, exactly (the value is
  ``f(z).detach() + (z - z.detach())``, ``f(z)`` plus an exact 0). Tested for every
  activation call at once and, for up to :data:`MAX_SINGLE` calls, for each alone (the
  output layer's :math:`\sigma'(z_L)` of Nielsen's BP1, a hidden layer's).
- :func:`dense_alternatives`: a dense network's weight gradient with the input left out
  (every row the bias's gradient: :math:`\sum_n \delta_n` for :math:`X^\top\delta`) or
  untransposed (:math:`X\delta`), from the reference's own gradients and intermediates.
- :class:`LazyAlternatives`: worked out once, on the first failing comparison that asks.

Each is a hypothesis: it is named only where it explains the student's array within the
comparison's tolerance at every element.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

__all__ = ["ATTENTION_SOFTMAX_DIAGONAL", "CONTEXTS", "FIRST_SLICE", "KERNEL_TRANSPOSED",
           "KERNEL_UNFLIPPED", "LAST_POSITION", "LAST_SLICE", "MAX_SINGLE",
           "OUTPUT_PADDING_IGNORED", "PADDING_AS_ZEROS", "PASSED_THROUGH", "SHIFTED_BY_ONE",
           "SOFTMAX_DIAGONAL", "STATISTICS_HELD_CONSTANT", "VALUE_PATH_DROPPED",
           "WRONG_DERIVATIVES", "ActivationDerivativeDropped", "LayerInputGradSlip",
           "LazyAlternatives", "PreActivationInput", "SoftmaxDiagonalOnly",
           "StatisticsHeldConstant", "ValuePathDropped", "activation_alternatives",
           "context_alternatives", "dense_alternatives", "layer_alternatives",
           "slice_upstreams"]

#: parameter name -> {text naming the slip: the gradient it would give}
ByParameter = dict[str, dict[str, np.ndarray]]

#: at most this many activation calls are each tested alone (one more autograd pass each)
MAX_SINGLE = 6

#: the words of the hypothesis that a layer's or an activation's backward returned its
#: upstream gradient (what the layer runner and the activation comparison offer)
PASSED_THROUGH = ("the upstream gradient passed through unchanged (the layer's own "
                  "derivative, an activation's f'(z), never multiplied in?)")
#: the words of the hypothesis that a parameter's gradient summed the share of one index
#: of an output axis only (PReLU's slope from the first sample, a 3-d kernel from the first
#: output depth): the layer runner offers it for every axis of every output
FIRST_SLICE = ("the share of index 0 along output axis {axis} only (a sum over that axis "
               "forgotten, or a loop that stopped after its first pass?)")
#: the same from the last index: a loop over that axis that assigned (=) where it must
#: accumulate (+=), so that only its last pass is left
LAST_SLICE = ("the share of the last index along output axis {axis} only (= where += "
              "belongs in a loop over that axis?)")
#: the same for the last output position of all spatial axes at once (axes 2, 3, …): a
#: loop over the positions (CS231n's naive convolution) that assigned its last pass
LAST_POSITION = ("the share of the last output position only (= where += belongs in the "
                 "loop over the output positions?)")
#: the words of the hypotheses about a convolution's input gradient, offered by the layer
#: runner for torch's convolutions
KERNEL_UNFLIPPED = ("the input gradient of a convolution whose kernel is not rotated by 180 "
                    "degrees (a correlation with w where the flipped kernel belongs?)")
KERNEL_TRANSPOSED = ("the input gradient with the kernel's last two axes swapped where its "
                     "180-degree rotation belongs (w[..., q, p] for w[..., k-1-p, k-1-q]?)")
OUTPUT_PADDING_IGNORED = ("the gradient with the outputs that output_padding adds left out (the "
                          "backward written as if output_padding were 0?)")
SHIFTED_BY_ONE = ("the gradient of the upstream gradient shifted by {step:+d} along every spatial "
                  "axis (a padding off by one?)")
VALUE_PATH_DROPPED = ("the gradient through the attention's key path alone, where the input "
                      "serves as key and value (its value path's gradient dropped?)")
PADDING_AS_ZEROS = ("the input gradient of the same convolution with zero padding (the "
                    "padding_mode's copies' gradients not added back onto their sources?)")
#: the words of the hypothesis that a softmax's backward kept its Jacobian's diagonal only
SOFTMAX_DIAGONAL = ("g * s * (1 - s), the diagonal of the softmax's Jacobian only (the "
                    "backward taken as elementwise, the -s_i s_k terms dropped?)")

#: the same inside attention: the softmax of the scores with its Jacobian's diagonal only
ATTENTION_SOFTMAX_DIAGONAL = ("the gradient of an attention whose softmax backward keeps the "
                              "Jacobian's diagonal only (dS = P * dP, the - P (P . dP) term "
                              "dropped?)")

_F = torch.nn.functional
#: the elementwise activations whose derivative can be left out, by torch function
_ACTIVATIONS: dict[Any, str] = {
    **{getattr(m, n): n for n in ("sigmoid", "tanh", "relu")
       for m in (torch, torch.Tensor, _F)},
    **{getattr(_F, n): n for n in ("leaky_relu", "elu", "selu", "celu", "gelu", "silu",
                                   "mish", "softplus", "hardtanh", "relu6", "hardsigmoid",
                                   "hardswish")},
}


#: classic wrong formulas for an activation's derivative, by name: (the words, the wrong
#: f'(z) from the pre-activation z and the output y = f(z))
WRONG_DERIVATIVES: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "tanh": ("1 - tanh(z), not squared (1 - y where 1 - y**2 belongs?)", lambda z, y: 1 - y),
    "sigmoid": ("z (1 - z), sigma's formula on the pre-activation z instead of the output "
                "y = sigma(z)", lambda z, y: z * (1 - z)),
}


#: torch's fused recurrent cells, by the activation of their pre-activation
#: :math:`W_{ih} x + b_{ih} + W_{hh} h + b_{hh}`: recomputed (value kept) where dropped
_FUSED_CELLS: dict[Any, str] = {torch.rnn_tanh_cell: "tanh", torch.rnn_relu_cell: "relu"}


class ActivationDerivativeDropped(TorchFunctionMode):
    """Within it, the elementwise activation calls numbered in ``drop`` (0, 1, … in call
    order) keep their value and lose their derivative (``wrong``: get the classic wrong
    one of :data:`WRONG_DERIVATIVES` instead, where their name has one); ``calls`` lists
    every activation call's name in order (``drop`` empty: a plain run that counts
    them)."""

    def __init__(self, drop: frozenset[int] = frozenset(), wrong: bool = False) -> None:
        super().__init__()
        self.drop = drop
        self.wrong = wrong
        self.calls: list[str] = []

    def __torch_function__(self, func: Any, types: Any, args: tuple = (),
                           kwargs: Mapping[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        try:
            name = _ACTIVATIONS.get(func)
            cell = _FUSED_CELLS.get(func)
        except TypeError:  # an unhashable callable: no activation
            name = cell = None
        z = args[0] if args else None
        if cell is not None and len(args) >= 4:  # a fused cell: f of its pre-activation
            x, h, w_ih, w_hh = args[:4]
            b_ih, b_hh = (list(args[4:6]) + [None, None])[:2]
            name, z = cell, _F.linear(x, w_ih, b_ih) + _F.linear(h, w_hh, b_hh)
        if (name is None or kwargs.get("inplace") or not isinstance(z, torch.Tensor)
                or not isinstance(out, torch.Tensor) or out.shape != z.shape):
            return out
        k = len(self.calls)
        self.calls.append(name)
        if k not in self.drop:
            return out
        if self.wrong:  # f(z), with the derivative of the wrong formula (an exact 0 added)
            slope = WRONG_DERIVATIVES[name][1](z.detach(), out.detach())
            return out.detach() + (z - z.detach()) * slope
        return out.detach() + (z - z.detach())  # f(z), with the derivative of z


class PreActivationInput(TorchFunctionMode):
    """Within it, a matrix product (``@``, ``torch.matmul``, ``torch.mm``, ``F.linear``)
    whose first operand is the output :math:`f(z)` of an activation call numbered in
    ``swap`` takes its weight's gradient from the pre-activation :math:`z` instead; the
    value and every other gradient are kept (exact zeros added, as
    :class:`LayerInputGradSlip`). ``calls`` lists every activation call's name."""

    # ``a @ b`` reaches a mode as TensorBase.matmul
    _PRODUCTS = (torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__, torch.mm,
                 torch.Tensor.mm, _F.linear)

    def __init__(self, swap: frozenset[int] = frozenset()) -> None:
        super().__init__()
        self.swap = swap
        self.calls: list[str] = []
        self._pre: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def __torch_function__(self, func: Any, types: Any, args: tuple = (),
                           kwargs: Mapping[str, Any] | None = None) -> Any:
        kwargs = dict(kwargs or {})
        out = func(*args, **kwargs)
        try:
            name = _ACTIVATIONS.get(func)
        except TypeError:  # an unhashable callable: no activation
            name = None
        if (name is not None and args and isinstance(args[0], torch.Tensor)
                and isinstance(out, torch.Tensor) and out.shape == args[0].shape
                and not kwargs.get("inplace")):
            if len(self.calls) in self.swap:
                self._pre[id(out)] = (out, args[0])
            self.calls.append(name)
            return out
        if func not in self._PRODUCTS or len(args) < 2 or id(args[0]) not in self._pre:
            return out
        y, z = self._pre[id(args[0])]
        if y is not args[0]:  # a recycled id
            return out
        w, rest = args[1], args[2:]
        if func is _F.linear:
            bias = rest[0] if rest else kwargs.pop("bias", None)
            a, b = _F.linear(y, w.detach()), _F.linear(z.detach(), w, bias)
        else:
            a, b = func(y, w.detach()), func(z.detach(), w)
        return out.detach() + (a - a.detach()) + (b - b.detach())


_TORCH_SOFTMAX = torch.softmax  # the real one, whatever SoftmaxDiagonalOnly replaces


def slice_upstreams(douts: list[Any]) -> list[tuple[str, list[Any]]]:
    """The upstream gradients of the "one share only" slips, each with its words: for each
    float output (None entries stay None) and each of its axes longer than 1, ``douts``
    with that output kept at index 0 (:data:`FIRST_SLICE`) or at the last index
    (:data:`LAST_SLICE`) of the axis and zero elsewhere, and, for an output with two or
    more axes after (N, C), kept at its last position of all of them
    (:data:`LAST_POSITION`). Their vector-Jacobian products are the gradients a sum left
    incomplete, or ``=`` where ``+=`` belongs in a loop, would give."""
    out: list[tuple[str, list[Any]]] = []

    def kept(k: int, index: tuple) -> list[Any]:
        g = list(douts)
        g[k] = np.zeros_like(douts[k])
        g[k][index] = douts[k][index]
        return g

    for k, d in enumerate(douts):
        if d is None:
            continue
        for axis in range(np.ndim(d)):
            if np.shape(d)[axis] > 1:
                for i, text in ((0, FIRST_SLICE), (-1, LAST_SLICE)):
                    out.append((text.format(axis=axis),
                                kept(k, (slice(None),) * axis + (i,))))
        if np.ndim(d) >= 4:
            out.append((LAST_POSITION, kept(k, (slice(None), slice(None),
                                                *(-1,) * (np.ndim(d) - 2)))))
    return out


class _Patched:
    """A context that replaces torch functions by name for its duration (``F.multi_head_
    attention_forward`` and the modules call them by their module-level names, which a
    torch-function mode, popped while it handles the outer call, would not see) and counts
    in ``calls`` the calls it changed; single-threaded use only. Subclasses list the
    replacements in :meth:`replacements`."""

    def __init__(self) -> None:
        self.calls = 0
        self._saved: list[tuple[Any, str, Any]] = []

    def replacements(self) -> list[tuple[Any, str, Callable[..., Any]]]:
        raise NotImplementedError

    def __enter__(self) -> _Patched:
        for owner, name, new in self.replacements():
            self._saved.append((owner, name, getattr(owner, name)))
            setattr(owner, name, new)
        return self

    def __exit__(self, *exc: Any) -> None:
        for owner, name, old in reversed(self._saved):
            setattr(owner, name, old)
        self._saved.clear()


class ValuePathDropped(_Patched):
    """Every ``F.multi_head_attention_forward`` whose key and value are one tensor distinct
    from the query (a cross-attention reading ``memory`` twice) gets the value detached:
    the gradient reaches that tensor through the keys alone."""

    def replacements(self) -> list[tuple[Any, str, Callable[..., Any]]]:
        original = _F.multi_head_attention_forward

        def mha(query: Any, key: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
            if key is value and key is not query:
                self.calls += 1
                value = value.detach()
            return original(query, key, value, *args, **kwargs)

        return [(_F, "multi_head_attention_forward", mha)]


class StatisticsHeldConstant(_Patched):
    r"""Every batch norm using its batch's statistics (``F.batch_norm`` in training, or
    without running statistics) and every ``F.layer_norm`` normalises with its mean and
    variance detached: the gradient of a backward that treats them as constants
    (:math:`\gamma\,g/\sqrt{\sigma^2+\epsilon}`, the direct term alone). Running
    statistics are not updated (the hypothesis needs gradients only)."""

    def replacements(self) -> list[tuple[Any, str, Callable[..., Any]]]:
        batch_norm = _F.batch_norm

        def constant(x: torch.Tensor, axes: list[int], shape: list[int], weight: Any,
                     bias: Any, eps: float) -> torch.Tensor:
            self.calls += 1
            mean = x.mean(axes, keepdim=True).detach()
            var = x.var(axes, unbiased=False, keepdim=True).detach()
            y = (x - mean) / torch.sqrt(var + eps)
            y = y if weight is None else y * weight.reshape(shape)
            return y if bias is None else y + bias.reshape(shape)

        def bn(x: Any, running_mean: Any, running_var: Any, weight: Any = None,
               bias: Any = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Any:
            if not (training or running_mean is None) or x.dim() < 2:
                return batch_norm(x, running_mean, running_var, weight, bias, training,
                                  momentum, eps)
            return constant(x, [0, *range(2, x.dim())], [1, -1] + [1] * (x.dim() - 2),
                            weight, bias, eps)

        def ln(x: Any, normalized_shape: Any, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Any:
            n = len(normalized_shape)
            return constant(x, list(range(x.dim() - n, x.dim())), list(normalized_shape),
                            weight, bias, eps)

        return [(_F, "batch_norm", bn), (_F, "layer_norm", ln)]


class _DiagonalSoftmax(torch.autograd.Function):
    """softmax(x) along ``dim``, whose backward is g * s: the Jacobian's diagonal only."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, dim: int) -> torch.Tensor:
        s = _TORCH_SOFTMAX(x, dim)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, None]:
        (s,) = ctx.saved_tensors
        return g * s, None


class SoftmaxDiagonalOnly(_Patched):
    """Every softmax (``torch.softmax``, ``F.softmax``, ``x.softmax``) and every
    ``F.scaled_dot_product_attention`` (run as its math definition, without dropout)
    backpropagates through the softmax Jacobian's diagonal only."""

    def replacements(self) -> list[tuple[Any, str, Callable[..., Any]]]:
        original, sdpa = torch.softmax, _F.scaled_dot_product_attention

        def softmax(x: torch.Tensor, dim: Any = None, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(dim, int) or kwargs.get("dtype") is not None:
                return original(x, dim, *args, **kwargs)
            self.calls += 1
            return _DiagonalSoftmax.apply(x, dim)

        def attention(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("dropout_p") or (len(args) > 4 and args[4]):
                return sdpa(*args, **kwargs)
            self.calls += 1
            return self._attention(*args, **kwargs)

        return [(torch, "softmax", softmax), (_F, "softmax", softmax),
                (torch.Tensor, "softmax", softmax),
                (_F, "scaled_dot_product_attention", attention)]

    @staticmethod
    def _attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, attn_mask: Any = None,
                   dropout_p: float = 0.0, is_causal: bool = False, scale: Any = None,
                   enable_gqa: bool = False) -> torch.Tensor:
        """``F.scaled_dot_product_attention``'s documented math, softmax by diagonal."""
        L, S = q.shape[-2], k.shape[-2]
        alpha = 1 / q.shape[-1] ** 0.5 if scale is None else scale
        bias = torch.zeros(L, S, dtype=q.dtype)
        if is_causal:
            bias = bias.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), float("-inf"))
        if attn_mask is not None:
            bias = (bias.masked_fill(~attn_mask, float("-inf"))
                    if attn_mask.dtype == torch.bool else bias + attn_mask)
        if enable_gqa:
            k = k.repeat_interleave(q.shape[-3] // k.shape[-3], -3)
            v = v.repeat_interleave(q.shape[-3] // v.shape[-3], -3)
        p = _DiagonalSoftmax.apply(q @ k.transpose(-2, -1) * alpha + bias, -1)
        return p @ v


#: the words of :class:`StatisticsHeldConstant`'s hypothesis
STATISTICS_HELD_CONSTANT = ("the gradient with the normalisation's mean and variance held "
                            "constant (gamma * dout / std, the direct term alone: the paths "
                            "through the statistics missing?)")
#: the hypotheses that rerun a reference inside a context, with their words
CONTEXTS: tuple[tuple[str, Callable[[], _Patched]], ...] = (
    (ATTENTION_SOFTMAX_DIAGONAL, SoftmaxDiagonalOnly),
    (VALUE_PATH_DROPPED, ValuePathDropped),
    (STATISTICS_HELD_CONSTANT, StatisticsHeldConstant),
)


def context_alternatives(run: Callable[[], Mapping[Any, Any]]) -> dict[Any, dict[str, Any]]:
    """The gradients ``run()`` (a reference's autograd, key -> array) gives inside each
    context of :data:`CONTEXTS` that changes one of its calls: an attention's softmax by
    the Jacobian's diagonal, a key-and-value input through the keys alone, a norm's
    statistics held constant. ``run`` as :func:`activation_alternatives`'s."""
    out: dict[Any, dict[str, Any]] = {}
    for text, factory in CONTEXTS:
        context = factory()
        with context:
            grads = run()
        if context.calls:
            _collect(out, text, grads)
    return out


def _collect(out: dict[Any, dict[str, Any]], text: str, grads: Mapping[Any, Any]) -> None:
    """Add ``grads`` (key -> array) to ``out`` as the hypothesis ``text``, in float64."""
    for key, g in grads.items():
        out.setdefault(key, {})[text] = np.asarray(g, dtype=np.float64)


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def activation_alternatives(run: Callable[[], Mapping[str, Any]],
                            max_single: int = MAX_SINGLE) -> ByParameter:
    """The gradients ``run()`` (a torch reference's autograd, name -> array) gives with the
    activations' derivatives left out: each alone (when there are 2 to ``max_single``
    activation calls), then all of them; with the weight gradient of the layer after each
    activation taken from its pre-activation (:class:`PreActivationInput`); and with each
    activation's derivative written as its classic wrong formula
    (:data:`WRONG_DERIVATIVES`); ``{}`` when ``run`` calls no activation.

    ``run`` is called once to count the activation calls, then once per hypothesis: it
    must give the same gradients each time (a fresh copy of a network with running
    statistics, dropout's masks from the same random state)."""
    probe = ActivationDerivativeDropped()
    with probe:
        run()
    names = probe.calls
    n = len(names)
    if n == 0:
        return {}
    which = ", ".join(names)
    # each alone first: where two hypotheses give the same array (an output layer's
    # weights, which no hidden derivative reaches), the narrower one is named
    hypotheses: list[tuple[Any, str]] = [
        (ActivationDerivativeDropped(frozenset({k})),
         f"the gradient with the derivative f'(z) of the {_ordinal(k + 1)} of {n} "
         f"activations ({names[k]}{', the last' * (k == n - 1)}) left out (its "
         f"{names[k]}'(z) never multiplied in?)")
        for k in range(n) if 1 < n <= max_single]
    hypotheses.append((ActivationDerivativeDropped(frozenset(range(n))),
                       f"the gradient with every activation's derivative f'(z) left out "
                       f"({which}: the backward passes the upstream gradient through the "
                       f"activation{'s' * (n > 1)} unchanged)"))
    hypotheses += [(PreActivationInput(frozenset({k})),
                    f"the gradient with the weight gradient of the layer after activation "
                    f"{k + 1} of {n} ({names[k]}) taken from its pre-activation z, where its "
                    f"output f(z) belongs (z.T @ delta for f(z).T @ delta?)")
                   for k in range(n)]
    hypotheses += [(ActivationDerivativeDropped(frozenset(k for k in range(n)
                                                          if names[k] == name), wrong=True),
                    f"the gradient with {name}'s derivative written as "
                    f"{WRONG_DERIVATIVES[name][0]}")
                   for name in dict.fromkeys(names) if name in WRONG_DERIVATIVES]
    return _rerun_each(hypotheses, run)


def _rerun_each(hypotheses: list[tuple[Any, str]],
                run: Callable[[], Mapping[Any, Any]]) -> ByParameter:
    """``run()`` inside each ``(context, words)`` of ``hypotheses``, its gradients collected
    under the words."""
    out: ByParameter = {}
    for context, text in hypotheses:
        with context:
            grads = run()
        _collect(out, text, grads)
    return out


#: the layer calls whose input gradient can be replaced by a classic slip's, by torch
#: function: (what the layer is called, the slip's words)
_LAYER_CALLS: dict[Any, tuple[str, str]] = {
    **{getattr(_F, f"conv{n}d"): ("convolution", "its kernel not rotated by 180 degrees (a "
                                  "correlation with w where the flipped kernel belongs?)")
       for n in (1, 2, 3)},
    _F.linear: ("linear layer", "dout @ W.T where dout @ W belongs (torch's (out, in) "
                "weight transposed twice?)"),
}


class LayerInputGradSlip(TorchFunctionMode):
    """Within it, the convolution and linear calls numbered in ``slip`` (0, 1, … in call
    order) keep their value and their parameters' gradients, and pass back the input
    gradient of the classic slip of :data:`_LAYER_CALLS`: a convolution's with its kernel
    unflipped, a square linear layer's with its weight transposed. ``calls`` lists every
    such call's kind. The value is exact: ``y + (A - A') + (B - B')`` with ``A``, ``A'``
    (and ``B``, ``B'``) one computation run twice, an exact 0 whose derivative is the
    slip's (and the parameters' true one)."""

    def __init__(self, slip: frozenset[int] = frozenset()) -> None:
        super().__init__()
        self.slip = slip
        self.calls: list[str] = []

    def __torch_function__(self, func: Any, types: Any, args: tuple = (),
                           kwargs: Mapping[str, Any] | None = None) -> Any:
        kwargs = dict(kwargs or {})
        out = func(*args, **kwargs)
        try:
            kind = _LAYER_CALLS.get(func)
        except TypeError:  # an unhashable callable
            kind = None
        if kind is None or len(args) < 2 or not isinstance(args[1], torch.Tensor):
            return out
        k = len(self.calls)
        self.calls.append(kind[0])
        x, w, rest = args[0], args[1], args[3:]
        if k not in self.slip:
            return out
        if func is _F.linear:
            if w.shape[0] != w.shape[1]:
                return out
            wrong = w.detach().T
        else:
            wrong = w.detach().flip(tuple(range(2, w.dim())))
        kwargs.pop("bias", None)
        a = func(x, wrong, None, *rest, **kwargs)  # the slip's input gradient
        a0 = func(x.detach(), wrong, None, *rest, **kwargs)
        b = func(x.detach(), *args[1:], **kwargs)  # the parameters' true gradients
        return out.detach() + (a - a0) + (b - b.detach())


def layer_alternatives(run: Callable[[], Mapping[str, Any]],
                       max_single: int = MAX_SINGLE) -> ByParameter:
    """The gradients ``run()`` (a torch reference's autograd, name -> array) gives with a
    convolution's or a square linear layer's input gradient replaced by its classic slip's
    (:class:`LayerInputGradSlip`): each call alone (up to ``max_single`` calls), then every
    call of a kind; ``{}`` when ``run`` makes no such call. ``run`` as
    :func:`activation_alternatives`'s."""
    probe = LayerInputGradSlip()
    with probe:
        run()
    kinds = probe.calls
    n = len(kinds)
    hypotheses = [(frozenset({k}), f"the gradient with the input gradient of the "
                   f"{_ordinal(k + 1)} of {n} {kinds[k]} calls as {_LAYER_WORDS[kinds[k]]}")
                  for k in range(n) if 1 < n <= max_single]
    for kind in dict.fromkeys(kinds):
        hypotheses.append((frozenset(k for k in range(n) if kinds[k] == kind),
                           f"the gradient with every {kind}'s input gradient as "
                           f"{_LAYER_WORDS[kind]}"))
    return _rerun_each([(LayerInputGradSlip(slip), text) for slip, text in hypotheses], run)


_LAYER_WORDS = {kind: words for kind, words in _LAYER_CALLS.values()}


def dense_alternatives(params: Mapping[str, Any], grads: Mapping[str, Any],
                       trace: Mapping[str, Any] | None = None,
                       X: Any = None) -> ByParameter:
    r"""A dense network's (``W1, b1, …`` in (in, out) layout) weight gradients under two
    slips, from the true ``grads``: the input left out (every row of ``dW`` the true
    ``db``: :math:`\sum_n \delta_n` where :math:`X^\top\delta` belongs), and, with the
    reference's ``trace`` (``a1, …, dJ/dz1, …``) and the input ``X``, :math:`X\delta` for
    :math:`X^\top\delta` (a batch as large as the layer's input)."""
    out: ByParameter = {}
    trace = trace or {}
    for key in params:
        if not (key.startswith("W") and key[1:].isdigit()):
            continue
        l, shape = int(key[1:]), np.shape(params[key])
        db = grads.get(f"b{l}")
        if db is not None and len(shape) == 2 and np.shape(db) == shape[1:]:
            out.setdefault(key, {})[
                "every row the true bias gradient db (the input x left out of "
                "x.T @ delta?)"] = np.broadcast_to(np.asarray(db, np.float64), shape).copy()
        a = X if l == 1 else trace.get(f"a{l - 1}")
        delta = trace.get(f"dJ/dz{l}")
        if a is not None and delta is not None and np.ndim(a) == np.ndim(delta) == 2 and (
                np.shape(a)[1] == np.shape(delta)[0]) and (
                (np.shape(a)[0], np.shape(delta)[1]) == shape):
            out.setdefault(key, {})["x @ delta, where x.T @ delta belongs (the input not "
                                    "transposed)"] = (np.asarray(a, np.float64)
                                                      @ np.asarray(delta, np.float64))
    return out


class LazyAlternatives:
    """``compute()`` (parameter -> {text: gradient}) run once, when a failing comparison
    first asks (:meth:`of`). A hypothesis that cannot be worked out (a reference that
    cannot be copied or rerun) is no hypothesis: ``{}``."""

    def __init__(self, compute: Callable[[], ByParameter]) -> None:
        self._compute = compute
        self._value: ByParameter | None = None

    def __call__(self) -> ByParameter:
        if self._value is None:
            try:
                self._value = self._compute()
            # the diagnosis is an aid: whatever stops a rerun of the reference leaves the
            # verdict as it is, only without these hypotheses
            except Exception:  # noqa: BLE001
                self._value = {}
            self._value = {k: {t: a for t, a in v.items() if np.all(np.isfinite(a))}
                           for k, v in self._value.items()}
        return self._value

    def of(self, name: str) -> Callable[[], Mapping[str, np.ndarray]]:
        """The hypotheses for ``name``'s gradient, worked out when first called."""
        return lambda: self().get(name, {})

