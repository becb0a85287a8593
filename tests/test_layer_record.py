"""A record alone is enough: a toy layer defined through ONE LayerInfo, added to a copy of
the list, shows up in every consumer — the pytest ids, ``backprop-compare --list``,
``layers.csv``, the negative controls (``controls.csv``), the benchmark's case list and the
signature check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from comparisons import cli
from comparisons.bench.benchmark import bench_cases
from comparisons.cases import catalog
from comparisons.cases.info import (LayerBench, LayerControl, LayerInfo, Workload, cases_of,
                                    controls_of, fails, layer_cases, pytest_params)
from comparisons.run.signatures import layer_signature_checks
from manual.layers import Layer


class Scale(Layer):
    """y = a * x with one learnable scalar ``a`` (a toy layer, for this test)."""

    def __init__(self, a: float = 1.5, dtype=None) -> None:
        super().__init__()
        self.config = {"a": a}
        self.params["a"] = np.array(a, dtype=np.float64 if dtype is None else dtype)

    def forward(self, x):
        self._cache, self._out_shape = x, x.shape
        return self.params["a"] * x

    def backward(self, dout):
        self.grads = {"a": np.sum(dout * self._cache)}
        return dout * self.params["a"]


class ScaleGradWithoutX(Scale):
    """The slip: da = sum(dout), the input forgotten."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["a"] = np.sum(dout)
        return dx


class TorchScale(torch.nn.Module):
    """The twin: ``a * x`` with ``a`` a parameter."""

    def __init__(self, a: float = 1.5, dtype=None) -> None:
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(a, dtype=dtype))

    def forward(self, x):
        return self.a * x


def _bench(dtype, batch, twin):
    layer = Scale(dtype=dtype)
    module = twin(layer, dtype)
    x = np.ones((batch, 4), dtype=dtype)
    return Workload(lambda: layer.forward(x), lambda: module(torch.from_numpy(x)))


_CASES = layer_cases(Scale, [("", {"a": 1.5}, ((3, 4),), {}),
                             ("half", {"a": 0.5}, ((2, 2, 3),), {})])
SCALE = LayerInfo(
    Scale,
    twin=lambda layer, dt: TorchScale(**layer.config, dtype=dt),
    cases=tuple(_CASES),
    controls=(LayerControl("dL/da without the factor x", ScaleGradWithoutX, _CASES[0],
                           fails(("torch", "fd", "taylor"), ("a",))),),
    signature_of=TorchScale,
    signature_differences={"dtype": "given to the twin as torch's dtype"},
    benchmarks=(LayerBench("scale forward", _bench, lambda dtype, batch: 64.0 * batch),),
)
IDS = ["scale-float64", "scale-float32", "scale-half-float64", "scale-half-float32"]
CONTROL = "ScaleGradWithoutX-scale-float64"


@pytest.fixture
def with_scale(monkeypatch):
    """The one list with the toy record appended (a copy: the real list is untouched)."""
    monkeypatch.setattr(catalog, "LAYER_INFOS", [*catalog.LAYER_INFOS, SCALE])
    return catalog.LAYER_INFOS


def test_pytest_ids(with_scale):
    ids = [p.id for p in pytest_params(cases_of(with_scale))]
    assert ids[-4:] == IDS
    assert CONTROL in [p.id for p in pytest_params(controls_of(with_scale))]


def test_list(with_scale, capsys):
    assert cli.main(["--list", "--exhaustive", "--parts", "layers,controls"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [f"layers {i}" for i in IDS] == [ln for ln in lines if ln.startswith("layers scale-")]
    assert f"controls {CONTROL}" in lines
    assert cli.main(["--list", "--parts", "layers"]) == 0  # the default report: each once
    assert "layers scale-float64" in capsys.readouterr().out.splitlines()


def test_layers_csv_and_controls_csv(with_scale, tmp_path, capsys):
    assert cli.main(["--no-plots", "--quiet", "--jobs", "1", "--out", str(tmp_path),
                     "--parts", "layers,controls", "--only", f"scale-*,{CONTROL}"]) == 0
    df = pd.read_csv(tmp_path / "layers.csv")
    assert sorted(set(df["case"])) == sorted(IDS) and (df["status"] == "pass").all()
    assert {"output", "grad_input", "a"} <= set(df["parameter"])
    controls = pd.read_csv(tmp_path / "controls.csv")
    broken = controls[controls["side"] == "broken"]
    assert set(zip(broken.loc[broken.control_verdict == "caught", "oracle"],
                   broken.loc[broken.control_verdict == "caught", "parameter"])) == set(
        SCALE.controls[0].fails)
    assert (controls.loc[controls["side"] == "correct", "status"] == "pass").all()
    assert set(controls["status"]) <= {"pass", "fail", "xfail", "skipped"}
    assert controls[controls.status == "fail"].empty
    assert "1 caught exactly where expected" in capsys.readouterr().out


def test_benchmark_case_list(with_scale):
    cases = bench_cases()
    assert cases[-1].name == "scale forward"
    work = cases[-1].make(np.dtype("float64"), 4)
    work.manual(), work.torch()


def test_signature_check(with_scale):
    check = next(c for c in layer_signature_checks(with_scale) if c.name == "Scale")
    assert check.torch is TorchScale and not check.mismatches()


def test_the_real_list_is_untouched():
    assert SCALE not in catalog.LAYER_INFOS
    assert "scale-float64" not in {c.id for c in catalog.layer_cases()}


def test_the_shared_tables_are_read_only():
    """No module adds input kinds or setups to another's table at import."""
    from types import MappingProxyType

    from comparisons.cases.info import INPUT_KINDS, LAYER_SETUPS

    assert isinstance(INPUT_KINDS, MappingProxyType) and isinstance(LAYER_SETUPS,
                                                                     MappingProxyType)
    assert {"tokens", "saturating", "constant-channel"} <= set(INPUT_KINDS)
