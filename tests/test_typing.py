"""Typing declarations that mypy relies on but cannot check itself (``mypy``, on manual/,
reference/ and comparisons/ as configured in pyproject.toml)."""

from __future__ import annotations

import manual.layers.activation as activation_layers


def test_every_generated_activation_layer_is_declared_for_the_type_checker():
    # the classes made by _make from TORCH_MODULES are invisible to mypy unless declared
    declared = set(activation_layers.__annotations__)
    assert set(activation_layers.TORCH_MODULES) <= declared, (
        f"declare in manual/layers/activation.py: "
        f"{sorted(set(activation_layers.TORCH_MODULES) - declared)}")
    for name in activation_layers.TORCH_MODULES:
        assert issubclass(getattr(activation_layers, name), activation_layers.ActivationLayer)
