"""What is wrong with a submitted folder before (and after) nbgrader sees it.

nbgrader stops with a traceback on a file that is not a notebook, skips a notebook whose name it
does not know and only logs a warning when a locked cell was edited. An instructor needs each of
these as one clear line per student, so the grader looks first, in the parent, where no student
code runs: reading JSON is safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)
_CHECKED_TIMEOUT_ERRORS = {"CellTimeoutError": "cell timeout", "MemoryError": "memory limit"}


@dataclass
class Precheck:
    """The verdict on one student's folder: gradable or not, and why, plus notes for the report."""

    gradable: bool = True
    status: str = "graded"
    notes: list[str] = field(default_factory=list)
    renames: dict[str, str] = field(default_factory=dict)  # submitted name -> expected name


def released_source(source: str) -> str:
    """A locked cell's source as the student received it (hidden tests removed)."""
    return _HIDDEN.sub("", source).strip()


def check_folder(folder: Path, expected: dict[str, dict[str, str]]) -> Precheck:
    """Check one submitted folder against the lesson's notebooks.

    ``expected`` maps each notebook name (no ``.ipynb``) to its locked cells' released sources
    by grade_id, read from the gradebook.
    """
    result = Precheck()
    present = sorted(p.name for p in folder.glob("*.ipynb")) if folder.is_dir() else []
    missing = [name for name in expected if f"{name}.ipynb" not in present]
    strangers = [n for n in present if n.removesuffix(".ipynb") not in expected]
    if missing and len(missing) == 1 and len(strangers) == 1:
        result.renames[strangers[0]] = f"{missing[0]}.ipynb"
        result.notes.append(f"renamed notebook {strangers[0]!r} graded as {missing[0]}.ipynb")
        missing = []
    if missing and not present:
        return Precheck(False, "no notebook submitted", [f"missing {', '.join(missing)}"])
    if missing:
        result.notes.append(f"missing notebook(s) {', '.join(missing)}: scored 0")
    for name, locked in expected.items():
        submitted = next((old for old, new in result.renames.items() if new == f"{name}.ipynb"),
                         f"{name}.ipynb")
        path = folder / submitted
        if not path.exists():
            continue
        problem = _unreadable(path)
        if problem:
            return Precheck(False, problem, [f"{submitted}: {problem}"])
        nb = nbformat.read(path, as_version=4)
        cells = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
        deleted = [gid for gid in locked if gid not in cells]
        edited = [gid for gid, src in locked.items()
                  if gid in cells and cells[gid].source.strip() != src]
        if deleted:
            result.notes.append(f"locked cell(s) deleted: {', '.join(deleted)} (their tests score 0)")
        if edited:
            result.notes.append(f"locked cell(s) edited: {', '.join(edited)} (restored before grading)")
    return result


def _unreadable(path: Path) -> str | None:
    """Why a file cannot be graded as a notebook, or None."""
    data = path.read_bytes()
    if not data.strip():
        return "empty file"
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as err:  # any parse or schema failure is the same verdict for the student
        return f"corrupt notebook ({type(err).__name__})"
    if not isinstance(nb.get("cells"), list):
        return "corrupt notebook (no cells)"
    return None


def execution_notes(autograded: Path) -> list[str]:
    """Cell timeouts and memory errors seen in an autograded notebook, by cell."""
    notes = []
    for path in sorted(autograded.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            for output in cell.get("outputs", []):
                what = _CHECKED_TIMEOUT_ERRORS.get(output.get("ename", ""))
                if what:
                    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index}"
                    notes.append(f"{what} in {gid}")
    return notes
