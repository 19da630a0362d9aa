"""Run a callback right after a module is first imported (to patch torch etc.)."""

import sys

from _dlgrade_shim import observe


class PostImportHooks:
    """A meta-path finder that wraps the real loader of a few named modules."""

    def __init__(self, callbacks):
        self._callbacks = dict(callbacks)

    def find_spec(self, fullname, path=None, target=None):
        callback = self._callbacks.get(fullname)
        if callback is None:
            return None
        spec = None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        self._callbacks.pop(fullname)
        spec.loader = _HookedLoader(spec.loader, callback, fullname)
        return spec


class _HookedLoader:
    def __init__(self, loader, callback, name):
        self._loader = loader
        self._callback = callback
        self._name = name

    def __getattr__(self, attr):
        return getattr(self._loader, attr)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        try:
            self._callback(module)
        except Exception as err:  # a failed patch must not break the student's import
            observe.note("shim-error", f"patching {self._name} failed: {err!r}")
            sys.stderr.write(f"dlgrade shim: patching {self._name} failed: {err!r}\n")
