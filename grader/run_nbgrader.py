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


def nbgrader_command(command: str, args: Sequence[str], settings: dict) -> list[str]:
    """``python -m nbgrader COMMAND ARGS --Class.trait=value ...`` for the course settings."""
    return [sys.executable, "-m", "nbgrader", command, *args, *nbgrader_cli_args(settings)]


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
