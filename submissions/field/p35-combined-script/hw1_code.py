#!/usr/bin/env python
# coding: utf-8

# # DL HW1 -- code for problems 3 and 5

# ## Problem 3(a)

# In[1]:


import numpy as np
from scipy.optimize import least_squares

# dataset 1 and 2 from the figures
x_one = np.arange(0, 13)
y_one = np.array([8., 6., 4., 2., 0., 2., 4., 2., 0., 2., 4., 6., 8.])
x_two = np.arange(0, 11)
y_two = np.array([0., 1., 2., 3., 2., 1., 1.5, 2., 2.5, 3., 3.5])


# In[2]:


def net(th, x):
    return np.maximum(0, np.outer(x, th[:4]) + th[4:8]) @ th[8:12] + th[12]

def best_fit(x, y, n_starts=300, seed=0):
    g = np.random.default_rng(seed)
    best = None
    for _ in range(n_starts):
        th0 = np.concatenate([np.ones(4), -g.uniform(0, x.max(), 4), g.normal(size=5)])
        r = least_squares(lambda th: net(th, x) - y, th0, xtol=1e-15, ftol=1e-15, gtol=1e-15)
        if best is None or r.cost < best.cost:
            best = r
        if r.cost < 1e-20:
            break
    return best

fit_1 = best_fit(x_one, y_one)
fit_2 = best_fit(x_two, y_two)
print(fit_1.x, fit_1.cost)
print(fit_2.x, fit_2.cost)


# In[3]:


# hidden/output weights and biases of the dataset-1 net, as in the figure of the homework
weights = np.vstack([fit_1.x[:4], fit_1.x[8:12]])     # row 0: W_H, row 1: W_O
biases = np.append(fit_1.x[4:8], fit_1.x[12])         # b_H1..4, b_O
print(weights)
print(biases)


# ## Problem 5

# In[4]:


import tensorflow as tf
import matplotlib.pyplot as plt

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data(path="mnist.npz")

plt.imshow(x_train[0], cmap='gray');

x_train = x_train / 255
x_test = x_test / 255


# In[5]:


import numpy as np

def sigmoid(x):
    # Numerically stable sigmoid function based on
    # http://timvieira.github.io/blog/post/2014/02/11/exp-normalize-trick/

    x = np.clip(x, -500, 500) # We get an overflow warning without this

    return np.where(
        x >= 0,
        1 / (1 + np.exp(-x)),
        np.exp(x) / (1 + np.exp(x))
    )

def dsigmoid(x): # Derivative of sigmoid
    return sigmoid(x) * (1 - sigmoid(x))

def softmax(x):
    # Numerically stable softmax based on (same source as sigmoid)
    # http://timvieira.github.io/blog/post/2014/02/11/exp-normalize-trick/
    b = x.max()
    y = np.exp(x - b)
    return y / y.sum()

def cross_entropy_loss(y, yHat):
    return -np.sum(y * np.log(yHat))

def integer_to_one_hot(x, max):
    # x: integer to convert to one hot encoding
    # max: the size of the one hot encoded array
    result = np.zeros(10)
    result[x] = 1
    return result


# In[6]:


# Q1. Initialize a 2-hidden-layer neural network with 32 neurons in each hidden layer:
#
#     784 -> 32 -> 32 -> 10
#
# If a layer is n_in x n_out, draw its weights from a normal distribution with mean 0 and
# variance 1/max(n_in, n_out); set the biases to 0. Use the generator `rng` below.
# `weights` and `biases` must each be a list of 3 numpy arrays, one per layer.
import math

from numpy.random import default_rng

rng = default_rng(80085)

# Q1. Fill initialization code here.
# ...
sz = (784, 32, 32, 10)
weights = [rng.normal(0, 1 / np.sqrt(max(sz[i], sz[i + 1])), (sz[i], sz[i + 1])) for i in range(3)]
biases = [np.zeros(sz[i + 1]) for i in range(3)]


# In[7]:


# Q2. Implement the forward pass for a single sample, and for the entire dataset.
# The network is still random, so the test accuracy printed by the last line
# should be about 1/10 (a random guess).

def feed_forward_sample(sample, y):
    """ Forward pass through the neural network.
    Inputs:
        sample: 1D numpy array. The input sample (an MNIST digit).
        label: An integer from 0 to 9.

    Returns: the cross entropy loss, most likely class
    """
    a = np.reshape(sample, -1)
    a = sigmoid(a @ weights[0] + biases[0])
    a = sigmoid(a @ weights[1] + biases[1])
    a = softmax(a @ weights[2] + biases[2])
    loss = cross_entropy_loss(integer_to_one_hot(y, 10), a)
    one_hot_guess = integer_to_one_hot(np.argmax(a), 10)
    return loss, one_hot_guess

def feed_forward_dataset(x, y):
    losses = np.empty(x.shape[0])
    one_hot_guesses = np.empty((x.shape[0], 10))

    for i in range(x.shape[0]):
        losses[i], one_hot_guesses[i] = feed_forward_sample(x[i], y[i])

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


# In[8]:


# Q3. Compute the gradient of all the weights and biases by backpropagating derivatives
# all the way from the output to the first layer. Keep it simple: train sample by sample
# (no minibatches, no randomness).

def train_one_sample(sample, y, learning_rate=0.003):
    a = sample.flatten()

    # We will store each layer's activations to calculate gradient
    activations = []

    # Forward pass

    activations = [a]
    for i in range(3):
        z = activations[i] @ weights[i] + biases[i]
        activations.append(softmax(z) if i == 2 else sigmoid(z))

    # Backward pass

    # Q3. Implement backpropagation by backward-stepping gradients through each layer.
    # You may need to be careful to make sure your Jacobian matrices are the right shape.
    err = activations[3] - integer_to_one_hot(y, 10)
    weight_gradients = [None] * 3
    bias_gradients = [None] * 3
    i = 2
    while i >= 0:
        weight_gradients[i] = np.outer(activations[i], err)
        bias_gradients[i] = err
        if i > 0:
            err = (weights[i] @ err) * activations[i] * (1 - activations[i])
        i -= 1

    # Update weights & biases based on your calculated gradient
    for i in range(len(weights)):
        weights[i] -= weight_gradients[i] * learning_rate
        biases[i] -= bias_gradients[i].flatten() * learning_rate


# In[9]:


# Q4. Train your model for 3 epochs by looping over the entire training dataset 3 times.

def train_one_epoch(learning_rate=0.003):
    print("Training for one epoch over the training dataset...")

    for n in range(len(x_train)):
        train_one_sample(x_train[n], y_train[n], learning_rate)

    feed_forward_training_data()

    print("Finished training.\n")

feed_forward_test_data()

def test_and_train():
    train_one_epoch()
    feed_forward_test_data()

for i in range(3):
    test_and_train()


# That's it!
# 
# Your code is probably very time- and memory-inefficient; that's ok. Professional deep learning
# frameworks hide a great deal of optimization that we won't get into.
# 
# If everything works, the test accuracy should rise from ~10% to ~70% after 3 epochs.
