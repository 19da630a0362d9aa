"""Notes for the grader: one JSON line per event kind, appended to a log in the out dir."""

import json
import os

_STATE = {"path": None, "seen": set()}


def configure(out_dir):
    _STATE["path"] = os.path.join(out_dir, "observations.jsonl")


def note(kind, message):
    """Record `kind` once per process; the grader validates and de-duplicates."""
    if _STATE["path"] is None or kind in _STATE["seen"]:
        return
    _STATE["seen"].add(kind)
    try:
        with open(_STATE["path"], "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"kind": kind, "message": str(message)[:500]}) + "\n")
    except OSError as err:
        import sys

        sys.stderr.write(f"dlgrade: could not record observation {kind}: {err}\n")
