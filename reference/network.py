"""The torch twin of :class:`manual.MLP`: ``nn.Linear`` layers, torch activations and
``torch.nn.functional`` losses, gradients by autograd.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from reference import activations, losses

__all__ = ["MLP"]

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def _name_and_kwargs(obj: Any, what: str) -> tuple[str, dict[str, Any]]:
    """Read ``name`` and ``kwargs`` from a manual activation or loss (or a student's own)."""
    name = getattr(obj, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"the network's {what} needs a .name attribute naming its torch "
                        f"counterpart, got {obj!r}")
    return name, dict(getattr(obj, "kwargs", {}) or {})


def _numpy(t: torch.Tensor) -> np.ndarray:
    """A tensor's values as a NumPy array (moved to the CPU first when on a GPU)."""
    return t.detach().cpu().numpy()


class MLP(nn.Module):
    """``sizes[0] -> ... -> sizes[-1]`` with torch built-ins; the oracle for :class:`manual.MLP`.

    Weights live in ``nn.Linear`` layers in torch's (out, in) layout. Use
    :meth:`from_manual` to copy a manual network's parameters exactly, and
    :meth:`gradients` to get autograd's gradients back under the manual names and
    (in, out) layout.
    """

    def __init__(self, sizes: Sequence[int], activation: str = "sigmoid",
                 output_activation: str = "identity", loss: str = "mse",
                 dtype: torch.dtype = torch.float64,
                 activation_kwargs: dict[str, Any] | None = None,
                 output_activation_kwargs: dict[str, Any] | None = None,
                 loss_kwargs: dict[str, Any] | None = None,
                 device: torch.device | str = "cpu") -> None:
        super().__init__()
        self.sizes = list(sizes)
        self.device = torch.device(device)
        self.linears = nn.ModuleList(nn.Linear(i, o, dtype=dtype, device=self.device)
                                     for i, o in zip(self.sizes[:-1], self.sizes[1:]))
        self.activation = activations.get(activation, **(activation_kwargs or {}))
        self.output_activation = activations.get(output_activation,
                                                 **(output_activation_kwargs or {}))
        self.loss_name = loss
        self.loss_fn = losses.get(loss, **(loss_kwargs or {}))
        self.dtype = dtype
        self.intermediates: dict[str, np.ndarray] = {}

    @classmethod
    def from_manual(cls, net: Any, device: torch.device | str = "cpu") -> MLP:
        """A torch network holding exact copies of ``net.params`` (W transposed to (out, in)),
        on ``device`` (``"cpu"`` or ``"cuda"``)."""
        params = net.params
        n_layers = len(params) // 2
        sizes = [params["W1"].shape[0]] + [params[f"W{l}"].shape[1]
                                           for l in range(1, n_layers + 1)]
        act, act_kw = _name_and_kwargs(net.activation, "activation")
        out, out_kw = _name_and_kwargs(net.output_activation, "output activation")
        loss, loss_kw = _name_and_kwargs(net.loss_fn, "loss")
        dtype = _TORCH_DTYPES[np.dtype(params["W1"].dtype)]
        tnet = cls(sizes, act, out, loss, dtype=dtype, activation_kwargs=act_kw,
                   output_activation_kwargs=out_kw, loss_kwargs=loss_kw, device=device)
        tnet.load_manual_params(params)
        return tnet

    @torch.no_grad()
    def load_manual_params(self, params: dict[str, np.ndarray]) -> None:
        """Copy manual parameters in: ``weight = W.T`` (torch stores (out, in)), ``bias = b``."""
        for l, lin in enumerate(self.linears, start=1):
            W, b = params[f"W{l}"], params[f"b{l}"]
            if W.T.shape != tuple(lin.weight.shape) or b.shape != tuple(lin.bias.shape):
                raise ValueError(f"W{l}/b{l} have shapes {W.shape}/{b.shape}, expected "
                                 f"{tuple(lin.weight.shape[::-1])}/{tuple(lin.bias.shape)}")
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))  # copy_ moves it
            lin.bias.copy_(torch.from_numpy(b))

    def manual_params(self) -> dict[str, np.ndarray]:
        """The parameters under the manual names and layout, as NumPy copies."""
        out: dict[str, np.ndarray] = {}
        for l, lin in enumerate(self.linears, start=1):
            out[f"W{l}"] = _numpy(lin.weight).T.copy()
            out[f"b{l}"] = _numpy(lin.bias).copy()
        return out

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        self._trace: dict[str, torch.Tensor] = {}
        a = X
        for l, lin in enumerate(self.linears, start=1):
            f = self.output_activation if l == len(self.linears) else self.activation
            z = lin(a)
            a = f(z)
            self._trace[f"z{l}"], self._trace[f"a{l}"] = z, a
        return a

    def target_tensor(self, y: np.ndarray) -> torch.Tensor:
        """``y`` as a tensor: class labels as int64, anything else in the network's dtype."""
        y = np.asarray(y)
        if y.dtype.kind in "iu":
            return torch.as_tensor(y, dtype=torch.int64, device=self.device)
        return torch.as_tensor(y, dtype=self.dtype, device=self.device)

    def gradients(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(loss, grads)`` by autograd, grads under the manual names and (in, out) layout.

        Also fills ``intermediates`` with the same keys :class:`manual.MLP` uses.
        """
        self.zero_grad(set_to_none=True)
        out = self.forward(torch.as_tensor(np.asarray(X), dtype=self.dtype, device=self.device))
        for t in self._trace.values():
            if t.requires_grad:
                t.retain_grad()
        J = self.loss_fn(out, self.target_tensor(y))
        J.backward()
        trace = {k: _numpy(v).copy() for k, v in self._trace.items()}
        trace["loss"] = _numpy(J).copy()
        for l in range(len(self.linears), 0, -1):
            for key in (f"a{l}", f"z{l}"):
                g = self._trace[key].grad
                trace[f"dJ/d{key}"] = (np.zeros_like(trace[key]) if g is None
                                       else _numpy(g).copy())
        self.intermediates = trace
        grads: dict[str, np.ndarray] = {}
        for l, lin in enumerate(self.linears, start=1):
            grads[f"W{l}"] = _numpy(lin.weight.grad).T.copy()  # back to (in, out)
            grads[f"b{l}"] = _numpy(lin.bias.grad).copy()
        return _numpy(J)[()], grads

    def vjp(self, X: np.ndarray, grad_out: np.ndarray) -> dict[str, np.ndarray]:
        """Autograd's vector–Jacobian product of the network output with ``grad_out``
        (no loss), under the manual names and (in, out) layout."""
        out = self.forward(torch.as_tensor(np.asarray(X), dtype=self.dtype, device=self.device))
        params = [p for lin in self.linears for p in (lin.weight, lin.bias)]
        vjps = torch.autograd.grad(out, params, torch.as_tensor(grad_out, dtype=self.dtype,
                                                                device=self.device))
        grads: dict[str, np.ndarray] = {}
        for l in range(1, len(self.linears) + 1):
            dW, db = vjps[2 * (l - 1)], vjps[2 * l - 1]
            grads[f"W{l}"] = _numpy(dW).T.copy()  # back to (in, out)
            grads[f"b{l}"] = _numpy(db).copy()
        return grads
