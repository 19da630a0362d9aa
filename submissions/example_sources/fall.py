"""The fall 2023 full-marks notebooks of problems 3 and 4."""

from example_sources.notebooks import code, md, notebook

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
