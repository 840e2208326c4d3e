"""``grader report``: per-exercise scores as CSV and one overview picture.

``nbgrader export`` gives one total per assignment; to see which exercise is too hard an
instructor needs every graded cell's score, so this reads them from the gradebook: one CSV per
lesson (a row per student, a column per graded cell, in notebook order) and ``overview.png`` with,
per lesson, the distribution of total scores and the mean score of each exercise as a share of
its points.
"""

from __future__ import annotations

import csv
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError


@dataclass
class LessonScores:
    lesson: str
    cells: list[str]  # graded cells, in notebook order
    max_points: dict[str, float]
    rows: dict[str, dict[str, float]]  # student -> cell -> score

    def total(self, student: str) -> float:
        return sum(self.rows[student].values())

    @property
    def max_total(self) -> float:
        return sum(self.max_points.values())


def graded_lessons(course_root: Path) -> dict[str, int]:
    """Each lesson in the course's gradebook and how many submissions it holds; {} when there is no
    gradebook. A plain read-only SQL query on nbgrader's tables: it never creates a gradebook and
    answers before nbgrader (seconds to import) is loaded."""
    db = Path(course_root).resolve() / "gradebook.db"
    if not db.is_file():
        return {}
    try:
        with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as con:
            rows = con.execute("SELECT a.name, COUNT(s.id) FROM assignment a LEFT JOIN "
                               "submitted_assignment s ON s.assignment_id = a.id GROUP BY a.name "
                               "ORDER BY a.name").fetchall()
    except sqlite3.OperationalError as err:
        if "no such table" in str(err):
            return {}  # an empty file, or a gradebook nbgrader never set up
        raise UsageError(f"cannot read the gradebook {db} ({err})") from None
    except sqlite3.DatabaseError as err:
        raise UsageError(f"{db} is not a gradebook ({err})") from None
    return {name: count for name, count in rows}


def read_scores(course_root: Path, lessons: list[str] | None = None) -> list[LessonScores]:
    """Every submitted student's score per graded cell, for each lesson in the gradebook."""
    from nbgrader.api import Gradebook

    from grader.gradebook import db_url

    result = []
    with Gradebook(db_url(course_root)) as gb:
        for assignment in gb.assignments:
            if lessons and assignment.name not in lessons:
                continue
            cells, max_points = [], {}
            for nb in assignment.notebooks:
                for cell in nb.grade_cells:
                    key = cell.name if len(assignment.notebooks) == 1 else f"{nb.name}:{cell.name}"
                    cells.append(key)
                    max_points[key] = float(cell.max_score)
            order = {name: i for i, name in enumerate(cells)}
            rows = {}
            for submission in assignment.submissions:
                row = {}
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        key = grade.name if len(assignment.notebooks) == 1 else f"{nb.name}:{grade.name}"
                        row[key] = float(grade.score)
                rows[submission.student.id] = row
            cells.sort(key=order.get)
            result.append(LessonScores(assignment.name, cells, max_points, rows))
    return result


def write_csv(scores: LessonScores, path: Path) -> Path:
    """Header: student, one column per graded cell (``name (max points)``), total."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", *[f"{c} ({scores.max_points[c]:g})" for c in scores.cells],
                         f"total ({scores.max_total:g})"])
        for student in sorted(scores.rows):
            row = scores.rows[student]
            writer.writerow([student, *[f"{row.get(c, 0.0):g}" for c in scores.cells],
                             f"{scores.total(student):g}"])
    return path


def plot_overview(all_scores: list[LessonScores], path: Path) -> Path:
    """Per lesson: a histogram of total scores and the mean share of points per graded cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(len(all_scores), 1)
    fig, axes = plt.subplots(n, 2, figsize=(11, 3.6 * n), squeeze=False)
    for (hist, bars), scores in zip(axes, all_scores, strict=False):
        totals = [scores.total(s) for s in scores.rows]
        bins = max(int(scores.max_total), 1)
        hist.hist(totals, bins=bins, range=(0, scores.max_total), color="tab:blue",
                  edgecolor="white", label=f"{len(totals)} students")
        hist.set(title=f"{scores.lesson}: total scores", xlabel=f"points (of {scores.max_total:g})",
                 ylabel="students")
        hist.legend()
        means = [sum(r.get(c, 0.0) for r in scores.rows.values()) / max(len(scores.rows), 1)
                 / (scores.max_points[c] or 1) for c in scores.cells]
        bars.bar(scores.cells, [100 * m for m in means], color="tab:orange", label="mean score")
        bars.set(title=f"{scores.lesson}: mean score per exercise", xlabel="graded cell",
                 ylabel="% of points", ylim=(0, 100))
        bars.tick_params(axis="x", labelrotation=30)
        bars.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def report(course_root: Path, lessons: list[str] | None = None) -> list[Path]:
    """Write ``reports/<lesson>-scores.csv`` per lesson and ``reports/overview.png``."""
    course_root = Path(course_root).resolve()
    all_scores = read_scores(course_root, lessons)
    out = course_root / "reports"
    paths = [write_csv(s, out / f"{s.lesson}-scores.csv") for s in all_scores]
    paths.append(plot_overview(all_scores, out / "overview.png"))
    return paths
