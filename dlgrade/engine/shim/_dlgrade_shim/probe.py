"""Run a grader's probe in the student's namespace and write what it emits.

Arrays go to values.npz (numeric only), everything else to values.json; the
grader re-validates both, since this process is untrusted.
"""

import json
import os
import traceback

_JSON_TYPES = (str, int, float, bool, type(None), list, dict)


def run(namespace, name, code, inputs_path, result_dir):
    import numpy as np

    os.makedirs(result_dir, exist_ok=True)
    arrays, plain = {}, {}

    def emit(key, value):
        if not isinstance(key, str) or not key.isidentifier():
            raise ValueError(f"emit key must be an identifier string, got {key!r}")
        if hasattr(value, "detach") and hasattr(value, "cpu"):
            value = value.detach().cpu().numpy()
        if isinstance(value, np.ndarray | np.generic):
            array = np.array(value, copy=True)
            if array.dtype.kind not in "biuf":
                raise TypeError(f"emit({key!r}): dtype {array.dtype} is not numeric")
            arrays[key] = array
        elif isinstance(value, _JSON_TYPES):
            json.dumps(value)  # fails early on values JSON cannot carry
            plain[key] = value
        else:
            raise TypeError(
                f"emit({key!r}): {type(value).__name__} is neither a numpy array nor JSON data"
            )

    before = set(namespace)
    namespace["_dlgrade_inputs"] = (
        dict(np.load(inputs_path, allow_pickle=False)) if inputs_path else {}
    )
    namespace["_dlgrade_emit"] = emit
    error = None
    try:
        exec(compile(code, f"<probe {name}>", "exec"), namespace)
    except BaseException as err:  # KeyboardInterrupt included: the probe ran out of time
        error = "".join(traceback.format_exception_only(type(err), err)).strip()
    finally:
        for key in set(namespace) - before:
            del namespace[key]
    if arrays:
        np.savez(os.path.join(result_dir, "values.npz"), **arrays)
    if plain:
        with open(os.path.join(result_dir, "values.json"), "w", encoding="utf-8") as handle:
            json.dump(plain, handle)
    if error:
        with open(os.path.join(result_dir, "error.txt"), "w", encoding="utf-8") as handle:
            handle.write(error[:4000])
