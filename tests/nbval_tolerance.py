"""nbval compares numbers in text outputs within a tolerance, and can run with float arithmetic perturbed.

nbval 0.11 compares every text output of a fresh run with the committed one character for
character (after the regex sanitizers of ``tests/nbval_sanitize.cfg``). Float digits are not that
stable: another CPU (AVX-512), another thread count or another build of the kernels changes the
last digits of a training run, and over many epochs those grow (0.8901 printed as 0.8903). So a
text output counts as unchanged when:

- its **structure** is the same: the text with every number replaced by a placeholder is identical,
  except that a run of spaces or tabs counts as one space (a number printed with another number of
  digits shifts the alignment of tables);
- every **integer** (digits, maybe grouped by commas like ``50,890``; no decimal point and no
  exponent) is exactly the same text: counts, shapes, parameter totals and epochs are decided,
  not measured;
- every **decimal** (digits after a decimal point, or an exponent) is within ``REL_TOL`` of the
  committed one, relative to the larger of the two, or within ``LAST_DIGIT_UNITS`` unit in the
  last printed digit of the more precise one when the larger has at least ``FLOOR_MIN_DIGITS``
  significant digits printed (rounding can flip a last digit, and near zero a relative tolerance
  means nothing; but ``0.1`` vs ``0.2`` is a changed value, not a flipped rounding).

The comparison wraps nbval's ``IPyNbCell.compare_outputs``: each fresh text that matches its
committed counterpart within tolerance is replaced by the committed text, then nbval compares as
before (the same outputs paired the same way, the same sanitizers, the same failure report), and a
failure is followed by the differing numbers. Images, metadata and everything nbval skips stay
skipped; a cell nbval did not check stays unchecked.

``--nbval-perturbed`` runs the kernels with the float arithmetic perturbed (``PERTURBED_ENV``: two
intra-op threads instead of one, TensorFlow's oneDNN kernels on). The kernels are started from the
current environment (``--nbval-current-env``), because the course kernel's ``kernel.json`` pins
those variables and Jupyter lets a kernelspec's ``env`` win over the environment. The one line
the perturbation changes on purpose, the set-up cell's ``CPU threads: 1``, is expected as
``CPU threads: 2`` in the committed output (not sanitized away: a kernel that did not get the
perturbation fails that cell).
TensorFlow's notice "oneDNN custom operations are on" is written by C++ to the kernel process's
file descriptor 2, and no nbval run sees such output: nbval starts kernels with stderr to
/dev/null, and ipykernel forwards file-descriptor output only when ``PYTEST_CURRENT_TEST`` is not
in its environment (the kernel inherits it). Python-level warnings still reach the cells and fail
them (in JupyterLab the notice would show in the set-up cell's output).

This module is a pytest plugin, loaded for every run by ``-p tests.nbval_tolerance`` in pytest's
``addopts`` (pyproject.toml), so a plain ``python -m pytest --nbval solutions/NN-slug`` compares as
CI does.
"""

from __future__ import annotations

import copy
import math
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

REL_TOL = 1e-2
"""A decimal may differ by 1% of the larger of the two (0.8901 vs 0.8903 passes, 0.87 vs 0.89 fails)."""

LAST_DIGIT_UNITS = 1.0
"""... or by one unit in the last printed digit of the more precise one (0.0012 vs 0.0013 passes) ..."""

FLOOR_MIN_DIGITS = 2
"""... where at least two significant digits are printed (0.29 vs 0.30 passes, 0.1 vs 0.2 fails)."""

PERTURBED_ENV = {"TF_NUM_INTRAOP_THREADS": "2", "TF_ENABLE_ONEDNN_OPTS": "1"}
"""What ``--nbval-perturbed`` changes in every kernel's environment; each alone changes the last
digits of a short training run on the course's machines."""

# The one set-up line the perturbation changes on purpose (kerascourse.notebook.setup_notebook).
_THREADS_LINE = re.compile(r"\bCPU threads: 1(?= \|)")

NUMBER = re.compile(
    r"""
    (?<![\w.])                          # not the tail of an identifier (float32) or of 3.15.1
    (?>                                 # atomic: never retried as a shorter number
      (?P<sign>-)?
      (?P<int>\d{1,3}(?:,\d{3})+|\d+)   # digits, maybe grouped by thousands (50,890)
      (?P<frac>\.\d+)?                  # a decimal part ("18." ends a sentence: it stays an integer)
      (?P<exp>[eE][-+]?\d+)?            # an exponent (1e-05)
    )
    (?!\.?\d)                           # not followed by more digits: 3.15.1 is a version, not a number
    """,
    re.VERBOSE,
)

_PLACEHOLDER = "\x00"
_BLANKS = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class Number:
    text: str
    start: int
    is_decimal: bool
    value: float
    unit: float  # one unit in the last printed digit (decimals only)


def numbers(text: str) -> list[Number]:
    """The numbers in ``text``, in order."""
    found = []
    for m in NUMBER.finditer(text):
        frac, exp = m["frac"] or "", m["exp"] or ""
        digits = len(frac) - 1 if frac else 0
        exponent = int(exp[1:]) if exp else 0
        found.append(Number(
            text=m[0], start=m.start(), is_decimal=bool(frac or exp),
            value=float(m[0].replace(",", "")), unit=10.0 ** (exponent - digits),
        ))
    return found


def skeleton(text: str) -> str:
    """``text`` with every number replaced by a placeholder and each run of spaces made one space."""
    return _BLANKS.sub(" ", NUMBER.sub(_PLACEHOLDER, text))


def _line_of(text: str, pos: int) -> tuple[int, str]:
    """The line number of ``pos`` in ``text``, and that line (shortened around ``pos``)."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start:end if end >= 0 else len(text)]
    col = pos - start
    if len(line) > 100:
        first, last = max(0, col - 60), col + 37
        line = ("..." if first else "") + line[first:last] + ("..." if last < len(line) else "")
    return text.count("\n", 0, pos) + 1, line.strip()


def last_digit_floor(ref: Number, new: Number, last_digit_units: float = LAST_DIGIT_UNITS) -> float:
    """The absolute tolerance the printed digits allow: a flipped last digit, where at least
    ``FLOOR_MIN_DIGITS`` significant digits are printed (0 otherwise)."""
    unit = min(ref.unit, new.unit)
    if max(abs(ref.value), abs(new.value)) < 10 ** (FLOOR_MIN_DIGITS - 1) * unit * (1 - 1e-9):
        return 0.0
    return last_digit_units * unit


def decimals_close(ref: Number, new: Number, rel_tol: float = REL_TOL,
                   last_digit_units: float = LAST_DIGIT_UNITS) -> bool:
    """Whether two printed decimals are the same measurement (see the module docstring)."""
    if math.isnan(ref.value) or math.isnan(new.value):
        return False
    diff = abs(ref.value - new.value)
    return diff <= max(rel_tol * max(abs(ref.value), abs(new.value)),
                       last_digit_floor(ref, new, last_digit_units)) * (1 + 1e-9)


def compare_text(ref: str, new: str, rel_tol: float = REL_TOL,
                 last_digit_units: float = LAST_DIGIT_UNITS) -> list[str]:
    """Why the fresh text ``new`` is not the committed ``ref`` up to float noise ([] when it is)."""
    if ref == new:
        return []
    ref_skeleton, new_skeleton = skeleton(ref), skeleton(new)
    if ref_skeleton != new_skeleton:
        ref_lines, new_lines = ref_skeleton.split("\n"), new_skeleton.split("\n")
        i = next((k for k, (a, b) in enumerate(zip(ref_lines, new_lines, strict=False)) if a != b),
                 min(len(ref_lines), len(new_lines)))

        def show(lines: list[str]) -> str:
            return lines[i].replace(_PLACEHOLDER, "#").strip() if i < len(lines) else "(no such line)"

        return [f"the text differs apart from its numbers (# = a number), first at line {i + 1}: "
                f"committed {show(ref_lines)!r}, fresh {show(new_lines)!r}"]
    by_line: dict[int, tuple[str, list[str]]] = {}
    for a, b in zip(numbers(ref), numbers(new), strict=True):
        if a.is_decimal != b.is_decimal:
            why = f"{a.text} -> {b.text} (an integer and a decimal)"
        elif not a.is_decimal:
            if a.text == b.text:
                continue
            why = f"{a.text} -> {b.text} (integers must match exactly)"
        elif decimals_close(a, b, rel_tol, last_digit_units):
            continue
        else:
            floor = last_digit_floor(a, b, last_digit_units)
            diff = abs(a.value - b.value)
            share = diff / max(abs(a.value), abs(b.value))
            why = (f"{a.text} -> {b.text} (differs by {diff:.3g} = {share:.1%}; "
                   f"allowed {rel_tol:.0%}" + (f" or {floor:g})" if floor else ")"))
        line, context = _line_of(ref, a.start)
        by_line.setdefault(line, (context, []))[1].append(why)
    return [f"line {line} {context!r}: " + ", ".join(whys) for line, (context, whys) in by_line.items()]


# ---------------------------------------------------------------------------------------------------
# The nbval hook


def _text_slots(outputs, skip_compare) -> dict[str, list[tuple[dict, str]]]:
    """Where each compared text lives, keyed and ordered as nbval pairs them (stream name, MIME
    type or output field): a list of (container, field) per key."""
    slots: dict[str, list[tuple[dict, str]]] = defaultdict(list)
    for output in outputs:
        if output.get("output_type") == "stream":
            slots[output["name"]].append((output, "text"))
            continue
        for key, value in output.items():
            if key in skip_compare:
                continue
            if key == "data":
                for mime in value:
                    if mime not in skip_compare:
                        slots[mime].append((value, mime))
            else:
                slots[key].append((output, key))
    return slots


def _as_text(value) -> str | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return value if isinstance(value, str) else None


def expect_perturbed(text: str) -> str:
    """The committed ``text`` as a perturbed kernel must print it: ``CPU threads: 1`` -> 2."""
    return _THREADS_LINE.sub(f"CPU threads: {PERTURBED_ENV['TF_NUM_INTRAOP_THREADS']}", text)


def float_noise(ref: str, new: str) -> list[tuple[str, str, float]]:
    """The decimals that differ between two texts ``compare_text`` accepts: (committed, fresh,
    difference relative to the larger)."""
    return [(a.text, b.text, abs(a.value - b.value) / max(abs(a.value), abs(b.value)))
            for a, b in zip(numbers(ref), numbers(new), strict=True) if a.value != b.value]


def align_outputs(test, ref, skip_compare, sanitize=lambda s: s, perturbed: bool = False,
                  accepted: list[tuple[str, str, float]] | None = None) -> Iterator[str]:
    """Replace each fresh text in ``test`` that matches its committed counterpart in ``ref`` within
    tolerance (after ``sanitize``) by the committed text, in place; yield why the others differ.
    The numbers that differed but passed are added to ``accepted``."""
    ref_slots, test_slots = _text_slots(ref, skip_compare), _text_slots(test, skip_compare)
    for key, ref_list in ref_slots.items():
        pairs = zip(ref_list, test_slots.get(key, []), strict=False)  # nbval fails unequal counts itself
        for (ref_box, ref_field), (test_box, test_field) in pairs:
            ref_text, new_text = _as_text(ref_box[ref_field]), _as_text(test_box[test_field])
            if ref_text is None or new_text is None:
                continue
            if perturbed:
                ref_text = expect_perturbed(ref_text)
                ref_box[ref_field] = ref_text
            problems = compare_text(sanitize(ref_text), sanitize(new_text))
            if problems:
                yield from (f"{key}: {p}" for p in problems)
                continue
            if accepted is not None:
                accepted.extend(float_noise(sanitize(ref_text), sanitize(new_text)))
            test_box[test_field] = ref_text


def _tolerant(compare_outputs):
    def compare_outputs_within_tolerance(self, test, ref, skip_compare=None):
        skip = skip_compare or self.parent.skip_compare
        test, ref = copy.deepcopy(test), copy.deepcopy(ref)
        perturbed = bool(self.config.getoption("nbval_perturbed", False))
        accepted: list[tuple[str, str, float]] = []
        notes = list(align_outputs(test, ref, skip, self.sanitize, perturbed, accepted))
        if accepted:  # travels with the report (xdist too) to the summary below
            self.user_properties.append(("float-noise", accepted))
        same = compare_outputs(self, test, ref, skip_compare)
        if not same and notes:
            self.comparison_traceback.append(
                f"Committed -> fresh. Decimals may differ by {REL_TOL:.0%}, or by {LAST_DIGIT_UNITS:g} "
                f"unit in the last printed digit when {FLOOR_MIN_DIGITS}+ significant digits are printed; "
                "integers and the rest of the text must match (tests/nbval_tolerance.py):")
            self.comparison_traceback.extend(f"  {note}" for note in notes)
        return same

    compare_outputs_within_tolerance.__wrapped__ = compare_outputs
    return compare_outputs_within_tolerance


def pytest_addoption(parser):
    parser.getgroup("nbval").addoption(
        "--nbval-perturbed", action="store_true", default=False,
        help="run notebook kernels with perturbed float arithmetic (tests/nbval_tolerance.py: "
             + ", ".join(f"{k}={v}" for k, v in PERTURBED_ENV.items()) + ")")


def pytest_configure(config):
    from nbval.plugin import IPyNbCell

    if not hasattr(IPyNbCell.compare_outputs, "__wrapped__"):
        IPyNbCell.compare_outputs = _tolerant(IPyNbCell.compare_outputs)
    if config.getoption("nbval_perturbed"):
        from kerascourse.paths import course_env

        os.environ.update(course_env())
        os.environ.update(PERTURBED_ENV)
        config.option.nbval_current_env = True  # the course kernelspec's env would undo the perturbation


_noise: dict[str, list[tuple[str, str, float]]] = {}


def pytest_runtest_logreport(report):
    if report.when == "call":
        for key, value in report.user_properties:
            if key == "float-noise":
                _noise[report.nodeid] = [tuple(v) for v in value]


def pytest_terminal_summary(terminalreporter):
    """Which cells passed only thanks to the tolerance, and how close their numbers came to it."""
    if not _noise:
        return
    terminalreporter.section("float noise accepted by tests/nbval_tolerance.py")
    for nodeid, pairs in sorted(_noise.items()):
        committed, fresh, rel = max(pairs, key=lambda p: p[2])
        terminalreporter.write_line(
            f"{nodeid}: {len(pairs)} number(s) differ, largest {committed} -> {fresh} ({rel:.2%})")


def pytest_report_header(config):
    if config.getoption("nbval_perturbed"):
        settings = " ".join(f"{k}={v}" for k, v in PERTURBED_ENV.items())
        return f"nbval: float arithmetic perturbed ({settings}), kernels from the current environment"
    return None
