"""Look at a submitted folder before nbgrader does, in the parent, where no student code runs.

nbgrader stops with a traceback on a file that is not a notebook (or on a cell whose metadata is
``null``, or whose source is a number), skips a notebook whose name it does not know and only
logs a warning when a locked cell was edited. An instructor needs each of these as one clear line
per student, and the class must go on. So the grader reads every submitted notebook here and
hands nbgrader only a clean copy it wrote itself: regular files only (``lstat``, no links, pipes
or devices), size-limited, valid JSON in nbformat 4 with every cell's parts of the right types
and only text that can be written back (no lone surrogate such as ``"\\ud800"``). A notebook in
the old format 3 (IPython 2, cells in "worksheets") is converted by nbformat's own converter.
Everything else in the folder is reported and ignored.
"""

from __future__ import annotations

import json
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4.nbbase import random_cell_id

from grader.cells import grade_id, nbgrader_meta

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ ()+-]{0,199}$")
_CELL_TYPES = ("code", "markdown", "raw")
# Small files nbgrader itself puts beside a submission (its collect and release_feedback need them).
KEPT_FILES = ("timestamp.txt", "submission_secret.txt")
MAX_KEPT_FILE_BYTES = 1000
_CHECKED_ERRORS = {"CellTimeoutError": "cell timeout", "MemoryError": "memory limit"}


class Unreadable(ValueError):
    """The file cannot be graded as a notebook; the message says why, in a few words."""


@dataclass
class Precheck:
    """The verdict on one student's folder: what to grade, or why nothing can be."""

    notebooks: dict[str, bytes] = field(default_factory=dict)  # expected name -> clean JSON
    files: dict[str, bytes] = field(default_factory=dict)  # KEPT_FILES that were there
    problem: str | None = None  # set: nothing is gradable (the status line says why)
    notes: list[str] = field(default_factory=list)

    @property
    def gradable(self) -> bool:
        return self.problem is None


def student_folders(parent: Path, lesson: str) -> tuple[list[str], list[str]]:
    """Students with a ``<parent>/<student>/<lesson>/`` folder, and folder names that cannot be used
    (a link, or a name that is not plain text: reported, never used as a path or a gradebook id)."""
    if not parent.is_dir():
        return [], []
    good, bad = [], []
    for entry in sorted(parent.iterdir()):
        if (entry / lesson).is_dir():
            (good if SAFE_NAME.match(entry.name) and not entry.is_symlink() else bad).append(entry.name)
    return good, bad


def _check_text(raw: object) -> None:
    """Raise Unreadable if the notebook holds a string that cannot be written as UTF-8.

    JSON may escape half of a UTF-16 pair (``"\\ud800"``); Python reads it as a lone surrogate,
    which no file, gradebook or page can hold.
    """
    try:
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as err:
        where = ""
        cells = raw.get("cells") if isinstance(raw, dict) else None
        for index, cell in enumerate(cells if isinstance(cells, list) else []):
            try:
                json.dumps(cell, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                where = f"cell {index}: "
                break
        char = ascii(err.object[err.start:err.start + 1])
        raise Unreadable(f"corrupt notebook ({where}a lone surrogate {char}, not valid Unicode)") from None


def _from_format_3(raw: dict) -> dict:
    """A format-3 notebook (cells in "worksheets") as format 4, by nbformat's own converter.

    Outputs are dropped first: they are never graded, and the converter would parse some.
    """
    try:
        for sheet in raw["worksheets"]:
            for cell in sheet["cells"]:
                if cell.get("cell_type") == "code":
                    cell["outputs"] = []
        return json.loads(json.dumps(nbformat.convert(nbformat.from_dict(raw), 4)))
    except Exception as err:  # any malformed part is the same verdict for the student
        raise Unreadable(f"corrupt notebook (format 3, cannot be converted: {type(err).__name__})") from None


def clean_notebook(data: bytes, max_bytes: int, notes: list[str] | None = None) -> nbformat.NotebookNode:
    """Parse a submitted notebook strictly and return a clean copy; raise Unreadable.

    ``notes`` receives what was repaired that the instructor should know (a format-3 conversion).
    """
    if len(data) > max_bytes:
        raise Unreadable(f"notebook too large ({len(data) // 2**20} MiB)")
    if not data.strip():
        raise Unreadable("empty file")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Unreadable("corrupt notebook (not JSON)") from None
    _check_text(raw)
    version = raw.get("nbformat") if isinstance(raw, dict) else None
    if version == 3 and isinstance(raw.get("worksheets"), list):
        raw = _from_format_3(raw)
        if notes is not None:
            notes.append("converted from notebook format 3")
    elif isinstance(version, int) and version != 4:
        raise Unreadable(f"notebook format {version}, not 4 (open it in JupyterLab and save it: "
                         "that writes format 4)")
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise Unreadable("corrupt notebook (no cells)")
    if raw.get("nbformat") != 4:
        raise Unreadable("corrupt notebook (not nbformat 4)")
    for index, cell in enumerate(raw["cells"]):
        where = f"corrupt notebook (cell {index}"
        if not isinstance(cell, dict) or cell.get("cell_type") not in _CELL_TYPES:
            raise Unreadable(f"{where}: not a cell)")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise Unreadable(f"{where}: its source is not text)")
        cell["source"] = source
        metadata = cell.get("metadata")
        if not isinstance(metadata, dict):
            metadata = cell["metadata"] = {}
        if "nbgrader" in metadata and not isinstance(metadata["nbgrader"], dict):
            del metadata["nbgrader"]  # a cell whose grading data is garbage is an ordinary cell
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        if not isinstance(cell.get("id", ""), str) or not cell.get("id", "x"):
            cell.pop("id")
    raw["metadata"] = raw["metadata"] if isinstance(raw.get("metadata"), dict) else {}
    raw["nbformat_minor"] = raw["nbformat_minor"] if isinstance(raw.get("nbformat_minor"), int) else 5
    if raw["nbformat_minor"] >= 5:
        for cell in raw["cells"]:
            cell.setdefault("id", random_cell_id())
    try:
        nb = nbformat.from_dict(raw)
        nbformat.validate(nb)
    except Exception as err:  # any schema failure is the same verdict for the student
        raise Unreadable(f"corrupt notebook ({type(err).__name__})") from None
    return nb


def _regular_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """Regular files by name, and notes about everything else (links, folders, odd names)."""
    files, notes = {}, []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return files, ["the submitted folder cannot be read"]
    for entry in entries:
        name = entry.name
        shown = name.encode("utf-8", "replace").decode("utf-8", "replace")
        try:
            mode = entry.lstat().st_mode
        except OSError:
            continue
        if not stat.S_ISREG(mode):
            notes.append(f"ignored {shown!r} (not a regular file)")
        elif not SAFE_NAME.match(name):
            notes.append(f"ignored {shown!r} (unusable file name)")
        else:
            files[name] = entry
    return files, notes


def check_folder(folder: Path, expected: dict[str, dict[str, str]], max_bytes: int) -> Precheck:
    """Check one submitted folder against the lesson's notebooks.

    ``expected`` maps each notebook name (no ``.ipynb``) to its locked cells' released sources by
    grade_id, read from the gradebook. A single notebook under another name is graded as the one
    the lesson expects.
    """
    result = Precheck()
    files, result.notes = _regular_files(folder)
    notebooks = {n: p for n, p in files.items() if n.endswith(".ipynb")}
    others = sorted(n for n in files if not n.endswith(".ipynb") and n not in KEPT_FILES)
    if others:
        result.notes.append(f"ignored {', '.join(others)} (only notebooks are graded)")
    for name in KEPT_FILES:
        if name in files and files[name].stat().st_size <= MAX_KEPT_FILE_BYTES:
            result.files[name] = files[name].read_bytes()
    wanted = {f"{name}.ipynb": name for name in expected}
    chosen = {wanted[n]: p for n, p in notebooks.items() if n in wanted}
    strangers = sorted(n for n in notebooks if n not in wanted)
    missing = [name for name in expected if name not in chosen]
    if len(missing) == 1 and len(strangers) == 1:
        chosen[missing[0]] = notebooks[strangers[0]]
        result.notes.append(f"renamed notebook {strangers[0]!r} graded as {missing[0]}.ipynb")
        missing, strangers = [], []
    if strangers:
        result.notes.append(f"ignored {', '.join(strangers)} (not a notebook of this lesson)")
    if not chosen:
        result.problem = "no notebook submitted"
        result.notes.append(f"missing {', '.join(f'{m}.ipynb' for m in missing)}")
        return result
    if missing:
        result.notes.append(f"missing notebook(s) {', '.join(missing)}: scored 0")
    for name, path in chosen.items():
        try:
            converted: list[str] = []
            nb = clean_notebook(path.read_bytes(), max_bytes, converted)
            result.notes += [f"{path.name}: {note}" for note in converted]
        except Unreadable as err:
            result.problem = str(err)
            result.notes.append(f"{path.name}: {err}")
            return result
        except OSError:
            result.problem = "the notebook cannot be read"
            return result
        result.notes += _copied_cell_notes(nb) + _locked_cell_notes(nb, expected[name])
        result.notebooks[name] = nbformat.writes(nb).encode("utf-8")
    return result


def _copied_cell_notes(nb) -> list[str]:
    """Make copies of a lesson's cells ordinary cells; say so.

    JupyterLab's copy and paste (and splitting a cell) keeps a cell's nbgrader data, so a student
    who copies an answer or a test cell to try something hands in two cells with one grade_id, and
    nbgrader stops on that notebook: a common, honest action would cost every point. (nbgrader's
    own ``DeduplicateIds`` empties the copies' data to ``{}``, which its ``CheckCellMetadata``
    then rejects as an old metadata format.) The first cell with the id keeps it (as the lesson
    placed it); each other loses its nbgrader data entirely and still runs where it is, so the
    notebook runs as the student ran it.
    """
    seen, copies = set(), []
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in seen:
            del cell.metadata["nbgrader"]
            copies.append(gid)
        elif gid is not None:
            seen.add(gid)
    if not copies:
        return []
    return [f"cell(s) copied or split: {', '.join(dict.fromkeys(copies))} (the first is graded, "
            "the others ran as ordinary cells)"]


def _locked_cell_notes(nb, locked: dict[str, str]) -> list[str]:
    cells = {}
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid is not None:
            cells.setdefault(gid, cell)
    deleted = [gid for gid in locked if gid not in cells]
    edited = [gid for gid, src in locked.items() if gid in cells and cells[gid].source.strip() != src]
    notes = []
    if deleted:
        notes.append(f"locked cell(s) deleted: {', '.join(deleted)} (their tests score 0)")
    if edited:
        notes.append(f"locked cell(s) edited: {', '.join(edited)} (restored before grading)")
    return notes


def execution_notes(nb) -> list[str]:
    """Cell timeouts and memory errors seen in an autograded notebook, by cell."""
    notes = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            what = _CHECKED_ERRORS.get(output.get("ename", ""))
            if what:
                notes.append(f"{what} in {nbgrader_meta(cell).get('grade_id') or f'cell {index}'}")
    return notes
