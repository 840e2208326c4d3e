"""Merge one finished job into the course gradebook, and the status line it ends as.

The parent merges jobs one at a time (SQLite takes one writer): the job's grades and comments,
then the job's evidence (:mod:`grader.evidence`), which the parent enforces itself: a test cell
whose hidden verdicts failed, or around which the kernel was tampered with, scores 0 whatever the
job's gradebook says; then the autograded notebook and nbgrader's small files.
"""

from __future__ import annotations

import enum
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from grader import gradebook
from grader.evidence import Kind
from grader.job import Job, JobOutput
from grader.precheck import Precheck, execution_notes


class Status(enum.Enum):
    """How one submission ended (the first column of its status line)."""

    GRADED = "graded"
    TAMPERING = "tampering suspected"
    NOT_GRADABLE = "not gradable"
    TIME_LIMIT = "total time limit exceeded"
    FAILED = "grading failed"
    INTERNAL_ERROR = "internal error"


@dataclass
class Outcome:
    """One student's line in the autograde report."""

    student: str
    status: Status
    reason: str = ""
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    notes: list[str] = field(default_factory=list)
    merge_seconds: float = 0.0  # the parent's serial share of this submission (the benchmark reads it)

    @property
    def line(self) -> str:
        """The status as the report prints it, e.g. ``not gradable: empty file``."""
        return f"{self.status.value}: {self.reason}" if self.reason else self.status.value


def zero_everywhere(main: Gradebook, lesson: str, outcome: Outcome) -> None:
    try:
        gradebook.score_zero_everywhere(main, lesson, outcome.student)
    except Exception as err:  # a name nbgrader refuses, say: the status line still stands
        outcome.notes.append(f"could not record zeros ({type(err).__name__})")


def merge(main: Gradebook, course_root: Path, lesson: str, job: Job, output: JobOutput,
          check: Precheck) -> Outcome:
    """Turn a finished job into gradebook rows, an autograded folder and a status line."""
    result = output.result
    outcome = Outcome(job.student, Status.GRADED, seconds=result.seconds,
                      peak_rss_mb=result.peak_rss_bytes / 2**20, notes=list(check.notes))
    if result.timed_out:
        outcome.status = Status.TIME_LIMIT
    elif result.returncode != 0:
        outcome.status, outcome.reason = Status.FAILED, failure_reason(result.log)
    if outcome.status is not Status.GRADED:
        zero_everywhere(main, lesson, outcome)
        return outcome
    gradebook.merge_grades(main, gradebook.db_url(job.root), lesson, job.student)
    gradebook.score_zero_unscored(main, lesson, job.student)
    tampered: set[str] = set()
    for notebook, found in output.evidence.items():
        outcome.notes += [f"{notebook} {finding.note}" for finding in found.findings]
        if found.kernel_died:
            outcome.notes.append(f"{notebook}: {found.kernel_died}")
        tampered |= found.cells(Kind.TAMPERING)
        # nbgrader scored these 0 from the error the job put in front; the parent makes sure
        failed = found.cells(Kind.HIDDEN_CHECK, Kind.INCOMPLETE) - tampered
        if failed:
            gradebook.zero_cells(main, lesson, job.student, failed)
    if tampered:
        gradebook.zero_cells(main, lesson, job.student, tampered)
        outcome.status = Status.TAMPERING
        outcome.reason = f"{', '.join(sorted(tampered))} scored 0"
    target = course_root / "autograded" / job.student / lesson
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name, nb in output.notebooks.items():
        nbformat.write(nb, target / f"{name}.ipynb")
        outcome.notes += execution_notes(nb)
    for name, data in output.files.items():  # nbgrader's release_feedback needs them
        (target / name).write_bytes(data)
    outcome.notes += output.problems
    return outcome


def failure_reason(log: str) -> str:
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
