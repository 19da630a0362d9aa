# ruff: noqa: F821 -- _dlgrade_inputs, _dlgrade_emit and the p5_tools/p5_state preludes are injected
"""Problem 5, Q4: did the notebook train to the end? If not (or the TA asks), train here.

The watch (p5_watch) kept the weights after each of the notebook's own
epochs and left its counters on the wrapped functions. Only when the notebook
never trained, its training did not finish, or `retrain` is set does this
probe run the student's train_one_epoch 3 times from the grader's start,
called as the notebook's own call calls it (its arguments evaluated in the
notebook's globals, its result assigned to the same names), plainly when no
call of the notebook's can be reproduced.

It also emits the first rows of every array shaped like MNIST images
((N, 784) or (N, 28, 28), any name): the grader reads from them how the
notebook scaled its inputs.
"""


def _dlgrade_probe():
    tools, namespace, found = _dlgrade_p5_begin(["train_one_epoch"])
    _dlgrade_p5_inputs(tools, namespace)  # how the notebook holds its inputs (scaled or not)
    training = tools.training_state(namespace)
    if training is not None:
        _dlgrade_emit("training", {k: training[k] for k in ("epochs", "started", "failed")})
    if found is None:
        return
    if bool(_dlgrade_inputs["retrain"]):
        reason = "the grader was asked to re-train (--retrain)"
    elif training is None or training["started"] == 0:
        reason = "no call of train_one_epoch was seen in the notebook"
    elif training["failed"] or training["epochs"] < training["started"]:
        reason = f"the notebook's training did not finish ({training['failed'] or 'interrupted'})"
    else:
        _dlgrade_emit("decision", "notebook")
        return
    _dlgrade_emit("decision", "retrain")
    _dlgrade_emit("reason", reason)
    epoch = _dlgrade_p5_epoch_call(namespace)
    _dlgrade_p5_probed_loads()  # what earlier probes' calls loaded is not this training's
    with _dlgrade_p5_state(tools, namespace, found) as set_state, epoch.keeping_names():
        set_state()
        for number in range(3):
            _, error = _dlgrade_p5_call(epoch)
            loaded = _dlgrade_p5_probed_loads()
            if loaded:
                _dlgrade_emit(f"loads{number}", loaded)
            if error is not None:
                _dlgrade_emit("error", f"epoch {number + 1}: " + _dlgrade_p5_error(error))
                return
            arrays, error = _dlgrade_p5_call(tools.read, namespace, found)
            if error is not None:
                _dlgrade_emit("error", "reading the weights back: " + _dlgrade_p5_error(error))
                return
            for i, array in enumerate(arrays):
                _dlgrade_emit(f"e{number}_{'w' if i < 3 else 'b'}{i % 3}", array)


def _dlgrade_p5_inputs(tools, namespace):
    """Emit `inputs` (names) and `input<i>_head` (first 8 rows, flat, float64) of up to 8
    arrays shaped like MNIST images."""
    import numpy as np

    names = []
    for name, value in list(namespace.items()):
        if str(name).startswith("_") or not isinstance(value, np.ndarray):
            continue
        shape = value.shape
        images = len(shape) in (2, 3) and shape[1:] in ((784,), (28, 28)) and shape[0] >= 8
        if images and value.dtype.kind in "biuf" and len(names) < 8:
            head = tools.as_float(value[:8]).reshape(8, 784)
            _dlgrade_emit(f"input{len(names)}_head", head)
            names.append(str(name)[:100])
    _dlgrade_emit("inputs", names)


def _dlgrade_p5_epoch_call(namespace):
    """train_one_epoch as the notebook calls it (see _DlgradeNotebookCall)."""
    calls = _dlgrade_p5_notebook_calls(namespace, "train_one_epoch")
    for targets, call in calls:
        bound = _DlgradeNotebookCall(namespace, targets, call)
        if bound.arguments() is not None:
            return bound
    return _DlgradeNotebookCall(namespace, [], None)


def _dlgrade_p5_notebook_calls(namespace, name):
    """[(assignment targets, ast.Call)] for each call of `name` in the cells run so far
    (IPython's input history), in order; a call that is not assigned has no targets."""
    import ast

    found = []
    for source in list(namespace.get("In") or [])[1:]:
        try:
            tree = ast.parse(str(source))
        except (SyntaxError, ValueError):
            continue
        assigned = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                assigned[id(node.value)] = node.targets
        calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == name
        ]
        calls.sort(key=lambda node: (node.lineno, node.col_offset))
        found += [(assigned.get(id(node), []), node) for node in calls]
    return found


class _DlgradeNotebookCall:
    """One call of the notebook's, reproduced: arguments evaluated in its globals each time,
    the result assigned to the names the notebook assigned it to (restored afterwards)."""

    def __init__(self, namespace, targets, call):
        self.namespace, self.targets, self.call = namespace, targets, call

    def arguments(self):
        """(args, kwargs) evaluated now, or None when the notebook's call cannot be made here
        (an argument names a local variable of the function the call was in, say)."""
        import ast

        if self.call is None:
            return [], {}
        if any(isinstance(a, ast.Starred) for a in self.call.args):
            return None
        try:
            args = [self.evaluate(a) for a in self.call.args]
            kwargs = {k.arg: self.evaluate(k.value) for k in self.call.keywords if k.arg}
        except Exception:  # noqa: BLE001 -- not reproducible outside its context
            return None
        if any(k.arg is None for k in self.call.keywords):
            return None
        return args, kwargs

    def evaluate(self, node):
        import ast

        code = compile(ast.Expression(node), "<the notebook's call>", "eval")
        return eval(code, self.namespace)  # noqa: S307 -- the student's own expression, in their kernel

    def names(self):
        """The global names the call's result is assigned to."""
        import ast

        found = []
        for target in self.targets:
            parts = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
            found += [p.id for p in parts if isinstance(p, ast.Name)]
        return found

    def __call__(self):
        bound = self.arguments()
        args, kwargs = bound if bound is not None else ([], {})
        result = self.namespace["train_one_epoch"](*args, **kwargs)
        for target in self.targets:
            self.assign(target, result)
        return result

    def assign(self, target, value):
        import ast

        if isinstance(target, ast.Name):
            self.namespace[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            values = list(value)
            if len(values) == len(target.elts):
                for part, item in zip(target.elts, values, strict=True):
                    self.assign(part, item)

    def keeping_names(self):
        """A context that puts the assigned names back as the notebook had them."""
        import contextlib

        namespace, names = self.namespace, self.names()
        missing = object()
        saved = {name: namespace.get(name, missing) for name in names}

        @contextlib.contextmanager
        def keeping():
            try:
                yield
            finally:
                for name, value in saved.items():
                    if value is missing:
                        namespace.pop(name, None)
                    else:
                        namespace[name] = value

        return keeping()


def _dlgrade_p5_probed_loads():
    """Loader calls the student's code made while this probe ran (see _dlgrade_shim.loads)."""
    try:
        from _dlgrade_shim import loads
    except ImportError:  # a kernel without the grader's shim records none
        return []
    return loads.drain(probed=True)


_dlgrade_probe()
