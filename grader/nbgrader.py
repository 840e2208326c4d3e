"""Run nbgrader with the course's configuration.

nbgrader runs as a subprocess of the virtual environment's Python: it shells out to ``alembic``
when it creates a gradebook, so the environment's ``bin/`` must be on PATH, and its kernels must
get the course environment (data caches, determinism) even when the caller is not a notebook.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from grader.config import SOLUTIONS_DIR, nbgrader_cli_args
from kerascourse.paths import apply_kernel_env


class NbgraderError(RuntimeError):
    """nbgrader exited with an error; the message carries its output."""


def lessons(solutions: Path = SOLUTIONS_DIR) -> list[str]:
    """Lesson slugs (``NN-slug``) in order: each is a folder holding ``NN-slug.ipynb``."""
    return sorted(p.name for p in solutions.iterdir() if (p / f"{p.name}.ipynb").is_file())


def subprocess_env() -> dict[str, str]:
    """The environment for nbgrader and its kernels."""
    env = dict(os.environ)
    apply_kernel_env(env)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    return env


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
    cmd = [sys.executable, "-m", "nbgrader", command, *args, *nbgrader_cli_args(settings)]
    proc = subprocess.run(
        cmd,
        cwd=cwd or settings["CourseDirectory.root"],
        env=subprocess_env(),
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
