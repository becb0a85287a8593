"""The lessons of :mod:`manual.lessons` against torch: every number a lesson reports that
torch can compute — derivatives by autograd, training runs by ``torch.optim.SGD`` on the
torch twin, per-layer gradient norms — computed by torch and compared under the tolerance
policy (:func:`comparisons.core.tolerances.tolerance_for`, float64 against torch).

    python -m comparisons.teaching.lessons

prints one row per compared quantity and exits with status 1 if any differs. The torch
twins here are built from torch's built-ins (``torch.sigmoid``, ``F.mse_loss``,
``reference.MLP``) and autograd; none re-types a derivative from ``manual``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

import reference
from comparisons.run.bridge import MLPTwin
from comparisons.run.networks import compare_network
from comparisons.teaching.rows import COLUMNS, TOL, lesson_row
from manual.lessons import (
    constant_derivative,
    derivative_as_limit,
    gradient_descent_1d,
    network_321,
    single_neuron,
    targets_and_scaling,
    vanishing_gradients,
    why_nonlinear,
)
from manual.lessons.network_321 import Network321

__all__ = ["COLUMNS", "LESSON_CHECKS", "Reference321", "lesson_rows", "lessons_vs_torch",
           "main", "torch_derivative", "torch_gd_1d", "torch_layer_norms",
           "torch_neuron_history", "torch_train_mlp"]



# --------------------------------------------------------------------------------------
# torch twins
# --------------------------------------------------------------------------------------
def torch_derivative(name: str, x: float) -> float:
    """f'(x) of torch's own activation ``name`` (``reference.activations``), by autograd."""
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(reference.activations.get(name)(t), t)
    return float(g)


def torch_gd_1d(lr: float, steps: int = gradient_descent_1d.STEPS,
                x0: float = gradient_descent_1d.START) -> np.ndarray:
    """The iterates of ``torch.optim.SGD(lr=lr)`` on y = x² − 4x + 6 from ``x0``."""
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=lr)
    xs = [x0]
    for _ in range(steps):
        opt.zero_grad()
        (x * x - 4 * x + 6).backward()
        opt.step()
        xs.append(float(x.detach()))
    return np.array(xs)


def torch_neuron_history(w0: np.ndarray, b0: float, X: np.ndarray, y: np.ndarray, lr: float,
                         steps: int) -> pd.DataFrame:
    r"""The sigmoid neuron of lesson 3 in torch: :math:`C = \tfrac12` ``F.mse_loss(
    torch.sigmoid(X @ w + b), y)``, trained by ``torch.optim.SGD``. One row per step (before
    the update; the last row is the final state): w..., b, C, dC/dw..., dC/db."""
    w = torch.tensor(np.asarray(w0, dtype=np.float64), requires_grad=True)
    b = torch.tensor(float(b0), dtype=torch.float64, requires_grad=True)
    Xt, yt = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    opt = torch.optim.SGD([w, b], lr=lr)
    names = ["w"] if X.shape[1] == 1 else [f"w{i + 1}" for i in range(X.shape[1])]
    rows = []
    for k in range(steps + 1):
        opt.zero_grad()
        C = 0.5 * F.mse_loss(torch.sigmoid(Xt @ w + b), yt)
        C.backward()
        assert w.grad is not None and b.grad is not None  # C depends on both
        grads = {f"dC/d{n}": v for n, v in zip(names, w.grad.tolist())}
        rows.append({"step": k, **dict(zip(names, w.detach().tolist())), "b": float(b.detach()),
                     "C": float(C.detach()), **grads, "dC/db": float(b.grad)})
        if k < steps:
            opt.step()
    return pd.DataFrame(rows)


def torch_train_mlp(net: Any, X: np.ndarray, y: np.ndarray, lr: float, steps: int
                    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Train the torch twin of ``net`` (``MLPTwin.from_manual``, so build it before
    training ``net``) with ``torch.optim.SGD``: the loss before each step and after the
    last, and the final parameters in the manual layout."""
    tnet = MLPTwin.from_manual(net)
    opt = torch.optim.SGD(tnet.parameters(), lr=lr)
    Xt, yt = torch.as_tensor(X, dtype=tnet.dtype), tnet.target_tensor(y)
    losses = np.empty(steps + 1)
    for k in range(steps):
        opt.zero_grad()
        J = tnet.loss_fn(tnet(Xt), yt)
        J.backward()
        losses[k] = float(J.detach())
        opt.step()
    with torch.no_grad():
        losses[steps] = float(tnet.loss_fn(tnet(Xt), yt))
    return losses, tnet.manual_params()


def torch_layer_norms(net: Any, X: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Per layer: ``|dJ/dW_l|`` and ``|dJ/dz_l|`` from the torch twin's autograd."""
    tnet = MLPTwin.from_manual(net)
    _, grads = tnet.gradients(X, y)
    n = len(tnet.linears)
    return pd.DataFrame({"layer": np.arange(1, n + 1),
                         "|dJ/dW|": [float(np.linalg.norm(grads[f"W{l}"]))
                                     for l in range(1, n + 1)],
                         "|dJ/dz|": [float(np.linalg.norm(tnet.intermediates[f"dJ/dz{l}"]))
                                     for l in range(1, n + 1)]})


class Reference321:
    """The torch twin of :class:`~manual.lessons.network_321.Network321`: ``reference.MLP``
    holding the named parameters under :data:`~manual.lessons.network_321.LAYOUT`, its
    autograd gradients returned under the names ``w14 ... b6``. Pass it to
    :func:`comparisons.compare_network` as ``reference_net``."""

    def __init__(self, net: Network321) -> None:
        self.tnet = MLPTwin.from_manual(net.to_mlp())
        self.intermediates: dict[str, np.ndarray] = {}

    def gradients(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        J, grads = self.tnet.gradients(X, np.asarray(y).reshape(-1, 1))
        self.intermediates = self.tnet.intermediates
        return J, network_321.from_layers(grads)


# --------------------------------------------------------------------------------------
# the comparison table
# --------------------------------------------------------------------------------------
_row = lesson_row


def _summarise(lesson: str, quantity: str, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold compare_network rows into one row per oracle (worst error, all passed)."""
    out = []
    df = pd.DataFrame(list(rows))
    for oracle, g in df.groupby("oracle", sort=False):
        bad = g.loc[~g["passed"].astype(bool), "parameter"].tolist()
        ratio = pd.to_numeric(g["err_over_tol"], errors="coerce")
        worst = g.loc[ratio.idxmax()] if ratio.notna().any() else g.iloc[0]
        rel = pd.to_numeric(g["max_rel_err"], errors="coerce")
        out.append({"lesson": lesson, "quantity": quantity, "oracle": oracle,
                    "size": int(g["size"].sum()), "err_over_tol": worst["err_over_tol"],
                    "worst_abs_err": worst["worst_abs_err"],
                    "worst_rel_err": worst["worst_rel_err"],
                    "max_abs_err": float(g["max_abs_err"].max()),
                    "max_rel_err": float(rel.max()) if rel.notna().any() else float("nan"),
                    "rtol": float(g["rtol"].max()), "atol": float(g["atol"].max()),
                    "passed": not bad, "note": f"failing: {', '.join(bad)}" if bad else ""})
    return out


def _trajectory_columns(h: pd.DataFrame) -> list[str]:
    return [c for c in h.columns if c not in ("step", "accuracy")]


def _derivative_as_limit() -> list[dict[str, Any]]:
    """Lesson 1: the analytic derivatives the finite differences are measured against."""
    name = "derivative_as_limit"
    rows = []
    for act in ("sigmoid", "tanh"):
        _, x0, exact = derivative_as_limit.derivative_problems(np.float64)[act]
        rows.append(_row(name, f"{act}'({float(x0)}) (analytic)", exact,
                         torch_derivative(act, float(x0))))
    net, X, y = derivative_as_limit.example_network(np.float64)
    _, grads_t = MLPTwin.from_manual(net).gradients(X, y)
    exact = derivative_as_limit.derivative_problems(np.float64)["network loss dJ/dW1[0,0]"][2]
    rows.append(_row(name, "network dJ/dW1[0,0] (analytic)", exact, grads_t["W1"][0, 0]))
    return rows


def _gradient_descent_1d() -> list[dict[str, Any]]:
    """Lesson 2: the iterates of gradient descent against torch.optim.SGD."""
    name = "gradient_descent_1d"
    return [_row(name, f"x_k, lr = {lr}, {gradient_descent_1d.STEPS} steps",
                 gradient_descent_1d.trajectory(lr)["x"], torch_gd_1d(lr))
            for lr in gradient_descent_1d.LEARNING_RATES]


def _single_neuron() -> list[dict[str, Any]]:
    """Lesson 3: the neuron's first gradient and its whole training run."""
    name = "single_neuron"
    X, y = single_neuron.dataset()
    h = single_neuron.history()
    t = torch_neuron_history(np.zeros(1), 0.0, X, y, single_neuron.LR, single_neuron.STEPS)
    cols = _trajectory_columns(t)
    return [_row(name, "dC/dw, dC/db at the start", h.loc[0, ["dC/dw", "dC/db"]],
                 t.loc[0, ["dC/dw", "dC/db"]]),
            _row(name, f"w, b, C and gradient, {single_neuron.STEPS} steps of SGD",
                 h[cols], t[cols])]


def _network_321() -> list[dict[str, Any]]:
    """Lesson 4: J and the eleven named gradients, against torch and the torch-free oracles."""
    net = network_321.seed_network(0)
    X, y = network_321.example_data(0)
    return _summarise("network_321", "J and dJ/d(w14 ... b6)",
                      compare_network(net, X, y, case="network_321",
                                      reference_net=Reference321(net)))


def _why_nonlinear() -> list[dict[str, Any]]:
    """Lesson 5: the collapsed affine map, and the XOR training runs."""
    name = "why_nonlinear"
    rows = [_collapse_row(name)]
    X, y = why_nonlinear.xor_data()
    for act, (lr, steps) in why_nonlinear.RUNS.items():
        losses_t, params_t = torch_train_mlp(why_nonlinear.xor_network(act), X, y, lr, steps)
        net = why_nonlinear.xor_network(act)
        losses_m = _train(net, X, y, lr, steps)
        rows.append(_row(name, f"XOR MSE per step, {act}, {steps} steps", losses_m, losses_t))
        rows.append(_row(name, f"XOR final parameters, {act}", _flat(net.params),
                         _flat(params_t)))
    return rows


def _constant_derivative() -> list[dict[str, Any]]:
    """Lesson 6: the hidden units' learning signals, and the training runs."""
    name = "constant_derivative"
    rows = []
    X, y = constant_derivative.dataset()
    for act in constant_derivative.ACTIVATIONS:
        net = constant_derivative.network(act)
        tnet = MLPTwin.from_manual(net)
        tnet.gradients(X, y)
        net.gradients(X, y)
        rows.append(_row(name, f"dJ/dz1 at the start, {act}", net.intermediates["dJ/dz1"],
                         tnet.intermediates["dJ/dz1"]))
        losses_t, _ = torch_train_mlp(constant_derivative.network(act), X, y,
                                      constant_derivative.LR, constant_derivative.STEPS)
        losses_m = _train(constant_derivative.network(act), X, y, constant_derivative.LR,
                          constant_derivative.STEPS)
        rows.append(_row(name, f"MSE per step, {act}, {constant_derivative.STEPS} steps",
                         losses_m, losses_t))
    return rows


def _vanishing_gradients() -> list[dict[str, Any]]:
    """Lesson 7: the per-layer gradient norms, every init and activation."""
    name = "vanishing_gradients"
    rows = []
    X, y = vanishing_gradients.data()
    for init in vanishing_gradients.INITS:
        for act in vanishing_gradients.ACTIVATIONS:
            m = vanishing_gradients.layer_norms(vanishing_gradients.network(act, init), X, y)
            t = torch_layer_norms(vanishing_gradients.network(act, init), X, y)
            rows.append(_row(name, f"|dJ/dW_l|, |dJ/dz_l| per layer, {init}/{act}",
                             m[["|dJ/dW|", "|dJ/dz|"]], t[["|dJ/dW|", "|dJ/dz|"]]))
    return rows


def _targets_and_scaling() -> list[dict[str, Any]]:
    """Lesson 8: the neuron's runs for each target pair and each input scaling."""
    name = "targets_and_scaling"
    rows = []
    for targets, h in targets_and_scaling.target_runs().items():
        X, y = targets_and_scaling.targets_data(targets)
        t = torch_neuron_history(np.zeros(1), 0.0, X, y, targets_and_scaling.TARGETS_LR,
                                 targets_and_scaling.TARGETS_STEPS)
        cols = _trajectory_columns(t)
        rows.append(_row(name, f"targets {targets}: w, b, C and gradient, "
                         f"{targets_and_scaling.TARGETS_STEPS} steps", h[cols], t[cols]))
    for inputs, (D, y, h) in targets_and_scaling.scaling_runs().items():
        t = torch_neuron_history(targets_and_scaling.initial_weights(), 0.0, D, y,
                                 targets_and_scaling.SCALING_LR,
                                 targets_and_scaling.SCALING_STEPS)
        cols = _trajectory_columns(t)
        rows.append(_row(name, f"{inputs} inputs: w, b, C and gradient, "
                         f"{targets_and_scaling.SCALING_STEPS} steps", h[cols], t[cols]))
    return rows


#: one check per lesson: lesson name -> the function making its rows against torch
LESSON_CHECKS: dict[str, Callable[[], list[dict[str, Any]]]] = {
    "derivative_as_limit": _derivative_as_limit,
    "gradient_descent_1d": _gradient_descent_1d,
    "single_neuron": _single_neuron,
    "network_321": _network_321,
    "why_nonlinear": _why_nonlinear,
    "constant_derivative": _constant_derivative,
    "vanishing_gradients": _vanishing_gradients,
    "targets_and_scaling": _targets_and_scaling,
    # the layer lessons' checks live in comparisons.teaching.layer_lessons (imported when run)
    "batchnorm_backward": lambda: _layer_lesson("batchnorm_backward"),
    "conv_backward": lambda: _layer_lesson("conv_backward"),
    "gradients_through_time": lambda: _gradients_through_time(),
}


def _gradients_through_time() -> list[dict[str, Any]]:
    """The recurrent lesson's comparisons (self-contained, in
    :mod:`comparisons.teaching.gradients_through_time`)."""
    from comparisons.teaching.gradients_through_time import lesson_rows as bptt_rows

    return bptt_rows()


def _layer_lesson(name: str) -> list[dict[str, Any]]:
    """The comparisons of a layer lesson (:mod:`comparisons.teaching.layer_lessons`)."""
    from comparisons.teaching.layer_lessons import LESSON_ROWS

    return LESSON_ROWS[name](name)


def lesson_rows(name: str) -> list[dict[str, Any]]:
    """The comparisons of one lesson (a name of :data:`manual.lessons.LESSONS`), made by its
    check in :data:`LESSON_CHECKS`."""
    if name not in LESSON_CHECKS:
        from manual.lessons import LESSONS

        raise ValueError(f"unknown lesson {name!r}; valid: {', '.join(LESSONS)}")
    return LESSON_CHECKS[name]()


def _train(net: Any, X: np.ndarray, y: np.ndarray, lr: float, steps: int) -> np.ndarray:
    from manual.lessons._common import train

    return train(net, X, y, lr, steps)


def _flat(params: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([np.ravel(params[k]) for k in sorted(params)])


def _collapse_row(lesson: str) -> dict[str, Any]:
    """torch's linear network (``reference.MLP`` with identity activations) against the single
    affine map ``x W + b`` that lesson 5 composes from the manual parameters."""
    from manual import MLP

    rng = np.random.default_rng(5)
    net = MLP([3, 8, 8, 8, 2], activation="identity", output_activation="identity", seed=3)
    X = rng.standard_normal((10, 3))
    W, b = np.eye(3), np.zeros(3)
    for l in range(1, 5):
        W, b = W @ net.params[f"W{l}"], b @ net.params[f"W{l}"] + net.params[f"b{l}"]
    with torch.no_grad():
        out_t = MLPTwin.from_manual(net)(torch.as_tensor(X)).numpy()
    return _row(lesson, "x W + b (collapsed) against torch's 4-layer linear network",
                X @ W + b, out_t)


def lessons_vs_torch(names: Iterable[str] | None = None) -> pd.DataFrame:
    """Every lesson's comparisons with torch (and finite differences for the 3-2-1 network)."""
    from manual.lessons import LESSONS

    rows = [row for name in (names or LESSONS) for row in lesson_rows(name)]
    return pd.DataFrame(rows, columns=COLUMNS)


def main(argv: list[str] | None = None) -> int:
    """Print the lessons-against-torch table; exit status 1 if any comparison fails."""
    import argparse

    from manual.cli import (
        HelpFormatter,
        exit_codes,
        fail,
        select_ids,
        selection_error,
    )
    from manual.lessons import LESSONS

    p = argparse.ArgumentParser(
        prog="python -m comparisons.teaching.lessons", formatter_class=HelpFormatter,
        description="The lessons' numbers against torch: every number a lesson reports that "
                    "torch can\ncompute (derivatives by autograd, training runs by "
                    "torch.optim.SGD, gradient norms),\ncompared in float64 under the "
                    "tolerance policy. One line per compared quantity:\nerror/tol is the "
                    "worst element's error over its tolerance (<= 1 passes).",
        epilog=exit_codes(bad="an unknown flag, an --only that matches no lesson"))
    p.add_argument("--only", default="", metavar="NAMES",
                   help="lessons: exact names or shell-style patterns, comma-separated; "
                        "empty: all")
    args = p.parse_args(argv)
    problem = selection_error(LESSONS, args.only, "lesson")
    if problem:
        fail(p.prog, f"{problem}; lessons: {', '.join(LESSONS)}")
    df = lessons_vs_torch(select_ids(LESSONS, args.only))
    for lesson, g in df.groupby("lesson", sort=False):
        print(f"{lesson}:")
        for r in g.to_dict("records"):
            flag = "ok  " if r["passed"] else "FAIL"
            ratio = (f"{r['err_over_tol']:8.2e}" if r["err_over_tol"] == r["err_over_tol"]
                     else "n/a     ")  # Taylor rows: the slope decides
            print(f"  {flag} error/tol {ratio}  max abs err "
                  f"{r['max_abs_err']:8.2e}  [{r['oracle']}] {r['quantity']}"
                  + (f"  ({r['note']})" if r["note"] else ""))
    failed = int((~df["passed"].astype(bool)).sum())
    print(f"\n{len(df)} comparisons, {len(df) - failed} passed, {failed} failed "
          f"(tolerance: float64 against torch, rtol {TOL.rtol:g}, atol {TOL.atol:g})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
