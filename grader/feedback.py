"""``grader feedback LESSON``: per-student HTML that never shows a hidden test.

nbgrader's ``generate_feedback`` renders the autograded notebook, whose test cells were restored
from the gradebook with their hidden tests, so the hidden source and its tracebacks reach the
student (nbgrader issue #917). Here each test cell is cut back to what the student received, and
its outputs are rebuilt: an error raised by a visible line keeps its message and that one line;
an error raised by a hidden line becomes "a hidden test failed"; frames from the student's own
cells are kept, because they point at the student's mistake. IPython prints a few lines of context
around the failing line, which is why the traceback cannot be shown as it is.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbgrader.api import Gradebook, MissingEntry

from grader.gradebook_merge import db_url

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_BEGIN, _END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
_FRAME_HEADER = re.compile(r"^Cell In\[(\d+)\], line (\d+)")
HIDDEN_NOTE = "# (hidden tests run here; they are not shown)"


def hidden_lines(source: str) -> set[int]:
    """1-based line numbers of the hidden region(s), markers included."""
    hidden, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip().startswith(_BEGIN):
            inside = True
        if inside:
            hidden.add(number)
        if line.strip().startswith(_END):
            inside = False
    return hidden


def visible_source(source: str) -> str:
    lines, skipping = [], False
    for line in source.splitlines():
        if line.strip().startswith(_BEGIN):
            skipping = True
            lines.append(HIDDEN_NOTE)
        elif line.strip().startswith(_END):
            skipping = False
        elif not skipping:
            lines.append(line)
    return "\n".join(lines)


def _safe_error(output, source: str, execution_count: int | None) -> dict:
    """Rebuild one error output of a test cell without hidden source, context or messages."""
    hidden = hidden_lines(source)
    lines = source.splitlines()
    frames = [_ANSI.sub("", entry) for entry in output.get("traceback", [])]
    kept, last_in_test_cell, failed_hidden = [], False, False
    for frame in frames:
        header = _FRAME_HEADER.match(frame)
        if header and execution_count is not None and int(header.group(1)) == execution_count:
            number = int(header.group(2))
            last_in_test_cell = True
            if number in hidden or number > len(lines):
                failed_hidden = True
                kept.append("(in a hidden test)")
            else:
                failed_hidden = False
                kept.append(f"Test cell, line {number}:\n----> {lines[number - 1].strip()}")
        elif header:  # one of the student's own cells
            last_in_test_cell = False
            kept.append(frame)
        elif frame.startswith("File "):  # library code called from the student's code
            last_in_test_cell = False
            kept.append(frame)
    ename, evalue = output.get("ename", "Error"), output.get("evalue", "")
    if last_in_test_cell and failed_hidden:
        ename, evalue = "HiddenTestFailed", "a hidden test failed (its source and message are not shown)"
    elif not frames or not any(_FRAME_HEADER.match(f) for f in frames):
        kept = []  # e.g. a cell timeout: the message says it all
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                  traceback=[*kept, f"{ename}: {evalue}"])


def _is_test_cell(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def sanitize(nb, scores: dict[str, tuple[float, float]]):
    """A copy of an autograded notebook that is safe to hand to the student."""
    nb = nbformat.from_dict(nb)
    cells = []
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if _is_test_cell(cell):
            source = cell.source
            cell.outputs = [_safe_error(o, source, cell.get("execution_count"))
                            for o in cell.outputs if o.output_type == "error"]
            cell.source = visible_source(source)
        cells.append(cell)
        if gid in scores:
            score, max_score = scores[gid]
            cells.append(nbformat.v4.new_markdown_cell(f"**Score for `{gid}`: {score:g} / {max_score:g}**"))
    nb.cells = cells
    return nb


def _scores(course_root: Path, lesson: str, notebook: str, student: str) -> dict[str, tuple[float, float]]:
    try:
        with Gradebook(db_url(course_root)) as gb:
            sub = gb.find_submission_notebook(notebook, lesson, student)
            return {g.name: (float(g.score), float(g.max_score)) for g in sub.grades}
    except MissingEntry:
        return {}


def generate_feedback(course_root: Path, lesson: str, students: list[str] | None = None) -> list[Path]:
    """Write ``feedback/<student>/<lesson>/<notebook>.html`` for every autograded submission."""
    course_root = Path(course_root).resolve()
    autograded = course_root / "autograded"
    if students is None:
        students = sorted(p.parent.name for p in autograded.glob(f"*/{lesson}") if p.is_dir())
    exporter = HTMLExporter(template_name="classic")
    written = []
    for student in students:
        for path in sorted((autograded / student / lesson).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            scores = _scores(course_root, lesson, path.stem, student)
            total = sum(s for s, _ in scores.values()), sum(m for _, m in scores.values())
            header = nbformat.v4.new_markdown_cell(
                f"# Feedback: {html.escape(lesson)}\n\nStudent `{student}`, "
                f"score **{total[0]:g} / {total[1]:g}**. Hidden tests are not shown.")
            safe = sanitize(nb, scores)
            safe.cells.insert(0, header)
            body, _ = exporter.from_notebook_node(safe)
            target = course_root / "feedback" / student / lesson / f"{path.stem}.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body)
            written.append(target)
    return written
