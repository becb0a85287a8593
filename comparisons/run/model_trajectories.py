r"""Training trajectories of whole models: any manual model that follows the layer protocol
(``params``, ``buffers``, ``gradients(X, y)``, ``train()``/``eval()``) against its torch
twin (:func:`comparisons.run.bridge.torch_twin`), a manual optimizer against ``torch.optim``,
step by step.

:func:`compare_model_training` trains both from the same parameters on the same batches
(:func:`manual.training.batch_order`, drawn once) in train mode and records, after every
update, the loss, the learning rate, every parameter, every optimizer-state buffer and
every model buffer (batch norm's ``running_mean``, ``running_var``,
``num_batches_tracked``, recorded beside the optimizer state under their dotted names,
``1.running_mean``); :func:`comparisons.run.trajectories.compare_histories` turns them into
the rows of ``trajectories.csv`` with :func:`comparisons.core.tolerances.trajectory_tolerance`.
After the last step both models switch to eval mode and one more row compares their
outputs on held-out data (``worst_param`` = ``eval-output``; ``loss_*`` the eval loss).

Dropout: torch's random stream cannot be reproduced in NumPy, so every train-mode step
seeds torch's generator (``torch.manual_seed(seed, step, layer)``) right before each
``nn.Dropout`` runs, and the manual ``Dropout`` gets its mask from torch's own
``F.dropout`` applied to ones of the same shape and dtype under the same seed: the same
draw, so the very mask ``nn.Dropout`` applies.

Models are registered by name in :data:`MODEL_BUILDERS` (``build(dtype, seed) ->
ModelProblem``); other families (an LSTM classifier, a transformer block) add theirs and
list cases in :data:`MODEL_TRAJECTORY_CASES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

import reference
from comparisons.core.compare import compare_arrays
from comparisons.core.device import seed_torch
from comparisons.core.parallel import one_torch_thread
from comparisons.core.tolerances import FLOAT32_SPREAD_FACTOR, Tolerance, trajectory_tolerance
from comparisons.run.trajectories import (
    TRAJECTORY_COLUMNS,
    _kwargs_text,
    _non_default,
    compare_histories,
    float32_spread,
    with_verdicts,
)
from comparisons.twins.state import float64_data, float64_shadow, state_as_manual
from manual import optimizers
from manual.training import History, batch_order, flat_state

__all__ = ["MODEL_BUILDERS", "MODEL_TRAJECTORY_CASES", "ModelProblem", "ModelTrajectoryCase",
           "compare_model_training", "register_model", "run_model_trajectories",
           "run_model_trajectory", "torch_dropout_mask"]


@dataclass
class ModelProblem:
    """A model and its data: ``net`` (a manual model with a loss, in train mode),
    training ``X``/``y`` and held-out ``X_eval``/``y_eval`` for the eval-mode check."""

    net: Any
    X: np.ndarray
    y: np.ndarray
    X_eval: np.ndarray
    y_eval: np.ndarray
    dataset: str = ""


#: model name -> ``build(dtype, seed) -> ModelProblem``
MODEL_BUILDERS: dict[str, Callable[[np.dtype, int], ModelProblem]] = {}


def register_model(name: str, build: Callable[[np.dtype, int], ModelProblem]) -> None:
    """Register a model for :class:`ModelTrajectoryCase` (``build(dtype, seed)``)."""
    MODEL_BUILDERS[name] = build


@dataclass(frozen=True)
class ModelTrajectoryCase:
    """One model trained against torch: ``model`` (a key of :data:`MODEL_BUILDERS`), the
    optimizer with torch's keyword arguments, the epochs and batch size."""

    model: str
    optimizer: str
    dtype: str
    optimizer_kwargs: tuple[tuple[str, Any], ...] = ()
    variant: str = ""
    epochs: int = 1
    batch_size: int = 32
    seed: int = 0
    exhaustive: bool = False
    #: clip the gradients before every step (``torch.nn.utils``' functions on both sides;
    #: by value first when both are given)
    clip_grad_norm: float | None = None
    clip_grad_value: float | None = None

    @property
    def id(self) -> str:
        """e.g. ``cnn-digits-adam-float64``."""
        return "-".join(p for p in (self.model, self.optimizer, self.variant, self.dtype) if p)

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)


# --------------------------------------------------------------------------------------
# dropout masks from torch
# --------------------------------------------------------------------------------------
def _dropout_seed(seed: int, step: int, layer: int) -> int:
    return int(np.random.SeedSequence([seed, step, layer]).generate_state(1)[0])


def torch_dropout_mask(shape: tuple[int, ...], dtype: Any, p: float, torch_seed: int
                       ) -> np.ndarray:
    """The keep-mask torch's ``F.dropout(·, p, training=True)`` draws for a tensor of this
    shape and dtype right after ``torch.manual_seed(torch_seed)``: read from its output on
    ones (kept elements are 1/(1-p), dropped ones 0)."""
    from comparisons.twins.layers import torch_dtype

    with torch.random.fork_rng():
        seed_torch(torch_seed)
        out = F.dropout(torch.ones(shape, dtype=torch_dtype(dtype)), p, training=True)
    return out.numpy() != 0


class _DropoutSeeds:
    """Hands every manual ``Dropout`` of a model its torch mask, and makes every
    ``nn.Dropout`` of the twin draw that same mask, step by step."""

    def __init__(self, net: Any, module: torch.nn.Module, seed: int) -> None:
        self.seed, self.step = seed, 0
        self.hooks = []
        layers = list(getattr(net, "layers", []))
        for i, layer in enumerate(layers):
            if type(layer).__name__ != "Dropout":
                continue
            layer.mask_source = self._source(i, layer.p)
            # the twin of a Sequential is an nn.Sequential, indexed like its layers
            sub = module[i]  # type: ignore[index]
            self.hooks.append(sub.register_forward_pre_hook(self._seeder(i)))

    def _source(self, i: int, p: float) -> Callable[[tuple[int, ...], np.dtype], np.ndarray]:
        return lambda shape, dtype: torch_dropout_mask(shape, dtype, p,
                                                       _dropout_seed(self.seed, self.step, i))

    def _seeder(self, i: int) -> Callable[..., None]:
        def hook(module: torch.nn.Module, inputs: Any) -> None:
            seed_torch(_dropout_seed(self.seed, self.step, i))
        return hook

    def close(self, net: Any) -> None:
        for h in self.hooks:
            h.remove()
        for layer in getattr(net, "layers", []):
            if type(layer).__name__ == "Dropout":
                layer.mask_source = None


# --------------------------------------------------------------------------------------
# the two runs
# --------------------------------------------------------------------------------------
def _record_state(opt_state: Mapping[str, Any], buffers: Mapping[str, np.ndarray]
                  ) -> dict[str, np.ndarray]:
    state = flat_state(opt_state)
    state.update({k: np.array(v, copy=True) for k, v in buffers.items()})
    return state


def _manual_run(net: Any, X: np.ndarray, y: np.ndarray, opt: Any,
                order: list[list[np.ndarray]], seeds: _DropoutSeeds,
                clip: tuple[float | None, float | None] = (None, None)) -> History:
    from manual.clipping import clip_grad_norm_, clip_grad_value_

    losses, lrs, epochs = [], [], []
    hist = History(np.empty(0), np.empty(0), np.empty(0, dtype=int), order)
    t = 0
    for e, batches in enumerate(order, start=1):
        for idx in batches:
            t += 1
            seeds.step = t
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                loss, grads = net.gradients(X[idx], y[idx])
            if not np.isfinite(loss):
                raise ValueError(f"the manual loss is {float(loss)} at step {t}")
            if clip[1] is not None:
                clip_grad_value_(grads, clip[1])
            if clip[0] is not None:
                clip_grad_norm_(grads, clip[0])
            lrs.append(float(opt.lr))
            opt.step(grads)
            losses.append(float(loss))
            epochs.append(e)
            hist.params.append({k: v.copy() for k, v in net.params.items()})
            hist.state.append(_record_state(opt.state, net.buffers))
    hist.loss, hist.lr = np.array(losses), np.array(lrs)
    hist.epoch = np.array(epochs, dtype=int)
    return hist


def _torch_run(tnet: Any, X: np.ndarray, y: np.ndarray, topt: torch.optim.Optimizer,
               order: list[list[np.ndarray]], seeds: _DropoutSeeds,
               clip: tuple[float | None, float | None] = (None, None)) -> History:
    from comparisons.twins.layers import module_state

    named = {k: (p, False) for k, p in tnet.module.named_parameters()}
    losses, lrs, epochs = [], [], []
    hist = History(np.empty(0), np.empty(0), np.empty(0, dtype=int), order)
    t = 0
    for e, batches in enumerate(order, start=1):
        for idx in batches:
            t += 1
            seeds.step = t
            topt.zero_grad(set_to_none=True)
            out = tnet.module(torch.as_tensor(X[idx]))
            J = tnet.loss_fn(out, tnet.target_tensor(y[idx]))
            J.backward()
            if not torch.isfinite(J):
                raise ValueError(f"the torch loss is {J.item()} at step {t}")
            if clip[1] is not None:
                torch.nn.utils.clip_grad_value_(tnet.module.parameters(), clip[1])
            if clip[0] is not None:
                torch.nn.utils.clip_grad_norm_(tnet.module.parameters(), clip[0])
            lrs.append(float(topt.param_groups[0]["lr"]))
            topt.step()
            losses.append(J.item())
            epochs.append(e)
            params, buffers = module_state(tnet.module)
            hist.params.append(params)
            hist.state.append(_record_state(
                state_as_manual(topt, named), buffers))
    hist.loss, hist.lr = np.array(losses), np.array(lrs)
    hist.epoch = np.array(epochs, dtype=int)
    return hist


def _eval_row(net: Any, tnet: Any, X: np.ndarray, y: np.ndarray, step: int, epoch: int,
              info: Mapping[str, Any], shadow: Any = None) -> pd.DataFrame:
    """Both models in eval mode on held-out data: the outputs and the loss. With the float64
    ``shadow`` (float32 runs), the tolerances add ``FLOAT32_SPREAD_FACTOR`` times the
    distance of torch's float32 output (and loss) from the shadow's."""
    net.eval()
    tnet.module.eval()
    out_m = np.asarray(net.forward(X))
    loss_m = float(net.loss(X, y))
    with torch.no_grad():
        out_t = tnet.module(torch.as_tensor(X))
        loss_t = float(tnet.loss_fn(out_t, tnet.target_tensor(y)))
    tol = out_tol = loss_tol = trajectory_tolerance(net.dtype, step)
    allowance = 0.0
    if shadow is not None:
        shadow.module.eval()
        with torch.no_grad():
            out_s = shadow.module(torch.as_tensor(float64_data(X)))
            loss_s = float(shadow.loss_fn(out_s, shadow.target_tensor(y)))
        d_out = float(np.max(np.abs(out_t.numpy().astype(np.float64) - out_s.numpy()),
                             initial=0.0))
        out_tol = Tolerance(tol.rtol, tol.atol + FLOAT32_SPREAD_FACTOR * d_out)
        loss_tol = Tolerance(tol.rtol, tol.atol + FLOAT32_SPREAD_FACTOR * abs(loss_t - loss_s))
        allowance = float(max(out_tol.atol, loss_tol.atol) - tol.atol)
    c = compare_arrays(out_m, out_t.numpy(), out_tol, "eval-output")
    lc = compare_arrays(np.float64(loss_m), np.float64(loss_t), loss_tol, "eval-loss")
    beyond = [n for n, ok in (("eval-output", c.passed), ("eval-loss", lc.passed)) if not ok]
    row = {**{k: v for k, v in info.items() if k in TRAJECTORY_COLUMNS},
           "case": f"{info.get('case', 'custom')}-eval", "dtype": np.dtype(net.dtype).name,
           "step": step, "epoch": epoch, "frozen": "", "lr_manual": np.nan,
           "lr_reference": np.nan, "loss_manual": loss_m, "loss_reference": loss_t,
           "loss_diff": loss_m - loss_t, "param_err_over_tol": c.err_over_tol,
           "worst_param": "eval-output",
           "worst_index": "" if c.worst_index is None else str(c.worst_index),
           "param_manual_value": c.manual_value, "param_reference_value": c.reference_value,
           "param_worst_abs_err": c.worst_abs_err, "param_worst_rel_err": c.worst_rel_err,
           "param_max_abs_err": c.max_abs_err, "param_max_rel_err": c.max_rel_err,
           "state_err_over_tol": 0.0, "worst_state": "", "state_max_abs_err": 0.0,
           "state_max_rel_err": np.nan,
           "loss_err_over_tol": lc.err_over_tol, "rtol": tol.rtol, "atol": tol.atol,
           "float32_allowance": allowance, "beyond_tolerance": ";".join(beyond),
           "passed": not beyond, "note": ""}
    return with_verdicts(pd.DataFrame([row]).reindex(columns=TRAJECTORY_COLUMNS))


def compare_model_training(net: Any, X: np.ndarray, y: np.ndarray, optimizer: Any,
                           epochs: int, batch_size: int, *, seed: int = 0,
                           X_eval: np.ndarray | None = None, y_eval: np.ndarray | None = None,
                           case: str = "custom", info: Mapping[str, Any] | None = None,
                           clip_grad_norm: float | None = None,
                           clip_grad_value: float | None = None) -> pd.DataFrame:
    """Train ``net`` (a manual model with a loss, e.g. :class:`manual.layers.Sequential`)
    with ``optimizer`` (a fresh :mod:`manual.optimizers` optimizer on ``net.params``) and
    its torch twin with ``torch.optim``'s counterpart, on the same shuffled batches; one
    row per step (:data:`comparisons.run.trajectories.TRAJECTORY_COLUMNS`), then, with
    ``X_eval``/``y_eval``, one eval-mode row (case ``<case>-eval``). ``clip_grad_norm``
    (2-norm) and ``clip_grad_value`` clip the gradients before every step, with
    :mod:`manual.clipping` and ``torch.nn.utils``'s own functions (by value first). Training
    changes ``net``; it is left in eval mode when an eval row was made."""
    from comparisons.run.bridge import TorchSequential

    dtype = np.dtype(net.dtype)
    info = {"case": case, "optimizer": getattr(optimizer, "name", type(optimizer).__name__),
            "optimizer_kwargs": _kwargs_text(_non_default(optimizer)), "scheduler": "",
            "activation": "", "output_activation": "",
            "loss": getattr(getattr(net, "loss_fn", None), "name", ""),
            "sizes": "-".join(type(layer).__name__ for layer in getattr(net, "layers", [])),
            **(info or {})}
    net.train()
    tnet = TorchSequential(net)  # built before training: the same starting point
    tnet.module.train()
    # float32: torch also trains in float64 from the same start, to measure its own drift
    shadow = float64_shadow(tnet) if dtype == np.float32 else None
    topt = _torch_optimizer(optimizer, tnet)
    order = batch_order(len(X), batch_size, epochs, True, seed)
    clip = (clip_grad_norm, clip_grad_value)
    seeds = _DropoutSeeds(net, tnet.module, seed)
    try:
        with one_torch_thread():
            hist_m = _manual_run(net, X, y, optimizer, order, seeds, clip)
            hist_r = _torch_run(tnet, np.asarray(X), y, topt, order, seeds, clip)
    except ValueError as err:
        row = {**{k: v for k, v in info.items() if k in TRAJECTORY_COLUMNS},
               "dtype": dtype.name, "passed": False, "note": str(err)}
        return with_verdicts(pd.DataFrame([row]).reindex(columns=TRAJECTORY_COLUMNS))
    finally:
        seeds.close(net)
    spread = None if shadow is None else _shadow_spread(shadow, net, optimizer, X, y, order,
                                                         seed, clip, hist_r)
    df = compare_histories(hist_m, hist_r, dtype, info, spread=spread)
    if X_eval is not None:
        assert y_eval is not None, "X_eval comes with its y_eval"
        df = pd.concat([df, _eval_row(net, tnet, X_eval, y_eval, hist_m.steps,
                                      int(hist_m.epoch[-1]), info, shadow if spread else None)],
                       ignore_index=True)
    return df


def _torch_optimizer(optimizer: Any, tnet: Any) -> torch.optim.Optimizer:
    return reference.optimizers.get(optimizer.name, list(tnet.module.parameters()),
                                    **dict(getattr(optimizer, "kwargs", {}) or {}))


def _shadow_spread(shadow: Any, net: Any, optimizer: Any, X: np.ndarray, y: np.ndarray,
                   order: list[list[np.ndarray]], seed: int,
                   clip: tuple[float | None, float | None], hist_r: History
                   ) -> dict[str, np.ndarray] | None:
    """Train the float64 ``shadow`` on the same batches (and dropout masks) and measure the
    float32 torch run's drift from it (:func:`comparisons.run.trajectories.float32_spread`);
    ``None`` if the float64 run stops."""
    shadow.module.train()
    seeds = _DropoutSeeds(net, shadow.module, seed)
    try:
        with one_torch_thread():
            exact = _torch_run(shadow, float64_data(X), float64_data(y),
                               _torch_optimizer(optimizer, shadow), order, seeds, clip)
    except ValueError:
        return None
    finally:
        seeds.close(net)
    return float32_spread(hist_r, exact)


# --------------------------------------------------------------------------------------
# registered models and cases
# --------------------------------------------------------------------------------------
def _digits(dtype: np.dtype, n_train: int = 1280
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's digits (``sklearn.datasets.load_digits``, bundled: no download) as
    (N, 1, 8, 8) images of intensities in [0, 1] (the raw 0..16 over 16) and labels; the
    first ``n_train`` samples train, the rest are held out.

    Not standardised per pixel: a pixel that is blank in every image of a batch is then
    exactly 0, and its weights get an exactly zero gradient on both sides; standardised,
    it would be one constant per batch, whose weight gradient batch norm makes zero in
    exact arithmetic only — rounding noise that Adam would scale up to full steps."""
    from sklearn.datasets import load_digits

    data = load_digits()
    X = (data.images / 16.0).reshape(-1, 1, 8, 8).astype(dtype)
    y = data.target.astype(np.int64)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def cnn_digits(dtype: np.dtype, seed: int = 0) -> ModelProblem:
    """``Conv2d(1, 8, 3, padding=1, bias=False) -> BatchNorm2d(8) -> ReLU -> MaxPool2d(2) ->
    Conv2d(8, 16, 3, padding=1) -> ReLU -> AdaptiveAvgPool2d(1) -> Flatten -> Dropout(0.3)
    -> Linear(16, 10)``, cross-entropy, on digits.

    No bias in the layer before batch norm (as usual): batch norm subtracts the batch mean,
    so that bias's gradient is exactly zero in exact arithmetic and pure rounding noise
    (1e-17) in practice — which Adam divides by its own square root into full-size,
    random-signed steps, different on the two sides (measured: a relative error of 1e-8
    at step 1 in float64, 0.85 in float32)."""
    from manual import layers
    from manual.layers.activation import ReLU  # declared there; layers re-exports it

    net = layers.Sequential(
        layers.Conv2d(1, 8, 3, padding=1, bias=False, dtype=dtype, rng=seed),
        layers.BatchNorm2d(8, dtype=dtype),
        ReLU(),
        layers.MaxPool2d(2),
        layers.Conv2d(8, 16, 3, padding=1, dtype=dtype, rng=seed + 1),
        ReLU(),
        layers.AdaptiveAvgPool2d(1),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Linear(16, 10, dtype=dtype, rng=seed + 2),
        loss="cross_entropy")
    return ModelProblem(net, *_digits(dtype), dataset="digits")


def bn_mlp_digits(dtype: np.dtype, seed: int = 0) -> ModelProblem:
    """``Flatten -> Linear(64, 32, bias=False) -> BatchNorm1d(32, momentum=None) -> ReLU ->
    Dropout(0.2) -> Linear(32, 10)``, cross-entropy, on digits (cumulative running
    statistics). No bias before batch norm: see :func:`cnn_digits`."""
    from manual import layers
    from manual.layers.activation import ReLU  # declared there; layers re-exports it

    net = layers.Sequential(
        layers.Flatten(),
        layers.Linear(64, 32, bias=False, dtype=dtype, rng=seed),
        layers.BatchNorm1d(32, momentum=None, dtype=dtype),
        ReLU(),
        layers.Dropout(0.2),
        layers.Linear(32, 10, dtype=dtype, rng=seed + 1),
        loss="cross_entropy")
    return ModelProblem(net, *_digits(dtype), dataset="digits")


def lstm_parity(dtype: np.dtype, seed: int = 0) -> ModelProblem:
    """``Embedding(2, 4) -> LSTM(4, 8, batch_first=True) -> LastTimeStep -> Linear(8, 2)``,
    cross-entropy, on the parity of 8 random bits (:func:`manual.datasets.parity`: 256
    training sequences, 64 held out), generated from the seed."""
    from manual import datasets, layers

    X, y = datasets.parity(n=320, length=8, seed=seed)
    net = layers.Sequential(
        layers.Embedding(2, 4, dtype=dtype, rng=seed),
        layers.LSTM(4, 8, batch_first=True, dtype=dtype, rng=seed + 1),
        layers.LastTimeStep(batch_first=True),
        layers.Linear(8, 2, dtype=dtype, rng=seed + 2),
        loss="cross_entropy")
    return ModelProblem(net, X[:256], y[:256], X[256:], y[256:], dataset="parity")


def conv_autoencoder_digits(dtype: np.dtype, seed: int = 0) -> ModelProblem:
    """A small U-Net-like encoder–decoder (without the skip connections, which a
    ``Sequential`` cannot hold) that learns to reproduce digits: ``ReflectionPad2d(1) ->
    Conv2d(1, 8, 3) -> PReLU(8) -> MaxPool2d(2) -> Conv2d(8, 8, 3, padding=1) -> GLU(dim=1)
    -> Upsample(scale_factor=2, mode='bilinear') -> ConvTranspose2d(4, 1, 3, padding=1) ->
    Flatten``, mean squared error against the flattened image (256 training images, 64
    held out). Every layer the issue-18 families added to the conv path (padding, a learned
    slope, a gated activation, upsampling, a transposed convolution) trains here at once."""
    from manual import layers

    net = layers.Sequential(
        layers.ReflectionPad2d(1),
        layers.Conv2d(1, 8, 3, dtype=dtype, rng=seed),
        layers.PReLU(8, dtype=dtype),
        layers.MaxPool2d(2),
        layers.Conv2d(8, 8, 3, padding=1, dtype=dtype, rng=seed + 1),
        layers.GLU(dim=1),
        layers.Upsample(scale_factor=2, mode="bilinear"),
        layers.ConvTranspose2d(4, 1, 3, padding=1, dtype=dtype, rng=seed + 2),
        layers.Flatten(),
        loss="mse")
    X, _, X_eval, _ = _digits(dtype, n_train=256)
    X_eval = X_eval[:64]
    return ModelProblem(net, X, X.reshape(len(X), -1), X_eval, X_eval.reshape(len(X_eval), -1),
                        dataset="digits-images")


def norm_cnn_digits(dtype: np.dtype, seed: int = 0) -> ModelProblem:
    """The normalisation layers of issue 18 in one classifier: ``Conv2d(1, 8, 3, padding=1,
    bias=False) -> InstanceNorm2d(8, affine=True) -> ReLU -> LocalResponseNorm(3, alpha=1.0) ->
    AdaptiveMaxPool2d(2) -> Flatten -> RMSNorm(32) -> Linear(32, 10)``, cross-entropy, on
    digits (256 training images, 64 held out). ``alpha=1`` so that the cross-channel term
    of local response norm's backward is not a 1e-4 afterthought (torch's default). No bias
    before instance norm, which subtracts each channel's mean: see :func:`cnn_digits`."""
    from manual import layers
    from manual.layers.activation import ReLU  # declared there; layers re-exports it

    net = layers.Sequential(
        layers.Conv2d(1, 8, 3, padding=1, bias=False, dtype=dtype, rng=seed),
        layers.InstanceNorm2d(8, affine=True, dtype=dtype),
        ReLU(),
        layers.LocalResponseNorm(3, alpha=1.0),
        layers.AdaptiveMaxPool2d(2),
        layers.Flatten(),
        layers.RMSNorm(32, dtype=dtype),
        layers.Linear(32, 10, dtype=dtype, rng=seed + 1),
        loss="cross_entropy")
    X, y, X_eval, y_eval = _digits(dtype, n_train=256)
    return ModelProblem(net, X, y, X_eval[:64], y_eval[:64], dataset="digits")


def conv3d_digits(dtype: np.dtype, seed: int = 0) -> ModelProblem:
    """The 3-d layers of issue 18: each digit and its mirror image stacked as a volume of
    depth 2, (N, 1, 2, 8, 8), through ``Conv3d(1, 4, (2, 3, 3), padding=(0, 1, 1), bias=False)
    -> BatchNorm3d(4) -> ReLU -> MaxPool3d((1, 2, 2)) -> Flatten -> Linear(64, 10)``,
    cross-entropy (256 training volumes, 64 held out). No bias before batch norm: see
    :func:`cnn_digits`."""
    from manual import layers
    from manual.layers.activation import ReLU  # declared there; layers re-exports it

    net = layers.Sequential(
        layers.Conv3d(1, 4, (2, 3, 3), padding=(0, 1, 1), bias=False, dtype=dtype, rng=seed),
        layers.BatchNorm3d(4, dtype=dtype),
        ReLU(),
        layers.MaxPool3d((1, 2, 2)),
        layers.Flatten(),
        layers.Linear(64, 10, dtype=dtype, rng=seed + 1),
        loss="cross_entropy")
    X, y, X_eval, y_eval = _digits(dtype, n_train=256)

    def volumes(images: np.ndarray) -> np.ndarray:  # (N, 1, 8, 8) -> (N, 1, 2, 8, 8)
        return np.ascontiguousarray(np.stack([images, images[..., ::-1]], axis=2))

    return ModelProblem(net, volumes(X), y, volumes(X_eval[:64]), y_eval[:64],
                        dataset="digits-volumes")


def conv1d_digits(dtype: np.dtype, seed: int = 0) -> ModelProblem:
    """The 1-d layers of issue 18, down and up again: each digit's 8 rows as 8 channels of
    a length-8 signal, ``Conv1d(8, 8, 3, padding=1) -> ReLU -> AvgPool1d(2) ->
    ConvTranspose1d(8, 4, 3, stride=2, padding=1, output_padding=1) -> Tanh ->
    AdaptiveAvgPool1d(3) -> Flatten -> Linear(12, 10)``, cross-entropy (256 training
    images, 64 held out)."""
    from manual import layers
    from manual.layers.activation import ReLU, Tanh  # declared there; layers re-exports them

    net = layers.Sequential(
        layers.Conv1d(8, 8, 3, padding=1, dtype=dtype, rng=seed),
        ReLU(),
        layers.AvgPool1d(2),
        layers.ConvTranspose1d(8, 4, 3, stride=2, padding=1, output_padding=1, dtype=dtype,
                               rng=seed + 1),
        Tanh(),
        layers.AdaptiveAvgPool1d(3),
        layers.Flatten(),
        layers.Linear(12, 10, dtype=dtype, rng=seed + 2),
        loss="cross_entropy")
    X, y, X_eval, y_eval = _digits(dtype, n_train=256)
    return ModelProblem(net, X[:, 0], y, X_eval[:64, 0], y_eval[:64], dataset="digits-rows")


register_model("lstm-parity", lstm_parity)
register_model("cnn-digits", cnn_digits)
register_model("bn-mlp-digits", bn_mlp_digits)
register_model("conv-autoencoder-digits", conv_autoencoder_digits)
register_model("norm-cnn-digits", norm_cnn_digits)
register_model("conv3d-digits", conv3d_digits)
register_model("conv1d-digits", conv1d_digits)

#: 1280 training images in batches of 32: 40 steps per epoch, 3 epochs = 120 steps
MODEL_TRAJECTORY_CASES: list[ModelTrajectoryCase] = [
    *(ModelTrajectoryCase("cnn-digits", "adam", dt, (("lr", 0.01),), epochs=3)
      for dt in ("float64", "float32")),
    *(ModelTrajectoryCase("cnn-digits", "sgd", dt, (("lr", 0.05), ("momentum", 0.9)),
                          "momentum", epochs=3, exhaustive=True)
      for dt in ("float64", "float32")),
    ModelTrajectoryCase("bn-mlp-digits", "adamw", "float64", (("lr", 0.01),), epochs=3,
                        exhaustive=True),
    ModelTrajectoryCase("bn-mlp-digits", "sgd", "float32", (("lr", 0.05), ("momentum", 0.9)),
                        "momentum", epochs=3, exhaustive=True),
    # 256 images in batches of 32: 8 steps per epoch, 13 epochs = 104 steps. float64 only:
    # these models pass thousands of values per step through kinks (ReLU, PReLU) and
    # argmaxes (max pooling), and in float32 a rounding-sized difference between two
    # implementations flips one of them now and then (measured: norm-cnn-digits in float32
    # jumped from 1e-7 to 2.5e-5 at step 14 under torch's plain kernels, not under avx512),
    # a discrete change that no bound on rounding covers; in float64 such a flip needs two
    # values within ~1e-16 of each other
    *(ModelTrajectoryCase(model, "adam", "float64", (("lr", 0.01),), epochs=13)
      for model in ("conv-autoencoder-digits", "norm-cnn-digits", "conv3d-digits",
                    "conv1d-digits")),
]


# --------------------------------------------------------------------------------------
# a one-block transformer encoder on a synthetic sequence task (issue 9)
# --------------------------------------------------------------------------------------
def majority_sequences(n: int, length: int = 6, d: int = 8, classes: int = 3, seed: int = 0,
                       dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic sequence task drawn from ``seed``: ``n`` sequences of ``length`` tokens
    (N, L, d); each token is the one-hot code of a symbol in ``0 .. classes-1`` (in its first
    ``classes`` features) plus N(0, 0.1²) noise on every feature, and the label is the
    symbol that occurs most often (ties: the smallest)."""
    rng = np.random.default_rng(seed)
    symbols = rng.integers(0, classes, size=(n, length))
    X = 0.1 * rng.standard_normal((n, length, d))
    X[np.arange(n)[:, None], np.arange(length)[None, :], symbols] += 1.0  # one-hot codes
    counts = (symbols[..., None] == np.arange(classes)).sum(axis=1)  # (n, classes)
    return X.astype(dtype), counts.argmax(axis=1).astype(np.int64)


def transformer_sequences(dtype: np.dtype, seed: int = 0) -> ModelProblem:
    r"""``TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0, batch_first=True) ->
    Flatten -> Linear(6·8, 3)``, cross-entropy, on :func:`majority_sequences` (512
    training and 128 held-out sequences).

    Trained with SGD (momentum) and clipped gradients it follows torch within 1e-9. With
    Adam it cannot, in one place: the key bias (``in_proj_bias[E:2E]``) has a gradient that
    is zero in exact arithmetic (softmax ignores a shift common to all keys) and ~1e-17 in
    floating point, different noise in any two implementations; Adam divides by
    :math:`\sqrt{v} + \epsilon` and turns it into steps of ~:math:`lr\,g/\epsilon`, so
    that parameter random-walks on noise (``tests/test_attention.py`` pins this down)."""
    from manual import layers

    net = layers.Sequential(
        layers.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                       batch_first=True, dtype=dtype, rng=seed),
        layers.Flatten(),
        layers.Linear(6 * 8, 3, dtype=dtype, rng=seed + 1),
        loss="cross_entropy")
    X, y = majority_sequences(640, seed=seed, dtype=dtype)
    return ModelProblem(net, X[:512], y[:512], X[512:], y[512:], dataset="majority-sequences")


register_model("transformer-seq", transformer_sequences)
#: 512 sequences in batches of 16: 32 steps per epoch, 128 steps in all, gradients clipped
#: before every step
MODEL_TRAJECTORY_CASES += [
    ModelTrajectoryCase("transformer-seq", "sgd", "float64", (("lr", 0.05), ("momentum", 0.9)),
                        "momentum-clip", epochs=4, batch_size=16, clip_grad_norm=1.0),
    ModelTrajectoryCase("transformer-seq", "sgd", "float32", (("lr", 0.05), ("momentum", 0.9)),
                        "momentum-clip", epochs=4, batch_size=16, clip_grad_norm=1.0,
                        exhaustive=True),
    ModelTrajectoryCase("transformer-seq", "sgd", "float64", (("lr", 0.05), ("momentum", 0.9)),
                        "momentum-clip-value", epochs=4, batch_size=16, clip_grad_value=0.5,
                        exhaustive=True),
]

# --------------------------------------------------------------------------------------
# an encoder-decoder Transformer on a copy task (issue 18)
# --------------------------------------------------------------------------------------
def copy_sequences(n: int, length: int = 4, d: int = 8, vocab: int = 4, seed: int = 0,
                   dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """A copy task drawn from ``seed``: ``n`` source sequences of ``length`` symbols in
    ``0 .. vocab-1``, each token the one-hot code of its symbol (in its first ``vocab`` of
    ``d`` features) plus N(0, 0.1²) noise; the decoder's input is the source shifted right
    behind a start token (feature ``vocab``), as in teacher forcing. ``X`` (n, 2·length,
    d) packs source and decoder input along the sequence axis
    (:class:`~comparisons.core.transformer_calls.PackedTransformer`), ``y`` (n, length,
    vocab) the one-hot source the decoder must reproduce."""
    rng = np.random.default_rng(seed)
    symbols = rng.integers(0, vocab, size=(n, length))
    onehot = np.eye(d)[symbols]  # (n, length, d)
    start = np.broadcast_to(np.eye(d)[vocab], (n, 1, d))
    tgt_in = np.concatenate([start, onehot[:, :-1]], axis=1)
    X = np.concatenate([onehot, tgt_in], axis=1) + 0.1 * rng.standard_normal((n, 2 * length, d))
    return X.astype(dtype), np.eye(vocab)[symbols].astype(dtype)


def transformer_copy(dtype: np.dtype, seed: int = 0) -> ModelProblem:
    """``Transformer(d_model=8, nhead=2, 1 encoder and 1 decoder layer, dim_feedforward=16,
    dropout=0, batch_first=True)`` (source and decoder input packed in one input, the
    decoder causal) ``-> Linear(8, 4)`` per position, mean squared error against the
    one-hot source: :func:`copy_sequences`, 128 training and 64 held-out sequences."""
    from comparisons.core.transformer_calls import PackedTransformer
    from manual import layers

    net = layers.Sequential(
        PackedTransformer(4, d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                          dim_feedforward=16, dropout=0.0, dtype=dtype, rng=seed),
        layers.Linear(8, 4, dtype=dtype, rng=seed + 1),
        loss="mse")
    X, y = copy_sequences(192, seed=seed, dtype=dtype)
    return ModelProblem(net, X[:128], y[:128], X[128:], y[128:], dataset="copy-sequences")


register_model("transformer-copy", transformer_copy)
#: 128 sequences in batches of 16: 8 steps per epoch, 13 epochs = 104 steps
MODEL_TRAJECTORY_CASES += [
    ModelTrajectoryCase("transformer-copy", "sgd", "float64", (("lr", 0.1), ("momentum", 0.9)),
                        "momentum", epochs=13, batch_size=16),
    ModelTrajectoryCase("transformer-copy", "sgd", "float32", (("lr", 0.1), ("momentum", 0.9)),
                        "momentum", epochs=13, batch_size=16, exhaustive=True),
    ModelTrajectoryCase("transformer-copy", "sgd", "float64", (("lr", 0.1),), epochs=13,
                        batch_size=16, exhaustive=True),
]

# the LSTM sequence classifier with gradient clipping (issue 9): 8 steps per epoch, 13 epochs
MODEL_TRAJECTORY_CASES += [
    *(ModelTrajectoryCase("lstm-parity", "adam", dt, (("lr", 0.02),), "clip1", epochs=13,
                          clip_grad_norm=1.0, exhaustive=dt == "float32")
      for dt in ("float64", "float32")),
    ModelTrajectoryCase("lstm-parity", "sgd", "float64", (("lr", 0.5), ("momentum", 0.9)),
                        "momentum-clip0.5", epochs=13, clip_grad_norm=0.5, exhaustive=True),
]


def run_model_trajectory(case: ModelTrajectoryCase) -> pd.DataFrame:
    """Build ``case`` from its seed and compare its training run with torch's."""
    if case.model not in MODEL_BUILDERS:
        raise ValueError(f"unknown model {case.model!r}; valid: {', '.join(MODEL_BUILDERS)}")
    seed_torch(case.seed)  # nothing depends on what ran before (or on the process)
    prob = MODEL_BUILDERS[case.model](case.np_dtype, case.seed)
    opt = optimizers.get(case.optimizer, prob.net.params, **dict(case.optimizer_kwargs))
    return compare_model_training(prob.net, prob.X, prob.y, opt, case.epochs, case.batch_size,
                                  seed=case.seed, X_eval=prob.X_eval, y_eval=prob.y_eval,
                                  case=case.id, info={"dataset": prob.dataset},
                                  clip_grad_norm=case.clip_grad_norm,
                                  clip_grad_value=case.clip_grad_value)


def run_model_trajectories(cases: Iterable[ModelTrajectoryCase]) -> pd.DataFrame:
    """All rows of ``cases``."""
    frames = [run_model_trajectory(c) for c in cases]
    if not frames:
        return pd.DataFrame(columns=TRAJECTORY_COLUMNS)
    return pd.concat(frames, ignore_index=True)
