"""Which loaders the notebook's own code called, and the array shapes they returned.

Weights read from a file (`np.load`, `pickle`, `torch.load`,
`load_state_dict`) look trained to a check that measures only accuracy.
Each loader is wrapped once (pickle at start-up, numpy and torch when they are
imported); a call made directly from a notebook cell, or from a function a
cell defined, adds one short entry (loader, file name, shapes). Saves
(`np.save`, `np.savez`, `torch.save`, `pickle.dump`) are recorded by file name
too: a file the notebook wrote and reads back is its own training. The `loads`
watch moves the entries into the value history after each cell, which
attributes them to that cell; calls made while a grader probe runs are kept
apart, for a probe that runs the student's training to report itself.
Recording never changes what a loader returns, and a failure while recording
is swallowed: it must never break the student's code.
"""

import functools
import os
import pickle
import sys

_MAX_ENTRIES = 200  # a notebook loading in a loop is named by its first loads
_MAX_SHAPES = 24  # arrays described per call
_MAX_DEPTH = 4  # how deep into lists and dicts a loaded object is searched
# One kernel process, one record: the notebook's own calls (drained by the watch
# after each cell) and those made while a grader probe ran (drained by that probe).
_ENTRIES = {False: [], True: []}


def drain(probed=False):
    """The entries recorded since the last call, by the notebook or (`probed`) during probes."""
    entries = _ENTRIES[bool(probed)]
    taken = list(entries)
    del entries[: len(taken)]
    return taken


def install():
    """Wrap pickle now, and numpy or torch if something imported them already."""
    pickle.load = _wrapped(pickle.load, "pickle.load")
    pickle.loads = _wrapped(pickle.loads, "pickle.loads")
    pickle.dump = _wrapped(pickle.dump, "pickle.dump", saves=True, file_at=1)
    if "numpy" in sys.modules:
        patch_numpy(sys.modules["numpy"])
    if "torch" in sys.modules:
        patch_torch(sys.modules["torch"])


def patch_numpy(module):
    if getattr(module.load, "_dlgrade_load", False):
        return
    module.load = _wrapped(module.load, "numpy.load")
    for name in ("save", "savez", "savez_compressed"):
        setattr(module, name, _wrapped(getattr(module, name), f"numpy.{name}", saves=True))
    npz = getattr(getattr(module.lib, "npyio", None), "NpzFile", None)
    if npz is not None:  # where numpy keeps it (numpy 1.x and 2.x alike)
        npz.__getitem__ = _wrapped(npz.__getitem__, "numpy.load", member=True)


def patch_torch(module):
    if getattr(module.load, "_dlgrade_load", False):
        return
    module.load = _wrapped(module.load, "torch.load")
    # A file the notebook saved itself and loads back holds its own training.
    module.save = _wrapped(module.save, "torch.save", saves=True, file_at=1)
    nn = module.nn.Module
    nn.load_state_dict = _wrapped(nn.load_state_dict, "load_state_dict", argument=True)


def _wrapped(function, loader, member=False, argument=False, saves=False, file_at=0):
    @functools.wraps(function)
    def load(*args, **kwargs):
        result = function(*args, **kwargs)
        try:
            if _from_notebook(sys._getframe(1)):
                given = args[1] if argument and len(args) > 1 else kwargs.get("state_dict")
                value = None if saves else given if argument else result
                _record(loader, args[file_at:] if not member else args, value, member)
        except Exception:  # noqa: BLE001 -- recording must never break the student's code
            pass
        return result

    load._dlgrade_load = True
    return load


def _from_notebook(frame):
    """Whether the caller is a notebook cell's code (ipykernel names cells' files so)."""
    name = frame.f_code.co_filename
    return os.sep + "ipykernel_" in name or name.startswith("<ipython-input-")


def _record(loader, args, value, member):
    from _dlgrade_shim import history

    entries = _ENTRIES[bool(history.probing_now())]
    if len(entries) >= _MAX_ENTRIES:
        return
    shapes = []
    _shapes(value, shapes, 0)
    entries.append({"loader": loader, "file": _file_name(args, member), "shapes": shapes})


def _file_name(args, member):
    if member:  # NpzFile.__getitem__(self, key): the archive, then the member
        archive = getattr(args[0], "fid", None)
        name = getattr(archive, "name", "") if archive is not None else ""
        return f"{os.path.basename(str(name))}[{args[1]}]"[:200] if len(args) > 1 else ""
    first = args[0] if args else ""
    if isinstance(first, str | bytes | os.PathLike):
        return os.path.basename(os.fsdecode(first))[:200]
    return os.path.basename(str(getattr(first, "name", "")))[:200]


def _shapes(value, found, depth):
    """Shapes of the arrays and tensors in `value` (a module: its parameters)."""
    if len(found) >= _MAX_SHAPES or depth > _MAX_DEPTH:
        return
    shape = getattr(value, "shape", None)
    if getattr(getattr(value, "dtype", None), "kind", "") == "O":
        # np.save of a list or dict of arrays: an object array holding them
        value = value.item() if value.ndim == 0 else list(value.ravel()[:_MAX_SHAPES])
    elif isinstance(shape, tuple) and not isinstance(value, type):
        found.append([int(n) for n in shape])
        return
    state = getattr(value, "state_dict", None)
    if callable(state) and hasattr(value, "parameters"):
        value = state()
    # An NpzFile is not searched: its members are recorded as the notebook reads them.
    if isinstance(value, dict):
        for key in list(value.keys())[:_MAX_SHAPES]:
            _shapes(value[key], found, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value[:_MAX_SHAPES]:
            _shapes(item, found, depth + 1)
