#!/usr/bin/env python
# coding: utf-8

# # Homework 1, Problem 5: backpropagation from scratch
# 
# In this problem we train a small neural network using nothing but numpy. In practice you would
# never do this (you would use PyTorch or TensorFlow), but writing the backward pass by hand shows
# what those libraries do under the hood.
# 
# We use the MNIST benchmark: 28x28 grayscale images of handwritten digits 0-9, 60,000 for training
# and 10,000 for testing.
# 
# In the autodiff demo we let the framework record how to compute gradients. Here you will instead
# derive and code the gradient of the loss with respect to every weight and bias yourself.
# 
# Loading MNIST (next cell) is the only place where we use TensorFlow; the rest of the code is pure
# numpy. The cell after it sets up helper functions: sigmoid activations for the hidden neurons,
# softmax for the last layer, and the cross-entropy loss.

# In[1]:


import tensorflow as tf
import matplotlib.pyplot as plt
get_ipython().run_line_magic('matplotlib', 'inline')

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data(path="mnist.npz")

plt.imshow(x_train[0], cmap='gray');


# In[2]:


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


# In[3]:


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
shapes = [(784, 32), (32, 32), (32, 10)]
weights = [rng.normal(loc=0, scale=math.sqrt(1 / max(s)), size=s) for s in shapes]
biases = [np.zeros(s[1]) for s in shapes]


# In[4]:


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
    act = sample.flatten()
    for layer in range(len(weights)):
        act = act @ weights[layer] + biases[layer]
        act = softmax(act) if layer == len(weights) - 1 else sigmoid(act)
    target = np.eye(10)[y]
    loss = cross_entropy_loss(target, act)
    one_hot_guess = np.eye(10)[np.argmax(act)]
    return loss, one_hot_guess

def feed_forward_dataset(x, y):
    losses = np.empty(x.shape[0])
    one_hot_guesses = np.empty((x.shape[0], 10))

    for j in range(len(y)):
        losses[j], one_hot_guesses[j] = feed_forward_sample(x[j], y[j])

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


# In[5]:


# Q3. Compute the gradient of all the weights and biases by backpropagating derivatives
# all the way from the output to the first layer. Keep it simple: train sample by sample
# (no minibatches, no randomness).

def train_one_sample(sample, y, learning_rate=0.003):
    a = sample.flatten()

    # We will store each layer's activations to calculate gradient
    activations = []

    # Forward pass

    activations.append(a)
    for layer in range(len(weights)):
        pre = activations[-1] @ weights[layer] + biases[layer]
        activations.append(softmax(pre) if layer == len(weights) - 1 else sigmoid(pre))

    # Backward pass

    # Q3. Implement backpropagation by backward-stepping gradients through each layer.
    # You may need to be careful to make sure your Jacobian matrices are the right shape.
    weight_gradients, bias_gradients = [], []
    g = activations[-1] - np.eye(10)[y]          # dL/dz for softmax + cross-entropy
    for layer in range(len(weights) - 1, -1, -1):
        weight_gradients.insert(0, np.outer(activations[layer], g))
        bias_gradients.insert(0, g)
        if layer > 0:
            g = (g @ weights[layer].T) * activations[layer] * (1 - activations[layer])

    # Update weights & biases based on your calculated gradient
    for i in range(len(weights)):
        weights[i] -= weight_gradients[i] * learning_rate
        biases[i] -= bias_gradients[i].flatten() * learning_rate


# In[6]:


# Q4. Train your model for 3 epochs by looping over the entire training dataset 3 times.

def train_one_epoch(learning_rate=0.003):
    print("Training for one epoch over the training dataset...")

    for k in range(len(y_train)):
        train_one_sample(x_train[k], y_train[k], learning_rate)

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
