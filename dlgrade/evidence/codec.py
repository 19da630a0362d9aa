"""A `NotebookRun` as files, and back: what the checks judge, without the kernel.

A run becomes a JSON document (cells, probe results, observations, figures,
the value history), one `.npz` of its numeric arrays and the figures' PNGs.
Every value in it came from the student's kernel, so reading it back is
validated as strictly as the engine validates a probe value: arrays through
`load_arrays` (no pickles, numeric dtypes, a size cap), JSON with its depth
guarded, every field checked for its type, figures through the engine's own
figure validation, PNGs through its PNG check. Anything else is refused
(`RefusedEvidence`), never trusted.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import numpy as np

from dlgrade import deep_json
from dlgrade.engine.figures import InvalidFigure, figure_from, valid_png
from dlgrade.engine.records import (
    CellResult,
    CellStatus,
    FigureRecord,
    Kept,
    NotebookRun,
    ProbeResult,
    RunStatus,
    SourceFile,
)
from dlgrade.engine.values import RefusedValue, load_arrays
from dlgrade.records import Observation, ObservationKind

FORMAT = 1
RUN_FILE = "run.json"
ARRAYS_FILE = "arrays.npz"
MAX_RUN_JSON_BYTES = 64 << 20
MAX_ARRAY_BYTES = 256 << 20


class RefusedEvidence(ValueError):
    """Stored evidence the grader will not judge from (malformed, oversize, changed)."""


@dataclass(frozen=True)
class Encoded:
    """A run as files: the document, its arrays (by name) and PNGs (by file name)."""

    document: dict
    arrays: dict[str, np.ndarray]
    pngs: dict[str, bytes]

    def files(self) -> dict[str, bytes]:
        """{file name: bytes}, ready to write (deterministic for the same run)."""
        import io

        # Key order kept as the kernel gave it: judging may iterate over a value.
        files = {RUN_FILE: json.dumps(self.document).encode("utf-8")}
        if self.arrays:
            buffer = io.BytesIO()
            np.savez(buffer, **self.arrays)
            files[ARRAYS_FILE] = buffer.getvalue()
        return {**files, **self.pngs}


def encode_run(run: NotebookRun) -> Encoded:
    arrays: dict[str, np.ndarray] = {}
    pngs: dict[str, bytes] = {}

    def value(item: Any) -> dict:
        if isinstance(item, np.ndarray):
            name = f"a{len(arrays)}"
            arrays[name] = item
            return {"array": name}
        return {"json": item}

    figures = []
    for figure in run.figures:
        png = None
        if figure.png is not None:
            png = f"figure-{figure.index:06d}.png"
            pngs[png] = figure.png
        figures.append(
            {
                "index": figure.index,
                "cell_index": figure.cell_index,
                "axes": list(figure.axes),
                "suptitle": figure.suptitle,
                "figure_id": figure.figure_id,
                "png": png,
            }
        )
    document = {
        "format": FORMAT,
        "source": {"status": run.source.status, "error": run.source.error},
        "status": run.status,
        "cells": [dataclasses.asdict(cell) for cell in run.cells],
        "probes": [
            {
                "name": result.name,
                "values": {key: value(v) for key, v in result.values.items()},
                "error": result.error,
                "stopped_by": result.stopped_by.value if result.stopped_by else None,
            }
            for result in run.probes.values()
        ],
        "observations": [[o.source, o.kind.value, o.message] for o in run.observations],
        "figures": figures,
        "isolation": run.isolation,
        "duration_s": run.duration_s,
        "history": {
            watch: [
                {"cell_index": k.cell_index, "key": k.key, "seq": k.seq, "value": value(k.value)}
                for k in kept
            ]
            for watch, kept in run.history.items()
        },
    }
    return Encoded(document, arrays, pngs)


def decode_run(folder: Path, source: SourceFile) -> NotebookRun:
    """The run stored in `folder` for `source` (the current discovery of the same file)."""
    document = _document(folder / RUN_FILE)
    try:
        arrays = load_arrays(folder / ARRAYS_FILE, MAX_ARRAY_BYTES)
    except RefusedValue as err:
        raise RefusedEvidence(str(err)) from None
    reader = _Reader(arrays, folder)
    if document.get("format") != FORMAT:
        raise RefusedEvidence(f"unknown evidence format {document.get('format')!r}")
    stored = _dict(document.get("source"), "source")
    if stored.get("status") not in ("ok", "malformed"):
        raise RefusedEvidence("source status is not ok/malformed")
    source = dataclasses.replace(
        source, status=stored["status"], error=_optional_text(stored.get("error"), "error")
    )
    probes = [reader.probe(p) for p in _list(document.get("probes"), "probes")]
    return NotebookRun(
        source=source,
        status=_choice(document.get("status"), get_args(RunStatus), "status"),
        cells=tuple(_cell(c) for c in _list(document.get("cells"), "cells")),
        probes={p.name: p for p in probes},
        observations=tuple(_observation(o) for o in _list(document.get("observations"), "obs")),
        figures=tuple(reader.figure(f) for f in _list(document.get("figures"), "figures")),
        isolation=_text(document.get("isolation"), "isolation"),
        duration_s=_number(document.get("duration_s"), "duration_s"),
        history=reader.history(_dict(document.get("history"), "history")),
    )


def _document(path: Path) -> dict:
    if path.is_symlink() or not path.is_file():
        raise RefusedEvidence(f"{path.name} is missing or not a regular file")
    if path.stat().st_size > MAX_RUN_JSON_BYTES:
        raise RefusedEvidence(f"{path.name} is over the {MAX_RUN_JSON_BYTES}-byte cap")
    try:
        data = deep_json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise RefusedEvidence(f"{path.name} is not JSON ({type(err).__name__})") from None
    return _dict(data, path.name)


@dataclass(frozen=True)
class _Reader:
    """Values that may be arrays (looked up in the run's .npz) and figures' PNGs."""

    arrays: dict[str, np.ndarray]
    folder: Path

    def value(self, raw: object, what: str) -> Any:
        tagged = _dict(raw, what)
        if set(tagged) == {"array"} and isinstance(tagged["array"], str):
            if tagged["array"] not in self.arrays:
                raise RefusedEvidence(f"{what} names an array that is not stored")
            return self.arrays[tagged["array"]]
        if set(tagged) == {"json"}:
            return tagged["json"]
        raise RefusedEvidence(f"{what} is neither an array nor a JSON value")

    def probe(self, raw: object) -> ProbeResult:
        probe = _dict(raw, "probe")
        name = _text(probe.get("name"), "probe name")
        values = _dict(probe.get("values"), "probe values")
        stopped = probe.get("stopped_by")
        return ProbeResult(
            name=name,
            values={_text(k, "key"): self.value(v, f"probe {name}") for k, v in values.items()},
            error=_optional_text(probe.get("error"), "probe error"),
            stopped_by=None if stopped is None else _kind(stopped),
        )

    def figure(self, raw: object) -> FigureRecord:
        entry = _dict(raw, "figure")
        index = _integer(entry.get("index"), "figure index")
        cell = entry.get("cell_index")
        cell = None if cell is None else _integer(cell, "figure cell")
        try:
            figure = figure_from(entry, index, cell)  # the engine's own validation
        except (InvalidFigure, KeyError, TypeError, AttributeError) as err:
            raise RefusedEvidence(f"figure {index} is invalid ({err})") from None
        png = entry.get("png")
        if png is None:
            return figure
        return dataclasses.replace(figure, png=self.png(_text(png, "png name")))

    def png(self, name: str) -> bytes:
        path = self.folder / name
        if "/" in name or not name.endswith(".png") or path.is_symlink() or not path.is_file():
            raise RefusedEvidence(f"figure picture {name!r} is missing or not a regular file")
        data = path.read_bytes()
        if not valid_png(data):
            raise RefusedEvidence(f"figure picture {name!r} is not a valid small PNG")
        return data

    def history(self, raw: dict) -> dict[str, tuple[Kept, ...]]:
        return {
            _text(watch, "watch"): tuple(self.kept(k) for k in _list(items, "history"))
            for watch, items in raw.items()
        }

    def kept(self, raw: object) -> Kept:
        entry = _dict(raw, "kept value")
        return Kept(
            cell_index=_integer(entry.get("cell_index"), "kept cell"),
            key=_text(entry.get("key"), "kept key"),
            value=self.value(entry.get("value"), "kept value"),
            seq=_integer(entry.get("seq"), "kept seq"),
        )


def _cell(raw: object) -> CellResult:
    cell = _dict(raw, "cell")
    return CellResult(
        index=_integer(cell.get("index"), "cell index"),
        status=_choice(cell.get("status"), get_args(CellStatus), "cell status"),
        error_name=_optional_text(cell.get("error_name"), "cell error"),
        error_value=_optional_text(cell.get("error_value"), "cell error"),
        output_bytes=_integer(cell.get("output_bytes"), "cell output"),
        text=_text(cell.get("text"), "cell text"),
        first_line=_text(cell.get("first_line"), "cell line"),
        duration_s=_number(cell.get("duration_s"), "cell duration"),
    )


def _observation(raw: object) -> Observation:
    items = _list(raw, "observation")
    if len(items) != 3:
        raise RefusedEvidence("an observation is not [source, kind, message]")
    return Observation(_text(items[0], "source"), _kind(items[1]), _text(items[2], "message"))


def _kind(raw: object) -> ObservationKind:
    try:
        return ObservationKind(_text(raw, "kind"))
    except ValueError:
        raise RefusedEvidence(f"unknown observation kind {raw!r}") from None


def _dict(raw: object, what: str) -> dict:
    if not isinstance(raw, dict):
        raise RefusedEvidence(f"{what} is not an object")
    return raw


def _list(raw: object, what: str) -> list:
    if not isinstance(raw, list):
        raise RefusedEvidence(f"{what} is not a list")
    return raw


def _text(raw: object, what: str) -> str:
    if not isinstance(raw, str):
        raise RefusedEvidence(f"{what} is not text")
    return raw


def _optional_text(raw: object, what: str) -> str | None:
    return None if raw is None else _text(raw, what)


def _integer(raw: object, what: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise RefusedEvidence(f"{what} is not an integer")
    return raw


def _number(raw: object, what: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise RefusedEvidence(f"{what} is not a number")
    return float(raw)


def _choice(raw: object, allowed: tuple[str, ...], what: str) -> Any:
    if raw not in allowed:
        raise RefusedEvidence(f"{what} {raw!r} is not one of {allowed}")
    return raw
