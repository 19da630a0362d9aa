"""The review desk in headless Chromium: grade parts by keyboard, with rubric keys.

Same driver setup as tests/test_browser_report.py. The server is uvicorn in a
thread of the test process, on a socket bound before it starts (so no waiting).
The rubric test also takes the README's picture of the desk, docs/review-desk.png.
"""

from __future__ import annotations

import csv
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from chromium import CHROMEDRIVER, CHROMIUM, headless_chromium

uvicorn = pytest.importorskip("uvicorn", reason="uvicorn is not installed")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

from dlgrade.grading.outputs import rebuild_reports, write_student_outputs  # noqa: E402
from dlgrade.records import CheckResult, GradeRecord  # noqa: E402
from dlgrade.review.app import create_app  # noqa: E402
from dlgrade.review.desk import Desk  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian chromium and chromium-driver at /usr/bin (apt-get install chromium "
    "chromium-driver)",
)
TOKEN = "browser-token"
TEXTS = {"ann": "The gap between the curves.", "ben": "<script>document.title='pwned'</script>"}
SHOT = Path(__file__).resolve().parents[1] / "docs" / "review-desk.png"
# What student text might try in the TA's browser; the desk must show it as text.
ATTACK = (
    "<script>alert('pwned')</script><img src=x onerror=\"document.body.dataset.pwned=1\">"
    "\n\n<iframe src=javascript:alert(2)></iframe> [click](javascript:alert(3))"
)
COMMENTS = {  # problem 4's comment; dan's is ann's with other case and spacing
    "ann": "The **test loss** rises after epoch 8 while the training loss falls: the net "
    "*overfits*. Test accuracy is 88.6 %, in line with such a net. The boot is sure (0.99), "
    "the shirt is mistaken for a T-shirt.",
    "ben": ATTACK,
    "cat": "Accuracy is 85 %.",
    "dan": "The test loss rises after epoch 8 while the training loss falls: the net "
    "overfits. Test accuracy is 88.6 %, in line with such a net. The boot is sure (0.99), "
    "the shirt is mistaken for a T-shirt.",
}


def _record(student: str) -> GradeRecord:
    result = CheckResult(
        "2c",
        "reflection",
        0.0,
        4.0,
        "manual",
        "awaiting TA review",
        details={"text": TEXTS[student]},
    )
    return GradeRecord(student, "fall2023", [result])


def _problem4(student: str) -> GradeRecord:
    from reports.plots import line_plot

    curves = {"train": [0.6, 0.4, 0.3, 0.25, 0.2], "test": [0.55, 0.42, 0.38, 0.4, 0.45]}
    figure = line_plot(curves, title="loss per epoch", xlabel="epoch", ylabel="loss")
    text = {"text": COMMENTS[student], "images": [figure]}
    results = [
        CheckResult("4-acc", "test accuracy", 5.0, 5.0, "passed", "test accuracy 88.6 %"),
        CheckResult("4-comment", "comment", 0.0, 5.0, "manual", "awaiting TA review", details=text),
    ]
    return GradeRecord(student, "fall2023", results)


def _serve(tmp_path: Path, records: list[GradeRecord]):
    """Write OUT as `dlgrade grade` leaves it for `records`, then serve the desk on it in a
    thread; yields (OUT, base URL)."""
    out = tmp_path / "out"
    for record in records:
        write_student_outputs(out, record)
    rebuild_reports(out)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    app = create_app(Desk(out, ta="tess"), TOKEN)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield out, f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=30)
    sock.close()


@pytest.fixture
def served(tmp_path: Path):
    """(OUT, base URL) of a desk on problem 2c's reflection of two students."""
    yield from _serve(tmp_path, [_record(student) for student in TEXTS])


@pytest.fixture
def served4(tmp_path: Path):
    """(OUT, base URL) of a desk on problem 4's comment of four students."""
    yield from _serve(tmp_path, [_problem4(student) for student in COMMENTS])


@pytest.fixture
def browser(tmp_path_factory: pytest.TempPathFactory):
    driver = headless_chromium(tmp_path_factory.mktemp("chromium-profile"), 1200)
    yield driver
    driver.quit()


from selenium.webdriver.common.keys import Keys  # noqa: E402


def _keys(browser, keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys(keys).perform()


def _on(browser, student: str, state: str = "") -> None:
    """Wait (bounded) until the page shows `student`'s answer, its state starting `state`
    (after a save that stays on the same student, only the state tells the pages apart)."""
    from selenium.common.exceptions import JavascriptException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # One script reads both, so a navigation cannot fall between the two reads.
    read = (
        "var s = document.getElementById('student'), t = document.getElementById('state');"
        "return s && t && document.readyState === 'complete' ? [s.textContent, t.textContent]"
        " : null;"
    )

    def shown(d) -> bool:
        found = d.execute_script(read)
        return bool(found) and found[0] == student and found[1].strip().startswith(state)

    ignored = (JavascriptException, StaleElementReferenceException)
    WebDriverWait(browser, 30, ignored_exceptions=ignored).until(shown)


def _state(browser) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, "state").text


def test_grade_a_part_for_two_students_by_keyboard(served, browser):
    from selenium.webdriver.common.by import By

    out, base = served
    browser.get(f"{base}/part/2c?token={TOKEN}")
    _on(browser, "ann", "awaiting")
    _keys(browser, "p3" + Keys.ENTER)  # p: points field; Enter saves and moves on
    _on(browser, "ben", "awaiting")
    assert browser.find_element(By.ID, "answer").text == TEXTS["ben"]  # shown, not run
    assert browser.title != "pwned"
    _keys(browser, "p")
    browser.find_element(By.ID, "comment").send_keys("see the rubric")
    _keys(browser, Keys.ESCAPE + "p" + "1" + Keys.ENTER)
    _on(browser, "ben", "graded")  # the last student: the desk stays on it, now graded
    assert _state(browser).startswith("graded: 1 / 4 by tess")
    _keys(browser, "k")
    _on(browser, "ann", "graded")
    browser.refresh()
    _on(browser, "ann")
    assert _state(browser).startswith("graded: 3 / 4 by tess")

    grades = {s: json.loads((out / s / "grade.json").read_text())["results"][0] for s in TEXTS}
    assert [grades[s]["points"] for s in ("ann", "ben")] == [3.0, 1.0]
    assert grades["ben"]["details"]["manual_review"]["comment"] == "see the rubric"
    rows = {row["student"]: row for row in csv.DictReader((out / "grades.csv").open())}
    assert (float(rows["ann"]["2c"]), float(rows["ben"]["2c"])) == (3.0, 1.0)


def test_the_class_page_link_opens_the_running_desk(served, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from dlgrade.review.link import desk_link

    out, base = served
    with desk_link(out, f"{base}/?token={TOKEN}"):
        browser.get((out / "index.html").as_uri())
        browser.find_element(By.CSS_SELECTOR, '#review-desk a[href="review-desk.html"]').click()
        WebDriverWait(browser, 30).until(lambda b: b.current_url.startswith(base))
        assert "2c" in browser.find_element(By.TAG_NAME, "body").text


def test_the_desk_refuses_a_browser_without_the_token(served, browser):
    from selenium.webdriver.common.by import By

    _, base = served
    browser.get(f"{base}/part/2c")
    assert "forbidden" in browser.find_element(By.TAG_NAME, "body").text


def _review(out: Path, student: str) -> dict:
    results = json.loads((out / student / "grade.json").read_text())["results"]
    return next(r for r in results if r["part"] == "4-comment")


def test_grade_the_comment_of_every_student_with_rubric_keys(served4, browser):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    out, base = served4
    browser.get(f"{base}/part/4-comment?token={TOKEN}")
    _on(browser, "ann", "awaiting")
    assert "dan" in browser.find_element(By.ID, "group").text  # the same comment, grouped
    SHOT.parent.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(SHOT))
    _keys(browser, "12")  # two rubric items: 2 + 2 points, shown in the points field
    assert browser.find_element(By.ID, "points").get_attribute("value") == "4"
    _keys(browser, Keys.ENTER)
    _on(browser, "ben", "awaiting")  # dan was decided with ann: the desk skips him
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 (reading it is the check)
    injected = "#answer script, #answer img, #answer iframe, #answer a"
    assert browser.execute_script(f"return document.querySelectorAll('{injected}').length") == 0
    assert browser.execute_script("return document.body.dataset.pwned") is None
    assert "<script>alert('pwned')</script>" in browser.find_element(By.ID, "answer").text
    _keys(browser, "4" + Keys.ENTER)  # "No comment", 0 points
    _on(browser, "cat", "awaiting")
    _keys(browser, "2" + "3" + Keys.ENTER)
    _on(browser, "dan", "graded")
    browser.refresh()
    _on(browser, "dan")
    assert _state(browser).startswith("graded: 4 / 5 by tess")

    points = {s: _review(out, s)["points"] for s in COMMENTS}
    assert points == {"ann": 4.0, "ben": 0.0, "cat": 3.0, "dan": 4.0}
    review = _review(out, "dan")["details"]["manual_review"]
    assert (
        review["rubric"] == ["Reads the curves", "Accuracy in context"] and review["ta"] == "tess"
    )
    rows = {
        row["student"]: float(row["4-comment"])
        for row in csv.DictReader((out / "grades.csv").open())
    }
    assert rows == points
    assert "graded by a TA" in (out / "cat" / "report.html").read_text()
    export = out / "canvas.csv"
    command = [sys.executable, "-m", "dlgrade", "export", "canvas", str(out)]
    subprocess.run([*command, "--assignment-column", "HW1 (7)", "-o", str(export)], check=True)
    totals = {row["Student"]: row["HW1 (7)"] for row in csv.DictReader(export.open())}
    assert totals == {"ann": "9", "ben": "5", "cat": "8", "dan": "9"}  # 4-acc's 5 and the TA's


def test_two_pages_save_the_same_answer_the_later_one_gets_the_conflict(served, browser):
    from selenium.webdriver.common.by import By

    out, base = served
    url = f"{base}/part/2c?token={TOKEN}&student=ann"
    browser.get(url)
    _on(browser, "ann", "awaiting")
    first = browser.current_window_handle
    browser.switch_to.new_window("tab")  # a second TA, same answer
    browser.get(url)
    _on(browser, "ann", "awaiting")
    _keys(browser, "p4" + Keys.ENTER)
    _on(browser, "ben")
    browser.switch_to.window(first)
    _keys(browser, "p1" + Keys.ENTER)
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "conflict"))
    conflict = browser.find_element(By.ID, "conflict").text
    assert "4 / 4" in conflict and "Yours, not saved: 1 points" in conflict
    assert json.loads((out / "ann" / "grade.json").read_text())["results"][0]["points"] == 4.0
