"""OUT's disk fills mid-batch: nothing lost, nothing half-written, and the TA told.

OUT is a real, small tmpfs (this needs root, or a user allowed to mount); a
stand-in submission (tests/batch_standin.py) fills it while it is graded, as
other files or another job would. The batch stops writing, says so, and a run of
the same command after space is freed grades exactly those left.
"""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from batch_standin import write_standin_checks, write_submission
from graded_out import grade_in

from dlgrade.cli import main

TMPFS_SIZE = "4m"  # room for the first students' files, not for the filler
NAMES = ("alice", "bob", "carol", "dave", "erin")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(mount)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        pytest.skip("no mount command here: a small tmpfs for OUT cannot be made")
    if done.returncode != 0:
        pytest.skip(f"a small tmpfs for OUT cannot be mounted here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True, timeout=30)


def test_a_disk_filled_mid_batch_loses_nothing_and_the_resume_grades_those_left(
    tmp_path, small_disk, capsys
):
    checks = write_standin_checks(tmp_path / "checks")
    root, out, filler = tmp_path / "class", small_disk / "out", small_disk / "filler"
    for name in NAMES:
        write_submission(root, name, score=1.0)
    fill = {"filler": str(filler), "marker": str(tmp_path / "filled")}
    write_submission(root, "carol", score=1.0, fill_disk=fill)
    argv = ["grade", str(root), "--out", str(out), "--checks", str(checks), "--jobs", "1"]
    argv += ["--no-progress", "--no-similarity", "--problems", "p4,p5"]

    assert main(argv) == 1  # a script must not take this run for done
    said = capsys.readouterr().out
    assert "OUT IS FULL: 3 student(s) not graded (carol, dave, erin)" in said
    assert "No space left on device" in said and "run the same command again" in said
    assert filler.stat().st_size > 0  # the disk really filled
    for name in ("alice", "bob"):  # graded before the disk filled: complete
        assert grade_in(out, name).status == "graded" and grade_in(out, name).total == 30.0
    for name in ("carol", "dave", "erin"):  # no grade at all: the resume's to grade
        assert not (out / name / "grade.json").exists()
    assert not list(out.rglob("*.part"))  # no half-written file anywhere

    filler.unlink()  # the TA frees space
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert "graded 3 submission(s)" in said and "2 already graded" in said
    assert "OUT IS FULL" not in said
    for name in NAMES:
        assert grade_in(out, name).status == "graded" and grade_in(out, name).total == 30.0
    with (out / "grades.csv").open() as handle:
        assert sorted(row["student"] for row in csv.DictReader(handle)) == list(NAMES)
    assert (out / "index.html").is_file()


def test_a_regrade_on_a_full_disk_leaves_the_grade_it_would_replace_whole(
    tmp_path, small_disk, capsys
):
    checks = write_standin_checks(tmp_path / "checks")
    root, out = tmp_path / "class", small_disk / "out"
    write_submission(root, "alice", score=1.0)
    argv = ["grade", str(root), "--out", str(out), "--checks", str(checks), "--jobs", "1"]
    argv += ["--no-progress", "--no-similarity", "--problems", "p4,p5"]
    assert main(argv) == 0
    before = (out / "alice" / "grade.json").read_bytes()
    with pytest.raises(OSError), (small_disk / "filler").open("wb") as handle:
        while True:  # the disk fills between the two runs
            handle.write(bytes(1 << 16))
            handle.flush()
    capsys.readouterr()

    assert main([*argv, "--force"]) != 0  # the regrade cannot be written
    said = capsys.readouterr()
    assert "No space left on device" in said.out + said.err
    assert (out / "alice" / "grade.json").read_bytes() == before  # the old grade, whole
    assert not list(out.rglob("*.part"))
