"""Benchmark: the course's grader on one class, several ways, in one run.

    .venv/bin/python benchmarks/autograde.py --copies 12 --jobs 2 --dask-workers 0

Builds COPIES submissions of a lesson (the solution, each typical mistake and each correct
variant from ``tests/mistakes/``, in turn), releases the lesson once into a gradebook, computes
its reference (the solution's observations, once per lesson), copies that course folder and
grades each copy:

0. plain ``nbgrader autograde`` (one process, one submission after another, no sandbox, no
   verdicts: hidden probes only observe there), the anchor every figure is compared with;
1. ``grader autograde --jobs N`` on this machine, with the guard (what instructors run);
2. the same without the guard (sandbox and verdicts unchanged): the cost of the guard;
3. ``grader autograde --scheduler`` on a Dask cluster of W single-threaded workers started here.

Prints wall times, cost per submission, peak memory (whole process tree: nbgrader plus kernel),
the speed-up over plain nbgrader, and whether every cell's score is the same in the course's
gradebooks. Figures, not assertions: timings depend on the machine and on what else runs on it.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_distributed_grading import Cluster  # noqa: E402

from grader import sandbox  # noqa: E402
from grader.autograde import autograde  # noqa: E402
from grader.config import nbgrader_settings  # noqa: E402
from grader.dask_runner import dask_runner  # noqa: E402
from grader.expected import ensure as ensure_reference  # noqa: E402
from grader.gradebook import db_url  # noqa: E402
from grader.limits import COURSE_LIMITS  # noqa: E402
from grader.run_nbgrader import run_nbgrader  # noqa: E402
from grader.variants import build_submission, load_variants  # noqa: E402


def build_class(course: Path, lesson: str, copies: int) -> list[str]:
    """Release the lesson into ``course`` and write ``copies`` mixed submissions."""
    settings = nbgrader_settings(course, release=course / "release")
    run_nbgrader("generate_assignment", [lesson, "--force"], settings)
    student_nb = nbformat.read(course / "release" / lesson / f"{lesson}.ipynb", as_version=4)
    solution_nb = nbformat.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
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
    parser.add_argument("--copies", type=int, default=32)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--dask-workers", type=int, default=2, help="0: skip the cluster run")
    parser.add_argument("--no-guard-run", action="store_true", help="skip the run without the guard")
    args = parser.parse_args()

    limits = COURSE_LIMITS.replace(use_bwrap=sandbox.bwrap_works())
    with tempfile.TemporaryDirectory(prefix="grader-benchmark-") as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        students = build_class(base, args.lesson, args.copies)
        start = time.perf_counter()
        ensure_reference(base, args.lesson, limits=limits)
        print(f"reference of {args.lesson} (once per lesson, cached): {time.perf_counter() - start:.1f} s")
        runs: dict[str, tuple[float, list]] = {}

        plain = Path(tmp) / "plain"
        shutil.copytree(base, plain)
        settings = {k: v for k, v in nbgrader_settings(plain, release=plain / "release").items()
                    if k.startswith("CourseDirectory.") or k.startswith("IgnorePattern.")}
        settings["Execute.timeout"] = limits.cell_timeout_s
        start = time.perf_counter()
        run_nbgrader("autograde", [args.lesson, "--force"], settings)
        plain_seconds = time.perf_counter() - start

        def run(label: str, **kw) -> None:
            course = Path(tmp) / label.split()[0]
            shutil.copytree(base, course)
            start = time.perf_counter()
            outcomes = autograde(course, args.lesson, limits=limits, progress=False, **kw)
            runs[label] = (time.perf_counter() - start, outcomes, scores(course, args.lesson, students))

        run(f"local -j {args.jobs}, guard on", jobs=args.jobs)
        if not args.no_guard_run:
            run(f"unguarded -j {args.jobs}, guard off", jobs=args.jobs, guard=False)
        if args.dask_workers:
            with Cluster(Path(tmp), workers=args.dask_workers) as cluster:
                run(f"dask {args.dask_workers} workers, guard on", runner=dask_runner(cluster.address))

        n = len(students)
        mistakes = {v.id for v in load_variants(args.lesson) if not v.correct}
        wrong = sum(1 for s in students if s.split("-", 1)[1] in mistakes)
        print(f"submissions: {n} copies of {args.lesson} "
              f"({n - wrong} correct, {wrong} with one typical mistake)")
        jail = "bubblewrap" if limits.use_bwrap else "resource limits only"
        print(f"cores: {os.cpu_count()}; sandbox: {jail}")
        print(f"{'plain nbgrader autograde':<28} {plain_seconds:7.1f} s  ({plain_seconds / n:5.1f} s per "
              "submission, one process, no sandbox, no verdicts)")
        reference = next(iter(runs.values()))[2]
        for label, (seconds, outcomes, got) in runs.items():
            peaks = [o.peak_rss_mb for o in outcomes if o.peak_rss_mb]
            inside = statistics.mean(o.seconds for o in outcomes if o.seconds)
            print(f"{label:<28} {seconds:7.1f} s  ({seconds / n:5.1f} s per submission of wall time; "
                  f"{inside:5.1f} s each in its worker; peak {max(peaks, default=0):.0f} MiB; "
                  f"statuses {sorted({o.line for o in outcomes})}; "
                  f"scores {'identical' if got == reference else 'DIFFERENT'}; "
                  f"{plain_seconds / seconds:.2f}x plain nbgrader)")
        merges = [o.merge_seconds for _, outcomes, _ in runs.values() for o in outcomes if o.merge_seconds]
        inside = [o.seconds for _, outcomes, _ in runs.values() for o in outcomes if o.seconds]
        if merges and inside:
            per, merge = statistics.mean(inside), statistics.mean(merges)
            print(f"per submission: {per:.1f} s of one core in its worker, {merge:.2f} s merging in the "
                  f"parent (serial): N one-core workers grade about N/{per:.0f} submissions per second, "
                  f"up to about {1 / merge:.0f} per second, where the merge becomes the limit "
                  f"(~{per / merge:.0f} workers)")
        labels = list(runs)
        if not args.no_guard_run:
            guarded, unguarded = runs[labels[0]][0], runs[labels[1]][0]
            print(f"cost of the guard: {100 * (guarded / unguarded - 1):+.1f}% of the grading time")
        return 0 if all(r[2] == reference for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
