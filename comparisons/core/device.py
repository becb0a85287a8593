"""Where the torch side runs: ``--device cpu`` (the default) or ``--device cuda``.

The manual side is NumPy and always runs on the CPU; only the oracle moves. On CUDA the
comparison is the same, in float64 and in float32, with TF32 turned off
(``torch.backends.cuda.matmul.allow_tf32`` and ``torch.backends.cudnn.allow_tf32``), so
that float32 products stay float32 (TF32 keeps 10 mantissa bits, far outside the float32
tolerance). The tolerance policy does not change on a GPU: float64 is IEEE double there
too, and a GPU kernel's different order of summation is the reordering the float64 rtol of
1e-10 already allows (see :mod:`comparisons.core.tolerances`).
"""

from __future__ import annotations

import torch

__all__ = ["DEVICES", "check_device", "torch_device"]

DEVICES = ("cpu", "cuda")


def check_device(name: str) -> None:
    """``ValueError`` for an unknown device or CUDA without a CUDA GPU and a CUDA build of
    torch; call it before any work starts."""
    if name not in DEVICES:
        raise ValueError(f"unknown device {name!r}; valid: {', '.join(DEVICES)}")
    if name == "cuda" and not torch.cuda.is_available():
        build = torch.version.cuda
        why = (f"torch {torch.__version__} is a CPU-only build" if build is None
               else f"torch {torch.__version__} (CUDA {build}) finds no CUDA GPU")
        raise ValueError(f"--device cuda: {why}; run on a machine with a CUDA GPU and a CUDA "
                         f"build of torch, or use --device cpu")


def torch_device(name: str = "cpu") -> torch.device:
    """The ``torch.device`` for ``name``, with TF32 turned off on CUDA (every call: a worker
    process starts with torch's defaults)."""
    check_device(name)
    if name == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return torch.device(name)


def seed_torch(seed: int) -> None:
    """``torch.manual_seed(seed)``, without its cost where no GPU can exist: torch's own call
    also queues the seeding of every accelerator back end (CUDA, XPU, MTIA) and records a
    stack trace for each (~1 ms a call); on a machine without CUDA only the CPU generator
    draws anything, so only it is seeded."""
    if torch.cuda.is_available():
        torch.manual_seed(seed)
    else:
        torch.random.default_generator.manual_seed(int(seed))
