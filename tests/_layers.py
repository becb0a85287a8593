"""Shared helpers of the layer tests: one manual layer against its torch module on the same
weights and inputs (:func:`compare`), standard-normal inputs, the dtypes, the constructor
arguments a class takes, and torch's own ModuleInfo samples (:func:`module_db_samples`).

Tolerances: float64 rtol 1e-10, atol 1e-12 (a handful of roundings either side); float32
rtol 1e-5, atol 1e-6 (~100 ulp of float32), for standard-normal inputs and sums of a few
dozen terms; see each test module for where a sample leaves that regime."""

from __future__ import annotations

import inspect

import numpy as np
import torch

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def compare(ours, theirs, inputs, dtype, seed=0, kwargs=None):
    """Forward and backward of ``ours`` against the torch module ``theirs`` on ``inputs``
    (a list of arrays) and the same keyword options (``kwargs``: masks as arrays, flags):
    weights copied into torch, a random upstream gradient; asserts the output, every
    input gradient and every parameter gradient agree within TOL."""
    kwargs = kwargs or {}
    tol = TOL[dtype]
    theirs = theirs.to(TORCH_DTYPE[dtype])
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            assert name in ours.params, (name, list(ours.params))
            p.copy_(torch.as_tensor(ours.params[name]))
    assert sorted(n for n, _ in theirs.named_parameters()) == sorted(ours.params)
    xs = [np.asarray(x, dtype=dtype) for x in inputs]
    txs = [torch.tensor(x, requires_grad=True) for x in xs]
    tkw = {k: v if not isinstance(v, np.ndarray) else torch.as_tensor(v).to(TORCH_DTYPE[dtype])
           if v.dtype.kind == "f" else torch.as_tensor(v) for k, v in kwargs.items()}
    out = ours.forward(*xs, **kwargs)
    tout = theirs(*txs, **tkw)
    assert out.dtype == dtype and out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out, tout.detach().numpy(), **tol, err_msg="forward")
    dout = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    tout.backward(torch.as_tensor(dout))
    dxs = ours.backward(dout)
    dxs = dxs if isinstance(dxs, tuple) else (dxs,)
    for i, (dx, tx) in enumerate(zip(dxs, txs, strict=True)):
        assert dx.dtype == dtype and dx.shape == xs[i].shape
        np.testing.assert_allclose(dx, tx.grad.numpy(), **tol, err_msg=f"d input {i}")
    for name, p in theirs.named_parameters():
        assert ours.grads[name].dtype == dtype
        np.testing.assert_allclose(ours.grads[name], p.grad.numpy(), **tol,
                                   err_msg=f"d {name}")


def x_of(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


DTYPES = [np.float64, np.float32]


def arguments(cls, leave_out=("self", "device", "dtype", "rng")):
    """The constructor's ``(name, default)`` pairs, less torch's ``device``/``dtype`` and
    our ``rng`` seed."""
    params = inspect.signature(cls.__init__).parameters
    return [(k, p.default) for k, p in params.items() if k not in leave_out]


def module_db_samples(names, dtype=torch.float64):
    """``(name, ModuleInfo, ModuleInput)`` for every sample torch's ``module_db`` has for the
    classes named in ``names`` (training mode; torch's generator seeded first, so the
    samples are the same every run). ``module_db`` imports in ~5 s; its helpers need
    ``expecttest`` (dev extra): an ImportError is a broken install and fails."""
    from torch.testing._internal.common_modules import module_db

    torch.manual_seed(0)
    out = []
    for info in module_db:
        name = info.module_cls.__name__
        if name in names:
            for sample in info.module_inputs_func(info, device="cpu", dtype=dtype,
                                                  requires_grad=True, training=True):
                out.append((name, info, sample))
    return out


def compare_module_db_sample(name, info, sample, ours_cls=None):
    """One ``module_db`` sample: our class of the same name (or ``ours_cls``) built with
    torch's constructor arguments (plus ``dtype=float64`` where it takes one), torch's
    initial parameter values copied into ours, then :func:`compare` in float64."""
    from manual import layers

    cls = ours_cls or getattr(layers, name)
    c = sample.constructor_input
    takes_dtype = "dtype" in inspect.signature(cls.__init__).parameters
    ours = cls(*c.args, **(dict(c.kwargs, dtype=np.float64) if takes_dtype else c.kwargs))
    theirs = info.module_cls(*c.args, **c.kwargs)
    for pname, p in theirs.named_parameters():  # torch's initial values into ours
        ours.params[pname][...] = p.detach().numpy()
    xs = [a.detach().numpy() for a in sample.forward_input.args]
    compare(ours, theirs, xs, np.float64)
