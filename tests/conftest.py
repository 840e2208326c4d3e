"""The test session's set-up, and the report of where its time went.

Every kernel the tests start (nbval, nbgrader) gets the course environment, exactly as JupyterLab's
kernels do. Tests that execute notebooks record their wall time with ``record_property`` under a
``seconds:`` key; nbval cells are summed per notebook. At the end the run prints those times,
its work (the CPU seconds each test and the processes it started cost: once every core is busy,
work decides the wall time) and its critical path: the busy time of each xdist worker and the
longest tests on the busiest one (the suite cannot finish before that worker does), and how busy
the machine's cores were and how fast the machine was at the start and at the end (a fixed loop of
Python, timed): on a shared host the same loop took 2.0 s at one hour and 3.5 s at another, and
the whole suite 16 and 20 minutes, so compare wall times only with those figures beside them.
Shared helpers live in ``helpers.py``.
"""

from __future__ import annotations

import os
import resource
import time
from collections import defaultdict
from pathlib import Path

import pytest

from grader.cgroups import own_group
from grader.limits import COURSE_LIMITS
from kerascourse.paths import course_env

os.environ.update(course_env())


def pytest_configure(config):
    """nbval gives each cell the course's per-cell limit (its own default is 2000 s)."""
    if getattr(config.option, "nbval_cell_timeout", None) == 2000:
        config.option.nbval_cell_timeout = COURSE_LIMITS.cell_timeout_s
    config.pluginmanager.register(_WorkMeter(), _WORK_METER)
    if not hasattr(config, "workerinput"):  # the main process (or the only one): the machine's state
        _machine["probe_start"] = _speed_probe()
        _machine["cpu_start"] = _cpu_seconds()


_machine: dict[str, tuple[float, float] | float] = {}


def _speed_probe() -> float:
    """Seconds one core takes for a fixed loop of Python (0.15 s to 0.3 s on the course's 2-core machine)."""
    start = time.perf_counter()
    sum(i * i for i in range(3_000_000))
    return time.perf_counter() - start


def _cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, every core (/proc/stat)."""
    try:
        fields = [float(v) for v in open("/proc/stat").readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return (sum(fields) - idle) / ticks, sum(fields) / ticks

_timings: dict[str, float] = defaultdict(float)
_by_worker: dict[str, list[tuple[float, str]]] = defaultdict(list)
_work: dict[str, float] = defaultdict(float)  # CPU seconds per scope, for the work report


def _cpuacct_group() -> Path | None:
    """A cgroup v1 ``cpuacct`` group of this process alone, or None where there is none to make.

    Its usage counts every process the tests start, the sandboxed kernels included: the grader
    moves those into groups of their own in the cpu, memory and pids hierarchies, never in
    cpuacct, and kills them rather than waiting for them, so ``getrusage`` never sees them."""
    own = own_group("cpuacct")
    if own is None:
        return None
    try:
        group = own / f"course-tests-{os.getpid()}"
        group.mkdir(exist_ok=True)
        (group / "cgroup.procs").write_text(str(os.getpid()))
        int((group / "cpuacct.usage").read_text())
    except (OSError, ValueError):
        return None
    return group


def _leave(group: Path) -> None:
    """Back to the parent group, and the group removed (it stays if a process is left in it)."""
    try:
        (group.parent / "cgroup.procs").write_text(str(os.getpid()))
        group.rmdir()
    except OSError:
        pass


def _cpu_seconds_of_the_tests(group: Path | None) -> float:
    """CPU seconds of this process and of every process it started: from its cpuacct group, else
    from ``getrusage`` (which counts only the processes that were waited for)."""
    if group is not None:
        try:
            return int((group / "cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError):
            pass
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


_WORK_METER = "course-work-meter"


class _WorkMeter:
    """Each phase's report carries the CPU seconds it cost: the test's process and what it ran
    (kernels, nbgrader, browsers, servers). On a machine whose cores are all
    busy, CPU time (work) says where the minutes go; wall time also counts waiting for a core.
    A plugin, not conftest hooks: those would see only the items under ``tests/`` when the
    run has one process, not nbval's."""

    def __init__(self) -> None:
        self.phase_start: dict[str, float] = {}
        self.group = _cpuacct_group()

    def cpu(self) -> float:
        return _cpu_seconds_of_the_tests(self.group)

    def pytest_unconfigure(self, config):
        if self.group is not None:
            _leave(self.group)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        self.phase_start[item.nodeid] = self.cpu()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        start = self.phase_start.pop(item.nodeid, None)
        outcome = yield
        now = self.cpu()
        if start is not None:
            outcome.get_result().user_properties.append(("cpu-seconds", now - start))
        if call.when != "teardown":
            self.phase_start[item.nodeid] = now

    def pytest_runtest_logreport(self, report):
        _record(report)


# The scopes (test classes, modules, notebooks) that take minutes, longest first. ``make test``
# runs xdist's loadscope in collection order (``--no-loadscope-reorder``: its default order is by
# number of tests, which sends these single-test giants last and leaves one worker idle for
# minutes at the end). Longest first, then the notebooks, then the quick ones, so the workers
# finish together. Only the order depends on this list: a stale entry costs time, never a result.
LONGEST_FIRST = (
    "tests/test_grading.py::TestLesson09",  # the capstone's bank trains it once per variant
    "tests/test_hub.py",
    "tests/test_grading_integrity.py",
    "tests/test_grading.py::TestLesson05",
    "tests/test_grading.py::TestLesson03",
    "tests/test_grading.py::TestLesson06",
    "tests/test_grading.py::TestLesson07",
    "tests/test_grading.py::TestLesson04",
    "tests/test_grading.py::TestLesson02",
    "tests/test_grading.py::TestLesson08",
    "tests/test_distributed_grading.py",
    "tests/test_browser_instructor.py",
    "tests/test_verdicts_outside.py",
    "tests/test_instructor_grading.py",
    "tests/test_browser.py",
    "tests/test_browser_explorer.py",
    "tests/test_grading.py::TestLesson01",
)


def scope_of(nodeid: str) -> str:
    """The unit loadscope keeps on one worker: a test class, else a module or notebook."""
    parts = nodeid.split("::")
    return "::".join(parts[:2]) if len(parts) > 2 else parts[0]


def longest_first(items: list) -> list:
    """Items reordered scope by scope (each scope's items stay together, in their order)."""
    scopes: dict[str, list] = {}
    for item in items:
        scopes.setdefault(scope_of(item.nodeid), []).append(item)

    def rank(scope: str) -> tuple[int, int]:
        listed = LONGEST_FIRST.index(scope) if scope in LONGEST_FIRST else len(LONGEST_FIRST)
        return listed, 0 if any(i.get_closest_marker("notebook") for i in scopes[scope]) else 1

    return [item for scope in sorted(scopes, key=rank) for item in scopes[scope]]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Mark every nbval cell as a notebook test (``-m 'not notebook'`` skips the slow ones), and
    put the longest scopes first (``LONGEST_FIRST``)."""
    for item in items:
        if item.nodeid.endswith(".ipynb") or ".ipynb::" in item.nodeid:
            item.add_marker(pytest.mark.notebook)
    items[:] = longest_first(items)


def _work_key(nodeid: str) -> str:
    """Where the work report puts a test: with its notebook or module, or as itself in a class
    (a lesson's bank and round trip are told apart)."""
    return nodeid.split("[")[0] if nodeid.count("::") >= 2 else scope_of(nodeid)


def _record(report) -> None:
    """Add a report's times to the summary's tallies."""
    if report.when == "call" or (report.when == "setup" and report.duration > 1):
        worker = getattr(getattr(report, "node", None), "gateway", None)
        name = worker.id if worker is not None else "main"
        _by_worker[name].append((report.duration, report.nodeid))
    for key, value in report.user_properties:
        if key == "cpu-seconds":
            _work[_work_key(report.nodeid)] += float(value)
    if report.when != "call":
        return
    if ".ipynb::" in report.nodeid:
        _timings["nbval " + report.nodeid.split("::")[0]] += report.duration
    for key, value in report.user_properties:
        if key.startswith("seconds:"):
            _timings[key.removeprefix("seconds:")] += float(value)


def pytest_terminal_summary(terminalreporter):
    if "cpu_start" in _machine:
        (busy0, total0), (busy1, total1) = _machine["cpu_start"], _cpu_seconds()
        cores = os.cpu_count() or 1
        terminalreporter.section("the machine during the run")
        if total1 > total0:
            terminalreporter.write_line(
                f"{cores} cores busy {100 * (busy1 - busy0) / (total1 - total0):.0f}% of the run "
                f"({busy1 - busy0:.0f} core-seconds)")
        terminalreporter.write_line(
            f"speed probe (a fixed loop on one core): {_machine['probe_start']:.2f} s at the start, "
            f"{_speed_probe():.2f} s at the end")
    if _timings:
        terminalreporter.section("notebook execution times (wall clock)")
        for label, seconds in sorted(_timings.items()):
            terminalreporter.write_line(f"{seconds:7.1f} s  {label}")
    if _work:
        terminalreporter.section("work: CPU seconds of the tests and the processes they ran")
        ranked = sorted(_work.items(), key=lambda kv: -kv[1])
        for key, seconds in ranked[:25]:
            terminalreporter.write_line(f"{seconds:7.1f} s  {key}")
        rest = ranked[25:]
        if rest:
            terminalreporter.write_line(f"{sum(s for _, s in rest):7.1f} s  {len(rest)} more")
        terminalreporter.write_line(f"{sum(_work.values()):7.1f} s  in all")
        meter = terminalreporter.config.pluginmanager.get_plugin(_WORK_METER)
        if meter is None or meter.group is None:
            terminalreporter.write_line("(no cgroup v1 cpuacct here: getrusage, which does not count the "
                                        "sandboxed kernels)")
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
