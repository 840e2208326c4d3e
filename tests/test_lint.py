"""ruff is clean on the code and the solution notebooks, and the lessons follow CONTRIBUTING.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers import LESSONS, solution_path

from grader.conventions import check_lesson, check_notebook
from kerascourse.paths import REPO_ROOT


def test_ruff_is_clean():
    ruff = Path(sys.executable).parent / "ruff"
    proc = subprocess.run([str(ruff), "check", "--no-cache", "."], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_follows_conventions(lesson):
    assert check_lesson(lesson) == []


def test_conventions_catch_a_broken_lesson():
    nb = nbformat.read(solution_path(LESSONS[0]), as_version=4)
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            cell.source = cell.source.replace("### BEGIN HIDDEN TESTS", "")
            meta["points"] = meta["points"] + 1
            break
    nb.cells[0].source = nb.cells[0].source.replace("Learning goals", "Goals")
    problems = "\n".join(check_notebook(nb))
    assert "no hidden tests" in problems
    assert "heading says" in problems
    assert "Learning goals" in problems
