"""Helpers the test modules share: where each lesson's notebooks are, and reading them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from grader.cells import grade_id
from grader.reference import solution_notebook
from grader.run_nbgrader import lesson_notebook, lessons
from kerascourse.paths import REPO_ROOT

LESSONS = lessons()
FIXTURE_LESSONS = REPO_ROOT / "tests" / "fixtures" / "lessons"  # the tiny lesson the grader tests use

solution_path = solution_notebook  # one definition of where a lesson's instructor notebook lives


def student_path(lesson: str) -> Path:
    return lesson_notebook(lesson, REPO_ROOT / "notebooks")


def read_nb(path: Path):
    return nbformat.read(path, as_version=4)


def with_answers(nb, answers: dict[str, str]):
    """A copy of a notebook with the cells named by grade_id holding the given sources."""
    copy = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in copy.cells:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return copy


# The tiny fixture lesson's answers, and releasing it into a scratch course folder.
TINY = "00-tiny"
TINY_ANSWERS = {"ex1-answer": "def add(a, b):\n    return a + b\n",
                "ex2-answer": "def mean(xs):\n    return sum(xs) / len(xs)\n"}


def release_tiny(course: Path):
    """Release the tiny lesson into ``course``'s gradebook; return the student version."""
    from grader.config import nbgrader_settings
    from grader.run_nbgrader import run_nbgrader

    course.mkdir(parents=True, exist_ok=True)
    run_nbgrader("generate_assignment", [TINY, "--force"],
                 nbgrader_settings(course, source=FIXTURE_LESSONS, release=course / "release"))
    return read_nb(course / "release" / TINY / f"{TINY}.ipynb")


HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def squash(text: str) -> str:
    """Text without whitespace: syntax highlighting splits a line of code into spans on a page."""
    return re.sub(r"\s+", "", text)


def hidden_test_lines(lesson: str) -> list[str]:
    """The lines between the hidden-test markers of the lesson's solution notebook that would give
    a hidden test away: not a bare bracket or ``else:``, and not also in the released notebook
    (a line a student already sees, such as ``for layer in model.layers:``, gives nothing away)."""
    released = squash("".join(cell.source for cell in read_nb(student_path(lesson)).cells))
    lines, inside = [], False
    for cell in read_nb(solution_path(lesson)).cells:
        for line in cell.source.splitlines():
            if line.strip().startswith(HIDDEN_BEGIN):
                inside = True
            elif line.strip().startswith(HIDDEN_END):
                inside = False
            elif inside and len(line.strip()) >= 12 and re.search(r"[A-Za-z]", line) \
                    and squash(line) not in released:
                lines.append(line.strip())
    return lines
