"""One graded submission as it travels back to its launcher: `UnitResult`, its files and
the file a child process leaves it in."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

from dlgrade.data.atomic import write_bytes_atomic
from dlgrade.grading.log import LOG_NAME
from dlgrade.records import GradeRecord

JUNIT_NAME = "junit.xml"
RESULT_NAME = ".unit.json"  # where a child process leaves its UnitResult for the launcher


@dataclass(frozen=True)
class UnitResult:
    """One graded submission: its record and the files of OUT/<student>/."""

    record: GradeRecord
    files: dict[str, bytes] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "record": self.record.to_dict(),
            "files": {
                name: base64.b64encode(data).decode("ascii") for name, data in self.files.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict) -> UnitResult:
        files = {name: base64.b64decode(text) for name, text in data.get("files", {}).items()}
        return cls(GradeRecord.from_dict(data["record"]), files)


def collect_files(record: GradeRecord, scratch: Path | None, junit: bool) -> dict[str, bytes]:
    """The student's output files: the rendered record, then the log and JUnit XML if present."""
    from dlgrade.grading.student_files import student_files

    files = student_files(record)
    names = [LOG_NAME, JUNIT_NAME] if junit else [LOG_NAME]
    for name in names:
        path = scratch / name if scratch is not None else None
        if path is not None and path.is_file():
            files[name] = path.read_bytes()
    return files


def write_result(path: Path, result: UnitResult) -> None:
    write_bytes_atomic(path, json.dumps(result.to_dict()).encode("utf-8"), fsync=False)


def read_result(path: Path) -> UnitResult:
    return UnitResult.from_dict(json.loads(path.read_text("utf-8")))
