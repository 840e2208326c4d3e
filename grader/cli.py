"""``grader``: the course's command line for authors and instructors.

    grader release [LESSON ...]   regenerate the student notebooks from solutions/
    grader refresh LESSON ...     re-run instructor notebooks in place (reference outputs), then release
    grader check [LESSON ...]     check the lesson conventions (see CONTRIBUTING.md)
    grader collect LESSON SOURCE  import LMS submissions (a folder or a zip)
    grader autograde LESSON       grade all submissions in parallel, sandboxed (or on a Dask cluster)
    grader feedback LESSON        per-student HTML feedback without hidden tests
    grader report [LESSON ...]    per-exercise scores (CSV) and an overview picture

Every command has ``--help``. Defaults come from the code: the limits from
:data:`grader.limits.COURSE_LIMITS`, the course folder from :data:`grader.config.GRADING_DIR`.
The instructor commands work on one course folder (``--course-dir``) laid out as nbgrader
expects: ``gradebook.db``, ``submitted/``, ``autograded/``, ``feedback/``, plus ``originals/``
(the exports, byte for byte), ``backups/`` (the gradebook before each run) and ``reports/``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from grader import conventions, reference, release
from grader.config import GRADING_DIR, SOLUTIONS_DIR
from grader.limits import COURSE_LIMITS, GIB
from grader.run_nbgrader import lessons


def _lesson_names(names: Sequence[str]) -> list[str]:
    known = lessons()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown lesson(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return list(names) or known


def _deadline(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cmd_release(args: argparse.Namespace) -> int:
    for path in release.generate_student_notebooks(_lesson_names(args.lessons)):
        print(f"wrote {path}")
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    for name in _lesson_names(args.lessons):
        seconds = reference.execute_in_place(reference.solution_notebook(name))
        print(f"executed {name} in {seconds:.1f} s")
    return cmd_release(args)


def cmd_check(args: argparse.Namespace) -> int:
    problems = []
    for name in _lesson_names(args.lessons):
        problems += [f"{name}: {p}" for p in conventions.check_lesson(name)]
    print("\n".join(problems) or "all lessons follow the conventions")
    return 1 if problems else 0


def cmd_collect(args: argparse.Namespace) -> int:
    from grader import collect

    notebooks = collect.lesson_notebooks(args.lesson)
    collected = collect.collect(args.source, args.course_dir, args.lesson, pattern=args.pattern,
                                deadline=args.deadline, notebooks=notebooks)
    print(collect.format_report(collected, notebooks))
    return 0


def _limits(args: argparse.Namespace):
    from grader import sandbox

    use_bwrap = sandbox.bwrap_works() and not args.no_sandbox
    if not use_bwrap:
        print("warning: bubblewrap is unavailable; kernels run with resource limits only "
              "(no file isolation, see README)", file=sys.stderr)
    return COURSE_LIMITS.replace(cell_timeout_s=args.cell_timeout, total_timeout_s=args.time_limit,
                                 memory_bytes=int(args.memory_gb * GIB), use_bwrap=use_bwrap)


def cmd_autograde(args: argparse.Namespace) -> int:
    from grader import autograde

    runner = None
    if args.scheduler:
        from grader.dask_runner import dask_runner

        runner = dask_runner(args.scheduler)
    outcomes = autograde.autograde(args.course_dir, args.lesson, jobs=args.jobs, limits=_limits(args),
                                   students=args.student or None, runner=runner, source=args.lessons_dir)
    print(autograde.format_outcomes(outcomes))
    print(f"status report: {Path(args.course_dir) / 'reports' / f'{args.lesson}-autograde.csv'}")
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from grader.feedback import generate_feedback

    failed = 0
    for result in generate_feedback(args.course_dir, args.lesson, args.student or None, jobs=args.jobs,
                                    limits=_limits(args), source=args.lessons_dir):
        for page in result.pages:
            print(f"wrote {page}")
        if result.problem:
            failed += 1
            print(f"{result.student}: no feedback: {result.problem}")
    return 1 if failed else 0


def cmd_report(args: argparse.Namespace) -> int:
    from grader.report import report

    for path in report(args.course_dir, args.lessons or None):
        print(f"wrote {path}")
    return 0


def _course_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--course-dir", type=Path, default=GRADING_DIR,
                   help=f"the course folder with the gradebook (default: {GRADING_DIR})")


def _lessons_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lessons-dir", type=Path, default=SOLUTIONS_DIR,
                   help=f"the instructor versions of the lessons (default: {SOLUTIONS_DIR})")


def _grading_limits(p: argparse.ArgumentParser) -> None:
    limits = COURSE_LIMITS
    p.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                   help="parallel workers on this machine (default: the number of cores)")
    p.add_argument("--cell-timeout", type=int, default=limits.cell_timeout_s,
                   help=f"seconds per cell (default: {limits.cell_timeout_s})")
    p.add_argument("--time-limit", type=float, default=limits.total_timeout_s,
                   help=f"seconds per submission, all cells and the kernel start "
                        f"(default: {limits.total_timeout_s:g})")
    p.add_argument("--memory-gb", type=float, default=limits.memory_bytes / GIB,
                   help=f"memory of each kernel in GiB (default: {limits.memory_bytes / GIB:g})")
    p.add_argument("--no-sandbox", action="store_true",
                   help="do not use bubblewrap even where it works (resource limits still apply)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    for name, func, text in (("release", cmd_release, "regenerate student notebooks from solutions/"),
                             ("refresh", cmd_refresh, "re-run solution notebooks in place, then release"),
                             ("check", cmd_check, "check lessons against the authoring conventions")):
        p = sub.add_parser(name, help=text)
        p.add_argument("lessons", nargs="*", help="lesson slugs (default: all)")
        p.set_defaults(func=func)

    from grader.collect import DEFAULT_PATTERN

    p = sub.add_parser("collect", help="import LMS submissions (folder or zip) into submitted/",
                       description="Sort an LMS export into submitted/<student>/<lesson>/; keep every "
                       "original byte for byte under originals/; report late, duplicate and ignored files.")
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
                       description="Autograde every submitted/<student>/LESSON, each in its own sandbox, "
                       "into the course gradebook; write reports/LESSON-autograde.csv.")
    p.add_argument("lesson", help="lesson slug")
    p.add_argument("--student", action="append", help="grade only this student (repeatable)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="send the submissions to this Dask scheduler (e.g. tcp://10.0.0.5:8786) "
                   "instead of grading them here; workers need the course installed")
    _grading_limits(p)
    _course_dir(p)
    _lessons_dir(p)
    p.set_defaults(func=cmd_autograde)

    p = sub.add_parser("feedback", help="per-student HTML feedback without hidden tests",
                       description="Write feedback/<student>/LESSON/<notebook>.html (nbgrader's "
                       "generate_feedback with the course's pipeline): visible tests, scores, never a "
                       "hidden test.")
    p.add_argument("lesson", help="lesson slug")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    _grading_limits(p)
    _course_dir(p)
    _lessons_dir(p)
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("report", help="per-exercise scores (CSV) and an overview picture",
                       description="Write reports/<lesson>-scores.csv (a row per student, a column per "
                       "graded cell) and reports/overview.png (score distribution, mean per exercise).")
    p.add_argument("lessons", nargs="*", help="lesson slugs (default: every lesson in the gradebook)")
    _course_dir(p)
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
