"""A student's time limit is the student's: `--timeout` gives `timeout` parts, not an error.

A real notebook whose cell ignores SIGINT and loops forever, graded with the
harness's own checks through `dlgrade grade --timeout`: the theory parts
judged from answers.toml before the notebook keep their points, every part
the loop kept from being judged is `timeout` naming the cell, and the record
is a grade (counted in the means), not a harness error.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from graded_out import grade_in

from dlgrade.cli import main
from dlgrade.records import ObservationKind, PartStatus

REPOSITORY = Path(__file__).resolve().parents[1]
FULL_MARKS = REPOSITORY / "submissions" / "examples" / "fall2023-full-marks"
NOTEBOOK = "dlf23_hw1_prob5.ipynb"
# Sleeps rather than spins: a spinning cell would meet the kernel's CPU-time cap first.
LOOP = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.5)\n"


def _looping_submission(folder: Path) -> int:
    """Full-marks answers and a problem-5 notebook whose second cell never ends; its number."""
    folder.mkdir(parents=True)
    shutil.copy(FULL_MARKS / "answers.toml", folder / "answers.toml")
    notebook = nbformat.read(FULL_MARKS / NOTEBOOK, as_version=4)
    notebook.cells.insert(1, nbformat.v4.new_code_cell(LOOP))
    nbformat.write(notebook, folder / NOTEBOOK)
    return 2


def test_a_student_stopped_at_the_timeout_gets_timeout_parts_naming_the_cell(tmp_path, capsys):
    root, out = tmp_path / "class", tmp_path / "out"
    cell = _looping_submission(root / "loopy")
    argv = ["grade", str(root), "--out", str(out), "--jobs", "1", "--timeout", "30"]
    argv += ["--problems", "p2,p5", "--no-progress", "--no-similarity"]
    assert main(argv) == 0
    record = grade_in(out, "loopy")
    assert record.status == "graded" and record.assignment == "fall2023"
    by_part = {r.part: r for r in record.results}
    # Judged from answers.toml before the notebook ran: kept.
    assert by_part["2a"].status == PartStatus.PASSED and by_part["2a"].points > 0
    assert by_part["2b"].status == PartStatus.PASSED
    stopped = [r for r in record.results if r.part.startswith("5-")]
    assert stopped and all(r.status == PartStatus.TIMEOUT and r.points == 0 for r in stopped)
    for result in stopped:
        assert f"cell {cell} of {NOTEBOOK} (import signal, time)" in result.message, result.message
        assert "30 s limit" in result.message
    notes = [o for o in record.observations if o.kind == ObservationKind.TIMEOUT]
    assert len(notes) == 1 and "grading was stopped" in notes[0].message
    # pytest's progress letters (".", "E", "F" runs) are the log's, not the messages'.
    for text in [r.message for r in record.results] + [o.message for o in record.observations]:
        assert "EEE" not in text and "..." not in text and "FFF" not in text, text
    assert record.graded_percent() is not None  # in the class mean, not flagged as a bug
    summary = capsys.readouterr().out
    assert "0 grading error(s)" in summary
    assert (
        not list((out / "loopy").glob(".parts.jsonl"))
        and not (out / "loopy" / ".cell.json").exists()
    )
