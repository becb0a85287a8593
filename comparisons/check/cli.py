r"""``backprop-compare check path/to/student.py``: check a course's layer file against torch.

    backprop-compare check STUDENT.py [--out FOLDER] [--format gradescope] [--time-limit S]
                                      [--map STUDENT_NAME=SPEC ...]

Imports the file (a syntax error or an exception at import time is reported, not raised),
finds the functions named as in CS231n's assignments, calls each on inputs it makes
itself (float64, seeded) and checks it against torch's own built-ins (autograd for the
gradients, under a random upstream gradient) and against central finite differences.
Prints one line per function, writes ``check.csv`` (the report's columns) into ``--out``
(default: the current folder) and, with ``--format gradescope``, Gradescope's
``results.json`` there too (one test per function: ``name``, ``score``, ``max_score``,
``status``, ``output``). Exits with 0 when every function found passes, 1 when one
fails, and 2 on a usage error or when something to check is missing: a file that does not
exist, a forward without its backward, a function ``--map`` names that the file lacks, a
file that defines none of the functions. Each of these is a failing row too, in the console,
in ``check.csv`` and in ``results.json`` (score 0), never a pass.

``--map STUDENT_NAME=SPEC`` (repeatable) checks the student's function ``STUDENT_NAME`` as
the function ``SPEC`` named below (or as the forward of the test ``SPEC``): a course whose
helpers are ``sigmoid(Z) -> (A, cache)`` and ``relu(Z)`` is checked with ``--map
sigmoid=sigmoid_forward --map relu=relu_forward`` (their ``sigmoid_backward`` and
``relu_backward`` are found by name).

The signatures expected are CS231n's: ``name_forward(*inputs) -> (out, cache)`` and
``name_backward(dout, cache)`` returning the gradient of each float input, in order; the
losses return ``(loss, dx)``. Each is checked against the torch built-in named here:

- ``affine_forward(x, w, b)``, x (N, d1, ..., dk), w (D, M): backward ``dx, dw, db``;
  ``F.linear(x.reshape(N, -1), w.T, b)``.
- ``relu_forward(x)``, ``sigmoid_forward(x)``, ``tanh_forward(x)``: backward ``dx``;
  ``torch.relu``, ``torch.sigmoid``, ``torch.tanh``.
- ``affine_relu_forward(x, w, b)``: backward ``dx, dw, db``; ``torch.relu(F.linear(...))``.
- ``linear_forward(A, W, b)`` with examples as columns (Andrew Ng's course: A (n_prev, m),
  W (n, n_prev), b (n, 1)): backward ``linear_backward(dZ, cache) -> dA_prev, dW, db``
  with the course's 1/m on dW and db (not on dA_prev); ``W @ A + b`` with that backward,
  against torch only (no vector-Jacobian product, so no finite differences).
- ``softmax_loss(x, y) -> (loss, dx)``: ``F.cross_entropy(x, y)``.
- ``svm_loss(x, y) -> (loss, dx)``: ``C * F.multi_margin_loss(x, y)`` (CS231n sums over
  the C classes where torch averages).
- ``batchnorm_forward(x, gamma, beta, bn_param)`` (``bn_param = {"mode": "train", "eps":
  1e-5, "momentum": 0.9}``), with ``batchnorm_backward`` and ``batchnorm_backward_alt``:
  ``dx, dgamma, dbeta``; ``F.batch_norm(x, None, None, gamma, beta, training=True)``.
  Running averages are not compared (CS231n's momentum is 1 - torch's, and torch keeps
  an unbiased running variance). ``spatial_batchnorm_forward`` alike on (N, C, H, W).
- ``layernorm_forward(x, gamma, beta, ln_param)`` (``{"eps": 1e-5}``): ``dx, dgamma,
  dbeta``; ``F.layer_norm(x, (D,), gamma, beta)``.
- ``dropout_forward(x, dropout_param)``: backward ``dx``. Test mode against
  ``F.dropout(x, p, training=False)``; train mode with ``dropout_param["seed"]`` fixed,
  by finite differences only (torch cannot replay the student's mask), after checking
  that the same seed gives the same output.
- ``conv_forward_naive(x, w, b, conv_param)`` (``{"stride": 2, "pad": 1}``): ``dx, dw,
  db``; ``F.conv2d(x, w, b, stride, padding)``.
- ``max_pool_forward_naive(x, pool_param)`` (``pool_height``, ``pool_width``,
  ``stride``): ``dx``; ``F.max_pool2d``.
- ``rnn_step_forward(x, prev_h, Wx, Wh, b) -> (next_h, cache)``: ``dx, dprev_h, dWx,
  dWh, db``; ``torch.rnn_tanh_cell(x, prev_h, Wx.T, Wh.T, b)``.
- ``rnn_forward(x, h0, Wx, Wh, b) -> (h, cache)``, x (N, T, D): ``dx, dh0, dWx, dWh,
  db``; ``nn.RNN(batch_first=True)`` holding those weights.
- ``lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b) -> (next_h, next_c, cache)``,
  ``lstm_step_backward(dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, dWh,
  db)``; ``torch.lstm_cell``, CS231n's gate blocks i, f, o, g reordered to torch's
  i, f, g, o.
- ``word_embedding_forward(x, W)``, x integer (N, T): backward ``dW``; ``F.embedding``.
- ``temporal_affine_forward(x, w, b)``: ``dx, dw, db``; ``F.linear(x, w.T, b)``.
- ``temporal_softmax_loss(x, y, mask) -> (loss, dx)``: ``F.cross_entropy`` over the
  unmasked steps (``ignore_index``), summed and divided by N.

Each ``*_forward`` found is checked with its ``*_backward`` (a missing backward fails,
and the forward is still checked against torch alone; ``batchnorm_backward_alt`` is
checked only where the file defines it); a function whose signature does not take these
arguments is reported as failing, and the others are still checked.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from comparisons.check.checker import _alarm, _Clock, _TimeUp, check_gradients, check_layer
from comparisons.core.compare import SLIP_PREFIX, describe
from comparisons.run.rows import ROW_COLUMNS

#: check.csv's columns: the report's, less ``passed`` (``status`` says it) and those that
#: describe a network case (activation, loss, architecture), which a layer file has not
CHECK_COLUMNS = [c for c in ROW_COLUMNS if c not in (
    "passed", "activation", "output_activation", "loss", "arch", "sizes", "first_divergence")]

__all__ = ["SPECS", "Spec", "main"]


@dataclass(frozen=True)
class Spec:
    """One function (pair) the command looks for: the names, what it is called with, and
    torch's built-in for the same inputs."""

    name: str  # the test's name
    forward: str  # the function (a loss for kind "loss")
    backward: str | None
    args: tuple[str, ...]  # the names of its arguments, as the assignment has them
    make: Callable[[np.random.Generator], tuple]  # the inputs, in that order
    reference: Callable[..., Any] | None  # torch, of the same inputs
    kind: str = "layer"  # or "loss"
    note: str = ""
    optional: bool = False  # checked only where the file defines the backward
    fd: bool = True  # False: the backward is no vector-Jacobian product of the forward


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal values kept at least 0.1 from 0, the kink of ReLU."""
    x = rng.standard_normal(shape)
    return np.where(x >= 0, x + 0.1, x - 0.1)


def _distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values at least 0.04 apart: no ties for max pooling, even after a finite-difference
    step."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * (4.0 / n) - 2.0).reshape(shape)


def _svm_inputs(rng: np.random.Generator) -> tuple:
    x = rng.standard_normal((4, 5))
    y = rng.integers(0, 5, size=4)
    # keep every margin x_j - x_y + 1 at least 0.05 from 0, the hinge's kink
    margin = x - x[np.arange(4), y][:, None] + 1
    x = np.where(np.abs(margin) < 0.05, x + 0.1, x)
    return x, y


def _lstm_torch_order(w: torch.Tensor) -> torch.Tensor:
    """CS231n's gate blocks i, f, o, g (columns) as torch's i, f, g, o (rows, transposed)."""
    i, f, o, g = w.chunk(4, dim=-1)
    return torch.cat([i, f, g, o], dim=-1).T


def _rnn_reference(x, h0, Wx, Wh, b):
    H = h0.shape[1]
    rnn = torch.nn.RNN(x.shape[2], H, batch_first=True, dtype=x.dtype)
    params = {"weight_ih_l0": Wx.T, "weight_hh_l0": Wh.T, "bias_ih_l0": b,
              "bias_hh_l0": torch.zeros(H, dtype=x.dtype)}
    return torch.func.functional_call(rnn, params, (x, h0[None]))[0]


def _lstm_step_reference(x, prev_h, prev_c, Wx, Wh, b):
    return torch.lstm_cell(x, (prev_h, prev_c), _lstm_torch_order(Wx), _lstm_torch_order(Wh),
                           _lstm_torch_order(b[None])[:, 0], torch.zeros_like(b))


def _temporal_softmax_reference(x, y, mask):
    N, T, V = x.shape
    target = torch.where(mask, y, torch.full_like(y, -100)).reshape(-1)
    return F.cross_entropy(x.reshape(N * T, V), target, ignore_index=-100, reduction="sum") / N


class _NgLinear(torch.autograd.Function):
    """``W @ A + b`` (examples as columns) whose backward is Andrew Ng's
    ``linear_backward``: ``dA_prev = W.T @ dZ``, while ``dW = dZ @ A.T / m`` and ``db``
    carry the 1/m of the cost's mean over the m examples."""

    @staticmethod
    def forward(ctx, A, W, b):  # noqa: D102
        ctx.save_for_backward(A, W)
        return W @ A + b

    @staticmethod
    def backward(ctx, dZ):  # noqa: D102
        A, W = ctx.saved_tensors
        m = A.shape[1]
        return W.T @ dZ, dZ @ A.T / m, dZ.sum(dim=1, keepdim=True) / m


def _bn(x, gamma, beta, bn_param):
    return F.batch_norm(x, None, None, gamma, beta, training=True, eps=bn_param["eps"])


def _n(rng, *shape):
    return rng.standard_normal(shape)


BN_PARAM = {"mode": "train", "eps": 1e-5, "momentum": 0.9}

#: every function (pair) the command looks for, in report order
SPECS: tuple[Spec, ...] = (
    Spec("affine", "affine_forward", "affine_backward",
         ("x", "w", "b"),
         lambda r: (_n(r, 3, 2, 3), _n(r, 6, 4), _n(r, 4)),
         lambda x, w, b: F.linear(x.reshape(x.shape[0], -1), w.T, b)),
    Spec("relu", "relu_forward", "relu_backward",
         ("x",), lambda r: (_away_from_zero(r, (4, 5)),),
         torch.relu),
    Spec("sigmoid", "sigmoid_forward", "sigmoid_backward",
         ("x",), lambda r: (_n(r, 4, 5),),
         torch.sigmoid),
    Spec("tanh", "tanh_forward", "tanh_backward",
         ("x",), lambda r: (_n(r, 4, 5),), torch.tanh),
    Spec("affine_relu", "affine_relu_forward", "affine_relu_backward",
         ("x", "w", "b"),
         lambda r: (_n(r, 3, 4), _n(r, 4, 5), _n(r, 5)),
         lambda x, w, b: torch.relu(F.linear(x.reshape(x.shape[0], -1), w.T, b))),
    Spec("linear", "linear_forward", "linear_backward",
         ("A", "W", "b"),
         lambda r: (_n(r, 4, 3), _n(r, 2, 4), _n(r, 2, 1)),
         lambda A, W, b: _NgLinear.apply(A, W, b), fd=False,
         note="Andrew Ng's convention: dW and db averaged over the m examples (columns), "
              "dA_prev not; checked against torch only (that backward is no vector-Jacobian "
              "product, so finite differences do not apply)"),
    Spec("softmax_loss", "softmax_loss", None,
         ("x", "y"),
         lambda r: (_n(r, 4, 5), r.integers(0, 5, size=4)),
         lambda x, y: F.cross_entropy(x, y), kind="loss"),
    Spec("svm_loss", "svm_loss", None,
         ("x", "y"), _svm_inputs,
         lambda x, y: x.shape[1] * F.multi_margin_loss(x, y), kind="loss"),
    Spec("batchnorm", "batchnorm_forward", "batchnorm_backward",
         ("x", "gamma", "beta", "bn_param"),
         lambda r: (2 + 3 * _n(r, 6, 4), 1 + _n(r, 4), _n(r, 4), dict(BN_PARAM)), _bn,
         note="train mode; running averages are not compared (CS231n's momentum is "
              "1 - torch's, and torch's running_var is unbiased)"),
    Spec("batchnorm_alt", "batchnorm_forward", "batchnorm_backward_alt",
         ("x", "gamma", "beta", "bn_param"),
         lambda r: (2 + 3 * _n(r, 6, 4), 1 + _n(r, 4), _n(r, 4), dict(BN_PARAM)), _bn,
         optional=True),
    Spec("spatial_batchnorm", "spatial_batchnorm_forward", "spatial_batchnorm_backward",
         ("x", "gamma", "beta", "bn_param"),
         lambda r: (2 + 3 * _n(r, 2, 3, 3, 2), 1 + _n(r, 3), _n(r, 3), dict(BN_PARAM)), _bn),
    Spec("layernorm", "layernorm_forward", "layernorm_backward",
         ("x", "gamma", "beta", "ln_param"),
         lambda r: (2 + 3 * _n(r, 4, 6), 1 + _n(r, 6), _n(r, 6), {"eps": 1e-5}),
         lambda x, gamma, beta, ln_param: F.layer_norm(x, (x.shape[1],), gamma, beta,
                                                       eps=ln_param["eps"])),
    Spec("dropout_test_mode", "dropout_forward", "dropout_backward",
         ("x", "dropout_param"),
         lambda r: (_n(r, 4, 5), {"mode": "test", "p": 0.5}),
         lambda x, param: F.dropout(x, param["p"], training=False)),
    Spec("dropout_train_mode", "dropout_forward", "dropout_backward",
         ("x", "dropout_param"),
         lambda r: (_n(r, 4, 5), {"mode": "train", "p": 0.5, "seed": 123}), None,
         note="train mode with dropout_param['seed'] fixed: torch cannot replay the "
              "student's mask, so the backward is checked by finite differences only"),
    Spec("conv_naive", "conv_forward_naive", "conv_backward_naive",
         ("x", "w", "b", "conv_param"),
         lambda r: (_n(r, 2, 3, 5, 5), _n(r, 2, 3, 3, 3), _n(r, 2), {"stride": 2, "pad": 1}),
         lambda x, w, b, p: F.conv2d(x, w, b, stride=p["stride"], padding=p["pad"])),
    Spec("max_pool_naive", "max_pool_forward_naive", "max_pool_backward_naive",
         ("x", "pool_param"),
         lambda r: (_distinct(r, (2, 2, 4, 4)),
                    {"pool_height": 2, "pool_width": 2, "stride": 2}),
         lambda x, p: F.max_pool2d(x, (p["pool_height"], p["pool_width"]), p["stride"])),
    Spec("rnn_step", "rnn_step_forward", "rnn_step_backward",
         ("x", "prev_h", "Wx", "Wh", "b"),
         lambda r: (_n(r, 3, 4), _n(r, 3, 5), 0.5 * _n(r, 4, 5), 0.5 * _n(r, 5, 5), _n(r, 5)),
         lambda x, h, Wx, Wh, b: torch.rnn_tanh_cell(x, h, Wx.T, Wh.T, b, torch.zeros_like(b))),
    Spec("rnn", "rnn_forward", "rnn_backward",
         ("x", "h0", "Wx", "Wh", "b"),
         lambda r: (_n(r, 2, 3, 4), _n(r, 2, 5), 0.5 * _n(r, 4, 5), 0.5 * _n(r, 5, 5),
                    _n(r, 5)),
         _rnn_reference),
    Spec("lstm_step", "lstm_step_forward", "lstm_step_backward",
         ("x", "prev_h", "prev_c", "Wx", "Wh", "b"),
         lambda r: (_n(r, 3, 4), _n(r, 3, 5), _n(r, 3, 5), 0.5 * _n(r, 4, 20),
                    0.5 * _n(r, 5, 20), _n(r, 20)),
         _lstm_step_reference),
    Spec("word_embedding", "word_embedding_forward", "word_embedding_backward",
         ("x", "W"),
         lambda r: (r.integers(0, 5, size=(2, 4)), _n(r, 5, 3)), F.embedding),
    Spec("temporal_affine", "temporal_affine_forward", "temporal_affine_backward",
         ("x", "w", "b"),
         lambda r: (_n(r, 2, 3, 4), _n(r, 4, 5), _n(r, 5)),
         lambda x, w, b: F.linear(x, w.T, b)),
    Spec("temporal_softmax_loss", "temporal_softmax_loss", None,
         ("x", "y", "mask"),
         lambda r: (_n(r, 2, 3, 5), r.integers(0, 5, size=(2, 3)),
                    np.array([[True, True, False], [True, False, True]])),
         _temporal_softmax_reference, kind="loss"),
)


# --------------------------------------------------------------------------------------
# importing the student's file
# --------------------------------------------------------------------------------------
def load_student(path: Path, time_limit: float | None) -> tuple[Any, str]:
    """The student's module, or None and why (a syntax error or an exception at import
    time, with the line it points at; never raised)."""
    if not path.is_file():
        return None, f"{path}: no such file"
    name = f"_student_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # a suffix no importer knows (not .py)
        return None, f"{path}: not a Python module"
    loader = spec.loader
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)  # its own imports of files beside it
    try:
        with _alarm(_Clock(time_limit)):
            loader.exec_module(module)
    except _TimeUp:
        return None, f"importing {path.name} took longer than {time_limit:g} s"
    except SyntaxError as e:
        return None, f"{path.name} has a syntax error at line {e.lineno}: {e.msg}"
    except BaseException as e:  # noqa: B036 - student code may even call sys.exit()
        if isinstance(e, KeyboardInterrupt):
            raise
        frames = [f for f in traceback.extract_tb(e.__traceback__)
                  if f.filename == str(path.resolve()) or f.filename == str(path)]
        where = f" (line {frames[-1].lineno})" if frames else ""
        return None, f"importing {path.name} raised {type(e).__name__}: {e}{where}"
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return module, ""


# --------------------------------------------------------------------------------------
# checking
# --------------------------------------------------------------------------------------
@dataclass
class Result:
    """One test of the report: its name, its rows, and whether something to check was
    missing (exit status 2)."""

    name: str
    rows: list[dict[str, Any]]
    missing: bool = False


def _function(module: Any, name: str | None, aliases: dict[str, str] | None = None) -> Any:
    """The student's function playing ``name`` (under its ``--map`` alias), or None."""
    if not name:
        return None
    fn = getattr(module, (aliases or {}).get(name, name), None)
    return fn if callable(fn) else None


def _missing_row(case: str, parameter: str, note: str, kind: str = "layer") -> dict[str, Any]:
    return {"case": case, "kind": kind, "oracle": "student", "parameter": parameter,
            "passed": False, "status": "fail", "note": note}


def run_spec(spec: Spec, module: Any, seed: int, time_limit: float | None,
             aliases: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The rows of one spec found in ``module`` (its functions under their ``--map``
    aliases): a missing backward is a failing row, and the forward is checked alone."""
    fwd = _function(module, spec.forward, aliases)
    bwd = _function(module, spec.backward, aliases)
    inputs = spec.make(np.random.default_rng(seed))
    if spec.kind == "loss":
        return _check_loss(spec, fwd, inputs, time_limit)
    oracles = ["torch", "fd"] if spec.reference is not None else ["fd"]
    if not spec.fd:
        oracles = ["torch"]
    if bwd is None:
        oracles = ["torch"] if spec.reference is not None else []
    rows: list[dict[str, Any]] = []
    if spec.backward and bwd is None:
        name = (aliases or {}).get(spec.backward, spec.backward)
        fname = getattr(fwd, "__name__", spec.forward)
        rows.append(_missing_row(spec.name, name, (
            f"{name} not found: {fname} has no backward, so its gradients cannot be checked "
            f"(define {name}(dout, cache), or name yours with --map YOUR_NAME={spec.backward})"
            + (f"; {fname} alone is checked against torch" if oracles else ""))))
    if oracles:
        rows += check_layer(fwd, bwd, inputs, spec.reference, oracles=oracles, seed=seed,
                            case=spec.name, names=spec.args, time_limit=time_limit)
    if spec.note:  # the caveat, on the passing rows only: a failure's note is its message
        for row in rows:
            if row.get("status") == "pass":
                row["note"] = spec.note
    return rows


def _check_loss(spec: Spec, fn: Callable, inputs: tuple, time_limit: float | None
                ) -> list[dict[str, Any]]:
    """A CS231n loss ``fn(x, *labels) -> (loss, dx)`` as check_gradients sees it."""
    x, rest = inputs[0].copy(), inputs[1:]
    try:
        inspect.signature(fn).bind(x, *rest)
    except TypeError:
        return [{"case": spec.name, "kind": "loss", "oracle": "student",
                 "parameter": "signature", "passed": False, "status": "fail",
                 "note": f"{spec.forward}{inspect.signature(fn)} cannot be called as "
                         f"{spec.forward}({', '.join(spec.args)})"}]
    except ValueError:
        pass
    label = f"{spec.forward}({', '.join(spec.args)})"
    originals = [np.array(v, copy=True) for v in rest]
    reference = spec.reference
    assert reference is not None, f"{spec.name}: every loss spec names its torch reference"

    def loss_and_grads():
        out = fn(x, *[np.array(v, copy=True) for v in rest])
        if not isinstance(out, tuple) or len(out) != 2:
            raise TypeError(f"returned {type(out).__name__}, expected (loss, dx)")
        return out[0], {"x": out[1]}

    targets = [torch.as_tensor(v.astype(np.int64) if v.dtype.kind in "iu" else v)
               for v in originals]
    rows = check_gradients(loss_and_grads, {"x": x},
                           lambda p: reference(p["x"], *targets),
                           case=spec.name, label=label, time_limit=time_limit)
    for row in rows:
        row["kind"] = "loss"
    return rows


# --------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------
def _failed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("status") in ("fail", "xpass")]


def _summary(rows: list[dict[str, Any]], oracle: str) -> str:
    errs = [r["max_abs_err"] for r in rows if r.get("oracle") == oracle
            and isinstance(r.get("max_abs_err"), float) and r.get("status") != "skipped"]
    return f"{max(errs):.1e}" if errs else "-"


def _gradescope(results: list[Result], path: Path) -> None:
    tests = []
    for result in results:
        name, rows = result.name, result.rows
        failed = _failed(rows)
        lines = [describe(r) for r in failed] or [
            f"{name}: every comparison within tolerance ({len(rows)} rows: "
            f"{', '.join(sorted({r['oracle'] for r in rows}))})"]
        tests.append({"name": name, "score": 0.0 if failed else 1.0, "max_score": 1.0,
                      "status": "failed" if failed else "passed",
                      "output": "\n".join(lines)})
    path.write_text(json.dumps({"score": sum(t["score"] for t in tests), "tests": tests},
                               indent=2) + "\n")


def _parser() -> argparse.ArgumentParser:
    doc = __doc__ or ""
    signatures = doc[doc.index("The signatures expected"):doc.index("Each ``*_forward`` found")]
    p = argparse.ArgumentParser(prog="backprop-compare check",
                                description="check a CS231n-style layer file against torch "
                                            "and finite differences",
                                epilog=signatures.replace("``", ""),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("student", type=Path, help="the student's .py file")
    p.add_argument("--out", type=Path, default=Path("."),
                   help="folder for check.csv (and results.json); default: current folder")
    p.add_argument("--format", choices=["csv", "gradescope"], default="csv",
                   help="gradescope: also write Gradescope's results.json")
    p.add_argument("--time-limit", type=float, default=20.0,
                   help="seconds per function before it fails as too slow (default 20)")
    p.add_argument("--seed", type=int, default=0, help="seed of the inputs (default 0)")
    p.add_argument("--map", action="append", default=[], metavar="STUDENT_NAME=SPEC",
                   help="check the student's function STUDENT_NAME as SPEC, one of the "
                        "functions below (relu_forward) or a test's name (relu, its forward); "
                        "repeatable: --map relu=relu_forward --map sigmoid=sigmoid_forward")
    return p


def _aliases(parser: argparse.ArgumentParser, maps: list[str]) -> dict[str, str]:
    """``--map`` as {our function name: the student's}; a malformed or unknown one is a
    usage error (exit 2)."""
    functions = {n for s in SPECS for n in (s.forward, s.backward) if n}
    by_test = {s.name: s.forward for s in SPECS}
    aliases: dict[str, str] = {}
    for item in maps:
        student, sep, spec = (part.strip() for part in item.partition("="))
        if not sep or not student.isidentifier() or not spec:
            parser.error(f"--map {item!r}: write STUDENT_NAME=SPEC, e.g. relu=relu_forward")
        spec = spec if spec in functions else by_test.get(spec, "")
        if not spec:
            parser.error(f"--map {item!r}: {item.partition('=')[2].strip()!r} is none of the "
                         f"functions checked: {', '.join(sorted(functions))}")
        if spec in aliases:
            parser.error(f"--map {item!r}: {spec} is already mapped to {aliases[spec]}")
        aliases[spec] = student
    return aliases


def _results(args: argparse.Namespace, aliases: dict[str, str]) -> list[Result]:
    """Every test of the report: the specs found in the file, or why there are none."""
    name = args.student.name
    if not args.student.is_file():
        return [Result(f"import {name}", [_missing_row(
            f"import {name}", "module", f"{args.student}: no such file", "import")], True)]
    module, error = load_student(args.student, args.time_limit)
    if module is None:
        return [Result(f"import {name}", [_missing_row(f"import {name}", "module", error,
                                                       "import")])]
    results = [Result(f"--map {student}={spec}", [_missing_row(
        "functions", student, f"--map {student}={spec}: {name} defines no function "
                              f"{student}", "import")], True)
        for spec, student in aliases.items() if _function(module, student) is None]
    for spec in SPECS:
        if _function(module, spec.forward, aliases) is None or (
                spec.optional and _function(module, spec.backward, aliases) is None):
            continue
        rows = run_spec(spec, module, args.seed, args.time_limit, aliases)
        missing = bool(spec.backward) and _function(module, spec.backward, aliases) is None
        results.append(Result(spec.name, rows, missing))
    if not results:
        names = ", ".join(sorted({s.forward for s in SPECS}))
        results.append(Result("functions", [_missing_row(
            "functions", "module", f"{name} defines none of the functions checked: {names} "
                                   f"(name yours with --map YOUR_NAME=SPEC)", "import")], True))
    return results


def _print(results: list[Result], args: argparse.Namespace, seconds: float) -> None:
    print(f"{'function':24s} {'result':7s} {'vs torch':>9s} {'vs fd':>9s}  first problem")
    for result in results:
        failed = _failed(result.rows)
        skipped = [r for r in result.rows if r.get("status") == "skipped"]
        first = (describe(failed[0]) if failed else
                 (skipped[0].get("note", "") if skipped else ""))
        print(f"{result.name:24s} {'FAIL' if failed else 'pass':7s} "
              f"{_summary(result.rows, 'torch'):>9s} {_summary(result.rows, 'fd'):>9s}  {first}")
        slips = dict.fromkeys(r["note"][r["note"].index(SLIP_PREFIX):] for r in failed
                              if SLIP_PREFIX in str(r.get("note") or ""))
        for slip in slips:  # on a line of its own, each once: the student's next step
            print(f"{'':24s} {slip}")
    n_failed = sum(bool(_failed(r.rows)) for r in results)
    wrote = "check.csv" + (" and results.json" if args.format == "gradescope" else "")
    print(f"{len(results) - n_failed} of {len(results)} passed; wrote {wrote} to {args.out} "
          f"in {seconds:.1f} s")
    for result in results:
        if result.missing:
            print(f"error: {describe(result.rows[0])}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.time_limit > 0:
        parser.error(f"--time-limit must be positive, got {args.time_limit}")
    aliases = _aliases(parser, args.map)
    start = time.perf_counter()
    results = _results(args, aliases)
    rows = [row for result in results for row in result.rows]
    args.out.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(rows, columns=ROW_COLUMNS)
    df[CHECK_COLUMNS].to_csv(args.out / "check.csv", index=False, lineterminator="\n")
    if args.format == "gradescope":
        _gradescope(results, args.out / "results.json")
    _print(results, args, time.perf_counter() - start)
    if any(result.missing for result in results):
        return 2
    return 1 if any(_failed(result.rows) for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
