"""Every lesson's grading, two ways: the whole pipeline once, and every bank entry fast.

- **The round trip** (``TestLessonNN``): in a scratch course folder ``grader autograde`` (sandbox,
  guard, reference, verdicts, a real gradebook) grades the full solution, the untouched student
  notebook and one round of typical mistakes (the first mistake of every exercise, in one
  submission). With ``GRADER_FULL_ROUNDS=1`` (``make test-full``, CI's weekly run) it grades every
  round: round ``r`` holds the ``r``-th mistake of every exercise, and the correct variants in
  rounds the same way, which must keep full marks. The solution scores full marks, the untouched
  notebook zero, every status is ``graded``, and each mistake of the round loses exactly its own
  exercise's points: an exercise's test runs after its own answer, and the round shows no mistake
  costs another exercise its points.
- **The bank** (``test_bank``, first): ``grader mistakes`` (:mod:`grader.mistakes`, the same
  verdicts and nbgrader's scoring) judges every entry of ``tests/mistakes/<lesson>.toml`` in one
  sandboxed kernel: every mistake caught (its exercise loses all its points), every correct
  variant kept. Its solution pass is the lesson's reference run, so it leaves the reference in
  the round trip's course folder and the round trip's autograde does not grade the solution a
  second time for it (run alone, the round trip computes it, as any autograde does).

Each lesson is one test class, so ``--dist loadscope`` spreads the lessons over the workers.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict

import nbformat
import pytest
from helpers import LESSONS, read_nb, solution_path
from nbgrader.api import Gradebook

from grader.autograde import autograde
from grader.cells import grade_id, is_answer_cell
from grader.config import SOLUTIONS_DIR, nbgrader_settings
from grader.expected import is_current, reference_path
from grader.gradebook import db_url
from grader.limits import COURSE_LIMITS
from grader.merge import Status
from grader.mistakes import judge_bank
from grader.run_nbgrader import run_nbgrader
from grader.sandbox import bwrap_works
from grader.variants import Variant, build_submission, exercise_of_cells, load_variants

FULL = os.environ.get("GRADER_FULL_ROUNDS") == "1"  # every round through the real autograde


def rounds(variants: list[Variant], owner: dict[str, str]) -> list[list[Variant]]:
    """Group variants so no round holds two for the same exercise."""
    by_exercise: dict[str, list[Variant]] = defaultdict(list)
    for v in variants:
        by_exercise[owner[v.cell]].append(v)
    depth = max((len(vs) for vs in by_exercise.values()), default=0)
    return [[vs[r] for vs in by_exercise.values() if r < len(vs)] for r in range(depth)]


def _scores(course, lesson, students):
    """{student: {test grade_id: (score, max)}} for the autograded (code) cells."""
    with Gradebook(db_url(course)) as gb:
        return {s: {g.name: (g.auto_score, g.max_score) for g in
                    gb.find_submission_notebook(lesson, lesson, s).grades if g.cell_type == "code"}
                for s in students}


def round_trip(lesson, course, record_property):
    course.mkdir(exist_ok=True)  # the bank may have left the lesson's reference in it
    reused = is_current(reference_path(course, lesson), SOLUTIONS_DIR, lesson)
    run_nbgrader("generate_assignment", [lesson, "--force"],
                 nbgrader_settings(course, release=course / "release"))
    student_nb = read_nb(course / "release" / lesson / f"{lesson}.ipynb")
    solution_nb = read_nb(solution_path(lesson))
    owner = exercise_of_cells(solution_nb)
    variants = load_variants(lesson)
    mistakes = rounds([v for v in variants if not v.correct], owner)
    corrects = rounds([v for v in variants if v.correct], owner) if FULL else []
    mistakes = mistakes if FULL else mistakes[:1]
    submissions = {"solution": build_submission(student_nb, solution_nb), "untouched": student_nb}
    for kind, groups in (("mistakes", mistakes), ("correct", corrects)):
        for r, group in enumerate(groups, start=1):
            submissions[f"{kind}-{r}"] = build_submission(student_nb, solution_nb,
                                                          {v.cell: v.source for v in group})
    for student, nb in submissions.items():
        folder = course / "submitted" / student / lesson
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{lesson}.ipynb")

    start = time.perf_counter()
    limits = COURSE_LIMITS.replace(use_bwrap=bwrap_works())
    outcomes = {o.student: o for o in autograde(course, lesson, jobs=1, limits=limits, progress=False)}
    record_property(f"seconds:autograde {len(submissions)} submissions of {lesson}"
                    + ("" if reused else " (and its reference)"), time.perf_counter() - start)

    statuses = {s: (o.line, o.notes) for s, o in outcomes.items() if o.status is not Status.GRADED}
    assert not statuses, f"submissions not simply graded: {statuses}"
    scores = _scores(course, lesson, submissions)
    full = scores["solution"]
    assert full and all(s == m for s, m in full.values()), f"the solution lost points: {full}"
    untouched = scores["untouched"]
    assert all(s == 0 for s, _ in untouched.values()), f"the untouched notebook scored: {untouched}"
    for r, group in enumerate(mistakes, start=1):
        lost = {owner[v.cell] for v in group}
        expected = {gid: (0.0 if owner[gid] in lost else m, m) for gid, (_, m) in full.items()}
        got = scores[f"mistakes-{r}"]
        assert got == expected, _explain(group, owner, expected, got)
    for r, group in enumerate(corrects, start=1):
        assert scores[f"correct-{r}"] == full, _explain(group, owner, full, scores[f"correct-{r}"])


def judge_the_bank(lesson, course, record_property):
    variants = load_variants(lesson)
    solution_nb = read_nb(solution_path(lesson))
    graded = {grade_id(c) for c in solution_nb.cells if is_answer_cell(c)}
    assert {v.cell for v in variants if not v.correct} >= graded, (
        "every graded exercise needs at least one typical mistake in tests/mistakes/")
    start = time.perf_counter()
    judged = list(judge_bank(lesson, variants, limits=COURSE_LIMITS.replace(use_bwrap=bwrap_works()),
                             reference_to=reference_path(course, lesson)))
    record_property(f"seconds:grader mistakes {lesson} ({len(variants)} variants)",
                    time.perf_counter() - start)
    wrong = [j.line for j in judged if not j.ok]
    assert not wrong, "\n".join(wrong)
    assert len(judged) == len(variants)
    again = [j.variant.id for j in judged if j.judged_alone]
    assert not again, (f"judged again on its own, a whole extra run of the lesson: {again}. What ran "
                       "before it in the bank's kernel changed what it starts from: list last an entry "
                       "that changes an earlier exercise's object, and first a cell whose exercise needs "
                       "names that an earlier exercise's cells rebind (CONTRIBUTING.md)")


def _explain(group: list[Variant], owner: dict[str, str], expected: dict, got: dict) -> str:
    caught = [f"exercise {owner[v.cell]}: {v.id} ({v.why})" for v in group]
    wrong = {gid: (got.get(gid), want) for gid, want in expected.items() if got.get(gid) != want}
    return f"round of {caught}: cells (got, expected) that differ: {wrong}"


@pytest.fixture(scope="class")
def course(tmp_path_factory):
    """The lesson's scratch course folder, shared by its bank (the reference) and its round trip."""
    return tmp_path_factory.mktemp("graded") / "course"


def _lesson_class(lesson: str) -> type:
    @pytest.mark.notebook
    def test_bank(self, course, record_property):
        judge_the_bank(lesson, course, record_property)

    @pytest.mark.notebook
    def test_round_trip(self, course, record_property):
        round_trip(lesson, course, record_property)

    return type(f"TestLesson{lesson[:2]}", (), {"test_bank": test_bank, "test_round_trip": test_round_trip,
                                                "lesson": lesson})


for _lesson in LESSONS:
    globals()[f"TestLesson{_lesson[:2]}"] = _lesson_class(_lesson)


def test_rounds_never_hold_two_variants_of_one_exercise():
    owner = {"a1": "1", "a2": "2"}
    vs = [Variant(str(i), "", cell, "", False) for i, cell in enumerate(["a1", "a1", "a2", "a1"])]
    grouped = rounds(vs, owner)
    assert [[v.id for v in g] for g in grouped] == [["0", "2"], ["1"], ["3"]]
