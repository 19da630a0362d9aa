"""Records that cross module boundaries: check results and whole-submission grades.

These are the stable output contract: `GradeRecord.to_dict()` is what
`grades.json` holds per student; Gradescope's `results.json` is derived from it
by `dlgrade.lms.gradescope.results_json` (records know no LMS format). Reports
read nothing else.

The vocabulary lives here too, once: `PartStatus` (what a part's verdict is
and whose doing it was) and `ObservationKind` (what the sandbox, the checks or
the harness saw). The engine, the checks, the reports and the Gradescope
export all use these members; docs/DESIGN.md has the table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Literal

Visibility = Literal["visible", "hidden"]


class PartStatus(StrEnum):
    """The verdict on one manifest part (SPEC section 1)."""

    PASSED = "passed"  # right: all points
    PARTIAL = "partial"  # partly right: some points
    FAILED = "failed"  # wrong or missing work, or the student's code crashed the kernel
    MALFORMED = "malformed"  # the student's file cannot be read
    TIMEOUT = "timeout"  # the student's code ran past a limit, so the part could not be judged
    INTERFERED = "interfered"  # the notebook tampered with the grader
    SKIPPED = "skipped"  # not graded in this run by the grader's choice; nobody's fault
    MANUAL = "manual"  # awaiting a TA's review
    ERROR = "error"  # the harness itself failed: please report; left out of class means


# The student's fault, 0 points: the four ways a part is lost without a harness bug.
STUDENT_FAULTS = frozenset(
    {PartStatus.FAILED, PartStatus.MALFORMED, PartStatus.TIMEOUT, PartStatus.INTERFERED}
)
# Parts that hold no grade yet: class means and pass rates leave them out.
NOT_GRADED = frozenset({PartStatus.SKIPPED, PartStatus.MANUAL, PartStatus.ERROR})


class ObservationKind(StrEnum):
    """What was seen while grading one submission, by who reports it."""

    # A notebook run (dlgrade/engine/runner.py, cell_steps.py, probe_steps.py, run_notes.py).
    TIMEOUT = "timeout"  # a cell or the notebook ran past its time limit
    KERNEL_KILLED = "kernel-killed"  # the kernel did not recover from a timeout and was killed
    KERNEL_DIED = "kernel-died"  # the kernel process ended (os._exit, a crash, the OOM killer)
    MEMORY_LIMIT = "memory-limit"  # a cell raised MemoryError at the memory cap
    PROCESS_LIMIT = "process-limit"  # a cell could not start more processes (the cap)
    FILE_SIZE_LIMIT = "file-size-limit"  # a cell wrote a file over the size cap
    OUTPUT_TRUNCATED = "output-truncated"  # stored cell output hit its cap
    FIGURE_LOG = "figure-log"  # the figure log was capped or held invalid entries
    DATA_UNAVAILABLE = "data-unavailable"  # the grader could not provision the datasets
    ISOLATION_REDUCED = "isolation-reduced"  # not bubblewrap: mode user or none (what it lacks)
    MALFORMED = "malformed"  # the file could not be read as a notebook (also noted by checks)
    INTERFERED = "interfered"  # the notebook tampered with the grader's kernel messages
    WATCH_TIMEOUT = "watch-timeout"  # reading the state after a cell took too long
    WATCH_ERROR = "watch-error"  # a grader's watch failed (a bug: please report)
    HISTORY_CAPPED = "history-capped"  # a watch reached its size budget; later values not kept
    HISTORY_INVALID = "history-invalid"  # malformed value-history entries were dropped
    # The in-kernel shim (dlgrade/engine/shim), validated by the runner.
    NETWORK_BLOCKED = "network-blocked"
    CUDA_ON_CPU = "cuda-on-cpu"
    TENSORFLOW_STANDIN = "tensorflow-standin"
    DATASET_OFFLINE = "dataset-offline"
    FIGURE_RECORDER_ERROR = "figure-recorder-error"
    SHIM_ERROR = "shim-error"
    CUDA_USED = "cuda-used"  # student code ran on a real GPU
    # The checks (checks/conftest.py, checks/notebook_runs.py).
    ANSWERS_INVALID = "answers-invalid"
    ANSWERS_WARNING = "answers-warning"
    SOURCE_CHOSEN = "source-chosen"  # two files held one problem: which was graded and why
    LINK_REFUSED = "link-refused"  # a hand-in file is a link: never read, run or graded
    WEIGHTS_LOADED = "weights-loaded"  # the graded weights came from a file (checks.weights_source)
    EPOCHS_DIFFER = "epochs-differ"  # the notebook trained another number of epochs than asked
    # The harness around the checks (dlgrade/grading).
    GRADING_ERROR = "grading-error"  # the grading process crashed or hung
    REPORT_ERROR = "report-error"  # the student's report page could not be rendered
    DEVICES = "devices"  # which device ran what (the grader's own, the kernel's GPU if any)
    NO_FILES = "no-files"  # an LMS hand-in held no files at all (dlgrade.autograder)
    UPLOAD_REFUSED = "upload-refused"  # the intake could not read the upload whole (not graded)
    WORKER = "worker"  # the cluster worker (and its device) that graded the student

    @classmethod
    def _missing_(cls, value: object) -> ObservationKind | None:
        # Names written by grade.json files from before this vocabulary.
        return _LEGACY_KINDS.get(str(value))

    @property
    def serious(self) -> bool:
        """The grade may be wrong or incomplete, or a TA must look: flagged on the class page."""
        return self not in NOTE_KINDS


_LEGACY_KINDS = {
    "died": ObservationKind.KERNEL_DIED,
    "killed": ObservationKind.KERNEL_KILLED,
    "killed-memory": ObservationKind.MEMORY_LIMIT,
}
# Kinds that are information only: the run was complete and the grade stands.
NOTE_KINDS = frozenset(
    {
        ObservationKind.ISOLATION_REDUCED,
        ObservationKind.NETWORK_BLOCKED,
        ObservationKind.CUDA_ON_CPU,
        ObservationKind.TENSORFLOW_STANDIN,
        ObservationKind.DATASET_OFFLINE,
        ObservationKind.ANSWERS_WARNING,
        ObservationKind.SOURCE_CHOSEN,
        ObservationKind.CUDA_USED,
        ObservationKind.DEVICES,
    }
)
# What the shim inside the kernel may report; anything else it writes is dropped.
KERNEL_REPORTS = frozenset(
    {
        ObservationKind.NETWORK_BLOCKED,
        ObservationKind.CUDA_ON_CPU,
        ObservationKind.TENSORFLOW_STANDIN,
        ObservationKind.DATASET_OFFLINE,
        ObservationKind.FIGURE_RECORDER_ERROR,
        ObservationKind.SHIM_ERROR,
        ObservationKind.CUDA_USED,
    }
)
# Every kind dlgrade.engine can put in a NotebookRun (runner and shim).
ENGINE_KINDS = KERNEL_REPORTS | {
    ObservationKind.TIMEOUT,
    ObservationKind.KERNEL_KILLED,
    ObservationKind.KERNEL_DIED,
    ObservationKind.MEMORY_LIMIT,
    ObservationKind.PROCESS_LIMIT,
    ObservationKind.FILE_SIZE_LIMIT,
    ObservationKind.OUTPUT_TRUNCATED,
    ObservationKind.FIGURE_LOG,
    ObservationKind.DATA_UNAVAILABLE,
    ObservationKind.ISOLATION_REDUCED,
    ObservationKind.MALFORMED,
    ObservationKind.INTERFERED,
    ObservationKind.WATCH_TIMEOUT,
    ObservationKind.WATCH_ERROR,
    ObservationKind.HISTORY_CAPPED,
    ObservationKind.HISTORY_INVALID,
}

# The finding when a notebook tampers with the kernel's messages (engine and checks say it alike).
KERNEL_INTERFERENCE = "the notebook interfered with the grader's kernel messages"
# Everything a harness error's message and flag tell a TA to do.
REVIEW_KEY = "manual_review"  # in CheckResult.details once a TA has scored the part
PLEASE_REPORT = "this is a bug in dlgrade, not the student's mistake: please report it"


def rerun_hint(student: str) -> str:
    """How a TA regrades one student once a harness bug is fixed."""
    return f"dlgrade grade DIR --out OUT --force --only {student}"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check for one manifest part."""

    part: str  # manifest part id, e.g. "5-q3"
    name: str  # the check's human name
    points: float
    max_points: float
    status: PartStatus
    message: str = ""  # expected / found / where, for the student
    visibility: Visibility = "visible"
    # Extra data for reports (curves, accuracies, extracted text); JSON only.
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Records read back from JSON carry plain strings; an unknown status is refused.
        object.__setattr__(self, "status", PartStatus(self.status))


@dataclass(frozen=True)
class Observation:
    """Something the sandbox, the checks or the harness saw while grading."""

    source: str  # notebook file name, "answers.toml" or "harness"
    kind: ObservationKind
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ObservationKind(self.kind))


@dataclass(frozen=True)
class FailedCell:
    """A code cell of the student's notebook that raised or ran past its time limit."""

    source: str  # notebook file name
    cell: int  # 1-based position among all the notebook's cells, markdown included
    first_line: str  # the cell's first non-empty source line, so the student can find it
    error: str  # "NameError: name 'x' is not defined", first line only


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
    refused: dict[str, str] = field(default_factory=dict)  # student -> why their upload was refused

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> IntakeSummary:
        return cls(
            layout=data["layout"],
            source=data["source"],
            unassigned=tuple(data.get("unassigned", ())),
            notes=tuple(data.get("notes", ())),
            refused=dict(data.get("refused", {})),
        )


@dataclass
class GradeRecord:
    """Everything graded for one student submission."""

    student: str
    assignment: str
    results: list[CheckResult]
    status: str = "graded"  # graded | error (the whole grading run failed)
    duration_s: float = 0.0
    student_compute_s: float = 0.0
    observations: list[Observation] = field(default_factory=list)
    isolation: str = ""  # "bubblewrap", "user: ..." or "none: ..." (dlgrade.engine.isolation)
    quick: bool = False
    # From the LMS export the submission came in (dlgrade.intake); empty for plain folders.
    identities: list[Identity] = field(default_factory=list)
    late: bool = False  # the LMS marked the hand-in as late
    failed_cells: list[FailedCell] = field(default_factory=list)
    # Notebook file -> sha256 of the evidence its parts were judged from (dlgrade.evidence).
    evidence: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return round(sum(r.points for r in self.results), 4)

    @property
    def max_total(self) -> float:
        return round(sum(r.max_points for r in self.results), 4)

    @property
    def harness_errors(self) -> list[CheckResult]:
        """Parts the harness failed on (bugs), not the student."""
        return [r for r in self.results if r.status == PartStatus.ERROR]

    def graded_percent(self) -> float | None:
        """Percent of the points on parts that hold a grade (harness errors and skipped parts
        left out; pending manual parts count 0 until merged); None when no part does."""
        graded = [r for r in self.results if r.status not in (PartStatus.ERROR, PartStatus.SKIPPED)]
        maximum = sum(r.max_points for r in graded)
        if self.status == "error" or not maximum:
            return None
        # Unrounded: class means are taken over these, and displays round once.
        return 100.0 * sum(r.points for r in graded) / maximum

    def to_dict(self) -> dict:
        data = asdict(self)
        data["total"] = self.total
        data["max_total"] = self.max_total
        return data

    @classmethod
    def from_dict(cls, data: dict) -> GradeRecord:
        """A record from `to_dict()` output, including files written before newer fields."""
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
            failed_cells=[FailedCell(**c) for c in data.get("failed_cells", [])],
            evidence=dict(data.get("evidence", {})),
        )
