"""The one list of layer records, :data:`LAYER_INFOS`, and what every consumer reads from it.

Each family module (:mod:`~comparisons.cases.layers`, :mod:`~comparisons.cases.attention`,
:mod:`~comparisons.cases.norms`, :mod:`~comparisons.cases.recurrent`) defines its records;
this module only concatenates them. pytest (``tests/test_layers.py``), the CLI (``--list``,
``layers.csv``, ``controls.csv``), the torch twins (:mod:`comparisons.run.bridge`), the
signature check (:mod:`comparisons.run.signatures`) and the benchmark read the list through the
functions below, on every call, so that a record added to the list (a test does it with
``monkeypatch.setattr(catalog, "LAYER_INFOS", ...)``) reaches them all.

Adding a layer: its ``manual/layers/`` module, and one :class:`~comparisons.cases.info.
LayerInfo` in the family module (or a new one listed here).
"""

from __future__ import annotations

from typing import Any

from comparisons.cases.attention import ATTENTION_LAYERS
from comparisons.cases.info import (
    LayerControl,
    LayerInfo,
    NetworkCase,
    cases_of,
    controls_of,
    networks_of,
)
from comparisons.cases.layers import CONV_LAYERS, DENSE_LAYERS
from comparisons.cases.norms import NORM_LAYERS
from comparisons.cases.padding_modes import PADDING_MODE_LAYERS
from comparisons.cases.reach import REACH_LAYERS
from comparisons.cases.reach_conv import REACH_CONV_LAYERS
from comparisons.cases.reach_norms import REACH_NORM_LAYERS
from comparisons.cases.recurrent import RECURRENT_LAYERS
from comparisons.cases.transformers import TRANSFORMER_LAYERS

__all__ = ["LAYER_INFOS", "by_name", "layer_cases", "layer_controls", "network_cases"]

#: every layer record, in report order (the order of layers.csv)
LAYER_INFOS: list[LayerInfo] = [*DENSE_LAYERS, *CONV_LAYERS, *ATTENTION_LAYERS, *NORM_LAYERS,
                                *RECURRENT_LAYERS, *REACH_LAYERS, *REACH_CONV_LAYERS,
                                *REACH_NORM_LAYERS, *TRANSFORMER_LAYERS,
                                *PADDING_MODE_LAYERS]


def layer_cases() -> list[Any]:
    """Every single-layer case of :data:`LAYER_INFOS`."""
    return cases_of(LAYER_INFOS)


def network_cases() -> list[NetworkCase]:
    """Every network case of :data:`LAYER_INFOS`."""
    return networks_of(LAYER_INFOS)


def layer_controls() -> list[LayerControl]:
    """Every negative control of :data:`LAYER_INFOS`."""
    return controls_of(LAYER_INFOS)


def by_name(name: str) -> LayerInfo:
    """The record of the class named ``name`` (ValueError naming the known ones otherwise)."""
    for info in LAYER_INFOS:
        if info.name == name:
            return info
    raise ValueError(f"no layer record for {name!r}; records: "
                     f"{', '.join(i.name for i in LAYER_INFOS)}")
