"""Move one job's results into the main gradebook, serially, in the parent process.

Each job graded in its own copy of the gradebook (:mod:`grader.grading_job`), so nothing there
was contended. What nbgrader wrote for the submission (timestamp, every grade and comment, the
late penalty) is copied field by field through nbgrader's Gradebook API into the main gradebook,
and the autograded notebook folder into the main ``autograded/`` folder: afterwards the main
course folder looks exactly as if ``nbgrader autograde`` had graded the student there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from grader.submission_checks import released_source

MAX_OUTPUT_CHARS = 100_000
_GRADE_FIELDS = ("auto_score", "manual_score", "extra_credit", "needs_manual_grade")
_COMMENT_FIELDS = ("auto_comment", "manual_comment")


def db_url(course_root: Path) -> str:
    return f"sqlite:///{Path(course_root).resolve() / 'gradebook.db'}"


def make_template(main_db: Path, template_db: Path, lesson: str) -> None:
    """Copy the main gradebook with only ``lesson``'s assignment and no students.

    A copy (rather than a fresh ``generate_assignment``) keeps exactly the source cells and
    checksums the main gradebook grades with, so a job scores as nbgrader would in place.
    """
    shutil.copy2(main_db, template_db)
    with Gradebook(f"sqlite:///{template_db}") as gb:
        for assignment in list(gb.assignments):
            if assignment.name != lesson:
                gb.remove_assignment(assignment.name)
        for student in list(gb.students):
            gb.remove_student(student.id)


def locked_sources(main_db_url: str, lesson: str) -> dict[str, dict[str, str]]:
    """Each notebook's locked cells as released to students: {notebook: {grade_id: source}}."""
    with Gradebook(main_db_url) as gb:
        assignment = gb.find_assignment(lesson)
        return {nb.name: {c.name: released_source(c.source) for c in nb.source_cells if c.locked}
                for nb in assignment.notebooks}


def merge_job(main: Gradebook, job_root: Path, course_root: Path, lesson: str, student: str) -> None:
    """Copy the student's submission from the job's gradebook and folder into the main ones."""
    with Gradebook(db_url(job_root)) as job:
        submission = job.find_submission(lesson, student)
        main.update_or_create_student(student)
        target = main.update_or_create_submission(lesson, student, timestamp=submission.timestamp)
        for nb in submission.notebooks:
            main_nb = main.find_submission_notebook(nb.name, lesson, student)
            main_nb.late_submission_penalty = nb.late_submission_penalty
            main_nb.flagged = nb.flagged
            for grade in nb.grades:
                main_grade = main.find_grade(grade.name, nb.name, lesson, student)
                for name in _GRADE_FIELDS:
                    setattr(main_grade, name, getattr(grade, name))
            for comment in nb.comments:
                main_comment = main.find_comment(comment.name, nb.name, lesson, student)
                for name in _COMMENT_FIELDS:
                    setattr(main_comment, name, getattr(comment, name))
        main.db.commit()
        del target
    src = job_root / "autograded" / student / lesson
    dest = Path(course_root) / "autograded" / student / lesson
    if dest.exists():
        shutil.rmtree(dest)
    if src.exists():
        for path in src.glob("*.ipynb"):
            cap_outputs(path)
        shutil.copytree(src, dest)


def cap_outputs(path: Path, max_chars: int = MAX_OUTPUT_CHARS) -> bool:
    """Cut every output text longer than ``max_chars``; return whether anything was cut.

    nbgrader's LimitOutput caps the number of lines, not their length: one ``print`` of a huge
    string would otherwise go whole into the autograded notebook and the feedback page.
    """
    nb = nbformat.read(path, as_version=4)
    cut = False
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            texts = [("text", output)] if "text" in output else []
            texts += [(mime, output["data"]) for mime in output.get("data", {})
                      if isinstance(output["data"][mime], str)]
            for key, holder in texts:
                if len(holder[key]) > max_chars:
                    size = len(holder[key])
                    note = f"\n[output cut by the grader: {size} characters]\n"
                    holder[key] = holder[key][:max_chars] + note
                    cut = True
    if cut:
        path.chmod(0o644)
        nbformat.write(nb, path)
    return cut


def zero_ungraded(main: Gradebook, lesson: str, student: str, *, everything: bool) -> None:
    """Score 0 where nothing was graded.

    ``everything``: the submission could not be graded at all (corrupt, kernel died, time limit),
    so every cell, manual ones included, gets 0 and needs no manual grading. Otherwise only the
    autograded cells nbgrader left without a score (their test cell was deleted) get 0.
    """
    main.update_or_create_student(student)
    try:
        submission = main.find_submission(lesson, student)
    except MissingEntry:
        submission = main.add_submission(lesson, student)
    for nb in submission.notebooks:
        for grade in nb.grades:
            if everything or (grade.auto_score is None and grade.cell_type == "code"):
                grade.auto_score = 0.0
                grade.needs_manual_grade = False
    main.db.commit()
