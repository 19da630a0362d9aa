# ruff: noqa: F821 -- _dlgrade_emit is injected by the engine
"""Problem 5: what the notebook defines, to name it when the expected interface is missing."""


def _dlgrade_probe():
    import numpy as np

    arrays, containers, functions, classes = [], [], [], []
    for name, value in list(globals().items()):
        if name.startswith("_") or name in ("In", "Out", "exit", "quit", "get_ipython"):
            continue
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.size <= 100_000:
            arrays.append(f"{name} {value.shape}")
        elif isinstance(value, dict | list | tuple) and len(value) <= 1000:
            items = list(value.values() if isinstance(value, dict) else value)
            if any(isinstance(v, np.ndarray) for v in items):
                shapes = ", ".join(
                    "x".join(map(str, v.shape)) if isinstance(v, np.ndarray) else type(v).__name__
                    for v in items[:8]
                )
                containers.append(f"{name} ({type(value).__name__} of {len(value)}: {shapes})")
        elif isinstance(value, type) and value.__module__ == "__main__":
            classes.append(name)
        elif callable(value) and getattr(value, "__module__", "") == "__main__":
            functions.append(name)
    interface = ("weights", "biases", "feed_forward_sample", "train_one_sample", "train_one_epoch")
    _dlgrade_emit("defined", {n: type(globals()[n]).__name__ for n in interface if n in globals()})
    _dlgrade_emit(
        "inventory",
        {
            "arrays": sorted(arrays)[:30],
            "containers": sorted(containers)[:30],
            "functions": sorted(functions)[:60],
            "classes": sorted(classes)[:30],
        },
    )


_dlgrade_probe()
