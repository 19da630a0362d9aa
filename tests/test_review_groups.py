"""The review desk's groups: near-identical answers decided once, all or none."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip(
    "starlette.testclient", reason="starlette and httpx are not installed (pip install -e .[dev])"
)

from review_desk_pages import (  # noqa: E402
    TOKEN,
    desk_client,
    form_version,
    graded_out,
    group_members,
    part_page,
    part_result,
    save_part,
    write_answer,
)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return graded_out(tmp_path)


@pytest.fixture
def client(out: Path):
    return desk_client(out)


def test_near_identical_answers_are_grouped_and_one_decision_applies_to_each(client, out):
    write_answer(out, "dan", "overfitting shows as the GAP")  # ann's answer, case and dot aside
    write_answer(out, "eve", "Overfitting shows as a gap!")
    page = part_page(client, "ann")
    assert [m.split()[0] for m in group_members(page)] == ["dan", "eve"]
    assert 'name="next" value="ben"' in page  # after the group, the next other answer
    saved = save_part(
        client, "ann", "3", "same", form_version(page), member=group_members(page), next="ben"
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("student=ben")
    for student in ("ann", "dan", "eve"):
        review = part_result(out, student)["details"]["manual_review"]
        assert (review["points"], review["comment"]) == (3.0, "same"), student
    assert part_result(out, "cat")["status"] == "manual"
    assert [m.split()[0] for m in group_members(part_page(client, "dan"))] == ["ann", "eve"]


def test_a_group_decision_with_one_stale_member_writes_nobody(client, out):
    write_answer(out, "dan", "Overfitting shows as the gap.")
    page = part_page(client, "ann")
    assert (
        save_part(client, "dan", "1", "", form_version(part_page(client, "dan"))).status_code == 303
    )
    before = (out / "ann" / "grade.json").read_bytes()
    response = save_part(client, "ann", "4", "", form_version(page), member=group_members(page))
    assert response.status_code == 409 and "dan" in response.text
    assert (out / "ann" / "grade.json").read_bytes() == before


def test_grouping_normalises_and_keeps_different_or_empty_answers_apart():
    from dlgrade.review.groups import group_texts

    texts = [
        "The loss falls.",
        "",
        "the  LOSS falls",
        "Something else entirely",
        "",
        "The los falls",
    ]
    assert group_texts(texts) == [[0, 2, 5], [1], [3], [4]]


def test_progress_counts_a_group_decision_for_each_member(client, out):
    write_answer(out, "dan", "Overfitting shows as the gap.")
    page = part_page(client, "ann")
    assert "0 of 4 done" in page
    save_part(client, "ann", "4", "", form_version(page), member=group_members(page))
    assert "2 of 4 done" in part_page(client, "cat")
    assert re.search(r">2c<.*?2 / 4", client.get("/", params={"token": TOKEN}).text, re.S)
