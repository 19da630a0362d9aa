# ruff: noqa: F821 -- runs in the student's kernel (see checks/kernel/__init__.py)
"""Problem 5 prelude, call binding: the student's functions called as the notebook calls them.

`bound` calls a student's function as the notebook does: parameters the
template lacks are bound by name to globals, else as the notebook's own calls
(IPython's `In`) pass them, else to the network's arrays; a network it
returns is stored in the holder (`absorb`). `as_called` makes one of the
notebook's own calls again, whole, through `bound` (Q4's re-training).
"""


def _dlgrade_p5_binding(search, access):
    import ast
    import contextlib
    import inspect
    import types

    chain, candidates, step_text = search.chain, search.candidates, search.step_text
    paths, get, put = access.paths, access.get, access.put

    rate_names = ("learning_rate", "lr", "eta", "alpha", "rate", "step_size", "learningrate")
    filled = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)

    def notebook_calls(namespace, name):
        """[(assignment targets, ast.Call)] of the notebook's own calls of `name` (from IPython's
        input history), outside any function first: their arguments are the notebook's globals.
        A call whose result is not assigned has no targets."""
        sources = namespace.get("In")
        top, inner = [], []
        for source in sources if isinstance(sources, list) else ():
            if not isinstance(source, str) or name not in source:
                continue
            try:
                tree = ast.parse(source)
            except (SyntaxError, ValueError):
                continue
            nested = {
                id(node)
                for scope in ast.walk(tree)
                if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                for node in ast.walk(scope)
            }
            assigned = {
                id(node.value): node.targets
                for node in ast.walk(tree)
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            }
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
                    targets = assigned.get(id(node), [])
                    (inner if id(node) in nested else top).append((targets, node))
        return top + inner

    def evaluate(namespace, node):
        """The notebook's own expression `node`, evaluated again in its globals."""
        code = compile(ast.Expression(node), "<notebook call>", "eval")
        return eval(code, namespace)  # noqa: S307 -- the student's own expression, in their kernel

    def plain_expression(node):
        """A name, constant, attribute or subscript of those: safe to evaluate again."""
        if isinstance(node, ast.Name | ast.Constant):
            return True
        if isinstance(node, ast.Attribute | ast.UnaryOp):
            return plain_expression(getattr(node, "value", None) or node.operand)
        if isinstance(node, ast.Subscript):
            return plain_expression(node.value) and plain_expression(node.slice)
        return False

    def from_calls(namespace, calls, parameter, index):
        """(True, value) of the argument the notebook's calls pass for `parameter`."""
        for call in calls:
            node = next((k.value for k in call.keywords if k.arg == parameter.name), None)
            starred = any(isinstance(a, ast.Starred) for a in call.args[: index + 1])
            if node is None and parameter.kind in filled and index < len(call.args) and not starred:
                node = call.args[index]
            if node is None or not plain_expression(node):
                continue
            try:
                return True, evaluate(namespace, node)
            except Exception:  # noqa: BLE001 -- a name local to the calling function
                continue
        return False, None

    def bias_name(name):
        lowered = name.lower()
        return "bias" in lowered or lowered[:1] == "b"

    def from_network(namespace, found, missing, parameter):
        """(True, array) of the network's arrays for `parameter`: by its name as the holder
        names it, else by position when the notebook passes all six arrays: weights and
        biases told apart by name when three of each, else layer by layer (w1, b1, w2, ...)."""
        if found is None:
            return False, None
        every = paths(found)
        for path in every:
            if step_text(path[-1]).lower() == parameter.name.lower():
                return True, get(namespace, path)
        if len(missing) != 6:
            return False, None
        biases = [p for p in missing if bias_name(p.name)]
        if len(biases) == 3:
            weights = [p for p in missing if p not in biases]
            group = biases if parameter in biases else weights
            offset = 3 if parameter in biases else 0
            return True, get(namespace, every[offset + group.index(parameter)])
        interleaved = [every[i // 2 + 3 * (i % 2)] for i in range(6)]
        return True, get(namespace, interleaved[missing.index(parameter)])

    def absorb(namespace, found, result):
        """A network the function returned instead of updating it: stored in the holder."""
        if found is None or result is None or isinstance(result, int | float | str):
            return
        scratch = {"returned": result}
        returned = chain(scratch, candidates(scratch))
        if returned is None or returned["orientation"] != found["orientation"]:
            return
        for source, target in zip(paths(returned), paths(found), strict=True):
            value = get(scratch, source)
            if value is not get(namespace, target):
                put(namespace, target, value)

    def bound(namespace, name, found):
        """The student's `name`, called with the grader's leading arguments (and rate) as the
        notebook calls it: parameters the template lacks are bound by name to the notebook's
        globals, else as the notebook's own calls pass them, else to the network's arrays; a
        network it returns is stored where the notebook keeps its own."""
        function = namespace[name]
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError):
            return function
        parameters = list(signature.parameters.values())
        names = [p.name for p in parameters]
        calls = []

        def call(*args, **kwargs):
            if "learning_rate" in kwargs and "learning_rate" not in names:
                other = next((n for n in names if n.lower() in rate_names), None)
                if other is not None:
                    kwargs[other] = kwargs.pop("learning_rate")
            try:
                bound_arguments = signature.bind_partial(*args, **kwargs)
            except TypeError:
                return function(*args, **kwargs)  # the student's function says why
            arguments = bound_arguments.arguments
            missing = [
                p
                for p in parameters
                if p.name not in arguments and p.default is p.empty and p.kind in filled
            ]
            if missing and not calls:
                calls.extend(call for _, call in notebook_calls(namespace, name))
            for parameter in missing:
                value = namespace.get(parameter.name)
                ok = parameter.name in namespace and not callable(value)
                if not ok:
                    index = names.index(parameter.name)
                    ok, value = from_calls(namespace, calls, parameter, index)
                if not ok:
                    ok, value = from_network(namespace, found, missing, parameter)
                if ok:
                    arguments[parameter.name] = value
            result = function(*bound_arguments.args, **bound_arguments.kwargs)
            absorb(namespace, found, result)
            return result

        return call

    # --- One of the notebook's calls, made again whole (Q4's re-training) ---------------

    def call_arguments(namespace, call):
        """(args, kwargs) of the notebook's `call` evaluated now, or None when it cannot be made
        here (a starred argument, or one naming a local variable of the function it was in)."""
        if any(isinstance(a, ast.Starred) for a in call.args):
            return None
        if any(k.arg is None for k in call.keywords):
            return None
        try:
            args = [evaluate(namespace, a) for a in call.args]
            kwargs = {k.arg: evaluate(namespace, k.value) for k in call.keywords}
        except Exception:  # noqa: BLE001 -- not reproducible outside its context
            return None
        return args, kwargs

    def assign(namespace, target, value):
        if isinstance(target, ast.Name):
            namespace[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            values = list(value)
            if len(values) == len(target.elts):
                for part, item in zip(target.elts, values, strict=True):
                    assign(namespace, part, item)

    def assigned_names(targets):
        found = []
        for target in targets:
            parts = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
            found += [p.id for p in parts if isinstance(p, ast.Name)]
        return found

    def as_called(namespace, name, found):
        """(call, names): call() makes the first of the notebook's calls of `name` that can be
        made here again, through `bound`: its arguments evaluated in the globals each time, its
        result assigned to the names the notebook assigned it to (`names`, to put back with
        `keeping`); a plain call when none can be made here."""
        targets, made = [], None
        for call_targets, node in notebook_calls(namespace, name):
            if call_arguments(namespace, node) is not None:
                targets, made = call_targets, node
                break
        function = bound(namespace, name, found)

        def call():
            arguments = call_arguments(namespace, made) if made is not None else None
            args, kwargs = arguments if arguments is not None else ([], {})
            result = function(*args, **kwargs)
            for target in targets:
                assign(namespace, target, result)
            return result

        return call, assigned_names(targets)

    @contextlib.contextmanager
    def keeping(namespace, names):
        """Puts the global `names` back as the notebook had them."""
        missing = object()
        saved = {name: namespace.get(name, missing) for name in names}
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is missing:
                    namespace.pop(name, None)
                else:
                    namespace[name] = value

    return types.SimpleNamespace(bound=bound, absorb=absorb, as_called=as_called, keeping=keeping)
