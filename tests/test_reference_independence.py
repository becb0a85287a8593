"""reference/ (the oracle) shares nothing with manual/: no module under it imports manual,
directly or indirectly; and where torch has no built-in, the composition of torch ops that
stands in for one is cross-checked with central finite differences."""

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import reference
from comparisons.cases.components import COMPONENTS
from comparisons.core.oracles import central_difference
from comparisons.core.tolerances import FD_STEP, tolerance_for

REFERENCE = Path(__file__).resolve().parents[1] / "reference"


def test_no_manual_import_in_source():
    offenders = []
    for path in sorted(REFERENCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module]
            offenders += [f"{path.relative_to(REFERENCE.parent)}:{node.lineno} imports {m}"
                          for m in mods if m.split(".")[0] in ("manual", "comparisons")]
    assert not offenders, "\n".join(offenders)
    assert len(list(REFERENCE.rglob("*.py"))) >= 5


def test_importing_reference_does_not_load_manual():
    code = ("import sys, pkgutil, importlib, reference\n"
            "for m in pkgutil.walk_packages(reference.__path__, 'reference.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('manual', "
            "'comparisons')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REFERENCE.parent, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


COMPOSED = [c for c in COMPONENTS.values() if c.torch_note]


def test_compositions_are_the_ones_documented():
    assert {c.name for c in COMPOSED} == {"lecun_tanh", "sse", "quadratic"}
    for c in COMPOSED:
        assert "torch has no built-in" in c.torch_note
        assert "torch has no built-in" in c.torch.__doc__


@pytest.mark.parametrize("info", COMPOSED, ids=lambda c: c.name)
def test_composition_gradient_agrees_with_finite_differences(info):
    """autograd through the composition against central differences of the same
    composition (float64): the torch ops are assembled into a differentiable whole."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    if info.kind == "activation":
        def f(v):
            return info.torch(torch.from_numpy(v)).sum().item()
    else:
        target = torch.from_numpy(rng.standard_normal((3, 4)))

        def f(v):
            return info.torch(torch.from_numpy(v), target).item()
    xt = torch.tensor(x, requires_grad=True)
    out = info.torch(xt) if info.kind == "activation" else info.torch(xt, target)
    (grad,) = torch.autograd.grad(out.sum(), xt)
    fd = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = 1.0
        fd[idx] = central_difference(lambda t, e=e: np.array(f(x + t * e)), np.zeros(()),
                                     FD_STEP)
    tol = tolerance_for(np.float64, "fd")
    np.testing.assert_allclose(grad.numpy(), fd, rtol=tol.rtol, atol=tol.atol)
    module = reference.activations if info.kind == "activation" else reference.losses
    assert info.torch is module.FUNCTIONS[info.name]
