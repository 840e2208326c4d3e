"""Generate the student notebooks (``notebooks/``) from the instructor notebooks (``solutions/``).

nbgrader's ``generate_assignment`` strips solutions and hidden tests, clears outputs, locks the
read-only cells and records their checksums. The student copies are committed, and a test
regenerates them into a scratch folder and compares, so they can never drift from the source.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from grader.config import NOTEBOOKS_DIR, SOLUTIONS_DIR, nbgrader_settings
from grader.run_nbgrader import lesson_notebook, lessons, run_nbgrader


def generate_student_notebooks(
    names: list[str] | None = None,
    *,
    release: Path = NOTEBOOKS_DIR,
    source: Path = SOLUTIONS_DIR,
) -> list[Path]:
    """Write ``release/<lesson>/<lesson>.ipynb`` for each lesson and return the paths.

    No gradebook is touched (``--no-db``): releasing to a gradebook is the instructor's
    ``nbgrader generate_assignment`` in ``grading/``, which records the same checksums.
    """
    names = names or lessons(source)
    with tempfile.TemporaryDirectory(prefix="keras-course-release-") as scratch:
        settings = nbgrader_settings(Path(scratch), source=source, release=release)
        for name in names:
            run_nbgrader("generate_assignment", [name, "--no-db", "--force"], settings)
    return [lesson_notebook(name, release) for name in names]
