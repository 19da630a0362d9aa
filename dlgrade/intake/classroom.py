"""GitHub Classroom: one cloned repository per student, named `<assignment>-<username>`.

The assignment prefix is what all repositories share (up to a '-'), so
usernames with hyphens survive. When the usernames themselves share a start
("ada-l", "ada-b" share "ada-"), the roster's usernames, or the folder
`gh classroom clone` names `<assignment>-submissions`, say where the
assignment ends. A `classroom_roster.csv` beside the
repositories (GitHub Classroom's roster download: identifier, github_username,
github_id, name) adds names and e-mail identifiers.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path

from dlgrade.intake.folders import ignored
from dlgrade.intake.records import ClassInput, HandIn, IntakeError
from dlgrade.records import Identity

ROSTER = "classroom_roster.csv"
EXPECTED = "GitHub Classroom clones: one <assignment>-<username>/ git repository per student"


def repositories(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / ".git").exists())


def looks_like(root: Path) -> bool:
    repos = repositories(root)
    folders = [p for p in root.iterdir() if p.is_dir() and not ignored(p)]
    return bool(repos) and len(repos) == len(folders) and bool(assignment_prefix(repos))


def assignment_prefix(repos: list[Path], usernames: Iterable[str] = (), folder: str = "") -> str:
    """'hw1-' for hw1-ada, hw1-bob-smith; '' when the names share no '<word>-' start.

    Every '<word>-' start the names share could end the assignment. The one
    that leaves the most roster `usernames` wins; else the one `folder`
    (`<assignment>-submissions`) names; else the longest shared start (the
    first '-' of a lone repository).
    """
    candidates = _shared_starts([p.name for p in repos])
    if not candidates:
        return ""
    known = {u.lower() for u in usernames}
    hits = {c: sum(p.name[len(c) :].lower() in known for p in repos) for c in candidates}
    if max(hits.values()) > 0:
        return max(candidates, key=lambda c: hits[c])
    slug, dash, rest = folder.lower().rpartition("-")
    named = slug + dash if rest == "submissions" else ""
    if named in candidates:
        return named
    return candidates[0] if len(repos) == 1 else candidates[-1]


def _shared_starts(names: list[str]) -> list[str]:
    """'<word>-' starts all `names` share, shortest first, each leaving a non-empty rest."""
    common = os.path.commonprefix(names) if len(names) > 1 else names[0]
    ends = [i + 1 for i, char in enumerate(common) if char == "-"]
    return [common[:end] for end in ends if all(len(name) > end for name in names)]


def read(root: Path) -> ClassInput:
    repos = repositories(root)
    roster = _roster(root / ROSTER)
    prefix = assignment_prefix(repos, roster, root.name) if repos else ""
    if not prefix:
        raise IntakeError(
            f"{root}: found {len(repos)} git repositories without a shared '<assignment>-' prefix; "
            f"expected {EXPECTED}"
        )
    hand_ins = {}
    for repo in repos:
        username = repo.name[len(prefix) :]
        person = roster.get(username.lower(), Identity(id=username, lms="classroom"))
        hand_ins[username] = HandIn(username, repo, (person,), origin=f"{repo.name}/")
    others = [p for p in root.iterdir() if p not in repos and not ignored(p) and p.name != ROSTER]
    unassigned = sorted(
        q.relative_to(root).as_posix()
        for p in others
        for q in ([p] if p.is_file() else p.rglob("*"))
        if q.is_file()
    )
    return ClassInput("classroom", root, hand_ins, tuple(unassigned))


def _roster(path: Path) -> dict[str, Identity]:
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    found = {}
    for row in rows:
        username = (row.get("github_username") or "").strip()
        if not username:
            continue
        identifier = (row.get("identifier") or "").strip()
        found[username.lower()] = Identity(
            id=username,
            name=(row.get("name") or "").strip(),
            email=identifier if "@" in identifier else "",
            lms="classroom",
        )
    return found
