"""Shared fixtures and the report of notebook execution times.

Every kernel the tests start (nbval, nbgrader) gets the course environment, exactly as JupyterLab's
kernels do. Tests that execute notebooks record their wall time with ``record_property`` under a
``seconds:`` key; nbval cells are summed per notebook. Both are printed at the end of the run.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest

from grader.nbgrader import lessons
from grader.reference import solution_notebook
from kerascourse.paths import REPO_ROOT, apply_kernel_env

apply_kernel_env(os.environ)
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])

LESSONS = lessons()
_timings: dict[str, float] = defaultdict(float)


solution_path = solution_notebook  # one definition of where a lesson's instructor notebook lives


def student_path(lesson: str) -> Path:
    return REPO_ROOT / "notebooks" / lesson / f"{lesson}.ipynb"


def read_nb(path: Path):
    return nbformat.read(path, as_version=4)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which turns the group into the node id
def pytest_collection_modifyitems(items):
    """Keep each notebook's nbval cells on one xdist worker, in order, and mark them slow.

    A notebook's cells share one kernel: if xdist sent cell 3 to another worker than the set-up
    cell, it would run in a fresh kernel and fail with NameErrors.
    """
    for item in items:
        if item.nodeid.endswith(".ipynb") or ".ipynb::" in item.nodeid:
            path = item.nodeid.split("::")[0]
            item.add_marker(pytest.mark.xdist_group(name=path))
            item.add_marker(pytest.mark.notebook)


def pytest_runtest_logreport(report):
    if report.when != "call":
        return
    if ".ipynb::" in report.nodeid:
        _timings["nbval " + report.nodeid.split("::")[0]] += report.duration
    for key, value in report.user_properties:
        if key.startswith("seconds:"):
            _timings[key.removeprefix("seconds:")] += float(value)


def pytest_terminal_summary(terminalreporter):
    if not _timings:
        return
    terminalreporter.section("notebook execution times (wall clock)")
    for label, seconds in sorted(_timings.items()):
        terminalreporter.write_line(f"{seconds:7.1f} s  {label}")
