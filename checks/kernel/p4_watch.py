# ruff: noqa: F821 -- _dlgrade_keep and _dlgrade_memory are injected by the engine
"""Problem 4 watch: how the student's training really went, seen from inside torch.

Runs after every cell. Once torch is imported it installs two global hooks,
once per run:
- an optimizer step hook counting, per first-layer weight (a 2-D parameter
  with 784 columns), how many optimizer steps updated it: which model was
  trained, and how far;
- a forward pre-hook on every `nn.Linear(784, ...)` keeping the first rows
  of the first few batches it receives, in training and in evaluation: the
  inputs after all of the student's preprocessing (dataset transforms,
  lambdas, `(x - mean) / std` in the loop), which the grader matches against
  the raw images.
After each cell it keeps the step counts when they changed. Hooks only read;
they never change a tensor, a module or an optimizer, and a failing hook
stays silent (it must never break the student's code).
"""


def _dlgrade_p4_watch(keep, memory):
    import sys

    if "torch" not in sys.modules:
        return
    torch = sys.modules["torch"]
    if not memory.get("hooked"):
        memory["hooked"] = True
        memory["steps"] = {}  # id(weight) -> [weakref, count]
        memory["captures"] = {}  # (id(weight), mode) -> count
        memory["kept_steps"] = {}
        _install(torch, keep, memory)
        keep("hooked", True)
    counts = {
        str(key): count
        for key, (ref, count) in memory["steps"].items()
        if ref() is not None and count
    }
    if counts != memory.get("kept_steps"):
        memory["kept_steps"] = counts
        keep("steps", counts)


def _install(torch, keep, memory):
    import weakref

    rows, per_mode, total = 8, 2, 24

    def first_layer_weights(optimizer):
        for group in optimizer.param_groups:
            for param in group["params"]:
                if getattr(param, "ndim", 0) == 2 and param.shape[1] == 784:
                    yield param

    def after_step(optimizer, args, kwargs):
        try:
            for param in first_layer_weights(optimizer):
                entry = memory["steps"].get(id(param))
                if entry is None or entry[0]() is not param:
                    entry = memory["steps"][id(param)] = [weakref.ref(param), 0]
                entry[1] += 1
        except Exception:  # noqa: BLE001,S110 -- a grader hook must never break training
            pass

    def before_forward(module, args):
        try:
            if not isinstance(module, torch.nn.Linear) or module.in_features != 784 or not args:
                return
            mode = "train" if module.training and torch.is_grad_enabled() else "eval"
            key = (id(module.weight), mode)
            seen = memory["captures"].get(key, 0)
            if seen >= per_mode or sum(memory["captures"].values()) >= total:
                return
            memory["captures"][key] = seen + 1
            x = args[0]
            if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != 784:
                return
            sample = x[:rows].detach().to("cpu", torch.float64).numpy().copy()
            keep(f"in_{mode}_{id(module.weight)}", sample)
        except Exception:  # noqa: BLE001,S110 -- a grader hook must never break training
            pass

    import importlib

    optimizers = importlib.import_module("torch.optim.optimizer")
    modules = importlib.import_module("torch.nn.modules.module")
    optimizers.register_optimizer_step_post_hook(after_step)
    modules.register_module_forward_pre_hook(before_forward)


_dlgrade_p4_watch(_dlgrade_keep, _dlgrade_memory)
