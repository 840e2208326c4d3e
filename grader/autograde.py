"""``grader autograde LESSON --jobs N``: every submission of a lesson, graded in parallel, isolated.

nbgrader grades submissions one after another in one process, and one bad notebook stops it.
Here every submission is its own job (:mod:`grader.grading_job`): N jobs run at once (a thread
each waits on its own ``nbgrader autograde`` subprocess and sandboxed kernel), and the parent merges
finished jobs into the main gradebook one at a time. Whatever a submission does, it ends as one
status line in ``reports/LESSON-autograde.csv``; everyone else is graded.
"""

from __future__ import annotations

import csv
import os
import shutil
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from tqdm import tqdm

from grader import sandbox
from grader.config import nbgrader_settings
from grader.gradebook_merge import db_url, locked_sources, make_template, merge_job, zero_ungraded
from grader.grading_job import JobResult, Limits, prepare_job, run_job
from grader.nbgrader import run_nbgrader
from grader.submission_checks import Precheck, check_folder, execution_notes


@dataclass
class Outcome:
    """One student's line in the autograde report."""

    student: str
    status: str
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    notes: list[str] = field(default_factory=list)


def ensure_assignment(course_root: Path, lesson: str) -> None:
    """Release the lesson into the main gradebook if the instructor has not yet.

    The release folder is a scratch one inside the course folder: ``notebooks/`` stays untouched.
    """
    if (course_root / "gradebook.db").exists():
        try:
            with Gradebook(db_url(course_root)) as gb:
                if gb.find_assignment(lesson).notebooks:
                    return
        except MissingEntry:
            pass
    settings = nbgrader_settings(course_root, release=course_root / ".grader" / "release")
    run_nbgrader("generate_assignment", [lesson, "--force"], settings)


def submitted_students(course_root: Path, lesson: str) -> list[str]:
    submitted = course_root / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if (p / lesson).is_dir())


def autograde(course_root: Path, lesson: str, *, jobs: int | None = None, limits: Limits | None = None,
              students: list[str] | None = None, progress: bool = True) -> list[Outcome]:
    """Grade every submitted folder of ``lesson``; return one outcome per student."""
    course_root = Path(course_root).resolve()
    course_root.mkdir(parents=True, exist_ok=True)
    limits = limits or Limits(use_bwrap=sandbox.bwrap_works())
    jobs = jobs or os.cpu_count() or 1
    ensure_assignment(course_root, lesson)
    scratch = course_root / ".grader" / "jobs" / lesson
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    template = scratch / "template.db"
    make_template(course_root / "gradebook.db", template, lesson)
    expected = locked_sources(db_url(course_root), lesson)

    outcomes: dict[str, Outcome] = {}
    checks: dict[str, Precheck] = {}
    runnable = []
    for student in students or submitted_students(course_root, lesson):
        folder = course_root / "submitted" / student / lesson
        check = check_folder(folder, expected)
        checks[student] = check
        if check.gradable:
            prepare_job(scratch / student, template, folder, student, lesson, check.renames)
            runnable.append(student)
        else:
            outcomes[student] = Outcome(student, check.status, notes=check.notes)

    with Gradebook(db_url(course_root)) as main:
        for outcome in outcomes.values():
            zero_ungraded(main, lesson, outcome.student, everything=True)
        bar = tqdm(total=len(runnable), desc=f"autograde {lesson}", unit="submission",
                   disable=not progress)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_job, scratch / s, s, lesson, limits) for s in runnable]
            for future in as_completed(futures):
                result = future.result()
                outcomes[result.student] = _merge(main, course_root, lesson, result,
                                                  checks[result.student])
                bar.update()
        bar.close()
        for outcome in outcomes.values():
            outcome.score, outcome.max_score = _totals(main, lesson, outcome.student)
    ordered = [outcomes[s] for s in sorted(outcomes)]
    write_status_report(course_root / "reports" / f"{lesson}-autograde.csv", ordered)
    if not os.environ.get("GRADER_KEEP_SCRATCH"):
        shutil.rmtree(scratch, ignore_errors=True)
    return ordered


def _merge(main: Gradebook, course_root: Path, lesson: str, result: JobResult, check: Precheck) -> Outcome:
    """Turn a finished job into gradebook rows and a status; never raises for a student's doing."""
    outcome = Outcome(result.student, "graded", seconds=result.seconds,
                      peak_rss_mb=result.peak_rss_bytes / 2**20, notes=list(check.notes))
    if result.timed_out:
        outcome.status = "total time limit exceeded: scored 0"
    elif result.returncode != 0:
        outcome.status = f"grading failed: {_failure_reason(result.log)}: scored 0"
    if outcome.status != "graded":
        zero_ungraded(main, lesson, result.student, everything=True)
        return outcome
    merge_job(main, result.job_root, course_root, lesson, result.student)
    zero_ungraded(main, lesson, result.student, everything=False)
    outcome.notes += execution_notes(course_root / "autograded" / result.student / lesson)
    return outcome


def _failure_reason(log: str) -> str:
    """The one line an instructor needs from nbgrader's traceback."""
    if "DeadKernelError" in log or "Kernel died" in log:
        return "the kernel died (crash, os._exit or memory limit)"
    if "MemoryError" in log:
        return "out of memory in nbgrader (output too large?)"
    if "CellTimeoutError" in log:
        return "a cell timed out beyond recovery (a flood of output, or a kernel that ignored the interrupt)"
    if "Kernel didn't respond" in log:
        return "the kernel did not start"
    lines = [line for line in log.splitlines() if "Error" in line]
    return lines[-1].strip()[:200] if lines else "nbgrader exited with an error"


def _totals(main: Gradebook, lesson: str, student: str) -> tuple[float, float]:
    try:
        submission = main.find_submission(lesson, student)
    except MissingEntry:
        return 0.0, 0.0
    return float(submission.score), float(submission.max_score)


def write_status_report(path: Path, outcomes: list[Outcome]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "status", "score", "max_score", "seconds", "peak_rss_mb", "notes"])
        for o in outcomes:
            writer.writerow([o.student, o.status, o.score, o.max_score, round(o.seconds, 1),
                             round(o.peak_rss_mb), "; ".join(o.notes)])


def format_outcomes(outcomes: list[Outcome]) -> str:
    """A table for the terminal: one line per student."""
    width = max([len(o.student) for o in outcomes] + [7])
    lines = [f"{'student':<{width}}  score     status"]
    for o in outcomes:
        notes = f" ({'; '.join(o.notes)})" if o.notes else ""
        lines.append(f"{o.student:<{width}}  {o.score:>4g}/{o.max_score:<4g} {o.status}{notes}")
    return "\n".join(lines)
