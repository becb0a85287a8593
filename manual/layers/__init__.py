"""Layers, one module per family, each following the layer protocol of
:mod:`manual.layers.base` (configured and named like its ``torch.nn`` module):

- :mod:`~manual.layers.base` — the protocol: ``params``, ``buffers``, ``grads``,
  ``forward(x)``, ``backward(dout) -> dx``, ``train()``/``eval()``.
- :mod:`~manual.layers.linear` — ``Linear`` (torch's (out, in) weight), ``Identity``, and the
  MLP's ``Dense`` with the CS231n-style ``affine_forward``/``affine_backward``.
- :mod:`~manual.layers.activation` — every activation as a layer (``ReLU``, ``GELU``, …).
- :mod:`~manual.layers.shape` — ``Flatten``.
- :mod:`~manual.layers.container` — ``Sequential``, with the loss a network trains with.
- :mod:`~manual.layers.recurrent` — ``RNN``, ``LSTM``, ``GRU`` (backpropagation through time),
  their cells and the CS231n-style step functions.
"""

from manual.layers.activation import *  # noqa: F403
from manual.layers.activation import __all__ as _activation_all
from manual.layers.base import Layer
from manual.layers.container import Sequential
from manual.layers.linear import (Dense, Identity, Linear, affine_backward, affine_forward,
                                  linear_backward, linear_forward)
from manual.layers.recurrent import (GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell,
                                     gru_step_backward, gru_step_forward, lstm_step_backward,
                                     lstm_step_forward, rnn_step_backward, rnn_step_forward)
from manual.layers.shape import Flatten

__all__ = ["Dense", "Flatten", "GRU", "GRUCell", "Identity", "LSTM", "LSTMCell", "Layer",
           "Linear", "RNN", "RNNCell", "Sequential", "affine_backward", "affine_forward",
           "gru_step_backward", "gru_step_forward", "linear_backward", "linear_forward",
           "lstm_step_backward", "lstm_step_forward", "rnn_step_backward", "rnn_step_forward",
           *_activation_all]
