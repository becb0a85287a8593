"""The same student's network.py with a slip from chapter 2: the output error is taken as
dC/da alone, dropping the factor sigma'(z) of BP1, so every layer's delta, and every
gradient, is wrong. The checker must name the weights and biases
(tests/students/test_students.py); not a test file."""

import random

import numpy as np


class Network(object):

    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x)
                        for x, y in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        """Return the output of the network if ``a`` is input."""
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a)+b)
        return a

    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0):
        n = len(training_data)
        for j in range(epochs):
            random.shuffle(training_data)
            mini_batches = [
                training_data[k:k+mini_batch_size]
                for k in range(0, n, mini_batch_size)]
            for mini_batch in mini_batches:
                self.update_mini_batch(mini_batch, eta, lmbda, n)
            print("Epoch {0} complete".format(j))

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        nabla_b, nabla_w = self.gradient(mini_batch, lmbda, n)
        self.weights = [w-eta*nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b-eta*nb for b, nb in zip(self.biases, nabla_b)]

    def gradient(self, mini_batch, lmbda=0.0, n=None):
        """The gradient of the cost over ``mini_batch`` (a list of (x, y)), averaged over
        the examples, with the weight decay (lmbda/n) w; n is the size of the training
        set (default: the mini-batch's)."""
        n = len(mini_batch) if n is None else n
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb+dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw+dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        m = len(mini_batch)
        nabla_b = [nb/m for nb in nabla_b]
        nabla_w = [nw/m + (lmbda/n)*w for nw, w in zip(nabla_w, self.weights)]
        return (nabla_b, nabla_w)

    def backprop(self, x, y):
        """Return a tuple ``(nabla_b, nabla_w)`` representing the gradient of the cost
        function C_x for one example, layer by layer like ``self.biases`` and
        ``self.weights``."""
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        # feedforward
        activation = x
        activations = [x]  # list to store all the activations, layer by layer
        zs = []  # list to store all the z vectors, layer by layer
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation)+b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        # backward pass
        delta = self.cost_derivative(activations[-1], y)
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            z = zs[-l]
            sp = sigmoid_prime(z)
            delta = np.dot(self.weights[-l+1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l-1].transpose())
        return (nabla_b, nabla_w)

    def total_cost(self, data, lmbda=0.0):
        """The quadratic cost over ``data``, averaged, plus the L2 term."""
        cost = 0.0
        for x, y in data:
            a = self.feedforward(x)
            cost += 0.5*np.linalg.norm(a-y)**2/len(data)
        cost += 0.5*(lmbda/len(data))*sum(
            np.linalg.norm(w)**2 for w in self.weights)
        return cost

    def cost_derivative(self, output_activations, y):
        """The vector of partial derivatives dC_x/da for the output activations."""
        return (output_activations-y)


def sigmoid(z):
    return 1.0/(1.0+np.exp(-z))


def sigmoid_prime(z):
    """Derivative of the sigmoid function."""
    return sigmoid(z)*(1-sigmoid(z))
