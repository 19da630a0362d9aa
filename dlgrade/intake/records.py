"""What reading a class produces: one `HandIn` per submission, and what was left over."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dlgrade.records import Identity, IntakeSummary


@dataclass(frozen=True)
class HandIn:
    """One submission as the LMS delivered it, laid out as a folder discovery can read."""

    key: str  # OUT/<key> and the `student` column of grades.csv
    folder: Path  # the files, under their original names
    identities: tuple[Identity, ...] = ()  # several for a group submission
    late: bool = False
    origin: str = ""  # where in the input it came from, for messages
    # Why the upload could not be read whole ("" when it could): the student is not
    # graded but gets a record saying why (dlgrade.intake.refused).
    refused: str = ""


@dataclass(frozen=True)
class ClassInput:
    """A class folder or LMS export, read."""

    layout: str  # "folders", "gradescope", "canvas" or "classroom"
    source: Path
    hand_ins: dict[str, HandIn]
    unassigned: tuple[str, ...] = ()  # files that belong to no submission (relative to source)
    notes: tuple[str, ...] = ()

    def folders(self) -> dict[str, Path]:
        """Student key -> folder, what the batch grades."""
        return {key: hand_in.folder for key, hand_in in self.hand_ins.items()}

    def summary(self) -> IntakeSummary:
        return IntakeSummary(
            layout=self.layout,
            source=str(self.source),
            unassigned=self.unassigned,
            notes=self.notes,
            refused={key: h.refused for key, h in self.hand_ins.items() if h.refused},
        )


class IntakeError(Exception):
    """The input cannot be read as a class: the message says what was expected and found."""
