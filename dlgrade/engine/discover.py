"""Find a submission's notebooks, tag them by content and map them to problems."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

from nbformat import NotebookNode

from dlgrade.engine.notebooks import MalformedSource, code_text, load_notebook, read_text
from dlgrade.engine.paths import LinkRefused, hand_in_files, read_inside
from dlgrade.engine.records import SourceFile, Submission
from dlgrade.engine.resubmissions import ANSWERS_FILE as ANSWERS_FILE  # where callers look for it
from dlgrade.engine.resubmissions import choose_answers
from dlgrade.engine.tagging import content_tags, problems_for

OVERRIDE_FILE = "submission.toml"
_SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", "__MACOSX", ".git"}


def discover(folder: Path) -> Submission:
    """Describe the submission in `folder`; problems in files are recorded, never raised."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"submission folder {folder} does not exist or is not a folder")
    files, links = hand_in_files(folder)
    sources = tuple(_describe(path) for path in _source_paths(folder, files))
    problems: dict[str, list[SourceFile]] = {}
    for source in sources:
        for problem in source.problem_ids:
            problems.setdefault(problem, []).append(source)
    issues: list[str] = []
    overrides = _read_overrides(folder, issues)
    for problem, names in overrides.items():
        chosen = [s for s in sources if s.path.relative_to(folder).as_posix() in names]
        missing = set(names) - {s.path.relative_to(folder).as_posix() for s in chosen}
        issues.extend(
            f"{OVERRIDE_FILE}: {problem} names {n}, which is not a notebook here"
            for n in sorted(missing)
        )
        problems[problem] = chosen
    sources = _with_final_ids(sources, problems)
    by_path = {s.path: s for s in sources}
    return Submission(
        path=folder,
        name=folder.name,
        sources=sources,
        answers=_find_answers(folder, files),
        problems={
            p: tuple(by_path[s.path] for s in found)
            for p, found in sorted(problems.items())
            if found
        },
        issues=tuple(issues),
        links=tuple(link for link in links if not _hidden(Path(link.name).parts)),
    )


def _source_paths(folder: Path, files: list[Path]) -> list[Path]:
    found = [
        path
        for path in files
        if path.suffix in (".ipynb", ".py") and not _hidden(path.relative_to(folder).parts)
    ]
    return sorted(found)


def _hidden(parts: tuple[str, ...]) -> bool:
    return any(part in _SKIP_DIRS or part.startswith(".") for part in parts)


def _describe(path: Path) -> SourceFile:
    kind = "py" if path.suffix == ".py" else "ipynb"
    try:
        notebook = load_notebook(path)
    except MalformedSource as err:
        tags = _raw_tags(path)
        return SourceFile(
            path=path,
            kind=kind,
            status="malformed",
            problem_ids=problems_for(tags),
            error=str(err),
            tags=tags,
        )
    tags = content_tags(code_text(notebook), _markdown_text(notebook))
    return SourceFile(path=path, kind=kind, status="ok", problem_ids=problems_for(tags), tags=tags)


def _markdown_text(notebook: NotebookNode) -> str:
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def _raw_tags(path: Path) -> tuple[str, ...]:
    """Tags of an unreadable notebook's raw text, so its problems learn why they have no run.

    Code survives inside the JSON strings ("def train_one_sample(" is still
    there); a file that is not even text has no tags.
    """
    try:
        return content_tags(read_text(path))
    except MalformedSource:
        return ()


def _read_overrides(folder: Path, issues: list[str]) -> dict[str, tuple[str, ...]]:
    """`[problems] p4 = "nb.ipynb"` (or a list of names) from submission.toml."""
    path = folder / OVERRIDE_FILE
    if not path.is_file() and not path.is_symlink():
        return {}
    try:
        data = tomllib.loads(read_inside(folder, path).decode("utf-8"))
    except LinkRefused as err:
        issues.append(f"{err}; content-based mapping used")
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        issues.append(f"{OVERRIDE_FILE} is not valid TOML ({err}); content-based mapping used")
        return {}
    table = data.get("problems", {})
    overrides: dict[str, tuple[str, ...]] = {}
    for problem, value in table.items() if isinstance(table, dict) else ():
        names = (value,) if isinstance(value, str) else value
        if isinstance(names, list | tuple) and all(isinstance(n, str) for n in names):
            overrides[problem] = tuple(Path(n).as_posix() for n in names)
        else:
            issues.append(
                f"{OVERRIDE_FILE}: [problems] {problem} must be a file name or a list of them"
            )
    return overrides


def _with_final_ids(
    sources: tuple[SourceFile, ...], problems: dict[str, list[SourceFile]]
) -> tuple[SourceFile, ...]:
    def ids(source: SourceFile) -> tuple[str, ...]:
        return tuple(
            sorted(p for p, found in problems.items() if any(s.path == source.path for s in found))
        )

    return tuple(replace(s, problem_ids=ids(s)) for s in sources)


def _find_answers(folder: Path, files: list[Path]) -> Path | None:
    """answers.toml, or what an LMS renamed it to (answers-1.toml), among the hand-in's
    regular files (a linked one is in `Submission.links`, never here)."""
    return choose_answers(folder, files).path
