"""Build the example submissions in `examples/` from their sources.

The examples are graded by the harness's own tests, so they must not drift apart:
every folder is generated here from

* the full-marks sources in `example_sources/` (lists of cell sources, readable as
  code; see its `__init__` for which module holds what), and the
  problem-5 starter `reference/starter/hw1_prob5_starter.ipynb`, which the problem-5
  notebooks complete through declared fill-in edits;
* for each mistake example, the full-marks folder plus a few declared operations:
  `Edit(file, old, new)` replaces a snippet that must occur EXACTLY once in the
  notebook's cell sources, `Truncate(file, after)` cuts the serialized file after a
  snippet that occurs exactly once, `UseStarter(file)` replaces a notebook with the
  untouched starter.

Usage (from the repository root):

    python submissions/build_examples.py           # rewrite the example notebooks
    python submissions/build_examples.py --check   # exit 1 if a committed one differs

Notebooks are written with `nbformat.writes` (sorted keys, indent 1, no outputs,
fixed cell ids), so the output is byte-for-byte deterministic. `answers.toml` and
any other non-notebook file in the example folders are left alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from example_sources.fall import FALL_P3, FALL_P4
from example_sources.mistakes import MISTAKES
from example_sources.notebooks import (
    FULL,
    P3,
    P4,
    P5,
    REPO,
    SPRING,
    SPRING_P4,
    SPRING_P5,
    BuildError,
    Edit,
    Truncate,
    UseStarter,
    apply_edit,
    fill,
    load_starter,
    serialize,
)
from example_sources.p5 import FALL_P5_FILLS, SPRING_P5_FILLS
from example_sources.spring import SPRING_P4_NB

HERE = Path(__file__).resolve().parent
# The demo class holds only students' folders: this script and the README that
# describes each folder live beside it, so a grader lists no stray files there.
EXAMPLES = HERE / "examples"
README = HERE / "README.md"

# --------------------------------------------------------------------------- build


def build() -> dict[str, dict[str, str]]:
    """Every example folder -> notebook file name -> exact file text."""
    starter = load_starter()
    full = {
        P3: FALL_P3,
        P4: FALL_P4,
        P5: fill(starter, FALL_P5_FILLS, FULL),
    }
    spring = {
        SPRING_P4: SPRING_P4_NB,
        SPRING_P5: fill(starter, SPRING_P5_FILLS, SPRING),
    }
    out = {
        FULL: {name: serialize(nb) for name, nb in full.items()},
        SPRING: {name: serialize(nb) for name, nb in spring.items()},
    }
    for folder, operations in MISTAKES.items():
        notebooks = dict(full)
        texts: dict[str, str] = {}
        for op in operations:
            if op.file not in notebooks:
                raise BuildError(f"{folder}: no notebook {op.file} in {FULL}")
            if isinstance(op, Edit):
                notebooks[op.file] = apply_edit(notebooks[op.file], op, folder)
            elif isinstance(op, UseStarter):
                notebooks[op.file] = starter
            elif isinstance(op, Truncate):
                text = serialize(notebooks[op.file])
                if text.count(op.after) != 1:
                    raise BuildError(
                        f"{folder}: truncation point must occur exactly once in {op.file}, "
                        f"found {text.count(op.after)} times: {op.after!r}"
                    )
                texts[op.file] = text[: text.index(op.after) + len(op.after)]
        texts = {name: texts.get(name) or serialize(nb) for name, nb in notebooks.items()}
        if operations and texts == out[FULL]:  # an empty tuple is a deliberate verbatim copy
            raise BuildError(f"{folder}: operations leave the full-marks notebooks unchanged")
        out[folder] = texts
    return out


def stray_notebooks(folder: Path, expected: dict[str, str]) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.ipynb") if p.name not in expected)


def readme_missing(examples: dict[str, dict[str, str]]) -> list[str]:
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    return [folder for folder in examples if f"`{folder}`" not in text]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a committed notebook differs")
    args = parser.parse_args(argv)
    try:
        examples = build()
    except BuildError as exc:
        print(f"build_examples: {exc}", file=sys.stderr)
        return 2

    problems: list[str] = []
    written = 0
    for folder, files in examples.items():
        for name, text in files.items():
            path = EXAMPLES / folder / name
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                continue
            if args.check:
                state = "missing" if current is None else "differs from what build_examples.py generates"
                problems.append(f"{path.relative_to(REPO)}: {state}")
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                written += 1
        for stray in stray_notebooks(EXAMPLES / folder, files):
            problems.append(f"{stray.relative_to(REPO)}: notebook not generated by build_examples.py")
    problems += [f"{README.relative_to(REPO)}: no line for `{f}`" for f in readme_missing(examples)]

    for problem in problems:
        print(problem, file=sys.stderr)
    if args.check:
        if problems:
            print("run: python submissions/build_examples.py", file=sys.stderr)
            return 1
        print(f"{sum(map(len, examples.values()))} example notebooks up to date")
        return 0
    print(f"wrote {written} notebook(s) in {len(examples)} example folders")
    return 0


if __name__ == "__main__":
    sys.exit(main())
