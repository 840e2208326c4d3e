"""Check an instructor notebook against the course's authoring conventions (CONTRIBUTING.md).

nbgrader checks its own metadata; these checks cover what makes a lesson usable and gradable:
learning goals first, a locked set-up cell, exercises whose headings state the points their tests
award, visible tests that open with a docstring, hidden tests, a reflection, a summary, and
committed reference outputs, and hidden blocks that only observe (every hidden check has a
verdict the grader reads, :mod:`grader.verdicts`).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from grader import verdicts
from grader.cells import BEGIN_HIDDEN, is_answer_cell, is_reflection_cell, is_test_cell
from grader.cells import nbgrader_meta as _nbgrader
from grader.config import SOLUTIONS_DIR
from grader.run_nbgrader import lesson_notebook

EXERCISE_HEADING = re.compile(r"^#{2,4} Exercise (\d+)\b.*\((\d+) points?\)", re.MULTILINE)
MIN_AUTOGRADED_EXERCISES = 3


def check_notebook(nb) -> list[str]:
    """Return a list of problems (empty when the notebook follows every convention)."""
    problems: list[str] = []
    cells = nb.cells
    markdown = [c.source for c in cells if c.cell_type == "markdown"]
    h1 = [line for src in markdown for line in src.splitlines() if re.match(r"^# \S", line)]
    if len(h1) != 1:
        problems.append(f"expected exactly one H1 title, found {len(h1)}")
    code_cells = [c for c in cells if c.cell_type == "code"]
    if not code_cells:
        return problems + ["no code cells"]
    first_code = cells.index(code_cells[0])
    before = "\n".join(c.source for c in cells[:first_code] if c.cell_type == "markdown")
    if "learning goals" not in before.lower():
        problems.append("no 'Learning goals' section before the first code cell")

    setup = code_cells[0]
    meta = _nbgrader(setup)
    if "setup_notebook(" not in setup.source:
        problems.append("the first code cell must call setup_notebook()")
    if not (meta.get("locked") and not meta.get("solution") and not meta.get("grade")):
        problems.append("the set-up cell must be a locked (read-only) nbgrader cell")

    for cell in code_cells:
        if cell.get("execution_count") is None and cell.source.strip():
            problems.append("a code cell has no reference output: run `grader refresh`")
            break

    tests = [c for c in cells if is_test_cell(c)]
    for cell in tests:
        gid = _nbgrader(cell).get("grade_id")
        if not cell.source.lstrip().startswith('"""'):
            problems.append(f"test cell {gid!r} must open with a docstring saying what it checks")
        if BEGIN_HIDDEN not in cell.source:
            problems.append(f"test cell {gid!r} has no hidden tests")
        else:
            problems += [f"test cell {gid!r}: {p}" for p in verdicts.lint(cell.source)]
        if not _nbgrader(cell).get("locked"):
            problems.append(f"test cell {gid!r} must be locked")
        if re.search(r"^\s*assert [^,\n]*$", cell.source, re.MULTILINE):
            problems.append(f"test cell {gid!r} has an assert without a message for the student")

    problems += _check_exercise_points(cells)
    answers = [c for c in cells if is_answer_cell(c)]
    if len(answers) < MIN_AUTOGRADED_EXERCISES:
        problems.append(f"expected at least {MIN_AUTOGRADED_EXERCISES} autograded exercises")
    if not any(is_reflection_cell(c) for c in cells):
        problems.append("no manually graded reflection (a markdown answer cell with points)")
    if not any(re.search(r"^#{2,3} Summary", s, re.MULTILINE) for s in markdown):
        problems.append("no '## Summary' section")
    return problems


def _check_exercise_points(cells) -> list[str]:
    """Each 'Exercise N ... (P points)' heading must match the points of the cells graded under it."""
    problems = []
    current: tuple[str, int] | None = None
    awarded = 0

    def close() -> None:
        if current and awarded != current[1]:
            problems.append(
                f"exercise {current[0]} heading says {current[1]} points, its cells award {awarded}"
            )

    for cell in cells:
        match = EXERCISE_HEADING.search(cell.source) if cell.cell_type == "markdown" else None
        if match:
            close()
            current, awarded = (match.group(1), int(match.group(2))), 0
        if _nbgrader(cell).get("grade"):
            if current is None:
                problems.append("a graded cell comes before any 'Exercise N (P points)' heading")
            awarded += int(_nbgrader(cell).get("points", 0))
    close()
    if current is None:
        problems.append("no '### Exercise N: ... (P points)' headings")
    return problems


def check_lesson(name: str, solutions: Path = SOLUTIONS_DIR) -> list[str]:
    return check_notebook(nbformat.read(lesson_notebook(name, solutions), as_version=4))
