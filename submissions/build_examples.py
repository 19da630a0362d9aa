"""Build the example submissions in `examples/` from their sources.

The examples are graded by the harness's own tests, so they must not drift apart:
every folder is generated here from

* the full-marks sources below (lists of cell sources, readable as code), and the
  problem-5 starter `reference/starter/hw1_prob5_starter.ipynb`, which the problem-5
  notebooks complete through declared fill-in edits;
* for each mistake example, the full-marks folder plus a few declared operations:
  `Edit(file, old, new)` replaces a snippet that must occur EXACTLY once in the
  notebook's cell sources, `Truncate(file, after)` cuts the serialized file after a
  snippet that occurs exactly once, `UseStarter(file)` replaces a notebook with the
  untouched starter.

Usage (from the repository root):

    python submissions/build_examples.py           # rewrite the example notebooks
    python submissions/build_examples.py --check   # exit 1 if a committed one differs

Notebooks are written with `nbformat.writes` (sorted keys, indent 1, no outputs,
fixed cell ids), so the output is byte-for-byte deterministic. `answers.toml` and
any other non-notebook file in the example folders are left alone.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
# The demo class holds only students' folders: this script and the README that
# describes each folder live beside it, so a grader lists no stray files there.
EXAMPLES = HERE / "examples"
REPO = HERE.parent
STARTER = REPO / "reference" / "starter" / "hw1_prob5_starter.ipynb"
README = HERE / "README.md"

FULL = "fall2023-full-marks"
SPRING = "spring2023-full-marks"
P3, P4, P5 = "HW1P3.ipynb", "hw1p4.ipynb", "dlf23_hw1_prob5.ipynb"
SPRING_P4, SPRING_P5 = "hw1p4.ipynb", "hw1p5.ipynb"

METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


class BuildError(Exception):
    """A declared edit does not fit its source (snippet missing or ambiguous)."""


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Edit:
    """Replace `old` by `new` in the cell sources of `file`; `old` must occur exactly once."""

    file: str
    old: str
    new: str


@dataclass(frozen=True)
class Truncate:
    """Cut the serialized `file` right after `after` (which must occur exactly once)."""

    file: str
    after: str


@dataclass(frozen=True)
class UseStarter:
    """Replace `file` by the untouched problem-5 starter notebook."""

    file: str


Operation = Edit | Truncate | UseStarter


def md(cell_id: str, source: str) -> nbformat.NotebookNode:
    cell = new_markdown_cell(source)
    cell["id"] = cell_id
    return cell


def code(cell_id: str, source: str) -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    cell["id"] = cell_id
    return cell


def notebook(cells: Sequence[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    return new_notebook(cells=list(cells), metadata=copy.deepcopy(METADATA))


def apply_edit(nb: nbformat.NotebookNode, edit: Edit, where: str) -> nbformat.NotebookNode:
    """A copy of `nb` with `edit` applied; BuildError unless `edit.old` occurs exactly once."""
    if edit.old == edit.new:
        raise BuildError(f"{where}: edit to {edit.file} changes nothing: {edit.old!r}")
    hits = [i for i, c in enumerate(nb.cells) for _ in range(c.source.count(edit.old))]
    if len(hits) != 1:
        raise BuildError(
            f"{where}: snippet must occur exactly once in {edit.file}, found {len(hits)} "
            f"times: {edit.old!r}"
        )
    out = copy.deepcopy(nb)
    cell = out.cells[hits[0]]
    cell.source = cell.source.replace(edit.old, edit.new)
    return out


def serialize(nb: nbformat.NotebookNode) -> str:
    nbformat.validate(nb)
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def load_starter() -> nbformat.NotebookNode:
    """The starter as students receive it, with any outputs stripped."""
    nb = nbformat.read(STARTER, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def fill(nb: nbformat.NotebookNode, edits: Sequence[Edit], where: str) -> nbformat.NotebookNode:
    for edit in edits:
        nb = apply_edit(nb, edit, where)
    return nb


# --------------------------------------------------------------------------- problem 3 (fall)

FALL_P3 = notebook([
    md("p3-intro", """\
# HW1 Problem 3

3a: fit the 1-4-1 ReLU network exactly to both datasets (fsolve from random starts).
3c/3d: forward pass and backprop at theta0, x = 2.

Parameter order everywhere: W_H1..4, b_H1..4, W_O1..4, b_O (13 numbers)."""),
    code("p3-imports", """\
import warnings

import numpy as np
from scipy.optimize import fsolve

# fsolve complains ("not making good progress") on the bad random starts, those just get retried
warnings.filterwarnings("ignore", category=RuntimeWarning)"""),
    code("p3-net", '''\
def f(x, theta):
    """The 1-4-1 network: 4 hidden ReLU units, linear output. x can be a number or an array."""
    x = np.asarray(x, dtype=float)
    W_H, b_H = theta[0:4], theta[4:8]
    W_O, b_O = theta[8:12], theta[12]
    z_bar = np.multiply.outer(x, W_H) + b_H   # pre-activations, shape (..., 4)
    z = np.maximum(0, z_bar)
    return z @ W_O + b_O'''),
    code("p3-data", """\
# dataset 1
x1 = np.arange(13)
y1 = np.array([8, 6, 4, 2, 0, 2, 4, 2, 0, 2, 4, 6, 8], dtype=float)

# dataset 2 (read off the plot: after x = 5 the slope is only 1/2)
x2 = np.arange(11)
y2 = np.array([0, 1, 2, 3, 2, 1, 1.5, 2, 2.5, 3, 3.5])"""),
    code("p3-fit", '''\
def fit(x, y, seed=0, max_tries=2000):
    """Solve f(x_i, theta) = y_i for every point with fsolve, restarting from random guesses.

    fsolve wants as many equations as unknowns (13), so with fewer points the last residual
    is repeated. The random starts put the 4 kinks somewhere inside the data range."""
    rng = np.random.default_rng(seed)

    def equations(theta):
        r = f(x, theta) - y
        return np.concatenate([r, np.repeat(r[-1], 13 - len(r))])

    for attempt in range(1, max_tries + 1):
        w = rng.choice([-1.0, 1.0], size=4) * rng.uniform(0.5, 2.0, size=4)
        kinks = rng.uniform(x.min(), x.max(), size=4)
        guess = np.concatenate([w, -w * kinks, rng.normal(size=4), [y[0]]])
        theta = fsolve(equations, guess)
        if np.max(np.abs(f(x, theta) - y)) < 1e-9:
            print(f"found an exact fit after {attempt} tries")
            return theta
    raise RuntimeError(f"no exact fit in {max_tries} tries, try another seed")'''),
    code("p3-fit-d1", """\
np.set_printoptions(precision=8, suppress=True)

theta_d1 = fit(x1, y1)
print("dataset 1 theta:", theta_d1)
print("residuals:", f(x1, theta_d1) - y1)
print("max |residual|:", np.max(np.abs(f(x1, theta_d1) - y1)))"""),
    code("p3-fit-d2", """\
theta_d2 = fit(x2, y2)
print("dataset 2 theta:", theta_d2)
print("residuals:", f(x2, theta_d2) - y2)
print("max |residual|:", np.max(np.abs(f(x2, theta_d2) - y2)))"""),
    md("p3-theta0", """\
## 3c and 3d

theta0: W_H = (-1, 1, 1, -1), b_H = (1, 1, -1, 1), W_O = (-1, -1, -1, 1), b_O = 1.
Forward pass at x = 2, then the backward pass by hand (ReLU derivative taken as 0 for z <= 0)."""),
    code("p3-forward-backward", """\
theta0 = np.array([-1, 1, 1, -1,   1, 1, -1, 1,   -1, -1, -1, 1,   1], dtype=float)
x0 = 2.0

# forward
z_bar = theta0[0:4] * x0 + theta0[4:8]
z = np.maximum(0, z_bar)
out = z @ theta0[8:12] + theta0[12]
print("z_bar =", z_bar, "  z =", z)
print("f(2, theta0) =", out, "  (check with f():", f(x0, theta0), ")")

# backward: y = b_O + sum_i W_O,i * relu(W_H,i * x + b_H,i)
relu_grad = (z_bar > 0).astype(float)
df_dWO = z
df_dbO = 1.0
df_dbH = theta0[8:12] * relu_grad
df_dWH = df_dbH * x0
grad_theta0 = np.concatenate([df_dWH, df_dbH, df_dWO, [df_dbO]])
print("grad f(2, theta0) =", grad_theta0)"""),
])

# --------------------------------------------------------------------------- problem 4 (fall)

CLASS_NAMES = """\
class_names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
               'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']"""

# Shared with the mistake variants, which replace exactly these texts.
FALL_P4_FIGURE = """\
probs = torch.softmax(logits, dim=1).cpu().numpy()

fig, axes = plt.subplots(3, 2, figsize=(9, 9))
for row in range(len(picks)):
    axes[row, 0].imshow(images[row].squeeze(), cmap='gray')
    axes[row, 0].set_title(f"true: {class_names[labels[row]]}")
    axes[row, 0].axis('off')
    axes[row, 1].barh(np.arange(10), probs[row])
    axes[row, 1].set_yticks(np.arange(10))
    axes[row, 1].set_yticklabels(class_names)
    axes[row, 1].set_xlabel('probability')
    axes[row, 1].set_title(f"predicted: {class_names[probs[row].argmax()]}")
plt.tight_layout()
plt.show()"""

FALL_P4_COMMENT = """\
**Comments on the predictions.** The ankle boot (first test image) and the trouser (third) get almost
all of the probability on the right class. The pullover (second) is predicted correctly too, but part
of the probability goes to Coat and Shirt: at 28x28 these three classes have nearly the same outline,
and they are the ones the network mixes up most."""


FALL_P4 = notebook([
    md("p4-intro", """\
# HW1 Problem 4: FashionMNIST with a fully connected network

784 -> 256 -> 128 -> 64 -> 10 with ReLU, cross-entropy loss, Adam (lr 1e-3), batch size 64."""),
    code("p4-imports", """\
import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.transforms import ToTensor
import matplotlib.pyplot as plt"""),
    code("p4-data", """\
train_data = torchvision.datasets.FashionMNIST('./FashionMNIST/', train=True, download=True, transform=ToTensor())
test_data = torchvision.datasets.FashionMNIST('./FashionMNIST/', train=False, download=True, transform=ToTensor())
print(len(train_data), "training images,", len(test_data), "test images")

train_loader = torch.utils.data.DataLoader(train_data, batch_size=64, shuffle=True)
test_loader = torch.utils.data.DataLoader(test_data, batch_size=64, shuffle=False)"""),
    code("p4-model", """\
class FashionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 64)
        self.fc4 = nn.Linear(64, 10)   # 10 classes, raw scores (CrossEntropyLoss does the softmax)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = x.view(-1, 28 * 28)   # flatten the image
        x = self.relu(self.fc1(x))
        x = self.relu(self.fc2(x))
        x = self.relu(self.fc3(x))
        return self.fc4(x)

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = FashionNet().to(device)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
print(model)"""),
    code("p4-train", """\
n_epochs = 5
train_losses = []   # average loss per sample, one entry per epoch
test_losses = []

for epoch in range(n_epochs):
    model.train()
    total = 0.0
    for images, labels in train_loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * images.size(0)
    train_losses.append(total / len(train_data))

    model.eval()
    total = 0.0
    with torch.no_grad():
        for images, labels in test_loader:
            images, labels = images.to(device), labels.to(device)
            total += criterion(model(images), labels).item() * images.size(0)
    test_losses.append(total / len(test_data))

    print(f"epoch {epoch + 1}: train loss {train_losses[-1]:.4f}, test loss {test_losses[-1]:.4f}")"""),
    code("p4-loss-curves", """\
epochs = range(1, n_epochs + 1)
plt.plot(epochs, train_losses, marker='o', label='train')
plt.plot(epochs, test_losses, marker='o', label='test')
plt.xlabel('epoch')
plt.ylabel('cross-entropy loss')
plt.title('Loss per epoch')
plt.legend()
plt.show()"""),
    code("p4-accuracy", """\
correct = 0
model.eval()
with torch.no_grad():
    for images, labels in test_loader:
        images, labels = images.to(device), labels.to(device)
        correct += (model(images).argmax(dim=1) == labels).sum().item()
test_accuracy = correct / len(test_data)
print(f"Test accuracy: {100 * test_accuracy:.2f}%")"""),
    code("p4-probabilities", CLASS_NAMES + """

picks = [0, 1, 2]   # the first three test images
images = torch.stack([test_data[i][0] for i in picks])
labels = [test_data[i][1] for i in picks]

model.eval()
with torch.no_grad():
    logits = model(images.to(device))
""" + FALL_P4_FIGURE),
    md("p4-comments", FALL_P4_COMMENT + """ The loss curves show the training loss still
falling while the test loss flattens out, so training much longer would mostly overfit."""),
])

# --------------------------------------------------------------------------- problem 4 (spring)

SPRING_P4_NB = notebook([
    md("intro", """\
# Problem 4 - FashionMNIST classifier

Fully connected network 784-256-128-64-10, ReLU activations, trained with cross entropy and Adam."""),
    code("imports", """\
import torch
from torch import nn, optim
import torchvision
import torchvision.transforms as transforms
import matplotlib.pyplot as plt
import numpy as np

torch.manual_seed(0)  # same shuffles and initial weights every run

# Set device
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("using", device)"""),
    code("data", """\
# Load FashionMNIST dataset
TrainSet = torchvision.datasets.FashionMNIST(root='./FashionMNIST/', train=True, download=True,
                                             transform=transforms.ToTensor())
TestSet = torchvision.datasets.FashionMNIST(root='./FashionMNIST/', train=False, download=True,
                                            transform=transforms.ToTensor())
TrainLoader = torch.utils.data.DataLoader(TrainSet, batch_size=128, shuffle=True)
TestLoader = torch.utils.data.DataLoader(TestSet, batch_size=128, shuffle=False)"""),
    code("model", """\
# Define model
model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(784, 256), nn.ReLU(),
    nn.Linear(256, 128), nn.ReLU(),
    nn.Linear(128, 64), nn.ReLU(),
    nn.Linear(64, 10),
).to(device)

criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.001)"""),
    code("train", """\
# Train model
num_epochs = 6
train_loss_list = []
test_loss_list = []

for epoch in range(num_epochs):
    model.train()
    batch_losses = []
    for images, labels in TrainLoader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        batch_losses.append(loss.item())
    train_loss_list.append(np.mean(batch_losses))

    model.eval()
    with torch.no_grad():
        batch_losses = [criterion(model(images.to(device)), labels.to(device)).item()
                        for images, labels in TestLoader]
    test_loss_list.append(np.mean(batch_losses))
    print('Epoch: {} \\tTraining Loss: {:.6f} \\tTest Loss: {:.6f}'.format(
        epoch + 1, train_loss_list[-1], test_loss_list[-1]))"""),
    code("curves", """\
# Plot loss curves
plt.figure(figsize=(6, 4))
plt.plot(range(1, num_epochs + 1), train_loss_list, 'o-', label='Training loss')
plt.plot(range(1, num_epochs + 1), test_loss_list, 's--', label='Test loss')
plt.xlabel('Epoch')
plt.ylabel('Loss')
plt.legend()
plt.show()"""),
    code("evaluate", """\
# Evaluate model
correct, total = 0, 0
model.eval()
with torch.no_grad():
    for images, labels in TestLoader:
        images, labels = images.to(device), labels.to(device)
        predicted = model(images).argmax(1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()
test_acc = 100 * correct / total
print(f"Final test accuracy: {test_acc:.2f}%")"""),
    code("probabilities", """\
classes = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt',
           'Sneaker', 'Bag', 'Ankle boot']

# three test images and the predicted class probabilities
imgs, lbls = next(iter(TestLoader))
imgs, lbls = imgs[:3], lbls[:3]
with torch.no_grad():
    p = nn.functional.softmax(model(imgs.to(device)), dim=1).cpu()

plt.figure(figsize=(15, 4))
for k in range(3):
    plt.subplot(1, 6, 2 * k + 1)
    plt.imshow(imgs[k][0], cmap='gray')
    plt.title('True: ' + classes[lbls[k]])
    plt.axis('off')
    plt.subplot(1, 6, 2 * k + 2)
    plt.barh(classes, p[k].numpy())
    plt.xlim(0, 1)
    plt.title('Predicted: ' + classes[p[k].argmax()])
plt.tight_layout()
plt.show()"""),
    md("comments", """\
The network is very sure about the ankle boot and the trouser. For the pullover most of the
probability is on Pullover, with some on Coat and Shirt, which look alike at this resolution. These
three upper-body classes are where most of the test errors come from."""),
])

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

# --------------------------------------------------------------------------- mistake examples

# folder -> operations on a copy of fall2023-full-marks (one mistake each)
MISTAKES: dict[str, tuple[Operation, ...]] = {
    "fall2023-misread-dataset2": (
        Edit(P3,
             "# dataset 2 (read off the plot: after x = 5 the slope is only 1/2)\n"
             "x2 = np.arange(11)\n"
             "y2 = np.array([0, 1, 2, 3, 2, 1, 1.5, 2, 2.5, 3, 3.5])",
             "# dataset 2 (read off the plot)\n"
             "x2 = np.arange(11)\n"
             "y2 = np.array([0, 1, 2, 3, 2, 1, 2, 3, 4, 5, 6])"),
    ),
    "fall2023-dsigmoid-twice": (
        Edit(P5, "delta = (weights[i] @ delta) * dsigmoid(zs[i - 1])",
             "delta = (weights[i] @ delta) * dsigmoid(activations[i])"),
    ),
    "fall2023-update-in-loop": (
        Edit(P5, """\
        bias_gradients[i] = delta
        if i > 0:
            # back through weights[i], then through the sigmoid of layer i - 1
            delta = (weights[i] @ delta) * dsigmoid(zs[i - 1])

    # Update weights & biases based on your calculated gradient
    for i in range(len(weights)):
        weights[i] -= weight_gradients[i] * learning_rate
        biases[i] -= bias_gradients[i].flatten() * learning_rate""", """\
        bias_gradients[i] = delta
        # Update weights & biases based on your calculated gradient
        weights[i] -= weight_gradients[i] * learning_rate
        biases[i] -= bias_gradients[i].flatten() * learning_rate
        if i > 0:
            # back through weights[i], then through the sigmoid of layer i - 1
            delta = (weights[i] @ delta) * dsigmoid(zs[i - 1])"""),
    ),
    "fall2023-loss-vs-prediction": (
        Edit(P5,
             "    # softmax + cross-entropy: dL/dz at the output is yHat - onehot(y)\n"
             "    delta = activations[-1] - integer_to_one_hot(y, 10)\n",
             "    # softmax + cross-entropy: dL/dz at the output is yHat - onehot(guess)\n"
             "    delta = activations[-1] - integer_to_one_hot(np.argmax(activations[-1]), 10)\n"),
    ),
    "fall2023-logits-as-probs": (
        Edit(P4, "probs = torch.softmax(logits, dim=1).cpu().numpy()",
             "probs = logits.cpu().numpy()"),
    ),
    "fall2023-no-prob-figure": (
        Edit(P4, FALL_P4_FIGURE, """\
predicted = logits.argmax(dim=1).cpu()

for row in range(len(picks)):
    print('Predicted:', class_names[predicted[row]], '  Label:', class_names[labels[row]])"""),
        Edit(P4, FALL_P4_COMMENT, """\
**Comments on the predictions.** All three predictions match the labels: the ankle boot, the pullover
and the trouser are classified correctly. Pullover, Coat and Shirt have nearly the same outline at
28x28, so those are the classes the network mixes up most."""),
    ),
    "fall2023-bad-init-scale": (
        Edit(P5, "W2 = rng.normal(0, 1 / math.sqrt(max(32, 32)), size=(32, 32))",
             "W2 = rng.normal(0, 1, size=(32, 32))"),
    ),
    "fall2023-syntax-error": (
        Edit(P4, "for row in range(len(picks)):\n    axes[row, 0].imshow",
             "for row in range(len(picks))\n    axes[row, 0].imshow"),
    ),
    "fall2023-untouched-starter": (
        UseStarter(P5),
    ),
    "fall2023-malformed-notebook": (
        # the file stops in the middle of the model cell: not valid JSON
        Truncate(P4, '"class FashionNet(nn.Module):\\n",'),
    ),    # the notebooks are right; only answers.toml is broken (an unclosed string)
    "fall2023-bad-answers": (),
}


# --------------------------------------------------------------------------- build


def build() -> dict[str, dict[str, str]]:
    """Every example folder -> notebook file name -> exact file text."""
    starter = load_starter()
    full = {
        P3: FALL_P3,
        P4: FALL_P4,
        P5: fill(starter, FALL_P5_FILLS, FULL),
    }
    spring = {
        SPRING_P4: SPRING_P4_NB,
        SPRING_P5: fill(starter, SPRING_P5_FILLS, SPRING),
    }
    out = {
        FULL: {name: serialize(nb) for name, nb in full.items()},
        SPRING: {name: serialize(nb) for name, nb in spring.items()},
    }
    for folder, operations in MISTAKES.items():
        notebooks = dict(full)
        texts: dict[str, str] = {}
        for op in operations:
            if op.file not in notebooks:
                raise BuildError(f"{folder}: no notebook {op.file} in {FULL}")
            if isinstance(op, Edit):
                notebooks[op.file] = apply_edit(notebooks[op.file], op, folder)
            elif isinstance(op, UseStarter):
                notebooks[op.file] = starter
            elif isinstance(op, Truncate):
                text = serialize(notebooks[op.file])
                if text.count(op.after) != 1:
                    raise BuildError(
                        f"{folder}: truncation point must occur exactly once in {op.file}, "
                        f"found {text.count(op.after)} times: {op.after!r}"
                    )
                texts[op.file] = text[: text.index(op.after) + len(op.after)]
        texts = {name: texts.get(name) or serialize(nb) for name, nb in notebooks.items()}
        if operations and texts == out[FULL]:  # an empty tuple is a deliberate verbatim copy
            raise BuildError(f"{folder}: operations leave the full-marks notebooks unchanged")
        out[folder] = texts
    return out


def stray_notebooks(folder: Path, expected: dict[str, str]) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.ipynb") if p.name not in expected)


def readme_missing(examples: dict[str, dict[str, str]]) -> list[str]:
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    return [folder for folder in examples if f"`{folder}`" not in text]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a committed notebook differs")
    args = parser.parse_args(argv)
    try:
        examples = build()
    except BuildError as exc:
        print(f"build_examples: {exc}", file=sys.stderr)
        return 2

    problems: list[str] = []
    written = 0
    for folder, files in examples.items():
        for name, text in files.items():
            path = EXAMPLES / folder / name
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                continue
            if args.check:
                state = "missing" if current is None else "differs from what build_examples.py generates"
                problems.append(f"{path.relative_to(REPO)}: {state}")
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                written += 1
        for stray in stray_notebooks(EXAMPLES / folder, files):
            problems.append(f"{stray.relative_to(REPO)}: notebook not generated by build_examples.py")
    problems += [f"{README.relative_to(REPO)}: no line for `{f}`" for f in readme_missing(examples)]

    for problem in problems:
        print(problem, file=sys.stderr)
    if args.check:
        if problems:
            print("run: python submissions/build_examples.py", file=sys.stderr)
            return 1
        print(f"{sum(map(len, examples.values()))} example notebooks up to date")
        return 0
    print(f"wrote {written} notebook(s) in {len(examples)} example folders")
    return 0


if __name__ == "__main__":
    sys.exit(main())
