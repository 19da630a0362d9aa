"""Grader-side values that depend only on the data, the code and a few settings, cached on disk.

Some reference values cost seconds to compute (e.g. training the reference
problem-5 network for its accuracy curve) and are the same for every student
of a run, and of every later run on the same data. `cached_value` keeps them
as JSON under `<data dir>/derived/`, keyed by everything they depend on: the
named datasets' cache files (size, modification time, inode), the source
text of the named modules, and the keyword parameters. Change any of these
and the value is computed afresh. A cache directory that cannot be written is
no error: the value is then computed every time.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from dlgrade.data.atomic import write_bytes_atomic
from dlgrade.data.store import cache_path, data_dir

FOLDER = "derived"


def cached_value(
    name: str,
    compute: Callable[[], Any],
    *,
    datasets: tuple[str, ...] = (),
    code: tuple[ModuleType, ...] = (),
    cache_dir: Path | None = None,
    **params: Any,
) -> Any:
    """`compute()` (a JSON value), or its stored result for the same dependencies."""
    root = data_dir(cache_dir)
    key = dependency_key(name, datasets, code, root, params)
    path = root / FOLDER / f"{name}-{key[:20]}.json"
    try:
        return json.loads(path.read_text("utf-8"))["value"]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent or unreadable: compute it
    value = compute()
    payload = {"name": name, "params": params, "value": value}
    with contextlib.suppress(OSError):  # a read-only cache: the value is right, only not kept
        write_bytes_atomic(path, json.dumps(payload).encode("utf-8"), fsync=False)
    return value


def dependency_key(
    name: str,
    datasets: tuple[str, ...],
    code: tuple[ModuleType, ...],
    root: Path,
    params: dict[str, Any],
) -> str:
    """A hash of everything the value depends on."""
    parts: dict[str, Any] = {"name": name, "params": params}
    for dataset in datasets:
        stat = cache_path(dataset, root).stat()  # type: ignore[arg-type]
        parts[f"data:{dataset}"] = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
    for module in code:
        source = inspect.getsource(module).encode("utf-8")
        parts[f"code:{module.__name__}"] = hashlib.sha256(source).hexdigest()
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
