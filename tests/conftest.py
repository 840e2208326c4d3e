"""The test session's set-up, and the report of where its time went.

Every kernel the tests start (nbval, nbgrader) gets the course environment, exactly as JupyterLab's
kernels do. Tests that execute notebooks record their wall time with ``record_property`` under a
``seconds:`` key; nbval cells are summed per notebook. At the end the run prints those times and
its critical path: the busy time of each xdist worker and the longest tests on the busiest one
(the suite cannot finish before that worker does). Shared helpers live in ``helpers.py``.
"""

from __future__ import annotations

import os
from collections import defaultdict

import pytest

from grader.limits import COURSE_LIMITS
from kerascourse.paths import course_env

os.environ.update(course_env())


def pytest_configure(config):
    """nbval gives each cell the course's per-cell limit (its own default is 2000 s)."""
    if getattr(config.option, "nbval_cell_timeout", None) == 2000:
        config.option.nbval_cell_timeout = COURSE_LIMITS.cell_timeout_s

_timings: dict[str, float] = defaultdict(float)
_by_worker: dict[str, list[tuple[float, str]]] = defaultdict(list)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Mark every nbval cell as a notebook test (``-m 'not notebook'`` skips the slow ones)."""
    for item in items:
        if item.nodeid.endswith(".ipynb") or ".ipynb::" in item.nodeid:
            item.add_marker(pytest.mark.notebook)


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.duration > 1):
        worker = getattr(getattr(report, "node", None), "gateway", None)
        name = worker.id if worker is not None else "main"
        _by_worker[name].append((report.duration, report.nodeid))
    if report.when != "call":
        return
    if ".ipynb::" in report.nodeid:
        _timings["nbval " + report.nodeid.split("::")[0]] += report.duration
    for key, value in report.user_properties:
        if key.startswith("seconds:"):
            _timings[key.removeprefix("seconds:")] += float(value)


def pytest_terminal_summary(terminalreporter):
    if _timings:
        terminalreporter.section("notebook execution times (wall clock)")
        for label, seconds in sorted(_timings.items()):
            terminalreporter.write_line(f"{seconds:7.1f} s  {label}")
    if not _by_worker:
        return
    terminalreporter.section("critical path")
    totals = {w: sum(d for d, _ in items) for w, items in _by_worker.items()}
    for worker, total in sorted(totals.items()):
        terminalreporter.write_line(f"{worker}: {total:7.1f} s busy in {len(_by_worker[worker])} steps")
    busiest = max(totals, key=totals.get)
    terminalreporter.write_line(f"longest steps on {busiest}:")
    for duration, nodeid in sorted(_by_worker[busiest], reverse=True)[:10]:
        terminalreporter.write_line(f"{duration:7.1f} s  {nodeid}")
