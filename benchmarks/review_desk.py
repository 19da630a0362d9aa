"""How many keystrokes the review desk takes to grade every manual part of a class.

    python benchmarks/review_desk.py OUT [--read-s 15]

OUT is a graded folder (e.g. `dlgrade grade submissions/examples --out OUT
--problems p2,p4 --quick`); it is copied first, so its pending parts stay
pending. The desk is served on the copy and headless Chromium (Debian's
chromium and chromedriver, as in the browser tests) grades every part on it
the way a TA would by keyboard only: for each answer, one rubric digit (the
first item; the 0-point item when the student wrote nothing; `p`, the points
and no rubric when the part has none) and Enter, which saves and moves on.
Identical answers are grouped by the desk, so one decision covers the group.

It prints, per part and in total, the answers, the decisions, the keystrokes
(the one click per part that opens it is counted as a keystroke) and the
machine's wall time (pages, saves and the regenerated reports; no reading).
With --one-by-one the simulated TA unchecks each group first (key `g`), so
every answer is decided alone: what a class without shared answers costs.

A TA's time is not measured: it is estimated as decisions x `--read-s`
seconds of reading plus keystrokes x 0.3 s of typing. The reading time is an
assumption (a 2-3 sentence answer read, its figure glanced at), not a
measurement; the keystroke count and the machine's wall time are measured.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the browser tests' headless-Chromium helper

from chromium import headless_chromium  # noqa: E402

from dlgrade.review.app import create_app  # noqa: E402
from dlgrade.review.desk import Desk, progress  # noqa: E402

KEY_S = 0.3  # typing one key, for the estimate
TOKEN = "benchmark-token"


@dataclass(frozen=True)
class PartRun:
    part: str
    answers: int
    decisions: int
    keystrokes: int
    wall_s: float


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("out", type=Path, help="graded output folder (copied, never changed)")
    parser.add_argument(
        "--one-by-one",
        action="store_true",
        help="decide each answer alone: uncheck the desk's group (key g) before deciding",
    )
    parser.add_argument(
        "--read-s", type=float, default=15.0, help="assumed reading time per decision (seconds)"
    )
    return parser.parse_args(argv)


def serve(desk: Desk) -> tuple[str, object]:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(create_app(desk, TOKEN), log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server


def page_state(browser) -> tuple[str, bool, int, int]:
    """(student, graded?, done, total) of the page shown, once it has loaded."""
    from selenium.webdriver.support.ui import WebDriverWait

    read = (
        "var s = document.getElementById('student'), t = document.getElementById('state'),"
        " p = document.getElementById('part-progress');"
        "return document.readyState === 'complete' && s && t && p ?"
        " [s.textContent, t.textContent, p.textContent] : null;"
    )
    student, state, counts = WebDriverWait(browser, 60).until(lambda d: d.execute_script(read))
    done, _, total = counts.partition(" done")[0].partition(" of ")
    return student, state.strip().startswith("graded"), int(done), int(total)


def keys_for(browser, one_by_one: bool) -> str:
    """What the simulated TA types for the answer shown (Enter included)."""
    from selenium.webdriver.common.by import By

    alone = "g" if one_by_one and browser.find_elements(By.ID, "group") else ""
    return alone + _decision_keys(browser)


def _decision_keys(browser) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    boxes = browser.find_elements(By.CSS_SELECTOR, "input[name=rubric]")
    wrote = not browser.find_elements(By.CSS_SELECTOR, "p#answer")  # p#answer: no text
    if not boxes:
        maximum = browser.find_element(By.ID, "points").get_attribute("data-max")
        return "p" + (f"{float(maximum):g}" if wrote else "0") + Keys.ENTER
    zero = [b for b in boxes if float(b.get_attribute("data-points")) == 0]
    box = boxes[0] if wrote or not zero else zero[-1]
    return box.get_attribute("data-key") + Keys.ENTER


def press(browser, keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys(keys).perform()


def grade_part(browser, base: str, part: str, one_by_one: bool) -> PartRun:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.ui import WebDriverWait

    start = time.perf_counter()
    browser.get(f"{base}/part/{quote(part, safe='')}?token={TOKEN}")
    keystrokes, decisions = 1, 0  # the click that opens the part
    student, graded, done, total = page_state(browser)
    for _ in range(4 * total + 4):  # bounded: every answer is visited once
        if graded and done == total:
            break
        keys = keys_for(browser, one_by_one) if not graded else "j"
        if not graded:
            decisions += 1
        shown = browser.find_element(By.ID, "student")
        press(browser, keys)
        keystrokes += len(keys)
        WebDriverWait(browser, 60).until(staleness_of(shown))
        student, graded, done, total = page_state(browser)
    else:
        raise RuntimeError(f"{part}: the desk did not finish ({done} of {total} done)")
    return PartRun(part, total, decisions, keystrokes, time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="review-desk-") as scratch:
        out = Path(scratch) / "out"
        shutil.copytree(args.out, out)
        desk = Desk(out, ta="benchmark")
        parts = [p.part for p in progress(desk.records()) if p.done < p.total]
        base, server = serve(desk)
        browser = headless_chromium(Path(scratch) / "profile", 1000)
        try:
            runs = [grade_part(browser, base, part, args.one_by_one) for part in parts]
        finally:
            browser.quit()
            server.should_exit = True
    report(runs, args.read_s)
    return 0


def report(runs: list[PartRun], read_s: float) -> None:
    print(f"{'part':<12}{'answers':>8}{'decisions':>10}{'keys':>6}{'wall s':>8}")
    for r in runs:
        print(f"{r.part:<12}{r.answers:>8}{r.decisions:>10}{r.keystrokes:>6}{r.wall_s:>8.1f}")
    answers = sum(r.answers for r in runs)
    decisions, keys = sum(r.decisions for r in runs), sum(r.keystrokes for r in runs)
    wall = sum(r.wall_s for r in runs)
    print(f"{'total':<12}{answers:>8}{decisions:>10}{keys:>6}{wall:>8.1f}")
    estimate = decisions * read_s + keys * KEY_S
    print(
        f"estimated TA time (an estimate, not a measurement): {decisions} decisions x "
        f"{read_s:g} s reading + {keys} keys x {KEY_S:g} s = {estimate:.0f} s; "
        f"the machine's share, measured: {wall:.1f} s"
    )


if __name__ == "__main__":
    sys.exit(main())
