"""The committed student notebooks are exactly what nbgrader generates from solutions/."""

from __future__ import annotations

import re

import pytest
from helpers import LESSONS, read_nb, solution_path, student_path

from grader.cells import grade_id, is_test_cell
from grader.config import NOTEBOOKS_DIR
from grader.release import generate_student_notebooks
from grader.variants import answer_text

FORBIDDEN = re.compile(r"BEGIN (SOLUTION|HIDDEN TESTS|MARK SCHEME)|END (SOLUTION|HIDDEN TESTS)")


def test_every_lesson_has_a_student_notebook():
    released = sorted(p.name for p in NOTEBOOKS_DIR.iterdir() if p.is_dir())
    assert released == LESSONS, "notebooks/ and solutions/ hold different lessons: run `make notebooks`"


@pytest.mark.parametrize("lesson", LESSONS)
def test_student_notebook_is_current(lesson, tmp_path):
    generate_student_notebooks([lesson], release=tmp_path)
    fresh = sorted(p.relative_to(tmp_path) for p in (tmp_path / lesson).rglob("*") if p.is_file())
    committed_dir = NOTEBOOKS_DIR / lesson
    committed = sorted(p.relative_to(NOTEBOOKS_DIR) for p in committed_dir.rglob("*") if p.is_file())
    assert fresh == committed, "the released files differ: run `make notebooks`"
    for rel in fresh:
        assert (tmp_path / rel).read_bytes() == (NOTEBOOKS_DIR / rel).read_bytes(), (
            f"{rel} is not what nbgrader generates from solutions/: run `make notebooks`"
        )


@pytest.mark.parametrize("lesson", LESSONS)
def test_student_notebook_holds_no_answers(lesson):
    student = read_nb(student_path(lesson))
    text = student_path(lesson).read_text()
    assert not FORBIDDEN.search(text), "solution, hidden-test or mark-scheme markers leaked"
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "student notebooks ship clean"
    solution = read_nb(solution_path(lesson))
    visible = _outside_solutions("\n".join(c.source for c in solution.cells))
    for cell in solution.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            for line in answer_text(cell).splitlines():
                body = line.strip()
                if len(body) > 20 and body not in visible:
                    assert body not in text, f"solution text leaked into the student copy: {body!r}"


def _outside_solutions(source: str) -> str:
    """The text outside solution blocks and mark schemes: the lesson shows it to students on purpose."""
    for start, end in (("### BEGIN SOLUTION", "### END SOLUTION"),
                       ("=== BEGIN MARK SCHEME ===", "=== END MARK SCHEME ===")):
        source = re.sub(re.escape(start) + ".*?" + re.escape(end), "", source, flags=re.DOTALL)
    return source


@pytest.mark.parametrize("lesson", LESSONS)
def test_test_cells_write_nothing_to_stderr(lesson):
    """The Validate button scores stderr in a test cell as a failure (it filters nothing): the
    committed reference run, which nbval proves is what a fresh run prints, must have none."""
    for cell in read_nb(solution_path(lesson)).cells:
        if is_test_cell(cell):
            stderr = [o for o in cell.get("outputs", []) if o.get("name") == "stderr"]
            assert not stderr, f"{grade_id(cell)} writes to stderr: {stderr[0]['text'][:300]}"
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            assert not errors, f"{grade_id(cell)} fails on the solution"
