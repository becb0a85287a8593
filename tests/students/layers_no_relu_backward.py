"""A student's CS231n layers, unfinished: ``relu_forward`` is written, ``relu_backward`` is
not. The backward cannot be checked, so the relu test must fail (never pass, as it did when
the forward was checked alone)."""

import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(0, x)
    return out, x
