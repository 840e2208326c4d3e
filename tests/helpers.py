"""Helpers the test modules share: where each lesson's notebooks are, and reading them."""

from __future__ import annotations

from pathlib import Path

import nbformat

from grader.reference import solution_notebook
from grader.run_nbgrader import lessons
from kerascourse.paths import REPO_ROOT

LESSONS = lessons()
FIXTURE_LESSONS = REPO_ROOT / "tests" / "fixtures" / "lessons"  # the tiny lesson the grader tests use

solution_path = solution_notebook  # one definition of where a lesson's instructor notebook lives


def student_path(lesson: str) -> Path:
    return REPO_ROOT / "notebooks" / lesson / f"{lesson}.ipynb"


def read_nb(path: Path):
    return nbformat.read(path, as_version=4)
