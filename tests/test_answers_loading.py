"""answers.toml loading: typed access, clear errors, and the generated template."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from checks.answers.errors import AnswerError, AnswersError
from checks.answers.loading import AnswersSource, load_answers
from checks.answers.template import render_template
from reference.assignments import load_assignment


def _source(tmp_path: Path, text: str, assignment: str = "fall2023") -> AnswersSource:
    path = tmp_path / "answers.toml"
    path.write_text(text, encoding="utf-8")
    return AnswersSource.load(path, assignment)


def test_toml_errors_carry_line_and_column(tmp_path):
    path = tmp_path / "answers.toml"
    path.write_text('assignment = "fall2023"\n[1a]\ngradient = "2*x\n', encoding="utf-8")
    with pytest.raises(AnswersError) as caught:
        load_answers(path)
    assert (caught.value.line, caught.value.column) == (3, 16)
    assert "string not closed" in caught.value.detail


def test_every_section_reports_a_broken_file(tmp_path):
    source = _source(tmp_path, "[1a\n")
    for part in ("1a", "3d"):
        with pytest.raises(AnswerError, match="answers.toml could not be parsed: line 1"):
            source.section(part)


def test_missing_file_and_section_and_key(tmp_path):
    with pytest.raises(AnswerError, match="no answers.toml.*dlgrade template answers"):
        AnswersSource.load(None, "fall2023").section("1a")
    source = _source(tmp_path, '[1a]\ngrad = "2*x"\n')
    with pytest.raises(AnswerError, match=r"answers.toml has no \[1b\] section"):
        source.section("1b")
    with pytest.raises(AnswerError, match=r"\[1a\] has no `gradient` \(it has: grad\)"):
        source.section("1a").expression("gradient")


def test_edition_mismatch_is_reported(tmp_path):
    source = _source(tmp_path, 'assignment = "spring2023"\n[1a]\ngradient = "2*x"\n')
    with pytest.raises(AnswerError, match="is for 'spring2023'.*graded as 'fall2023'"):
        source.section("1a")


def test_typed_values(tmp_path):
    source = _source(
        tmp_path,
        '[2a]\nloss = "norm(X@w - y, 1)"\nX = "N × D"\nw = "d"\ny = "(n, 1)"\n'
        '[2b]\nclosed_form = "no"\n[3c]\nf = "-3"\n[3d]\ngrad_f = [1, 2]\n',
    )
    section = source.section("2a")
    assert section.size("X") == ("N", "D")
    assert section.size("w") == ("d", "1")
    assert section.size("y") == ("n", "1")
    with pytest.raises(AnswerError, match="write true or false without quotes"):
        source.section("2b").boolean("closed_form")
    with pytest.raises(AnswerError, match="expected a number without quotes"):
        source.section("3c").number("f")
    with pytest.raises(AnswerError, match="expected 13 numbers, found 2"):
        source.section("3d").numbers("grad_f")


def test_reported_accuracy_accessor(tmp_path):
    source = _source(tmp_path, "[4]\nreported_test_accuracy = 89.28\n", "spring2023")
    assert source.reported_test_accuracy() == pytest.approx(89.28)


def test_optional_section_for_answers_kept_in_notebooks(tmp_path):
    source = _source(tmp_path, "[3a]\ndataset1 = [" + ", ".join(["1"] * 13) + "]\n")
    section = source.optional_section("3a-1")
    assert section is not None
    np.testing.assert_array_equal(section.numbers("dataset1"), np.ones(13))
    assert not section.has("dataset2")
    assert _source(tmp_path, "").optional_section("3a-2") is None


@pytest.mark.parametrize("edition", ["fall2023", "spring2023"])
def test_template_is_valid_toml_with_a_section_per_answered_part(edition, tmp_path):
    assignment = load_assignment(edition)
    source = _source(tmp_path, render_template(assignment), edition)
    assert source.error is None
    assert source.answers is not None
    assert source.answers.assignment == edition
    # The unfilled template gives the student a clear message, not a crash.
    first = assignment.parts[0].id
    with pytest.raises(AnswerError):
        section = source.section(first)
        for field in section.spec.question.fields:
            if field.kind == "expression":
                section.expression(field.key)
