"""Errors raised while reading answers.toml and the expressions inside it."""

from __future__ import annotations

import re
from pathlib import Path
from types import MappingProxyType

from checks.scoring import CheckFailed

_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
# tomllib's messages for the mistakes students make most, with what to do about them.
_HINTS = MappingProxyType(
    {
        "Illegal character '\\n'": ' (is a string not closed with " on this line?)',
        "Invalid value": " (put text in quotes; write true/false and numbers without quotes)",
    }
)


class AnswersError(ValueError):
    """The answers file as a whole cannot be used (unreadable or not valid TOML)."""

    def __init__(self, path: Path, reason: str, line: int | None = None, column: int | None = None):
        self.path = path
        self.reason = reason
        self.line = line
        self.column = column
        super().__init__(f"{path.name}: {self.detail}")

    @property
    def detail(self) -> str:
        """Where and what, without the file name: 'line 3, column 7: Illegal character'."""
        where = f"line {self.line}, column {self.column}: " if self.line is not None else ""
        hint = _HINTS.get(self.reason, "")
        return f"{where}{self.reason}{hint}"

    @classmethod
    def from_toml_error(cls, path: Path, error: Exception) -> AnswersError:
        """Split tomllib's "message (at line L, column C)" into its parts."""
        text = str(error)
        match = _TOML_POSITION.search(text)
        if match is None:
            return cls(path, text)
        reason = text[: match.start()].strip()
        return cls(path, reason, int(match.group(1)), int(match.group(2)))


class AnswersLink(AnswersError):
    """answers.toml is a link: refused unread (the grader reads only the hand-in's own files)."""

    @property
    def detail(self) -> str:
        return self.reason


class AnswerError(CheckFailed):
    """One answer is missing, of the wrong type, or not a valid expression.

    A `CheckFailed`, so a check that lets it propagate scores 0 with this
    message: the student's input is at fault, not the harness.
    """
