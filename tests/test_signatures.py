"""torch's argument names and defaults, for every activation, loss, optimizer, schedule and
layer (comparisons.run.signatures), and the negative control: a planted wrong default fails."""

import numpy as np
import pytest
import torch

import manual.layers
from comparisons.cases.components import COMPONENTS, DEFAULT_BUGS
from comparisons.run.components import compare_loss
from comparisons.cases.catalog import LAYER_INFOS
from comparisons.run.signatures import (NO_TORCH_LAYER, REQUIRED, layer_signature_checks,
                                        signature_mismatches)
from manual import activations, losses, optimizers, schedules

#: torch's implementation selectors: no meaning for a NumPy implementation
OPTIMIZER_SELECTORS = {k: "selects torch's implementation (NumPy has one)" for k in
                       ("foreach", "fused", "capturable", "differentiable")}


def _component_defaults(kind: str, name: str) -> dict:
    return dict((activations if kind == "activation" else losses).get(name).defaults)


@pytest.mark.parametrize("info", [pytest.param(c, id=c.name) for c in COMPONENTS.values()])
def test_component_arguments_and_defaults_are_torchs(info):
    if info.signature_of is None:  # a composition of torch ops: nothing to compare with
        assert info.torch_note and not _component_defaults(info.kind, info.name)
        return
    ours = _component_defaults(info.kind, info.name)
    assert not signature_mismatches(ours, info.signature_of, info.default_differences)


def test_every_component_is_in_the_table():
    assert {c.name for c in COMPONENTS.values() if c.kind == "activation"} == set(
        activations.names())
    assert {c.name for c in COMPONENTS.values() if c.kind == "loss"} == set(losses.names())


@pytest.mark.parametrize("name", optimizers.names())
def test_optimizer_arguments_and_defaults_are_torchs(name):
    cls = optimizers._REGISTRY[name]
    assert not signature_mismatches(cls.defaults, getattr(torch.optim, cls.torch_name),
                                    OPTIMIZER_SELECTORS)


@pytest.mark.parametrize("name", schedules.names())
def test_schedule_arguments_and_defaults_are_torchs(name):
    cls = schedules._REGISTRY[name]
    ours = {k: REQUIRED if v is schedules.REQUIRED else v for k, v in cls.defaults.items()}
    assert not signature_mismatches(ours, getattr(torch.optim.lr_scheduler, cls.torch_name),
                                    ordered=True)


LAYERS = [n for n in manual.layers.__all__ if isinstance(getattr(manual.layers, n), type)]


@pytest.mark.parametrize("check", [pytest.param(c, id=c.name)
                                   for c in layer_signature_checks(LAYER_INFOS)])
def test_layer_arguments_and_defaults_are_torchs(check):
    """Every layer record's class against the torch class it follows (``torch.nn.<name>``):
    names, defaults and positional order, less the differences the record documents."""
    assert not check.mismatches()


@pytest.mark.parametrize("name", LAYERS)
def test_every_exported_layer_is_checked(name):
    """Every class manual.layers exports has a record with a signature check, or is listed
    as having no torch module (a base class, a textbook layer)."""
    if name in NO_TORCH_LAYER:
        assert not hasattr(torch.nn, name) or name == "Dense", name
        return
    assert name in {c.name for c in layer_signature_checks(LAYER_INFOS)}, name


@pytest.mark.parametrize("bug", DEFAULT_BUGS, ids=lambda b: b.id)
def test_a_planted_wrong_default_is_caught(bug):
    """The signature check names the argument, and the harness (which hands torch only the
    arguments a case sets) sees the wrong value as well."""
    info = COMPONENTS[bug.broken.name]
    mismatches = signature_mismatches(bug.broken.defaults, info.signature_of,
                                      info.default_differences)
    assert [m.split(":")[0] for m in mismatches] == [bug.argument], mismatches
    pred, target = 2 * np.random.default_rng(0).standard_normal((2, 6, 4))
    failing = {r["parameter"] for r in compare_loss(bug.broken(), pred, target)
               if r["passed"] is False}
    assert {"value", "gradient"} <= failing
