"""The instructor commands: collect, parallel sandboxed autograde, feedback without hidden tests, report.

One real autograde run (two workers) grades a class whose every member does something a real
class does: a full solution, a typical mistake that fails only hidden tests, a flood of output
plus an infinite loop, a memory bomb, a kernel that kills itself, a corrupt file, an empty file,
a renamed notebook that also snoops for instructor files, and a notebook with a locked test cell
edited and another deleted. Feedback and report then run on that gradebook.
"""

from __future__ import annotations

import csv
import hashlib
import html
import os
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest
from conftest import read_nb, solution_path, student_path
from nbgrader.api import Gradebook

from grader import collect, sandbox
from grader.autograde import autograde
from grader.cli import main as grader_main
from grader.feedback import generate_feedback, hidden_lines
from grader.gradebook_merge import db_url
from grader.grading_job import Limits, run_limited
from grader.report import report
from grader.submissions import build_submission, load_variants

LESSON = "01-sequential-models"


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
    assert (submitted / "poeedgar" / LESSON / "data.csv").read_bytes() == b"a,b\n1,2\n"
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


def test_total_time_limit_kills_the_whole_process_group(tmp_path):
    start = time.perf_counter()
    result = run_limited(["sh", "-c", "sleep 60 & sleep 60"], cwd=tmp_path, env=dict(os.environ),
                         timeout_s=1)
    assert result.timed_out and time.perf_counter() - start < 15


def test_sandbox_binds_no_instructor_folder(tmp_path):
    """Only the course environment and the job's own folder are bound; without bwrap, limits only."""
    jailed = sandbox.kernel_argv(tmp_path, 2**30, use_bwrap=True)
    bound = {jailed[i + 1] for i, arg in enumerate(jailed) if arg in ("--bind", "--ro-bind")}
    root = solution_path(LESSON).parents[2]
    assert not {str(root / "solutions"), str(root / "grading"), str(root), str(root / "tests")} & bound
    assert str(tmp_path) in bound and "--unshare-all" in jailed
    plain = sandbox.kernel_argv(tmp_path, 2**30, use_bwrap=False)
    assert plain[0] == "prlimit" and "bwrap" not in plain and "--as=1073741824" in plain


def _class_of_submissions(course: Path) -> dict[str, list[str]]:
    """Write the class into ``course/submitted``; return each student's expected notes."""
    student_nb, solution_nb = read_nb(student_path(LESSON)), read_nb(solution_path(LESSON))
    answers = {v.id: v for v in load_variants(LESSON)}
    solution_ex1 = build_submission(student_nb, solution_nb)
    ex1 = next(c.source for c in solution_ex1.cells if c.metadata.get("nbgrader", {}).get("grade_id")
               == "ex1-answer")
    jobs = course / ".grader" / "jobs" / LESSON  # the scratch folders (grader.autograde)
    paths = [str(solution_path(LESSON)), str(course / "gradebook.db"),
             str(course / "submitted" / "solution" / LESSON / f"{LESSON}.ipynb"),
             str(jobs / "template.db"), str(jobs / "renamed" / "gradebook.db"),
             str(jobs / "solution" / "submitted" / "solution" / LESSON / f"{LESSON}.ipynb")]
    snoop = (
        f"import os\npaths = {paths!r}\n"
        "print('LEAKS', [p for p in paths if os.path.exists(p)])\n" + ex1
    )
    flood = "for i in range(20000):\n    print('x' * 100)\nprint('y' * 5_000_000)\n" + ex1
    tampered = build_submission(student_nb, solution_nb, {"ex2-answer": answers["forgot-biases"].source})
    for cell in tampered.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ex2-tests":
            cell.source = "assert True"
    tampered.cells = [c for c in tampered.cells
                      if c.metadata.get("nbgrader", {}).get("grade_id") != "ex3-tests"]
    notebooks = {
        "solution": build_submission(student_nb, solution_nb),
        "hidden-mistake": build_submission(student_nb, solution_nb, {
            "ex1-answer": answers["sigmoid-multiclass-output"].source}),
        "flood": build_submission(student_nb, solution_nb, {"ex1-answer": flood}),
        "bomb-and-loop": build_submission(student_nb, solution_nb, {
            "ex2-answer": "hog = 'x' * (16 * 1024**3)", "ex3-answer": "while True:\n    pass"}),
        "kernel-dies": build_submission(student_nb, solution_nb, {
            "ex3-answer": "import os\nos._exit(1)"}),
        "renamed": build_submission(student_nb, solution_nb, {"ex1-answer": snoop}),
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
    _class_of_submissions(course)
    limits = Limits(cell_timeout_s=60, total_timeout_s=480, use_bwrap=sandbox.bwrap_works())
    start = time.perf_counter()
    outcomes = {o.student: o for o in autograde(course, LESSON, jobs=2, limits=limits, progress=False)}
    record_property("seconds:grader autograde, 9 bad and good submissions of 01, 2 jobs",
                    time.perf_counter() - start)

    with Gradebook(db_url(course)) as gb:
        scores = {s: {g.name: g.score for g in gb.find_submission_notebook(LESSON, LESSON, s).grades
                      if g.cell_type == "code"} for s in outcomes}
    full = {"ex1-tests": 2.0, "ex2-tests": 2.0, "ex3-tests": 2.0}
    details = {s: (o.status, o.notes, scores[s]) for s, o in outcomes.items()}
    assert scores["solution"] == full, details
    assert scores["hidden-mistake"] == {**full, "ex1-tests": 0.0}, details
    assert scores["flood"] == full, details
    assert scores["bomb-and-loop"] == {**full, "ex2-tests": 0.0, "ex3-tests": 0.0}, details
    assert "memory limit in ex2-answer" in outcomes["bomb-and-loop"].notes, details
    assert "cell timeout in ex3-answer" in outcomes["bomb-and-loop"].notes, details
    assert "kernel died" in outcomes["kernel-dies"].status and sum(scores["kernel-dies"].values()) == 0
    assert outcomes["corrupt"].status.startswith("corrupt notebook") and not any(scores["corrupt"].values())
    assert outcomes["empty"].status == "empty file" and not any(scores["empty"].values())
    assert scores["renamed"] == full, details
    assert any("renamed notebook 'my notebook.ipynb'" in n for n in outcomes["renamed"].notes)
    assert scores["tampered"] == {**full, "ex2-tests": 0.0, "ex3-tests": 0.0}, details
    assert any("edited: ex2-tests" in n for n in outcomes["tampered"].notes), details
    assert any("deleted: ex3-tests" in n for n in outcomes["tampered"].notes), details
    status_csv = list(csv.DictReader(open(course / "reports" / f"{LESSON}-autograde.csv")))
    assert {row["student"] for row in status_csv} == set(outcomes)

    autograded = course / "autograded" / "renamed" / LESSON / f"{LESSON}.ipynb"
    printed = "".join(o.get("text", "") for c in read_nb(autograded).cells for o in c.get("outputs", []))
    if limits.use_bwrap:
        assert "LEAKS []" in printed, "the sandbox let the student see instructor files"
    flood_nb = (course / "autograded" / "flood" / LESSON / f"{LESSON}.ipynb").stat().st_size
    assert flood_nb < 3_000_000, "a flood of output must be cut down before it reaches the gradebook"

    pages = generate_feedback(course, LESSON)
    assert {p.parent.parent.name for p in pages} == {s for s in outcomes if s not in ("corrupt", "empty",
                                                                                      "kernel-dies")}
    hidden = []
    for cell in read_nb(solution_path(LESSON)).cells:
        lines = cell.source.splitlines()
        hidden += [lines[n - 1].strip() for n in hidden_lines(cell.source) if len(lines[n - 1].strip()) > 12]
    assert hidden
    for page in pages:
        text = page.read_text()
        leaked = [h for h in hidden if h in text or html.escape(h) in text]
        assert not leaked, f"{page} shows hidden test source: {leaked[:3]}"
    mistake = (course / "feedback" / "hidden-mistake" / LESSON / f"{LESSON}.html").read_text()
    assert "HiddenTestFailed" in mistake and "should use softmax" not in mistake
    tampered = (course / "feedback" / "tampered" / LESSON / f"{LESSON}.html").read_text()
    assert "one weight per input and unit" in tampered, "a visible test's message must be shown"

    paths = report(course, [LESSON])
    rows = list(csv.reader(open(course / "reports" / f"{LESSON}-scores.csv")))
    assert rows[0][:4] == ["student", "ex1-tests (2)", "ex2-tests (2)", "ex3-tests (2)"]
    assert len(rows) == 1 + len(outcomes)
    assert (course / "reports" / "overview.png") in paths
    assert (course / "reports" / "overview.png").read_bytes()[:4] == b"\x89PNG"
