"""pytest helpers for instructors' test files, and the pytest plugin that provides them.

.. code-block:: python

    from comparisons.testing import assert_gradients_match, assert_layer_matches

    def test_two_layer_net(rng):  # rng: a seeded numpy Generator, one per test
        net = TwoLayerNet(4, 10, 3, std=1e-1)
        X, y = rng.standard_normal((5, 4)), rng.integers(0, 3, size=5)
        assert_gradients_match(lambda: net.loss(X, y, reg=0.1), net.params, reference)

Each helper runs :func:`comparisons.check_gradients` / :func:`comparisons.check_layer`
and raises ``AssertionError`` whose message is one line per failing comparison, the line
the report uses (:func:`comparisons.describe`: which oracle and parameter, the worst
element, both values, the errors and the tolerance); on success it returns the rows.

The helpers raise the ``AssertionError`` themselves, so the message is the same with or
without pytest's assertion rewriting. Installed with the package, this module is a pytest
plugin (entry point ``pytest11``, named ``comparisons.testing``): the ``rng`` fixture is
available in every test. Without the install, load it with ``pytest -p
comparisons.testing`` or ``pytest_plugins = ["comparisons.testing"]`` (the plugin's name
is the module's, so both ways together register it once).
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pytest

from comparisons.check.checker import check_gradients, check_layer
from comparisons.core.compare import describe

__all__ = ["assert_gradients_match", "assert_layer_matches", "rng"]


def _fail_lines(rows: list[dict[str, Any]]) -> list[str]:
    return [describe(r) for r in rows if r.get("status") in ("fail", "xpass")]


def assert_gradients_match(loss_and_grads: Any, params: Any, reference: Any = None,
                           **kwargs: Any) -> list[dict[str, Any]]:
    """:func:`comparisons.check_gradients`, raising ``AssertionError`` on any failure with
    one line per failing comparison. Keyword arguments go to ``check_gradients``."""
    rows = check_gradients(loss_and_grads, params, reference, **kwargs)
    lines = _fail_lines(rows)
    if lines:
        raise AssertionError("\n".join(lines))
    return rows


def assert_layer_matches(forward: Any, backward: Any = None, inputs: Any = None,
                         reference: Any = None, **kwargs: Any) -> list[dict[str, Any]]:
    """:func:`comparisons.check_layer`, raising ``AssertionError`` on any failure with one
    line per failing comparison. Keyword arguments go to ``check_layer``."""
    rows = check_layer(forward, backward, inputs, reference, **kwargs)
    lines = _fail_lines(rows)
    if lines:
        raise AssertionError("\n".join(lines))
    return rows


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A NumPy Generator seeded from the test's id: the same numbers on every run of a
    test, different numbers for different tests."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
