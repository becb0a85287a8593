"""The lessons: every claim a lesson makes is asserted from the math, and every number torch
can compute is compared with torch (comparisons.teaching.lessons) under the tolerance policy."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from comparisons.run.bridge import MLPTwin
from comparisons import compare_arrays, compare_network, failures, tolerance_for
from comparisons.teaching.lessons import Reference321, lesson_rows, lessons_vs_torch
from comparisons.core.oracles import finite_difference_gradients
from manual import MLP
from manual.lessons import (
    LESSONS,
    constant_derivative,
    derivative_as_limit,
    gradient_descent_1d,
    lesson,
    network_321,
    single_neuron,
    targets_and_scaling,
    vanishing_gradients,
    why_nonlinear,
)

ROOT = Path(__file__).resolve().parents[1]
TOL64 = tolerance_for(np.float64, "torch")
EPS = {"float64": float(np.finfo(np.float64).eps), "float32": float(np.finfo(np.float32).eps)}


def assert_close(actual, expected, tol=TOL64, name="value"):
    c = compare_arrays(np.asarray(actual, dtype=np.float64),
                       np.asarray(expected, dtype=np.float64), tol, name)
    assert c.passed, c.message()


# --------------------------------------------------------------------------------------
# every lesson against torch
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", LESSONS)
def test_lesson_numbers_match_torch(name):
    rows = lesson_rows(name)
    assert rows, f"{name}: nothing compared with torch"
    bad = [f"{r['quantity']} [{r['oracle']}]: error {r['err_over_tol']} x tolerance, max abs "
           f"err {r['max_abs_err']:.3e} {r['note']}" for r in rows if not r["passed"]]
    assert not bad, "\n".join(bad)


def test_comparisons_lessons_command(capsys):
    from comparisons.teaching import lessons as cmd

    assert cmd.main(["--only", "network_321"]) == 0
    out = capsys.readouterr().out
    assert "J and dJ/d(w14 ... b6)" in out and "0 failed" in out


def test_lessons_vs_torch_table_flags_a_mismatch(monkeypatch):
    """Negative control: sigma'(z) written as sigma(z) (the factor 1 - sigma forgotten) in
    lesson 3's neuron must fail against torch: the first gradient and the trajectory."""
    from manual.activations import Sigmoid, _sigmoid

    monkeypatch.setattr(Sigmoid, "_derivative", lambda self, z: _sigmoid(z))
    df = lessons_vs_torch(["single_neuron"])
    assert not df["passed"].any(), df


def _broken_tanh(self, z):
    return 1 - np.tanh(z)  # not squared


def _broken_relu(self, z):
    return (z >= 0).astype(z.dtype) * 0.5  # half the slope


#: shorter runs for the negative controls: a broken derivative shows within a few steps
_SHORT = {"why_nonlinear": {"RUNS": {"tanh": (0.1, 20)}},
          "constant_derivative": {"STEPS": 20},
          "targets_and_scaling": {"TARGETS_STEPS": 20, "SCALING_STEPS": 20}}


@pytest.mark.parametrize("name, patch, must_fail", [
    ("derivative_as_limit", ("manual.activations.Sigmoid", "_derivative", _broken_relu),
     "sigmoid'"),
    ("gradient_descent_1d", ("manual.lessons.gradient_descent_1d", "grad", lambda x: 2 * x - 3),
     "x_k, lr = 0.1"),
    ("why_nonlinear", ("manual.activations.Tanh", "_derivative", _broken_tanh),
     "XOR MSE per step, tanh"),
    ("constant_derivative", ("manual.activations.ReLU", "_derivative", _broken_relu),
     "dJ/dz1 at the start, relu"),
    ("vanishing_gradients", ("manual.activations.Tanh", "_derivative", _broken_tanh),
     "per layer, he/tanh"),
    ("targets_and_scaling", ("manual.activations.Sigmoid", "_derivative", _broken_relu),
     "targets 0/1"),
], ids=["derivative_as_limit", "gradient_descent_1d", "why_nonlinear", "constant_derivative",
        "vanishing_gradients", "targets_and_scaling"])
def test_lesson_comparisons_catch_a_broken_derivative(monkeypatch, name, patch, must_fail):
    """Negative controls: each lesson's torch comparison fails when the manual side is wrong
    (lesson 3's control is above, lesson 4's slips are in the gallery)."""
    target, attr, value = patch
    monkeypatch.setattr(f"{target}.{attr}", value)
    for const, short in _SHORT.get(name, {}).items():
        monkeypatch.setattr(lesson(name), const, short)
    failed = [r["quantity"] for r in lesson_rows(name) if not r["passed"]]
    assert any(must_fail in q for q in failed), failed


# --------------------------------------------------------------------------------------
# lesson 1: the derivative as a limit
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def best_steps():
    return derivative_as_limit.best_steps()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_best_h_balances_truncation_and_rounding(best_steps, dtype):
    """Best h near eps^(1/3) for central (~1e-5 in float64, ~5e-3 in float32) and near
    eps^(1/2) for forward differences: within a factor 30 (the constants |f|/|f'''| vary)."""
    eps = EPS[dtype]
    rows = best_steps[best_steps["dtype"] == dtype]
    assert len(rows) == 6
    for _, r in rows.iterrows():
        rule = eps ** (1 / 3) if r["scheme"] == "central" else eps ** 0.5
        assert rule / 30 <= r["best_h"] <= rule * 30, r.to_dict()


def test_central_beats_forward(best_steps):
    for (fn, dtype), g in best_steps.groupby(["function", "dtype"]):
        g = g.set_index("scheme")
        assert g.loc["central", "best_rel_err"] < g.loc["forward", "best_rel_err"], (fn, dtype)
        # O(h^2) against O(h): the best errors scale like eps^(2/3) and eps^(1/2)
        assert g.loc["central", "best_rel_err"] < 100 * EPS[dtype] ** (2 / 3), (fn, dtype)


def test_truncation_orders_are_one_and_two(best_steps):
    for _, r in best_steps.iterrows():
        want = 1.0 if r["scheme"] == "forward" else 2.0
        assert abs(r["truncation_order"] - want) < 0.35, r.to_dict()


def test_below_the_unit_roundoff_x_plus_h_is_x():
    """In float32, 0.5 + 1e-12 rounds to 0.5: both estimates are exactly 0 (error 1)."""
    df = derivative_as_limit.curves()
    tiny = df[(df["dtype"] == "float32") & (df["h"] < EPS["float32"] * 0.5 / 4)
              & (df["function"] != "network loss dJ/dW1[0,0]")]
    assert len(tiny) > 0
    assert (tiny["estimate"] == 0).all()


def test_float32_network_is_the_float64_function():
    net32, X32, _ = derivative_as_limit.example_network(np.float32)
    net64, X64, _ = derivative_as_limit.example_network(np.float64)
    assert all(np.array_equal(net32.params[k].astype(np.float64), net64.params[k])
               for k in net64.params)
    assert np.array_equal(X32.astype(np.float64), X64)


# --------------------------------------------------------------------------------------
# lesson 2: gradient descent in one dimension
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("lr", list(gradient_descent_1d.LEARNING_RATES))
def test_gd_trajectory_is_the_closed_form(lr):
    """x_k = 2 + 6 (1 - 2 lr)^k exactly (to rounding)."""
    run = gradient_descent_1d.trajectory(lr)
    assert_close(run["x"], 2 + 6 * (1 - 2 * lr) ** np.arange(len(run)), name=f"x_k, lr {lr}")


@pytest.mark.parametrize("lr", [-0.1, 0.05, 0.3, 0.5, 0.7, 0.95, 1.0, 1.05, 1.5])
def test_gd_converges_exactly_when_the_factor_is_below_one(lr):
    """|x_k - 2| shrinks at every step iff |1 - 2 lr| < 1, stays put iff it is 1, grows iff
    it is above 1; the sign of x_k - 2 alternates iff 1 - 2 lr < 0."""
    x = gradient_descent_1d.trajectory(lr, steps=30)["x"].to_numpy()
    d = np.abs(x - 2)
    factor = 1 - 2 * lr
    label = gradient_descent_1d.behaviour(lr)
    if factor == 0:
        assert d[0] > 0 and np.all(d[1:] == 0) and "one step" in label
        return
    if abs(factor) < 1:
        assert np.all(np.diff(d) < 0) and "converges" in label
    elif abs(factor) == 1:
        assert np.all(d == d[0]) and "for ever" in label  # bounces between 8 and -4
    else:
        assert np.all(np.diff(d) > 0) and "diverges" in label
    flips = np.all(np.sign(x[1:] - 2) == -np.sign(x[:-1] - 2))
    assert flips == (factor < 0)
    assert ("oscillat" in label) == (factor < 0)


def test_gd_table_matches_the_prediction():
    t = gradient_descent_1d.table().set_index("lr")
    for lr, row in t.iterrows():
        assert row["steps to |x-2|<1e-6 (predicted)"] == row["steps to |x-2|<1e-6 (observed)"]
        assert row["factor 1-2*lr"] == pytest.approx(1 - 2 * lr)
    # 0.01 crawls: log(1e-6/6) / log(0.98) against / log(0.8), about 11 times as many steps
    assert t.loc[0.01, "steps to |x-2|<1e-6 (observed)"] > 10 * t.loc[
        0.1, "steps to |x-2|<1e-6 (observed)"]
    assert t.loc[0.9, "prediction"] == "converges, oscillating"
    assert t.loc[1.1, "prediction"].startswith("diverges")


# --------------------------------------------------------------------------------------
# lesson 3: a single sigmoid neuron
# --------------------------------------------------------------------------------------
def test_neuron_gradient_matches_torch_and_finite_differences():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((7, 3)), rng.uniform(0, 1, 7)
    neuron = single_neuron.SigmoidNeuron(rng.standard_normal(3), b=0.3)
    C, g = neuron.gradients(X, y)
    w = torch.tensor(neuron.params["w"], requires_grad=True)
    b = torch.tensor(float(neuron.params["b"]), dtype=torch.float64, requires_grad=True)
    Ct = 0.5 * torch.nn.functional.mse_loss(torch.sigmoid(torch.as_tensor(X) @ w + b),
                                            torch.as_tensor(y))
    Ct.backward()
    assert_close(C, float(Ct.detach()), name="C")
    assert_close(g["w"], w.grad.numpy(), name="dC/dw")
    assert_close(g["b"], float(b.grad), name="dC/db")
    fd = finite_difference_gradients(lambda: neuron.loss(X, y), neuron.params)
    for k in ("w", "b"):
        assert_close(g[k], fd[k], tolerance_for(np.float64, "fd"), name=k)


def test_neuron_starts_at_one_eighth_and_descends():
    h = single_neuron.history()
    assert h.loc[0, "C"] == 0.125  # y_hat = 1/2 for every sample: C = 1/(2N) * N/4
    assert (np.diff(h["C"]) <= 0).all(), "gradient descent must lower C at every step"
    end = h.iloc[-1]
    boundary = -end["b"] / end["w"]
    assert 2.0 < boundary < 2.5  # in the overlap of the classes


# --------------------------------------------------------------------------------------
# lesson 4: the 3-2-1 network
# --------------------------------------------------------------------------------------
def test_seed_network_is_exported_with_the_classic_names():
    from manual.lessons import seed_network

    net = seed_network()
    assert tuple(net.params) == ("w14", "w24", "w34", "b4", "w15", "w25", "w35", "b5",
                                 "w46", "w56", "b6")
    X, y = network_321.example_data()
    J, grads = net.gradients(X, y)
    assert tuple(grads) == tuple(net.params)
    assert np.ndim(J) == 0


def test_seed_network_draws_the_mlp_numbers_under_the_wij_rule():
    """w_ij = W1[i-1, j-4] for i <= 3 < j <= 5, w_j6 = W2[j-4, 0], b_j = b1[j-4], b6 = b2[0],
    read from the names themselves (not from the module's LAYOUT table)."""
    mlp = MLP([3, 2, 1], "sigmoid", "sigmoid", "sse", seed=3)
    net = network_321.seed_network(3)
    for name, value in net.params.items():
        if name == "b6":
            expected = mlp.params["b2"][0]
        elif name.startswith("b"):
            expected = mlp.params["b1"][int(name[1]) - 4]
        elif name.endswith("6"):
            expected = mlp.params["W2"][int(name[1]) - 4, 0]
        else:
            expected = mlp.params["W1"][int(name[1]) - 1, int(name[2]) - 4]
        assert value == expected, name


def test_mapping_onto_the_torch_twin():
    """The torch twin (reference.MLP with the named parameters mapped onto nn.Linear)
    computes the same h(x) as the lesson's forward, which spells every name out: with
    eleven distinct random values, any swapped pair in the mapping would change h."""
    rng = np.random.default_rng(11)
    values = rng.uniform(-2, 2, 11)
    assert len(set(values)) == 11
    net = network_321.Network321(dict(zip(network_321.PARAM_NAMES, values)))
    X = rng.standard_normal((20, 3))
    tnet = Reference321(net).tnet
    with torch.no_grad():
        h_t = tnet(torch.as_tensor(X)).numpy()[:, 0]
        assert tnet.linears[0].weight[1, 2].item() == net.params["w35"]  # weight[j-4, i-1]
        assert tnet.linears[1].weight[0, 0].item() == net.params["w46"]
    assert_close(net.forward(X), h_t, name="h(x)")
    back = network_321.from_layers(network_321.to_layers(net.params))
    assert all(back[k] == net.params[k] for k in network_321.PARAM_NAMES)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_321_gradients_match_torch_and_finite_differences(dtype):
    net = network_321.seed_network(0, dtype=np.dtype(dtype))
    X, y = network_321.example_data(0)
    rows = compare_network(net, X.astype(dtype), y.astype(dtype), case=f"classic321-{dtype}",
                           reference_net=Reference321(net))
    assert {r["parameter"] for r in rows} == {"loss", *network_321.PARAM_NAMES}
    assert not failures(rows), "\n".join(failures(rows))


def test_the_docstring_formula_for_w14_against_torch_pieces():
    """dJ/dw14 = sum (h - y) sigma'(q) w46 sigma'(p) x1, every factor taken from torch:
    p, q and h from the torch twin's forward, sigma' by autograd of torch.sigmoid."""
    net = network_321.seed_network(0)
    X, y = network_321.example_data(0)
    _, grads = net.gradients(X, y)
    ref = Reference321(net)
    ref.gradients(X, y)
    p = torch.tensor(ref.intermediates["z1"][:, 0], requires_grad=True)
    q = torch.tensor(ref.intermediates["z2"][:, 0], requires_grad=True)
    (ds_p,) = torch.autograd.grad(torch.sigmoid(p).sum(), p)
    (ds_q,) = torch.autograd.grad(torch.sigmoid(q).sum(), q)
    h = ref.intermediates["a2"][:, 0]
    formula = np.sum((h - y) * ds_q.numpy() * float(net.params["w46"]) * ds_p.numpy() * X[:, 0])
    assert_close(grads["w14"], formula, name="dJ/dw14")
    assert "Σ (h−y)·σ'(q)·w46·σ'(p)·x1" == network_321.FORMULAS["w14"]
    assert re.search(r"\\sigma'\(q\)\\,w_\{46\}\\,\\sigma'\(p\)\\,x_1", network_321.__doc__)


def test_321_accepts_column_targets_and_rejects_bad_input():
    net = network_321.seed_network()
    X, y = network_321.example_data()
    J1, g1 = net.gradients(X, y)
    J2, g2 = net.gradients(X, y.reshape(-1, 1))
    assert J1 == J2 and all(g1[k] == g2[k] for k in g1)
    with pytest.raises(ValueError, match=r"X must be \(samples, 3\)"):
        net.forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match="missing \\['b6'\\]"):
        network_321.Network321({k: 0.0 for k in network_321.PARAM_NAMES if k != "b6"})
    with pytest.raises(ValueError, match=r"y must have shape \(4,\)"):
        net.loss(X, np.ones(3))


# --------------------------------------------------------------------------------------
# lesson 5: why a non-linear activation
# --------------------------------------------------------------------------------------
def test_linear_layers_collapse_to_float64_precision():
    for _, r in why_nonlinear.collapse().iterrows():
        depth = len(r["layers"].split("-")) - 1
        assert r["max |network - xW - b|"] <= 16 * depth * EPS["float64"] * max(
            1.0, r["max |output|"]), r.to_dict()


def test_the_affine_floor_of_xor_is_one_quarter():
    X, y = why_nonlinear.xor_data()
    A = np.hstack([np.ones((4, 1)), X])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    assert_close(np.mean((A @ coef - y) ** 2), why_nonlinear.AFFINE_FLOOR, name="floor")
    assert_close(A @ coef, np.full((4, 1), 0.5), name="best affine fit")


@pytest.fixture(scope="module")
def xor_runs():
    return why_nonlinear.xor_runs()


def test_linear_network_never_beats_the_floor_while_tanh_and_sigmoid_fit(xor_runs):
    _, losses = xor_runs["identity"]
    assert losses.min() >= why_nonlinear.AFFINE_FLOOR * (1 - 1e-12)
    X, y = why_nonlinear.xor_data()
    for act in ("tanh", "sigmoid"):
        net, losses = xor_runs[act]
        assert losses[-1] < 1e-6, (act, losses[-1])
        assert np.all(np.abs(net.forward(X) - y) < 0.01), act


# --------------------------------------------------------------------------------------
# lesson 6: a constant derivative
# --------------------------------------------------------------------------------------
def test_constant_derivative_gives_a_rank_one_learning_signal():
    ident = constant_derivative.learning_signal("identity")
    assert ident["rank of dJ/dz1 (21 x 16)"] == 1
    assert ident["max |dJ/dz1 - δ2·W2ᵀ|"] == 0.0  # f' = 1: delta1 = delta2 W2^T exactly
    for act in ("sigmoid", "relu"):
        s = constant_derivative.learning_signal(act)
        assert s["rank of dJ/dz1 (21 x 16)"] > 1, act
        assert s["max |dJ/dz1 - δ2·W2ᵀ|"] > 0, act
    sig = constant_derivative.learning_signal("sigmoid")
    assert 0 < sig["min f'(z1)"] <= sig["max f'(z1)"] <= 0.25
    assert constant_derivative.learning_signal("relu")["share with f' = 0"] > 0


def test_identity_network_learns_only_an_affine_function():
    _, y = constant_derivative.dataset()
    floor = constant_derivative.affine_floor()
    # x^2 on a symmetric grid has no linear part: the best line is the mean, MSE = var(y)
    assert_close(floor, np.var(y), name="affine floor")
    rep = constant_derivative.representation().set_index("activation")
    assert rep.loc["identity", "final MSE"] >= floor * (1 - 1e-12)
    assert rep.loc["identity", "max |g''| of the learned g (x² has 2)"] < 1e-8
    for act in ("sigmoid", "relu"):
        assert rep.loc[act, "final MSE"] < floor / 100, act


# --------------------------------------------------------------------------------------
# lesson 7: vanishing and exploding gradients
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def layer_norms():
    return vanishing_gradients.norms()


def test_every_layer_obeys_the_backprop_bound(layer_norms):
    """|delta_l| <= max|f'| * |W_{l+1}|_2 * |delta_{l+1}|, in every layer of every network."""
    inner = layer_norms.dropna(subset=["|dJ/dz| / next"])
    assert len(inner) == 3 * 3 * 9
    over = inner[inner["|dJ/dz| / next"] > inner["bound max|f'|·|W_next|_2"] * (1 + 1e-12)]
    assert over.empty, over


def test_sigmoid_gradients_vanish_geometrically_under_the_default_init(layer_norms):
    g = layer_norms[(layer_norms["init"] == "default")
                    & (layer_norms["activation"] == "sigmoid")].set_index("layer")
    bounds = g["bound max|f'|·|W_next|_2"].dropna()
    assert (bounds < 1).all()  # 0.25 * |W|_2 < 1: every layer must shrink the signal
    d = g["|dJ/dz|"]
    assert (np.diff(d.loc[1:9].to_numpy()) > 0).all()  # grows toward the output
    assert d.loc[1] / d.loc[9] <= np.prod(bounds.loc[1:8]) * (1 + 1e-12)
    s = vanishing_gradients.summary(layer_norms).set_index(["init", "activation"])
    col = "|dJ/dz1| / |dJ/dz9|"
    assert s.loc[("default", "sigmoid"), col] < s.loc[("default", "tanh"), col]
    assert s.loc[("default", "sigmoid"), col] < s.loc[("default", "relu"), col]


def test_he_init_keeps_relu_gradients_and_a_large_init_explodes_them(layer_norms):
    s = vanishing_gradients.summary(layer_norms).set_index(["init", "activation"])
    col = "|dJ/dz1| / |dJ/dz9|"
    assert 0.1 < s.loc[("he", "relu"), col] < 10  # expected factor 1 per layer
    # N(0, 16/n): each ReLU layer multiplies E|delta|^2 by 16/2 = 8; 8 layers: sqrt(8^8) = 4096
    assert s.loc[("large", "relu"), col] > 100


# --------------------------------------------------------------------------------------
# lesson 8: targets and scaling
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def target_runs():
    return targets_and_scaling.target_runs()


def test_targets_0_1_grow_the_weight_for_ever(target_runs):
    h = target_runs["0/1"]
    assert (np.diff(h["w"]) > 0).all()  # every term of dC/dw is negative
    assert (h["dC/dw"] < 0).all()
    assert np.abs(h["b"]).max() < 1e-15  # symmetric data: b stays at 0


def test_targets_01_09_converge_and_keep_the_neuron_responsive(target_runs):
    soft, hard = target_runs["0.1/0.9"].iloc[-1], target_runs["0/1"].iloc[-1]
    assert abs(soft["dC/dw"]) < 1e-4
    assert 0 < soft["w"] < hard["w"]
    g_soft = targets_and_scaling.contradicting_gradient(soft["w"], soft["b"])
    g_hard = targets_and_scaling.contradicting_gradient(hard["w"], hard["b"])
    assert g_soft > 10 * g_hard


def test_raw_inputs_saturate_and_standardised_inputs_train():
    t = targets_and_scaling.scaling_table().set_index("inputs")
    raw, std = t.loc["raw"], t.loc["standardised"]
    steps = targets_and_scaling.SCALING_STEPS
    assert raw["mean σ'(z) at start"] < 1e-6 and std["mean σ'(z) at start"] > 0.1
    assert raw["|dC/dw1| / |dC/dw2| at start"] > 100 * std["|dC/dw1| / |dC/dw2| at start"]
    assert abs(raw[f"C after {steps} steps"] - raw["C at start"]) < 1e-3 * raw["C at start"]
    assert std[f"C after {steps} steps"] < 0.5 * std["C at start"]
    assert std[f"accuracy after {steps} steps"] >= 0.95


# --------------------------------------------------------------------------------------
# the runner: tables printed, plots written
# --------------------------------------------------------------------------------------
def test_every_lesson_has_question_answer_tables_and_plot():
    for name in LESSONS:
        module = lesson(name)
        paras = module.__doc__.strip().split("\n\n")
        assert paras[0].startswith(f"Lesson {LESSONS.index(name) + 1}"), name
        assert "Question" in paras[1] or "Question" in paras[0], name
        assert "Answer" in module.__doc__, name
        assert callable(module.plot) and callable(module.table) and module.TITLE


def test_the_lessons_command_prints_every_table_and_writes_every_plot(tmp_path, capsys):
    """``python -m manual.lessons --out DIR`` (its main, in this process: the subprocess
    entry point is checked on one lesson below)."""
    from manual.lessons import __main__ as runner

    assert runner.main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in LESSONS:
        assert lesson(name).TITLE in out
        png = tmp_path / f"{name}.png"
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, name
    assert "best h per function" in out and "Σ (h−y)·σ'(q)·w46·σ'(p)·x1" in out


def test_a_single_lesson_runs_as_a_module(tmp_path):
    out = subprocess.run([sys.executable, "-m", "manual.lessons.gradient_descent_1d", "--out",
                          str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "gradient_descent_1d.png").exists()
    assert "|factor|" in out.stdout and out.stderr == ""


def test_plots_are_skipped_with_a_note_without_matplotlib(tmp_path, monkeypatch, capsys):
    from manual.lessons import __main__ as runner
    from manual.lessons import _common

    monkeypatch.setattr(_common, "matplotlib_available", lambda: False)
    assert runner.main(["--out", str(tmp_path), "--only", "gradient_descent_1d"]) == 0
    assert "plot skipped: matplotlib is not installed" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())


def test_unknown_lesson_is_rejected():
    from manual.lessons import __main__ as runner

    with pytest.raises(SystemExit):
        runner.main(["--only", "no-such-lesson"])
    with pytest.raises(ValueError, match="unknown lesson 'nope'; valid: derivative_as_limit"):
        lesson("nope")


def test_reference_twin_of_the_xor_network_is_torch_builtins():
    tnet = MLPTwin.from_manual(why_nonlinear.xor_network("tanh"))
    assert tnet.activation is torch.tanh
