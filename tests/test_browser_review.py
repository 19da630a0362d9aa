"""The review desk in headless Chromium: grade a part for two students by keyboard.

Same driver setup as tests/test_browser_report.py. The server is uvicorn in a
thread of the test process, on a socket bound before it starts (so no waiting).
"""

from __future__ import annotations

import csv
import json
import socket
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


@pytest.fixture
def served(tmp_path: Path):
    """(OUT, base URL) of a desk served by uvicorn in a thread."""
    out = tmp_path / "out"
    for student in TEXTS:
        write_student_outputs(out, _record(student))
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
def browser(tmp_path_factory: pytest.TempPathFactory):
    driver = headless_chromium(tmp_path_factory.mktemp("chromium-profile"), 1200)
    yield driver
    driver.quit()


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
    from selenium.webdriver.common.keys import Keys

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


def test_the_desk_refuses_a_browser_without_the_token(served, browser):
    from selenium.webdriver.common.by import By

    _, base = served
    browser.get(f"{base}/part/2c")
    assert "forbidden" in browser.find_element(By.TAG_NAME, "body").text
