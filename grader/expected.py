"""The reference: what a lesson's probes observe on its solution, computed where no student code ran.

Verdicts compare a student's observations with the solution's. Those come from grading the
solution itself, as a submission built from ``solutions/`` (every answer filled in), through the
same sandboxed ``nbgrader autograde`` in *reference mode*: the probes' observations are recorded
instead of judged, and every verdict is checked against the solution's own values (a verdict the
solution fails is the author's bug, reported here). The kernel that computes them never ran a
student's code.

The result is cached per lesson in the course folder, ``.grader/reference/<lesson>.json``, with a
digest of the lesson's source notebooks, so it is computed at the first autograde after a change
and never placed in ``release/`` or anything a student receives.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import nbformat

from grader import evidence, gradebook
from grader.config import SOLUTIONS_DIR
from grader.limits import COURSE_LIMITS, Limits
from grader.observations import decode
from grader.precheck import Precheck

REFERENCE_STUDENT = "reference"


class ReferenceError(RuntimeError):
    """The solution could not be graded in reference mode (its tests fail, or a verdict is wrong)."""


def reference_path(course_root: Path, lesson: str) -> Path:
    return Path(course_root) / ".grader" / "reference" / f"{lesson}.json"


def lesson_digest(source: Path, lesson: str) -> str:
    """A digest of the lesson's source notebooks (any edit makes the cached reference stale)."""
    digest = hashlib.sha256()
    for path in sorted((Path(source) / lesson).glob("*.ipynb")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def load(path: Path) -> dict[str, dict[str, dict[str, list[Any]]]]:
    """{notebook: {test cell: {name: [values]}}}, decoded exactly as a student's observations are."""
    data = json.loads(Path(path).read_text())
    return {nb: {cell: {name: [decode(v) for v in values] for name, values in names.items()}
                 for cell, names in cells.items()}
            for nb, cells in data["notebooks"].items()}


def is_current(path: Path, source: Path, lesson: str) -> bool:
    try:
        return json.loads(Path(path).read_text()).get("digest") == lesson_digest(source, lesson)
    except (OSError, ValueError, AttributeError):
        return False


def ensure(course_root: Path, lesson: str, source: Path = SOLUTIONS_DIR,
           limits: Limits = COURSE_LIMITS) -> Path:
    """The lesson's reference file, computed first if it is missing or stale."""
    course_root = Path(course_root).resolve()
    path = reference_path(course_root, lesson)
    if is_current(path, source, lesson):
        return path
    from grader.autograde import ensure_assignment  # the autograde module imports this one

    ensure_assignment(course_root, lesson, source)
    scratch = course_root / ".grader" / "reference-run" / lesson
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        template = scratch / "template.db"
        gradebook.make_template(course_root / "gradebook.db", template, lesson)
        data = compute(scratch / "job", lesson, source, limits, template)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return store(path, lesson, source, data["notebooks"])


def store(path: Path, lesson: str, source: Path, notebooks: dict[str, dict]) -> Path:
    """Write a reference file: {notebook: {test cell: {name: [encoded values]}}} and the digest."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"notebooks": notebooks, "digest": lesson_digest(source, lesson)}))
    return path


def solution_submission(lesson: str, source: Path) -> dict[str, bytes]:
    """Each notebook of the lesson as a student who solved it hands it in (released + answers)."""
    from grader.release import generate_student_notebooks
    from grader.variants import build_submission

    with tempfile.TemporaryDirectory(prefix="keras-course-reference-") as tmp:
        generate_student_notebooks([lesson], release=Path(tmp), source=source)
        notebooks = {}
        for released in sorted((Path(tmp) / lesson).glob("*.ipynb")):
            solution = nbformat.read(Path(source) / lesson / released.name, as_version=4)
            student = nbformat.read(released, as_version=4)
            notebooks[released.stem] = nbformat.writes(build_submission(student, solution)).encode()
    return notebooks


def compute(root: Path, lesson: str, source: Path, limits: Limits, template: Path) -> dict:
    """Grade the solution in reference mode in ``root``; return the observations to cache."""
    from grader.job import Job

    job = Job(root, REFERENCE_STUDENT, lesson, source, reference_mode=True)
    job.prepare(template, Precheck(notebooks=solution_submission(lesson, source)))
    result = job.run(limits)
    found = evidence.read(job.evidence_file)
    if result.returncode != 0 or not found:
        tail = "\n".join(result.log.splitlines()[-15:])
        raise ReferenceError(f"the solution of {lesson} could not be run for the reference:\n{tail}")
    problems = [f.note for nb in found.values() for f in nb.findings if f.kind.scores_zero]
    if problems:
        raise ReferenceError(f"the solution of {lesson} fails its own checks: " + "; ".join(problems))
    return {"notebooks": {name: nb.observations for name, nb in found.items()}}
