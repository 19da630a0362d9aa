"""Hand-ins the grader recognises but cannot run, handed to a TA with what the student saved.

A problem-4 network written in TensorFlow/Keras or JAX is problem 4 all the
same, but the checks judge torch models and the sandbox has neither
framework. Such a file is named for what it is, and every part of its
problem becomes `manual`: the TA grades it from the notebook's saved figures,
printed outputs and last comment, which the part's details carry into the
report. It is never "no notebook for problem 4", never a plain failure.

A problem-4 notebook that reads its data from a file the grader cannot supply
(Kaggle's /kaggle/input/.../fashion-mnist_train.csv) runs, but nothing that
needs the data can: `missing_data` names the file, and the parts that need
the data go to a TA the same way, while the network is still judged.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from checks.scoring import ForReview
from dlgrade import deep_json
from dlgrade.engine import NotebookRun, SourceFile
from dlgrade.engine.notebooks import MalformedSource, load_notebook, read_text

MAX_FIGURES = 6
MAX_FIGURE_BYTES = 400_000  # all PNGs of one part together: the grade record stays small
MAX_PRINTED_CHARS = 6000
MAX_COMMENT_CHARS = 5000
PNG_PREFIX = "data:image/png;base64,"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# A framework the checks cannot judge: its name, how its code imports it, how it builds a net.
FRAMEWORKS = (
    (
        "TensorFlow/Keras",
        re.compile(r"^\s*(import|from)\s+(tensorflow|keras|tf_keras)\b", re.MULTILINE),
        re.compile(r"\b(Sequential|Dense|Flatten)\s*\(|\.fit\s*\(|\bkeras\.Model\b"),
    ),
    (
        "JAX",
        re.compile(r"^\s*(import|from)\s+(jax|flax|optax|haiku|equinox)\b", re.MULTILINE),
        re.compile(r"\b(nn\.Dense|hk\.Linear|eqx\.nn\.Linear|value_and_grad|jax\.grad)\b"),
    ),
)
# What makes a file the problem: problem 4 is the FashionMNIST network.
PROBLEM_CUES = {"p4": re.compile(r"fashion[\s_-]*mnist", re.IGNORECASE)}
# How a read that found no file fails: open, np.load, pandas' read_csv...
MISSING_FILE_ERRORS = frozenset({"FileNotFoundError", "OSError", "IOError"})
# A Fashion-MNIST file named in the error, quoted: Kaggle's CSVs, an .npz, the IDX files.
DATA_FILE = re.compile(
    r"""['"]([^'"]*(?:fashion[\s_-]*mnist|(?:train|t10k)-(?:images|labels)-idx\d-ubyte)[^'"]*)['"]""",
    re.IGNORECASE,
)
# A saved network is no data set: a missing weights file stays the student's to hand in.
WEIGHTS_FILE = re.compile(
    r"(model|weights|checkpoint)[^/\\]*$|\.(pt|pth|ckpt|h5|keras|safetensors|onnx|joblib)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Handoff:
    """`source` holds `problem`, written in `framework`, which the grader cannot run."""

    problem: str
    source: SourceFile
    framework: str

    def reason(self, saved: bool) -> str:
        what = "its saved figures and printed outputs" if saved else "its code (no saved outputs)"
        return (
            f"{self.source.path.name} is problem {self.problem[1:]} written in {self.framework}, "
            f"which the grader cannot run: a TA grades this part from {what}"
        )


@dataclass(frozen=True)
class MissingData:
    """`source` read `path`, a Fashion-MNIST file the grader cannot supply, in `cell`."""

    source: SourceFile
    path: str
    cell: int  # numbered from 1, as a person counts cells

    def reason(self, saved: bool) -> str:
        what = "its saved figures and printed outputs" if saved else "its code (no saved outputs)"
        return (
            f"{self.source.path.name} reads its data from {self.path} (cell {self.cell}), a file the "
            f"grader cannot supply, so nothing that needs the data could run: a TA grades this "
            f"part from {what}"
        )


def missing_data(run: NotebookRun, cells: set[int]) -> MissingData | None:
    """The first of `cells` (all when empty) that failed reading a Fashion-MNIST file that
    is not there, if any."""
    for cell in run.cells:
        if cells and cell.index not in cells:
            continue
        if cell.status != "error" or cell.error_name not in MISSING_FILE_ERRORS:
            continue
        named = DATA_FILE.search(cell.error_value or "")
        if named and not WEIGHTS_FILE.search(named.group(1)):
            return MissingData(run.source, named.group(1), cell.index + 1)
    return None


def for_review(handoff: Handoff | MissingData) -> ForReview:
    """The reason that hands a part to a TA, with what the student saved."""
    details = review_details(handoff)
    return ForReview(handoff.reason("images" in details or "printed" in details), details)


def find_handoff(problem: str, sources: list[SourceFile]) -> Handoff | None:
    """The first readable file that is `problem` in a framework the grader lacks, if any."""
    cue = PROBLEM_CUES.get(problem)
    if cue is None:
        return None
    for source in sorted(sources, key=lambda s: s.path.name.lower()):
        if source.status != "ok":
            continue
        try:
            cells = load_notebook(source.path).cells
        except (MalformedSource, OSError):
            continue
        code = "\n".join(c.source for c in cells if c.cell_type == "code")
        if not cue.search("\n".join(c.source for c in cells)):
            continue
        for name, imports, builds in FRAMEWORKS:
            if imports.search(code) and builds.search(code):
                return Handoff(problem, source, name)
    return None


def review_details(handoff: Handoff | MissingData) -> dict:
    """What the TA needs in the report: `source`, `images`, `printed` and `text` (the comment)."""
    details: dict = {"source": handoff.source.path.name}
    cells = _raw_cells(handoff.source)
    images = _images(cells)
    if images:
        details["images"] = images
    printed = _printed(cells)
    if printed:
        details["printed"] = printed
    comment = _last_comment(cells)
    if comment:
        details["text"] = comment
    return details


def _raw_cells(source: SourceFile) -> list[dict]:
    """The notebook's cells with their saved outputs (a script has none)."""
    if source.kind != "ipynb":
        return []
    try:
        raw = deep_json.loads(read_text(source.path))
    except (MalformedSource, OSError, ValueError, RecursionError):
        return []
    cells = raw.get("cells") if isinstance(raw, dict) else None
    return [c for c in cells or [] if isinstance(c, dict)]


def _outputs(cells: list[dict]) -> list[dict]:
    return [
        output
        for cell in cells
        if cell.get("cell_type") == "code" and isinstance(cell.get("outputs"), list)
        for output in cell["outputs"]
        if isinstance(output, dict)
    ]


def _text(value: object) -> str:
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def _images(cells: list[dict]) -> list[str]:
    """The saved PNGs, as data URIs, capped in number and in bytes (only real PNGs)."""
    chosen, size = [], 0
    for output in _outputs(cells):
        data = output.get("data")
        encoded = "".join(_text(data.get("image/png")).split()) if isinstance(data, dict) else ""
        try:
            png = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if not png.startswith(_PNG_MAGIC):
            continue
        size += len(png)
        if size > MAX_FIGURE_BYTES or len(chosen) == MAX_FIGURES:
            break
        chosen.append(PNG_PREFIX + base64.b64encode(png).decode("ascii"))
    return chosen


def _printed(cells: list[dict]) -> str:
    """Everything the notebook printed, as the student saw it (progress bars settled)."""
    parts = []
    for output in _outputs(cells):
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") != "stderr":  # libraries' log noise
            parts.append(_text(output.get("text")))
        elif kind == "error":
            parts.append(f"{output.get('ename', 'Error')}: {output.get('evalue', '')}\n")
        elif kind in ("execute_result", "display_data"):
            data = output.get("data") if isinstance(output.get("data"), dict) else {}
            if "image/png" not in data:  # a figure's text/plain is only "<Figure ...>"
                parts.append(_text(data.get("text/plain")) + "\n")
    lines = [
        _ANSI.sub("", line).rsplit("\r", 1)[-1].rstrip() for line in "".join(parts).split("\n")
    ]
    text = "\n".join(line for line in lines if line).strip()
    if len(text) <= MAX_PRINTED_CHARS:
        return text
    head = MAX_PRINTED_CHARS // 4  # the start says what ran; the end, how it finished
    return f"{text[:head]}\n…\n{text[-(MAX_PRINTED_CHARS - head) :]}"


def _last_comment(cells: list[dict]) -> str:
    """The notebook's last markdown cell with content: where students comment on results."""
    for cell in reversed(cells):
        if cell.get("cell_type") == "markdown":
            text = _text(cell.get("source")).strip()
            if text:
                return text[:MAX_COMMENT_CHARS]
    return ""
