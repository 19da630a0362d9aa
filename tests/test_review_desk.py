"""`dlgrade review OUT`: the review desk, over HTTP on a hand-built graded OUT."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip(
    "starlette.testclient", reason="starlette and httpx are not installed (pip install -e .[dev])"
)

from review_desk_pages import (  # noqa: E402
    TEXTS,
    TOKEN,
    desk_client,
    form_version,
    graded_out,
    part_page,
    part_result,
    record_of,
    save_part,
    write_answer,
)

from dlgrade.grading.outputs import write_student_outputs  # noqa: E402
from dlgrade.records import CheckResult, GradeRecord  # noqa: E402
from dlgrade.review.desk import Desk  # noqa: E402


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return graded_out(tmp_path)


@pytest.fixture
def client(out: Path):
    return desk_client(out)


def test_requests_without_the_token_are_refused(client):
    for url in ("/", "/?token=wrong", "/part/2c", "/part/2c?student=ann"):
        assert client.get(url).status_code == 403, url
    assert (
        client.post("/part/2c?student=ann", data={"points": "4", "version": "x"}).status_code == 403
    )
    assert client.get("/", params={"token": TOKEN}).status_code == 200


def test_index_shows_progress_per_part(client):
    page = client.get("/", params={"token": TOKEN}).text
    assert re.search(r">2c<.*?0 / 3", page, re.S)
    assert re.search(r">4-comment<.*?0 / 3", page, re.S)
    assert ">2b<" not in page  # auto-graded parts are not on the desk


def test_a_saved_decision_lands_in_grade_json_grades_csv_and_the_report(client, out):
    response = save_part(client, "ben", "3", "good point", form_version(part_page(client, "ben")))
    assert response.status_code == 303
    result = part_result(out, "ben")
    assert (result["points"], result["status"]) == (3.0, "partial")
    review = result["details"]["manual_review"]
    assert (review["points"], review["comment"], review["ta"]) == (3.0, "good point", "tess")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", review["at"])
    rows = {row["student"]: row for row in csv.DictReader((out / "grades.csv").open())}
    assert float(rows["ben"]["2c"]) == 3.0 and float(rows["ann"]["2c"]) == 0.0
    assert "graded by a TA: good point" in (out / "ben" / "report.html").read_text()
    assert part_result(out, "ann")["status"] == "manual"  # the others untouched
    assert re.search(r">2c<.*?1 / 3", client.get("/", params={"token": TOKEN}).text, re.S)
    assert "graded: 3 / 4 by tess" in part_page(client, "ben")


def test_a_stale_write_is_refused_with_the_newer_value(client, out):
    version = form_version(part_page(client, "ann"))  # two TAs load the same answer
    assert save_part(client, "ann", "4", "first TA", version).status_code == 303
    response = save_part(client, "ann", "1", "second TA", version)
    assert response.status_code == 409
    assert "4 / 4" in response.text and "first TA" in response.text
    assert part_result(out, "ann")["details"]["manual_review"]["comment"] == "first TA"


def test_out_of_range_points_are_refused_and_nothing_is_written(client, out):
    before = (out / "cat" / "grade.json").read_bytes()
    response = save_part(client, "cat", "5", "", form_version(part_page(client, "cat")))
    assert response.status_code == 400 and "outside 0..4" in response.text
    assert (out / "cat" / "grade.json").read_bytes() == before


def test_student_html_renders_as_text(client):
    page = part_page(client, "ben")
    assert "<script>document.title" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in page
    policy = client.get("/part/2c", params={"token": TOKEN}).headers["content-security-policy"]
    assert "script-src 'nonce-" in policy and "unsafe-inline" not in policy.split("style-src")[0]


def test_the_command_serves_the_printed_url_only_with_its_token(out):
    command = [sys.executable, "-m", "dlgrade", "review", str(out), "--ta", "tess"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+/\?token=\S+", proc.stdout.readline()).group(0)
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200 and "2c" in response.read().decode()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url.split("?")[0], timeout=30)
        assert refused.value.code == 403
        link = out / "review-desk.html"
        assert url.replace("&", "&amp;") in link.read_text()  # the class page's way in
        assert link.stat().st_mode & 0o777 == 0o600  # the token opens the desk: owner only
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # stopped, the link says how to start the desk and opens nothing
    stopped = link.read_text()
    assert "not running" in stopped and "token=" not in stopped


def test_the_command_refuses_a_folder_that_was_not_graded(tmp_path, capsys):
    from dlgrade.cli import main

    assert main(["review", str(tmp_path)]) == 2
    assert "not an output folder" in capsys.readouterr().err


def test_a_part_without_text_points_to_the_report_and_an_unknown_part_is_404(client):
    page = client.get("/part/4-comment", params={"token": TOKEN})
    assert page.status_code == 200 and "No text recorded" in page.text
    assert client.get("/part/2b", params={"token": TOKEN}).status_code == 404  # auto-graded


def test_a_port_in_use_is_an_error_not_a_traceback(out, capsys):
    import socket

    from dlgrade.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["review", str(out), "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_a_student_folder_name_that_is_not_utf8_is_graded_and_kept(client, out):
    name = b"caf\xe9".decode("utf-8", "surrogateescape")  # as Linux hands such a folder to Python
    record = record_of("cat")
    write_student_outputs(out, GradeRecord(name, record.assignment, record.results))
    page = part_page(client, "ben")
    after = re.search(r'name="next" value="([^"]*)"', page).group(1)
    assert after == "caf%E9"  # ben's next, the folder's very bytes
    saved = client.post(
        f"/part/2c?token={TOKEN}&student=ben",
        data={"points": "2", "version": form_version(page), "next": after},
        follow_redirects=False,
    )
    assert saved.headers["location"].endswith("&student=caf%E9")
    assert "caf\\xe9" in client.get(saved.headers["location"]).text  # shown, readable
    assert (
        save_part(client, name, "1", "", form_version(part_page(client, name))).status_code == 303
    )
    assert part_result(out, name)["points"] == 1.0


def test_two_saves_of_the_same_answer_at_once_one_wins_one_is_stale(out):
    import threading

    from dlgrade.review.desk import StaleDecision

    desk = Desk(out)
    version = desk.current("ann", "2c").version
    start, outcomes = threading.Barrier(2), []

    def save(points: float) -> None:
        start.wait()
        try:
            outcomes.append(desk.decide("ann", "2c", points, "", version).result.points)
        except StaleDecision as stale:
            outcomes.append(("stale", stale.current.result.points))

    threads = [threading.Thread(target=save, args=(p,)) for p in (1.0, 2.0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winner = next(o for o in outcomes if not isinstance(o, tuple))
    assert sorted(outcomes, key=str) == sorted([winner, ("stale", winner)], key=str)
    assert part_result(out, "ann")["points"] == winner


def test_student_markdown_is_rendered_and_its_html_links_and_images_stay_text(client, out):
    text = "**Loss** falls\n\n<img src=x onerror=alert(1)> [site](http://evil.example) ![i](x.png)"
    write_answer(out, "dan", text)
    page = part_page(client, "dan")
    assert "<strong>Loss</strong>" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    assert "http://evil.example" in page and '<a href="http://evil.example' not in page
    assert 'src="x.png"' not in page
    headers = client.get("/part/2c", params={"token": TOKEN}).headers
    assert headers["referrer-policy"] == "no-referrer"  # the token never leaves in a Referer


def test_figures_and_what_the_checks_found_are_shown(client, out):
    png = "data:image/png;base64,iVBORw0KGgo="
    record = record_of("ann")
    comment = CheckResult(
        "4-comment", "comment", 0.0, 2.0, "manual", "found under the last figure",
        details={"text": "ok", "images": [png], "where": "markdown cell 12"},
    )  # fmt: skip
    accuracy = CheckResult("4-acc", "accuracy", 3.0, 5.0, "partial", "test accuracy 81 %\\nmore")
    results = [*record.results[:2], comment, accuracy]
    write_student_outputs(out, GradeRecord("ann", record.assignment, results))
    page = client.get("/part/4-comment", params={"token": TOKEN, "student": "ann"}).text
    assert f'<img src="{png}"' in page
    assert "found under the last figure" in page and "markdown cell 12" in page
    assert re.search(r"<b>4-acc</b> partial 3 / 5: test accuracy 81 %", page)


def test_the_rubric_of_the_manifest_is_shown_with_its_keys(client):
    page = part_page(client, "ann")  # the records are fall2023's, whose 2c has a rubric
    assert re.search(r'value="Full reflection" data-points="4.0" data-key="1"', page)
    assert re.search(r'value="No reflection" data-points="0.0" data-key="3"', page)


def test_a_rubric_item_gives_its_points_and_the_decision_records_who_when_what(client, out):
    version = form_version(part_page(client, "ben"))
    response = save_part(client, "ben", "", "short", version, rubric=["Partly argued"])
    assert response.status_code == 303
    result = part_result(out, "ben")
    assert (result["points"], result["status"]) == (2.0, "partial")
    review = result["details"]["manual_review"]
    assert review["rubric"] == ["Partly argued"]
    assert (review["ta"], review["comment"]) == ("tess", "short") and review["at"]
    assert 'value="Partly argued" data-points="2.0" data-key="2" checked' in part_page(
        client, "ben"
    )


def test_an_unknown_rubric_item_or_no_points_at_all_is_refused(client, out):
    before = (out / "ben" / "grade.json").read_bytes()
    version = form_version(part_page(client, "ben"))
    refused = save_part(client, "ben", "", "", version, rubric=["Made up"])
    assert refused.status_code == 400 and "no rubric item ['Made up']" in refused.text
    assert save_part(client, "ben", "", "", version).status_code == 400
    assert (out / "ben" / "grade.json").read_bytes() == before


def test_the_class_page_shows_what_awaits_the_desk(client, out):
    page = (out / "index.html").read_text()
    assert re.search(
        r'id="review-desk">Awaiting a TA: <b>2c</b> 3 pending, <b>4-comment</b> 3', page
    )
    for student in TEXTS:
        save_part(client, student, "4", "", form_version(part_page(client, student)))
    page = (out / "index.html").read_text()
    assert "<b>2c</b>" not in page.split('id="review-desk"')[1].split("</p>")[0]
    assert "<b>4-comment</b> 3 pending" in page
    assert '<a href="review-desk.html">' in page.split('id="review-desk"')[1].split("</p>")[0]


def test_the_exports_carry_the_desk_decisions(client, out):
    for student, points in (("ann", "3"), ("ben", "1.5"), ("cat", "0")):
        assert (
            save_part(
                client, student, points, "", form_version(part_page(client, student))
            ).status_code
            == 303
        )
    canvas, scores = out / "canvas.csv", out / "gradescope.csv"
    run = [sys.executable, "-m", "dlgrade", "export"]
    column = ["--assignment-column", "HW1 (101)"]
    subprocess.run([*run, "canvas", str(out), *column, "-o", str(canvas)], check=True)
    subprocess.run([*run, "gradescope-manual", str(out), "-o", str(scores)], check=True)
    totals = {row["Student"]: row["HW1 (101)"] for row in csv.DictReader(canvas.open())}
    assert totals == {"ann": "7", "ben": "5.5", "cat": "4"}  # 2b's 4 points and the TA's
    rows = {row["Name"]: row["Total Score"] for row in csv.DictReader(scores.open())}
    assert rows == {"ann": "7", "ben": "5.5", "cat": "4"}


@pytest.mark.parametrize(
    ("item", "error"),
    [
        ('label = "Too much"\npoints = 5', "points = 5 is outside 0..4"),
        ('label = ""\npoints = 1', "label must be a non-empty string"),
        ('label = "x"\npoints = 1\nweight = 2', "needs label and points"),
    ],
)
def test_a_bad_rubric_item_fails_the_manifest_at_load_time(tmp_path, item, error):
    from reference.manifest import ManifestError, load_manifest

    path = tmp_path / "course.toml"
    path.write_text(
        'id = "course"\ntitle = "t"\n[[parts]]\nid = "2c"\nproblem = "l1_regression"\n'
        f'title = "r"\npoints = 4\ngrading = "manual"\n[[parts.rubric]]\n{item}\n'
    )
    with pytest.raises(ManifestError, match=re.escape(error)):
        load_manifest(path)


def test_rubric_items_add_up_to_at_most_the_parts_points(client, out):
    labels = ["Full reflection", "Partly argued"]  # 4 + 2 points on a 4-point part
    assert (
        save_part(
            client, "cat", "", "", form_version(part_page(client, "cat")), rubric=labels
        ).status_code
        == 303
    )
    assert (part_result(out, "cat")["points"], part_result(out, "cat")["status"]) == (4.0, "passed")


def test_after_a_save_the_desk_goes_to_the_next_answer_still_pending(client, out):
    write_answer(out, "dan", "Overfitting shows as the gap.")  # ann's group
    page = part_page(client, "ann")
    alone = save_part(client, "ann", "2", "", form_version(page), next="ben")  # dan left out
    assert alone.headers["location"].endswith("student=ben")
    assert (
        save_part(client, "cat", "1", "", form_version(part_page(client, "cat")))
        .headers["location"]
        .endswith("student=dan")
    )  # after cat, dan (still pending)
    assert (
        save_part(client, "dan", "1", "", form_version(part_page(client, "dan")))
        .headers["location"]
        .endswith("student=ben")
    )  # round to the start: ben is the one left


def test_a_save_renders_only_the_decided_students_report_and_the_class_files(client, out):
    for path in (out / "ann" / "report.html", out / "ben" / "report.html", out / "index.html"):
        path.unlink()
    assert (
        save_part(client, "ben", "2", "", form_version(part_page(client, "ben"))).status_code == 303
    )
    assert (out / "ben" / "report.html").is_file() and (out / "index.html").is_file()
    assert not (out / "ann" / "report.html").exists()  # ann's record did not change
