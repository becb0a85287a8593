"""torch's argument names and defaults, checked: every manual activation, loss, optimizer,
schedule and layer against the torch callable or class it follows (``inspect.signature``).

A wrong default would otherwise hide: the harness hands torch only the arguments a case
sets, but a default nobody sets is compared nowhere else. Each difference we keep on
purpose is listed, with its reason: per component in the case table
(``ComponentInfo.default_differences``), for every layer in :data:`LAYER_DIFFERENCES`, and
for one layer in its record (``LayerInfo.signature_differences``); the layer checks are
made from the records by :func:`layer_signature_checks`.

>>> from comparisons.run.signatures import signature_mismatches
>>> import torch
>>> signature_mismatches({"beta": 1.0, "threshold": 20.0}, torch.nn.Softplus)
[]
>>> signature_mismatches({"beta": 1.0, "threshold": 10.0}, torch.nn.Softplus)
['threshold: default 10.0, torch 20.0']
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from comparisons.cases.info import LayerInfo

__all__ = ["LAYER_DIFFERENCES", "NO_TORCH_LAYER", "REQUIRED", "SignatureCheck",
           "layer_arguments", "layer_signature_checks", "signature_mismatches",
           "torch_arguments"]

#: marks an argument without a default (a required one)
REQUIRED = inspect.Parameter.empty

#: arguments of torch's that mean nothing to the manual side (never an argument there), or
#: arguments the manual side adds, for every layer, with the reason
LAYER_DIFFERENCES: dict[str, str] = {
    "device": "NumPy arrays live in host memory: there is no device to choose",
    "dtype": "accepted where torch has it; layers without parameters have no dtype to set",
    "rng": "the manual layers draw their initial weights from a NumPy generator (seeded); "
           "torch draws from its global generator",
    "inplace": "NumPy code never overwrites its input: accepted, and changes nothing",
    "min_value": "Hardtanh: torch's deprecated alias of min_val",
    "max_value": "Hardtanh: torch's deprecated alias of max_val",
    "loss": "manual.layers.Sequential also carries the loss a network trains with",
    "loss_kwargs": "the keyword arguments of that loss",
}

#: exported manual.layers classes without a torch.nn counterpart, with the reason
NO_TORCH_LAYER: dict[str, str] = {
    "Layer": "the protocol's base class",
    "ActivationLayer": "the base class of the activation layers",
    "Dense": "the MLP's affine layer in the (in, out) layout of the textbook derivation "
             "(torch's is Linear, (out, in), also here)",
    "LastTimeStep": "picks a recurrent layer's last time step for a classifier head; torch "
                    "has no module for it (one indexes the output)",
    "LeCunTanh": "torch has no LeCun tanh (LeCun et al. 1998)",
}

_SELF = {"self", "cls", "input", "target", "params", "optimizer"}


def torch_arguments(obj: Callable[..., Any]) -> dict[str, Any]:
    """torch's arguments of ``obj`` (a function, or a class's constructor) -> default
    (:data:`REQUIRED` when it has none), in order, leaving out ``self``, the inputs and
    ``*args``/``**kwargs``."""
    # the class's own constructor is what is read (mypy: __init__ on an instance is unsound)
    fn = obj.__init__ if isinstance(obj, type) else obj  # type: ignore[misc]
    named = _named(fn)
    overloads = typing.get_overloads(fn)
    if not named and overloads:  # torch.nn.RNN, GRU, LSTM: (*args, **kwargs), documented
        named = _named(overloads[0])  # by their first overload
    return named


def _named(fn: Callable[..., Any]) -> dict[str, Any]:
    params = inspect.signature(fn).parameters
    return {k: p.default for k, p in params.items()
            if k not in _SELF and not k.startswith("_")  # torch-internal (Embedding's _weight)
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def layer_arguments(cls: type) -> dict[str, Any]:
    """A manual layer's constructor arguments -> default, in order: its ``defaults`` for
    layers that take ``*args, **kwargs`` and check them against it (the activation
    layers), else its ``__init__`` signature."""
    params = inspect.signature(cls.__init__).parameters  # type: ignore[misc]  # as above
    takes_any = any(p.kind == p.VAR_KEYWORD for p in params.values())
    defaults = getattr(cls, "defaults", None)
    if takes_any and isinstance(defaults, dict):
        return dict(defaults)
    return {k: p.default for k, p in params.items()
            if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def signature_mismatches(ours: Mapping[str, Any], torch_obj: Callable[..., Any],
                         allowed: Mapping[str, str] | None = None,
                         ordered: bool = False) -> list[str]:
    """What differs between our arguments (name -> default, :data:`REQUIRED` for none)
    and torch's for ``torch_obj``: a missing or extra argument, a different default, and,
    with ``ordered`` (positional arguments), a different order. Arguments named in
    ``allowed`` (name -> reason) are left out on both sides. [] when they agree."""
    allowed = allowed or {}
    theirs = {k: v for k, v in torch_arguments(torch_obj).items() if k not in allowed}
    mine = {k: v for k, v in ours.items() if k not in allowed}
    out = [f"{k}: missing (torch's default {theirs[k]!r})" for k in theirs if k not in mine]
    out += [f"{k}: not a torch argument" for k in mine if k not in theirs]
    for k in theirs.keys() & mine.keys():
        a, b = mine[k], theirs[k]
        if a is REQUIRED or b is REQUIRED:
            if (a is REQUIRED) != (b is REQUIRED):
                out.append(f"{k}: required on one side only")
        elif type(a) is not type(b) and not (isinstance(a, (int, float))
                                             and isinstance(b, (int, float))) or a != b:
            out.append(f"{k}: default {a!r}, torch {b!r}")
    if ordered and not out and list(mine) != list(theirs):
        out.append(f"order: {list(mine)}, torch {list(theirs)}")
    return sorted(out)


@dataclass(frozen=True)
class SignatureCheck:
    """One layer class against the torch class whose constructor it follows, with the
    arguments allowed to differ (name -> reason)."""

    name: str
    manual: type
    torch: Callable[..., Any]
    allowed: Mapping[str, str]

    def mismatches(self) -> list[str]:
        """:func:`signature_mismatches` of the manual constructor (positional order
        included: layers take positional arguments, as torch's)."""
        return signature_mismatches(layer_arguments(self.manual), self.torch, self.allowed,
                                    ordered=True)


def layer_signature_checks(infos: Iterable[LayerInfo]) -> list[SignatureCheck]:
    """The signature check of every record with a torch class to follow
    (``signature_of``, else ``torch.nn.<name>`` when it exists): the differences allowed
    are :data:`LAYER_DIFFERENCES` and the record's own ``signature_differences``."""
    import torch

    checks = []
    for info in infos:
        target = info.signature_of
        if target is None:
            target = getattr(torch.nn, info.name, None)
        if target is None:
            continue
        checks.append(SignatureCheck(info.name, info.manual, target,
                                     {**LAYER_DIFFERENCES, **info.signature_differences}))
    return checks
