"""Everything the grader does to nbgrader's gradebook, through nbgrader's own API.

Before grading: back the gradebook up, make the per-job template (the lesson's assignment and no
students) and read the locked cells students received. After each job: copy the job's grades
into the course gradebook, and score 0 where nothing could be graded. SQLite does not take
concurrent writers well, so only the parent process writes here, one job at a time.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from grader.cells import released_source

KEEP_BACKUPS = 20
_GRADE_FIELDS = ("auto_score", "manual_score", "extra_credit", "needs_manual_grade")
_COMMENT_FIELDS = ("auto_comment", "manual_comment")


def db_url(course_root: Path) -> str:
    return f"sqlite:///{Path(course_root).resolve() / 'gradebook.db'}"


def backup(course_root: Path) -> Path | None:
    """Copy the gradebook to ``backups/gradebook-<time>.db`` (SQLite's online backup); keep the
    newest :data:`KEEP_BACKUPS`. Returns the copy, or None when there is no gradebook yet."""
    db = Path(course_root) / "gradebook.db"
    if not db.is_file():
        return None
    folder = Path(course_root) / "backups"
    folder.mkdir(exist_ok=True)
    target = folder / f"gradebook-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}.db"
    with sqlite3.connect(db) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    for old in sorted(folder.glob("gradebook-*.db"))[:-KEEP_BACKUPS]:
        old.unlink()
    return target


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
        return {nb.name: {c.name: released_source(c.source).strip() for c in nb.source_cells if c.locked}
                for nb in assignment.notebooks}


def _submission(main: Gradebook, lesson: str, student: str):
    main.update_or_create_student(student)
    try:
        return main.find_submission(lesson, student)
    except MissingEntry:
        return main.add_submission(lesson, student)


def _zero(main: Gradebook, lesson: str, student: str, which) -> None:
    for nb in _submission(main, lesson, student).notebooks:
        for grade in nb.grades:
            if which(grade):
                grade.auto_score = 0.0
                grade.needs_manual_grade = False
    main.db.commit()


def score_zero_everywhere(main: Gradebook, lesson: str, student: str) -> None:
    """The submission could not be graded at all (corrupt, no notebook, kernel never started):
    every cell, manual ones included, scores 0 and needs no manual grading."""
    _zero(main, lesson, student, lambda grade: True)


def zero_cells(main: Gradebook, lesson: str, student: str, cells: set[str]) -> None:
    """Score 0 for these test cells (tampering found by the guard), whatever nbgrader concluded."""
    _zero(main, lesson, student, lambda grade: grade.name in cells and grade.cell_type == "code")


def score_zero_unscored(main: Gradebook, lesson: str, student: str) -> None:
    """Graded, but nbgrader left some test cells without a score (the student deleted them):
    those score 0; answers awaiting manual grading keep waiting."""
    _zero(main, lesson, student, lambda grade: grade.auto_score is None and grade.cell_type == "code")


def merge_grades(main: Gradebook, job_db_url: str, lesson: str, student: str) -> None:
    """Copy one student's submission (timestamp, grades, comments, late penalty) from a job's
    gradebook into the course gradebook, field by field through nbgrader's API."""
    with Gradebook(job_db_url) as job:
        submission = job.find_submission(lesson, student)
        main.update_or_create_student(student)
        main.update_or_create_submission(lesson, student, timestamp=submission.timestamp)
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


def totals(main: Gradebook, lesson: str, student: str) -> tuple[float, float]:
    try:
        submission = main.find_submission(lesson, student)
    except MissingEntry:
        return 0.0, 0.0
    return float(submission.score), float(submission.max_score)
