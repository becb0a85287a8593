"""torch's own module test inputs (``module_db``, the ModuleInfo samples of
``torch.testing._internal.common_modules``) through every manual layer that has a
``torch.nn`` namesake: each sample's constructor arguments build both modules (torch's
initial parameters copied into ours by name), its forward inputs run through both, and
every output, every input gradient, every parameter gradient (under one random upstream
gradient per output) and every buffer after the forward agree in float64 within
``TOL`` (rtol 1e-10, atol 1e-12: a handful of roundings either side). Integer outputs
(``return_indices``) agree exactly.

The layers whose samples need a bridge (constructor arguments that are torch modules or
torch callables, several forward inputs with keyword masks) have their own module_db
tests: ``tests/test_mha_options.py`` (MultiheadAttention) and
``tests/test_transformers.py`` (the transformer family); they are listed in ``BRIDGED``.

Outputs and gradients are matched by structure: a layer returning a tuple (a recurrent
layer's ``(output, h_n)``, max pooling's ``(out, indices)``) gets a tuple of upstream
gradients, passed as separate arguments where its ``backward`` takes several (``RNN``'s
``backward(d_output, d_hx)``) and as one tuple otherwise (``LSTMCell``'s ``(dh, dc)``);
the integer leaves get none. The input gradients come back in the order of the inputs."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
import torch

from manual import layers

from _layers import TOL, module_db_samples

#: layers with a module_db test of their own, and where it is
BRIDGED = {"MultiheadAttention": "tests/test_mha_options.py",
           "TransformerEncoderLayer": "tests/test_transformers.py",
           "TransformerDecoderLayer": "tests/test_transformers.py",
           "TransformerEncoder": "tests/test_transformers.py",
           "TransformerDecoder": "tests/test_transformers.py",
           "Transformer": "tests/test_transformers.py"}
#: torch.nn classes that torch's module_db has no samples for (compared elsewhere:
#: tests/test_layers.py and tests/test_new_layers.py)
WITHOUT_INFO = {"Dropout", "Flatten", "Hardsigmoid", "Identity", "Sequential", "Upsample"}
#: every manual layer class with a torch.nn namesake
NAMES = sorted(n for n in layers.__all__
               if isinstance(getattr(layers, n), type) and hasattr(torch.nn, n))
TESTED = [n for n in NAMES if n not in BRIDGED and n not in WITHOUT_INFO]


def _np(a: Any) -> Any:
    """Tensors to arrays (integer tensors stay integer), tuples element by element."""
    if isinstance(a, torch.Tensor):
        return a.detach().numpy().copy()
    if isinstance(a, (tuple, list)):
        return tuple(_np(x) for x in a)
    return a


def _fresh(a: Any) -> Any:
    """A leaf copy of each float tensor that requires grad, so every sample starts clean."""
    if isinstance(a, torch.Tensor):
        return a.detach().clone().requires_grad_(a.requires_grad)
    if isinstance(a, (tuple, list)):
        return tuple(_fresh(x) for x in a)
    return a


def _leaves(a: Any) -> list[Any]:
    if isinstance(a, (tuple, list)):
        return [leaf for x in a for leaf in _leaves(x)]
    return [a]


def _upstream(out: Any, rng: np.random.Generator) -> Any:
    """A standard-normal upstream gradient for each float leaf of ``out``; None for the
    integer ones (indices carry no gradient)."""
    if isinstance(out, (tuple, list)):
        return tuple(_upstream(o, rng) for o in out)
    out = np.asarray(out)
    return rng.standard_normal(out.shape) if out.dtype.kind == "f" else None


def _backward(ours: Any, d: Any) -> Any:
    if not isinstance(d, tuple):
        return ours.backward(d)
    takes = [p for p in inspect.signature(ours.backward).parameters.values()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(takes) >= len(d):
        return ours.backward(*d)
    return ours.backward(d if all(x is not None for x in d) else d[0])


def _where(sample: Any) -> str:
    c, f = sample.constructor_input, sample.forward_input
    shapes = [tuple(t.shape) for t in _leaves(list(f.args) + list(f.kwargs.values()))
              if isinstance(t, torch.Tensor)]
    return f"args={c.args} kwargs={c.kwargs} inputs={shapes}"


def _close(ours: Any, theirs: Any, what: str) -> None:
    theirs = np.asarray(theirs)
    ours = np.asarray(ours)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != torch's {theirs.shape}"
    if theirs.dtype.kind in "iub":
        np.testing.assert_array_equal(ours, theirs, err_msg=what)
    else:
        np.testing.assert_allclose(ours, theirs, **TOL[np.float64], err_msg=what)


def run_sample(name: str, info: Any, sample: Any) -> None:
    """One sample through both modules; AssertionError naming what disagrees."""
    cls = getattr(layers, name)
    c, f = sample.constructor_input, sample.forward_input
    takes_dtype = "dtype" in inspect.signature(cls.__init__).parameters
    ours = cls(*c.args, **(dict(c.kwargs, dtype=np.float64) if takes_dtype else c.kwargs))
    theirs = info.module_cls(*c.args, **c.kwargs).to(torch.float64)
    assert sorted(n for n, _ in theirs.named_parameters()) == sorted(ours.params)
    for pname, p in theirs.named_parameters():  # torch's initial values into ours
        ours.params[pname][...] = p.detach().numpy()
    args = list(f.args) + ([f.kwargs["input"]] if "input" in f.kwargs else [])
    assert set(f.kwargs) <= {"input"}, f"keyword inputs {sorted(f.kwargs)} need a bridge"
    targs = [_fresh(a) for a in args]
    out_t = theirs(*targs)
    out_m = ours.forward(*[_np(a) for a in targs])
    t_leaves, m_leaves = _leaves(out_t), _leaves(out_m)
    assert len(m_leaves) == len(t_leaves), f"{len(m_leaves)} outputs, torch {len(t_leaves)}"
    for i, (m, t) in enumerate(zip(m_leaves, t_leaves)):
        _close(m, _np(t), f"{name} output {i}, {_where(sample)}")
    for bname, b in theirs.named_buffers():
        _close(ours.buffers[bname], _np(b), f"{name} buffer {bname}, {_where(sample)}")
    d = _upstream(out_m, np.random.default_rng(0))
    pairs = [(t, torch.as_tensor(g)) for t, g in zip(t_leaves, _leaves(d))
             if g is not None and t.requires_grad]
    torch.autograd.backward([t for t, _ in pairs], [g for _, g in pairs])
    dxs = _backward(ours, d)
    dxs = dxs if isinstance(dxs, tuple) else (dxs,)
    for i, a in enumerate(targs):  # the gradient of each input that requires one
        for j, (t, dm) in enumerate(zip(_leaves(a), _leaves(dxs[i] if i < len(dxs) else None))):
            if isinstance(t, torch.Tensor) and t.requires_grad:
                tg = np.zeros(tuple(t.shape)) if t.grad is None else t.grad.numpy()
                _close(dm, tg, f"{name} d input {i}.{j}, {_where(sample)}")
    for pname, p in theirs.named_parameters():
        tg = np.zeros(tuple(p.shape)) if p.grad is None else p.grad.numpy()
        _close(ours.grads[pname], tg, f"{name} d {pname}, {_where(sample)}")


@pytest.fixture(scope="module")
def samples():
    """name -> [(ModuleInfo, sample), ...] for every layer not in BRIDGED."""
    by_name: dict[str, list[Any]] = {}
    for name, info, sample in module_db_samples(TESTED):
        by_name.setdefault(name, []).append((info, sample))
    return by_name


def test_every_layer_with_a_module_info_is_covered(samples):
    """Every layer with a ModuleInfo is tested here or in its bridged test, and
    WITHOUT_INFO is exactly the rest (so that a ModuleInfo added in a later torch, or a
    layer added to manual.layers, shows up)."""
    from torch.testing._internal.common_modules import module_db

    with_info = {m.module_cls.__name__ for m in module_db}
    assert set(samples) == set(TESTED)
    assert WITHOUT_INFO == set(NAMES) - with_info - set(BRIDGED)


@pytest.mark.parametrize("name", TESTED, ids=lambda n: f"module_db-{n}")
def test_module_db_samples_agree_with_torch(samples, name):
    """Every sample of the layer: forward, buffers, input and parameter gradients."""
    for info, sample in samples[name]:
        run_sample(name, info, sample)


def test_a_wrong_gradient_fails_it(samples, monkeypatch):
    """The negative control: Tanh with its input gradient doubled fails on the first
    sample, naming the layer and the input."""

    class DoubledTanh(layers.Tanh):
        def backward(self, dout):
            return 2 * super().backward(dout)

    monkeypatch.setattr(layers, "Tanh", DoubledTanh)
    info, sample = samples["Tanh"][0]
    with pytest.raises(AssertionError, match="Tanh d input 0"):
        run_sample("Tanh", info, sample)
