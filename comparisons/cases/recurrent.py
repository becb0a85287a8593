"""The recurrent layer cases: ``RNN``, ``LSTM``, ``GRU`` and their cells against torch's own
``nn.RNN``/``nn.LSTM``/``nn.GRU``/``nn.*Cell`` (outputs, final states, the gradients of the
input and of the initial state, every parameter gradient, under random upstream gradients
on the outputs *and* on the final states), plus finite differences and the Taylor test in
float64; the negative controls of backpropagation through time.

Every option is covered (``num_layers=2``, ``bidirectional``, ``batch_first``,
``proj_size``, ReLU, no bias, unbatched input, ``hx`` given or not, dropout between layers
with torch's own masks, eval mode), with the hard spots: long sequences (T = 50), saturated
gates (inputs ~10), a batch of one. Ids read ``lstm-bidirectional-2layer-float64``. The
table is gathered into records (:data:`RECURRENT_LAYERS`) by :mod:`comparisons.cases.catalog`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from comparisons.cases import workloads
from comparisons.cases.info import (
    DTYPES,
    LAYER_ORACLES,
    LayerCase,
    LayerControl,
    LayerInfo,
    NetworkCase,
    _kw,
)
from comparisons.slips.recurrent import (
    GRUResetBeforeProduct,
    LSTMCellStateGradDropped,
    LSTMGatesSwappedInBackward,
    LSTMWeightHHLastStepOnly,
)
from comparisons.twins.layers import last_time_step_twin, recurrent_sync, recurrent_twin
from manual import layers

__all__ = ["RECURRENT_CASES", "RECURRENT_LAYERS", "RecurrentCase", "TokenNetworkCase",
           "recurrent_case", "sequence_classifier"]


@dataclass(frozen=True)
class RecurrentCase(LayerCase):
    """A layer case whose inputs are ``(x,)``, ``(x, h0)`` or ``(x, (h0, c0))`` (LSTM), as
    torch's forward takes them; rows are named ``output``, ``h_n``, ``c_n``, ``grad_input``,
    ``grad_h_0``, ``grad_c_0``."""

    @property
    def _lstm(self) -> bool:
        return self.layer.startswith("LSTM")

    def inputs(self) -> tuple[Any, ...]:
        flat = super().inputs()
        if self._lstm and len(flat) == 3:
            return (flat[0], (flat[1], flat[2]))
        return flat

    @property
    def input_names(self) -> tuple[str, ...]:
        names = ("input", "h_0", "c_0") if self._lstm else ("input", "h_0")
        return names[:len(self.shapes)]

    @property
    def output_names(self) -> tuple[str, ...]:
        if self.layer.endswith("Cell"):
            return ("h_1", "c_1") if self._lstm else ("h_1",)
        return ("output", "h_n", "c_n") if self._lstm else ("output", "h_n")


def _state_shapes(layer: str, config: dict[str, Any], L: int, N: int | None
                  ) -> list[tuple[int, ...]]:
    H = config["hidden_size"]
    if layer.endswith("Cell"):
        shape = (N, H) if N else (H,)
        return [shape, shape] if layer == "LSTMCell" else [shape]
    D = 2 if config.get("bidirectional") else 1
    lead = config.get("num_layers", 1) * D
    h = (lead, N, config.get("proj_size") or H) if N else (lead, config.get("proj_size") or H)
    c = (lead, N, H) if N else (lead, H)
    return [h, c] if layer == "LSTM" else [h]


def recurrent_case(layer: str, variant: str, config: dict[str, Any], *, L: int = 5,
                   N: int | None = 3, hx: bool = True, kind: str = "normal",
                   dtypes: tuple[str, ...] = DTYPES, exhaustive: bool = False,
                   mode: str = "train", seed: int = 0,
                   oracles: tuple[str, ...] = LAYER_ORACLES) -> list[RecurrentCase]:
    """The case in each dtype (torch, fd and Taylor in float64; torch alone in float32, whose
    torch-free checks are the float64 twin's). ``N=None``: unbatched input."""
    config = {"input_size": 3, "hidden_size": 4, **config}
    I = config["input_size"]
    x_shape: tuple[int, ...]
    if layer.endswith("Cell"):
        x_shape = (N, I) if N else (I,)
    elif N is None:
        x_shape = (L, I)
    else:
        x_shape = (N, L, I) if config.get("batch_first") else (L, N, I)
    shapes = [x_shape] + (_state_shapes(layer, config, L, N) if hx else [])
    kinds = (kind,) + ("normal",) * (len(shapes) - 1)
    return [RecurrentCase(layer, _kw(config), tuple(shapes), dtype, kinds, seed, exhaustive,
                          variant, oracles if dtype == "float64" else ("torch",), mode,
                          cls=getattr(layers, layer))
            for dtype in dtypes]


RECURRENT_CASES: list[RecurrentCase] = []
for _layer in ("RNN", "LSTM", "GRU"):
    RECURRENT_CASES += recurrent_case(_layer, "", {})
    RECURRENT_CASES += recurrent_case(_layer, "bidirectional-2layer",
                                      {"num_layers": 2, "bidirectional": True,
                                       "input_size": 2, "hidden_size": 3}, L=4, N=2)
    RECURRENT_CASES += recurrent_case(_layer, "batch-first-no-hx", {"batch_first": True},
                                      hx=False)
    RECURRENT_CASES += recurrent_case(_layer, "nobias-unbatched", {"bias": False}, N=None)
    RECURRENT_CASES += recurrent_case(_layer, "dropout-2layer",
                                      {"num_layers": 2, "dropout": 0.5}, dtypes=("float64",))
    RECURRENT_CASES += recurrent_case(_layer, "saturated", {}, kind="saturating",
                                      dtypes=("float64",))
    RECURRENT_CASES += recurrent_case(_layer, "batch1", {}, N=1, dtypes=("float64",))
    # T = 50 by default for the LSTM against torch and the Taylor test (finite differences
    # over 50 steps take seconds: in the exhaustive run, as for RNN and GRU)
    RECURRENT_CASES += recurrent_case(_layer, "T50", {}, L=50, N=2, dtypes=("float64",),
                                      exhaustive=_layer != "LSTM",
                                      oracles=("torch", "taylor") if _layer == "LSTM"
                                      else LAYER_ORACLES)
    RECURRENT_CASES += recurrent_case(_layer, "T50-fd", {}, L=50, N=2, dtypes=("float64",),
                                      exhaustive=True) if _layer == "LSTM" else []
    # the exhaustive variants: every option together, both dtypes, long sequences
    RECURRENT_CASES += recurrent_case(_layer, "T50", {}, L=50, N=2, dtypes=("float32",),
                                      exhaustive=True)
    RECURRENT_CASES += recurrent_case(
        _layer, "bidirectional-3layer-batch-first-dropout",
        {"num_layers": 3, "bidirectional": True, "batch_first": True, "dropout": 0.3},
        exhaustive=True, dtypes=("float64",))
    RECURRENT_CASES += recurrent_case(_layer, "dropout-2layer-eval",
                                      {"num_layers": 2, "dropout": 0.5}, mode="eval",
                                      exhaustive=True)
    RECURRENT_CASES += recurrent_case(_layer, "bidirectional-unbatched-no-hx",
                                      {"bidirectional": True}, N=None, hx=False,
                                      exhaustive=True)
RECURRENT_CASES += recurrent_case("RNN", "relu", {"nonlinearity": "relu"})
RECURRENT_CASES += recurrent_case("RNN", "relu-2layer-bidirectional",
                                  {"nonlinearity": "relu", "num_layers": 2,
                                   "bidirectional": True}, exhaustive=True)
RECURRENT_CASES += recurrent_case("LSTM", "proj", {"proj_size": 2})
RECURRENT_CASES += recurrent_case("LSTM", "proj-bidirectional-2layer",
                                  {"proj_size": 2, "num_layers": 2, "bidirectional": True,
                                   "input_size": 2, "hidden_size": 3}, L=4, N=2,
                                  dtypes=("float64",))
RECURRENT_CASES += recurrent_case("LSTM", "proj-unbatched-no-hx", {"proj_size": 3}, N=None,
                                  hx=False, exhaustive=True)
for _cell in ("RNNCell", "LSTMCell", "GRUCell"):
    RECURRENT_CASES += recurrent_case(_cell, "", {})
    RECURRENT_CASES += recurrent_case(_cell, "unbatched-no-hx", {"bias": False}, N=None,
                                      hx=False, dtypes=("float64",))
RECURRENT_CASES += recurrent_case("RNNCell", "relu", {"nonlinearity": "relu"},
                                  dtypes=("float64",))


# --------------------------------------------------------------------------------------
# negative controls: the classic slips of backpropagation through time
# --------------------------------------------------------------------------------------
def _rows(oracles: tuple[str, ...], names: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    return frozenset((o, n) for o in oracles for n in names)


_LSTM = recurrent_case("LSTM", "", {}, dtypes=("float64",))[0]
_GRU = recurrent_case("GRU", "", {}, dtypes=("float64",))[0]
_LSTM_GRADS = ("grad_input", "grad_h_0", "grad_c_0", "weight_ih_l0", "weight_hh_l0",
               "bias_ih_l0", "bias_hh_l0")
_GRU_GRADS = ("grad_input", "grad_h_0", "weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
              "bias_hh_l0")

_CONTROLS: list[LayerControl] = [
    # forward right (i, f, g, o), backward reading the blocks as i, f, o, g: the outputs
    # agree and every gradient is wrong, against every oracle
    LayerControl("LSTM backward with the gates in the wrong order (i, f, o, g)",
                 LSTMGatesSwappedInBackward, _LSTM, _rows(LAYER_ORACLES, _LSTM_GRADS)),
    LayerControl("LSTM: the gradient through c_{t-1} dropped (dc_{t-1} = 0)",
                 LSTMCellStateGradDropped, _LSTM, _rows(LAYER_ORACLES, _LSTM_GRADS)),
    LayerControl("LSTM: weight_hh's gradient from the last step only, not summed over t",
                 LSTMWeightHHLastStepOnly, _LSTM, _rows(LAYER_ORACLES, ("weight_hh_l0",))),
    # the other paper's GRU (Cho et al.: r applied to h before W_hn): a consistent gradient
    # of another function, so only torch sees it, at the outputs and every gradient
    LayerControl("GRU: reset gate applied before the matrix product, r * (W_hn h)",
                 GRUResetBeforeProduct, _GRU,
                 _rows(("torch",), ("output", "h_n", *_GRU_GRADS))),
]


# --------------------------------------------------------------------------------------
# network: embedding -> LSTM -> linear, a sequence classifier
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TokenNetworkCase(NetworkCase):
    """A network case on token sequences: ``X`` int64 (N, L) in [0, vocab), class labels."""

    vocab: int = 6

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(2000 + self.seed)
        X = rng.integers(0, self.vocab, size=self.input_shape).astype(np.int64)
        return X, rng.integers(0, self.n_classes, size=self.input_shape[0])


def sequence_classifier(vocab: int = 6, embed: int = 3, hidden: int = 4, classes: int = 3
                        ) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    """``Embedding(vocab, embed) -> LSTM(embed, hidden, batch_first=True) ->
    LastTimeStep(batch_first=True) -> Linear(hidden, classes)``, as layer specs."""
    return (("Embedding", _kw({"num_embeddings": vocab, "embedding_dim": embed})),
            ("LSTM", _kw({"input_size": embed, "hidden_size": hidden, "batch_first": True})),
            ("LastTimeStep", _kw({"batch_first": True})),
            ("Linear", _kw({"in_features": hidden, "out_features": classes})))


_NETWORKS: list[TokenNetworkCase] = [
    TokenNetworkCase("embedding-lstm-classifier", sequence_classifier(), "cross_entropy",
                     (5, 6), dtype)
    for dtype in DTYPES]


def _record(name: str, **fields: Any) -> LayerInfo:
    """The record of ``manual.layers.<name>``: its cases and controls from the tables above."""
    cls = getattr(layers, name)
    return LayerInfo(cls, cases=tuple(c for c in RECURRENT_CASES if c.layer == name),
                     controls=tuple(c for c in _CONTROLS if issubclass(c.broken, cls)),
                     **fields)


#: the recurrent layers, their cells, and the head that picks the last time step
RECURRENT_LAYERS: list[LayerInfo] = [
    _record("RNN", twin=recurrent_twin("RNN"), sync=recurrent_sync),
    _record("LSTM", twin=recurrent_twin("LSTM"), sync=recurrent_sync,
            networks=tuple(_NETWORKS),
            benchmarks=(workloads.through_time(layers.LSTM),)),
    _record("GRU", twin=recurrent_twin("GRU"), sync=recurrent_sync,
            benchmarks=(workloads.through_time(layers.GRU),)),
    _record("RNNCell"), _record("LSTMCell"), _record("GRUCell"),
    LayerInfo(layers.LastTimeStep, twin=last_time_step_twin),
]
