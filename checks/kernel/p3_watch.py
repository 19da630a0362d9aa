# ruff: noqa: F821 -- _dlgrade_keep and _dlgrade_memory are injected by the engine
"""Problem 3a watch: every candidate parameter set the notebook holds, after each cell.

Students store a fit in many forms: a 13-number vector under any name (often
reused for both datasets), a (2, 13) array or a list or dict of fits, an
OptimizeResult (`.x`), fsolve's full_output tuple, tensors with
requires_grad, a 1-4-1 torch module, or separate W_H / b_H / W_O / b_O
pieces. This keeps each new or changed one as {"path", "kind", "values"};
the grader tries the parameter orders and judges by residual.
"""


def _dlgrade_watch():
    import types

    import numpy as np

    memory = _dlgrade_memory
    found = []

    def small_array(value, limit=64):
        """A float array of at most `limit` numbers, or None; never converts big data."""
        if isinstance(value, bool | str | bytes | dict | type | types.ModuleType) or value is None:
            return None
        if hasattr(value, "detach") and hasattr(value, "numel"):  # torch tensor
            if value.numel() > limit:
                return None
            value = value.detach().cpu().numpy()
        elif isinstance(value, np.ndarray):
            if value.size > limit:
                return None
        elif isinstance(value, list | tuple):
            if len(value) > limit:
                return None
        elif not isinstance(value, int | float | np.generic):
            return None
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError, RuntimeError):
            return None
        return array if array.size and np.all(np.isfinite(array)) else None

    def note(path, kind, array):
        found.append((path, kind, [float(v) for v in np.ravel(array)]))

    def examine(path, value, depth):
        array = small_array(value)
        if array is not None:
            if array.size == 13:
                note(path, "vector", array)
            elif array.ndim == 2 and 13 in array.shape and min(array.shape) <= 4:
                rows = array if array.shape[1] == 13 else array.T
                for i, row in enumerate(rows):
                    note(f"{path}[{i}]", "vector", row)
            elif array.size == 4:
                note(path, "four", array)
            elif array.size == 1 and not isinstance(value, int):
                note(path, "scalar", array)  # ints are counters and sizes, not biases
            return
        x = getattr(value, "x", None) if hasattr(value, "fun") else None
        if x is not None:  # scipy's OptimizeResult
            examine(f"{path}.x", x, depth)
            return
        if _is_module(value):
            params = [p.detach().cpu().numpy().ravel() for p in value.parameters()]
            if sum(p.size for p in params) == 13:
                note(path, "module", np.concatenate(params))
            return
        if depth >= 2:
            return
        if isinstance(value, list | tuple) and len(value) <= 64:
            for i, item in enumerate(value):
                examine(f"{path}[{i}]", item, depth + 1)
        elif isinstance(value, dict) and len(value) <= 64:
            for key, item in value.items():
                if isinstance(key, str | int):
                    examine(f"{path}[{key!r}]", item, depth + 1)

    for name, value in list(globals().items()):
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        if callable(value) and not _is_module(value):
            continue
        try:
            examine(name, value, 0)
        except Exception:  # a student object that breaks on inspection holds no fit
            continue

    for path, kind, numbers in found[:500]:
        fingerprint = (kind, tuple(numbers))
        if memory.get(path) != fingerprint:
            memory[path] = fingerprint
            _dlgrade_keep("candidate", {"path": path, "kind": kind, "values": numbers})


def _is_module(value):
    """A torch.nn.Module instance (checked by class, so torch is never imported here)."""
    return any(
        cls.__name__ == "Module" and cls.__module__ == "torch.nn.modules.module"
        for cls in type(value).__mro__
    )


_dlgrade_watch()
