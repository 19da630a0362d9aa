# ruff: noqa: F821 -- _dlgrade_inputs and _dlgrade_emit are injected by the engine
"""Problem 4: the trained model's layers, weights and outputs; datasets; loss series."""


def _dlgrade_probe():
    import numpy as np
    import torch

    namespace = {k: v for k, v in globals().items() if not k.startswith("_")}
    models = {
        name: value
        for name, value in namespace.items()
        if isinstance(value, torch.nn.Module)
        and any(isinstance(m, torch.nn.Linear) for m in value.modules())
    }
    _dlgrade_emit("model_names", sorted(models))
    _dlgrade_emit("datasets", _datasets(namespace))
    _dlgrade_emit("series", _series(namespace, np))
    if not models:
        return
    name = max(models, key=lambda n: sum(p.numel() for p in models[n].parameters()))
    model = models[name]
    _dlgrade_emit("model_name", name)
    leaves = [m for m in model.modules() if not list(m.children())]
    _dlgrade_emit("layers", [type(m).__name__ for m in leaves])
    linears = [m for m in leaves if isinstance(m, torch.nn.Linear)]
    for i, layer in enumerate(linears):
        _dlgrade_emit(f"linear{i}_weight", layer.weight.detach().cpu().double().numpy())
        if layer.bias is not None:
            _dlgrade_emit(f"linear{i}_bias", layer.bias.detach().cpu().double().numpy())
    _dlgrade_emit("outputs", _outputs(model, torch))


def _outputs(model, torch):
    images = torch.from_numpy(_dlgrade_inputs["images"])
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        try:
            out = model(images.to(device))
        except RuntimeError:  # a model that wants flat rows
            out = model(images.reshape(len(images), -1).to(device))
    return out.detach().cpu().double().numpy()


def _datasets(namespace):
    found = []
    for name, value in namespace.items():
        dataset = getattr(value, "dataset", value)  # DataLoaders carry their dataset
        if type(dataset).__name__ in ("FashionMNIST", "MNIST"):
            found.append(
                {
                    "name": name,
                    "train": bool(getattr(dataset, "train", False)),
                    "transform": repr(getattr(dataset, "transform", None))[:2000],
                }
            )
    return found


def _series(namespace, np):
    """1-D numeric sequences whose names speak of losses or accuracies."""
    series = {}
    for name, value in namespace.items():
        lowered = name.lower()
        if not any(word in lowered for word in ("loss", "acc", "err")):
            continue
        if isinstance(value, str | bytes | dict) or callable(value):
            continue
        try:
            array = np.asarray([float(v) for v in value], dtype=np.float64)
        except (TypeError, ValueError, RuntimeError):
            continue  # not a sequence of numbers
        if 1 <= array.size <= 10_000:
            series[name] = [float(v) for v in array]
    return series


_dlgrade_probe()
