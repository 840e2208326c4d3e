"""Grades decided outside the student's process: attacks that defeat any in-kernel check.

Code in the student's kernel can always defeat a check made in that kernel: ``ctypes`` reaches
any object there, the guard's included (Python's own documentation says audit hooks are no
sandbox). So this class is graded by a real ``autograde`` **with the guard switched off**, which
is what a kernel that disabled the guard from inside gets, and every attack must still score
only what its real answers earn, because the hidden verdicts run in the grader's process:

- a blank notebook that makes every cell swallow its own failures (visible asserts "pass");
- a value that equals everything: an ``int`` / ``float`` subclass whose ``__eq__`` says True;
- a function that reads the test's own variables, or its caller's frame;
- a kernel that replaces the probes' ``observe`` with made-up plausible values;
- malformed observations sent from inside a test cell (huge, deeply nested, NaN literal, an
  object array that would need unpickling, a complex array, an unknown tag): each is that
  student's exercise lost, with a note, and the class goes on.

Honest submissions keep full marks. The same class with the guard on is graded by
``test_grading_integrity.py``.
"""

from __future__ import annotations

import nbformat
import pytest
from helpers import FIXTURE_LESSONS, TINY, TINY_ANSWERS, release_tiny, with_answers
from nbgrader.api import Gradebook

from grader.autograde import autograde
from grader.gradebook import db_url
from grader.limits import COURSE_LIMITS
from grader.merge import Status
from grader.sandbox import bwrap_works

pytestmark = pytest.mark.notebook

ADD, MEAN = TINY_ANSWERS["ex1-answer"], TINY_ANSWERS["ex2-answer"]
FULL = {"ex1-tests": 2.0, "ex2-tests": 2.0}
ONLY_EX2 = {"ex1-tests": 0.0, "ex2-tests": 2.0}
ZERO = {"ex1-tests": 0.0, "ex2-tests": 0.0}

SWALLOW = (
    "def _swallow(lines):\n"
    "    body = ''.join('    ' + line for line in lines)\n"
    "    return ['try:\\n', body + '\\n', 'except BaseException:\\n', '    pass\\n']\n"
    "get_ipython().input_transformers_post.append(_swallow)\n")
PUBLISH = (
    "import json\nfrom IPython.display import publish_display_data\n"
    "MIME = 'application/vnd.keras-course.observation+json'\n"
    "def send(text):\n    publish_display_data({MIME: text})\n")

# answers to ex1 / ex2 (None: left blank) -> the scores they must get
ATTACKS = {
    "blank-swallows-failures": ({"ex1-answer": SWALLOW}, ZERO),
    "always-equal-int": ({"ex1-answer": (
        "class Yes(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n"
        "def add(a, b):\n    return Yes(3)\n")}, ZERO),
    "always-equal-float": ({"ex1-answer": ADD, "ex2-answer": (
        "class Yes(float):\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = float.__hash__\ndef mean(xs):\n    return Yes(2.0)\n")},
        {"ex1-tests": 2.0, "ex2-tests": 0.0}),
    "reads-the-callers-frame": ({"ex1-answer": (
        "import sys\ndef add(a, b):\n    frame = sys._getframe(1)\n"
        "    names = {**frame.f_globals, **frame.f_locals}\n"
        "    for key in ('expected', 'want', 'ref', 'reference'):\n"
        "        if key in names:\n            return names[key]\n"
        "    return 3\n")}, ZERO),
    "forges-plausible-observations": ({"ex1-answer": PUBLISH + SWALLOW + (
        "import re\n"
        "def _forge(lines):\n"
        "    names = re.findall(r\"observe\\(['\\\"](\\w+)\", ''.join(lines))\n"
        "    if not names:\n        return lines\n"
        "    return [f'send(json.dumps({{\"name\": {n!r}, \"value\": 3}}))\\n' for n in names]\n"
        "get_ipython().input_transformers_cleanup.append(_forge)\n")}, ZERO),
}
MALFORMED = {
    "huge": "send('[' + '1,' * 3_000_000 + '1]')",
    "deep": "send('{\"name\": \"sums\", \"value\": ' + '[' * 100_000 + ']' * 100_000 + '}')",
    "nan-literal": "send('{\"name\": \"sums\", \"value\": NaN}')",
    "object-array": (
        "import base64, io, numpy as np\nbuf = io.BytesIO()\n"
        "np.save(buf, np.array([{'a': 1}], dtype=object), allow_pickle=True)\n"
        "send(json.dumps({'name': 'sums', 'value': {'npy': base64.b64encode(buf.getvalue()).decode()}}))"),
    "complex-array": (
        "import base64, io, numpy as np\nbuf = io.BytesIO()\nnp.save(buf, np.ones(3, dtype=complex))\n"
        "send(json.dumps({'name': 'sums', 'value': {'npy': base64.b64encode(buf.getvalue()).decode()}}))"),
    "unknown-tag": "send(json.dumps({'name': 'sums', 'value': {'exec': 'import os'}}))",
}


def _malformed_answer(payload: str) -> str:
    """A correct add() that also sends a malformed observation when the hidden tests call it."""
    body = "\n".join("        " + line for line in payload.splitlines())
    return (PUBLISH + "def add(a, b):\n    if a == 40:\n"
            f"{body}\n    return a + b\n")


@pytest.fixture(scope="module")
def unguarded_class(tmp_path_factory):
    course = tmp_path_factory.mktemp("outside") / "course"
    student_nb = release_tiny(course)
    answers = {"good": TINY_ANSWERS, "blank": {}}
    answers.update({name: given for name, (given, _) in ATTACKS.items()})
    answers.update({f"malformed-{name}": {"ex1-answer": _malformed_answer(code), "ex2-answer": MEAN}
                    for name, code in MALFORMED.items()})
    for student, given in answers.items():
        folder = course / "submitted" / student / TINY
        folder.mkdir(parents=True)
        nbformat.write(with_answers(student_nb, given), folder / f"{TINY}.ipynb")
    limits = COURSE_LIMITS.replace(use_bwrap=bwrap_works(), cell_timeout_s=60, total_timeout_s=300)
    outcomes = {o.student: o for o in autograde(course, TINY, jobs=2, limits=limits, progress=False,
                                                  source=FIXTURE_LESSONS, guard=False)}
    with Gradebook(db_url(course)) as gb:
        scores = {s: {g.name: g.score for g in gb.find_submission_notebook(TINY, TINY, s).grades
                      if g.cell_type == "code"} for s in outcomes}
    return outcomes, scores


def test_honest_and_blank(unguarded_class):
    outcomes, scores = unguarded_class
    assert scores["good"] == FULL and outcomes["good"].status is Status.GRADED, outcomes["good"]
    assert scores["blank"] == ZERO


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attacks_score_only_what_their_answers_earn(unguarded_class, attack):
    outcomes, scores = unguarded_class
    assert scores[attack] == ATTACKS[attack][1], (attack, outcomes[attack])


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_a_malformed_observation_loses_its_exercise_only(unguarded_class, kind):
    outcomes, scores = unguarded_class
    student = f"malformed-{kind}"
    assert scores[student] == ONLY_EX2, (student, outcomes[student])
    assert outcomes[student].status is Status.GRADED, outcomes[student]
    assert any("hidden check failed" in note for note in outcomes[student].notes), outcomes[student].notes
