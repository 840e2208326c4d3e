"""Run nbgrader with the course's configuration, as a subprocess of the course environment.

nbgrader shells out to ``alembic`` when it creates a gradebook, so the environment's ``bin/`` must
be on PATH, and its kernels must get the course environment (data caches, determinism) even when
the caller is not a notebook: :func:`kerascourse.paths.course_env` gives both.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from grader.config import SOLUTIONS_DIR, nbgrader_cli_args
from kerascourse.paths import course_env


class NbgraderError(RuntimeError):
    """nbgrader exited with an error; the message carries its output."""


def lesson_notebook(lesson: str, folder: Path = SOLUTIONS_DIR) -> Path:
    """Where a lesson's notebook lives in ``folder`` (solutions/, notebooks/, a release): one place."""
    return Path(folder) / lesson / f"{lesson}.ipynb"


def lessons(solutions: Path = SOLUTIONS_DIR) -> list[str]:
    """Lesson slugs (``NN-slug``) in order: each is a folder holding ``NN-slug.ipynb``."""
    return sorted(p.name for p in solutions.iterdir() if lesson_notebook(p.name, solutions).is_file())


# ``python -m nbgrader``, minus one optional import: jsonschema (through nbformat) imports
# ``rfc3987_syntax`` when it is installed (jupyter-events pulls it in), which builds a grammar at
# import time: about half of nbgrader's start-up (measured: 1.6 s instead of 3.3 s of CPU), paid by
# every submission's own nbgrader process. nbgrader never validates IRIs, so the module is marked
# absent in these processes only (jsonschema then skips that one format check).
NBGRADER_MAIN = ("import sys; sys.modules['rfc3987_syntax'] = None; "
                 "from nbgrader.apps.nbgraderapp import main; main()")


def nbgrader_command(command: str, args: Sequence[str], settings: dict) -> list[str]:
    """``python -m nbgrader COMMAND ARGS --Class.trait=value ...`` for the course settings."""
    return [sys.executable, "-c", NBGRADER_MAIN, command, *args, *nbgrader_cli_args(settings)]


def run_nbgrader(
    command: str,
    args: Sequence[str],
    settings: dict,
    *,
    cwd: Path | None = None,
    check: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``nbgrader COMMAND ARGS`` with the course settings; raise NbgraderError on failure."""
    proc = subprocess.run(
        nbgrader_command(command, args, settings),
        cwd=cwd or settings["CourseDirectory.root"],
        env=course_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise NbgraderError(
            f"nbgrader {command} {' '.join(args)} exited with {proc.returncode}:\n"
            f"{proc.stdout}\n{proc.stderr}"
        )
    return proc
