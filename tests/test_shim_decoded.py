"""The in-kernel fast path for torchvision MNIST/FashionMNIST batches gives torchvision's values.

Each case iterates the same DataLoader twice, once through torchvision's own
per-image PIL path and once through the shim's batched `__getitems__`, and
asserts that every batch is bit-for-bit equal (values, dtype, shape, type)
with the same targets, and that the fast path really served the recognised
transforms (while unknown ones went through torchvision untouched).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from notebook_files import write_notebook
from torch.utils.data import DataLoader, Subset
from torchvision import transforms as T

from dlgrade.data import provision
from dlgrade.engine import Probe, SandboxConfig, SourceFile, run_notebook
from dlgrade.engine.sandbox import SHIM_DIR

TRAIN, TEST = 700, 300


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    provision(folder, train_limit=TRAIN, test_limit=TEST)
    return folder


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The shim's module with the patch installed on torchvision's MNIST, removed afterwards."""
    monkeypatch.syspath_prepend(str(SHIM_DIR))
    from _dlgrade_shim import decoded as module

    assert not hasattr(torchvision.datasets.MNIST, "__getitems__")
    module.patch(torchvision.datasets.mnist)
    try:
        yield module
    finally:
        del torchvision.datasets.MNIST.__getitems__


def flatten(x):
    return x.view(-1)


CASES = {
    "ToTensor": (T.ToTensor, True),
    "Normalize": (lambda: T.Compose([T.ToTensor(), T.Normalize((0.2860,), (0.3530,))]), True),
    "Normalize+flatten": (
        lambda: T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,)), T.Lambda(flatten)]),
        True,
    ),
    "torch.flatten lambda": (
        lambda: T.Compose([T.ToTensor(), T.Lambda(lambda x: torch.flatten(x))]),
        True,
    ),
    "flatten then Normalize": (
        lambda: T.Compose(
            [T.ToTensor(), T.Lambda(lambda t: t.reshape(1, 1, 784)), T.Normalize(0.1, 0.3)]
        ),
        True,
    ),
    # Not reproduced: torchvision's own path must serve these, unchanged.
    "random flip": (lambda: T.Compose([T.RandomHorizontalFlip(), T.ToTensor()]), False),
    "scaling lambda": (lambda: T.Compose([T.ToTensor(), T.Lambda(lambda x: x * 2)]), False),
    "no transform": (lambda: None, False),
}


def batches(dataset, batch_size: int = 64) -> list[tuple[object, object]]:
    torch.manual_seed(0)  # the shuffle, and any random transform, draw the same numbers
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    return list(loader) if dataset.transform is not None else [dataset[i] for i in range(50)]


def assert_identical(slow: list, fast: list) -> None:
    assert len(slow) == len(fast)
    for (x0, y0), (x1, y1) in zip(slow, fast, strict=True):
        assert type(x0) is type(x1)
        if isinstance(x0, torch.Tensor):
            assert x0.dtype == x1.dtype and x0.shape == x1.shape
            assert torch.equal(x0, x1)
        else:  # PIL images (no transform)
            assert np.array_equal(np.asarray(x0), np.asarray(x1))
        assert type(y0) is type(y1)
        assert torch.equal(torch.as_tensor(y0), torch.as_tensor(y1))


@pytest.mark.parametrize("dataset_class", ["FashionMNIST", "MNIST"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_batches_are_bit_identical(root, decoded, monkeypatch, dataset_class, case):
    make, recognised = CASES[case]
    cls = getattr(torchvision.datasets, dataset_class)
    dataset = cls(str(root), train=True, download=False, transform=make())
    served = []
    original = decoded.decoded_batch
    monkeypatch.setattr(
        decoded, "decoded_batch", lambda *a: served.append(1) or original(*a), raising=True
    )
    fast = batches(dataset)
    getitems = torchvision.datasets.MNIST.__getitems__
    del torchvision.datasets.MNIST.__getitems__
    try:
        slow = batches(dataset)
    finally:
        torchvision.datasets.MNIST.__getitems__ = getitems
    assert_identical(slow, fast)
    if dataset.transform is not None:
        assert served, "the fetcher never asked the shim"
    assert (original(dataset, [0, 1], torch) is not None) == recognised


def test_double_precision_targets_and_subsets(root, decoded):
    dataset = torchvision.datasets.FashionMNIST(
        str(root), train=False, transform=T.ToTensor(), target_transform=lambda y: y + 10
    )
    subset = Subset(dataset, [5, 3, -1, 7])
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        fast = list(DataLoader(subset, batch_size=2))
        del torchvision.datasets.MNIST.__getitems__
        slow = list(DataLoader(subset, batch_size=2))
    finally:
        torch.set_default_dtype(previous)
        decoded.patch(torchvision.datasets.mnist)
    assert fast[0][0].dtype == torch.float64
    assert_identical(slow, fast)


def test_edits_to_the_data_are_seen(root, decoded):
    dataset = torchvision.datasets.FashionMNIST(str(root), train=True, transform=T.ToTensor())
    dataset.data = dataset.data[:100].clone()
    dataset.data[:, :14] = 0
    dataset.targets = dataset.targets[:100]
    (x, y), *_ = dataset.__getitems__(list(range(3)))
    assert torch.equal(x, T.ToTensor()(dataset.data[0].numpy()))
    assert y == int(dataset.targets[0])


def test_a_subclass_with_its_own_getitem_keeps_it(root, decoded):
    class Marked(torchvision.datasets.FashionMNIST):
        @property
        def raw_folder(self) -> str:  # torchvision looks for <class name>/raw
            return str(Path(self.root, "FashionMNIST", "raw"))

        def __getitem__(self, index):
            image, label = super().__getitem__(index)
            return image + 1, label

    dataset = Marked(str(root), train=True, transform=T.ToTensor())
    x, _ = next(iter(DataLoader(dataset, batch_size=4)))
    assert x.min() >= 1


def test_recognised_lambdas_are_plain_reshapes(decoded):
    assert decoded.is_reshape(lambda x: x.view(-1), torch)
    assert decoded.is_reshape(lambda img: img.reshape(-1, 28 * 28), torch)
    assert decoded.is_reshape(lambda x: torch.flatten(x, start_dim=0), torch)
    assert not decoded.is_reshape(lambda x: x.view(x.size(0), -1), torch)
    assert not decoded.is_reshape(lambda x: x.float().view(-1), torch)
    assert not decoded.is_reshape(lambda x: x.view(torch.int32), torch)
    assert not decoded.is_reshape(lambda x, scale=2: x.view(-1) * scale, torch)


NOTEBOOK_CELLS = (
    "import torch, torchvision\nfrom torchvision.transforms import ToTensor\n"
    "data = torchvision.datasets.FashionMNIST('./data', train=True, download=True, "
    "transform=ToTensor())\n"
    "x, y = next(iter(torch.utils.data.DataLoader(data, batch_size=16)))",
)


@pytest.mark.slow
@pytest.mark.parametrize("enabled", [True, False])
def test_the_sandbox_kernel_serves_decoded_batches(tmp_path, enabled):
    from dlgrade.data import load

    path = write_notebook(tmp_path / "student" / "loop.ipynb", *NOTEBOOK_CELLS)
    probe = Probe(
        "batch",
        "_dlgrade_emit('x', x); _dlgrade_emit('y', y)\n"
        "_dlgrade_emit('fast', hasattr(type(data), '__getitems__'))",
    )
    config = SandboxConfig(quick=True, decoded_datasets=enabled)
    run = run_notebook(SourceFile(path, "ipynb", "ok"), [probe], config)
    values = run.probe("batch").values
    assert run.status == "ok", run.cells
    assert values["fast"] is enabled
    fashion = load("fashion-mnist")
    expected = torch.from_numpy(fashion.x_train[:16].copy()).unsqueeze(1).float().div(255)
    assert np.array_equal(values["x"], expected.numpy())
    assert np.array_equal(values["y"], fashion.y_train[:16])
