"""Benchmark the reference solutions against the loops students write.

    python benchmarks/reference_speed.py [--quick]

Prints, side by side in one run:
* P5: seconds per epoch of the reference per-sample SGD vs a student-style
  implementation (the starter's helpers, np.outer, lists of activations),
  on the same MNIST samples, extrapolated to 60 000 samples;
* P4: seconds per epoch of the resident-tensor loop vs DataLoader + ToTensor
  at batch 64 (timed on part of an epoch, extrapolated), and the wall time to
  88.5 % FashionMNIST test accuracy on the CPU;
* P3: time per exact fit, per dataset.
Timings are wall clock on whatever else the machine is running; the best of
a few repeats is reported where a measurement is short.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from dlgrade.data import DataError, load
from reference import fashion_mlp, numpy_backprop, relu_fit
from reference.blas_threads import single_threaded_blas

EPOCH = 60_000


# --- P5 baseline: how the seed student wrote Q3/Q4 -----------------------------


def student_train_one_sample(weights, biases, sample, y, learning_rate=0.003):
    """The seed's train_one_sample, made to take its globals as arguments."""
    sigmoid, softmax = numpy_backprop.sigmoid, numpy_backprop.softmax
    a = sample.flatten()
    activations = []
    weight_gradients, bias_gradients = [None] * 3, [None] * 3
    dummy = a
    for i in range(len(weights)):
        dummy2 = np.matmul(dummy, weights[i]) + biases[i]
        dummy = softmax(dummy2) if i == len(weights) - 1 else sigmoid(dummy2)
        activations.append(dummy)
    one_hot = numpy_backprop.integer_to_one_hot(y, 10)
    for index in range(len(weights)):
        i = len(weights) - index - 1
        if index == 0:
            dl_dz = activations[i] - one_hot
        else:
            dl_dac = np.matmul(weights[i + 1], dl_dz.T).reshape(-1)
            dl_dz = dl_dac * (activations[i] * (1 - activations[i]))
        previous = a if i == 0 else activations[i - 1]
        weight_gradients[i] = np.outer(previous, dl_dz)
        bias_gradients[i] = dl_dz
    for i in range(len(weights)):
        weights[i] -= weight_gradients[i] * learning_rate
        biases[i] -= bias_gradients[i].flatten() * learning_rate


def student_epoch(params, x, y):
    weights, biases = [w.copy() for w in params.weights], [b.copy() for b in params.biases]
    for j in range(x.shape[0]):
        student_train_one_sample(weights, biases, x[j], y[j])
    return weights, biases


def seconds(run) -> float:
    """Wall-clock seconds of one call of run()."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def best_of(repeats: int, run) -> float:
    """The shortest of `repeats` timings of run(): the least disturbed by other load."""
    return min(seconds(run) for _ in range(repeats))


def bench_p5(mnist, samples: int, repeats: int) -> None:
    x, y = mnist.x_train[:samples], mnist.y_train[:samples]
    params = numpy_backprop.init_params()
    per_epoch = EPOCH / samples

    def pinned_student():
        with single_threaded_blas():
            student_epoch(params, x, y)

    # Interleaved, so a burst of load elsewhere hits all three alike.
    t_ref, t_student, t_pinned = [], [], []
    for _ in range(repeats):
        t_ref.append(seconds(lambda: numpy_backprop.train_epoch(params, x, y)) * per_epoch)
        t_student.append(seconds(lambda: student_epoch(params, x, y)) * per_epoch)
        t_pinned.append(seconds(pinned_student) * per_epoch)
    ref, student, pinned = min(t_ref), min(t_student), min(t_pinned)

    reference = numpy_backprop.train_epoch(params, x, y)
    weights, _ = student_epoch(params, x, y)
    drift = max(np.abs(a - b).max() for a, b in zip(reference.weights, weights, strict=True))
    print(f"P5 numpy backprop, raw inputs, best of {repeats} on {samples} samples, per 60000:")
    print(
        f"  reference train_epoch            {ref:7.2f} s/epoch  ({ref / EPOCH * 1e6:.1f} µs/step)"
    )
    print(f"  student-style loop               {student:7.2f} s/epoch  ratio {student / ref:5.1f}x")
    print(f"  student-style, BLAS pinned to 1  {pinned:7.2f} s/epoch  ratio {pinned / ref:5.1f}x")
    print(
        f"  max |weight difference| after the run: {drift:.2e} (rounding, chaotic with raw inputs)"
    )


# --- P4 --------------------------------------------------------------------------


def fast_epoch_seconds(x, y, batch_size: int, threads: int, repeats: int) -> float:
    torch.manual_seed(0)
    model = fashion_mlp.build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=fashion_mlp.LEARNING_RATE)
    shuffle = torch.Generator().manual_seed(0)
    with fashion_mlp._pinned_threads(threads):
        # warm-up: first calls initialise kernels and Adam's state
        fashion_mlp._train_epoch(model, optimizer, x[:2048], y[:2048], batch_size, shuffle)
        return best_of(
            repeats,
            lambda: fashion_mlp._train_epoch(model, optimizer, x, y, batch_size, shuffle),
        )


def bench_p4(fashion, dataloader_batches: int, full_run: bool, threads: int, repeats: int) -> None:
    x, y = fashion_mlp.to_tensors(fashion.x_train, fashion.y_train, torch.device("cpu"))
    print(f"P4 FashionMNIST MLP on the CPU, {threads} torch threads, best of {repeats}:")
    fast = {}
    for batch_size in (64, 128):
        fast[batch_size] = fast_epoch_seconds(x, y, batch_size, threads, repeats)
        print(f"  resident-tensor loop, batch {batch_size:3d}  {fast[batch_size]:7.2f} s/epoch")

    torch.manual_seed(0)
    model = fashion_mlp.build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=fashion_mlp.LEARNING_RATE)
    samples = dataloader_batches * 64
    with fashion_mlp._pinned_threads(threads):
        fashion_mlp.dataloader_train_epoch(
            model, optimizer, fashion.x_train, fashion.y_train, max_batches=5
        )  # warm-up
        t_loader = best_of(
            repeats,
            lambda: fashion_mlp.dataloader_train_epoch(
                model, optimizer, fashion.x_train, fashion.y_train, max_batches=dataloader_batches
            ),
        )
    t_loader *= EPOCH / samples
    print(
        f"  DataLoader + ToTensor, batch 64  {t_loader:7.2f} s/epoch (timed on {samples} samples)"
        f"  ratio {t_loader / fast[64]:4.1f}x vs batch 64, {t_loader / fast[128]:4.1f}x vs batch 128"
    )
    if not full_run:
        return
    start = time.perf_counter()
    result = fashion_mlp.train(
        fashion, epochs=20, batch_size=128, seed=0, device="cpu", threads=threads,
        target_accuracy=0.885,
    )  # fmt: skip
    wall = time.perf_counter() - start
    last = result.history[-1]
    training = sum(s.seconds for s in result.history)
    print(
        f"  time to 88.5 % test accuracy     {wall:7.2f} s  ({len(result.history)} epochs of batch"
        f" 128, test accuracy {last.test_acc:.4f}; training alone {training:.2f} s)"
    )


# --- P3 ---------------------------------------------------------------------------


def bench_p3(seeds: int) -> None:
    print(f"P3 exact fits (fsolve, residual < 1e-9), seeds 0..{seeds - 1}:")
    for dataset in (relu_fit.DATASET_1, relu_fit.DATASET_2, relu_fit.DATASET_2_MISREAD):
        times, tries = [], []
        for seed in range(seeds):
            start = time.perf_counter()
            tries.append(relu_fit.fit(dataset, seed=seed).tries)
            times.append(time.perf_counter() - start)
        print(
            f"  {dataset.name:20s} mean {np.mean(times) * 1e3:6.1f} ms  max {max(times) * 1e3:6.1f} ms"
            f"  tries mean {np.mean(tries):5.1f} max {max(tries)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples, no full P4 run")
    # 1 by default: on a shared machine, a second OpenMP thread waits at a
    # barrier after every op for a core another process holds (measured up
    # to 50x slower per epoch); pass --threads 2 on a quiet machine.
    parser.add_argument("--threads", type=int, default=1, help="torch threads for P4 (default 1)")
    args = parser.parse_args(argv)
    print(
        f"torch {torch.__version__}, numpy {np.__version__}, {torch.get_num_threads()} CPU threads"
    )
    bench_p3(seeds=3 if args.quick else 10)
    try:
        mnist, fashion = load("mnist"), load("fashion-mnist")
    except DataError as error:
        print(f"P4/P5 skipped: {error}")
        return 1
    repeats = 1 if args.quick else 3
    bench_p5(mnist, samples=2000 if args.quick else 10_000, repeats=repeats)
    bench_p4(
        fashion,
        dataloader_batches=40 if args.quick else 200,
        full_run=not args.quick,
        threads=args.threads,
        repeats=repeats,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
