"""Recurrent layers beyond the case table: the step functions against the cells and against
torch's cells, torch's dropout masks replayed, bad input, the sequence classifier's
training with clipping, the LastTimeStep adapter."""

import numpy as np
import pytest
import torch

from comparisons.twins.layers import torch_rnn_dropout_masks
from comparisons.run.bridge import torch_twin
from comparisons.core.compare import compare_arrays
from comparisons.run.model_trajectories import MODEL_BUILDERS, compare_model_training
from comparisons.core.tolerances import tolerance_for
from manual import optimizers
from manual.clipping import total_norm
from manual.layers import (GRU, LSTM, RNN, GRUCell, LastTimeStep, LSTMCell, RNNCell,
                           gru_step_backward, gru_step_forward, lstm_step_backward,
                           lstm_step_forward, rnn_step_backward, rnn_step_forward)

TOL = tolerance_for(np.float64, "torch")


def _close(a, b, name):
    c = compare_arrays(a, b, TOL, name)
    assert c.passed, c.message()


# --------------------------------------------------------------------------------------
# the classroom's step functions: every gradient against torch's cells
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell, step_f, step_b", [
    (RNNCell, rnn_step_forward, rnn_step_backward),
    (LSTMCell, lstm_step_forward, lstm_step_backward),
    (GRUCell, gru_step_forward, gru_step_backward)], ids=["rnn", "lstm", "gru"])
def test_step_functions_match_torch_cells(cell, step_f, step_b):
    rng = np.random.default_rng(3)
    layer = cell(3, 4, rng=1)
    lstm = cell is LSTMCell
    x, h = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    c = rng.standard_normal((5, 4))
    w = [layer.params[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    gh, gc = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    if lstm:
        h1, c1, cache = step_f(x, h, c, *w)
        dx, dh, dc, *dw = step_b(gh, gc, cache)
    else:
        h1, cache = step_f(x, h, *w)
        dx, dh, *dw = step_b(gh, cache)
    module = torch_twin(layer)
    xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    out = module(xt, (ht, ct)) if lstm else module(xt, ht)
    outs = out if lstm else (out,)
    L = sum((o * torch.tensor(g)).sum() for o, g in zip(outs, (gh, gc)))
    L.backward()
    _close(h1, outs[0].detach().numpy(), "h'")
    if lstm:
        _close(c1, outs[1].detach().numpy(), "c'")
        _close(dc, ct.grad.numpy(), "dc")
    _close(dx, xt.grad.numpy(), "dx")
    _close(dh, ht.grad.numpy(), "dh")
    for name, g in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), dw):
        _close(g, dict(module.named_parameters())[name].grad.numpy(), name)


def test_a_layer_of_one_step_is_its_cell():
    rng = np.random.default_rng(0)
    for layer_cls, cell_cls in ((RNN, RNNCell), (LSTM, LSTMCell), (GRU, GRUCell)):
        layer, cell = layer_cls(3, 4, rng=2), cell_cls(3, 4, rng=2)
        for k, v in cell.params.items():
            layer.params[f"{k}_l0"][...] = v
        x = rng.standard_normal((1, 2, 3))
        out, _ = layer.forward(x)
        y = cell.forward(x[0])
        _close(out[0], y[0] if isinstance(y, tuple) else y, layer_cls.__name__)


# --------------------------------------------------------------------------------------
# dropout between layers: torch's own masks
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_first", [False, True])
def test_torch_dropout_masks_are_recovered(dtype, batch_first):
    layer = LSTM(3, 4, num_layers=3, dropout=0.4, bidirectional=True, batch_first=batch_first,
                 dtype=dtype, rng=0)
    module = torch_twin(layer)
    x = np.random.default_rng(1).standard_normal((2, 6, 3) if batch_first else (6, 2, 3))
    x = x.astype(dtype)
    xt = torch.from_numpy(x)
    out_t, _ = module(xt)
    masks = torch_rnn_dropout_masks(module, xt)
    assert len(masks) == 2 and all(m.shape == (6, 2, 8) for m in masks)
    assert all(0 < m.mean() < 1 for m in masks)  # really random, really dropping
    out, _ = layer.forward(x, dropout_masks=masks)
    c = compare_arrays(out, out_t.detach().numpy(), tolerance_for(dtype), "output")
    assert c.passed, c.message()
    # a different draw does not match: the comparison would see a wrong mask
    out2, _ = layer.forward(x, dropout_masks=[1 - m for m in masks])
    assert not compare_arrays(out2, out_t.detach().numpy(), tolerance_for(dtype), "o").passed


def test_eval_mode_and_p0_draw_no_mask():
    layer = GRU(3, 4, num_layers=2, dropout=0.5, rng=0).eval()
    module = torch_twin(layer)
    x = np.ones((4, 2, 3))
    module(torch.from_numpy(x))
    assert torch_rnn_dropout_masks(module, torch.from_numpy(x)) == []
    out, _ = layer.forward(x)
    assert layer.dropout_masks == []
    _close(out, module(torch.from_numpy(x))[0].detach().numpy(), "output")


# --------------------------------------------------------------------------------------
# bad input: ValueError/TypeError naming the layer, the argument and the shapes
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, args, error, words", [
    (lambda: LSTM(3, 5), (np.zeros((7, 2, 4)),), ValueError,
     ["LSTM", "input", "input_size = 3", "(7, 2, 4)"]),
    (lambda: RNN(3, 5), (np.zeros((2, 7, 2, 3)),), ValueError, ["RNN", "input", "4-d"]),
    (lambda: GRU(3, 5, num_layers=2), (np.zeros((7, 2, 3)), np.zeros((1, 2, 5))), ValueError,
     ["GRU", "hx", "(2, 2, 5)", "num_layers * num_directions = 2", "(1, 2, 5)"]),
    (lambda: LSTM(3, 5, bidirectional=True),
     (np.zeros((7, 2, 3)), (np.zeros((1, 2, 5)), np.zeros((2, 2, 5)))), ValueError,
     ["LSTM", "hx (h)", "(2, 2, 5)", "(1, 2, 5)"]),
    (lambda: LSTM(3, 5, proj_size=2),
     (np.zeros((7, 2, 3)), (np.zeros((1, 2, 5)), np.zeros((1, 2, 5)))), ValueError,
     ["LSTM", "hx (h)", "proj_size = 2", "(1, 2, 2)"]),
    (lambda: RNN(3, 5, batch_first=True), (np.zeros((7, 2, 3)), np.zeros((1, 2, 5))),
     ValueError, ["RNN", "hx", "batch 7 = input dimension 0", "batch_first=True"]),
    (lambda: RNN(3, 5), (np.zeros((7, 2, 3)), np.zeros((1, 7, 5))), ValueError,
     ["batch 2 = input dimension 1", "batch_first=False", "(1, 7, 5)"]),
    (lambda: LSTM(3, 5), (np.zeros((7, 2, 3)), np.zeros((1, 2, 5))), TypeError,
     ["LSTM", "hx", "tuple (h_0, c_0)"]),
    (lambda: GRU(3, 5), (np.zeros((7, 3)), np.zeros((1, 2, 5))), ValueError,
     ["GRU", "hx", "(1, 5)", "(1, 2, 5)"]),
    (lambda: GRU(3, 5), (np.full((7, 2, 3), np.nan),), ValueError,
     ["GRU", "input", "non-finite"]),
    (lambda: LSTMCell(3, 5), (np.zeros((2, 4)),), ValueError, ["LSTMCell", "input", "(2, 4)"]),
    (lambda: GRUCell(3, 5), (np.zeros((2, 3)), np.zeros((3, 5))), ValueError,
     ["GRUCell", "hx", "(2, 5)", "(3, 5)"]),
    (lambda: RNN(3, 5), (np.zeros((7, 2, 3), dtype=complex),), TypeError, ["RNN", "input"]),
])
def test_bad_input_names_layer_argument_and_shapes(make, args, error, words):
    with pytest.raises(error) as info:
        make().forward(*args)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_bad_constructor_and_backward_arguments():
    with pytest.raises(ValueError, match="RNN: unknown nonlinearity 'sigmoid'"):
        RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="LSTM: proj_size has to be smaller than hidden_size"):
        LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="GRU: dropout should be a number in range"):
        GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="LSTM: hidden_size must be >= 1"):
        LSTM(3, 0)
    layer = LSTM(3, 4, rng=0)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.zeros((5, 2, 4)))
    out, _ = layer.forward(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"LSTM: dout has shape \(5, 2, 5\)"):
        layer.backward(np.zeros((5, 2, 5)))
    with pytest.raises(ValueError, match=r"LSTM: d_hx \(c_n\) must have shape \(1, 2, 4\)"):
        layer.backward(np.zeros_like(out), (None, np.zeros((1, 3, 4))))
    with pytest.raises(TypeError, match="LSTM: d_hx must be a tuple"):
        layer.backward(np.zeros_like(out), np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match="dropout_masks must hold num_layers - 1 = 1"):
        LSTM(3, 4, num_layers=2, dropout=0.5).forward(np.zeros((5, 2, 3)), dropout_masks=[])
    with pytest.raises(TypeError, match="LastTimeStep: input must be"):
        LastTimeStep().forward(np.zeros((5, 2, 3)))


def test_empty_batch_as_torch_and_empty_sequence_refused_as_torch():
    layer = LSTM(3, 4, num_layers=2, rng=0)
    module = torch_twin(layer)
    x = np.zeros((5, 0, 3))
    out, (h, c) = layer.forward(x)
    out_t, (h_t, _) = module(torch.from_numpy(x))
    assert out.shape == tuple(out_t.shape) and h.shape == tuple(h_t.shape) == (2, 0, 4)
    dx, (dh, dc) = layer.backward(np.zeros_like(out))
    assert dx.shape == x.shape and dh.shape == (2, 0, 4)
    assert all(np.all(g == 0) for g in layer.grads.values())
    with pytest.raises(RuntimeError, match="sequence length to be larger than 0"):
        module(torch.zeros(0, 2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="LSTM: input must have a sequence length > 0"):
        layer.forward(np.zeros((0, 2, 3)))


def test_unbatched_and_zero_state_gradients_have_the_shapes_of_hx():
    layer = LSTM(3, 4, num_layers=2, bidirectional=True, rng=0)
    out, (h, c) = layer.forward(np.ones((6, 3)))
    assert out.shape == (6, 8) and h.shape == c.shape == (4, 4)
    dx, (dh, dc) = layer.backward(np.ones_like(out))
    assert dx.shape == (6, 3) and dh.shape == dc.shape == (4, 4)
    layer.needs_input_grad = False
    dx, _ = layer.backward(np.ones_like(out))
    assert dx is None


# --------------------------------------------------------------------------------------
# the sequence classifier trained with clipping
# --------------------------------------------------------------------------------------
def _short_run():
    prob = MODEL_BUILDERS["lstm-parity"](np.dtype(np.float64), 0)
    opt = optimizers.get("sgd", prob.net.params, lr=0.5)
    return compare_model_training(prob.net, prob.X, prob.y, opt, 2, 32, clip_grad_norm=0.05)


def test_clipping_is_active_in_the_classifier_run_and_torch_follows(monkeypatch):
    """The first step's gradient is above max_norm (so clipping changes the run) and torch's
    own clip_grad_norm_ follows step for step; with torch's clipping switched off, the runs
    part at step 1, naming a parameter."""
    prob = MODEL_BUILDERS["lstm-parity"](np.dtype(np.float64), 0)
    _, grads = prob.net.gradients(prob.X[:32], prob.y[:32])
    assert float(total_norm(grads)) > 0.05
    df = _short_run()
    assert len(df) == 16 and df["passed"].all()
    assert (df["param_max_rel_err"] <= 1e-9).all()
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", lambda params, max_norm: None)
    df = _short_run()
    assert not df["passed"].iloc[0] and df["worst_param"].iloc[0] != ""


def test_the_readme_recurrent_example_runs():
    """The example of the docs' "Recurrent layers" section."""
    from _docs import run_tested_by

    namespace = run_tested_by("docs/reference/sequence-models.md", "tests/test_recurrent.py")
    assert namespace["dx"].shape == (7, 2, 3) and float(namespace["total"]) > 0
