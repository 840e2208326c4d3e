"""``grader mistakes``: the command judges a bank through the grader's verdicts, on the tiny lesson.

The bank (``tests/fixtures/mistakes/00-tiny.toml``) has mistakes only a hidden check catches, one
only the visible test catches, one that kills the kernel (the rest must go on in a fresh kernel),
and correct answers written differently.
"""

from __future__ import annotations

import pytest
from helpers import FIXTURE_LESSONS, REPO_ROOT

from grader import expected
from grader.cli import main as grader_main
from grader.limits import COURSE_LIMITS
from grader.mistakes import BROKE, CAUGHT, KEPT, MISSED, grouped_by_cell, judge_bank
from grader.sandbox import bwrap_works
from grader.variants import Variant, load_variants_file

pytestmark = pytest.mark.notebook
BANK = REPO_ROOT / "tests" / "fixtures" / "mistakes" / "00-tiny.toml"


@pytest.fixture(scope="module")
def bank_reference(tmp_path_factory):
    return tmp_path_factory.mktemp("bank") / "reference.json"


@pytest.fixture(scope="module")
def judged(bank_reference):
    variants = load_variants_file(BANK) + [
        Variant("does-nothing", "a mistake the tests cannot see", "ex1-answer",
                "def add(a, b):\n    return a + b\nprint('hello')", False),
        # Two correct answers, the first leaving a name behind that changes what the second does:
        # in the shared kernel the second is rejected, alone (as a submission would be) it is kept.
        Variant("leaves-a-name", "correct, and leaves a name", "ex2-answer",
                "def mean(xs):\n    return sum(xs) / len(xs)\nleft_behind = True", True),
        Variant("reads-the-name", "correct on its own", "ex2-answer",
                "def mean(xs):\n    return 0 if 'left_behind' in globals() else sum(xs) / len(xs)", True)]
    limits = COURSE_LIMITS.replace(use_bwrap=bwrap_works(), cell_timeout_s=60)
    return {j.variant.id: j for j in judge_bank("00-tiny", variants, source=FIXTURE_LESSONS, limits=limits,
                                                reference_to=bank_reference)}


def test_each_variant_is_judged_as_grading_would(judged):
    assert judged["subtracts"].outcome == CAUGHT and "add(1, 2) should be 3" in judged["subtracts"].message
    for hidden_only in ("right-for-the-visible-test-only", "integer-division", "median-not-mean"):
        assert judged[hidden_only].outcome == CAUGHT, judged[hidden_only].line
        assert judged[hidden_only].message.startswith("HiddenCheckFailed"), judged[hidden_only].line
    assert judged["builtin-sum"].outcome == KEPT and judged["statistics-mean"].outcome == KEPT
    assert judged["does-nothing"].outcome == MISSED and not judged["does-nothing"].ok


def test_an_entry_rejected_after_another_is_judged_again_on_its_own(judged):
    again = judged["reads-the-name"]
    assert again.outcome == KEPT and again.judged_alone, again.line
    assert "[judged again on its own]" in again.line
    assert judged["leaves-a-name"].outcome == KEPT and not judged["leaves-a-name"].judged_alone


def test_a_kernel_that_dies_is_reported_and_the_rest_go_on(judged):
    assert judged["kills-the-kernel"].outcome == BROKE and not judged["kills-the-kernel"].ok
    assert judged["median-not-mean"].outcome == CAUGHT  # after the death, in a fresh kernel


def test_the_command_prints_a_line_per_variant_and_fails_on_a_miss(capsys):
    code = grader_main(["mistakes", "00-tiny", "--lessons-dir", str(FIXTURE_LESSONS), "--bank", str(BANK),
                        "--only", "subtracts", "--only", "builtin-sum"])
    out = capsys.readouterr().out
    assert code == 0 and "1 of 1 mistakes caught, 1 of 1 correct variants kept" in out, out
    assert out.count("exercise 1") == 2


def test_the_solution_pass_is_the_lessons_reference(judged, bank_reference, tmp_path):
    """What the bank keeps with ``reference_to`` is what autograde would compute (and is current)."""
    course = tmp_path / "course"
    course.mkdir()
    computed = expected.ensure(course, "00-tiny", FIXTURE_LESSONS,
                               COURSE_LIMITS.replace(use_bwrap=bwrap_works(), cell_timeout_s=60))
    assert expected.is_current(bank_reference, FIXTURE_LESSONS, "00-tiny")
    assert expected.load(bank_reference) == expected.load(computed)
    observed = expected.load(bank_reference)["00-tiny"]
    assert observed["ex1-tests"]["sums"] == [[42, -4, 1024]], observed  # the solution's own values


def test_variants_run_grouped_by_cell_so_each_exercise_is_put_back_once():
    """A bank lists mistakes, then correct variants: an exercise's two runs of entries become one."""
    bank = [Variant(name, "", cell, "", correct) for name, cell, correct in [
        ("m1", "ex2-answer", False), ("m2", "ex1-answer", False), ("m3", "ex2-answer", False),
        ("c1", "ex1-answer", True), ("c2", "ex2-answer", True)]]
    assert [v.id for v in grouped_by_cell(bank)] == ["m1", "m3", "c2", "m2", "c1"]
