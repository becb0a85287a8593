"""The examples in the docstrings run and say what they claim."""

import doctest
import importlib

import pytest

MODULES = ["manual.activations", "manual.losses", "manual.network", "manual.layers",
           "manual.layers.recurrent", "manual.clipping", "manual._cli"]
#: the modules of the packages above (their classes' examples live there)
SUBMODULES = ["manual.activations.squashing", "manual.activations.base",
              "manual.losses.base", "manual._numerics", "comparisons.signatures"]


@pytest.mark.parametrize("name", MODULES + SUBMODULES)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0
    if name in MODULES and name != "manual.layers" or name.endswith("squashing"):
        assert result.attempted > 0, f"{name} has no runnable example"
