"""Gradescope's "Export Submissions": a folder per submission and submission_metadata.yml.

The export is `assignment_<id>_export/` holding `submission_metadata.yml` and
one `submission_<id>/` folder per submission. The metadata maps each folder
name to its submitters (Ruby-style keys, as Gradescope writes them):

    submission_123:
      :submitters:
      - :name: Ada Lovelace
        :sid: '1815'
        :email: ada@example.edu
      :created_at: 2023-09-14 21:58:03.000000000 -07:00

A folder may also carry its own submission_metadata.yml (the same mapping for
just that submission, or its body). Group submissions list several submitters.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from dlgrade.intake.names import slug, unique_keys
from dlgrade.intake.records import ClassInput, HandIn, IntakeError
from dlgrade.records import Identity

METADATA = "submission_metadata.yml"
EXPECTED = f"a Gradescope export: {METADATA} beside one submission_<id>/ folder per submission"


def looks_like(root: Path) -> bool:
    if (root / METADATA).is_file():
        return True
    folders = [p for p in root.iterdir() if p.is_dir()]
    return bool(folders) and all((p / METADATA).is_file() for p in folders)


def read(root: Path) -> ClassInput:
    metadata = _load(root / METADATA) if (root / METADATA).is_file() else {}
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise IntakeError(
            f"{root}: {METADATA} is there but no submission folders; expected {EXPECTED}"
        )
    notes = []
    found = []
    for folder in folders:
        try:
            entry = metadata.get(folder.name) or _own_entry(folder)
        except IntakeError as err:  # one folder's own metadata: that folder's note only
            notes.append(f"{folder.name}: {err}")
            entry = {}
        people = _submitters(entry)
        if not people:
            notes.append(
                f"{folder.name}: no submitters in {METADATA}; graded under its folder name"
            )
        found.append((folder, people, bool(_get(entry, "late"))))
    keys = unique_keys([(_preferred_key(f, people), _number(f)) for f, people, _ in found])
    hand_ins = {
        key: HandIn(key, folder, tuple(people), late, origin=f"{folder.name}/")
        for key, (folder, people, late) in zip(keys, found, strict=True)
    }
    unassigned = tuple(sorted(p.name for p in root.iterdir() if p.is_file() and p.name != METADATA))
    missing = sorted(set(metadata) - {f.name for f in folders})
    notes += [f"{METADATA} lists {name}, but the export has no such folder" for name in missing]
    return ClassInput("gradescope", root, hand_ins, unassigned, tuple(notes))


def _load(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise IntakeError(f"cannot read {path}: {err}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise IntakeError(
            f"{path}: expected a mapping of submission folders, found {type(data).__name__}"
        )
    return {str(k): v for k, v in data.items()}


def _own_entry(folder: Path) -> dict:
    path = folder / METADATA
    if not path.is_file():
        return {}
    data = _load(path)
    # Either {submission_<id>: {...}} or the entry's body itself.
    return data.get(folder.name, data)


def _get(entry: object, key: str) -> object:
    """`key` or Gradescope's Ruby-symbol spelling `:key`."""
    if not isinstance(entry, dict):
        return None
    return entry.get(f":{key}", entry.get(key))


def _submitters(entry: object) -> list[Identity]:
    people = _get(entry, "submitters")
    if not isinstance(people, list):
        return []
    found = []
    for person in people:
        name, sid, email = (_get(person, k) for k in ("name", "sid", "email"))
        found.append(
            Identity(
                id=str(sid or ""), name=str(name or ""), email=str(email or ""), lms="gradescope"
            )
        )
    return found


def _preferred_key(folder: Path, people: list[Identity]) -> str:
    if not people:
        return folder.name
    first = people[0]
    return slug(first.name) or slug(first.email.split("@")[0]) or folder.name


def _number(folder: Path) -> str:
    return folder.name.rsplit("_", 1)[-1]
