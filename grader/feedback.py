"""``grader feedback LESSON``: per-student HTML that never shows a hidden test.

This is nbgrader's own ``generate_feedback`` with the course's feedback pipeline
(:data:`grader.config.FEEDBACK_PIPELINE`): each test cell is cut back to what the student
received, and the notebook runs again in the sandbox with those cells, so no hidden line ever
reaches a kernel the student's code runs in, let alone the page; scores come from the gradebook;
outputs are allow-listed and capped; the page forbids scripts. The formgrader's "Generate
feedback" button runs the same pipeline (it reads the same settings). Pages land where
``nbgrader release_feedback`` expects them: ``feedback/<student>/<lesson>/<notebook>.html``.

Students are processed in parallel, each as its own nbgrader process under the job limits; one
that fails is reported and the others go on.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from grader.config import SOLUTIONS_DIR, nbgrader_settings
from grader.job import run_nbgrader_limited
from grader.limits import COURSE_LIMITS, Limits
from grader.precheck import student_folders


@dataclass
class FeedbackResult:
    student: str
    pages: list[Path]
    problem: str | None = None


def _one(course_root: Path, lesson: str, student: str, limits: Limits, source: Path) -> FeedbackResult:
    settings = nbgrader_settings(course_root, source=source, release=course_root / ".grader" / "release",
                                 limits=limits)
    logs = course_root / ".grader" / "feedback-logs"
    logs.mkdir(parents=True, exist_ok=True)
    result = run_nbgrader_limited("generate_feedback", [lesson, "--student", student, "--force"], settings,
                                  limits, cwd=course_root, log_path=logs / f"{student}-{lesson}.log")
    pages = sorted((course_root / "feedback" / student / lesson).glob("*.html"))
    if result.timed_out:
        return FeedbackResult(student, pages, "time limit exceeded")
    if result.returncode != 0 or not pages:
        lines = [line for line in result.log.splitlines() if "Error" in line or "error" in line]
        return FeedbackResult(student, pages, (lines[-1] if lines else "nbgrader failed")[:300])
    return FeedbackResult(student, pages)


def generate_feedback(course_root: Path, lesson: str, students: list[str] | None = None, *,
                      jobs: int | None = None, limits: Limits = COURSE_LIMITS,
                      source: Path = SOLUTIONS_DIR) -> list[FeedbackResult]:
    """Write the feedback pages of every autograded submission (or of ``students``)."""
    course_root = Path(course_root).resolve()
    everyone, unusable = student_folders(course_root / "autograded", lesson)
    results = [FeedbackResult(n.encode("utf-8", "replace").decode("utf-8", "replace"), [],
                              "unusable student folder name") for n in unusable]
    chosen = [s for s in (students or everyone) if s in everyone]
    results += [FeedbackResult(s, [], "not autograded") for s in students or [] if s not in everyone]
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        futures = {s: pool.submit(_one, course_root, lesson, s, limits, source) for s in chosen}
        for student, future in futures.items():
            try:
                results.append(future.result())
            except Exception as err:  # the grader's own failure: this student's line, not the class's
                results.append(FeedbackResult(student, [], f"internal error: {type(err).__name__}: {err}"))
    return sorted(results, key=lambda r: r.student)
