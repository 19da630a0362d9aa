"""In-kernel shims: network guard, CUDA-on-CPU, offline datasets (served decoded in
batches), figure recorder, loader calls (weights read from files)."""

import os
import sys

from _dlgrade_shim import hooks, loads, network, observe


def install():
    """Install every shim the environment asks for; called from sitecustomize."""
    out_dir = os.environ.get("DLGRADE_OUT")
    if out_dir:
        observe.configure(out_dir)
    network.install()
    loads.install()
    standins = os.environ.get("DLGRADE_STANDINS")
    if standins:
        # Appended, so a real TensorFlow (when installed) still wins.
        sys.path.append(standins)
        from _dlgrade_shim import standins as stubs

        stubs.install()
    callbacks = {
        "torchvision.datasets.mnist": _patch_mnist,
        "matplotlib.backend_bases": _patch_matplotlib,
        "numpy": loads.patch_numpy,
    }
    if os.environ.get("DLGRADE_CUDA_SHIM") == "1":
        callbacks["torch"] = _patch_torch
    else:
        callbacks["torch"] = _record_gpu_use
    sys.meta_path.insert(0, hooks.PostImportHooks(callbacks))


def _patch_torch(module):
    from _dlgrade_shim import cuda

    cuda.patch(module)
    loads.patch_torch(module)


def _record_gpu_use(module):
    from _dlgrade_shim import cuda

    cuda.record_gpu_use(module)
    loads.patch_torch(module)


def _patch_mnist(module):
    from _dlgrade_shim import datasets, decoded

    datasets.patch(module)
    if os.environ.get("DLGRADE_DECODED", "1") == "1":
        decoded.patch(module)


def _patch_matplotlib(module):
    from _dlgrade_shim import figures

    figures.patch(module)
