"""The fill-in edits that complete the problem-5 starter, as each edition's student did."""

from example_sources.notebooks import P5, SPRING_P5, Edit

# --------------------------------------------------------------------------- problem 5 fill-ins

# Fall 2023 student: weights (n_in, n_out), raw 0-255 pixels as in the starter,
# dsigmoid applied to the stored pre-activations.
FALL_P5_FILLS = (
    Edit(P5, "# Q1. Fill initialization code here.\n# ...\n\nweights = \nbiases = ", """\
# Q1. Fill initialization code here.
# std = sqrt(variance) = 1/sqrt(max(n_in, n_out)); weights stored as (n_in, n_out), a layer is a @ W + b

# layer 1: 784 -> 32
W1 = rng.normal(0, 1 / math.sqrt(max(784, 32)), size=(784, 32))
b1 = np.zeros(32)
# layer 2: 32 -> 32
W2 = rng.normal(0, 1 / math.sqrt(max(32, 32)), size=(32, 32))
b2 = np.zeros(32)
# layer 3: 32 -> 10
W3 = rng.normal(0, 1 / math.sqrt(max(32, 10)), size=(32, 10))
b3 = np.zeros(10)

weights = [W1, W2, W3]
biases = [b1, b2, b3]
print([w.shape for w in weights], [b.shape for b in biases])"""),
    Edit(P5, "    # Q2. Fill code here.\n    # ...\n", """\
    # Q2. Fill code here.
    a = sample.flatten()
    for i in range(len(weights)):
        z = a @ weights[i] + biases[i]
        if i < len(weights) - 1:
            a = sigmoid(z)      # hidden layers
        else:
            a = softmax(z)      # output layer
    loss = cross_entropy_loss(integer_to_one_hot(y, 10), a)
    one_hot_guess = integer_to_one_hot(np.argmax(a), 10)
"""),
    Edit(P5, "    # ...\n    # Q2. Fill code here to calculate losses, one_hot_guesses\n    # ...\n", """\
    # Q2. Fill code here to calculate losses, one_hot_guesses
    for i in range(x.shape[0]):
        losses[i], one_hot_guesses[i] = feed_forward_sample(x[i], y[i])
"""),
    Edit(P5, "    # Q3. This should be the same as what you did in feed_forward_sample above.\n    # ...\n", """\
    # Q3. This should be the same as what you did in feed_forward_sample above.
    # activations[0] is the input, activations[i + 1] the output of layer i; zs keeps the pre-activations
    zs = []
    activations.append(a)
    for i in range(len(weights)):
        z = a @ weights[i] + biases[i]
        zs.append(z)
        if i < len(weights) - 1:
            a = sigmoid(z)
        else:
            a = softmax(z)
        activations.append(a)
"""),
    Edit(P5, "    # At the end, you should get two vectors: weight_gradients and bias_gradients.\n    # ...\n", """\
    # At the end, you should get two vectors: weight_gradients and bias_gradients.
    weight_gradients = [None] * len(weights)
    bias_gradients = [None] * len(weights)

    # softmax + cross-entropy: dL/dz at the output is yHat - onehot(y)
    delta = activations[-1] - integer_to_one_hot(y, 10)
    for i in reversed(range(len(weights))):
        weight_gradients[i] = np.outer(activations[i], delta)   # (n_in, n_out) like weights[i]
        bias_gradients[i] = delta
        if i > 0:
            # back through weights[i], then through the sigmoid of layer i - 1
            delta = (weights[i] @ delta) * dsigmoid(zs[i - 1])
"""),
    Edit(P5, "    # Q4. Write the training loop over the epoch here.\n    # ...\n", """\
    # Q4. Write the training loop over the epoch here.
    for j in range(x_train.shape[0]):
        train_one_sample(x_train[j], y_train[j], learning_rate)
"""),
)

# Spring 2023 student: weights (n_out, n_in), pixels scaled to [0, 1] inside the functions,
# column-vector gradients, sigmoid derivative written as a * (1 - a).
SPRING_P5_FILLS = (
    Edit(SPRING_P5, "# Q1. Fill initialization code here.\n# ...\n\nweights = \nbiases = ", """\
# Q1. Fill initialization code here.
# I store each weight matrix as (n_out, n_in), so a layer is W @ a + b
sizes = [784, 32, 32, 10]
weights = [rng.normal(0.0, np.sqrt(1.0 / max(n_in, n_out)), size=(n_out, n_in))
           for n_in, n_out in zip(sizes[:-1], sizes[1:])]
biases = [np.zeros(n_out) for n_out in sizes[1:]]"""),
    Edit(SPRING_P5, "    # Q2. Fill code here.\n    # ...\n", """\
    # Q2. Fill code here.
    h = sample.flatten() / 255.0          # pixels scaled to [0, 1]
    for W, b in zip(weights[:-1], biases[:-1]):
        h = sigmoid(W @ h + b)
    yHat = softmax(weights[-1] @ h + biases[-1])
    loss = cross_entropy_loss(integer_to_one_hot(y, 10), yHat)
    one_hot_guess = integer_to_one_hot(np.argmax(yHat), 10)
"""),
    Edit(SPRING_P5, "    # ...\n    # Q2. Fill code here to calculate losses, one_hot_guesses\n    # ...\n", """\
    # Q2. Fill code here to calculate losses, one_hot_guesses
    for n, (img, label) in enumerate(zip(x, y)):
        loss, guess = feed_forward_sample(img, label)
        losses[n] = loss
        one_hot_guesses[n] = guess
"""),
    Edit(SPRING_P5, "    a = sample.flatten()\n",
         "    a = sample.flatten() / 255.0   # same scaling as in feed_forward_sample\n"),
    Edit(SPRING_P5, "    # Q3. This should be the same as what you did in feed_forward_sample above.\n    # ...\n", """\
    # Q3. This should be the same as what you did in feed_forward_sample above.
    activations.append(a)
    for W, b in zip(weights[:-1], biases[:-1]):
        a = sigmoid(W @ a + b)
        activations.append(a)
    yHat = softmax(weights[-1] @ a + biases[-1])
"""),
    Edit(SPRING_P5, "    # At the end, you should get two vectors: weight_gradients and bias_gradients.\n    # ...\n", """\
    # At the end, you should get two vectors: weight_gradients and bias_gradients.
    weight_gradients = []
    bias_gradients = []
    err = (yHat - integer_to_one_hot(y, 10)).reshape(-1, 1)   # dL/dz of the output layer (column)
    for layer in range(len(weights) - 1, -1, -1):
        a_prev = activations[layer].reshape(-1, 1)
        weight_gradients.insert(0, err @ a_prev.T)             # (n_out, n_in) like weights[layer]
        bias_gradients.insert(0, err)                          # column, flattened in the update
        if layer > 0:
            # sigmoid'(z) = a * (1 - a) for the hidden layer that produced a_prev
            err = (weights[layer].T @ err) * a_prev * (1 - a_prev)
"""),
    Edit(SPRING_P5, "    # Q4. Write the training loop over the epoch here.\n    # ...\n", """\
    # Q4. Write the training loop over the epoch here.
    for sample, label in zip(x_train, y_train):
        train_one_sample(sample, label, learning_rate=learning_rate)
"""),
)
