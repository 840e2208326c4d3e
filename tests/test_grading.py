"""The grading round trip through a real nbgrader gradebook, for every lesson.

In a scratch course folder: release the lesson into a gradebook, submit the full solution, the
untouched student notebook and one submission per typical mistake (tests/mistakes/<lesson>.toml),
autograde them all, and read every test cell's score back from the SQLite gradebook.
"""

from __future__ import annotations

import time

import nbformat
import pytest
from conftest import LESSONS, read_nb, solution_path
from nbgrader.api import Gradebook

from grader.config import nbgrader_settings
from grader.nbgrader import run_nbgrader
from grader.submissions import build_submission, exercise_of_cells, load_variants

pytestmark = pytest.mark.notebook


def _autograded_scores(settings, lesson, students):
    """{student: {test grade_id: (score, max)}} for the autograded (code) cells."""
    scores = {}
    with Gradebook(settings["CourseDirectory.db_url"]) as gb:
        for student in students:
            nb = gb.find_submission_notebook(lesson, lesson, student)
            scores[student] = {
                g.name: (g.auto_score, g.max_score) for g in nb.grades if g.cell_type == "code"
            }
    return scores


@pytest.mark.parametrize("lesson", LESSONS)
def test_grading_round_trip(lesson, tmp_path, record_property):
    settings = nbgrader_settings(tmp_path, release=tmp_path / "release")
    run_nbgrader("generate_assignment", [lesson, "--force"], settings)
    student_nb = read_nb(tmp_path / "release" / lesson / f"{lesson}.ipynb")
    solution_nb = read_nb(solution_path(lesson))
    variants = load_variants(lesson)

    submissions = {
        "solution": build_submission(student_nb, solution_nb),
        "untouched": student_nb,
    }
    for v in variants:
        submissions[v.id] = build_submission(student_nb, solution_nb, {v.cell: v.source})
    for student, nb in submissions.items():
        folder = tmp_path / "submitted" / student / lesson
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{lesson}.ipynb")

    start = time.perf_counter()
    run_nbgrader("autograde", [lesson, "--create", "--force"], settings, timeout=1800)
    seconds = time.perf_counter() - start
    record_property(f"seconds:autograde {len(submissions)} submissions of {lesson}", seconds)

    scores = _autograded_scores(settings, lesson, submissions)
    full = scores["solution"]
    assert full and all(s == m for s, m in full.values()), f"the solution lost points: {full}"
    assert all(s == 0 for s, _ in scores["untouched"].values()), (
        f"the untouched notebook scored: {scores['untouched']}"
    )

    owner = exercise_of_cells(solution_nb)
    assert {v.cell for v in variants if not v.correct} >= {
        gid for gid, c in _answer_cells(solution_nb)
    }, "every graded exercise needs at least one typical mistake in tests/mistakes/"
    for v in variants:
        got = scores[v.id]
        if v.correct:
            expected = full
        else:
            expected = {gid: (0.0 if owner[gid] == owner[v.cell] else m, m)
                        for gid, (_, m) in full.items()}
        assert got == expected, f"{v.id} ({v.why}): expected {expected}, got {got}"


def _answer_cells(nb):
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            yield meta["grade_id"], cell
