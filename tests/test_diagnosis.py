"""The slip diagnosis names a classic slip only when it explains the wrong array exactly."""

import numpy as np
import pytest

from comparisons.core.compare import compare_arrays, describe
from comparisons.core.diagnosis import likely_slip
from comparisons.teaching.gallery import GALLERY, gallery_table
from comparisons.core.tolerances import tolerance_for

TOL64 = tolerance_for("float64")
TOL32 = tolerance_for("float32")


@pytest.fixture
def g():
    return np.random.default_rng(0).standard_normal((5, 5))


@pytest.mark.parametrize("slip, text", [
    (lambda g: -g, "the negative of the true gradient"),
    (lambda g: 2 * g, "twice the true gradient"),
    (lambda g: g / 2, "half the true gradient"),
    (lambda g: 32 * g, "32 times the true gradient (a sum where a mean over 32 belongs?"),
    (lambda g: g / 32, "1/32 of the true gradient (averaged twice?"),
    (lambda g: g * 32 / 31, "32/31 times the true gradient (Bessel's correction"),
    (lambda g: g * 31 / 32, "31/32 times the true gradient (the biased 1/n, n = 32"),
    (lambda g: g.T, "the transpose of the true gradient"),
    (lambda g: np.zeros_like(g), "all zeros"),
    (lambda g: 0.37 * g, "0.37 times the true gradient (a constant factor)"),
])
@pytest.mark.parametrize("tol", [TOL64, TOL32], ids=["float64", "float32"])
def test_each_classic_slip_is_named(g, slip, text, tol):
    e = g.astype(np.float32).astype(np.float64) if tol is TOL32 else g
    assert text in likely_slip(slip(e), e, tol)


def test_a_missing_mask_and_an_unsummed_axis(g):
    upstream = g
    z = np.random.default_rng(1).standard_normal(g.shape)
    dx = upstream * (z > 0)
    assert "a missing mask" in likely_slip(upstream, dx, TOL64)
    per_example = np.random.default_rng(2).standard_normal((8, 3))
    assert "not summed over axis 0" in likely_slip(per_example, per_example.sum(0), TOL64)
    assert "transpose" in likely_slip(per_example.T, per_example, TOL64)


@pytest.mark.parametrize("error", [1e-3, 1e-6])
def test_a_random_error_or_a_single_number_names_nothing(g, error):
    noisy = g + error * np.random.default_rng(3).standard_normal(g.shape)
    assert likely_slip(noisy, g, TOL64) is None
    assert likely_slip(g * (1 + 1e-3 * (g > 0)), g, TOL64) is None  # a factor on half
    assert likely_slip(np.array([3.0]), np.array([1.5]), TOL64) is None  # 1 element: any factor
    assert likely_slip(np.array(np.nan), np.array(1.0), TOL64) is None


def test_a_failing_comparison_says_it_and_keeps_its_numbers(g):
    c = compare_arrays(10 * g, g, TOL64, "W")
    assert not c.passed and c.note.startswith("likely slip: your dW is 10 times")
    msg = describe({"case": "net", "oracle": "torch", **c.row()})
    assert "worst element" in msg and msg.endswith(c.note)
    assert compare_arrays(g, g, TOL64, "W").note == ""


def test_the_gallery_names_the_slips_that_have_a_classic_form():
    table = gallery_table([s for s in GALLERY if s.id in (
        "mean-forgotten", "relu-derivative-at-zero", "sigmoid-exponent-sign")]).set_index("slip")
    assert "dW1 is 24 times the true gradient" in table.loc["mean-forgotten", "likely slip"]
    assert "a missing mask" in table.loc["relu-derivative-at-zero", "likely slip"]
    assert "the negative of the true gradient" in table.loc["sigmoid-exponent-sign",
                                                            "likely slip"]


# --------------------------------------------------------------------------------------
# alternatives: the slips that only the code holding the context can compute
# --------------------------------------------------------------------------------------
def test_an_alternative_is_named_only_when_it_explains_the_array_exactly(g):
    alt = np.where(g > 0, g, 0.0)  # what some slip would give
    text = "the gradient some slip gives"
    assert likely_slip(alt, g, TOL64, {text: alt}) == text
    assert likely_slip(alt, g, TOL64, lambda: {text: alt}) == text  # worked out on demand
    noisy = alt + 1e-6 * np.random.default_rng(4).standard_normal(g.shape)
    assert likely_slip(noisy, g, TOL64, {text: alt}) is None  # near it is not it
    # an alternative the true gradient meets tells nothing apart; the classic ones still run
    assert likely_slip(-g, g, TOL64, {text: g}) == (
        "the negative of the true gradient (a flipped sign?)")
    assert likely_slip(alt, g, TOL64, {text: alt[:2]}) is None  # another shape: no


def test_alternatives_are_worked_out_only_for_a_failing_comparison(g):
    calls = []

    def alternatives():
        calls.append(1)
        return {"something": np.zeros_like(g)}

    assert compare_arrays(g, g, TOL64, "W", alternatives).passed and not calls
    c = compare_arrays(np.zeros_like(g), g, TOL64, "W", alternatives)
    assert calls == [1] and c.note == "likely slip: your dW is something"


def _two_layer(p, X, first, second):
    return (second(first(X @ p[0]) @ p[1]) ** 2).sum()


def test_activation_alternatives_leave_out_exactly_the_derivatives_named():
    import torch

    from comparisons.core.alternatives import activation_alternatives

    gen = torch.Generator().manual_seed(0)
    W = [torch.randn(3, 4, generator=gen, dtype=torch.float64),
         torch.randn(4, 2, generator=gen, dtype=torch.float64)]
    X = torch.randn(5, 3, generator=gen, dtype=torch.float64)

    def grads(first=torch.relu, second=torch.sigmoid):
        p = [w.clone().requires_grad_() for w in W]
        return dict(zip(("W1", "W2"), (t.numpy() for t in torch.autograd.grad(
            _two_layer(p, X, first, second), p))))

    def identity_backward(f):  # f's value, the identity's derivative, written by hand
        return lambda z: f(z).detach() + (z - z.detach())  # f(z) + an exact 0

    alts = activation_alternatives(grads)
    by_hand = {
        "1st of 2 activations (relu)": grads(first=identity_backward(torch.relu)),
        "2nd of 2 activations (sigmoid, the last)": grads(
            second=identity_backward(torch.sigmoid)),
        "every activation's derivative f'(z) left out (relu, sigmoid": grads(
            identity_backward(torch.relu), identity_backward(torch.sigmoid))}
    for words, expected in by_hand.items():
        for name in ("W1", "W2"):
            (text,) = [t for t in alts[name] if words in t]
            np.testing.assert_array_equal(alts[name][text], expected[name])
    assert activation_alternatives(lambda: {"W": np.ones(2)}) == {}  # no activation called


def test_the_embedding_overwrite_hypothesis_takes_any_one_write_per_row():
    from comparisons.slips.norms import OVERWRITE, embedding_overwrite
    from manual.layers import Embedding

    layer = Embedding(5, 3)
    idx = np.array([[0, 2, 0], [4, 2, 0]])
    dout = np.random.default_rng(5).standard_normal((2, 3, 3))
    rows = dout.reshape(-1, 3)
    first = np.zeros((5, 3))
    first[[4, 2, 0]] = rows[[3, 1, 0]]  # the first write of each token
    last = np.zeros((5, 3))
    last[idx.reshape(-1)] = rows  # NumPy's assignment: the last write, as a student's
    true = np.zeros((5, 3))
    np.add.at(true, idx.reshape(-1), rows)
    for student in (first, last):
        alt = embedding_overwrite(layer, (idx,), dout, {"weight": student})["weight"][OVERWRITE]
        assert likely_slip(student, true, TOL64, {OVERWRITE: alt}) == OVERWRITE
    mixed = last + 1e-3 * (np.arange(15).reshape(5, 3) == 7)  # one element off
    alt = embedding_overwrite(layer, (idx,), dout, {"weight": mixed})["weight"][OVERWRITE]
    assert likely_slip(mixed, true, TOL64, {OVERWRITE: alt}) is None


# --------------------------------------------------------------------------------------
# every slip of the gallery and every layer's negative control
# --------------------------------------------------------------------------------------
#: slip id -> the words that name it: at least one failing row names it, and every row
#: that names a slip names one of these
NAMED = {
    "sigmoid-exponent-sign": ("the negative of the true gradient",),
    "neuron-dw-without-x": ("every row the true bias gradient db (the input x left out",),
    "sigmoid-derivative-dropped": ("every activation's derivative f'(z) left out (sigmoid",
                                   "the upstream gradient passed through unchanged"),
    "softmax-backward-elementwise": ("the diagonal of the softmax's Jacobian only",),
    "mean-forgotten": ("24 times the true gradient", "18 times the true gradient"),
    "relu-derivative-at-zero": ("a missing mask",),
    "x-delta-instead-of-xT-delta": ("x @ delta, where x.T @ delta belongs",),
    "LinearWeightGradTransposed-linear-square-float64": ("the transpose of the true gradient",),
    "LinearInputGradUntransposed-linear-square-float64": ("dout @ W.T, where dout @ W belongs",),
    "MaxPool2dGradToWholeWindow-maxpool2d-2x2-float64": ("a missing mask",),
    "Conv2dUnflippedKernel-conv2d-stride2-pad1-float64": ("kernel is not rotated by 180",),
    "SdpaSoftmaxBackwardWithoutSubtraction-sdpa-float64": ("Jacobian's diagonal only",),
    "ConvTranspose1dOutputPaddingIgnored-convtranspose1d-stride2-pad1-outpad1-float64": (
        "the outputs that output_padding adds left out",),
    "LinearInputGradUntransposed-mlp-square-float64": (
        "linear layer calls as dout @ W.T where dout @ W belongs",),
    "Conv2dUnflippedKernel-cnn-float64": ("convolution calls as its kernel not rotated",),
    "ConvTranspose2dPaddingOffByOne-convtranspose2d-stride2-pad1-outpad1-float64": (
        "shifted by +1 along every spatial axis (a padding off by one?)",),
    "DecoderMemoryGradFromKeysOnly-decoder-layer-post-norm-relu-causal-mpad-float64": (
        "the attention's key path alone",),
    "tanh-derivative-not-squared": ("tanh's derivative written as 1 - tanh(z), not squared",),
    "MhaSoftmaxBackwardWithoutSubtraction-mha-float64": ("Jacobian's diagonal only",),
    "Conv1dCircularGradCropped-conv1d-circular-pad3-float64": ("with zero padding",),
    "CircularPad2dGradCropped-circularpad2d-float64": ("dout cropped to the input's window",),
    "ReplicationPad1dEdgeGradOnce-replicationpad1d-float64": ("one of its copies only",),
    "Conv2dKernelTransposed-conv2d-3x3-float64": ("the kernel's last two axes swapped",),
    "PReLUSlopeGradNotSummed-prelu-float64": ("index 0 along output axis 0 only",),
    "Conv3dWeightGradFirstDepthOnly-conv3d-2x2x2-float64": ("index 0 along output axis 2 only",),
    # the scale 1/sqrt(d) forgotten: a constant factor, sqrt(d) = 2, and 1/scale = 10/3
    "SdpaScaleMissingInBackward-sdpa-float64": ("twice the true gradient",),
    "SdpaScaleMissingInBackward-sdpa-scale-float64": ("10/3 times the true gradient",),
    "BatchNormConstantStatistics-batchnorm1d-control-float64": (
        "gamma * dout / std, the direct term alone",),
    "DropoutBackwardNotRescaled-dropout-control-float64": ("7/10 times the true gradient",),
    "EmbeddingOverwritesRepeats-embedding-control-float64": (
        "repeated indices overwritten instead of accumulated",),
    "LSTMCellStateGradDropped-lstm-float64": ("all zeros",),
    "ReflectionPadGradCropped-reflectionpad2d-float64": ("dout cropped to the input's window",),
    "RMSNormDirectTermOnly-rmsnorm-float64": ("gamma * dout / rms, the direct term alone",),
    # averaged over a batch of 2 where the sum belongs
    "MhaBiasKvGradientAveragedOverBatch-mha-bias_kv-kpm-attn_mask-float64": (
        "half the true gradient",),
    "MaxPool3dGradToWholeWindow-maxpool3d-2-float64": ("a missing mask",),
    "AdaptiveAvgPool1dGradNotDivided-adaptiveavgpool1d-3-of-7-float64": (
        "3 times the true gradient",),
    "LocalResponseNormDirectTermOnly-localresponsenorm-size2-custom-float64": (
        "dout / d**beta, the direct term alone",),
}
_RECURRENT = "a recurrent cell's slip across time steps or gates: no hypothesis is offered"
#: slip id -> why no exact hypothesis names it; no row may name a slip for these
NOT_NAMED = {
    "w14-without-w46": "every parameter is a scalar: any factor fits one number",
    "SdpaCausalMaskAfterSoftmax-sdpa-causal-float64": "the forward itself is wrong",
    "LayerNormWrongAxis-layernorm-control-float64": "the forward itself is wrong",
    "LSTMGatesSwappedInBackward-lstm-float64": _RECURRENT,
    "LSTMWeightHHLastStepOnly-lstm-float64": _RECURRENT,
    "GRUResetBeforeProduct-gru-float64": _RECURRENT,
    "InstanceNorm1dOverBatch-instancenorm1d-affine-float64": "the forward itself is wrong",
    "InstanceNorm2dOverBatch-instancenorm2d-affine-float64": "the forward itself is wrong",
    "BatchNorm3dBiasedRunningVar-batchnorm3d-float64": (
        "a running buffer, not a gradient: the momentum update's (1 - f) share of the old "
        "value hides the factor M/(M-1)"),
}


def _every_slip():
    from comparisons.teaching.gallery import layer_slips

    return GALLERY + layer_slips()


def test_every_slip_is_either_named_or_listed_with_its_reason():
    ids = [s.id for s in _every_slip()]
    assert sorted(ids) == sorted(NAMED.keys() | NOT_NAMED.keys())
    assert not NAMED.keys() & NOT_NAMED.keys()


@pytest.mark.parametrize("slip", [pytest.param(s, id=s.id) for s in _every_slip()])
def test_every_slip_is_named_right_or_not_at_all(slip):
    from comparisons.core.compare import SLIP_PREFIX

    named = {f"{r['oracle']}:{r['parameter']}": r["note"].split(SLIP_PREFIX, 1)[1]
             for r in slip.broken()
             if r.get("passed") is False and SLIP_PREFIX in str(r.get("note") or "")}
    if slip.id in NOT_NAMED:
        assert not named, named
        return
    assert named, f"{slip.id}: no row names a slip"
    wrong = {k: v for k, v in named.items() if not any(w in v for w in NAMED[slip.id])}
    assert not wrong, wrong


# --------------------------------------------------------------------------------------
# a random error names nothing, where the hypotheses are offered
# --------------------------------------------------------------------------------------
def _noisy(cls, attr):
    class Noisy(cls):
        def backward(self, *args, **kwargs):
            out = super().backward(*args, **kwargs)
            store = getattr(self, attr)
            for k in store:
                store[k] = store[k] + 1e-4 * np.random.default_rng(6).standard_normal(
                    np.shape(store[k]))
            return out
    return Noisy


def test_a_random_error_names_no_slip_in_a_layer_or_a_network():
    from comparisons.cases.info import LayerCase
    from comparisons.run.layers import compare_layer
    from comparisons.run.networks import compare_network
    from manual import MLP
    from manual.layers import Embedding

    case = LayerCase("Embedding", (("num_embeddings", 6), ("embedding_dim", 3)), ((3, 5),),
                     kind="tokens")
    rows = compare_layer(case.build(_noisy(Embedding, "grads")), case.inputs())
    net = MLP([4, 5, 3], "sigmoid", "identity", "mse")
    grads = net.gradients

    def noisy_gradients(X, y):
        loss, g = grads(X, y)
        return loss, {k: v + 1e-4 * np.random.default_rng(7).standard_normal(v.shape)
                      for k, v in g.items()}

    net.gradients = noisy_gradients
    X, y = np.random.default_rng(8).standard_normal((2, 8, 4))[0], np.zeros((8, 3))
    rows += compare_network(net, X, y, oracles=["torch", "fd"])
    failing = [r for r in rows if r["status"] == "fail"]
    assert {r["parameter"] for r in failing} >= {"weight", "W1", "b1", "W2", "b2"}
    assert not [r["note"] for r in failing if "likely slip" in str(r["note"])]


@pytest.mark.parametrize("name, args, shape", [
    ("Conv2d", (("in_channels", 2), ("out_channels", 3), ("kernel_size", 3)), (2, 2, 5, 5)),
    ("Conv1d", (("in_channels", 2), ("out_channels", 3), ("kernel_size", 3), ("padding", 2),
                ("padding_mode", "circular")), (2, 2, 5)),
    ("PReLU", (("num_parameters", 3),), (4, 3, 2)),
    ("ConvTranspose1d", (("in_channels", 2), ("out_channels", 3), ("kernel_size", 3),
                         ("stride", 2), ("padding", 1), ("output_padding", 1)), (2, 2, 4)),
    ("ReplicationPad1d", (("padding", 2),), (2, 3, 4)),
    ("CircularPad2d", (("padding", 1),), (2, 3, 4, 4)),
])
def test_a_random_error_names_no_slip_from_the_twin(name, args, shape):
    """The twin's and the records' hypotheses (one output slice's share, a kernel
    unflipped or transposed, zero padding for a padding mode, a padding's copies cropped
    or overwritten) name nothing for noise on every gradient, input and parameters."""
    from comparisons.cases.info import LayerCase
    from comparisons.run.layers import compare_layer
    from manual import layers

    class Noisy(getattr(layers, name)):
        def backward(self, dout):
            noise = np.random.default_rng(5)
            dx = super().backward(dout)
            self.grads = {k: v + 1e-4 * noise.standard_normal(v.shape)
                          for k, v in self.grads.items()}
            return dx + 1e-4 * noise.standard_normal(dx.shape)

    case = LayerCase(name, args, (shape,))
    rows = compare_layer(case.build(Noisy), case.inputs(), oracles=["torch"])
    failing = [r for r in rows if r["status"] == "fail"]
    layer = case.build(getattr(layers, name))
    assert {r["parameter"] for r in failing} >= {"grad_input", *layer.params}
    assert not [r["note"] for r in failing if "likely slip" in str(r["note"])]


def test_a_random_error_names_no_layer_slip_in_a_network():
    """The network's layer hypotheses (a convolution's kernel unflipped, a square linear
    layer's weight transposed in its input gradient) name nothing for noise."""
    from comparisons.run.layers import compare_sequential
    from manual import layers
    from manual.layers.activation import ReLU

    net = layers.Sequential(layers.Conv2d(1, 2, 3, padding=1, rng=0), ReLU(), layers.Flatten(),
                            layers.Linear(32, 32, rng=1), ReLU(), layers.Linear(32, 3, rng=2),
                            loss="cross_entropy")
    grads = net.gradients

    def noisy_gradients(X, y):
        loss, g = grads(X, y)
        return loss, {k: v + 1e-4 * np.random.default_rng(9).standard_normal(v.shape)
                      for k, v in g.items()}

    net.gradients = noisy_gradients
    X = np.random.default_rng(10).standard_normal((4, 1, 4, 4))
    rows = compare_sequential(net, X, np.array([0, 1, 2, 1]), oracles=["torch"])
    failing = [r for r in rows if r["status"] == "fail"]
    assert {r["parameter"] for r in failing} >= {"0.weight", "3.weight", "5.weight"}
    assert not [r["note"] for r in failing if "likely slip" in str(r["note"])]
