"""Hand-written backpropagation in pure NumPy (no torch, ever: a test enforces it).

Modules, one concept each:

- :mod:`manual.activations` — activation functions with derivative and backward.
- :mod:`manual.losses` — loss functions with their gradient.
- :mod:`manual.layers` — the affine layer.
- :mod:`manual.network` — :class:`MLP`, a multilayer perceptron trained by backprop.
"""

from manual import activations, layers, losses
from manual.network import MLP

__all__ = ["MLP", "activations", "layers", "losses"]
