# ruff: noqa: F821 -- _dlgrade_inputs and _dlgrade_emit are injected by the engine
"""Problem 4: what the grader needs to judge the student's network, read from their kernel.

Part 3 of 3 of the p4_model probe, sent after p4_datasets and p4_series (see
`checks.probes.p4_probes`); its last line runs the probe. Emits, for each
candidate model (a torch.nn.Module holding Linear layers, found in the
globals or one level inside a dict/list/tuple global):
  models: [{name, params, weight_ids, optimizers, ops, trace, error}, ...]
  m{i}_w{j} / m{i}_b{j}: the Linear layers' weights and biases in CALL order,
  m{i}_in / m{i}_out: the first Linear's input and the model's output on the
  grader's test images, m{i}_own: accuracy on the student's own test set;
plus, from the other two parts, the loss objects, the datasets (with samples
d{i}_x / d{i}_y as the student's pipeline delivers them), numeric series that
may be per-epoch losses, and integer globals that may be epoch counts.

The probe leaves the student's state as it found it: training flags, hooks and
random number generators are restored; no student loader is iterated.
"""


def _dlgrade_probe():
    import contextlib

    import numpy as np
    import torch

    inputs = _dlgrade_inputs
    namespace = {k: v for k, v in globals().items() if not k.startswith("_")}
    with _saved_random_state(torch, np), contextlib.ExitStack() as stack:
        models = _candidate_models(namespace, torch)
        datasets = _datasets(namespace, torch, {int(n) for n in inputs["sizes"]})
        _emit_datasets(datasets, torch, np)
        _dlgrade_emit("losses", _losses(namespace, torch))
        _dlgrade_emit("series", _series(namespace, np, torch))
        _dlgrade_emit("epochs", _epoch_counts(namespace))
        test_set = _test_set(datasets)
        described = []
        for index, (names, model, optimizers) in enumerate(models):
            flags = [(m, m.training) for m in model.modules()]
            stack.callback(_restore_flags, flags)
            described.append(_model(index, names, model, optimizers, inputs, test_set, torch, np))
            _restore_flags(flags)
        _dlgrade_emit("models", described)


class _saved_random_state:  # noqa: N801 -- used as a context manager, like contextlib's
    """Restores the torch, numpy and random generators: drawing samples must not
    change the student's next random numbers. (A class: the probe imports nothing
    at top level, so it rebinds none of the student's names.)"""

    def __init__(self, torch, np):
        import random

        self.modules = torch, np, random
        self.states = (torch.get_rng_state(), np.random.get_state(), random.getstate())
        self.cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        torch, np, random = self.modules
        torch.set_rng_state(self.states[0])
        np.random.set_state(self.states[1])
        random.setstate(self.states[2])
        if self.cuda is not None:
            torch.cuda.set_rng_state_all(self.cuda)
        return False


def _restore_flags(flags):
    for module, training in flags:
        module.training = training


def _candidate_models(namespace, torch):
    """[(names, model, optimizer names)], models an optimizer holds first, then by size."""
    found = {}
    for name, value in namespace.items():
        for path, item in _with_children(name, value):
            if isinstance(item, torch.nn.Module) and any(
                isinstance(m, torch.nn.Linear) for m in item.modules()
            ):
                found.setdefault(id(item), ([], item))[0].append(path)
    optimizers = {
        name: {id(p) for group in value.param_groups for p in group["params"]}
        for name, value in namespace.items()
        if isinstance(value, torch.optim.Optimizer)
    }
    ranked = []
    for names, model in found.values():
        params = {id(p) for p in model.parameters()}
        holders = sorted(n for n, held in optimizers.items() if params and params <= held)
        size = sum(p.numel() for p in model.parameters())
        ranked.append((bool(holders), size, names, model, holders))
    ranked.sort(key=lambda r: (r[0], r[1]), reverse=True)
    return [(names, model, holders) for _, _, names, model, holders in ranked[:4]]


def _with_children(name, value):
    yield name, value
    if isinstance(value, dict):
        items = list(value.items())[:20]
        yield from ((f"{name}[{k!r}]", v) for k, v in items if isinstance(k, str | int))
    elif isinstance(value, list | tuple):
        yield from ((f"{name}[{i}]", v) for i, v in enumerate(value[:20]))


def _model(index, names, model, optimizers, inputs, test_set, torch, np):
    info = {
        "name": names[0],
        "aliases": names[1:],
        "params": int(sum(p.numel() for p in model.parameters())),
        "weight_ids": [id(p) for p in model.parameters() if p.ndim == 2 and p.shape[1] == 784],
        "optimizers": optimizers,
        "class": type(model).__name__,
        "error": None,
    }
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    model.eval()
    ops, trace = _trace(model, torch)
    info["ops"], info["trace"] = ops, trace
    images = torch.from_numpy(inputs["images"]).to(device)
    try:
        first_input, calls, output, layout = _forward(model, images, torch)
    except Exception as err:  # noqa: BLE001 -- the student's forward may fail any way
        info["error"] = f"calling the model failed: {type(err).__name__}: {str(err)[:300]}"
        return info
    info["layout"] = layout
    if trace != "fx":
        info["ops"] = [_describe(m, torch) for m in calls]
    linears = [m for m in calls if isinstance(m, torch.nn.Linear)]
    for j, layer in enumerate(linears[:8]):
        _dlgrade_emit(f"m{index}_w{j}", layer.weight.detach().cpu().double().numpy())
        if layer.bias is not None:
            _dlgrade_emit(f"m{index}_b{j}", layer.bias.detach().cpu().double().numpy())
    if first_input is not None:
        _dlgrade_emit(f"m{index}_in", first_input)
    _dlgrade_emit(f"m{index}_out", output)
    if test_set is not None and index < 2:
        info["own"] = _own_accuracy(model, test_set, layout, device, torch)
    return info


def _trace(model, torch):
    """The operations of the forward pass in call order (torch.fx), or [] and why not."""
    try:
        import torch.fx

        graph = torch.fx.symbolic_trace(model).graph
    except Exception as err:  # noqa: BLE001 -- fx cannot trace every forward
        return [], f"hooks ({type(err).__name__})"
    ops = []
    for node in graph.nodes:
        if node.op == "call_module":
            ops.append(_describe(model.get_submodule(node.target), torch))
        elif node.op in ("call_function", "call_method"):
            target = node.target if isinstance(node.target, str) else node.target.__name__
            ops.append(str(target))
    return ops, "fx"


def _describe(module, torch):
    if isinstance(module, torch.nn.Linear):
        return f"Linear({module.in_features},{module.out_features})"
    return type(module).__name__


def _forward(model, images, torch):
    """(first Linear's input, leaf calls in order, output, layout) on the grader's images."""
    calls, first = [], []
    leaves = [m for m in model.modules() if not list(m.children())]

    def record(module, args):
        calls.append(module)
        if isinstance(module, torch.nn.Linear) and not first and args:
            first.append(args[0].detach().cpu().double().numpy().reshape(len(args[0]), -1))

    handles = [m.register_forward_pre_hook(record) for m in leaves]
    try:
        errors = []
        for layout, batch in _layouts(images):
            calls.clear()
            first.clear()
            try:
                with torch.no_grad():
                    out = model(batch)
            except Exception as err:  # noqa: BLE001 -- try the next input layout
                errors.append(err)
                continue
            if isinstance(out, tuple | list):
                out = out[0]
            output = out.detach().cpu().double().numpy()
            return (first[0] if first else None), list(calls), output, layout
        raise errors[0]
    finally:
        for handle in handles:
            handle.remove()


def _layouts(images):
    n = len(images)
    yield "image", images
    yield "flat", images.reshape(n, -1)
    yield "square", images.reshape(n, 28, 28)


def _own_accuracy(model, test_set, layout, device, torch):
    """Accuracy of `model` on the student's own test set, as its items come (no loop code)."""
    name, dataset = test_set
    loader = torch.utils.data.DataLoader(dataset, batch_size=500, shuffle=False, num_workers=0)
    correct = total = 0
    try:
        with torch.no_grad():
            for batch in loader:
                x, y = batch[0], batch[1]
                x = x.to(device=device, dtype=torch.float32)
                if layout == "flat":
                    x = x.reshape(len(x), -1)
                elif layout == "square":
                    x = x.reshape(len(x), 28, 28)
                out = model(x)
                out = out[0] if isinstance(out, tuple | list) else out
                correct += int((out.argmax(dim=1).cpu() == torch.as_tensor(y)).sum())
                total += len(y)
    except Exception as err:  # noqa: BLE001 -- the student's data or model may fail
        return {"dataset": name, "error": f"{type(err).__name__}: {str(err)[:300]}"}
    return {"dataset": name, "correct": correct, "total": total}


_dlgrade_probe()
