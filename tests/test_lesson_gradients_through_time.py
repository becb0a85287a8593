"""Lesson 11 (vanishing and exploding gradients through time): its claims checked from the
math and every number against torch; a broken step backward must fail against torch."""

import numpy as np
import pytest

from comparisons.teaching.gradients_through_time import lesson_rows
from manual.lessons import gradients_through_time as lesson


@pytest.fixture(scope="module")
def summary():
    return lesson.summary().set_index("config")


def test_state_gradients_match_torch():
    rows = lesson_rows()
    bad = [f"{r['quantity']}: {r['max_rel_err']:.3e} {r['note']}" for r in rows
           if not r["passed"]]
    assert len(rows) == 14 and not bad, bad


def test_step_function_bptt_is_the_layers_backward():
    """The lesson's loop of step functions and the layer's own backward give the same
    gradient at the initial state (the layer returns it as dhx)."""
    x, g = lesson.data()
    for name in lesson.CONFIGS:
        net = lesson.layer(name)
        df = lesson.state_gradients(net, x, g)
        out, _ = net.forward(x)
        lstm = name.startswith("lstm")
        _, dhx = net.backward(np.zeros_like(out), (g[None], None) if lstm else g[None])
        dh0 = dhx[0] if lstm else dhx
        assert df.loc[0, "|dL/dh_t|"] == pytest.approx(np.linalg.norm(dh0), rel=1e-12)
        if lstm:
            assert df.loc[0, "|dL/dc_t|"] == pytest.approx(np.linalg.norm(dhx[1]), rel=1e-12)


def test_vanishing_exploding_and_the_forget_gate(summary):
    s = summary["|dL/dh_0| / |dL/dh_T|"]
    assert s["rnn-tanh"] < 1e-10  # vanishes geometrically
    assert s["rnn-relu-1.1I"] > 10  # explodes
    assert summary.loc["rnn-relu-1.1I", "factor per step"] <= 1.1 + 1e-12  # |W_hh|_2 bound
    # the forget gate near 1 keeps the cell-state path alive; near 1/2 it vanishes
    c = summary["|dL/dc_0| / |dL/dc_T|"]
    assert c["lstm-forget-bias-3"] > 0.1 > 1e-6 > c["lstm"]
    assert s["lstm-forget-bias-3"] > 1e6 * s["rnn-tanh"]


def test_clipping_bounds_only_the_exploding_gradient(summary):
    before = summary["|grad θ| (clip_grad_norm_ returns)"]
    after = summary[f"|grad θ| after clipping to {lesson.MAX_NORM:g}"]
    assert before["rnn-relu-1.1I"] > 100 * lesson.MAX_NORM
    assert after["rnn-relu-1.1I"] == pytest.approx(lesson.MAX_NORM, rel=1e-6)
    for name in ("rnn-tanh", "lstm", "lstm-forget-bias-3"):
        assert before[name] < lesson.MAX_NORM and after[name] == pytest.approx(before[name])
    # the direction is kept: the clipped gradient is a positive multiple of the original
    x, g = lesson.data()
    b, a, _ = lesson.clipped(lesson.layer("rnn-relu-1.1I"), x, g)
    u = np.concatenate([v.ravel() for v in b.values()])
    w = np.concatenate([v.ravel() for v in a.values()])
    assert np.dot(u, w) / (np.linalg.norm(u) * np.linalg.norm(w)) == pytest.approx(1.0)


def test_a_broken_step_backward_fails_against_torch(monkeypatch):
    """Negative control: the LSTM's gradient through c_{t-1} dropped in the step backward."""
    import manual.layers.recurrent as rec

    right = rec.lstm_recurrence_backward

    def dropped(dh, dc, cache):
        dxw, dhw, dprev_h, dprev_c = right(dh, dc, cache)
        return dxw, dhw, dprev_h, np.zeros_like(dprev_c)

    monkeypatch.setattr(rec, "lstm_recurrence_backward", dropped)
    failed = [r["quantity"] for r in lesson_rows() if not r["passed"]]
    assert any("|dL/dh_t|" in q and "lstm" in q for q in failed), failed
    assert not any("rnn" in q for q in failed), failed
