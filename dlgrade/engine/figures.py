"""Parse the figure log the in-kernel recorder writes; its content is untrusted data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dlgrade.engine.records import FigureRecord

MAX_TEXT = 500
MAX_ITEMS = 20000


class InvalidFigure(ValueError):
    """A figure log entry that is not in the recorder's format."""


@dataclass
class FigureLogReader:
    """Reads new complete lines of figures.jsonl between cells, under a byte cap."""

    path: Path
    max_bytes: int
    offset: int = 0
    count: int = 0
    invalid: int = 0
    capped: bool = False
    figures: list[FigureRecord] = field(default_factory=list)

    def read_new(self, cell_index: int | None) -> None:
        if not self.path.is_file() or self.capped:
            return
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            budget = self.max_bytes - self.offset
            chunk = handle.read(budget + 1)
        if len(chunk) > budget:
            self.capped = True
            chunk = chunk[:budget]
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.splitlines():
            try:
                self.figures.append(parse_figure(line, self.count, cell_index))
                self.count += 1
            except InvalidFigure:
                self.invalid += 1


def parse_figure(line: bytes, index: int, cell_index: int | None) -> FigureRecord:
    try:
        entry = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidFigure(str(err)) from None
    if not isinstance(entry, dict) or not isinstance(entry.get("axes"), list):
        raise InvalidFigure("entry has no axes list")
    axes = tuple(_axes(ax) for ax in entry["axes"][:100])
    return FigureRecord(
        index=index, cell_index=cell_index, axes=axes, suptitle=_text(entry.get("suptitle", ""))
    )


def _axes(raw: object) -> dict:
    if not isinstance(raw, dict):
        raise InvalidFigure("axes entry is not an object")
    return {
        "title": _text(raw.get("title", "")),
        "xlabel": _text(raw.get("xlabel", "")),
        "ylabel": _text(raw.get("ylabel", "")),
        "legend": _texts(raw.get("legend", [])),
        "lines": [
            {
                "label": _text(line.get("label", "")),
                "x": _numbers(line.get("x")),
                "y": _numbers(line.get("y")),
            }
            for line in _objects(raw.get("lines", []))
        ],
        "bars": [
            {
                "label": _text(bar.get("label", "")),
                "heights": _numbers(bar.get("heights")),
                "values": _numbers(bar.get("values")),
                "x": _numbers(bar.get("x")),
            }
            for bar in _objects(raw.get("bars", []))
        ],
        "xticklabels": _texts(raw.get("xticklabels", [])),
        "images": [_shape(shape) for shape in _list(raw.get("images", []))],
        "texts": _texts(raw.get("texts", [])),
    }


def _list(value: object) -> list:
    if not isinstance(value, list):
        raise InvalidFigure(f"expected a list, got {type(value).__name__}")
    return value[:MAX_ITEMS]


def _objects(value: object) -> list[dict]:
    items = _list(value)
    if not all(isinstance(item, dict) for item in items):
        raise InvalidFigure("expected a list of objects")
    return items


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidFigure(f"expected text, got {type(value).__name__}")
    return value[:MAX_TEXT]


def _texts(value: object) -> list[str]:
    return [_text(v) for v in _list(value)]


def _numbers(value: object) -> list[float | None]:
    items = _list(value if value is not None else [])
    if not all(
        v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in items
    ):
        raise InvalidFigure("expected a list of numbers")
    return [None if v is None else float(v) for v in items]


def _shape(value: object) -> tuple[int, ...]:
    items = _list(value)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in items):
        raise InvalidFigure("image shape must be non-negative integers")
    return tuple(items)
