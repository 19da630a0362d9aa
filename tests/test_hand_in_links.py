"""Links in a hand-in are refused and named, never followed (threat model point 4).

A real `dlgrade grade` of a class whose student handed in links: to a secret
outside the folder (shadow-like and TOML-shaped), to a solutions notebook two
folders up (what GitHub Classroom keeps), to a file inside, a dangling one and
a folder. Every output file is searched for the secrets' marker.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from notebook_files import write_notebook

from dlgrade.cli import main
from dlgrade.engine import discover
from dlgrade.engine.paths import LinkRefused, hand_in_files, read_inside, read_regular
from dlgrade.grading.archive import unpack_archive
from dlgrade.grading.cluster.dispatch import zip_submission
from dlgrade.grading.options import GradeOptions, options_to_dict
from dlgrade.grading.result import RESULT_NAME, read_result
from dlgrade.grading.runner import default_checks_dir

EXAMPLES = Path(__file__).resolve().parents[1] / "submissions" / "examples"
MARKER = "SECRET-MARKER-7f3a9c"
P5_CODE = f"""import numpy as np
weights = [np.zeros((784, 32)), np.zeros((32, 32)), np.zeros((32, 10))]
def train_one_sample(sample, y, learning_rate=0.003):
    a = sample.flatten()  # {MARKER}
"""

pytestmark = pytest.mark.slow


def _linked_class(tmp: Path) -> Path:
    """tmp/class/{linker,honest}; the linker's links lead to tmp/secrets and tmp/solutions."""
    secrets = tmp / "secrets"
    secrets.mkdir()
    (secrets / "shadow").write_text(f"root:{MARKER}:19000:0:99999:7:::\n")
    (secrets / "credentials").write_text(f'[default]\naws_secret_access_key = "{MARKER}"\n')
    write_notebook(secrets / "folder" / "p5.ipynb", P5_CODE)
    write_notebook(tmp / "solutions" / "x.ipynb", P5_CODE)
    linker = tmp / "class" / "linker"
    (linker / "notes").mkdir(parents=True)
    (linker / "notes" / "real.txt").write_text("my notes\n")
    links = {
        "answers.toml": secrets / "credentials",
        "secret.ipynb": secrets / "shadow",
        "hw1p5.ipynb": Path("../../solutions/x.ipynb"),
        "inside.ipynb": Path("notes/real.txt"),
        "gone.ipynb": Path("missing.ipynb"),
        "work": secrets / "folder",
    }
    for name, target in links.items():
        (linker / name).symlink_to(target)
    shutil.copytree(EXAMPLES / "fall2023-wrong-theory", tmp / "class" / "honest")
    return tmp / "class"


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("links")
    out = tmp / "out"
    argv = ["grade", str(_linked_class(tmp)), "--out", str(out), "--quick"]
    assert main([*argv, "--problems", "1,2,5", "--no-progress", "--jobs", "1"]) == 0
    return out


def _record(out: Path, student: str) -> dict:
    return json.loads((out / student / "grade.json").read_text())


def test_every_link_is_named_on_the_record_and_flagged(graded: Path):
    record = _record(graded, "linker")
    named = {
        o["source"]: o["message"] for o in record["observations"] if o["kind"] == "link-refused"
    }
    assert set(named) == {
        "answers.toml", "secret.ipynb", "hw1p5.ipynb", "inside.ipynb", "gone.ipynb", "work"
    }  # fmt: skip
    assert (
        named["hw1p5.ipynb"] == "`hw1p5.ipynb` is a link to `../../solutions/x.ipynb`: not graded"
    )
    assert named["gone.ipynb"] == "`gone.ipynb` is a link to `missing.ipynb`: not graded"
    flags = (graded / "index.html").read_text()
    assert "link-refused in hw1p5.ipynb" in flags
    assert (
        "`hw1p5.ipynb` is a link to `../../solutions/x.ipynb`: not graded"
        in (graded / "linker" / "report.html").read_text()
    )
    assert "link-refused" not in json.dumps(_record(graded, "honest"))


def test_linked_answers_and_notebooks_earn_nothing_and_say_why(graded: Path):
    results = {r["part"]: r for r in _record(graded, "linker")["results"]}
    answers = results["1a"]
    assert answers["status"] == "malformed" and answers["points"] == 0
    assert answers["message"].startswith("`answers.toml` is a link to `")
    assert answers["message"].endswith("credentials`: not graded")
    p5 = [r for part, r in results.items() if part.startswith("5-")]
    assert p5 and all(r["status"] == "failed" and r["points"] == 0 for r in p5)
    for result in p5:
        assert (
            "`hw1p5.ipynb` is a link to `../../solutions/x.ipynb`: not graded" in result["message"]
        )
    honest = {r["part"]: r["status"] for r in _record(graded, "honest")["results"]}
    assert honest["1a"] != "malformed"


def test_similarity_names_the_links_and_reads_none(graded: Path):
    similarity = json.loads((graded / "similarity.json").read_text())
    left_out = [why for student, why in similarity["not_compared"] if student == "linker"]
    assert "left out: `secret.ipynb` is a link to `" in " ".join(left_out)
    assert "linker" not in similarity["compared"]


def test_no_output_holds_a_byte_read_through_a_link(graded: Path):
    outputs = [p for p in graded.rglob("*") if p.is_file()]
    assert len(outputs) > 5
    assert [p for p in outputs if MARKER.encode() in p.read_bytes()] == []


def test_discovery_lists_links_and_reads_none(tmp_path: Path):
    folder = _linked_class(tmp_path) / "linker"
    submission = discover(folder)
    assert submission.sources == () and submission.answers is None
    assert [link.name for link in submission.links] == [
        "answers.toml", "gone.ipynb", "hw1p5.ipynb", "inside.ipynb", "secret.ipynb", "work"
    ]  # fmt: skip


def test_reading_through_a_link_is_refused_at_open(tmp_path: Path):
    folder = _linked_class(tmp_path) / "linker"
    with pytest.raises(LinkRefused, match="is a link to"):
        read_regular(folder / "secret.ipynb")
    with pytest.raises(LinkRefused, match="`work` is a link to"):
        read_inside(folder, folder / "work" / "p5.ipynb")
    with pytest.raises(LinkRefused, match="not below"):
        read_inside(folder, tmp_path / "secrets" / "shadow")
    os.mkfifo(folder / "pipe.ipynb")  # opened without blocking, then refused
    with pytest.raises(LinkRefused, match="not a regular file"):
        read_inside(folder, folder / "pipe.ipynb")
    assert read_inside(folder, folder / "notes" / "real.txt") == b"my notes\n"
    files, links = hand_in_files(folder)
    assert files == [folder / "notes" / "real.txt"] and len(links) == 6


def _links(folder: Path) -> list[tuple[str, str]]:
    return [(link.name, link.target) for link in discover(folder).links]


def test_a_zipped_hand_in_keeps_its_links_as_links_and_no_byte_behind_them(tmp_path: Path):
    folder = _linked_class(tmp_path) / "linker"
    payload = zip_submission(folder, "linker")  # what the cluster ships to a worker
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        assert all(MARKER.encode() not in archive.read(m) for m in archive.infolist())
    unpacked = unpack_archive(payload, tmp_path / "worker")
    assert unpacked == tmp_path / "worker" / "linker"
    assert _links(unpacked) == _links(folder) and len(_links(folder)) == 6
    assert (unpacked / "notes" / "real.txt").read_text() == "my notes\n"


def test_a_link_entry_that_leaves_the_folder_or_goes_through_a_link_is_dropped(tmp_path: Path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("s/notes.txt", "mine\n")
        for name in ("s/../../escape", "s/work", "s/work/inner", "s/ok"):
            entry = zipfile.ZipInfo(name)
            entry.external_attr = (0o120777) << 16  # a symbolic link
            archive.writestr(entry, "/etc")
    folder = unpack_archive(buffer.getvalue(), tmp_path / "in")
    assert _links(folder) == [("ok", "/etc"), ("work", "/etc")]
    assert not (tmp_path / "escape").is_symlink() and not (tmp_path / "in" / "escape").exists()


def test_the_cluster_grader_names_links_as_local_grading_does(graded: Path, tmp_path: Path):
    # The worker's grading (`dlgrade.grading.unit` on the shipped zip), in a process of its own.
    archive = tmp_path / "linker.zip"
    archive.write_bytes(zip_submission(graded.parent / "class" / "linker", "linker"))
    options = GradeOptions(checks_dir=default_checks_dir(), quick=True, problems=("1", "2", "5"))
    work = tmp_path / "work"
    command = [sys.executable, "-m", "dlgrade.grading.unit", str(archive), "--student", "linker"]
    command += ["--work-dir", str(work), "--options", json.dumps(options_to_dict(options))]
    subprocess.run(command, check=True, cwd=tmp_path, timeout=600)
    remote = read_result(work / RESULT_NAME).record
    named = {(o.source, o.message) for o in remote.observations if o.kind == "link-refused"}
    local = _record(graded, "linker")["observations"]
    assert len(named) == 6
    assert named == {(o["source"], o["message"]) for o in local if o["kind"] == "link-refused"}
