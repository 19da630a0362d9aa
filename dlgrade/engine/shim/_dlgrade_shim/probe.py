"""Run a grader's probe in the student's namespace and write what it emits.

Arrays go to values.npz (numeric only), everything else to values.json; the
grader re-validates both, since this process is untrusted.
"""

import os

from _dlgrade_shim import history, values


def run(namespace, name, code, inputs_path, result_dir):
    import numpy as np

    arrays, plain = {}, {}

    def emit(key, value):
        kind, stored = values.storable(key, value)
        (arrays if kind == "array" else plain)[key] = stored

    inputs = dict(np.load(inputs_path, allow_pickle=False)) if inputs_path else {}
    with history.probing():
        error = values.exec_in(
            namespace,
            code,
            f"<probe {name}>",
            {"_dlgrade_inputs": inputs, "_dlgrade_emit": emit},
        )
    values.write(result_dir, "values", arrays, plain)
    os.makedirs(result_dir, exist_ok=True)
    if error:
        with open(os.path.join(result_dir, "error.txt"), "w", encoding="utf-8") as handle:
            handle.write(error[:4000])
