"""nbgrader validate: the solutions pass every test; unanswered student notebooks fail every test.

This is what a student's Validate button runs, so it also proves the visible and hidden tests do
not write to stderr for a correct answer (validate, unlike autograde, filters nothing).
"""

from __future__ import annotations

import shutil
import time

import pytest
from conftest import LESSONS, solution_path, student_path

from grader.config import nbgrader_settings
from grader.nbgrader import run_nbgrader

pytestmark = pytest.mark.notebook


def _validate(notebook, tmp_path, *extra):
    copy = tmp_path / notebook.name  # validate in a scratch folder: it must not touch the repo
    shutil.copy(notebook, copy)
    start = time.perf_counter()
    proc = run_nbgrader("validate", [str(copy), *extra], nbgrader_settings(tmp_path), check=False)
    return proc, time.perf_counter() - start


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_passes_validate(lesson, tmp_path, record_property):
    proc, seconds = _validate(solution_path(lesson), tmp_path)
    record_property(f"seconds:validate solutions/{lesson}", seconds)
    assert "Success! Your notebook passes all the tests." in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize("lesson", LESSONS)
def test_unanswered_student_notebook_fails_every_test(lesson, tmp_path, record_property):
    proc, seconds = _validate(student_path(lesson), tmp_path, "--invert")
    record_property(f"seconds:validate --invert notebooks/{lesson}", seconds)
    assert "Success! The notebook does not pass any tests." in proc.stdout, (
        "some test passes with no answer given:\n" + proc.stdout + proc.stderr
    )
