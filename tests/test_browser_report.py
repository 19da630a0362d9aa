"""The HTML reports as a TA sees them: a real batch run, opened in headless Chromium.

Screenshots go to a temporary folder, and also to $DLGRADE_SHOTS when set
(e.g. /tmp/dlgrade-shots) so a person can look at the layout.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from batch_standin import write_standin_checks, write_submission
from chromium import CHROMEDRIVER, CHROMIUM, headless_chromium

from dlgrade.cli import main

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian chromium and chromium-driver at /usr/bin (apt-get install chromium "
    "chromium-driver)",
)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """OUT of a real `dlgrade grade` run over three stand-in submissions."""
    root = tmp_path_factory.mktemp("browser")
    checks = write_standin_checks(root / "checks")
    write_submission(root / "class", "alice", score=1.0)
    write_submission(
        root / "class",
        "bob",
        score=0.5,
        observations=[
            {"source": "hw1p4.ipynb", "kind": "timeout", "message": "cell 12 ran past 600 s"},
            {"source": "hw1p4.ipynb", "kind": "cuda-on-cpu", "message": "cuda mapped to CPU"},
        ],
        verdicts={"5-q4": ["error", "harness error (KeyError: 'w0'); please report it"]},
        failed_cells=[
            {
                "source": "hw1p5.ipynb",
                "cell": 12,
                "first_line": "from tensorflow.python.ops.gen_array_ops import one_hot",
                "error": "ModuleNotFoundError: No module named 'tensorflow.python'",
            }
        ],
    )
    write_submission(root / "class", "carol", exit=3)
    out = root / "out"
    argv = ["grade", str(root / "class"), "--out", str(out), "--checks", str(checks)]
    assert main([*argv, "--jobs", "2", "--no-progress", "--no-similarity"]) == 0
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    driver = headless_chromium(tmp_path_factory.mktemp("chromium-profile"), 2400)
    yield driver
    driver.quit()


def _open(browser, page: Path, shot: Path) -> str:
    """Load `page`, save a full screenshot, return the rendered text."""
    from selenium.webdriver.common.by import By

    browser.get(page.as_uri())
    assert browser.save_screenshot(str(shot)), f"no screenshot of {page}"
    assert shot.stat().st_size > 10_000, "screenshot is suspiciously small (blank page?)"
    shots = os.environ.get("DLGRADE_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(shots) / shot.name)
    return browser.find_element(By.TAG_NAME, "body").text


def _broken_images(browser) -> list[str]:
    return browser.execute_script(
        "return Array.from(document.images)"
        ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt);"
    )


def test_student_report_renders_score_parts_plots_and_observations(graded, browser, tmp_path):
    text = _open(browser, graded / "bob" / "report.html", tmp_path / "student-report.png")
    assert "bob" in text
    assert "13 / 34" in text  # 6 + 2 + 5 + 0 + 0 (5-q4: harness error) of 6 + 4 + 10 + 4 + 10
    assert "feed_forward_sample" in text and "5 / 10" in text
    assert "timeout" in text and "cell 12 ran past 600 s" in text
    assert "The grader failed on 5-q4." in text
    assert "Cells that failed" in text
    assert (
        "hw1p5.ipynb 12 from tensorflow.python.ops.gen_array_ops import one_hot "
        "ModuleNotFoundError: No module named 'tensorflow.python'"
    ) in text
    assert "What the student wrote" in text
    images = browser.execute_script("return document.images.length;")
    assert images >= 2  # the loss-curve plot and the student's figure
    assert _broken_images(browser) == []


def test_error_report_says_why(graded, browser, tmp_path):
    text = _open(browser, graded / "carol" / "report.html", tmp_path / "error-report.png")
    assert "Grading did not complete" in text
    assert "exited with code 3" in text


def test_class_index_renders_distribution_flags_and_links(graded, browser, tmp_path):
    from selenium.webdriver.common.by import By

    text = _open(browser, graded / "index.html", tmp_path / "class-index.png")
    assert "3 submissions" in text
    assert "grading-error in harness: the grading process exited with code 3" in text
    assert "timeout in hw1p4.ipynb" in text
    assert "harness errors: 2 (1 part(s), 1 whole run(s); 2 submission(s))" in text
    assert "harness error in 5-q4" in text
    assert _broken_images(browser) == []
    links = {a.text: a.get_attribute("href") for a in browser.find_elements(By.TAG_NAME, "a")}
    assert links["alice"].endswith("alice/report.html")
    browser.get(links["alice"])  # the link works from the index
    assert "30 / 34" in browser.find_element(By.TAG_NAME, "body").text
