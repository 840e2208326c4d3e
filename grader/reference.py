"""Re-run an instructor notebook in place to refresh its committed reference outputs.

nbval compares a fresh run of each ``solutions/`` notebook against these outputs, so they must
come from the same kernel environment the tests use (course kernel, one thread, fixed seeds).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from grader.config import CELL_TIMEOUT_S, SOLUTIONS_DIR
from grader.run_nbgrader import lesson_notebook
from kerascourse.paths import apply_kernel_env


def execute_in_place(notebook: Path) -> float:
    """Execute ``notebook`` top to bottom, save it with its outputs, return the seconds taken."""
    apply_kernel_env(os.environ)
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
        record_timing=False,  # no per-cell timestamps: they would churn every diff
        store_widget_state=False,  # widget state holds random model ids: it would churn every diff
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nbformat.write(nb, notebook)
    return seconds


def solution_notebook(lesson: str, solutions: Path = SOLUTIONS_DIR) -> Path:
    return lesson_notebook(lesson, solutions)
