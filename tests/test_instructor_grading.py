"""The instructor commands: collect, parallel sandboxed autograde, feedback without hidden tests, report.

One real autograde run (two workers) of the tiny fixture lesson grades a class whose every member
does something a real class does: a full solution, a mistake that fails only a hidden test, a
flood of output plus an infinite loop, a memory bomb, a kernel that kills itself halfway, a
corrupt file, an empty file, a renamed notebook that also snoops for instructor files, and a
notebook with a locked test cell edited and another deleted. Feedback and report then run on that
gradebook. (Attacks on the grader itself are in test_grading_integrity.py.)
"""

from __future__ import annotations

import csv
import hashlib
import os
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest
from helpers import FIXTURE_LESSONS, TINY, TINY_ANSWERS, read_nb, release_tiny, solution_path, with_answers
from nbgrader.api import Gradebook

from grader import collect, sandbox
from grader.cli import main as grader_main
from grader.gradebook import db_url
from grader.job import run_limited
from grader.limits import COURSE_LIMITS
from grader.report import report

LESSON = TINY


def test_every_instructor_command_has_help(capsys):
    for command in ("collect", "autograde", "feedback", "report"):
        with pytest.raises(SystemExit) as exit_:
            grader_main([command, "--help"])
        assert exit_.value.code == 0
        assert "--course-dir" in capsys.readouterr().out


def test_collect_sorts_an_lms_zip_and_keeps_every_byte(tmp_path):
    notebook = f"{LESSON}.ipynb"
    deadline = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    members = {  # Canvas names; (bytes, time in the zip)
        f"doejane_111_901_{notebook}": (b'{"jane": 1}', (2026, 3, 1, 10, 0, 0)),
        f"doejane_111_902_{LESSON}-1.ipynb": (b'{"jane": 2}', (2026, 3, 1, 11, 0, 0)),  # resubmission
        f"roejohn_LATE_222_903_{notebook}": (b'{"john": 1}', (2026, 3, 2, 9, 0, 0)),
        f"poeedgar_333_904_{notebook}": (b'{"edgar": 1}', (2026, 3, 1, 13, 0, 0)),  # after deadline
        "poeedgar_333_905_data.csv": (b"a,b\n1,2\n", (2026, 3, 1, 9, 0, 0)),
        "README.txt": (b"exported by the LMS", (2026, 3, 1, 9, 0, 0)),
    }
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as zf:
        for name, (data, when) in members.items():
            zf.writestr(zipfile.ZipInfo(name, when), data)
    course = tmp_path / "course"
    collected = collect.collect(export, course, LESSON, deadline=deadline, notebooks=[notebook])

    submitted = course / "submitted"
    assert (submitted / "doejane" / LESSON / notebook).read_bytes() == b'{"jane": 2}', "newest wins"
    assert (submitted / "roejohn" / LESSON / notebook).read_bytes() == b'{"john": 1}'
    assert not (submitted / "poeedgar" / LESSON / "data.csv").exists(), "only notebooks are collected"
    assert "2026-03-01 11:00:00" in (submitted / "doejane" / LESSON / "timestamp.txt").read_text()
    by_path = {c.path: c for c in collected}
    assert by_path[f"doejane_111_901_{notebook}"].status == "duplicate (ignored)"
    assert by_path[f"roejohn_LATE_222_903_{notebook}"].late
    assert by_path[f"poeedgar_333_904_{notebook}"].late
    assert not by_path[f"doejane_111_902_{LESSON}-1.ipynb"].late
    assert by_path["README.txt"].status == "unmatched"

    originals = next((course / "originals" / LESSON).iterdir())
    assert (originals / "export.zip").read_bytes() == export.read_bytes()
    for name, (data, _) in members.items():
        assert hashlib.sha256((originals / "files" / name).read_bytes()).digest() == \
            hashlib.sha256(data).digest()
    text = collect.format_report(collected, [notebook])
    assert "roejohn" in text and "LATE" in text and "duplicates ignored" in text
    assert "unmatched (kept in originals only): README.txt" in text
    assert "ignored (kept in originals only): poeedgar_333_905_data.csv" in text


def test_total_time_limit_kills_the_whole_process_group(tmp_path):
    start = time.perf_counter()
    result = run_limited(["sh", "-c", "sleep 60 & sleep 60"], cwd=tmp_path, env=dict(os.environ),
                         timeout_s=1)
    assert result.timed_out and time.perf_counter() - start < 15


def test_sandbox_binds_no_instructor_folder(tmp_path):
    """Only the course environment and the kernel's private folder are bound; its working folder
    and /tmp are fresh size-limited in-memory folders; no network; without bwrap, limits only."""
    private, workdir = tmp_path / "private", str(sandbox.SANDBOX_WORKDIR)
    limits = COURSE_LIMITS.replace(memory_bytes=2**30)
    jailed = sandbox.kernel_command(private=private, env={"A": "1"}, limits=limits)
    bound = {jailed[i + 1] for i, arg in enumerate(jailed) if arg in ("--bind", "--ro-bind")}
    writable = {jailed[i + 1] for i, arg in enumerate(jailed) if arg == "--bind"}
    root = solution_path("01-sequential-models").parents[2]
    assert not {str(root / "solutions"), str(root / "grading"), str(root), str(root / "tests"),
                str(root / "grader")} & bound
    assert writable == {str(private)} and workdir not in bound
    assert {"--unshare-all", "--clearenv"} <= set(jailed) and "--share-net" not in jailed
    tmpfs = [jailed[i + 3] for i, arg in enumerate(jailed) if arg == "--size" and jailed[i + 2] == "--tmpfs"]
    assert "/tmp" in tmpfs and workdir in tmpfs
    assert jailed[-4:-2] == ["-P", str(sandbox.BOOT_SCRIPT)]
    plain = sandbox.kernel_command(private=private, env={}, limits=limits.replace(use_bwrap=False))
    assert plain[0] == "prlimit" and "bwrap" not in plain and "--as=1073741824" in plain


ADD, MEAN = TINY_ANSWERS["ex1-answer"], TINY_ANSWERS["ex2-answer"]


def _class_of_submissions(course: Path) -> None:
    """Release the tiny lesson into ``course`` and write the class into ``course/submitted``."""
    student_nb = release_tiny(course)

    def submission(answers):
        return with_answers(student_nb, answers)

    paths = [str(course / "gradebook.db"), str(course / "submitted"), str(FIXTURE_LESSONS),
             str(course / ".grader")]
    snoop = f"import os\npaths = {paths!r}\nprint('LEAKS', [p for p in paths if os.path.exists(p)])\n" + ADD
    flood = "for i in range(20000):\n    print('x' * 100)\nprint('y' * 5_000_000)\n" + ADD
    tampered = submission({"ex1-answer": ADD, "ex2-answer": MEAN})
    for cell in tampered.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ex1-tests":
            cell.source = "assert True"
    tampered.cells = [c for c in tampered.cells
                      if c.metadata.get("nbgrader", {}).get("grade_id") != "ex2-tests"]
    notebooks = {
        "solution": submission({"ex1-answer": ADD, "ex2-answer": MEAN}),
        "hidden-mistake": submission({"ex1-answer": "def add(a, b):\n    return 3", "ex2-answer": MEAN}),
        "flood": submission({"ex1-answer": flood, "ex2-answer": MEAN}),
        "bomb-and-loop": submission({"ex1-answer": ADD + "hog = 'x' * (16 * 1024**3)\n",
                                     "ex2-answer": "while True:\n    pass"}),
        "kernel-dies": submission({"ex1-answer": ADD, "ex2-answer": "import os\nos._exit(1)"}),
        "renamed": submission({"ex1-answer": snoop, "ex2-answer": MEAN}),
        "tampered": tampered,
    }
    for student, nb in notebooks.items():
        folder = course / "submitted" / student / LESSON
        folder.mkdir(parents=True)
        name = "my notebook.ipynb" if student == "renamed" else f"{LESSON}.ipynb"
        nbformat.write(nb, folder / name)
    for student, data in {"corrupt": b'{"cells": [', "empty": b""}.items():
        folder = course / "submitted" / student / LESSON
        folder.mkdir(parents=True)
        (folder / f"{LESSON}.ipynb").write_bytes(data)


@pytest.mark.notebook
def test_autograde_a_difficult_class_then_feedback_and_report(tmp_path, record_property):
    course = tmp_path / "course"
    course.mkdir()
    _class_of_submissions(course)
    start = time.perf_counter()
    assert grader_main(["autograde", LESSON, "--jobs", "2", "--course-dir", str(course),
                        "--lessons-dir", str(FIXTURE_LESSONS), "--cell-timeout", "20",
                        "--time-limit", "300"]) == 0
    record_property("seconds:grader autograde, 9 bad and good submissions of 00-tiny, 2 jobs",
                    time.perf_counter() - start)
    rows = {r["student"]: r for r in csv.DictReader(open(course / "reports" / f"{LESSON}-autograde.csv"))}
    with Gradebook(db_url(course)) as gb:
        scores = {s: {g.name: g.score for g in gb.find_submission_notebook(LESSON, LESSON, s).grades
                      if g.cell_type == "code"} for s in rows}
    full = {"ex1-tests": 2.0, "ex2-tests": 2.0}
    details = {s: (r["status"], r["notes"], scores[s]) for s, r in rows.items()}
    assert scores["solution"] == full, details
    assert scores["hidden-mistake"] == {**full, "ex1-tests": 0.0}, details
    assert scores["flood"] == full, details
    assert scores["bomb-and-loop"] == {"ex1-tests": 2.0, "ex2-tests": 0.0}, details
    assert "memory limit in ex1-answer" in rows["bomb-and-loop"]["notes"], details
    assert "cell timeout in ex2-answer" in rows["bomb-and-loop"]["notes"], details
    assert scores["kernel-dies"] == {"ex1-tests": 2.0, "ex2-tests": 0.0}, details
    assert "kernel died" in rows["kernel-dies"]["notes"], details
    assert rows["corrupt"]["status"].startswith("not gradable: corrupt notebook") and not any(
        scores["corrupt"].values())
    assert rows["empty"]["status"] == "not gradable: empty file" and not any(scores["empty"].values())
    assert scores["renamed"] == full, details
    assert "renamed notebook 'my notebook.ipynb'" in rows["renamed"]["notes"]
    assert scores["tampered"] == {"ex1-tests": 2.0, "ex2-tests": 0.0}, details
    assert "edited: ex1-tests" in rows["tampered"]["notes"], details
    assert "deleted: ex2-tests" in rows["tampered"]["notes"], details
    assert sorted(p.name for p in (course / "backups").iterdir()), "the gradebook is backed up first"

    printed = "".join(o.get("text", "") for c in read_nb(
        course / "autograded" / "renamed" / LESSON / f"{LESSON}.ipynb").cells for o in c.get("outputs", []))
    if sandbox.bwrap_works():
        assert "LEAKS []" in printed, "the sandbox let the student see instructor files"
    flood_nb = (course / "autograded" / "flood" / LESSON / f"{LESSON}.ipynb").stat().st_size
    assert flood_nb < 3_000_000, "a flood of output must be cut down before it reaches the gradebook"

    assert grader_main(["feedback", LESSON, "--course-dir", str(course),
                        "--lessons-dir", str(FIXTURE_LESSONS), "--student", "hidden-mistake",
                        "--student", "tampered"]) == 0
    mistake = (course / "feedback" / "hidden-mistake" / LESSON / f"{LESSON}.html").read_text()
    assert "HiddenTestFailed" in mistake and "SECRET-HIDDEN" not in mistake
    tampered = (course / "feedback" / "tampered" / LESSON / f"{LESSON}.html").read_text()
    assert "add(1, 2) should be 3" in tampered, "a visible test's message must be shown"

    paths = report(course, [LESSON])
    table = list(csv.reader(open(course / "reports" / f"{LESSON}-scores.csv")))
    assert table[0][:3] == ["student", "ex1-tests (2)", "ex2-tests (2)"]
    assert len(table) == 1 + len(rows)
    assert (course / "reports" / "overview.png") in paths
    assert (course / "reports" / "overview.png").read_bytes()[:4] == b"\x89PNG"
