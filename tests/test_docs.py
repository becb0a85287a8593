"""The examples in the docstrings run and say what they claim."""

import doctest
import importlib

import pytest

MODULES = ["manual.activations", "manual.losses", "manual.network", "manual.layers",
           "manual.layers.recurrent", "manual.clipping", "manual._cli"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0
    if name != "manual.layers":
        assert result.attempted > 0, f"{name} has no runnable example"
