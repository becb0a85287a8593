r"""A gallery of wrong derivations, each caught by the harness.

The most common way to get backprop wrong is a plausible derivation with one slip in it.
Each slip below is a small subclass or function, kept apart from the correct code in
:mod:`manual`, with a docstring naming the slip; each :class:`Slip` runs it through the
harness (:func:`~comparisons.run.networks.compare_network`,
:func:`~comparisons.run.components.compare_activation`,
:func:`~comparisons.run.components.compare_loss`:
torch's autograd, central finite differences, the Taylor test and the complex step)
next to its correct counterpart, the control. ``tests/test_gallery.py`` asserts that every
slip fails exactly where the math says, that the message names the parameter, and that
every control passes.

    python -m comparisons.teaching.gallery

prints the table (:func:`gallery_table`): the slip, where it shows, the oracles that catch
it and the worst error. ``--layers`` adds the layers' negative controls, one per
``LayerControl`` of the layer records (:func:`layer_slips`; also ``backprop-compare
--parts controls``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from comparisons.cases import catalog
from comparisons.cases.info import LayerControl, NetworkCase
from manual.cli import HelpFormatter, exit_codes, fail, select_ids, selection_error
from comparisons.core.compare import SLIP_PREFIX
from comparisons.run.components import compare_activation, compare_loss
from comparisons.run.controls import run_control
from comparisons.run.networks import compare_network
from comparisons.run.rows import failures
from comparisons.slips.components import (
    ElementwiseSoftmax,
    FlippedExponentSigmoid,
    MSEWithoutMean,
    ReLUOneAtZero,
    TanhNotSquared,
)
from comparisons.teaching.lessons import Reference321
from manual import MLP
from manual.activations import Sigmoid, Softmax, _sigmoid
from manual.layers import Dense
from manual.lessons.network_321 import Network321, example_data, seed_network

__all__ = [
    "GALLERY",
    "DenseWithoutInput",
    "DenseXDelta",
    "ElementwiseSoftmax",
    "FlippedExponentSigmoid",
    "MSEWithoutMean",
    "Network321WithoutW46",
    "NeuronWithoutX",
    "SigmoidDerivativeDropped",
    "ReLUOneAtZero",
    "Slip",
    "TanhNotSquared",
    "failing",
    "gallery_table",
    "layer_slips",
    "main",
]

Rows = list[dict[str, Any]]


# ======================================================================================
# the slips (and, where the library has no counterpart, the correct version beside them);
# the activation and loss slips are the case table's planted bugs
# (comparisons.cases.components.PLANTED_BUGS), imported above
# ======================================================================================
class DenseWithoutInput(Dense):
    r"""Slip: :math:`\partial\hat y/\partial w = \sigma(z)(1 - \sigma(z))` without the factor x.

    The weight gradient is taken as :math:`\sum_n \delta_n` for every input, instead of
    :math:`\sum_n x_n \delta_n = X^\top\delta`: the bias's formula applied to the weights."""

    def backward(self, dz):
        assert self._cache is not None  # forward filled it
        _, W = self._cache  # the input x is in the cache, and left unused: the slip
        self.dW = np.broadcast_to(dz.sum(axis=0), W.shape).copy()  # should be x.T @ dz
        self.db = dz.sum(axis=0)
        return dz @ W.T


class NeuronWithoutX(MLP):
    """A single sigmoid neuron (``MLP([d, 1])``, sigmoid output, MSE) whose layer is a
    :class:`DenseWithoutInput`."""

    def __init__(self, n_inputs: int = 3, seed: int = 0) -> None:
        super().__init__([n_inputs, 1], "sigmoid", "sigmoid", "mse", seed=seed)
        self.layers = [DenseWithoutInput(layer.W, layer.b) for layer in self.layers]


class Network321WithoutW46(Network321):
    r"""Slip: :math:`\partial J/\partial w_{14} = \sum (h - y)\,\sigma'(q)\,\sigma'(p)\,x_1`,
    the factor :math:`w_{46}` dropped.

    The path from J down to :math:`w_{14}` crosses the edge 4→6, whose local derivative
    :math:`\partial q/\partial\sigma(p)` is :math:`w_{46}`; forgetting it breaks every
    parameter of unit 4 (w14, w24, w34, b4)."""

    def _hidden_deltas(self, d6, p, r):
        d4 = d6 * _sigmoid(p) * _sigmoid(-p)  # should be d6 * w46 * sigma'(p)
        d5 = d6 * self.params["w56"] * _sigmoid(r) * _sigmoid(-r)
        return d4, d5


class SigmoidDerivativeDropped(Sigmoid):
    r"""Slip: :math:`\delta = \partial J/\partial a`, the factor :math:`\sigma'(z)` of
    :math:`\delta = \partial J/\partial a \odot \sigma'(z)` never multiplied in.

    The backward returns its upstream gradient unchanged: every layer below the sigmoid
    gets a gradient as if the activation were the identity. Its forward and its
    ``derivative`` stay right; only the chain rule's product is missing."""

    def backward(self, z, grad_out):
        super().backward(z, grad_out)  # the shape checks
        return np.array(grad_out, copy=True)  # should be grad_out * sigma'(z)


class DenseXDelta(Dense):
    r"""Slip: the weight gradient as :math:`X\delta` instead of :math:`X^\top\delta`.

    With a batch as large as the layer's input (N = in) and a square layer the product
    is defined and has W's shape, so no shape check complains; only the values are wrong."""

    def backward(self, dz):
        assert self._cache is not None  # forward filled it
        x, W = self._cache
        self.dW = x @ dz  # should be x.T @ dz
        self.db = dz.sum(axis=0)
        return dz @ W.T


def _with_layers(net: MLP, layer_cls: type[Dense]) -> MLP:
    """``net`` with each Dense swapped for ``layer_cls`` holding the same live arrays."""
    net.layers = [layer_cls(layer.W, layer.b) for layer in net.layers]
    return net


# ======================================================================================
# data
# ======================================================================================
def _data(n: int, n_in: int, n_out: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, 55])
    return rng.standard_normal((n, n_in)), rng.standard_normal((n, n_out))


def _kink_data() -> tuple[MLP, MLP, np.ndarray, np.ndarray]:
    """A ReLU network whose first-layer pre-activations are exactly 0 for one sample: that
    sample's input row is 0 and the first-layer bias is 0, so :math:`z_1 = 0 W + 0 = 0`."""
    X, y = _data(6, 3, 2)
    X[0] = 0.0
    nets = []
    for act in (ReLUOneAtZero(), "relu"):
        net = MLP([3, 4, 2], activation=act, output_activation="identity", loss="mse", seed=2)
        net.params["b1"][...] = 0.0
        nets.append(net)
    return nets[0], nets[1], X, y


def _softmax_inputs() -> np.ndarray:
    return 2 * np.random.default_rng(3).standard_normal((6, 4))


# ======================================================================================
# the gallery
# ======================================================================================
@dataclass(frozen=True)
class Slip:
    """One wrong derivation: what was written, what is right, how the harness runs it, and
    the ``(oracle, parameter)`` pairs that must fail (derived from where the slip acts)."""

    id: str
    slip: str
    right: str
    harness: str
    expected: frozenset[tuple[str, str]]
    broken: Callable[[], Rows]
    correct: Callable[[], Rows]


def _net_rows(make: Callable[[], Any], X, y, case, **kwargs) -> Callable[[], Rows]:
    return lambda: compare_network(make(), X, y, case=case, **kwargs)


def _pairs(oracles: tuple[str, ...], params: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    return frozenset((o, p) for o in oracles for p in params)


def _gallery() -> list[Slip]:
    slips = []
    # every network oracle judges the gradient: autograd through the loss, the network's
    # vector-Jacobian product under a random upstream gradient, finite differences, Taylor
    both = ("torch", "vjp", "fd", "taylor")
    # the torch-free oracles of compare_activation/compare_loss differentiate the forward
    free = ("fd", "complex-step")

    X, y = _data(8, 4, 3)
    slips.append(Slip(
        "sigmoid-exponent-sign", "σ(z) = 1/(1 + e^{z})", "σ(z) = 1/(1 + e^{-z})",
        "compare_network (torch, fd) + compare_activation",
        # torch: the forward is wrong, so the loss and everything after it; fd: the backward
        # (still +σ') no longer matches the mirrored forward below the output layer
        _pairs(("torch",), ("loss", "W1", "b1", "W2", "b2", "forward"))
        | _pairs(("fd", "taylor"), ("W1", "b1")) | _pairs(free, ("derivative",))
        # without a loss, the wrong a1 shows only in W2 = a1^T g; the backward is torch's
        | {("vjp", "W2")},
        lambda: compare_network(MLP([4, 5, 3], FlippedExponentSigmoid(), "identity", "mse"),
                                X, y, case="gallery:sigmoid-exponent-sign")
        + compare_activation(FlippedExponentSigmoid(), np.linspace(-4, 4, 9),
                             case="gallery:sigmoid-exponent-sign"),
        lambda: compare_network(MLP([4, 5, 3], "sigmoid", "identity", "mse"), X, y,
                                case="gallery:sigmoid-exponent-sign")
        + compare_activation("sigmoid", np.linspace(-4, 4, 9),
                             case="gallery:sigmoid-exponent-sign")))

    Xn, yn = _data(8, 3, 1)
    yn = (yn > 0).astype(np.float64)
    slips.append(Slip(
        "neuron-dw-without-x", "∂ŷ/∂w = σ(z)(1 − σ(z))", "∂ŷ/∂w = σ(z)(1 − σ(z))·x",
        "compare_network (torch, fd) on one sigmoid neuron",
        _pairs(both, ("W1",)),  # the bias has no x to forget
        _net_rows(NeuronWithoutX, Xn, yn, "gallery:neuron-dw-without-x"),
        _net_rows(lambda: MLP([3, 1], "sigmoid", "sigmoid", "mse"), Xn, yn,
                  "gallery:neuron-dw-without-x")))

    X3, y3 = example_data(0)

    def net321(cls):
        net = cls(seed_network(0).params)
        return compare_network(net, X3, y3, case="gallery:w14-without-w46",
                               reference_net=Reference321(net))

    slips.append(Slip(
        "w14-without-w46", "∂J/∂w14 = Σ (h−y)·σ'(q)·σ'(p)·x1",
        "∂J/∂w14 = Σ (h−y)·σ'(q)·w46·σ'(p)·x1",
        "compare_network (torch, fd) on the 3-2-1 network",
        # every parameter of unit 4 (its torch twin has no loss-free vjp to compare)
        _pairs(("torch", "fd", "taylor"), ("w14", "w24", "w34", "b4")),
        lambda: net321(Network321WithoutW46), lambda: net321(Network321)))

    slips.append(Slip(
        "tanh-derivative-not-squared", "tanh'(z) = 1 − tanh(z)", "tanh'(z) = 1 − tanh²(z)",
        "compare_network (torch, fd) + compare_activation",
        # tanh only in the hidden layer: W2, b2 see no tanh' and stay right; the activation's
        # own f'' is right (torch agrees) but no longer the derivative of its f'
        _pairs(both, ("W1", "b1")) | _pairs(("torch",), ("derivative", "backward"))
        | _pairs(free, ("derivative", "second_derivative")),
        lambda: compare_network(MLP([4, 5, 3], TanhNotSquared(), "identity", "mse"), X, y,
                                case="gallery:tanh-derivative-not-squared")
        + compare_activation(TanhNotSquared(), np.linspace(-3, 3, 13),
                             case="gallery:tanh-derivative-not-squared"),
        lambda: compare_network(MLP([4, 5, 3], "tanh", "identity", "mse"), X, y,
                                case="gallery:tanh-derivative-not-squared")
        + compare_activation("tanh", np.linspace(-3, 3, 13),
                             case="gallery:tanh-derivative-not-squared")))

    def softmax_rows(act) -> Rows:
        net = MLP([4, 5, 3], "tanh", output_activation=act, loss="mse")
        return (compare_activation(act, _softmax_inputs(),
                                   case="gallery:softmax-backward-elementwise")
                + compare_network(net, X, y, case="gallery:softmax-backward-elementwise"))

    slips.append(Slip(
        "sigmoid-derivative-dropped", "δ1 = ∂J/∂a1", "δ1 = ∂J/∂a1 ⊙ σ'(z1)",
        "compare_network (torch, vjp, fd, taylor) + compare_activation",
        # the sigmoid is the hidden layer's: W2, b2 see no sigma' and stay right; the
        # activation's own backward is caught by torch (the derivative itself is right)
        _pairs(both, ("W1", "b1")) | {("torch", "backward")},
        lambda: compare_network(MLP([4, 5, 3], SigmoidDerivativeDropped(), "identity", "mse"),
                                X, y, case="gallery:sigmoid-derivative-dropped")
        + compare_activation(SigmoidDerivativeDropped(), np.linspace(-4, 4, 9),
                             case="gallery:sigmoid-derivative-dropped"),
        lambda: compare_network(MLP([4, 5, 3], "sigmoid", "identity", "mse"), X, y,
                                case="gallery:sigmoid-derivative-dropped")
        + compare_activation("sigmoid", np.linspace(-4, 4, 9),
                             case="gallery:sigmoid-derivative-dropped")))

    slips.append(Slip(
        "softmax-backward-elementwise", "∂L/∂z = g ⊙ s(1 − s)", "∂L/∂z = s ⊙ (g − Σ g·s)",
        "compare_activation + compare_network (torch, fd, taylor)",
        # the forward and the Jacobian are right; only the product with g is not
        _pairs(("torch",), ("backward",)) | _pairs(both, ("W1", "b1", "W2", "b2")),
        lambda: softmax_rows(ElementwiseSoftmax()), lambda: softmax_rows(Softmax())))

    pred, target = np.random.default_rng(4).standard_normal((2, 6, 3))
    slips.append(Slip(
        "mean-forgotten", "∂L/∂ŷ = 2(ŷ − y)", "∂L/∂ŷ = 2(ŷ − y)/N",
        "compare_network (torch, fd) + compare_loss",
        # the loss value is right; every gradient is N times too large (the loss-free
        # vector-Jacobian product stays right)
        _pairs(("torch", "fd", "taylor"), ("W1", "b1", "W2", "b2"))
        | _pairs(("torch", *free), ("gradient",)),
        lambda: compare_network(MLP([4, 5, 3], "tanh", "identity", MSEWithoutMean()), X, y,
                                case="gallery:mean-forgotten")
        + compare_loss(MSEWithoutMean(), pred, target, case="gallery:mean-forgotten"),
        lambda: compare_network(MLP([4, 5, 3], "tanh", "identity", "mse"), X, y,
                                case="gallery:mean-forgotten")
        + compare_loss("mse", pred, target, case="gallery:mean-forgotten")))

    z_kink = np.array([-1.0, -1e-3, 0.0, 1e-3, 1.0])

    def kink_rows(which: int) -> Rows:
        broken_net, correct_net, Xk, yk = _kink_data()
        net = (broken_net, correct_net)[which]
        act = net.activation
        # finite differences are undefined at the kink: torch is the oracle here
        return (compare_network(net, Xk, yk, case="gallery:relu-derivative-at-zero",
                                oracles=["torch"])
                + compare_activation(act, z_kink, case="gallery:relu-derivative-at-zero"))

    slips.append(Slip(
        "relu-derivative-at-zero", "ReLU'(0) = 1", "ReLU'(0) = 0, as torch",
        "compare_network (torch) at z1 = 0 exactly + compare_activation at 0",
        # the zero input row adds nothing to X^T delta, so only b1 sees the kink
        _pairs(("torch",), ("b1", "derivative", "backward")),
        lambda: kink_rows(0), lambda: kink_rows(1)))

    Xs, ys = _data(4, 4, 4)  # batch 4 = fan-in 4: X is square

    def square(layer_cls) -> MLP:
        return _with_layers(MLP([4, 4, 4], "tanh", "identity", "mse"), layer_cls)

    slips.append(Slip(
        "x-delta-instead-of-xT-delta", "∂J/∂W = X·δ", "∂J/∂W = Xᵀ·δ",
        "compare_network (torch, fd) on square layers with batch = fan-in",
        _pairs(both, ("W1", "W2")),  # biases and the backward signal are right
        _net_rows(lambda: square(DenseXDelta), Xs, ys, "gallery:x-delta-instead-of-xT-delta"),
        _net_rows(lambda: square(Dense), Xs, ys, "gallery:x-delta-instead-of-xT-delta")))
    return slips


GALLERY: list[Slip] = _gallery()


def _layer_slip(control: LayerControl) -> Slip:
    case = control.case
    harness = ("compare_sequential (torch, vjp, fd, taylor)" if isinstance(case, NetworkCase)
               else f"compare_layer ({', '.join(case.oracles)})")
    right = type.mro(control.broken)[1].__name__
    return Slip(control.id, control.slip, f"{right}, the correct layer, on {case.id}",
                harness, control.fails, lambda: run_control(control, broken=True),
                lambda: run_control(control, broken=False))


def layer_slips(infos: list | None = None) -> list[Slip]:
    """The layers' negative controls as slips, from the layer records (``infos``; by
    default :data:`comparisons.cases.catalog.LAYER_INFOS`, read now)."""
    infos = catalog.LAYER_INFOS if infos is None else infos
    return [_layer_slip(c) for info in infos for c in info.controls]


def failing(rows: Rows) -> set[tuple[str, str]]:
    """The ``(oracle, parameter)`` pairs of the rows that failed."""
    return {(r["oracle"], r["parameter"]) for r in rows if r.get("passed") is False}


def gallery_table(slips: list[Slip] | None = None) -> pd.DataFrame:
    """One row per slip: what was written, where it shows, which oracles catch it, the worst
    error, and whether the correct counterpart (the control) passes."""
    rows = []
    for s in GALLERY if slips is None else slips:
        broken = s.broken()
        bad = [r for r in broken if r.get("passed") is False]
        where = next((r["first_divergence"] for r in bad if r.get("first_divergence")), "")
        caught = sorted({r["oracle"] for r in bad})
        named = sorted({f"{r['parameter']}: {r['note'].split(SLIP_PREFIX, 1)[1].strip()}"
                        for r in bad if SLIP_PREFIX in str(r.get("note") or "")})
        rows.append({"slip": s.id, "written": s.slip, "right": s.right,
                     "where it shows": where or ", ".join(sorted({r["parameter"] for r in bad})),
                     "caught by": ", ".join(caught) if caught else "NOT CAUGHT",
                     "failing": ", ".join(f"{o}:{p}" for o, p in sorted(failing(broken))),
                     "max abs err": max((r["max_abs_err"] for r in bad), default=0.0),
                     "likely slip": "; ".join(named),
                     "as expected": failing(broken) == s.expected,
                     "control passes": not failures(s.correct())})
    return pd.DataFrame(rows)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m comparisons.teaching.gallery", formatter_class=HelpFormatter,
        description="""\
The gallery of wrong derivations, each caught by the harness.

Each slip is a plausible derivation with one mistake in it (tanh'(z) = 1 - tanh(z), the
softmax backward taken as elementwise, the mean forgotten in the gradient, ...), run
through the harness - torch's autograd, torch's vector-Jacobian product, central finite
differences, the Taylor test, the complex step - next to its correct counterpart, the
control. For each slip this prints what was written and what is right, the oracles that
catch it, where it first shows and the worst error, and whether the control passes.""",
        epilog=exit_codes(passed="every slip caught exactly where expected, every control "
                                 "passes",
                          failed="a slip missed, or caught elsewhere than expected, or a "
                                 "control failing",
                          bad="an unknown flag, an --only that matches no slip"))
    p.add_argument("--only", default="", metavar="IDS",
                   help="run only these slips: exact ids or shell-style patterns, "
                        "comma-separated (see --list)")
    p.add_argument("--list", action="store_true", help="print the slips' ids and exit")
    p.add_argument("--layers", action="store_true",
                   help="also the layers' negative controls (a broken subclass of a layer, "
                        "from the layer records), after the gallery's own slips")
    p.add_argument("--failing", action="store_true",
                   help="also print every (oracle, parameter) pair that fails")
    return p


def main(argv: list[str] | None = None) -> int:
    """Print the gallery; exit status 1 if a slip is missed or a control fails."""
    parser = _parser()
    args = parser.parse_args(argv)
    pool = GALLERY + (layer_slips() if args.layers else [])
    ids = [s.id for s in pool]
    picked = set(select_ids(ids, args.only))
    chosen = [s for s in pool if s.id in picked]
    problem = selection_error(ids, args.only, "slip")
    if problem:
        fail(parser.prog, f"{problem}; slips: {', '.join(ids)}")
    if args.list:
        print("\n".join(s.id for s in chosen))
        return 0
    df = gallery_table(chosen)
    for r in df.to_dict("records"):
        verdict = "caught as expected" if r["as expected"] else "NOT AS EXPECTED"
        control = "control passes" if r["control passes"] else "CONTROL FAILS"
        print(f"{r['slip']}: {verdict}; {control}")
        print(f"    written  {r['written']}")
        print(f"    right    {r['right']}")
        print(f"    caught by {r['caught by']}; first shows at {r['where it shows']}; max abs "
              f"err {r['max abs err']:.2e}")
        if r["likely slip"]:
            print(f"    likely slip  {r['likely slip'][:300]}")
        if args.failing:
            print(f"    failing  {r['failing']}")
    ok = bool(df["as expected"].all() and df["control passes"].all())
    n, caught, controls = len(df), int(df["as expected"].sum()), int(df["control passes"].sum())
    print(f"\n{n} slip{'s' * (n != 1)}, {caught} caught exactly where expected, {controls} "
          f"control{'s' * (controls != 1)} pass{'es' * (controls == 1)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
