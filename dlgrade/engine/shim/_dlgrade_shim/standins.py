"""Any `tensorflow.*` / `keras.*` import succeeds against the stand-ins.

Colab inserts imports such as `from tensorflow.python.ops.gen_array_ops import
one_hot` when a student accepts an autocompletion. The homework needs nothing of
TensorFlow but `tf.keras.datasets.mnist.load_data`, so a stray import must not
fail the cell: the module is a stub, and what it names fails only when used,
with a message that says why.
"""

import importlib.abc
import importlib.machinery
import sys
import types

STANDIN_ROOTS = ("tensorflow", "keras")


class TensorFlowNotAvailable(RuntimeError):
    """Something of TensorFlow other than the MNIST loader was used."""


def _message(name):
    return (
        f"{name} is not available in the grading sandbox: TensorFlow is not installed, "
        "only tf.keras.datasets.mnist.load_data is provided"
    )


class Unavailable:
    """A name from TensorFlow that imports fine and fails when used."""

    def __init__(self, name):
        object.__setattr__(self, "_dlgrade_name", name)

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return Unavailable(f"{self._dlgrade_name}.{attr}")

    def __call__(self, *args, **kwargs):
        raise TensorFlowNotAvailable(_message(self._dlgrade_name))

    def __repr__(self):
        return f"<unavailable {self._dlgrade_name}>"


def missing_attribute(module_name, attr):
    """For a stand-in module's `__getattr__`: dunders stay missing, the rest are stubs."""
    if attr.startswith("__") and attr.endswith("__"):
        raise AttributeError(f"module {module_name!r} has no attribute {attr!r}")
    return Unavailable(f"{module_name}.{attr}")


def _is_standin(name):
    module = sys.modules.get(name)
    return module is not None and getattr(module, "__dlgrade_standin__", False)


class StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path: a stand-in's missing submodule becomes a stub package."""

    def find_spec(self, fullname, path=None, target=None):
        parent, _, _ = fullname.rpartition(".")
        if fullname.split(".")[0] not in STANDIN_ROOTS or not parent or not _is_standin(parent):
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__dlgrade_standin__ = True
        module.__getattr__ = lambda attr: missing_attribute(spec.name, attr)
        return module

    def exec_module(self, module):
        from _dlgrade_shim import observe

        observe.note("tensorflow-standin", f"{module.__name__} imported as a stub (no TensorFlow)")


def install():
    if not any(isinstance(f, StubFinder) for f in sys.meta_path):
        sys.meta_path.append(StubFinder())
