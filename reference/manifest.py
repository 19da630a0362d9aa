"""Assignment manifests: which parts an edition has, and their points.

A manifest is a TOML file with `id`, `title` and a `[[parts]]` array; points
live only there. Loading validates it completely, so a typo fails at load time
with the file named, not halfway through grading a class.
"""

from __future__ import annotations

import importlib.util
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reference.rubric import RubricError, RubricItem, rubric_items

MANIFEST_DIR = Path(__file__).resolve().parent / "assignments"
Grading = Literal["auto", "manual"]
Visibility = Literal["visible", "hidden"]

_TOP_KEYS = {"id", "title", "parts"}
_PART_REQUIRED = {"id", "problem", "title", "points"}
_PART_KEYS = _PART_REQUIRED | {"grading", "visibility", "settings", "rubric"}
# Grading choices a course may make per part, in the part's `settings` table:
# name -> (the reference modules whose parts may carry it, what it means). Each
# value is a number in [0, 1]; checks read it with Part.setting(name, default).
PART_SETTINGS = {
    "unseeded_credit": (
        ("numpy_backprop",),
        "fraction of the points kept when the initial weights have the asked distribution "
        "but were not drawn from default_rng(80085) as asked (1: full credit, with a note)",
    ),
    "loaded_weights_credit": (
        ("numpy_backprop", "fashion_mlp"),
        "fraction of the points kept when the graded weights came from a file (np.load, "
        "pickle, torch.load, load_state_dict) or problem 5 trained another number of epochs "
        "than asked (1: full credit; always flagged for a TA)",
    ),
}


class ManifestError(ValueError):
    """A manifest file is missing or malformed; the message names the file."""


@dataclass(frozen=True)
class Part:
    id: str
    problem: str  # the reference module, e.g. "relu_fit"
    title: str
    points: float
    grading: Grading = "auto"
    visibility: Visibility = "visible"
    settings: tuple[tuple[str, float], ...] = ()  # (name, value) pairs; see PART_SETTINGS
    rubric: tuple[RubricItem, ...] = ()  # what a TA applies on the review desk (reference.rubric)

    def setting(self, name: str, default: float) -> float:
        """The part's `name` setting, or `default` when the manifest leaves it out."""
        if name not in PART_SETTINGS:
            raise KeyError(f"unknown part setting {name!r}; known: {sorted(PART_SETTINGS)}")
        return dict(self.settings).get(name, default)


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    parts: tuple[Part, ...]

    @property
    def total(self) -> float:
        return sum(part.points for part in self.parts)

    def part(self, part_id: str) -> Part:
        for part in self.parts:
            if part.id == part_id:
                return part
        known = ", ".join(p.id for p in self.parts)
        raise KeyError(f"{self.id} has no part {part_id!r}; its parts are {known}")


def list_assignments(directory: Path = MANIFEST_DIR) -> list[str]:
    """Names of the manifests in `directory` (file stems), sorted."""
    return sorted(path.stem for path in directory.glob("*.toml"))


def load_assignment(name: str, directory: Path = MANIFEST_DIR) -> Assignment:
    """Load and validate `directory/<name>.toml`."""
    path = directory / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(list_assignments(directory)) or "none"
        raise ManifestError(f"{path}: no such manifest (known assignments: {known})")
    return load_manifest(path)


def load_manifest(path: Path) -> Assignment:
    """Parse and validate one manifest file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ManifestError(f"{path}: cannot read manifest: {error}") from error
    _check_keys(path, "top level", data, required=_TOP_KEYS, allowed=_TOP_KEYS)
    if data["id"] != path.stem:
        raise ManifestError(f"{path}: id {data['id']!r} must match the file name {path.stem!r}")
    if not isinstance(data["parts"], list) or not data["parts"]:
        raise ManifestError(f"{path}: 'parts' must be a non-empty [[parts]] array")
    parts = tuple(_part(path, index, entry) for index, entry in enumerate(data["parts"]))
    seen: set[str] = set()
    for part in parts:
        if part.id in seen:
            raise ManifestError(f"{path}: duplicate part id {part.id!r}")
        seen.add(part.id)
    return Assignment(id=data["id"], title=str(data["title"]), parts=parts)


def _part(path: Path, index: int, entry: object) -> Part:
    where = f"parts[{index}]"
    if not isinstance(entry, dict):
        raise ManifestError(f"{path}: {where} must be a table")
    where = f"part {entry.get('id', index)!r}"
    _check_keys(path, where, entry, required=_PART_REQUIRED, allowed=_PART_KEYS)
    points = entry["points"]
    if isinstance(points, bool) or not isinstance(points, int | float) or points <= 0:
        raise ManifestError(f"{path}: {where} has points = {points!r}; points must be positive")
    grading = entry.get("grading", "auto")
    if grading not in ("auto", "manual"):
        raise ManifestError(f"{path}: {where} has grading {grading!r}; use 'auto' or 'manual'")
    visibility = entry.get("visibility", "visible")
    if visibility not in ("visible", "hidden"):
        raise ManifestError(
            f"{path}: {where} has visibility {visibility!r}; use 'visible' or 'hidden'"
        )
    problem = entry["problem"]
    if importlib.util.find_spec(f"reference.{problem}") is None:
        raise ManifestError(f"{path}: {where} names problem {problem!r}, not a reference module")
    try:
        rubric = rubric_items(path, where, points, entry.get("rubric", []))
    except RubricError as err:
        raise ManifestError(str(err)) from None
    return Part(
        id=str(entry["id"]),
        problem=problem,
        title=str(entry["title"]),
        points=points,
        grading=grading,
        visibility=visibility,
        settings=_settings(path, where, problem, entry.get("settings", {})),
        rubric=rubric,
    )


def _settings(path: Path, where: str, problem: str, table: object) -> tuple[tuple[str, float], ...]:
    if not isinstance(table, dict):
        raise ManifestError(f"{path}: {where} has settings = {table!r}; use a table")
    for name, value in table.items():
        if name not in PART_SETTINGS:
            raise ManifestError(
                f"{path}: {where} has unknown setting {name!r}; known: {sorted(PART_SETTINGS)}"
            )
        owners, _ = PART_SETTINGS[name]
        if problem not in owners:
            raise ManifestError(
                f"{path}: {where} sets {name!r}, which only parts of problem "
                f"{' or '.join(map(repr, owners))} take"
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ManifestError(
                f"{path}: {where} has {name} = {value!r}; it must be a number in [0, 1]"
            )
    return tuple(sorted((name, float(value)) for name, value in table.items()))


def _check_keys(path: Path, where: str, table: dict, required: set[str], allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ManifestError(
            f"{path}: {where} has unknown keys {unknown}; allowed: {sorted(allowed)}"
        )
    missing = sorted(required - set(table))
    if missing:
        raise ManifestError(f"{path}: {where} is missing {missing}")
