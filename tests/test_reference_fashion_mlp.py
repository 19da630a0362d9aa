"""Problem 4: the FashionMNIST MLP reference, trained on a real slice."""

import dataclasses

import numpy as np
import pytest
import torch

from reference import fashion_mlp as fm


@pytest.fixture(scope="module")
def small_fashion():
    from dlgrade.data import DataError, load

    try:
        full = load("fashion-mnist")
    except DataError as error:
        pytest.skip(f"FashionMNIST cache unavailable: {error}")
    return dataclasses.replace(
        full,
        x_train=full.x_train[:2000],
        y_train=full.y_train[:2000],
        x_test=full.x_test[:500],
        y_test=full.y_test[:500],
    )


def test_architecture_is_784_256_128_64_10_with_relu():
    model = fm.build_model()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (784, 256),
        (256, 128),
        (128, 64),
        (64, 10),
    ]
    assert sum(isinstance(m, torch.nn.ReLU) for m in model) == 3
    assert (
        sum(p.numel() for p in model.parameters())
        == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    )
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)


def test_class_names_follow_the_label_order():
    # FashionMNIST's labels 0-9, in the order ASSIGNMENT.md lists them
    assert fm.CLASS_NAMES == (
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


def test_training_on_a_real_slice_lowers_the_loss_and_is_repeatable(small_fashion):
    first = fm.train(small_fashion, epochs=2, batch_size=128, seed=0, device="cpu", threads=1)
    again = fm.train(small_fashion, epochs=2, batch_size=128, seed=0, device="cpu", threads=1)
    assert [s.epoch for s in first.history] == [1, 2]
    assert first.history[1].train_loss < first.history[0].train_loss
    assert first.history[1].test_loss < first.history[0].test_loss
    assert first.history[1].test_acc > 0.6  # chance is 0.1
    assert [dataclasses.astuple(s)[:5] for s in first.history] == [
        dataclasses.astuple(s)[:5] for s in again.history
    ]
    x, y = fm.to_tensors(small_fashion.x_test, small_fashion.y_test, torch.device("cpu"))
    assert fm.evaluate(first.model, x, y) == pytest.approx(
        (first.history[-1].test_loss, first.history[-1].test_acc)
    )


def test_target_accuracy_stops_training_early(small_fashion):
    result = fm.train(small_fashion, epochs=5, seed=0, device="cpu", threads=1, target_accuracy=0.1)
    assert len(result.history) == 1


def test_figures_show_curves_and_three_probability_panels(small_fashion):
    result = fm.train(small_fashion, epochs=2, seed=0, device="cpu", threads=1)
    curves = fm.plot_loss_curves(result.history)
    assert [line.get_label() for line in curves.axes[0].get_lines()] == ["train loss", "test loss"]
    images, labels = small_fashion.x_test[:3], small_fashion.y_test[:3]
    probs = fm.predict_probabilities(result.model, images)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-6)
    figure = fm.plot_probabilities(result.model, images, labels)
    assert len(figure.axes) == 6
    tick_labels = [t.get_text() for t in figure.axes[1].get_yticklabels()]
    assert tick_labels == list(fm.CLASS_NAMES)


@pytest.fixture
def one_thread():
    """One torch thread, as in the other tests: a busy 2-core machine makes two crawl."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_dataloader_loop_learns_a_fixed_slice(small_fashion, one_thread):
    """The student-style loop must train: a few hundred Adam steps on 1000 images."""
    images, labels = small_fashion.x_train[:1000], small_fashion.y_train[:1000]
    x, y = fm.to_tensors(images, labels, torch.device("cpu"))
    torch.manual_seed(0)
    model = fm.build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=fm.LEARNING_RATE)
    loss_before, accuracy_before = fm.evaluate(model, x, y)
    runs = [
        fm.dataloader_train_epoch(model, optimizer, images, labels, seed=epoch)
        for epoch in range(13)  # 16 batches of 64 each: 208 steps
    ]
    loss_after, accuracy_after = fm.evaluate(model, x, y)
    assert [(run.batches, run.samples) for run in runs] == [(16, 1000)] * 13
    assert runs[-1].mean_loss < runs[0].mean_loss / 2
    assert loss_after < loss_before / 3  # about 2.3 (chance) before training
    assert accuracy_before < 0.25 < 0.8 < accuracy_after  # chance is 0.1


def test_dataloader_loop_stops_after_max_batches(small_fashion):
    torch.manual_seed(0)
    model = fm.build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=fm.LEARNING_RATE)
    run = fm.dataloader_train_epoch(
        model, optimizer, small_fashion.x_train, small_fashion.y_train, max_batches=5
    )
    assert (run.batches, run.samples) == (5, 5 * 64)
