"""Benchmark: ``nbgrader autograde`` one by one versus ``grader autograde --jobs N``, same class.

    .venv/bin/python benchmarks/autograde.py --copies 16 --jobs 2

Builds COPIES submissions of a lesson (the solution and each typical mistake from
``tests/mistakes/``, in turn), releases the lesson once into a gradebook, copies that course folder
twice and grades one copy with a single ``nbgrader autograde`` (which grades them one after
another) and the other with the course's parallel, sandboxed grader. Prints both wall times, their
ratio, the cost per submission, peak memory (whole process tree: nbgrader plus kernel) and whether
every cell's score is the same in both gradebooks.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader import sandbox  # noqa: E402
from grader.autograde import autograde  # noqa: E402
from grader.config import nbgrader_cli_args, nbgrader_settings  # noqa: E402
from grader.gradebook_merge import db_url  # noqa: E402
from grader.grading_job import Limits, run_limited  # noqa: E402
from grader.nbgrader import run_nbgrader, subprocess_env  # noqa: E402
from grader.submissions import build_submission, load_variants  # noqa: E402
from kerascourse.paths import REPO_ROOT  # noqa: E402


def build_class(course: Path, lesson: str, copies: int) -> list[str]:
    """Release the lesson into ``course`` and write ``copies`` mixed submissions."""
    settings = nbgrader_settings(course, release=course / "release")
    run_nbgrader("generate_assignment", [lesson, "--force"], settings)
    student_nb = nbformat.read(course / "release" / lesson / f"{lesson}.ipynb", as_version=4)
    solution_nb = nbformat.read(REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    kinds = [("solution", None), *[(v.id, v) for v in load_variants(lesson)]]
    students = []
    for i in range(copies):
        kind, variant = kinds[i % len(kinds)]
        nb = build_submission(student_nb, solution_nb, {variant.cell: variant.source} if variant else None)
        student = f"s{i:02d}-{kind}"
        folder = course / "submitted" / student / lesson
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{lesson}.ipynb")
        students.append(student)
    return students


def scores(course: Path, lesson: str, students: list[str]) -> dict[str, dict[str, float | None]]:
    with Gradebook(db_url(course)) as gb:
        return {s: {g.name: g.auto_score for g in gb.find_submission_notebook(lesson, lesson, s).grades}
                for s in students}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lesson", default="01-sequential-models")
    parser.add_argument("--copies", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="grader-benchmark-") as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        students = build_class(base, args.lesson, args.copies)
        serial, parallel = Path(tmp) / "serial", Path(tmp) / "parallel"
        shutil.copytree(base, serial)
        shutil.copytree(base, parallel)

        settings = nbgrader_settings(serial, release=serial / "release")
        cmd = [sys.executable, "-m", "nbgrader", "autograde", args.lesson, "--create", "--force",
               *nbgrader_cli_args(settings)]
        one_by_one = run_limited(cmd, cwd=serial, env=subprocess_env(), timeout_s=7200)
        if one_by_one.returncode != 0:
            print(one_by_one.log[-3000:])
            return 1

        start = time.perf_counter()
        limits = Limits(use_bwrap=sandbox.bwrap_works())
        outcomes = autograde(parallel, args.lesson, jobs=args.jobs, limits=limits)
        parallel_s = time.perf_counter() - start

        a, b = scores(serial, args.lesson, students), scores(parallel, args.lesson, students)
        differ = [s for s in students if a[s] != b[s]]
        n = len(students)
        peaks = [o.peak_rss_mb for o in outcomes]
        mistakes = {v.id for v in load_variants(args.lesson) if not v.correct}
        wrong = sum(1 for s in students if s.split("-", 1)[1] in mistakes)
        print(f"submissions:               {n} copies of {args.lesson} "
              f"({n - wrong} correct, {wrong} with one typical mistake)")
        print(f"cores:                     {os.cpu_count()}; workers: {args.jobs}; "
              f"sandbox: {'bubblewrap' if limits.use_bwrap else 'resource limits only'}")
        print(f"nbgrader autograde (1x1):  {one_by_one.seconds:7.1f} s  "
              f"({one_by_one.seconds / n:5.1f} s per submission)")
        print(f"grader autograde -j {args.jobs}:    {parallel_s:7.1f} s  "
              f"({parallel_s / n:5.1f} s per submission of wall time; "
              f"{statistics.mean(o.seconds for o in outcomes):5.1f} s each in its worker)")
        print(f"speed-up:                  {one_by_one.seconds / parallel_s:7.2f}x")
        print(f"peak memory, nbgrader 1x1: {one_by_one.peak_rss_bytes / 2**20:7.0f} MiB (nbgrader + kernel)")
        print(f"peak memory per worker:    {statistics.mean(peaks):7.0f} MiB mean, {max(peaks):.0f} MiB max "
              "(nbgrader + sandboxed kernel)")
        print(f"statuses:                  {sorted({o.status for o in outcomes})}")
        print(f"scores identical:          {'yes' if not differ else 'NO: ' + ', '.join(differ)}"
              f" ({n} submissions, {len(next(iter(a.values())))} graded cells each)")
        return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
