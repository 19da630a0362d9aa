"""Problem 4 (both editions): the FashionMNIST MLP 784 → 256 → 128 → 64 → 10.

Trained with cross-entropy and Adam (lr 1e-3). The fast loop keeps the whole
training set as one float tensor in [0, 1] and slices shuffled batches out of
it: no Dataset, no DataLoader, no per-image PIL → ToTensor conversion, which is
where a student's loop spends most of its time on a CPU.
`dataloader_train_epoch` is that usual loop, kept for the benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
LAYER_SIZES = (784, 256, 128, 64, 10)
LEARNING_RATE = 1e-3


def build_model() -> nn.Sequential:
    """Flatten, then Linear+ReLU for each hidden layer, then a linear output."""
    layers: list[nn.Module] = [nn.Flatten()]
    for n_in, n_out in zip(LAYER_SIZES[:-2], LAYER_SIZES[1:-1], strict=True):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    layers.append(nn.Linear(LAYER_SIZES[-2], LAYER_SIZES[-1]))
    return nn.Sequential(*layers)


def to_tensors(
    images: np.ndarray, labels: np.ndarray, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 (n, 28, 28) images → float (n, 784) in [0, 1] (what ToTensor gives), int64 labels."""
    # torch.tensor copies, so read-only (memory-mapped) arrays are fine.
    x = torch.tensor(np.asarray(images, dtype=np.uint8).reshape(len(images), -1))
    x = x.to(device=device, dtype=torch.float32).div_(255.0)
    y = torch.tensor(np.asarray(labels, dtype=np.int64)).to(device)
    return x, y


@dataclass(frozen=True)
class EpochStats:
    epoch: int
    train_loss: float  # mean batch loss over the epoch (what students plot)
    test_loss: float
    train_acc: float  # accuracy on the batches as they were trained
    test_acc: float
    seconds: float  # training time of the epoch, test evaluation excluded


@dataclass
class TrainResult:
    model: nn.Module
    history: list[EpochStats]
    device: str


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 10_000
) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of `model` on (x, y)."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, len(x), batch):
        logits = model(x[start : start + batch])
        labels = y[start : start + batch]
        total_loss += nn.functional.cross_entropy(logits, labels, reduction="sum").item()
        correct += (logits.argmax(dim=1) == labels).sum().item()
    model.train(was_training)
    return total_loss / len(x), correct / len(x)


def train(
    dataset,
    epochs: int = 15,
    batch_size: int = 128,
    seed: int = 0,
    device: str | torch.device | None = None,
    threads: int | None = None,
    target_accuracy: float | None = None,
) -> TrainResult:
    """Train the MLP on a `dlgrade.data.Dataset` (or anything with its 4 arrays).

    Seeded: the initial weights and every shuffle come from `seed`, so with
    `threads` pinned a CPU run is repeatable. Stops early once the test
    accuracy reaches `target_accuracy`.
    """
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    with _pinned_threads(threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model().to(device)
    x_train, y_train = to_tensors(dataset.x_train, dataset.y_train, device)
    x_test, y_test = to_tensors(dataset.x_test, dataset.y_test, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    shuffle = torch.Generator().manual_seed(seed)
    history: list[EpochStats] = []
    with _pinned_threads(threads):
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            train_loss, train_acc = _train_epoch(
                model, optimizer, x_train, y_train, batch_size, shuffle
            )
            seconds = time.perf_counter() - start
            test_loss, test_acc = evaluate(model, x_test, y_test)
            history.append(EpochStats(epoch, train_loss, test_loss, train_acc, test_acc, seconds))
            if target_accuracy is not None and test_acc >= target_accuracy:
                break
    return TrainResult(model=model, history=history, device=str(device))


def _train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    shuffle: torch.Generator,
) -> tuple[float, float]:
    """One epoch over shuffled batches sliced from the resident tensors."""
    model.train()
    order = torch.randperm(len(x), generator=shuffle).to(x.device)
    loss_sum = torch.zeros((), device=x.device)  # summed on device: no sync per batch
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    for start in range(0, len(x), batch_size):
        batch = order[start : start + batch_size]
        logits = model(x[batch])
        loss = nn.functional.cross_entropy(logits, y[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach() * len(batch)
        correct += (logits.detach().argmax(dim=1) == y[batch]).sum()
    return loss_sum.item() / len(x), correct.item() / len(x)


@contextmanager
def _pinned_threads(threads: int | None) -> Iterator[None]:
    """Run with `threads` intra-op threads, restoring the previous setting after."""
    if threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# --- Figures the problem asks for ---------------------------------------------


def plot_loss_curves(history: list[EpochStats]) -> Figure:
    """Train and test loss against epoch."""
    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    epochs = [s.epoch for s in history]
    axes.plot(epochs, [s.train_loss for s in history], marker="o", label="train loss")
    axes.plot(epochs, [s.test_loss for s in history], marker="o", label="test loss")
    axes.set_xlabel("epoch")
    axes.set_ylabel("cross-entropy")
    axes.legend()
    return figure


@torch.no_grad()
def predict_probabilities(model: nn.Module, images: np.ndarray) -> np.ndarray:
    """softmax(model(image)) for uint8 images (n, 28, 28): (n, 10) probabilities."""
    device = next(model.parameters()).device
    x, _ = to_tensors(images, np.zeros(len(images)), device)
    model.eval()
    return torch.softmax(model(x), dim=1).cpu().numpy()


def plot_probabilities(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> Figure:
    """Each image beside a bar chart of its predicted class probabilities."""
    probs = predict_probabilities(model, images)
    figure = Figure(figsize=(8, 2.6 * len(images)))
    axes = figure.subplots(len(images), 2, squeeze=False)
    for row, (image, label, p) in enumerate(zip(images, labels, probs, strict=True)):
        axes[row, 0].imshow(image, cmap="gray")
        axes[row, 0].set_axis_off()
        axes[row, 0].set_title(f"true: {CLASS_NAMES[int(label)]}")
        axes[row, 1].barh(range(len(CLASS_NAMES)), p)
        axes[row, 1].set_yticks(range(len(CLASS_NAMES)), CLASS_NAMES)
        axes[row, 1].invert_yaxis()
        axes[row, 1].set_xlim(0, 1)
        axes[row, 1].set_title(f"predicted: {CLASS_NAMES[int(p.argmax())]} ({p.max():.2f})")
    figure.tight_layout()
    return figure


# --- The usual student loop, for the benchmark --------------------------------


class _ImageDataset(torch.utils.data.Dataset):
    """What torchvision.datasets.FashionMNIST does per item: PIL image → transform."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        from torchvision.transforms import ToTensor

        self.images, self.labels, self.transform = images, labels, ToTensor()

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        image = Image.fromarray(self.images[index])  # uint8 2-D: mode "L"
        return self.transform(image), int(self.labels[index])


@dataclass(frozen=True)
class LoopRun:
    batches: int
    samples: int
    mean_loss: float


def dataloader_train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 64,
    max_batches: int | None = None,
    seed: int = 0,
) -> LoopRun:
    """The DataLoader(shuffle=True) + ToTensor loop students write, batch 64.

    `max_batches` stops early so a benchmark can time part of an epoch.
    """
    loader = torch.utils.data.DataLoader(
        _ImageDataset(images, labels),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    device = next(model.parameters()).device
    model.train()
    batches, samples, loss_sum = 0, 0, 0.0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        batches, samples, loss_sum = batches + 1, samples + len(y), loss_sum + loss.item() * len(y)
        if max_batches is not None and batches >= max_batches:
            break
    return LoopRun(batches, samples, loss_sum / max(samples, 1))
