"""``grader``: the course's command line for authors and instructors.

    grader release [LESSON ...]   regenerate the student notebooks from solutions/
    grader refresh LESSON ...     re-run instructor notebooks in place (reference outputs), then release
    grader check [LESSON ...]     check the lesson conventions (see CONTRIBUTING.md)
    grader collect LESSON SOURCE  import LMS submissions (instructors; see grader/instructor_cli.py)
    grader autograde LESSON       grade all submissions in parallel, sandboxed
    grader feedback LESSON        per-student HTML feedback without hidden tests
    grader report [LESSON ...]    per-exercise scores (CSV) and an overview picture

Every command has ``--help``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from grader import conventions, instructor_cli, reference, release
from grader.nbgrader import lessons


def _lesson_names(names: Sequence[str]) -> list[str]:
    known = lessons()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown lesson(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return list(names) or known


def cmd_release(args: argparse.Namespace) -> int:
    for path in release.generate_student_notebooks(_lesson_names(args.lessons)):
        print(f"wrote {path}")
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    names = _lesson_names(args.lessons)
    for name in names:
        seconds = reference.execute_in_place(reference.solution_notebook(name))
        print(f"executed {name} in {seconds:.1f} s")
    return cmd_release(args)


def cmd_check(args: argparse.Namespace) -> int:
    problems = []
    for name in _lesson_names(args.lessons):
        problems += [f"{name}: {p}" for p in conventions.check_lesson(name)]
    print("\n".join(problems) or "all lessons follow the conventions")
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="regenerate student notebooks from solutions/")
    p.add_argument("lessons", nargs="*", help="lesson slugs (default: all)")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("refresh", help="re-run solution notebooks in place, then release")
    p.add_argument("lessons", nargs="*", help="lesson slugs (default: all)")
    p.set_defaults(func=cmd_refresh)

    p = sub.add_parser("check", help="check lessons against the authoring conventions")
    p.add_argument("lessons", nargs="*", help="lesson slugs (default: all)")
    p.set_defaults(func=cmd_check)

    instructor_cli.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
