"""The figure recorder on a real sandboxed kernel, and the grader's validation of what it keeps.

The recorder describes what a reader of each figure sees (axes positions, bar
orientation and values, lines, scatter points, image pixels) and keeps a
small PNG of the first figures; the grader accepts a PNG only with the PNG
signature, a sane header, the end chunk and under the size cap.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from notebook_files import write_notebook

from dlgrade.engine import SandboxConfig, run_notebook
from dlgrade.engine.figures import (
    MAX_PNG_BYTES,
    FigureLogReader,
    InvalidFigure,
    parse_figure,
    read_png,
    valid_png,
)
from dlgrade.engine.records import SourceFile

CONFIG = SandboxConfig(cell_timeout_s=120, notebook_timeout_s=300)
PROBS = [0.05, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2]


def png_bytes(width: float = 2, height: float = 1) -> bytes:
    buffer = io.BytesIO()
    Figure(figsize=(width, height)).savefig(buffer, format="png", dpi=40)
    return buffer.getvalue()


def test_valid_png_needs_signature_header_end_and_cap():
    good = png_bytes()
    assert valid_png(good)
    assert not valid_png(b"GIF89a" + good[6:])
    assert not valid_png(good[:-12])  # no IEND chunk
    assert not valid_png(good[:16] + b"\xff\xff\xff\xff" + good[20:])  # absurd width
    assert not valid_png(good + b"\0" * MAX_PNG_BYTES)


def test_read_png_refuses_links_oversize_and_bad_names(tmp_path):
    folder = tmp_path / "figures"
    folder.mkdir()
    (folder / "000001.png").write_bytes(png_bytes())
    (folder / "000002.png").write_bytes(b"\x89PNG not really")
    (folder / "000003.png").symlink_to(folder / "000001.png")
    assert read_png(folder, 1) == png_bytes()
    assert read_png(folder, 2) is None
    assert read_png(folder, 3) is None
    assert read_png(folder, "1") is None and read_png(folder, True) is None


def test_the_reader_attaches_valid_pngs_only(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "000001.png").write_bytes(png_bytes())
    (tmp_path / "figures" / "000002.png").write_bytes(b"not a png")
    lines = [
        {"seq": 1, "figure_id": 5, "axes": [], "png": True},
        {"seq": 2, "figure_id": 6, "axes": [], "png": True},
        {"seq": 3, "axes": [{"lines": "x"}]},  # malformed: dropped and counted
    ]
    log = tmp_path / "figures.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    reader = FigureLogReader(log, 1 << 20)
    reader.read_new(4)
    assert [f.png is not None for f in reader.figures] == [True, False]
    assert reader.figures[0].figure_id == 5 and reader.invalid == 1


@pytest.mark.parametrize(
    "axes",
    [
        {"images": [{"shape": [28, 28], "data": [0.0] * 10}]},  # data does not fit the shape
        {"bars": [{"orientation": "diagonal"}]},
        {"position": [0, 0, 1]},
        {"points": [{"xy": [[1, 2, 3]]}]},
    ],
)
def test_malformed_axes_are_refused(axes):
    with pytest.raises(InvalidFigure):
        parse_figure(json.dumps({"axes": [axes]}).encode(), 0, 0)


def notebook(folder: Path, *cells: str) -> SourceFile:
    return SourceFile(write_notebook(folder / "plots.ipynb", *cells), "ipynb", "ok")


@pytest.mark.slow
def test_recorder_keeps_what_a_reader_sees_and_a_small_png(tmp_path):
    source = notebook(
        tmp_path / "s",
        "import numpy as np, matplotlib.pyplot as plt, seaborn as sns\n"
        "p = np.array([.05, .05, .1, .1, .1, .1, .1, .1, .1, .2])\n"
        "names = [str(k) for k in range(10)]",
        "fig, ax = plt.subplots(1, 2)\n"
        "ax[0].imshow(np.arange(784).reshape(28, 28) / 784)\n"
        "ax[1].barh(names, 100 * p)\n"
        "fig.savefig('probs.png')\n"
        "plt.show()",
        "fig, ax = plt.subplots(1, 3)\n"
        "sns.barplot(x=names, y=p, hue=names, legend=False, ax=ax[0])\n"
        "ax[1].stem(range(10), p)\n"
        "ax[2].scatter(range(10), p)\n"
        "plt.show()",
        "fig, ax = plt.subplots(2, 3)\n"
        "for a in ax.flat:\n"
        "    a.imshow(np.zeros((28, 28)))\n"
        "plt.show()",
    )
    run = run_notebook(source, [], CONFIG)
    assert run.status == "ok", run.cells
    saved, shown, kinds, grid = run.figures
    # savefig and the inline display render one figure twice: same id, same content
    assert saved.figure_id == shown.figure_id and saved.axes == shown.axes
    image_axes, bar_axes = saved.axes
    assert image_axes["images"][0]["shape"] == (28, 28)
    assert image_axes["images"][0]["data"][:2] == pytest.approx([0.0, 1 / 784], rel=1e-5)
    assert image_axes["position"][0] < bar_axes["position"][0]  # left of the bars
    bars = bar_axes["bars"][0]
    assert bars["orientation"] == "horizontal"
    assert bars["values"] == pytest.approx([100 * v for v in PROBS])
    assert bars["positions"] == pytest.approx(list(range(10)))
    seaborn, stem, scatter = kinds.axes
    assert len(seaborn["bars"]) == 10 and all(len(b["values"]) == 1 for b in seaborn["bars"])
    assert stem["lines"][0]["y"] == pytest.approx(PROBS)
    assert [p[1] for p in scatter["points"][0]["xy"]] == pytest.approx(stem["lines"][0]["y"])
    # a grid of many images keeps every shape but the pixels of the first few only
    images = [image for axes in grid.axes for image in axes["images"]]
    assert [image["shape"] for image in images] == [(28, 28)] * 6
    assert [image["data"] is not None for image in images] == [True] * 4 + [False] * 2
    for figure in run.figures:
        assert figure.png is not None and valid_png(figure.png)
        assert len(figure.png) < MAX_PNG_BYTES
