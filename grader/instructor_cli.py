"""The instructor's ``grader`` subcommands: collect, autograde, feedback, report.

They all work on one course folder (``--course-dir``, default ``grading/``, git-ignored), laid out
as nbgrader expects: ``gradebook.db``, ``submitted/``, ``autograded/``, ``feedback/``, plus
``originals/`` (the exports, byte for byte) and ``reports/``.
"""

from __future__ import annotations

import argparse
import os
import warnings
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SAWarning

from grader.config import CELL_TIMEOUT_S, GRADING_DIR


def _course_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--course-dir", type=Path, default=GRADING_DIR,
                   help=f"the course folder with the gradebook (default: {GRADING_DIR})")


def _deadline(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cmd_collect(args: argparse.Namespace) -> int:
    from grader import collect

    notebooks = collect.lesson_notebooks(args.lesson)
    collected = collect.collect(args.source, args.course_dir, args.lesson, pattern=args.pattern,
                                deadline=args.deadline, notebooks=notebooks)
    print(collect.format_report(collected, notebooks))
    return 0


def cmd_autograde(args: argparse.Namespace) -> int:
    from grader import autograde, sandbox
    from grader.grading_job import Limits

    use_bwrap = sandbox.bwrap_works() and not args.no_sandbox
    if not use_bwrap:
        print("warning: bubblewrap is unavailable; kernels run with resource limits only "
              "(no file isolation, see README)")
    limits = Limits(cell_timeout_s=args.cell_timeout, total_timeout_s=args.time_limit,
                    memory_bytes=int(args.memory_gb * 1024**3), use_bwrap=use_bwrap)
    with warnings.catch_warnings():  # nbgrader's own SQLAlchemy noise on every new submission
        warnings.simplefilter("ignore", SAWarning)
        outcomes = autograde.autograde(args.course_dir, args.lesson, jobs=args.jobs, limits=limits,
                                       students=args.student or None)
    print(autograde.format_outcomes(outcomes))
    print(f"status report: {Path(args.course_dir) / 'reports' / f'{args.lesson}-autograde.csv'}")
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from grader.feedback import generate_feedback

    for path in generate_feedback(args.course_dir, args.lesson, args.student or None):
        print(f"wrote {path}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from grader.report import report

    for path in report(args.course_dir, args.lessons or None):
        print(f"wrote {path}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the instructor subcommands on ``grader``'s parser."""
    from grader.collect import DEFAULT_PATTERN

    p = sub.add_parser("collect", help="import LMS submissions (folder or zip) into submitted/",
                       description="Sort an LMS export into submitted/<student>/<lesson>/; keep every "
                       "original byte for byte under originals/; report late and duplicate files.")
    p.add_argument("lesson", help="lesson slug, e.g. 01-sequential-models")
    p.add_argument("source", type=Path, help="the export: a folder or a .zip")
    p.add_argument("--pattern", default=DEFAULT_PATTERN,
                   help="regex on each file's path inside the export with named groups 'student' "
                   "(required), 'file' (the uploaded name) and 'late' (non-empty: marked late by the "
                   "LMS); default: Canvas' naming")
    p.add_argument("--deadline", type=_deadline,
                   help="ISO time (UTC unless given); files modified later are reported late")
    _course_dir(p)
    p.set_defaults(func=cmd_collect)

    p = sub.add_parser("autograde", help="grade all submissions of a lesson in parallel, sandboxed",
                       description="Autograde every submitted/<student>/LESSON in parallel, each in its "
                       "own sandbox, into the course gradebook; write reports/LESSON-autograde.csv.")
    p.add_argument("lesson", help="lesson slug")
    p.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                   help="parallel workers (default: the number of cores)")
    p.add_argument("--student", action="append", help="grade only this student (repeatable)")
    p.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT_S,
                   help=f"seconds per cell (default: {CELL_TIMEOUT_S})")
    p.add_argument("--time-limit", type=float, default=900,
                   help="seconds per submission, all cells and the kernel start (default: 900)")
    p.add_argument("--memory-gb", type=float, default=4,
                   help="address-space limit of each kernel in GiB (default: 4)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="do not use bubblewrap even where it works (resource limits still apply)")
    _course_dir(p)
    p.set_defaults(func=cmd_autograde)

    p = sub.add_parser("feedback", help="per-student HTML feedback without hidden tests",
                       description="Write feedback/<student>/LESSON/<notebook>.html from the autograded "
                       "notebooks: visible tests and the student's errors, never hidden tests.")
    p.add_argument("lesson", help="lesson slug")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    _course_dir(p)
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("report", help="per-exercise scores (CSV) and an overview picture",
                       description="Write reports/<lesson>-scores.csv (a row per student, a column per "
                       "graded cell) and reports/overview.png (score distribution, mean per exercise).")
    p.add_argument("lessons", nargs="*", help="lesson slugs (default: every lesson in the gradebook)")
    _course_dir(p)
    p.set_defaults(func=cmd_report)
