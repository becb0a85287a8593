"""The same student's layers.py with the slips ``backprop-compare check`` must catch and name
(tests/students/test_check_cli.py): every function not redefined here is the correct one
from layers.py. Not a test file."""

import numpy as np

from layers import *  # noqa: F401,F403 - the correct functions, beside this file


def affine_forward(x, w):  # forgot the bias: not the signature the assignment asks for
    return x.reshape(x.shape[0], -1).dot(w), (x, w)


def relu_forward(x):
    x[x < 0] = 0  # in place: the caller's x is overwritten
    out = x
    return out, x


def svm_loss(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y]
    margins = np.maximum(0, x - correct[:, np.newaxis] + 1.0)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N
    dx = np.zeros_like(x)
    dx[margins > 0] = 1
    dx[np.arange(N), y] -= np.sum(margins > 0, axis=1)
    return loss, dx  # forgot to divide dx by N


def softmax_loss(x, y):
    probs = np.exp(x) / np.sum(np.exp(x), axis=1)  # (N, C) / (N,): does not broadcast
    N = x.shape[0]
    return -np.mean(np.log(probs[np.arange(N), y])), probs


def batchnorm_backward(dout, cache):
    xhat, gamma, std = cache
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dx = dout * gamma / std  # the paths through the mean and the variance are missing
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    p, mode = dropout_param['p'], dropout_param['mode']  # dropout_param['seed'] ignored
    mask = None
    if mode == 'train':
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    else:
        out = x
    return out, (dropout_param, mask)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param['stride'], conv_param['pad']
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            dw = np.tensordot(dout[:, :, i, j], window, axes=([0], [0]))  # = instead of +=
            dxp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += \
                np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    dx = dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    return dx, dw, db


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h)  # tanh' is 1 - tanh^2
    return da.dot(Wx.T), da.dot(Wh.T), x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)
