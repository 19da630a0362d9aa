"""What may cross back to the grader: numeric arrays and plain JSON data.

Shared by probes (`_dlgrade_emit`) and watches (`_dlgrade_keep`); the grader
re-validates everything, since this process is untrusted.
"""

import json
import os

_JSON_TYPES = (str, int, float, bool, type(None), list, dict)


def storable(key, value):
    """('array', ndarray) or ('json', value) for `value`, or TypeError/ValueError."""
    import numpy as np

    if not isinstance(key, str) or not key.isidentifier():
        raise ValueError(f"key must be an identifier string, got {key!r}")
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray | np.generic):
        array = np.array(value, copy=True)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{key!r}: dtype {array.dtype} is not numeric")
        return "array", array
    if isinstance(value, _JSON_TYPES):
        json.dumps(value)  # fails early on values JSON cannot carry
        return "json", value
    raise TypeError(f"{key!r}: {type(value).__name__} is neither a numpy array nor JSON data")


def size_of(kind, value):
    return int(value.nbytes) if kind == "array" else len(json.dumps(value))


def write(result_dir, stem, arrays, plain):
    """`stem`.npz (arrays, never pickled) and `stem`.json beside it."""
    import numpy as np

    os.makedirs(result_dir, exist_ok=True)
    if arrays:
        np.savez(os.path.join(result_dir, stem + ".npz"), **arrays)
    if plain:
        with open(os.path.join(result_dir, stem + ".json"), "w", encoding="utf-8") as handle:
            json.dump(plain, handle)


def exec_in(namespace, code, filename, injected):
    """Run `code` in `namespace` with `injected` names; remove every new name after.

    Returns the error text, or None. KeyboardInterrupt is caught too: it is how
    the grader stops grader code that ran out of time.
    """
    import traceback

    before = set(namespace)
    namespace.update(injected)
    try:
        exec(compile(code, filename, "exec"), namespace)
    except BaseException as err:
        return "".join(traceback.format_exception_only(type(err), err)).strip()
    finally:
        for key in set(namespace) - before:
            del namespace[key]
    return None
