"""``grader autograde LESSON``: every submission of a lesson, graded in parallel, isolated.

nbgrader grades submissions one after another in one process, and one bad notebook stops it.
Here the run is a story in four steps, and whatever one submission does, it ends as one status
line in ``reports/LESSON-autograde.csv`` while everyone else is graded:

1. **back up** the gradebook, release the lesson into it if needed, and make sure the lesson's
   reference (what its probes observe on the solution, :mod:`grader.expected`) is current;
2. **pre-check** each student's folder in the parent (:mod:`grader.precheck`): only clean copies
   of the lesson's notebooks go on;
3. **run** each submission as a :class:`grader.job.Job`: ``--jobs`` at once on this machine, or
   on a Dask cluster (``--scheduler``); each nbgrader starts its kernel in the sandbox, and the
   guard checks every test cell;
4. **merge** finished jobs into the course gradebook one at a time (:mod:`grader.gradebook`),
   with each job's evidence (:mod:`grader.evidence`): a test cell whose hidden verdicts failed,
   or around which the kernel was tampered with, scores 0.

A failure of the grader itself (not of a student's code) is that student's status line too; the
CSV is written in every case.
"""

from __future__ import annotations

import csv
import os
import shutil
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning
from tqdm import tqdm

from grader import gradebook
from grader.config import SOLUTIONS_DIR, nbgrader_settings
from grader.expected import ensure as ensure_reference
from grader.job import Job, JobResult
from grader.limits import COURSE_LIMITS, Limits
from grader.merge import Outcome, Status, merge, zero_everywhere
from grader.precheck import Precheck, check_folder, student_folders
from grader.run_nbgrader import run_nbgrader


def ensure_assignment(course_root: Path, lesson: str, source: Path = SOLUTIONS_DIR) -> None:
    """Release the lesson into the course gradebook if the instructor has not yet.

    The release folder is a scratch one inside the course folder: ``notebooks/`` stays untouched.
    """
    if (course_root / "gradebook.db").exists():
        try:
            with Gradebook(gradebook.db_url(course_root)) as gb:
                if gb.find_assignment(lesson).notebooks:
                    return
        except MissingEntry:
            pass
    settings = nbgrader_settings(course_root, source=source, release=course_root / ".grader" / "release")
    run_nbgrader("generate_assignment", [lesson, "--force"], settings)


# A runner takes the prepared jobs and yields (job, result) as each one finishes.
Runner = Callable[[list[Job], Limits], Iterator[tuple[Job, JobResult | BaseException]]]


def local_runner(jobs: int) -> Runner:
    """Run ``jobs`` submissions at a time on this machine (a thread waits on each nbgrader)."""
    def run(prepared: list[Job], limits: Limits):
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(job.run, limits): job for job in prepared}
            for future in as_completed(futures):
                error = future.exception()
                yield futures[future], error if error is not None else future.result()
    return run


def autograde(course_root: Path, lesson: str, *, jobs: int | None = None, limits: Limits | None = None,
              students: list[str] | None = None, progress: bool = True,
              runner: Runner | None = None, source: Path = SOLUTIONS_DIR,
              guard: bool = True) -> list[Outcome]:
    """Grade every submitted folder of ``lesson``; return one outcome per student.

    nbgrader's own SQLAlchemy warnings on every new submission are silenced here.

    ``source`` is where the lesson's instructor version lives (the tests grade a small fixture);
    ``guard=False`` only serves the benchmark that measures what the guard costs.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        return _autograde(Path(course_root).resolve(), lesson, jobs, limits, students, progress, runner,
                          source, guard)


def _autograde(course_root: Path, lesson: str, jobs: int | None, limits: Limits | None,
               students: list[str] | None, progress: bool, runner: Runner | None, source: Path,
               guard: bool) -> list[Outcome]:
    course_root.mkdir(parents=True, exist_ok=True)
    limits = limits or COURSE_LIMITS
    runner = runner or local_runner(jobs or os.cpu_count() or 1)
    outcomes: dict[str, Outcome] = {}
    scratch = course_root / ".grader" / "jobs" / lesson
    try:
        gradebook.backup(course_root)
        ensure_assignment(course_root, lesson, source)
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        template = scratch / "template.db"
        gradebook.make_template(course_root / "gradebook.db", template, lesson)
        reference = ensure_reference(course_root, lesson, source, limits)
        url = gradebook.db_url(course_root)
        expected = gradebook.locked_sources(url, lesson)
        everyone, unusable = student_folders(course_root / "submitted", lesson)
        unusable_shown = {name.encode("utf-8", "replace").decode("utf-8", "replace") for name in unusable}
        for shown in unusable_shown:
            outcomes[shown] = Outcome(shown, Status.NOT_GRADABLE, "unusable student folder name")
        checks: dict[str, Precheck] = {}
        prepared: list[Job] = []
        for student in students or everyone:
            try:
                check = check_folder(course_root / "submitted" / student / lesson, expected,
                                     limits.notebook_bytes)
                checks[student] = check
                if not check.gradable:
                    outcomes[student] = Outcome(student, Status.NOT_GRADABLE, check.problem,
                                                notes=check.notes)
                    continue
                job = Job(scratch / student, student, lesson, source, guard)
                job.prepare(template, check, reference)
                prepared.append(job)
            except Exception as err:
                outcomes[student] = _internal_error(student, "pre-check", err)
        with Gradebook(url) as main:
            for student, outcome in outcomes.items():
                if student not in unusable_shown:
                    zero_everywhere(main, lesson, outcome)
            bar = tqdm(total=len(prepared), desc=f"autograde {lesson}", unit="submission",
                       disable=not progress)
            for job, result in runner(prepared, limits):
                try:
                    if isinstance(result, BaseException):
                        raise result
                    merging = time.perf_counter()
                    output = job.results(list(expected), result, limits)
                    outcomes[job.student] = merge(main, course_root, lesson, job, output,
                                                  checks[job.student])
                    outcomes[job.student].merge_seconds = time.perf_counter() - merging
                except Exception as err:
                    outcomes[job.student] = _internal_error(job.student, "merge", err)
                    zero_everywhere(main, lesson, outcomes[job.student])
                bar.update()
            bar.close()
            for outcome in outcomes.values():
                try:
                    outcome.score, outcome.max_score = gradebook.totals(main, lesson, outcome.student)
                except Exception:
                    pass
    finally:
        ordered = [outcomes[s] for s in sorted(outcomes)]
        write_status_report(course_root / "reports" / f"{lesson}-autograde.csv", ordered)
        if not os.environ.get("GRADER_KEEP_SCRATCH"):
            shutil.rmtree(scratch, ignore_errors=True)
    return ordered


def _internal_error(student: str, step: str, err: BaseException) -> Outcome:
    last = traceback.format_exception_only(type(err), err)[-1].strip()[:300]
    return Outcome(student, Status.INTERNAL_ERROR, f"the grader failed in its {step} ({last})")


def write_status_report(path: Path, outcomes: list[Outcome]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "status", "score", "max_score", "seconds", "peak_rss_mb", "notes"])
        for o in outcomes:
            writer.writerow([o.student, o.line, o.score, o.max_score, round(o.seconds, 1),
                             round(o.peak_rss_mb), "; ".join(o.notes)])


def format_outcomes(outcomes: list[Outcome]) -> str:
    """A table for the terminal: one line per student."""
    width = max([len(o.student) for o in outcomes] + [7])
    lines = [f"{'student':<{width}}  score     status"]
    for o in outcomes:
        notes = f" ({'; '.join(o.notes)})" if o.notes else ""
        lines.append(f"{o.student:<{width}}  {o.score:>4g}/{o.max_score:<4g} {o.line}{notes}")
    return "\n".join(lines)
