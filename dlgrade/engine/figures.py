"""Parse the figure log the in-kernel recorder writes; its content is untrusted data.

Each line of out/figures.jsonl describes one rendered figure (see
_dlgrade_shim.figures); out/figures/<seq>.png is a small picture of it for
people. Everything is validated: texts and lists are capped, numbers must be
numbers, a PNG must carry the PNG signature, a sane header and fit the cap.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field, replace
from pathlib import Path

from dlgrade.engine.records import FigureRecord

MAX_TEXT = 500
MAX_ITEMS = 20000
MAX_PNG_BYTES = 150_000
MAX_PNG_SIDE = 4000
MAX_PNGS = 24
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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
    pngs: int = 0

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
                entry = _entry(line)
                figure = figure_from(entry, self.count, cell_index)
            except InvalidFigure:
                self.invalid += 1
                continue
            self.count += 1
            if entry.get("png") is True and self.pngs < MAX_PNGS:
                png = read_png(self.path.parent / "figures", entry.get("seq"))
                if png is not None:
                    self.pngs += 1
                    figure = replace(figure, png=png)
            self.figures.append(figure)


def parse_figure(line: bytes, index: int, cell_index: int | None) -> FigureRecord:
    return figure_from(_entry(line), index, cell_index)


def _entry(line: bytes) -> dict:
    try:
        entry = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidFigure(str(err)) from None
    if not isinstance(entry, dict) or not isinstance(entry.get("axes"), list):
        raise InvalidFigure("entry has no axes list")
    return entry


def figure_from(entry: dict, index: int, cell_index: int | None) -> FigureRecord:
    axes = tuple(_axes(ax) for ax in entry["axes"][:100])
    figure_id = entry.get("figure_id")
    return FigureRecord(
        index=index,
        cell_index=cell_index,
        axes=axes,
        suptitle=_text(entry.get("suptitle", "")),
        figure_id=figure_id if _is_int(figure_id) else None,
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_png(folder: Path, seq: object) -> bytes | None:
    """The PNG the recorder saved for figure `seq`, or None unless it is a sane, small PNG."""
    if not _is_int(seq) or not 0 < seq < 10**6:  # type: ignore[operator]
        return None
    path = folder / f"{seq:06d}.png"
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_PNG_BYTES:
        return None
    with path.open("rb") as handle:
        data = handle.read(MAX_PNG_BYTES + 1)
    return data if valid_png(data) else None


def valid_png(data: bytes) -> bool:
    """PNG signature, an IHDR chunk first with a sane size, the IEND chunk last, under the cap."""
    if len(data) > MAX_PNG_BYTES or len(data) < 45 or not data.startswith(PNG_SIGNATURE):
        return False
    length, kind = struct.unpack(">I4s", data[8:16])
    if kind != b"IHDR" or length != 13:
        return False
    width, height = struct.unpack(">II", data[16:24])
    if not (0 < width <= MAX_PNG_SIDE and 0 < height <= MAX_PNG_SIDE):
        return False
    return data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _axes(raw: object) -> dict:
    if not isinstance(raw, dict):
        raise InvalidFigure("axes entry is not an object")
    return {
        "title": _text(raw.get("title", "")),
        "xlabel": _text(raw.get("xlabel", "")),
        "ylabel": _text(raw.get("ylabel", "")),
        "position": _position(raw.get("position")),
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
                "orientation": _choice(bar.get("orientation", "vertical"), _ORIENTATIONS),
                "heights": _numbers(bar.get("heights")),
                "values": _numbers(bar.get("values")),
                "x": _numbers(bar.get("x")),
                "positions": _numbers(bar.get("positions")),
            }
            for bar in _objects(raw.get("bars", []))
        ],
        "points": [
            {
                "label": _text(group.get("label", "")),
                "xy": [_pair(p) for p in _list(group.get("xy", []))],
            }
            for group in _objects(raw.get("points", []))
        ],
        "xticklabels": _texts(raw.get("xticklabels", [])),
        "yticklabels": _texts(raw.get("yticklabels", [])),
        "images": [_image(image) for image in _list(raw.get("images", []))],
        "texts": _texts(raw.get("texts", [])),
    }


_ORIENTATIONS = ("vertical", "horizontal")
MAX_IMAGE_VALUES = 4096


def _choice(value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidFigure(f"expected one of {allowed}, got {value!r}")
    return str(value)


def _position(value: object) -> tuple[float, float, float, float] | None:
    """(x0, y0, width, height) of an axes in figure fractions; None when not recorded."""
    if value is None:
        return None
    numbers = _numbers(value)
    if len(numbers) != 4 or any(v is None for v in numbers):
        raise InvalidFigure("axes position must be 4 numbers")
    return tuple(numbers)  # type: ignore[return-value]


def _pair(value: object) -> tuple[float | None, float | None]:
    numbers = _numbers(value)
    if len(numbers) != 2:
        raise InvalidFigure("a scatter point must be 2 numbers")
    return numbers[0], numbers[1]


def _image(value: object) -> dict:
    """{'shape': (h, w[, c]), 'data': flat pixel values or None}; bare shapes are accepted."""
    if isinstance(value, list):  # the older format: the shape alone
        return {"shape": _shape(value), "data": None}
    if not isinstance(value, dict):
        raise InvalidFigure("image entry is not an object")
    shape = _shape(value.get("shape", []))
    data = value.get("data")
    if data is not None:
        data = _numbers(data)
        size = 1
        for s in shape:
            size *= s
        if len(data) != size or size > MAX_IMAGE_VALUES:
            raise InvalidFigure("image data does not match its shape")
    return {"shape": shape, "data": data}


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
