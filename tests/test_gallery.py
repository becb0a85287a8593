"""The gallery of wrong derivations: every slip is caught by the harness exactly where the math
says it acts, the failure message names the parameter, and every correct counterpart passes."""

import numpy as np
import pytest

from comparisons import compare_network, failures
from comparisons.cases.data import KINK_MARGIN
from comparisons.teaching.gallery import GALLERY, ReLUOneAtZero, failing, gallery_table
from manual import MLP


@pytest.mark.parametrize("slip", [pytest.param(s, id=s.id) for s in GALLERY])
def test_slip_is_caught_and_named(slip):
    rows = slip.broken()
    assert failing(rows) == slip.expected, (
        f"{slip.id}: failing {sorted(failing(rows))}, expected {sorted(slip.expected)}")
    msg = "\n".join(failures(rows))
    for oracle, parameter in slip.expected:
        assert f"[{oracle}] {parameter}: " in msg, f"{parameter} not named:\n{msg}"
    assert "beyond tolerance" in msg and "max abs err" in msg


@pytest.mark.parametrize("slip", [pytest.param(s, id=s.id) for s in GALLERY])
def test_correct_counterpart_passes(slip):
    rows = slip.correct()
    assert rows
    assert {r["oracle"] for r in rows} >= {o for o, _ in slip.expected}
    assert not failures(rows), "\n".join(failures(rows))


def test_gallery_covers_the_classic_slips():
    assert [s.id for s in GALLERY] == [
        "sigmoid-exponent-sign", "neuron-dw-without-x", "w14-without-w46",
        "tanh-derivative-not-squared", "sigmoid-derivative-dropped",
        "softmax-backward-elementwise", "mean-forgotten",
        "relu-derivative-at-zero", "x-delta-instead-of-xT-delta"]
    for s in GALLERY:
        assert s.slip and s.right and s.slip != s.right


def test_every_broken_variant_names_its_slip():
    import comparisons.teaching.gallery as g

    for cls in (g.FlippedExponentSigmoid, g.DenseWithoutInput, g.Network321WithoutW46,
                g.TanhNotSquared, g.SigmoidDerivativeDropped, g.ElementwiseSoftmax,
                g.MSEWithoutMean, g.ReLUOneAtZero, g.DenseXDelta):
        assert cls.__doc__.strip().startswith("Slip:"), cls.__name__


def test_relu_slip_hides_away_from_the_kink():
    """Why the kink must be tested exactly: on data kept KINK_MARGIN away from 0 (as the
    registry's data is) ReLU'(0) = 1 is indistinguishable from torch's 0."""
    rng = np.random.default_rng(0)
    net = MLP([3, 4, 2], activation=ReLUOneAtZero(), output_activation="identity", loss="mse",
              seed=2)
    X, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    net.forward(X)
    assert np.min(np.abs(net.intermediates["z1"])) > KINK_MARGIN
    rows = compare_network(net, X, y, oracles=["torch"])
    assert not failures(rows)


def test_square_layer_slip_needs_the_square_shape():
    """X·δ only has W's shape when the batch equals the fan-in; otherwise NumPy refuses."""
    from comparisons.teaching.gallery import DenseXDelta, _with_layers

    net = _with_layers(MLP([4, 4, 4], "tanh", "identity", "mse"), DenseXDelta)
    with pytest.raises(ValueError, match="matmul"):
        net.gradients(np.ones((5, 4)), np.ones((5, 4)))


def test_gallery_table():
    df = gallery_table()
    assert len(df) == len(GALLERY)
    assert df["as expected"].all() and df["control passes"].all()
    assert (df["caught by"] != "NOT CAUGHT").all() and (df["max abs err"] > 0).all()
    row = df.set_index("slip").loc["w14-without-w46"]
    assert row["where it shows"] == "backward dJ/dz1"
    assert df.set_index("slip").loc["sigmoid-exponent-sign", "where it shows"] == "forward a1"
    assert df.set_index("slip").loc["relu-derivative-at-zero", "caught by"] == "torch"


def test_gallery_command(capsys):
    from comparisons.teaching.gallery import main

    assert main([]) == 0
    out = capsys.readouterr().out
    assert "9 slips, 9 caught exactly where expected, 9 controls pass" in out


def test_gallery_lists_the_layer_controls(capsys):
    """--layers adds the layer records' negative controls after the gallery's own slips."""
    from comparisons.cases.catalog import layer_controls
    from comparisons.teaching.gallery import main

    assert main(["--list", "--layers"]) == 0
    assert capsys.readouterr().out.split() == [s.id for s in GALLERY] + [
        c.id for c in layer_controls()]
