"""Hand-written backpropagation in pure NumPy (no torch, ever: a test enforces it).

Modules, one concept each:

- :mod:`manual.activations` — activation functions with derivative and backward.
- :mod:`manual.losses` — loss functions with their gradient.
- :mod:`manual.layers` — layers as ``torch.nn`` modules (``Linear``, activations, ``Sequential``,
  …) and the MLP's affine layer.
- :mod:`manual.network` — :class:`MLP`, a multilayer perceptron trained by backprop.
- :mod:`manual.optimizers` — SGD, Adagrad, RMSprop, Adam, AdamW, Adamax, NAdam, RAdam,
  Adadelta, step for step as ``torch.optim``.
- :mod:`manual.schedules` — learning-rate schedules, as ``torch.optim.lr_scheduler``.
- :mod:`manual.training` — :func:`train`, the mini-batch training loop.
- :mod:`manual.clipping` — ``clip_grad_norm_``, ``clip_grad_value_``, as ``torch.nn.utils``.
- :mod:`manual.datasets` — XOR, two spirals, moons; scikit-learn's bundled real data.
"""

from manual import activations, clipping, datasets, layers, losses, optimizers, schedules, training
from manual.layers import Sequential
from manual.network import MLP
from manual.training import train

__all__ = ["MLP", "Sequential", "activations", "clipping", "datasets", "layers", "losses",
           "optimizers", "schedules", "train", "training"]
