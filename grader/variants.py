"""Submissions built from a lesson: its answers, typical mistakes and correct variants.

``grader mistakes`` and the grader's reference run use them; so do the tests and benchmarks.

A typical mistake is one answer cell written the way a student often gets it wrong. They live in
``tests/mistakes/<lesson>.toml``::

    [[mistake]]
    id = "no-flatten"                      # short name, shown in test ids
    why = "Dense applied to 28x28 images without Flatten"
    cell = "ex1-answer"                    # grade_id of the answer cell to replace
    source = '''
    model_mc = keras.Sequential([...])
    '''

    [[correct]]                            # a correct answer written differently: full marks
    id = "old-style-input-shape"
    why = "TF 2.0 style; Keras warns on stderr during the test, which must not cost points"
    cell = "ex3-answer"
    source = '''...'''

``grader mistakes`` judges every entry through the grader's verdicts (:mod:`grader.mistakes`, whose
docstring says in which order to list them); the grading tests also autograde the full solution,
the untouched student notebook and a round of mistakes through a real nbgrader gradebook.
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from grader.cells import grade_id, is_answer_cell, nbgrader_meta
from grader.conventions import EXERCISE_HEADING
from kerascourse.paths import REPO_ROOT

MISTAKES_DIR = REPO_ROOT / "tests" / "mistakes"
_SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.MULTILINE)
_MARK_SCHEME = re.compile(r"=== BEGIN MARK SCHEME ===.*?=== END MARK SCHEME ===\n?", re.DOTALL)


@dataclass(frozen=True)
class Variant:
    """One answer cell replaced: a typical mistake, or a correct alternative."""

    id: str
    why: str
    cell: str
    source: str
    correct: bool


def load_variants(lesson: str, mistakes_dir: Path = MISTAKES_DIR) -> list[Variant]:
    """Read ``<lesson>.toml``; a clear error names the file and entry when one is malformed."""
    return load_variants_file(mistakes_dir / f"{lesson}.toml")


def load_variants_file(path: Path) -> list[Variant]:
    """Read a bank of variants from a TOML file (the format above)."""
    data = tomllib.loads(Path(path).read_text())
    variants = []
    for kind, correct in (("mistake", False), ("correct", True)):
        for entry in data.get(kind, []):
            missing = {"id", "why", "cell", "source"} - set(entry)
            if missing:
                raise ValueError(f"{path}: a [[{kind}]] entry lacks {sorted(missing)}")
            variants.append(Variant(entry["id"], entry["why"], entry["cell"],
                                    entry["source"], correct))
    return variants


def answer_text(solution_cell) -> str:
    """What a student who solved the cell would have typed: the solution without nbgrader markers."""
    text = _SOLUTION_MARKERS.sub("", solution_cell.source)
    return _MARK_SCHEME.sub("", text).strip() or "My answer."


def build_submission(student_nb, solution_nb, replace: dict[str, str] | None = None):
    """Fill every answer cell of the student notebook from the solution, except those in ``replace``.

    The result is what a student would hand in: the released notebook (locked cells, checksums
    and all) with answers typed into the answer cells.
    """
    replace = replace or {}
    answers = {grade_id(c): c for c in solution_nb.cells if grade_id(c)}
    unknown = set(replace) - set(answers)
    if unknown:
        raise KeyError(f"no answer cell with grade_id {sorted(unknown)}")
    submission = copy.deepcopy(student_nb)
    for cell in submission.cells:
        gid = grade_id(cell)
        is_answer = nbgrader_meta(cell).get("solution")
        if gid in replace:
            cell.source = replace[gid].strip("\n")
        elif is_answer:
            cell.source = answer_text(answers[gid])
    return submission


def exercise_of_cells(nb) -> dict[str, str]:
    """Map each nbgrader cell's grade_id to the number of the exercise heading above it."""
    owner: dict[str, str] = {}
    current = ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = EXERCISE_HEADING.search(cell.source)
            if match:
                current = match.group(1)
        gid = grade_id(cell)
        if gid and (is_answer_cell(cell) or nbgrader_meta(cell).get("grade")):
            owner[gid] = current
    return owner

