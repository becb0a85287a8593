"""Layers, one module per family, each following the layer protocol of
:mod:`manual.layers.base` (configured and named like its ``torch.nn`` module):

- :mod:`~manual.layers.base` — the protocol: ``params``, ``buffers``, ``grads``,
  ``forward(x)``, ``backward(dout) -> dx``, ``train()``/``eval()``.
- :mod:`~manual.layers.linear` — ``Linear`` (torch's (out, in) weight), ``Identity``, and the
  MLP's ``Dense`` with the CS231n-style ``affine_forward``/``affine_backward``, and
  ``Bilinear`` (two inputs) with ``bilinear_forward``/``bilinear_backward``.
- :mod:`~manual.layers.activation` — every activation as a layer (``ReLU``, ``GELU``, …),
  ``PReLU`` (a learned slope) and ``GLU``, with ``prelu_*`` and ``glu_*`` pairs.
- :mod:`~manual.layers.conv` — ``Conv1d``, ``Conv2d``, ``Conv3d``, ``ConvTranspose1d``,
  ``ConvTranspose2d`` and the functional pairs ``conv2d_forward``/``conv2d_backward``,
  ``conv3d_*``, ``conv_transpose1d_*``, … (im2col and one matrix product, any number of
  spatial dims).
- :mod:`~manual.layers.pooling` — ``MaxPool1d``, ``MaxPool2d``, ``MaxPool3d``, ``AvgPool1d``,
  ``AvgPool2d``, ``AdaptiveAvgPool1d``, ``AdaptiveAvgPool2d``, ``AdaptiveMaxPool2d`` and their
  functional pairs.
- :mod:`~manual.layers.normalization` — ``BatchNorm1d``, ``BatchNorm2d``, ``BatchNorm3d``,
  ``InstanceNorm1d``, ``InstanceNorm2d``, ``LayerNorm``, ``GroupNorm``, ``RMSNorm``,
  ``LocalResponseNorm``, with ``batchnorm_forward``/``batchnorm_backward`` (the
  three-term backward), ``instancenorm_*``, ``layernorm_*``, ``groupnorm_*``,
  ``rmsnorm_*`` and ``local_response_norm_*``.
- :mod:`~manual.layers.dropout` — ``Dropout`` (its own seed, or a mask handed to it), with
  ``dropout_forward``/``dropout_backward``.
- :mod:`~manual.layers.embedding` — ``Embedding`` (padding_idx, repeated indices that
  accumulate), with ``word_embedding_forward``/``word_embedding_backward``.
- :mod:`~manual.layers.padding` — ``ZeroPad2d``, ``ReflectionPad2d`` (torch's
  ``(left, right, top, bottom)``), with ``pad2d_forward``/``pad2d_backward``;
  ``ZeroPad1d``/``3d``, ``ReflectionPad1d``/``3d``, ``ReplicationPad1d``/``2d``/``3d``,
  ``CircularPad1d``/``2d``/``3d``, with ``pad_nd_forward``/``pad_nd_backward``
  (``F.pad``'s four modes over any number of trailing axes; also the convolutions'
  ``padding_mode``).
- :mod:`~manual.layers.upsample` — ``Upsample`` (``nearest``, ``linear``, ``bilinear``,
  ``trilinear``, ``align_corners``), with ``upsample_forward``/``upsample_backward``.
- :mod:`~manual.layers.shape` — ``Flatten``.
- :mod:`~manual.layers.container` — ``Sequential``, with the loss a network trains with.
- :mod:`~manual.layers.attention` — ``scaled_dot_product_attention`` (with the
  ``attention_forward``/``attention_backward`` pair) and ``MultiheadAttention``.
- :mod:`~manual.layers.transformer` — ``TransformerEncoderLayer``, ``TransformerDecoderLayer``,
  ``TransformerEncoder``, ``TransformerDecoder``, ``Transformer``, with the pairs
  ``transformer_encoder_layer_forward``/``…_backward``,
  ``transformer_decoder_layer_forward``/``…_backward``,
  ``transformer_forward``/``transformer_backward``.
- :mod:`~manual.layers.recurrent` — ``RNN``, ``LSTM``, ``GRU`` (backpropagation through time),
  their cells and the CS231n-style step functions.
"""

from manual.layers.activation import *  # noqa: F403
from manual.layers.activation import __all__ as _activation_all
from manual.layers.attention import (MultiheadAttention, attention_backward, attention_forward,
                                     scaled_dot_product_attention)
from manual.layers.base import Layer
from manual.layers.container import Sequential
from manual.layers.conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,
                                conv1d_backward, conv1d_forward, conv2d_backward, conv2d_forward,
                                conv3d_backward, conv3d_forward, conv_transpose1d_backward,
                                conv_transpose1d_forward, conv_transpose2d_backward,
                                conv_transpose2d_forward)
from manual.layers.linear import (Bilinear, Dense, Identity, Linear, affine_backward,
                                  affine_forward, bilinear_backward, bilinear_forward,
                                  linear_backward, linear_forward)
from manual.layers.pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool2d,
                                   AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d, MaxPool3d,
                                   adaptive_avg_pool1d_backward, adaptive_avg_pool1d_forward,
                                   adaptive_avg_pool2d_backward,
                                   adaptive_avg_pool2d_forward, adaptive_max_pool2d_backward,
                                   adaptive_max_pool2d_forward, avg_pool1d_backward,
                                   avg_pool1d_forward, avg_pool2d_backward, avg_pool2d_forward,
                                   max_pool1d_backward, max_pool1d_forward, max_pool2d_backward,
                                   max_pool2d_forward, max_pool3d_backward, max_pool3d_forward)
from manual.layers.dropout import Dropout, dropout_backward, dropout_forward
from manual.layers.embedding import Embedding, word_embedding_backward, word_embedding_forward
from manual.layers.normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm,
                                         InstanceNorm1d, InstanceNorm2d, LayerNorm,
                                         LocalResponseNorm, RMSNorm, batchnorm_backward,
                                         batchnorm_forward, groupnorm_backward,
                                         groupnorm_forward, instancenorm_backward,
                                         instancenorm_forward, layernorm_backward,
                                         layernorm_forward, local_response_norm_backward,
                                         local_response_norm_forward, rmsnorm_backward,
                                         rmsnorm_forward)
from manual.layers.recurrent import (GRU, LSTM, RNN, GRUCell, LastTimeStep, LSTMCell, RNNCell,
                                     gru_step_backward, gru_step_forward, lstm_step_backward,
                                     lstm_step_forward, rnn_step_backward, rnn_step_forward)
from manual.layers.padding import (CircularPad1d, CircularPad2d, CircularPad3d,
                                   ReflectionPad1d, ReflectionPad2d, ReflectionPad3d,
                                   ReplicationPad1d, ReplicationPad2d, ReplicationPad3d,
                                   ZeroPad1d, ZeroPad2d, ZeroPad3d, pad2d_backward,
                                   pad2d_forward, pad_nd_backward, pad_nd_forward)
from manual.layers.shape import Flatten
from manual.layers.transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,
                                       TransformerEncoder, TransformerEncoderLayer,
                                       transformer_backward, transformer_decoder_layer_backward,
                                       transformer_decoder_layer_forward,
                                       transformer_encoder_layer_backward,
                                       transformer_encoder_layer_forward, transformer_forward)
from manual.layers.upsample import Upsample, upsample_backward, upsample_forward

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d", "conv1d_backward", "conv1d_forward",
           "conv2d_backward", "conv2d_forward", "conv_transpose2d_backward",
           "conv_transpose2d_forward"]
__all__ += ["Conv3d", "ConvTranspose1d", "conv3d_backward", "conv3d_forward",
            "conv_transpose1d_backward", "conv_transpose1d_forward"]
__all__ += ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool1d", "MaxPool2d",
            "adaptive_avg_pool2d_backward", "adaptive_avg_pool2d_forward", "avg_pool2d_backward",
            "avg_pool2d_forward", "max_pool1d_backward", "max_pool1d_forward",
            "max_pool2d_backward", "max_pool2d_forward"]
__all__ += ["AdaptiveAvgPool1d", "MaxPool3d", "adaptive_avg_pool1d_backward",
            "adaptive_avg_pool1d_forward", "max_pool3d_backward", "max_pool3d_forward"]
__all__ += ["Dense", "Flatten", "GRU", "GRUCell", "Identity", "LSTM", "LSTMCell", "LastTimeStep",
            "Layer",
            "Linear", "RNN", "RNNCell", "Sequential", "affine_backward", "affine_forward",
            "gru_step_backward", "gru_step_forward", "linear_backward", "linear_forward",
            "lstm_step_backward", "lstm_step_forward", "rnn_step_backward", "rnn_step_forward",
            *_activation_all]
__all__ += ["BatchNorm1d", "BatchNorm2d", "Dropout", "Embedding", "GroupNorm", "LayerNorm",
            "batchnorm_backward", "batchnorm_forward", "dropout_backward", "dropout_forward",
            "groupnorm_backward", "groupnorm_forward", "layernorm_backward", "layernorm_forward",
            "word_embedding_backward", "word_embedding_forward"]
__all__ += ["MultiheadAttention", "Transformer", "TransformerDecoder", "TransformerDecoderLayer",
            "TransformerEncoder", "TransformerEncoderLayer", "attention_backward",
            "attention_forward", "scaled_dot_product_attention", "transformer_backward",
            "transformer_decoder_layer_backward", "transformer_decoder_layer_forward",
            "transformer_encoder_layer_backward", "transformer_encoder_layer_forward",
            "transformer_forward"]
__all__ += ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ReflectionPad1d",
            "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
            "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "pad2d_backward",
            "pad2d_forward", "pad_nd_backward", "pad_nd_forward"]
__all__ += ["RMSNorm", "rmsnorm_backward", "rmsnorm_forward"]
__all__ += ["Bilinear", "bilinear_backward", "bilinear_forward"]
__all__ += ["Upsample", "upsample_backward", "upsample_forward"]
__all__ += ["AdaptiveMaxPool2d", "AvgPool1d", "adaptive_max_pool2d_backward",
            "adaptive_max_pool2d_forward", "avg_pool1d_backward", "avg_pool1d_forward"]
__all__ += ["BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "LocalResponseNorm",
            "instancenorm_backward", "instancenorm_forward", "local_response_norm_backward",
            "local_response_norm_forward"]
