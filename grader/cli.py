"""``grader``: the course's command line for authors and instructors.

    grader release [LESSON ...]   regenerate the student notebooks from solutions/
    grader refresh LESSON ...     re-run instructor notebooks in place (reference outputs), then release
    grader check [LESSON ...]     check the lesson conventions (see CONTRIBUTING.md)
    grader collect LESSON SOURCE  import LMS submissions (a folder or a zip)
    grader autograde LESSON       grade all submissions in parallel, sandboxed (or on a Dask cluster)
    grader feedback LESSON        per-student HTML feedback without hidden tests
    grader report [LESSON ...]    per-exercise scores (CSV) and an overview picture
    grader mistakes LESSON        judge the hidden tests against a bank of typical mistakes

Every command has ``--help``. Defaults come from the code: the limits from
:data:`grader.limits.COURSE_LIMITS`, the course folder from :data:`grader.config.GRADING_DIR`.
The instructor commands work on one course folder (``--course-dir``) laid out as nbgrader
expects: ``gradebook.db``, ``submitted/``, ``autograded/``, ``feedback/``, plus ``originals/``
(the exports, byte for byte), ``backups/`` (the gradebook before each run) and ``reports/``.

A slip (an unknown lesson, a missing export, nothing collected or graded yet, an option out of
range) raises :class:`grader.errors.UsageError` before anything is written or anything slow is
imported: one line on stderr, ``grader: <what is wrong>: <what to do>``, exit status 2. Any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import difflib
import math
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from grader.errors import UsageError
from grader.limits import COURSE_LIMITS, GIB

# A slip is answered before anything slow is imported (grader.config imports nbgrader: seconds),
# so the defaults are written here; tests/test_cli_slips.py checks they equal grader.config's.
REPO_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS_DIR = REPO_ROOT / "solutions"
GRADING_DIR = REPO_ROOT / "grading"
MAX_LISTED = 12  # names shown in one line before "... (N in all)"
DAY_S = 24 * 3600  # the largest time limit the command line takes (a runaway, not a limit)


def _listing(names: Sequence[str]) -> str:
    shown = [n.encode("utf-8", "replace").decode("utf-8", "replace") for n in names[:MAX_LISTED]]
    more = f", ... ({len(names)} in all)" if len(names) > MAX_LISTED else ""
    return ", ".join(shown) + more


def _known_lessons(folder: Path) -> list[str]:
    """The lesson slugs in ``folder``, as :func:`grader.run_nbgrader.lessons` finds them."""
    if not folder.is_dir():
        raise UsageError(f"no lessons folder {folder}: give --lessons-dir the folder of the lessons' "
                         f"instructor versions (default: {SOLUTIONS_DIR})")
    return sorted(p.name for p in folder.iterdir() if (p / f"{p.name}.ipynb").is_file())


def _check_lessons(names: Sequence[str], folder: Path = SOLUTIONS_DIR) -> list[str]:
    """``names`` if each is a lesson in ``folder`` (all lessons when none is given); else a UsageError
    that lists the lessons."""
    known = _known_lessons(folder)
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            where = "" if folder == SOLUTIONS_DIR else f" in {folder}"
            raise UsageError(f"unknown lesson {name!r}{where}{hint}; the lessons are: {_listing(known)}")
    return list(names) or known


def _course_option(args: argparse.Namespace) -> str:
    """``--course-dir X`` as the user must repeat it in a suggested command ("" for the default)."""
    return "" if Path(args.course_dir) == GRADING_DIR else f" --course-dir {args.course_dir}"


def _students_with(parent: Path, lesson: str) -> list[str]:
    """Folder names under ``parent`` that hold a ``<name>/<lesson>/`` folder (links and odd names
    included: autograde and feedback report those themselves)."""
    try:
        return sorted(p.name for p in parent.iterdir() if (p / lesson).is_dir())
    except OSError:
        return []


def _check_submitted(args: argparse.Namespace) -> None:
    """Something to autograde: ``submitted/<student>/LESSON/`` folders, one for each ``--student``."""
    folder = Path(args.course_dir) / "submitted"
    students = _students_with(folder, args.lesson)
    fill = f"`grader collect {args.lesson} EXPORT{_course_option(args)}` fills it"
    if not students:
        try:
            others = sorted({q.name for p in folder.iterdir() if p.is_dir() for q in p.iterdir()
                             if q.is_dir()})
        except OSError:
            others = []
        there = f" (it holds submissions of {_listing(others)})" if others else ""
        raise UsageError(f"no submissions of {args.lesson} in {folder}/{there}: {fill}")
    for student in args.student or []:
        if student not in students:
            raise UsageError(f"no submitted folder {folder / student / args.lesson}/ for --student "
                             f"{student}; the students who submitted {args.lesson}: {_listing(students)}")


def _check_autograded(args: argparse.Namespace) -> None:
    """Something to give feedback on: ``autograded/<student>/LESSON/`` folders and the gradebook."""
    course = Path(args.course_dir)
    if not (course / "gradebook.db").is_file() or not _students_with(course / "autograded", args.lesson):
        raise UsageError(f"nothing autograded for {args.lesson} in {course / 'autograded'}/: run "
                         f"`grader autograde {args.lesson}{_course_option(args)}` first")


def _deadline(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO time such as 2026-03-01T12:00") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _show(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.4g}"


def _number(kind: type, low: float, high: float, unit: str = "", why: str = ""):
    """An argparse type: a ``kind`` (int or float) from ``low`` to ``high``; ``why`` explains a bound."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            noun = "whole number" if kind is int else "number"
            raise argparse.ArgumentTypeError(f"{text!r} is not a {noun}") from None
        if not (math.isfinite(value) and low <= value <= high):
            because = f" ({why})" if why else ""
            raise argparse.ArgumentTypeError(f"{text} is out of range: give {_show(low)} to "
                                             f"{_show(high)}{unit}{because}")
        return value
    return parse


def _memory_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    except (ValueError, OSError, AttributeError):
        return math.inf  # unknown: no bound


def cmd_release(args: argparse.Namespace) -> int:
    from grader import release

    for path in release.generate_student_notebooks(_check_lessons(args.lessons)):
        print(f"wrote {path}")
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    from grader import reference

    for name in _check_lessons(args.lessons):
        seconds = reference.execute_in_place(reference.solution_notebook(name))
        print(f"executed {name} in {seconds:.1f} s")
    return cmd_release(args)


def cmd_check(args: argparse.Namespace) -> int:
    from grader import conventions

    problems = []
    for name in _check_lessons(args.lessons):
        problems += [f"{name}: {p}" for p in conventions.check_lesson(name)]
    print("\n".join(problems) or "all lessons follow the conventions")
    return 1 if problems else 0


def cmd_collect(args: argparse.Namespace) -> int:
    from grader import collect

    _check_lessons([args.lesson])
    try:
        groups = re.compile(args.pattern).groupindex
    except re.error as err:
        raise UsageError(f"--pattern is not a regular expression ({err})") from None
    if "student" not in groups:
        raise UsageError("--pattern needs a named group (?P<student>...) for the student id")
    notebooks = collect.lesson_notebooks(args.lesson, SOLUTIONS_DIR)
    collected = collect.collect(args.source, args.course_dir, args.lesson, pattern=args.pattern,
                                deadline=args.deadline, notebooks=notebooks)
    print(collect.format_report(collected, notebooks))
    return 0


def _check_limits(args: argparse.Namespace) -> None:
    """What argparse cannot check option by option."""
    memory = _memory_gib()
    if args.memory_gb > memory and not getattr(args, "scheduler", None):  # Dask workers may have more
        raise UsageError(f"--memory-gb {args.memory_gb:g} is more than this machine's memory "
                         f"({memory:.1f} GiB): give each kernel less")
    if args.cell_timeout > args.time_limit:
        raise UsageError(f"--cell-timeout {args.cell_timeout} s is longer than --time-limit "
                         f"{args.time_limit:g} s for the whole submission: lower one or raise the other")


def _limits(args: argparse.Namespace):
    from grader import sandbox

    use_bwrap = sandbox.bwrap_works() and not args.no_sandbox
    if not use_bwrap:
        print("warning: bubblewrap is unavailable; kernels run with resource limits only "
              "(no file isolation, see README)", file=sys.stderr)
    return COURSE_LIMITS.replace(cell_timeout_s=args.cell_timeout, total_timeout_s=args.time_limit,
                                 memory_bytes=int(args.memory_gb * GIB), use_bwrap=use_bwrap)


def cmd_autograde(args: argparse.Namespace) -> int:
    _check_limits(args)
    _check_lessons([args.lesson], args.lessons_dir)
    _check_submitted(args)
    limits = _limits(args)
    from grader import autograde

    runner = None
    if args.scheduler:
        from grader.dask_runner import dask_runner

        runner = dask_runner(args.scheduler)
    outcomes = autograde.autograde(args.course_dir, args.lesson, jobs=args.jobs, limits=limits,
                                   students=args.student or None, runner=runner, source=args.lessons_dir)
    print(autograde.format_outcomes(outcomes))
    print(f"status report: {Path(args.course_dir) / 'reports' / f'{args.lesson}-autograde.csv'}")
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    _check_limits(args)
    _check_lessons([args.lesson], args.lessons_dir)
    _check_autograded(args)
    limits = _limits(args)
    from grader.feedback import generate_feedback

    failed = 0
    for result in generate_feedback(args.course_dir, args.lesson, args.student or None, jobs=args.jobs,
                                    limits=limits, source=args.lessons_dir):
        for page in result.pages:
            print(f"wrote {page}")
        if result.problem:
            failed += 1
            print(f"{result.student}: no feedback: {result.problem}")
    return 1 if failed else 0


def cmd_report(args: argparse.Namespace) -> int:
    from grader.report import graded_lessons, report

    course = Path(args.course_dir)
    graded = graded_lessons(course)  # lesson -> submissions, without importing nbgrader
    first = f"run `grader autograde LESSON{_course_option(args)}` first"
    if not graded:
        raise UsageError(f"nothing graded yet in {course}/ (no gradebook or no lesson in it): {first}")
    for name in args.lessons:
        if name not in graded:
            raise UsageError(f"no lesson {name!r} in the gradebook {course / 'gradebook.db'}; "
                             f"it holds: {_listing(sorted(graded))}")
    empty = [name for name in args.lessons or graded if not graded[name]]
    if (args.lessons and empty) or (not args.lessons and len(empty) == len(graded)):
        raise UsageError(f"nothing graded yet for {', '.join(empty)} in {course / 'gradebook.db'}: {first}")
    chosen = list(args.lessons) or [name for name in graded if graded[name]]
    for path in report(course, chosen):
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
    cores = os.cpu_count() or 1
    max_jobs = 4 * max(cores, 1)
    p.add_argument("--jobs", "-j", type=_number(int, 1, max_jobs, why="4 per core at most"),
                   default=cores, help=f"parallel workers on this machine, 1 to {max_jobs} "
                   "(default: the number of cores; each kernel gets one core)")
    p.add_argument("--cell-timeout", type=_number(int, 1, DAY_S, " s"),
                   default=limits.cell_timeout_s,
                   help=f"seconds per cell (default: {limits.cell_timeout_s})")
    p.add_argument("--time-limit", type=_number(float, 1, DAY_S, " s"), default=limits.total_timeout_s,
                   help=f"seconds per submission, all cells and the kernel start "
                        f"(default: {limits.total_timeout_s:g})")
    p.add_argument("--memory-gb", type=_number(float, 0.1, 1024, " GiB"),
                   default=limits.memory_bytes / GIB,
                   help=f"memory of each kernel in GiB (default: {limits.memory_bytes / GIB:g})")
    p.add_argument("--no-sandbox", action="store_true",
                   help="do not use bubblewrap even where it works (resource limits still apply)")


class _Parser(argparse.ArgumentParser):
    """argparse, but a wrong option is one line (with where to read more), not the whole usage."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def cmd_mistakes(args: argparse.Namespace) -> int:
    lesson = _check_lessons([args.lesson], args.lessons_dir)[0]
    bank = args.bank or REPO_ROOT / "tests" / "mistakes" / f"{lesson}.toml"
    if not bank.is_file():
        raise UsageError(f"no bank of mistakes {bank}: write one (format: grader/variants.py) "
                         "or give --bank FILE")
    from grader import mistakes
    from grader.variants import load_variants_file

    variants = [v for v in load_variants_file(bank) if not args.only or v.id in args.only]
    judged = []
    for judgement in mistakes.judge_bank(lesson, variants, source=args.lessons_dir,
                                         limits=COURSE_LIMITS.replace(cell_timeout_s=args.cell_timeout)):
        print(judgement.line, flush=True)
        judged.append(judgement)
    print(mistakes.summary(judged))
    return 0 if all(j.ok for j in judged) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="grader", description=__doc__.split("\n\n")[0])
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

    p = sub.add_parser("mistakes", help="judge a lesson's hidden tests against typical mistakes",
                       description="Run the lesson's solution once in one sandboxed kernel, then each "
                       "typical mistake and correct variant of the bank through the grader's verdicts: "
                       "caught / missed / kept / wrongly rejected, with the failing check's message.")
    p.add_argument("lesson", help="lesson slug")
    p.add_argument("--bank", type=Path, help="a TOML bank of [[mistake]] and [[correct]] entries "
                   "(default: tests/mistakes/LESSON.toml)")
    p.add_argument("--only", action="append", metavar="ID", help="only this variant (repeatable)")
    p.add_argument("--cell-timeout", type=_number(int, 1, DAY_S, " s"),
                   default=COURSE_LIMITS.cell_timeout_s, help="seconds per cell")
    _lessons_dir(p)
    p.set_defaults(func=cmd_mistakes)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; a slip (:class:`UsageError`) is one line on stderr and exit status 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as err:
        print(f"grader: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
