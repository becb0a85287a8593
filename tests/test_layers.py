"""Every layer and network case of the layer table (comparisons/cases/layers.py) against
torch's own modules, finite differences and the Taylor test; the negative controls; the
bridge that builds the torch twins."""

import numpy as np
import pytest
import torch

from comparisons import failures
from comparisons.slips import linear as linear_slips
from comparisons.run.bridge import TorchSequential, torch_twin
from comparisons.cases.catalog import LAYER_INFOS
from comparisons.cases.info import cases_of, controls_of, networks_of, pytest_params
from comparisons.run.controls import control_failures, control_rows, run_control
from comparisons.run.layers import compare_layer, run_layer_case, run_network_case
from manual import layers

NETWORK_CASES = networks_of(LAYER_INFOS)


@pytest.mark.parametrize("case", pytest_params(cases_of(LAYER_INFOS)))
def test_layer_case(case):
    rows = run_layer_case(case)
    assert rows and not failures(rows), "\n".join(failures(rows))
    assert {r["oracle"] for r in rows} == set(case.oracles)


@pytest.mark.parametrize("case", pytest_params(NETWORK_CASES))
def test_network_case(case):
    rows = run_network_case(case)
    assert rows and not failures(rows), "\n".join(failures(rows))
    assert {r["oracle"] for r in rows} == set(case.oracles)


def _failing(rows):
    return {(r["oracle"], r["parameter"]) for r in rows if r["status"] == "fail"}


@pytest.mark.parametrize("control", pytest_params(controls_of(LAYER_INFOS)))
def test_negative_control_fails_exactly_where_expected(control):
    rows = run_control(control, broken=True)
    assert _failing(rows) == set(control.fails), control.slip
    msg = "\n".join(failures(rows))
    for oracle, param in control.fails:
        assert f"{control.case.id} [{oracle}] {param}" in msg
    if control.first_divergence:
        torch_fails = [r for r in rows if r["oracle"] == "torch" and r["status"] == "fail"]
        assert {r["first_divergence"] for r in torch_fails} == {control.first_divergence}


@pytest.mark.parametrize("control", pytest_params(controls_of(LAYER_INFOS)))
def test_negative_control_counterpart_passes(control):
    rows = run_control(control, broken=False)
    assert rows and not failures(rows), "\n".join(failures(rows))


def test_control_rows_label_the_broken_side():
    """What the CLI writes to controls.csv: the slip's rows caught, nothing missed, the
    correct side passing; a control that expects a row its slip does not fail is missed."""
    import dataclasses

    control = next(c for c in controls_of(LAYER_INFOS)
                   if c.broken is linear_slips.LinearWeightGradTransposed)
    rows = control_rows(control)
    assert not control_failures(rows)
    caught = {(r["oracle"], r["parameter"]) for r in rows if r["control_verdict"] == "caught"}
    assert caught == set(control.fails)
    assert {r["status"] for r in rows if r["side"] == "correct"} == {"pass"}
    wrong = dataclasses.replace(control, fails=control.fails | {("torch", "bias")})
    lines = control_failures(control_rows(wrong))
    assert len(lines) == 1 and "[torch] bias was not caught" in lines[0]


def test_upstream_gradient_is_random_and_seeded():
    """The harness never backpropagates all-ones: a layer whose backward ignores dout's
    values (returning the row sums of W) would pass a sum-of-outputs check."""

    class OnesBackward(layers.Linear):
        def backward(self, dout):
            super().backward(np.ones_like(dout))
            return np.ones_like(dout) @ self.params["weight"]

    rows = compare_layer(OnesBackward(3, 2, rng=0), np.ones((4, 3)), oracles=("torch",))
    assert {r["parameter"] for r in rows if r["status"] == "fail"} == {
        "grad_input", "weight", "bias"}


def test_twin_copies_params_and_walks_subclasses():
    lin = linear_slips.LinearWeightGradTransposed(3, 2, rng=1)
    twin = torch_twin(lin)
    assert type(twin) is torch.nn.Linear and twin.weight.dtype == torch.float64
    assert np.array_equal(twin.weight.detach().numpy(), lin.params["weight"])


def test_twin_without_torch_module_is_an_error():
    with pytest.raises(TypeError, match="no torch twin for LeCunTanh"):
        torch_twin(layers.LeCunTanh())


def test_given_builder_is_used():
    class Twice(layers.ReLU):
        pass

    Twice.__name__ = "TwiceForTest"
    twin = torch_twin(Twice(), builders={"TwiceForTest": lambda layer, dt: torch.nn.ReLU()})
    assert type(twin) is torch.nn.ReLU


def test_torch_sequential_intermediates_use_the_manual_keys():
    net = NETWORK_CASES[0].build()
    X, y = NETWORK_CASES[0].data()
    tnet = TorchSequential(net)
    net.gradients(X, y)  # no input gradient: X is data
    tnet.gradients(X, y)
    assert list(net.intermediates) == list(tnet.intermediates)


def test_mismatched_params_are_reported():
    lin = layers.Linear(3, 2, bias=True, rng=0)
    lin.config = {**lin.config, "bias": False}
    with pytest.raises(ValueError, match=r"Linear: the manual layer's parameters"):
        torch_twin(lin)


def test_cli_layers_part_writes_a_deterministic_csv(tmp_path, capsys):
    import pandas as pd

    from comparisons import cli

    for sub in ("a", "b"):
        assert cli.main(["--no-plots", "--out", str(tmp_path / sub), "--parts", "layers",
                         "--only", "linear-*"]) == 0
    first = (tmp_path / "a" / "layers.csv").read_bytes()
    assert first == (tmp_path / "b" / "layers.csv").read_bytes()
    df = pd.read_csv(tmp_path / "a" / "layers.csv")
    assert list(df.columns) == cli.PARTS["layers"].columns and (df["status"] == "pass").all()
    assert set(df["kind"]) == {"layer"} and set(df["oracle"]) == {"torch", "fd", "taylor"}
    assert "layers: " in capsys.readouterr().out


def test_the_readme_layers_example_runs():
    """The example of the docs' "Layers" reference."""
    from _docs import run_tested_by

    namespace = run_tested_by("docs/reference/layers.md", "tests/test_layers.py")
    assert namespace["grads"]["3.weight"].shape == (8, 4, 3, 3)
    assert {r["oracle"] for r in namespace["rows"]} == {"torch", "vjp", "fd", "taylor"}


class Bilinear(layers.Layer):
    """``nn.Bilinear(in1, in2, out)``: two inputs, y = x1^T W x2 + b (for the harness test)."""

    def __init__(self, in1_features, in2_features, out_features, dtype=None, rng=0):
        super().__init__()
        self.config = {"in1_features": in1_features, "in2_features": in2_features,
                       "out_features": out_features}
        gen = np.random.default_rng(rng)
        self.params["weight"] = gen.uniform(-0.5, 0.5, (out_features, in1_features,
                                                        in2_features))
        self.params["bias"] = gen.uniform(-0.5, 0.5, out_features)

    def forward(self, x1, x2):
        self._cache = (x1, x2)
        y = np.einsum("ni,oij,nj->no", x1, self.params["weight"], x2) + self.params["bias"]
        self._out_shape = y.shape
        return y

    def backward(self, dout):
        x1, x2 = self._cache
        w = self.params["weight"]
        self.grads = {"weight": np.einsum("no,ni,nj->oij", dout, x1, x2),
                      "bias": dout.sum(0)}
        return np.einsum("no,oij,nj->ni", dout, w, x2), np.einsum("no,oij,ni->nj", dout, w, x1)


def test_several_inputs_each_get_a_gradient_row():
    rng = np.random.default_rng(0)
    rows = compare_layer(Bilinear(3, 2, 4), (rng.standard_normal((5, 3)),
                                             rng.standard_normal((5, 2))),
                         input_names=("x1", "x2"))
    assert not failures(rows)
    assert {(r["oracle"], r["parameter"]) for r in rows} >= {
        ("torch", "grad_x1"), ("torch", "grad_x2"), ("fd", "grad_x2"), ("taylor", "grad_x1"),
        ("torch", "weight"), ("torch", "output")}


class PairOut(layers.Layer):
    """A test layer with a tuple output (y, (2y, y^2)) like LSTM's (output, (h_n, c_n))."""

    def forward(self, x):
        x = self.check_input(x, (2,))
        self._cache, self._out_shape = x, x.shape
        return np.tanh(x), (2 * x, x ** 2)

    def backward(self, dout):
        g1, (g2, g3) = dout
        x = self._cache
        return g1 * (1 - np.tanh(x) ** 2) + 2 * g2 + 2 * x * g3


class _TorchPairOut(torch.nn.Module):
    def forward(self, x):
        return torch.tanh(x), (2 * x, x ** 2)


def test_tuple_outputs_are_flattened_and_backward_gets_the_same_structure(monkeypatch):
    from comparisons.cases import catalog
    from comparisons.cases.info import LayerInfo

    monkeypatch.setattr(catalog, "LAYER_INFOS", [
        *catalog.LAYER_INFOS, LayerInfo(PairOut, twin=lambda layer, dt: _TorchPairOut())])
    x = np.random.default_rng(1).standard_normal((3, 4))
    rows = compare_layer(PairOut(), x)
    assert not failures(rows)
    assert {r["parameter"] for r in rows if r["oracle"] == "torch"} == {
        "output0", "output1", "output2", "grad_input"}
