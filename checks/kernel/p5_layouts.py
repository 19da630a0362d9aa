# ruff: noqa: F821 -- runs in the student's kernel (see checks/kernel/__init__.py)
"""Problem 5 prelude, holder search: the layouts of the starter's kind.

Two sequences (the starter's `weights`/`biases` or any other names), one
dict (`W1..W3`, `b1..b3` or any keys), a dict of the two sequences, or a
sequence of (W, b) pairs; weights (n_in, n_out) or (n_out, n_in). A *holder*
is the JSON description of where the six arrays are: one path (global name,
then keys or [kind, key, name] steps) per array, the orientation, and
`where`, the place in words. p5_chain searches further; p5_tools composes.
"""


def _dlgrade_p5_layouts():
    import types

    import numpy as np

    layers = ((784, 32), (32, 32), (32, 10))
    shapes = {
        "in_out": [(n_in, n_out) for n_in, n_out in layers],
        "out_in": [(n_out, n_in) for n_in, n_out in layers],
    }
    bias_sizes = [n_out for _, n_out in layers]

    def orientation_of(arrays):
        found = [getattr(a, "shape", None) for a in arrays]
        for name, wanted in shapes.items():
            if found == wanted:
                return name
        return None

    def is_bias(value, size):
        if isinstance(value, np.ndarray):
            return value.dtype.kind in "biuf" and value.size == size and value.ndim <= 2
        if isinstance(value, list) and len(value) == size:
            return all(isinstance(v, int | float) for v in value)
        return False

    def bias_set(items):
        return len(items) == 3 and all(
            is_bias(b, n) for b, n in zip(items, bias_sizes, strict=True)
        )

    def weight_set(items):
        if len(items) != 3 or not all(
            isinstance(w, np.ndarray) and w.dtype.kind in "biuf" for w in items
        ):
            return None
        return orientation_of(items)

    def sequences(value):
        return isinstance(value, list | tuple)

    def skipped(name):
        # IPython's output history (Out, _oh) holds the same objects under other names.
        return str(name).startswith("_") or name in ("In", "Out")

    def name_score(name, word):
        lowered = str(name).lower()
        score = 2 if word in lowered else 1 if lowered[:1] == word[0] else 0
        return score - 3 * ("grad" in lowered or "delta" in lowered)

    def holder(weights, biases, orientation, where):
        return {
            "weights": [list(p) for p in weights],
            "biases": [list(p) for p in biases],
            "orientation": orientation,
            "where": where,
        }

    def two_sequences(namespace):
        found_w, found_b = [], []
        for name, value in namespace.items():
            if skipped(name) or not sequences(value) or len(value) != 3:
                continue
            orientation = weight_set(list(value))
            if orientation:
                found_w.append((name, orientation))
            elif bias_set(list(value)):
                found_b.append(name)
        if not found_w or not found_b:
            return None
        # The starter's names first, then the most weight- and bias-like names.
        w_name, orientation = max(
            found_w, key=lambda f: (f[0] == "weights", name_score(f[0], "weight"))
        )
        b_name = max(found_b, key=lambda n: (n == "biases", name_score(n, "bias")))
        where = (
            "`weights` and `biases`"
            if (w_name, b_name) == ("weights", "biases")
            else (f"`{w_name}` and `{b_name}` (not the starter's `weights`/`biases`)")
        )
        return holder(
            [(w_name, i) for i in range(3)], [(b_name, i) for i in range(3)], orientation, where
        )

    def layer_keys(keys):
        """Keys in layer order: by the digit in the name when each has one, else as stored."""
        digits = ["".join(c for c in str(k) if c.isdigit()) for k in keys]
        if all(digits) and len(set(digits)) == len(digits):
            return [
                k
                for _, k in sorted(
                    zip([int(d) for d in digits], keys, strict=True), key=lambda p: p[0]
                )
            ]
        return list(keys)

    def one_dict(name, value):
        if len(value) > 200:
            return None
        items = [(k, v) for k, v in value.items() if isinstance(k, str | int)]
        by_shape = {}
        for key, v in items:
            if isinstance(v, np.ndarray) and v.ndim == 2:
                by_shape.setdefault(v.shape, []).append(key)
        matching = [
            (orientation, [by_shape[s][0] for s in wanted])
            for orientation, wanted in shapes.items()
            if all(len(by_shape.get(s, [])) == 1 for s in wanted)
        ]
        if not matching:
            return None
        orientation, w_keys = matching[0]
        rest = [(k, v) for k, v in items if k not in w_keys]
        big = layer_keys([k for k, v in rest if is_bias(v, 32)])
        small = [k for k, v in rest if is_bias(v, 10)]
        if len(big) != 2 or len(small) != 1:
            return None
        b_keys = [big[0], big[1], small[0]]
        where = f"the dict `{name}` (" + ", ".join(str(k) for k in w_keys + b_keys) + ")"
        return holder([(name, k) for k in w_keys], [(name, k) for k in b_keys], orientation, where)

    def dict_of_sequences(name, value):
        if len(value) > 200:
            return None
        inner = {k: v for k, v in value.items() if isinstance(k, str | int) and sequences(v)}
        found = two_sequences({str(k): v for k, v in inner.items()})
        if found is None:
            return None
        keys = {str(k): k for k in inner}
        w_key, b_key = keys[found["weights"][0][0]], keys[found["biases"][0][0]]
        where = f"the dict `{name}` ({w_key!r}, {b_key!r})"
        return holder(
            [(name, w_key, i) for i in range(3)],
            [(name, b_key, i) for i in range(3)],
            found["orientation"],
            where,
        )

    def pairs(name, value):
        if len(value) != 3 or not all(sequences(p) and len(p) == 2 for p in value):
            return None
        orientation = weight_set([p[0] for p in value])
        if orientation is None or not bias_set([p[1] for p in value]):
            return None
        where = f"`{name}`, a sequence of (weights, bias) pairs"
        return holder(
            [(name, i, 0) for i in range(3)], [(name, i, 1) for i in range(3)], orientation, where
        )

    return types.SimpleNamespace(
        shapes=shapes,
        is_bias=is_bias,
        sequences=sequences,
        skipped=skipped,
        holder=holder,
        two_sequences=two_sequences,
        one_dict=one_dict,
        dict_of_sequences=dict_of_sequences,
        pairs=pairs,
    )
