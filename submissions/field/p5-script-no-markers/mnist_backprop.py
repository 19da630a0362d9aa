# DL HW1 problem 5 -- backprop by hand in numpy
# I wrote this in VS Code as a normal script (python mnist_backprop.py), not a notebook.
# Layers are stored (n_in, n_out) and samples are row vectors.

import math

import numpy as np
from numpy.random import default_rng
from tensorflow import keras

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data(path="mnist.npz")
print("train:", x_train.shape, "test:", x_test.shape)


# ---- helpers from the starter ----
def sigmoid(x):
    x = np.clip(x, -500, 500)
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def dsigmoid(x):
    return sigmoid(x) * (1 - sigmoid(x))


def softmax(x):
    b = x.max()
    y = np.exp(x - b)
    return y / y.sum()


def cross_entropy_loss(y, yHat):
    return -np.sum(y * np.log(yHat))


def integer_to_one_hot(x, max):
    result = np.zeros(10)
    result[x] = 1
    return result


# ---- Q1: 784 -> 32 -> 32 -> 10, N(0, 1/max(n_in, n_out)), zero biases ----
rng = default_rng(80085)
layer_sizes = [784, 32, 32, 10]
weights = []
biases = []
for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
    sd = 1 / math.sqrt(max(n_in, n_out))
    weights.append(rng.normal(0.0, sd, size=(n_in, n_out)))
    biases.append(np.zeros(n_out))

for W, b in zip(weights, biases):
    print("layer", W.shape, "std %.4f" % W.std(), "bias sum", b.sum())


# ---- Q2: forward pass ----
def forward(sample):
    """pre-activations z and activations a of every layer (a[0] is the input)"""
    a = [sample.reshape(-1).astype(float)]
    z = []
    for k in range(3):
        z.append(a[-1] @ weights[k] + biases[k])
        a.append(sigmoid(z[-1]) if k < 2 else softmax(z[-1]))
    return z, a


def feed_forward_sample(sample, y):
    _, a = forward(sample)
    probs = a[-1]
    loss = cross_entropy_loss(integer_to_one_hot(y, 10), probs)
    one_hot_guess = np.zeros(10)
    one_hot_guess[np.argmax(probs)] = 1
    return loss, one_hot_guess


def feed_forward_dataset(x, y):
    losses = np.empty(x.shape[0])
    one_hot_guesses = np.empty((x.shape[0], 10))
    for n in range(x.shape[0]):
        losses[n], one_hot_guesses[n] = feed_forward_sample(x[n], y[n])

    y_one_hot = np.zeros((y.size, 10))
    y_one_hot[np.arange(y.size), y] = 1

    correct_guesses = np.sum(y_one_hot * one_hot_guesses)
    correct_guess_percent = format((correct_guesses / y.shape[0]) * 100, ".2f")

    print("\nAverage loss:", np.round(np.average(losses), decimals=2))
    print("Accuracy (# of correct guesses):", correct_guesses, "/", y.shape[0], "(", correct_guess_percent, "%)")


def feed_forward_training_data():
    print("Feeding forward all training data...")
    feed_forward_dataset(x_train, y_train)
    print("")


def feed_forward_test_data():
    print("Feeding forward all test data...")
    feed_forward_dataset(x_test, y_test)
    print("")


feed_forward_test_data()


# ---- Q3: one SGD step on one sample ----
def train_one_sample(sample, y, learning_rate=0.003):
    z, a = forward(sample)
    # softmax + cross entropy: dL/dz_out = p - y
    delta = a[3] - integer_to_one_hot(y, 10)
    weight_gradients = [None, None, None]
    bias_gradients = [None, None, None]
    for k in (2, 1, 0):
        weight_gradients[k] = np.outer(a[k], delta)
        bias_gradients[k] = delta
        if k > 0:
            delta = (weights[k] @ delta) * dsigmoid(z[k - 1])
    for i in range(len(weights)):
        weights[i] -= weight_gradients[i] * learning_rate
        biases[i] -= bias_gradients[i].flatten() * learning_rate


# ---- Q4: 3 epochs ----
def train_one_epoch(learning_rate=0.003):
    print("Training for one epoch over the training dataset...")
    for n in range(len(x_train)):
        train_one_sample(x_train[n], y_train[n], learning_rate)
    feed_forward_training_data()
    print("Finished training.\n")


def test_and_train():
    train_one_epoch()
    feed_forward_test_data()


for epoch in range(3):
    print("=== epoch", epoch + 1)
    test_and_train()

print("final test accuracy:", test_accuracy)

for W in weights:
    print("trained layer", W.shape, "std %.4f" % W.std())
