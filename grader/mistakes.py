"""``grader mistakes LESSON``: mutation testing for a lesson's hidden tests, in seconds per variant.

An instructor's hidden tests are only as good as the mistakes they catch. This runs a bank of
typical mistakes and correct alternatives (``tests/mistakes/<lesson>.toml``, or ``--bank FILE``;
format in :mod:`grader.variants`) against the lesson's tests, and says for each one: *caught*
(its exercise lost all its points), *missed*, *kept* (a correct variant kept them) or *wrongly
rejected*, with the failing check's message.

It is built for speed and uses the grading path itself. One sandboxed kernel
(:class:`grader.preprocessors.GuardedExecute`, guard and verdicts included) runs the solution top
to bottom once; its probes' observations are the reference. Then, for each variant, only the
variant's answer cell and the rest of its exercise run again (and its test cells are scored as
``nbgrader autograde`` scores them: nbgrader's own ``IgnorePattern`` and ``determine_grade``).
The variants run grouped by answer cell, the groups in the order their cells first appear in the
bank (its mistakes, then its correct variants), and after each group but the last the solution's
cells from that answer cell to the exercise's last test run once more to put the kernel back. So
a training cell is trained once per variant plus once for the group; a bank puts the entries of
its most expensive answer cell last, and that cell is never run again (lesson 09's bank does:
its training cell comes last, after the cell of ``load_best``, which needs no training).

The state a variant starts from is the solution's, except for what earlier variants did to
objects made before their own cells (loading other weights into a model an earlier exercise
trained), which re-running an exercise does not undo, and for names that an earlier exercise's
cells, run again, bound after a later exercise had bound them (a test cell that makes callbacks
of its own). So the fast pass is trusted only where it agrees with the bank: a mistake it
*missed* or a correct variant it *rejected* is judged again on its own, in a fresh kernel that
runs the solution first, and that judgement is the one reported, marked "judged again on its
own". That costs a whole run of the lesson, so a bank lists an entry that changes such an object
last among its cell's entries (lesson 07's bank does), and the cells that need such a name first
(lesson 09's does). A variant cannot cost another exercise points here (no other exercise runs
again); the grading tests' round trip through a real gradebook covers that. A variant that kills
the kernel is reported, and the rest go on in a fresh one.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.preprocessors import IgnorePattern
from nbgrader.utils import determine_grade

from grader.cells import grade_id, is_answer_cell, is_test_cell
from grader.config import SOLUTIONS_DIR, STDERR_NOISE_PATTERN
from grader.expected import solution_submission
from grader.limits import COURSE_LIMITS, Limits, limits_to_json
from grader.preprocessors.guarded_execute import GuardedExecute
from grader.run_nbgrader import lesson_notebook
from grader.variants import Variant, exercise_of_cells

CAUGHT, MISSED, KEPT, REJECTED, BROKE = "caught", "missed", "kept", "wrongly rejected", "kernel died"


@dataclass
class Judgement:
    """What grading would do with one variant."""

    variant: Variant
    exercise: str
    outcome: str  # CAUGHT, MISSED, KEPT, REJECTED or BROKE
    lost: float = 0.0
    points: float = 0.0
    message: str = ""
    judged_alone: bool = False  # the fast pass disagreed; this is the judgement of a fresh kernel

    @property
    def ok(self) -> bool:
        return self.outcome in (CAUGHT, KEPT)

    @property
    def line(self) -> str:
        kind = "correct" if self.variant.correct else "mistake"
        message = " ".join(self.message.replace("\x1b[0m", "").replace("\x1b[1m", "").split())
        detail = f": {message[:300]}" if message else ""
        alone = " [judged again on its own]" if self.judged_alone else ""
        return (f"{self.outcome:<16} exercise {self.exercise:<3} {kind:<8} {self.variant.id} "
                f"(lost {self.lost:g} of {self.points:g}){alone}{detail}")


@dataclass
class _Step:
    """One cell of the schedule: which variant it belongs to and what it is for."""

    variant: int | None  # None: the solution's pass
    role: str  # "solution", "judge" or "restore"


class _Solution(RuntimeError):
    pass


class BankExecute(GuardedExecute):
    """GuardedExecute over a schedule of cells; the solution's pass is the reference."""

    def start_schedule(self, steps: list[_Step]) -> None:
        self._steps = steps
        self._bank_reference: dict[str, dict[str, list[Any]]] = {}
        self.scored: dict[int, tuple[str, float, float, str]] = {}  # index -> gid, score, max, why
        self._ignore = IgnorePattern(pattern=STDERR_NOISE_PATTERN, enabled=True)

    def _judge(self, cell, prepared):
        gid = grade_id(cell) or "?"
        step = self._steps[self._current]
        from grader import verdicts

        if step.role == "solution":  # recorded as the reference is (grader.expected), and checked
            self._bank_reference[gid] = self._observed
            return super()._judge(cell, prepared)
        return prepared.problems + verdicts.judge(prepared.checks, self._observed,
                                                  self._bank_reference.get(gid, {}))

    def _run_test_cell(self, cell, resources, index):
        self._current = index
        cell, resources = super()._run_test_cell(cell, resources, index)
        self._ignore.preprocess_cell(cell, resources, index)
        score, points = determine_grade(cell)
        errors = [o for o in cell.outputs if o.output_type == "error"]
        why = f"{errors[0].ename}: {errors[0].evalue}" if errors else (
            "wrote to stderr" if score == 0 else "")
        self.scored[index] = (grade_id(cell) or "?", float(score or 0.0), points, why)
        if self._steps[index].role == "solution" and score != points:
            raise _Solution(f"the solution loses points on {grade_id(cell)}: {why[:300]}")
        return cell, resources


def _segments(nb) -> dict[str, tuple[int, int]]:
    """For each exercise, the span of cells from its first answer cell to its last graded cell."""
    owner = exercise_of_cells(nb)
    spans: dict[str, tuple[int, int]] = {}
    for index, cell in enumerate(nb.cells):
        gid = grade_id(cell)
        if gid in owner and (is_answer_cell(cell) or is_test_cell(cell)):
            first, _ = spans.get(owner[gid], (index, index))
            spans[owner[gid]] = (first, index)
    return spans


def judge_bank(lesson: str, variants: list[Variant], *, source: Path = SOLUTIONS_DIR,
               limits: Limits = COURSE_LIMITS, reference_to: Path | None = None) -> Iterator[Judgement]:
    """Judge every variant (see the module's docstring); yields one judgement per variant.

    The solution's pass is exactly the lesson's reference run (:mod:`grader.expected`: the
    solution graded in reference mode, every verdict checked against its own values), so with
    ``reference_to`` (a course's ``expected.reference_path``) it is also kept there, and an
    autograde of the lesson that follows does not run the solution again.
    """
    submission = nbformat.reads(solution_submission(lesson, source)[lesson].decode(), as_version=4)
    solution = nbformat.read(lesson_notebook(lesson, source), as_version=4)
    tests = {grade_id(c): c.source for c in solution.cells if is_test_cell(c)}
    for cell in submission.cells:  # as nbgrader's autograde does: test cells as the gradebook has them
        if is_test_cell(cell):
            cell.source = tests[grade_id(cell)]
    owner = exercise_of_cells(submission)
    unknown = [v.id for v in variants if v.cell not in owner]
    if unknown:
        raise ValueError(f"variants name answer cells the lesson does not have: {', '.join(unknown)}")
    remaining = grouped_by_cell(variants)
    while remaining:
        done = list(_run(lesson, submission, owner, remaining, source, limits, reference_to))
        reference_to = None  # the first run's solution pass is the reference
        for judgement in done:
            if judgement.outcome in (MISSED, REJECTED) and len(variants) > 1:  # on its own, to be sure
                alone = next(_run(lesson, submission, owner, [judgement.variant], source, limits, None))
                judgement = replace(alone, judged_alone=True)
            yield judgement
        remaining = remaining[len(done):]


def grouped_by_cell(variants: list[Variant]) -> list[Variant]:
    """The variants of each answer cell together, cells in order of first appearance (stable).

    A bank lists its mistakes and then its correct variants (two TOML arrays), so without this an
    exercise's cells would be put back (and a training exercise trained again) once for its
    mistakes and once more for its correct variants.
    """
    order: dict[str, int] = {}
    for variant in variants:
        order.setdefault(variant.cell, len(order))
    return sorted(variants, key=lambda v: order[v.cell])


def _run(lesson: str, submission, owner: dict[str, str], variants: list[Variant], source: Path,
         limits: Limits, reference_to: Path | None) -> Iterator[Judgement]:
    spans = _segments(submission)
    cells, steps = [copy.deepcopy(c) for c in submission.cells], [_Step(None, "solution")] * len(
        submission.cells)
    ranges: list[list[int]] = []
    for k, variant in enumerate(variants):
        _, last = spans[owner[variant.cell]]
        start = next(i for i, c in enumerate(submission.cells) if grade_id(c) == variant.cell)
        judged = []
        for i in range(start, last + 1):
            cell = copy.deepcopy(submission.cells[i])
            if grade_id(cell) == variant.cell:
                cell.source = variant.source.strip("\n")
            judged.append(len(cells))
            cells.append(cell)
            steps.append(_Step(k, "judge"))
        ranges.append(judged)
        if k + 1 == len(variants) or variants[k + 1].cell == variant.cell:
            continue  # nothing follows, or the next variant runs these cells again first
        for i in range(start, last + 1):
            if not is_test_cell(submission.cells[i]):
                cells.append(copy.deepcopy(submission.cells[i]))
                steps.append(_Step(k, "restore"))
    nb = copy.deepcopy(submission)
    nb.cells = cells
    executor = BankExecute(timeout=int(limits.cell_timeout_s), limits_json=limits_to_json(limits),
                           guard=True, reference_mode=True)
    executor.start_schedule(steps)
    workdir = Path(tempfile.mkdtemp(prefix="grader-mistakes-"))
    try:
        for extra in (Path(source) / lesson).iterdir():
            if extra.is_file() and extra.suffix != ".ipynb":
                shutil.copy(extra, workdir / extra.name)
        resources = {"metadata": {"path": str(workdir)},
                     "nbgrader": {"notebook": lesson, "assignment": lesson, "student": "mistakes"}}
        try:
            executor.preprocess(nb, resources)
        except _Solution as err:
            raise RuntimeError(str(err)) from None
        unscored = [grade_id(c) for i, c in enumerate(submission.cells)
                    if is_test_cell(c) and i not in executor.scored]
        if unscored:
            raise RuntimeError(f"the solution's pass did not reach {', '.join(map(str, unscored))}: "
                               f"{executor._dead or 'see the notebook'}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if reference_to is not None:
        from grader import expected

        expected.store(reference_to, lesson, source, {lesson: executor._evidence.observations})
    for k, variant in enumerate(variants):
        exercise = owner[variant.cell]
        results = [executor.scored[i] for i in ranges[k] if i in executor.scored]
        points = sum(r[2] for r in results)
        lost = sum(r[2] - r[1] for r in results)
        if executor._dead is not None and (not results or any("KernelDied" in r[3] for r in results)):
            yield Judgement(variant, exercise, BROKE, lost, points, executor._dead)
            return  # the rest run again in a fresh kernel
        message = next((r[3] for r in results if r[1] < r[2]), "")[:400]
        if variant.correct:
            outcome = KEPT if lost == 0 else REJECTED
        else:
            outcome = CAUGHT if results and lost == points else MISSED
        yield Judgement(variant, exercise, outcome, lost, points, message)


def summary(judgements: list[Judgement]) -> str:
    """One line: how many mistakes were caught and how many correct variants kept."""
    mistakes = [j for j in judgements if not j.variant.correct]
    correct = [j for j in judgements if j.variant.correct]
    caught = sum(j.outcome == CAUGHT for j in mistakes)
    kept = sum(j.outcome == KEPT for j in correct)
    return (f"{caught} of {len(mistakes)} mistakes caught, {kept} of {len(correct)} correct variants kept"
            + ("" if caught == len(mistakes) and kept == len(correct) else " (see the lines above)"))
