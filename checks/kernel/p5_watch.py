# ruff: noqa: F821 -- _dlgrade_keep, _dlgrade_memory and the p5_tools prelude are injected
"""Problem 5 watch, run after every cell: the weights as initialised, and the notebook's training.

* `init` (+ `init_w0..2`, `init_b0..2`): the first complete 784-32-32-10
  weight set the notebook holds, wherever and however it holds it (Q1
  judges it). Later changes are kept as snapshots `s<n>` (+ `s<n>_w0..b2`),
  event "cell".
* The student's `train_one_epoch` is wrapped (functools.wraps) so the
  weights after each completed call are kept (event "epoch"): Q4 measures
  the notebook's own training instead of training again. The starter
  defines `train_one_epoch` and trains in the same cell, before any watch
  can wrap it, so `train_one_sample` (defined a cell earlier) is wrapped too:
  its first call from inside the running, unwrapped `train_one_epoch` wraps
  that function for the next calls and marks the running epoch, whose end is
  seen when the next epoch starts or the cell ends.
* `start` (+ `start_w0..b2`): the weights the notebook's first training call
  (train_one_epoch or train_one_sample, at its entry) received, with the
  dtypes of the held arrays and of the first sample, and that sample
  (`start_sample`, as the training saw it): Q1 judges the start of training,
  Q3 the precision the student computes in, Q4 the inputs the training used.
* A train_one_epoch that returns new arrays (`weights, biases =
  train_one_epoch(...)`) is read from its return value, not from the names
  the notebook has not rebound yet.
* What the training did is also left on the wrappers (`_dlgrade_state`), so
  the Q4 probe can tell whether the notebook trained to the end.
Nothing kept while a grader probe runs counts (the engine ignores those keeps;
the probes mark `probing` for the counters).
"""


def _dlgrade_watch():
    import functools
    import sys
    import types

    tools = _dlgrade_p5_tools()
    keep, memory, namespace = _dlgrade_keep, _dlgrade_memory, globals()
    state = memory.setdefault(
        "state",
        {"epochs": 0, "started": 0, "failed": None, "probing": False, "running": False},
    )

    def keep_arrays(prefix, arrays):
        for i, array in enumerate(arrays):
            keep(f"{prefix}_{'w' if i < 3 else 'b'}{i % 3}", array)

    def snapshot(event, source=None, **extra):
        space, found = source or (namespace, state.get("holder"))
        if found is None:
            return
        try:
            arrays = tools.read(space, found)
        except Exception:  # noqa: BLE001 -- the notebook dropped or renamed its weights
            return
        state["fingerprint"] = tools.fingerprint(arrays)
        number = memory.get("snapshots", 0)
        memory["snapshots"] = number + 1
        keep(f"s{number}", {"event": event, "epochs": state["epochs"], **extra})
        keep_arrays(f"s{number}", arrays)

    def running(function):
        """Whether `function` is on the call stack (a caller of the wrapper)."""
        frame, code = tools.getframe(2), getattr(function, "__code__", None)
        for _ in range(50):
            if frame is None:
                return False
            if frame.f_code is code:
                return True
            frame = frame.f_back
        return False

    def held_dtypes(space, found):
        """The dtypes of the held arrays as the notebook keeps them ('' for a list of numbers,
        or where the path is not plain keys and indices)."""
        dtypes = []
        for path in found["weights"] + found["biases"]:
            try:
                value = space[path[0]]
                for key in path[1:]:
                    value = value[key]
            except Exception:  # noqa: BLE001 -- an attribute or closure on the way
                value = None
            dtypes.append(str(getattr(value, "dtype", "")))
        return dtypes

    def training_starts():
        """Keep what the first training call received (the watch's `start`)."""
        if state["probing"] or memory.get("start"):
            return
        # Looked for once: a search on every sample of a training would cost seconds.
        memory["start"] = True
        found = tools.find(namespace) or state.get("holder")
        if found is None:
            return
        try:
            arrays, dtypes = tools.read(namespace, found), held_dtypes(namespace, found)
        except Exception:  # noqa: BLE001 -- an odd holder is judged from the cells instead
            return
        state["holder"] = state.get("holder") or found  # epochs in this same cell are kept
        keep("start", {"holder": found, "dtypes": dtypes})
        keep_arrays("start", arrays)

    def first_sample(args):
        """The first sample train_one_sample receives: the inputs the training uses."""
        if state["probing"] or memory.get("sample") or not args:
            return
        sample = args[0]
        kind = getattr(getattr(sample, "dtype", None), "kind", "")
        if isinstance(kind, str) and kind in "biuf" and kind and getattr(sample, "size", 0) == 784:
            memory["sample"] = True
            keep("start_sample", {"dtype": str(sample.dtype)})
            keep("start_sample_x", tools.as_float(sample).reshape(784))

    def returned(result):
        """(namespace, holder) when a training call returned a complete weight set."""
        if isinstance(result, dict):
            space = {"returned": result}
        elif isinstance(result, list | tuple):
            space = {f"returned{i}": item for i, item in enumerate(result)}
            space["returned"] = result
        else:
            return None
        try:
            found = tools.find(space)
        except Exception:  # noqa: BLE001 -- an odd return value holds no weights
            return None
        return (space, found) if found is not None else None

    def mark(wrapper):
        wrapper._dlgrade_hooked = True
        wrapper._dlgrade_state = state
        return wrapper

    def hook_epoch(function):
        @functools.wraps(function)
        def train_one_epoch(*args, **kwargs):
            probing = state["probing"]
            if not probing:
                if state["running"]:  # the unwrapped epoch before this one has ended
                    state["running"] = False
                    state["epochs"] += 1
                    snapshot("epoch", seen="when the next epoch started")
                state["started"] += 1
                training_starts()
            try:
                result = function(*args, **kwargs)
            except BaseException as err:
                if not probing:
                    state["failed"] = (
                        state["failed"] or f"train_one_epoch raised {type(err).__name__}"
                    )
                raise
            if not probing:
                state["epochs"] += 1
                # New arrays returned are the epoch's weights: the notebook rebinds its
                # names only after this returns.
                snapshot("epoch", returned(result))
            return result

        namespace["train_one_epoch"] = mark(train_one_epoch)

    def hook_sample(function):
        @functools.wraps(function)
        def train_one_sample(*args, **kwargs):
            training_starts()
            first_sample(args)
            epoch = namespace.get("train_one_epoch")
            if isinstance(epoch, types.FunctionType) and not getattr(
                epoch, "_dlgrade_hooked", False
            ):
                now = running(epoch)
                hook_epoch(epoch)
                if now and not state["probing"]:
                    state["running"] = True
                    state["started"] += 1
            try:
                return function(*args, **kwargs)
            except KeyboardInterrupt:  # the grader's time limit stopped the training
                if state["running"] and not state["probing"]:
                    state["failed"] = state["failed"] or "the training was interrupted"
                raise

        namespace["train_one_sample"] = mark(train_one_sample)

    def cell_raised():
        """Whether the cell that just ran raised (IPython keeps the last shown error)."""
        error = getattr(sys, "last_value", None)
        new = error is not None and error is not memory.get("last_error")
        memory["last_error"] = error
        return new

    raised = cell_raised()
    found = tools.find(namespace)
    if found is not None and "init" not in memory:
        arrays = tools.read(namespace, found)
        memory["init"] = True
        state["holder"], state["fingerprint"] = found, tools.fingerprint(arrays)
        keep("init", {"holder": found, "dtypes": held_dtypes(namespace, found)})
        keep_arrays("init", arrays)
    elif found is not None:
        state["holder"] = found
    if state["running"]:  # an unwrapped epoch ran until the cell ended
        state["running"] = False
        if raised or state["failed"]:
            state["failed"] = state["failed"] or "the cell that trained raised an error"
        else:
            state["epochs"] += 1
            snapshot("epoch", seen="when the cell ended")
    elif found is not None and tools.fingerprint(tools.read(namespace, found)) != state.get(
        "fingerprint"
    ):
        snapshot("cell")
    for name, hook in (("train_one_sample", hook_sample), ("train_one_epoch", hook_epoch)):
        function = namespace.get(name)
        if isinstance(function, types.FunctionType) and not getattr(
            function, "_dlgrade_hooked", False
        ):
            hook(function)


_dlgrade_watch()
