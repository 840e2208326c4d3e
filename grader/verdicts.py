"""Verdicts: the half of a hidden check that runs in the grader, never in the student's kernel.

A test cell's hidden block holds probes: ``observe("name", value, **verdict)`` calls (see
``CONTRIBUTING.md`` and :mod:`kerascourse.probes`). This module

- reads the verdicts from the cell's source (:func:`prepare`) and returns the source the kernel
  may run: the same probes with every verdict keyword cut out, so no expected value, tolerance,
  threshold, comparison or message ever reaches the kernel;
- judges what the probes observed against what the same probes observed on the solution
  (:func:`judge`), in the grader's process, on plain data (:mod:`grader.observations`).

The verdict keywords are literals and the ``verdict=`` expressions are the instructor's own text
(from the gradebook, which nbgrader restores over whatever the student submitted), evaluated
here with plain data only.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.cells import hidden_lines
from grader.observations import Malformed, Raised, Refused, describe

PROBE_FUNCTION = "observe"
VERDICT_KEYWORDS = {"atol", "rtol", "at_least", "at_most", "verdict", "equal", "why"}
DEFAULT_ATOL = 1e-6
DEFAULT_RTOL = 1e-5


@dataclass(frozen=True)
class Check:
    """The verdict of one ``observe`` call site."""

    name: str
    atol: float = DEFAULT_ATOL
    rtol: float = DEFAULT_RTOL
    at_least: float | None = None
    at_most: float | None = None
    expr: str | None = None
    equal: bool = True
    why: str = ""


@dataclass
class Prepared:
    """A test cell read for grading: the source the kernel runs, and the verdicts kept here."""

    kernel_source: str
    checks: dict[str, Check] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _hidden_block(source: str) -> tuple[list[str], list[str], list[str]]:
    """(lines before, hidden lines without the markers, lines after)."""
    lines = source.split("\n")
    hidden = hidden_lines(source)
    if not hidden:
        return lines, [], []
    first, last = min(hidden), max(hidden)
    return lines[: first - 1], lines[first:last - 1], lines[last:]


def prepare(source: str) -> Prepared:
    """Split a test cell's verdicts from its probes (see the module's docstring)."""
    before, hidden, after = _hidden_block(source)
    if not hidden:
        return Prepared(source)
    try:
        tree = ast.parse("\n".join(hidden))
    except SyntaxError as err:
        return Prepared("\n".join(before + after), problems=[f"the hidden block does not parse: {err}"])
    prepared = Prepared("")
    for node in sorted(ast.walk(tree), key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0))):
        if isinstance(node, (ast.Assert, ast.Raise)):
            prepared.problems.append(
                f"line {node.lineno} of the hidden block: `{type(node).__name__.lower()}` decides in the "
                "kernel; hand the value to observe() and put the verdict in its keywords")
        if isinstance(node, ast.Call) and _is_probe(node.func):
            _read_check(node, prepared)
    if not prepared.checks and not prepared.problems:
        prepared.problems.append("the hidden block has no observe() call: nothing is judged by the grader")
    probes = ast.unparse(tree)
    prepared.kernel_source = "\n".join([*before, probes, *after]).rstrip("\n")
    return prepared


def _is_probe(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id == PROBE_FUNCTION) or (
        isinstance(func, ast.Attribute) and func.attr == PROBE_FUNCTION)


def _read_check(node: ast.Call, prepared: Prepared) -> None:
    where = f"line {node.lineno} of the hidden block"
    if not node.args or not isinstance(node.args[0], ast.Constant) or type(node.args[0].value) is not str:
        prepared.problems.append(f"{where}: observe()'s first argument must be a string literal")
        return
    name = node.args[0].value
    if name in prepared.checks:
        prepared.problems.append(f"{where}: the name {name!r} is observed at two places")
    options: dict[str, Any] = {}
    for keyword in node.keywords:
        if keyword.arg not in VERDICT_KEYWORDS:
            prepared.problems.append(f"{where}: unknown verdict keyword {keyword.arg!r}")
            continue
        try:
            options[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
            prepared.problems.append(f"{where}: the verdict keyword {keyword.arg!r} must be a literal")
    node.keywords = []  # the kernel never sees a verdict
    expr = options.get("verdict")
    if expr is not None:
        try:
            compile(expr, "<verdict>", "eval")
        except (SyntaxError, TypeError) as err:
            prepared.problems.append(f"{where}: the verdict {expr!r} is not an expression ({err})")
    prop = any(options.get(k) is not None for k in ("at_least", "at_most", "verdict"))
    prepared.checks[name] = Check(
        name=name,
        atol=float(options.get("atol", DEFAULT_ATOL)),
        rtol=float(options.get("rtol", DEFAULT_RTOL)),
        at_least=options.get("at_least"),
        at_most=options.get("at_most"),
        expr=expr,
        equal=bool(options.get("equal", not prop)),
        why=str(options.get("why", "")),
    )


# --- judging --------------------------------------------------------------------------------------


def judge(checks: dict[str, Check], observed: dict[str, list[Any]],
          reference: dict[str, list[Any]]) -> list[str]:
    """Every way the observations fail their verdicts (an empty list: the hidden checks hold)."""
    failures = []
    for name in observed:
        if name not in checks:
            failures.append(f"an observation named {name!r} that no probe of this cell makes")
    for name, check in checks.items():
        got, want = observed.get(name, []), reference.get(name, [])
        if len(got) != len(want):
            failures.append(_message(check, f"observed {len(got)} time(s), the solution {len(want)}"))
            continue
        for position, (obs, ref) in enumerate(zip(got, want, strict=True)):
            problem = verdict_problem(check, obs, ref, observed)
            if problem:
                where = f"{name}[{position}]" if len(want) > 1 else name
                failures.append(_message(check, problem, where))
    return failures


def _message(check: Check, problem: str, where: str | None = None) -> str:
    why = f" ({check.why})" if check.why else ""
    return f"{where or check.name}: {problem}{why}"


def verdict_problem(check: Check, obs: Any, ref: Any, cell: dict[str, list[Any]]) -> str:
    """Why one observation fails its check, or '' when it passes."""
    if type(obs) in (Malformed, Refused):
        return f"not a value the grader accepts ({describe(obs)})"
    if check.equal and not same(obs, ref, check.atol, check.rtol):
        return f"got {describe(obs)}, the solution's differs ({describe(ref)})"
    if check.at_least is not None or check.at_most is not None:
        numbers = _numbers(obs)
        if numbers is None or numbers.size == 0 or not np.isfinite(numbers).all():
            return f"got {describe(obs)}, not finite numbers"
        if check.at_least is not None and numbers.min() < check.at_least:
            return f"got {describe(obs)}, below {check.at_least}"
        if check.at_most is not None and numbers.max() > check.at_most:
            return f"got {describe(obs)}, above {check.at_most}"
    if check.expr is not None:
        try:
            holds = bool(_evaluate(check.expr, obs, ref, cell))
        except Exception as err:
            return f"got {describe(obs)}; the verdict could not be evaluated ({type(err).__name__}: {err})"
        if not holds:
            return f"got {describe(obs)}, which fails {check.expr!r}"
    return ""


def same(obs: Any, ref: Any, atol: float = DEFAULT_ATOL, rtol: float = DEFAULT_RTOL) -> bool:
    """Equal as data: the same structure, exact ints/strings/bools, floats and arrays within tolerance."""
    if type(ref) is bool or ref is None or type(ref) is str:
        return type(obs) is type(ref) and obs == ref
    if type(ref) is int:
        return type(obs) is int and obs == ref
    if type(ref) is float:
        return type(obs) in (int, float) and _close(float(obs), ref, atol, rtol)
    if type(ref) is list:
        return type(obs) is list and len(obs) == len(ref) and all(
            same(o, r, atol, rtol) for o, r in zip(obs, ref, strict=True))
    if type(ref) is dict:
        return type(obs) is dict and obs.keys() == ref.keys() and all(
            same(obs[k], ref[k], atol, rtol) for k in ref)
    if type(ref) is np.ndarray:
        if type(obs) is not np.ndarray or obs.shape != ref.shape:
            return False
        if ref.dtype.kind == "b" or obs.dtype.kind == "b":
            return obs.dtype.kind == ref.dtype.kind and bool(np.array_equal(obs, ref))
        return bool(np.allclose(obs.astype(np.float64), ref.astype(np.float64), atol=atol, rtol=rtol))
    if type(ref) is Raised:
        return type(obs) is Raised and obs.type == ref.type
    return False


def _close(a: float, b: float, atol: float, rtol: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= atol + rtol * abs(b)


def _numbers(value: Any) -> np.ndarray | None:
    if type(value) in (int, float):
        return np.array([float(value)])
    if type(value) is np.ndarray and value.dtype.kind in "iuf":
        return value.astype(np.float64).ravel()
    if type(value) is list:
        parts = [_numbers(v) for v in value]
        if any(p is None for p in parts):
            return None
        return np.concatenate(parts) if parts else np.array([])
    return None


def _raised(value: Any, *types: str) -> bool:
    return type(value) is Raised and (not types or value.type in types)


def _message_of(value: Any) -> str:
    return value.message if type(value) is Raised else ""


def _close_values(a: Any, b: Any, atol: float = DEFAULT_ATOL, rtol: float = DEFAULT_RTOL) -> bool:
    return same(a, b, atol, rtol)


def _relu(x: Any) -> np.ndarray:
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def _sigmoid(x: Any) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def _softmax(x: Any, axis: int = -1) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _evaluate(expr: str, obs: Any, ref: Any, cell: dict[str, list[Any]]) -> Any:
    namespace = {"obs": obs, "ref": ref, "cell": cell, "np": np, "math": math, "close": _close_values,
                 "raised": _raised, "message": _message_of, "relu": _relu, "sigmoid": _sigmoid,
                 "softmax": _softmax}
    # One global namespace, so names stay visible inside the expression's generators and lambdas.
    # The expression is the instructor's (trusted) and the data plain; the builtins stay whole
    # because NumPy's own methods import through them (ndarray.sum does).
    return eval(compile(expr, "<verdict>", "eval"), {**namespace})  # noqa: S307


def lint(source: str) -> list[str]:
    """What ``grader check`` says of a test cell's hidden block (empty: every check has a verdict)."""
    return prepare(source).problems
