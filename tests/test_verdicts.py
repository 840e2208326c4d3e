"""Unit tests of the two halves of a hidden check: probes (kernel) and verdicts (grader).

Fast and pure: no kernel. The whole path, with real kernels and attacks, is graded by
``test_verdicts_outside.py`` and ``test_mistakes_command.py``.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest

from grader import observations, verdicts
from grader.observations import Malformed, Raised, Refused
from kerascourse import probes

CELL = '''"""Check f."""
assert f(1) == 2, "visible"
### BEGIN HIDDEN TESTS
from kerascourse.probes import attempt, observe

for x in (3, 4):
    observe("doubles", f(x), why="SECRET-WHY")
observe("acc", 0.9, at_least=0.86)
observe("err", attempt(f, "x"), verdict="raised(obs, 'TypeError')")
observe("arr", np.arange(3.0), atol=0.5)
### END HIDDEN TESTS
'''


def wire(value):
    """What the kernel sends for ``value``, read back by the grader."""
    name, decoded = observations.parse(json.dumps({"name": "n", "value": probes.to_data(value)}))
    assert name == "n"
    return decoded


def test_prepare_keeps_probes_and_cuts_every_verdict_out_of_the_kernel_source():
    prepared = verdicts.prepare(CELL)
    assert prepared.problems == []
    assert set(prepared.checks) == {"doubles", "acc", "err", "arr"}
    kernel = prepared.kernel_source
    for secret in ("SECRET-WHY", "0.86", "at_least", "raised(obs", "atol", "why="):
        assert secret not in kernel, secret
    assert 'assert f(1) == 2, "visible"' in kernel and "observe('doubles', f(x))" in kernel
    assert prepared.checks["acc"].at_least == 0.86 and not prepared.checks["acc"].equal
    assert prepared.checks["doubles"].equal and prepared.checks["doubles"].why == "SECRET-WHY"


@pytest.mark.parametrize("hidden, problem", [
    ("assert f(3) == 6, 'x'", "`assert` decides in the kernel"),
    ("if f(3) != 6:\n    raise AssertionError('x')", "`raise` decides in the kernel"),
    ("x = f(3)", "no observe() call"),
    ("observe(name, f(3))", "must be a string literal"),
    ("observe('a', f(3), tolerance=1)", "unknown verdict keyword"),
    ("observe('a', f(3), at_least=limit)", "must be a literal"),
    ("observe('a', f(3), verdict='obs >')", "is not an expression"),
    ("observe('a', f(3))\nobserve('a', f(4))", "observed at two places"),
])
def test_lint_refuses_a_hidden_block_that_decides_in_the_kernel(hidden, problem):
    source = f'"""doc"""\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS'
    assert any(problem in p for p in verdicts.lint(source)), verdicts.lint(source)


def test_judge_equal_threshold_expression_and_counts():
    checks = verdicts.prepare(CELL).checks
    ref = {"doubles": [6, 8], "acc": [0.9], "err": [Raised("TypeError", "")], "arr": [np.arange(3.0)]}
    assert verdicts.judge(checks, ref, ref) == []
    bad = {"doubles": [6, 9], "acc": [0.5], "err": [5], "arr": [np.arange(3.0) + 1]}
    failures = verdicts.judge(checks, bad, ref)
    assert [f.split(":")[0] for f in failures] == ["doubles[1]", "acc", "err", "arr"]
    assert "SECRET-WHY" in failures[0]
    assert verdicts.judge(checks, {**ref, "doubles": [6]}, ref)[0].startswith("doubles: observed 1 time")
    assert "no probe of this cell makes" in verdicts.judge(checks, {**ref, "forged": [1]}, ref)[0]


@pytest.mark.parametrize("obs, ref, equal", [
    (3, 3, True), (3.0, 3, False), (True, 1, False), (1, True, False), (3, 3.0, True),
    (0.1 + 0.2, 0.3, True), (0.31, 0.3, False), ("a", "a", True), (None, None, True),
    ([1, [2, 3]], [1, [2, 3]], True), ([1, 2], [1, 2, 3], False), ({"a": 1}, {"a": 1}, True),
    ({"a": 1}, {"b": 1}, False), (np.ones(3), np.ones(3), True), (np.ones(3), np.ones(4), False),
    ([1.0, 1.0, 1.0], np.ones(3), False), (np.array([True]), np.array([1]), False),
    (float("nan"), float("nan"), False), (Raised("ValueError", "a"), Raised("ValueError", "b"), True),
    (Refused("x"), Refused("x"), False), (Malformed("x"), 1, False),
])
def test_same_compares_data_strictly(obs, ref, equal):
    assert verdicts.same(obs, ref) is equal


def test_subclasses_and_unsupported_types_are_refused_by_the_probe():
    class Yes(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    class Text(str):
        pass

    assert type(wire(Yes(3))) is Refused and type(wire(Text("a"))) is Refused
    assert type(wire(object())) is Refused and type(wire({1: 2})) is Refused
    assert type(wire(np.array(["a"]))) is Refused and type(wire(np.array([{}], dtype=object))) is Refused
    assert wire((1, 2.5, "x", None, True)) == [1, 2.5, "x", None, True]
    assert wire({"k": np.int64(3)}) == {"k": 3} and type(wire(np.float32(0.5))) is float
    assert np.array_equal(wire(np.arange(6).reshape(2, 3)), np.arange(6).reshape(2, 3))
    assert np.isnan(wire(float("nan"))) and wire(float("-inf")) == float("-inf")
    raised = wire(probes.attempt(int, "x"))
    assert type(raised) is Raised and raised.type == "ValueError" and "x" in raised.message


def test_observe_outside_grading_sends_nothing_but_refuses_what_it_could_not_send(monkeypatch, capsys):
    monkeypatch.delenv(probes.ENV, raising=False)
    assert probes.observe("a", [1, 2], why="ignored", at_least=0) is None
    assert capsys.readouterr().out == ""
    with pytest.raises(TypeError, match="cannot be sent"):
        probes.observe("a", object())


def _npy(array, allow_pickle=False) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize("text, why", [
    (b"{}", "not JSON text"),
    ("x" * (observations.MAX_MESSAGE_CHARS + 1), "too large"),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ('{"name": "a", "value": NaN}', "not valid JSON"),
    ('{"name": "a"}', "lacks its name or value"),
    (json.dumps({"name": "a", "value": {"exec": "x"}}), "never writes"),
    (json.dumps({"name": "a", "value": {"npy": _npy(np.array([{}], dtype=object), True)}}), "unreadable"),
    (json.dumps({"name": "a", "value": {"npy": _npy(np.ones(2, dtype=complex))}}), "not numeric"),
    (json.dumps({"name": "a", "value": {"npy": "not base64!"}}), "unreadable"),
    (json.dumps({"name": "a", "value": [[1] * 1000] * 300}), "more than"),
    (json.dumps({"name": "a", "value": {"float": "1e9"}}), "never writes"),
])
def test_malformed_observations_become_values_that_fail_every_verdict(text, why):
    _, value = observations.parse(text)
    if type(value) is list:  # nested too deeply somewhere inside
        value = value[0]
    assert type(value) is Malformed and why in value.why, value
    assert verdicts.verdict_problem(verdicts.Check("a"), value, 1, {}).startswith("not a value")


def test_reference_round_trips_through_its_json_form():
    values = [1, 2.5, float("inf"), "s", None, [1, {"a": np.ones((2, 2))}], Raised("E", "m"), Refused("t")]
    for value in values:
        again = observations.decode(json.loads(json.dumps(observations.encode(value))))
        assert verdicts.same(again, value) or type(value) is Refused or value == float("inf")
