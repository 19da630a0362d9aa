"""Records that cross module boundaries: check results and whole-submission grades.

These are the stable output contract: `GradeRecord.to_dict()` is what
`grades.json` holds per student, and `gradescope_results()` is Gradescope's
`results.json` format. Reports read nothing else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["passed", "failed", "partial", "skipped", "manual", "error"]
Visibility = Literal["visible", "hidden"]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check for one manifest part."""

    part: str  # manifest part id, e.g. "5-q3"
    name: str  # the check's human name
    points: float
    max_points: float
    status: Status
    message: str = ""  # expected / found / where, for the student
    visibility: Visibility = "visible"
    # Extra data for reports (curves, accuracies, extracted text); JSON only.
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Observation:
    """Something the sandbox saw while running student code."""

    source: str  # notebook file name
    kind: str  # e.g. "timeout", "killed-memory", "network-blocked", "cuda-on-cpu"
    message: str


@dataclass(frozen=True)
class Identity:
    """Who handed a submission in, as the LMS export says ("" where it does not say)."""

    id: str = ""  # the LMS's id for the student: Canvas user id, Gradescope SID, GitHub username
    name: str = ""
    email: str = ""
    lms: str = ""  # whose id `id` is: "canvas", "gradescope", "classroom" (or "" when unknown)


@dataclass(frozen=True)
class IntakeSummary:
    """How a class folder or LMS export was read, and every file no student was given."""

    layout: str  # "folders", "gradescope", "canvas" or "classroom"
    source: str  # the folder or zip that was read
    unassigned: tuple[str, ...] = ()  # paths relative to `source`
    notes: tuple[str, ...] = ()  # remarks for the TA (a submission without metadata, say)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> IntakeSummary:
        return cls(
            layout=data["layout"],
            source=data["source"],
            unassigned=tuple(data.get("unassigned", ())),
            notes=tuple(data.get("notes", ())),
        )


@dataclass
class GradeRecord:
    """Everything graded for one student submission."""

    student: str
    assignment: str
    results: list[CheckResult]
    status: str = "graded"  # graded | error
    duration_s: float = 0.0
    student_compute_s: float = 0.0
    observations: list[Observation] = field(default_factory=list)
    isolation: str = ""  # "bubblewrap" or "reduced: ..."
    quick: bool = False
    # From the LMS export the submission came in (dlgrade.intake); empty for plain folders.
    identities: list[Identity] = field(default_factory=list)
    late: bool = False  # the LMS marked the hand-in as late

    @property
    def total(self) -> float:
        return round(sum(r.points for r in self.results), 4)

    @property
    def max_total(self) -> float:
        return round(sum(r.max_points for r in self.results), 4)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["total"] = self.total
        data["max_total"] = self.max_total
        return data

    @classmethod
    def from_dict(cls, data: dict) -> GradeRecord:
        return cls(
            student=data["student"],
            assignment=data["assignment"],
            results=[CheckResult(**r) for r in data["results"]],
            status=data.get("status", "graded"),
            duration_s=data.get("duration_s", 0.0),
            student_compute_s=data.get("student_compute_s", 0.0),
            observations=[Observation(**o) for o in data.get("observations", [])],
            isolation=data.get("isolation", ""),
            quick=data.get("quick", False),
            identities=[Identity(**i) for i in data.get("identities", [])],
            late=data.get("late", False),
        )

    def gradescope_results(self) -> dict:
        """Gradescope's autograder `results.json` for this record (see dlgrade.lms.gradescope)."""
        from dlgrade.lms.gradescope import results_json  # the format lives with the other LMS ones

        return results_json(self)
