"""Reading answers.toml and handing checks typed, validated values.

`load_answers` reads the file (raising `AnswersError` with line and column
when it is not valid TOML). `AnswersSource` is what checks receive: the
parsed file or the reason there is none, so that every check can fail with
the same one-line explanation instead of a traceback.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from checks.answers.errors import AnswerError, AnswersError, AnswersLink
from checks.answers.language import Expression, parse_expression
from checks.answers.questions import Field, SectionSpec, section_for_part
from dlgrade.engine.paths import LinkRefused, read_regular
from dlgrade.records import PartStatus

FILE_NAME = "answers.toml"

_SIZE_SEPARATORS = re.compile(r"\s*(?:x|×|\*|,|by)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Answers:
    """The parsed file: the header keys and one table per section."""

    path: Path
    assignment: str | None
    student: str | None
    tables: Mapping[str, Mapping[str, Any]]
    warnings: tuple[str, ...] = ()


def load_answers(path: Path) -> Answers:
    """Read and parse `path`; raise `AnswersError` saying where the file is broken.

    A link is never followed (`AnswersLink`): a TOML-shaped secret of the
    grader's would otherwise be read, and quoted, as the student's answers.
    """
    try:
        text = read_regular(path).decode("utf-8")
    except LinkRefused as exc:
        raise AnswersLink(path, str(exc).replace(": not read", ": not graded")) from exc
    except OSError as exc:
        raise AnswersError(path, f"cannot be read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise AnswersError(path, "is not UTF-8 text") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AnswersError.from_toml_error(path, exc) from exc
    tables: dict[str, Mapping[str, Any]] = {}
    warnings = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables[key] = value
        elif key not in ("assignment", "student"):
            warnings.append(f"top-level key {key!r} belongs inside a [section]; it was ignored")
    return Answers(
        path=path,
        assignment=_optional_text(path, data, "assignment"),
        student=_optional_text(path, data, "student"),
        tables=tables,
        warnings=tuple(warnings),
    )


def _optional_text(path: Path, data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise AnswersError(path, f"{key} must be a quoted string, found {value!r}")
    return value


@dataclass(frozen=True)
class Section:
    """One section's values, read through the question's field specs."""

    spec: SectionSpec
    values: Mapping[str, Any]

    def has(self, key: str) -> bool:
        return key in self.values

    def raw(self, key: str) -> Any:
        self.spec.question.field(key)  # a harness bug if the key is not in the format
        if key not in self.values:
            present = ", ".join(sorted(self.values)) or "nothing"
            raise AnswerError(f"[{self.spec.name}] has no `{key}` (it has: {present})")
        return self.values[key]

    def what(self, key: str) -> str:
        return f"[{self.spec.name}] {key}"

    def expression(self, key: str) -> Expression:
        field = self._field(key, "expression")
        if field.vocabulary is None:
            raise TypeError(f"{self.what(key)}: an expression field needs a vocabulary")
        return parse_expression(self.raw(key), field.vocabulary, what=self.what(key))

    def number(self, key: str) -> float:
        self._field(key, "number")
        return _number(self.raw(key), self.what(key))

    def numbers(self, key: str) -> np.ndarray:
        field = self._field(key, "numbers")
        value = self.raw(key)
        if not isinstance(value, list):
            raise AnswerError(f"{self.what(key)}: expected a list [...] of numbers")
        numbers = np.array(
            [_number(v, f"{self.what(key)} entry {i + 1}") for i, v in enumerate(value)]
        )
        if field.count is not None and len(numbers) != field.count:
            raise AnswerError(
                f"{self.what(key)}: expected {field.count} numbers, found {len(numbers)}"
            )
        return numbers

    def boolean(self, key: str) -> bool:
        self._field(key, "boolean")
        value = self.raw(key)
        if not isinstance(value, bool):
            raise AnswerError(
                f"{self.what(key)}: write true or false without quotes, found {value!r}"
            )
        return value

    def text(self, key: str) -> str:
        self._field(key, "text")
        value = self.raw(key)
        if not isinstance(value, str):
            raise AnswerError(f"{self.what(key)}: expected text in quotes, found {value!r}")
        return value.strip()

    def size(self, key: str) -> tuple[str, ...]:
        """'n x d' -> ('n', 'd'); a lone 'd' is the column d x 1."""
        self._field(key, "size")
        value = self.raw(key)
        if not isinstance(value, str) or not value.strip():
            raise AnswerError(f'{self.what(key)}: expected a size in quotes such as "5 x 3"')
        dims = tuple(d for d in _SIZE_SEPARATORS.split(value.strip().strip("()[]")) if d)
        if not 1 <= len(dims) <= 2:
            raise AnswerError(f"{self.what(key)}: could not read {value!r} as rows x columns")
        return dims if len(dims) == 2 else (dims[0], "1")

    def _field(self, key: str, kind: str) -> Field:
        field = self.spec.question.field(key)
        if field.kind != kind:
            raise TypeError(f"{self.what(key)} is a {field.kind} field, not {kind}")
        return field


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AnswerError(f"{what}: expected a number without quotes, found {value!r}")
    return float(value)


@dataclass(frozen=True)
class AnswersSource:
    """What checks receive: the parsed answers for the edition graded, or why there are none."""

    assignment: str
    path: Path | None
    answers: Answers | None = None
    error: AnswersError | None = None

    @classmethod
    def load(cls, path: Path | None, assignment: str) -> AnswersSource:
        """Parse `path` once; a broken file is kept as `error` and reported by every check."""
        if path is None:
            return cls(assignment, None)
        try:
            return cls(assignment, path, answers=load_answers(path))
        except AnswersError as exc:
            return cls(assignment, path, error=exc)

    def problem(self) -> str | None:
        """Why no answers can be read, in one line; None when the file parsed."""
        if isinstance(self.error, AnswersLink):
            return self.error.detail
        if self.error is not None:
            return f"answers.toml could not be parsed: {self.error.detail}"
        if self.answers is None:
            return (
                "no answers.toml in the submission; create one with "
                f"`dlgrade template answers --assignment {self.assignment}`"
            )
        claimed = self.answers.assignment
        if claimed is not None and claimed != self.assignment:
            return f"answers.toml is for {claimed!r}, but this submission is graded as {self.assignment!r}"
        return None

    def section(self, part: str) -> Section:
        """The section that answers `part`; `AnswerError` (0 points, with the reason) otherwise."""
        spec = self._spec(part)
        problem = self.problem()
        if problem is not None:
            # An unreadable file is `malformed`; a missing or mismatched one is `failed`.
            unreadable = self.error is not None
            raise AnswerError(problem, PartStatus.MALFORMED if unreadable else PartStatus.FAILED)
        assert self.answers is not None
        if spec.name not in self.answers.tables:
            raise AnswerError(f"answers.toml has no [{spec.name}] section")
        return Section(spec, self.answers.tables[spec.name])

    def optional_section(self, part: str) -> Section | None:
        """Like `section`, but None when the file or section is absent (answers held elsewhere)."""
        spec = self._spec(part)
        if self.error is not None:
            raise AnswerError(self.problem() or "", PartStatus.MALFORMED)
        if self.answers is None or spec.name not in self.answers.tables:
            return None
        return self.section(part)

    def reported_test_accuracy(self, part: str = "4-reported") -> float:
        """The test accuracy (percent) the student says their problem-4 notebook reaches."""
        return self.section(part).number("reported_test_accuracy")

    def _spec(self, part: str) -> SectionSpec:
        spec = section_for_part(self.assignment, part)
        if spec is None:
            raise KeyError(f"part {part!r} of {self.assignment} has no answers.toml section")
        return spec
