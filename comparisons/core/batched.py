r"""Many perturbed copies of one parameter, evaluated in one forward pass.

The finite-difference oracle needs :math:`L(\theta \pm h e_i)` for every element
:math:`i` of every parameter, and the Taylor test :math:`L(\theta + \varepsilon v)` for
several :math:`\varepsilon`. Evaluating them one Python call at a time spends almost all
of its time in call overhead (the networks are tiny). :func:`mlp_batched_loss` evaluates
``P`` perturbed copies of one parameter of a :class:`manual.MLP` at once: the copies are
stacked on a leading axis, ``(P, *shape)``, and every array downstream of that parameter
carries the extra axis, ``(P, N, width)``.

Exactly the same numbers as the one-at-a-time loop, bit for bit, because every
floating-point operation is the same operation on the same operands:

- the layers before the perturbed one are computed once, as in every call of the loop;
- ``a @ W_stack`` is NumPy's stacked matmul, one BLAS call per copy with the very shapes,
  strides and operand order of the single ``a @ W`` (NumPy never folds the copies into
  one larger product, which could change the summation order);
- activations are elementwise or act along the last axis, so a leading axis changes
  nothing per element;
- the loss terms are computed on the copies' rows laid end to end, and each copy's terms
  are summed with the same pairwise summation over the same contiguous block of terms as
  ``np.sum`` in :meth:`manual.losses.Loss.value`, then divided by the same denominator.

Only the built-in pieces are batched, and only when nothing has been overridden
(a subclassed or monkeypatched ``MLP.forward``, a student's own loss, softmax along
another axis): then :func:`mlp_batched_loss` returns ``None`` and the caller falls back to
the element-by-element sweep. ``tests/test_oracles.py`` compares the two bitwise over
the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from manual import losses as _losses
from manual.layers.linear import Dense, affine_forward
from manual.network import MLP

__all__ = ["BatchedLoss", "mlp_batched_loss"]

#: ``batched(name, values)``: the loss at each of the stacked copies ``values``
#: (P, \*params[name].shape) of one parameter, the others at their live values; (P,) float64
BatchedLoss = Callable[[str, np.ndarray], np.ndarray]

#: most elements of one stacked activation array (P x N x width) per NumPy call; larger
#: stacks are cut into chunks of copies (the values do not depend on the chunking)
CHUNK_ELEMENTS = 1 << 20

# the methods the batched path reproduces, captured at import: a monkeypatched or
# overridden one means the network no longer computes what this module assumes
_MLP_METHODS = {name: getattr(MLP, name) for name in ("forward", "loss", "_check_X", "_check_y")}
_LOSS_METHODS = {name: getattr(_losses.Loss, name) for name in ("forward", "value", "_reduce")}


def _plain_mlp(net: Any) -> bool:
    if not isinstance(net, MLP) or any(getattr(type(net), k) is not f
                                       for k, f in _MLP_METHODS.items()):
        return False
    if any(type(layer) is not Dense for layer in net.layers):
        return False
    # the live arrays the network computes with must be the ones FD perturbs
    if any(net.params[f"W{l}"] is not layer.W or net.params[f"b{l}"] is not layer.b
           for l, layer in enumerate(net.layers, start=1)):
        return False
    for f in (net.activation, net.output_activation):
        if not type(f).__module__.startswith("manual.activations"):  # a built-in activation
            return False
        if not getattr(f, "elementwise", True) and getattr(f, "dim", None) != -1:
            return False  # mixes along an axis the stacking would shift
    return True


def _batchable_loss(loss_fn: Any) -> bool:
    """A built-in loss whose value is ``Loss.value``: the per-term ``_forward``, summed and
    divided by ``_denominator``, which depends on shapes, targets and weights only."""
    cls = type(loss_fn)
    return (cls.__module__.startswith("manual.losses") and isinstance(loss_fn, _losses.Loss)
            and all(getattr(cls, k) is f for k, f in _LOSS_METHODS.items())
            and loss_fn._reduction() != "none" and getattr(loss_fn, "weight", None) is None)


def mlp_batched_loss(net: Any, X: np.ndarray, y: np.ndarray) -> BatchedLoss | None:
    """``batched(name, values)`` for ``net.loss(X, y)``, or ``None`` when ``net`` is not a
    plain :class:`manual.MLP` of built-in parts (see the module docstring)."""
    if not _plain_mlp(net):
        return None
    n_layers = len(net.layers)
    acts = [net.output_activation if l == n_layers else net.activation
            for l in range(1, n_layers + 1)]
    a0 = net._check_X(X)
    y_checked = net._check_y(y, a0.shape[0])
    loss_fn = net.loss_fn
    whole_loss = _batchable_loss(loss_fn)
    widest = max(net.sizes) * max(a0.shape[0], 1)

    def batched(name: str, values: np.ndarray) -> np.ndarray:
        kind, l = name[0], int(name[1:])  # "W3" -> ("W", 3)
        values = np.asarray(values, dtype=net.dtype)
        if values.shape[1:] != net.params[name].shape:
            raise ValueError(f"batched loss: {name} copies must be (P, "
                             f"{net.params[name].shape}), got {values.shape}")
        # layers below l do not depend on the copies: computed once, as in every call
        a = a0
        for layer, f in zip(net.layers[:l - 1], acts[:l - 1]):
            a = f.forward(affine_forward(a, layer.W, layer.b)[0])
        step = max(1, CHUNK_ELEMENTS // widest)
        out = [_from_layer(a, l, kind, values[i:i + step]) for i in range(0, len(values), step)]
        return np.concatenate(out) if out else np.zeros(0)

    def _from_layer(a: np.ndarray, l: int, kind: str, values: np.ndarray) -> np.ndarray:
        layer = net.layers[l - 1]
        if kind == "W":
            z = a @ values + layer.b  # (P, N, out): one product per copy, same shapes
        else:
            z = a @ layer.W + values[:, None, :]  # (P, N, out)
        a = acts[l - 1].forward(z)
        for layer, f in zip(net.layers[l:], acts[l:]):
            a = f.forward(a @ layer.W + layer.b)  # (P, N, out_l)
        if not whole_loss:  # the network batched, the loss one copy at a time
            return np.array([float(loss_fn.forward(a_p, y_checked)) for a_p in a])
        return _loss_rows(loss_fn, a, y_checked)

    return batched


def _loss_rows(loss_fn: Any, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``loss_fn.forward(pred[p], target)`` for every copy p, as ``Loss.value`` computes it."""
    P, N = pred.shape[0], pred.shape[1]
    pred0, target = loss_fn._validate(pred[0], target)  # checks and casts once
    # the copies' rows end to end: every loss term is computed per sample or per element
    rows = pred.reshape((P * N,) + pred.shape[2:])
    tiled = np.ascontiguousarray(np.broadcast_to(target, (P,) + target.shape)).reshape(
        (P * target.shape[0],) + target.shape[1:]) if target.ndim else target
    terms = loss_fn._forward(rows, tiled)
    # each copy's terms are one contiguous block: np.sum's pairwise order, block by block
    totals = np.asarray(terms).reshape(P, -1).sum(axis=1, dtype=pred.dtype)
    denominator = loss_fn._denominator(pred0, target)
    if denominator is None:
        return totals.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 is NaN, as Loss._reduce
        return (totals / pred.dtype.type(denominator)).astype(np.float64)
