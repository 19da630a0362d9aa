"""Problem 4's probe, part 2 of 3: loss objects, per-epoch series and epoch counts.

Not a probe of its own (see p4_datasets). Numeric sequences in the globals
(lists, arrays, tensors, dict entries, per-epoch records, DataFrame columns)
by path: the grader looks among them for per-epoch losses; integer globals
named for epochs (also inside settings dicts
and objects) are the epoch counts.
"""


def _losses(namespace, torch):
    return [
        {"name": name, "type": type(value).__name__}
        for name, value in namespace.items()
        if isinstance(value, torch.nn.modules.loss._Loss)
    ]


def _epoch_counts(namespace):
    """Integers named for epochs: globals, and one level into dicts and plain objects
    (`config["epochs"]`, `args.num_epochs`), where students keep their settings."""
    found = {}
    for name, value in namespace.items():
        if str(name).startswith("_"):
            continue
        try:
            inside = _settings(name, value)
        except Exception:  # an object whose attribute lookup raises holds nothing we read
            inside = []
        # inside a dict or object only a plural names a setting: a checkpoint's
        # {"epoch": 7} may be any epoch the student saved at
        for path, word, item in [
            (name, name, value),
            *((p, k, v) for p, k, v in inside if "epochs" in str(k).lower()),
        ]:
            if "epoch" in str(word).lower() and type(item) is int and 1 <= item <= 10_000:
                found[path] = item
    return found


def _settings(name, value):
    """(path, key, value) of a dict's string keys or a plain object's attributes."""
    if isinstance(value, dict):
        items = list(value.items())[:100]
        return [(f"{name}[{key!r}]", key, item) for key, item in items if isinstance(key, str)]
    attributes = getattr(value, "__dict__", None)
    if not isinstance(attributes, dict) or isinstance(value, type) or callable(value):
        return []
    if type(value).__module__ in ("builtins",) or hasattr(value, "__spec__"):
        return []  # modules and built-in objects hold no settings of the student's
    return [(f"{name}.{key}", key, item) for key, item in list(attributes.items())[:100]]


def _series(namespace, np, torch):
    """1-D numeric sequences (lists, arrays, tensors, dict and DataFrame columns) by path."""
    found = {}
    for name, value in namespace.items():
        if isinstance(value, type | torch.nn.Module) or callable(value):
            continue
        _collect(name, value, found, np, torch, depth=0)
        if len(found) >= 300:
            break
    return found


def _collect(path, value, found, np, torch, depth):
    numbers = _numbers(value, np, torch)
    if numbers is not None:
        if 2 <= len(numbers) <= 5000:
            found[path] = numbers
        return
    if depth >= 2:
        return
    if type(value).__name__ == "DataFrame":
        for column in list(value.columns)[:20]:
            _collect(f"{path}[{column!r}]", list(value[column]), found, np, torch, depth + 1)
    elif isinstance(value, dict):
        items = list(value.items())[:50]
        if items and all(isinstance(k, int) for k, _ in items):  # {epoch: loss}
            numbers = _numbers([v for _, v in sorted(items)], np, torch)
            if numbers is not None and len(numbers) >= 2:
                found[path] = numbers
                return
        for key, item in items:
            if isinstance(key, str | int):
                _collect(f"{path}[{key!r}]", item, found, np, torch, depth + 1)
    elif isinstance(value, list | tuple) and value:
        rows = value[:5000]
        if all(isinstance(v, dict) for v in rows):  # one dict per epoch
            keys = [k for k in rows[0] if isinstance(k, str)][:20]
            columns = {f"{path}[*][{k!r}]": [v.get(k) for v in rows] for k in keys}
        elif len(rows) >= 2 and all(
            isinstance(v, list | tuple) and len(v) == len(rows[0]) <= 10 for v in rows
        ):
            # one (train, test) tuple per epoch
            columns = {f"{path}[*][{k}]": [v[k] for v in rows] for k in range(len(rows[0]))}
        else:
            columns = None
        if columns is not None:
            for name, column in columns.items():
                numbers = _numbers(column, np, torch)
                if numbers is not None and len(numbers) >= 2:
                    found[name] = numbers
        else:
            for i, item in enumerate(value[:10]):
                _collect(f"{path}[{i}]", item, found, np, torch, depth + 1)


def _numbers(value, np, torch):
    """The values of a 1-D numeric sequence as floats, else None."""
    if isinstance(value, str | bytes | dict) or value is None:
        return None
    if isinstance(value, torch.Tensor):
        if value.ndim != 1 or not value.is_floating_point():
            return None  # integer tensors hold labels and predictions, not losses
        value = value.detach().cpu().double().numpy()
    if isinstance(value, np.ndarray):
        if value.ndim != 1 or value.dtype.kind != "f":
            return None
        return [float(v) for v in value[:5001]]
    if not isinstance(value, list | tuple) or not value:
        return None
    out = []
    for item in value[:5001]:
        if isinstance(item, bool):
            return None
        if isinstance(item, int | float):
            out.append(float(item))
        elif isinstance(item, torch.Tensor | np.generic | np.ndarray) and np.size(item) == 1:
            out.append(float(item.item() if hasattr(item, "item") else item))
        else:
            return None
    return out
