"""The nbval regression check really compares outputs, and the sanitizers only hide what is volatile."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from kerascourse.paths import REPO_ROOT

SANITIZE = REPO_ROOT / "tests" / "nbval_sanitize.cfg"


def _run_nbval(tmp_path, source: str, stored: str, *args: str,
               cells: list[tuple[str, str]] = ()) -> subprocess.CompletedProcess[str]:
    """Run nbval as the course does (the sanitizers and tests/nbval_tolerance.py loaded) on a notebook
    of code cells, each a (source, committed stdout) pair: ``source``/``stored`` first, then ``cells``."""
    nb_cells = [new_code_cell(code, execution_count=i + 1,
                              outputs=[new_output("stream", name="stdout", text=text)])
                for i, (code, text) in enumerate([(source, stored), *cells])]
    nb = new_notebook(cells=nb_cells, metadata={"kernelspec": {"name": "python3",
                                                               "display_name": "Python 3",
                                                               "language": "python"}})
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "-rA",
         "--color=no", "-p", "tests.nbval_tolerance", "--nbval", "--nbval-sanitize-with", str(SANITIZE),
         *args, str(path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=180, env=env,
    )


def _outcomes(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """PASSED/FAILED per cell, in cell order (from pytest's -rA summary)."""
    found = {int(cell): outcome for outcome, cell in re.findall(r"^(PASSED|FAILED) \S*::Cell (\d+)",
                                                                 proc.stdout, flags=re.MULTILINE)}
    return [found.get(i, "?") for i in range(len(found))]


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


def test_numbers_are_compared_within_the_tolerance(tmp_path):
    """Float noise passes; an integer, a decimal beyond the tolerance or a changed text fails, and the
    report names the numbers (the comparison itself: tests/test_nbval_tolerance.py)."""
    proc = _run_nbval(tmp_path, "print('test accuracy: 0.8903')", "test accuracy: 0.8901\n", cells=[
        ("print('Total params: 50,891')", "Total params: 50,890\n"),
        ("print('best val_loss: 0.2901 (epoch 16)')", "best val_loss: 0.2901 (epoch 18)\n"),
        ("print('test accuracy: 0.89')", "test accuracy: 0.87\n"),
        ("print('val accuracy: 0.8901')", "test accuracy: 0.8901\n"),
        ("print('10/10 - 0s - 7ms/step - loss: 0.50004')", "10/10 - 1s - 35ms/step - loss: 0.5\n"),
    ])
    assert _outcomes(proc) == ["PASSED", "FAILED", "FAILED", "FAILED", "FAILED", "PASSED"], proc.stdout
    assert "50,890 -> 50,891 (integers must match exactly)" in proc.stdout
    assert "18 -> 16 (integers must match exactly)" in proc.stdout
    assert "0.87 -> 0.89 (differs by 0.02 = 2.2%; allowed 1% or 0.01)" in proc.stdout
    assert "committed 'test accuracy: #', fresh 'val accuracy: #'" in proc.stdout


PROBE_SETUP = """\
from kerascourse import setup_notebook

setup_notebook(quiet=True)
import tensorflow as tf
from tensorflow.python.util import _pywrap_util_port

threads = tf.config.threading.get_intra_op_parallelism_threads()
print(f"seed 42 | CPU threads: {threads} | deterministic ops: on")
print("oneDNN:", _pywrap_util_port.IsMklEnabled())
"""


def test_perturbed_kernels_really_get_the_perturbation(tmp_path):
    """``--nbval-perturbed`` (make test-perturbed) starts kernels with two threads and oneDNN on, not
    the course kernelspec's pinned one thread and oneDNN off (a kernelspec's env wins over the
    environment); the committed ``CPU threads: 1`` is expected as 2 there (and compared exactly in a
    normal run: tests/test_nbval_tolerance.py)."""
    stored = "seed 42 | CPU threads: 1 | deterministic ops: on\noneDNN: True\n"
    proc = _run_nbval(tmp_path, PROBE_SETUP, stored, "--nbval-perturbed")
    assert proc.returncode == 0, proc.stdout[-3000:]  # and no oneDNN notice on stderr failed the cell
