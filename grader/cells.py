"""What each cell of a lesson is, and where its hidden tests are: decided once, nbgrader's way.

Every part of the grader that asks "is this a test cell?" or "which lines are hidden?" asks this
module, which asks nbgrader: the cell roles come from ``nbgrader.utils`` and the hidden region is
found exactly as nbgrader's own ``ClearHiddenTests`` finds it when it releases a lesson (a line
*containing* ``BEGIN HIDDEN TESTS`` up to one containing ``END HIDDEN TESTS``). The promise that a
student never sees a hidden test then rests on one parser, the one that made the release.
"""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests

BEGIN_HIDDEN = ClearHiddenTests.begin_test_delimeter.default_value
END_HIDDEN = ClearHiddenTests.end_test_delimeter.default_value


def nbgrader_meta(cell: Any) -> dict:
    """The cell's nbgrader metadata, or {} when absent or not a dict (a tampered notebook)."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    value = meta.get("nbgrader") if isinstance(meta, dict) else None
    return value if isinstance(value, dict) else {}


def grade_id(cell: Any) -> str | None:
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) else None


def is_test_cell(cell: Any) -> bool:
    """An autograder test cell: graded code that is not the student's answer."""
    return cell.get("cell_type") == "code" and bool(nbgrader_meta(cell).get("grade")) \
        and not nbgrader_meta(cell).get("solution")


def is_answer_cell(cell: Any) -> bool:
    """A code cell the student writes in (nbgrader "Autograded answer")."""
    return cell.get("cell_type") == "code" and bool(nbgrader_meta(cell).get("solution"))


def is_reflection_cell(cell: Any) -> bool:
    """A manually graded written answer."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "markdown" and bool(meta.get("solution")) and bool(meta.get("grade"))


def released_source(source: str) -> str:
    """A test cell's source as students receive it: nbgrader's ClearHiddenTests, applied."""
    cell = NotebookNode(cell_type="code", source=source, metadata={})
    ClearHiddenTests(enforce_metadata=False)._remove_hidden_test_region(cell)
    return cell.source


def hidden_lines(source: str) -> set[int]:
    """1-based numbers of the lines ClearHiddenTests removes (the markers included)."""
    hidden, inside = set(), False
    for number, line in enumerate(source.split("\n"), start=1):
        if BEGIN_HIDDEN in line:
            inside = True
        if inside:
            hidden.add(number)
        if END_HIDDEN in line:
            inside = False
    return hidden
