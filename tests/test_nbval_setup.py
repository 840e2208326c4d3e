"""The nbval regression check really compares outputs, and the sanitizers only hide what is volatile."""

from __future__ import annotations

import subprocess
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from kerascourse.paths import REPO_ROOT

SANITIZE = REPO_ROOT / "tests" / "nbval_sanitize.cfg"


def _run_nbval(tmp_path, source: str, stored: str) -> subprocess.CompletedProcess[str]:
    cell = new_code_cell(source, execution_count=1,
                         outputs=[new_output("stream", name="stdout", text=stored)])
    nb = new_notebook(cells=[cell], metadata={"kernelspec": {"name": "python3",
                                                             "display_name": "Python 3",
                                                             "language": "python"}})
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
         "--nbval", "--nbval-sanitize-with", str(SANITIZE), str(path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )


def test_a_changed_output_fails(tmp_path):
    proc = _run_nbval(tmp_path, "print('accuracy: 0.91')", "accuracy: 0.87\n")
    assert proc.returncode != 0, proc.stdout


def test_step_timings_are_sanitized(tmp_path):
    proc = _run_nbval(tmp_path, "print('10/10 - 0s - 7ms/step - loss: 0.5')",
                      "10/10 - 1s - 35ms/step - loss: 0.5\n")
    assert proc.returncode == 0, proc.stdout


def test_sanitizing_keeps_the_numbers_that_matter(tmp_path):
    proc = _run_nbval(tmp_path, "print('10/10 - 0s - 7ms/step - loss: 0.5')",
                      "10/10 - 0s - 7ms/step - loss: 0.4\n")
    assert proc.returncode != 0, proc.stdout
