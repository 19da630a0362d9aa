# ruff: noqa: F821 -- _dlgrade_inputs and _dlgrade_emit are injected by the engine
"""Problem 4's probe, part 1 of 3: the datasets in the student's globals.

Not a probe of its own: `checks.probes.p4_probes` sends p4_datasets,
p4_series and p4_model as one code, and p4_model's `_dlgrade_probe` calls
these. For every torch Dataset, DataLoader or tensor of 28x28 images: its
names, facts (type, train flag, length, transform) and the first items as the
student's pipeline delivers them (d{i}_x / d{i}_y); and which of them is the
student's test set (for the model's accuracy on it).
"""


def _datasets(namespace, torch, sizes):
    """[(names, dataset, facts)] for every dataset, loader or image tensor in the globals."""
    import contextlib

    found = {}
    for name, value in namespace.items():
        dataset, loader = value, None
        if isinstance(value, torch.utils.data.DataLoader):
            dataset, loader = value.dataset, value
        if isinstance(dataset, torch.utils.data.Dataset):
            entry = found.setdefault(id(dataset), ([], dataset, _facts(dataset, torch)))
        elif _image_rows(value, torch) in sizes:
            entry = found.setdefault(id(value), ([], value, {"type": "tensor", "train": None}))
            entry[2]["length"] = len(value)
        else:
            continue
        entry[0].append(name)
        if loader is not None:
            entry[2]["loaders"] = entry[2].get("loaders", []) + [name]
            with contextlib.suppress(Exception):  # an iterable-style loader has no length
                entry[2]["batches"] = len(loader)
    return list(found.values())[:12]


def _facts(dataset, torch):
    import contextlib

    base = dataset
    while hasattr(base, "dataset") and isinstance(base.dataset, torch.utils.data.Dataset):
        base = base.dataset  # Subset and friends
    facts = {"type": type(dataset).__name__, "base": type(base).__name__}
    train = getattr(base, "train", None)
    facts["train"] = train if isinstance(train, bool) else None
    with contextlib.suppress(Exception):  # an iterable dataset has no length
        facts["length"] = len(dataset)
    facts["transform"] = repr(getattr(base, "transform", None))[:500]
    return facts


def _image_rows(value, torch):
    """Row count of a tensor/array of 28x28 images (n, 28, 28), (n, 1, 28, 28) or (n, 784)."""
    shape = getattr(value, "shape", None)
    if not isinstance(value, torch.Tensor) and type(value).__name__ != "ndarray":
        return None
    if shape is None or len(shape) < 2:
        return None
    size = 1
    for s in shape[1:]:
        size *= int(s)
    return int(shape[0]) if size == 784 else None


def _emit_datasets(datasets, torch, np):
    described = []
    for index, (names, dataset, facts) in enumerate(datasets):
        facts = dict(facts, names=names)
        xs, ys = [], []
        try:
            for i in range(min(8, len(dataset))):
                item = dataset[i]
                x, y = (item[0], item[1]) if isinstance(item, tuple | list) else (item, -1)
                x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
                xs.append(x.detach().cpu().double().reshape(-1).numpy())
                ys.append(int(y) if not isinstance(y, torch.Tensor) or y.numel() == 1 else -1)
        except Exception as err:  # noqa: BLE001 -- a student dataset may fail any way
            facts["error"] = f"{type(err).__name__}: {str(err)[:200]}"
        facts["item_size"] = int(xs[0].size) if xs else None
        if xs and all(x.size == 784 for x in xs):
            _dlgrade_emit(f"d{index}_x", np.stack(xs))
            _dlgrade_emit(f"d{index}_y", np.asarray(ys, dtype=np.int64))
        described.append(facts)
    _dlgrade_emit("datasets", described)


def _test_set(datasets):
    """The student's test dataset (torchvision train=False, else named test/val)."""

    def rank(entry):
        names, dataset, facts = entry
        named = any(w in n.lower() for n in names for w in ("test", "val"))
        return (facts.get("train") is False, named)

    usable = [e for e in datasets if e[2].get("type") != "tensor" and rank(e) != (False, False)]
    if not usable:
        return None
    names, dataset, _ = max(usable, key=rank)
    return names[0], dataset
