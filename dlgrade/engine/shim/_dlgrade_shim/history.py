"""The value history: watches run after every cell; what they keep is flushed per cell.

The engine registers the watches once, then after each code cell calls
`after_cell`, which runs every watch in the student's namespace and writes
everything kept since the previous cell to `history/<cell>.npz|.json` in the
out dir. Keeps made while a grader probe runs are ignored (`probing`), so a
hook a watch placed on a student function records the student's own calls only.
"""

import contextlib
import os

from _dlgrade_shim import values


class _Watch:
    def __init__(self, name, code, budget):
        self.name = name
        self.code = code
        self.budget = budget
        self.used = 0
        self.capped = False
        self.memory = {}
        self.error = None


class _History:
    """This kernel's watches and what they kept since the last flush."""

    def __init__(self):
        self.watches = []
        self.pending = []
        self.seq = 0
        self.probing = False

    def keeper(self, watch):
        def keep(key, value):
            if self.probing or watch.capped:
                return
            kind, stored = values.storable(key, value)
            size = values.size_of(kind, stored)
            if watch.used + size > watch.budget:
                watch.capped = True
                return
            watch.used += size
            self.pending.append((watch.name, key, kind, stored, self.seq))
            self.seq += 1

        return keep

    def flush(self, out_dir, cell_index):
        entries, arrays = [], {}
        for watch_name, key, kind, stored, seq in self.pending:
            entry = {"watch": watch_name, "key": key, "seq": seq}
            if kind == "array":
                slot = f"a{len(arrays)}"
                arrays[slot] = stored
                entry["array"] = slot
            else:
                entry["value"] = stored
            entries.append(entry)
        self.pending = []
        errors = {w.name: w.error for w in self.watches if w.error}
        capped = [w.name for w in self.watches if w.capped]
        if entries or errors or capped:
            record = {"cell": cell_index, "entries": entries, "errors": errors, "capped": capped}
            values.write(os.path.join(out_dir, "history"), f"{cell_index:06d}", arrays, record)


_HISTORY = _History()  # one kernel process, one history


def register(name, code, budget):
    _HISTORY.watches.append(_Watch(name, code, budget))


def after_cell(namespace, cell_index, out_dir):
    """Run every watch on the state the cell left, then flush what was kept."""
    for watch in _HISTORY.watches:
        injected = {"_dlgrade_keep": _HISTORY.keeper(watch), "_dlgrade_memory": watch.memory}
        error = values.exec_in(namespace, watch.code, f"<watch {watch.name}>", injected)
        if error and watch.error is None:
            watch.error = error[:2000]  # the first failure explains the rest
    _HISTORY.flush(out_dir, cell_index)


def probing_now():
    """Whether a grader probe is running (what the student's code does then is not theirs)."""
    return _HISTORY.probing


@contextlib.contextmanager
def probing():
    previous, _HISTORY.probing = _HISTORY.probing, True
    try:
        yield
    finally:
        _HISTORY.probing = previous
