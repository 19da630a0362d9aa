"""`load_data` as Keras does it, reading ~/.keras/datasets/<path> (provisioned by the grader)."""

import os


def load_data(path="mnist.npz"):
    import numpy as np

    try:
        from _dlgrade_shim import observe

        observe.note(
            "tensorflow-standin", "tf.keras.datasets.mnist.load_data served by the stand-in"
        )
    except ImportError:
        pass  # outside the sandbox there is no grader to tell
    full = os.path.join(os.path.expanduser("~"), ".keras", "datasets", path)
    if not os.path.exists(full):
        raise FileNotFoundError(f"{full} is not provisioned in the grading sandbox (no network)")
    with np.load(full, allow_pickle=False) as data:
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


__dlgrade_standin__ = True


def __getattr__(name):
    from _dlgrade_shim.standins import missing_attribute

    return missing_attribute("tensorflow.keras.datasets.mnist", name)
