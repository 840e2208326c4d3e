"""Where the course keeps its data, and the environment every course kernel runs with.

Everything that starts a kernel (JupyterLab, nbval, nbgrader, the grader) takes its environment
from :func:`kernel_env`, so Keras and TFDS read the course's caches and training is deterministic
whichever tool ran the notebook.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
KERAS_HOME = DATA_DIR / "keras"
TFDS_DATA_DIR = DATA_DIR / "tensorflow_datasets"


def kernel_env() -> dict[str, str]:
    """Return the environment variables a course kernel needs.

    - ``KERAS_HOME`` / ``TFDS_DATA_DIR``: the real ``load_data()`` / ``tfds.load()`` calls read the
      course's pre-filled caches, so they work offline.
    - One intra-op and one inter-op thread: with op determinism this makes training bit-identical
      across processes and core counts (seeds alone are not enough), and it is not slower on the
      2-core machines the course targets.
    - ``TF_CPP_MIN_LOG_LEVEL=3``: TensorFlow's C++ logging goes to stderr, and nbgrader scores a
      test cell that wrote to stderr as zero.
    - ``TF_ENABLE_ONEDNN_OPTS=0``: the oneDNN kernels log a notice to stderr before logging is set
      up (no log level hides it) and may round differently from run to run; the plain kernels are
      deterministic and fast enough for the course's small models.
    """
    return {
        "KERAS_HOME": str(KERAS_HOME),
        "TFDS_DATA_DIR": str(TFDS_DATA_DIR),
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "PYTHONHASHSEED": "0",
    }


def apply_kernel_env(environ: os._Environ[str] | dict[str, str] = os.environ) -> None:
    """Fill in every course variable that is not set already (an explicit setting wins)."""
    for key, value in kernel_env().items():
        environ.setdefault(key, value)


def course_env(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """A copy of ``environ`` for the course's tools: the course variables, and the virtual
    environment's ``bin/`` first on ``PATH`` (nbgrader shells out to ``alembic`` there, and
    ``jupyter``/``nbgrader`` subprocesses must be this environment's)."""
    env = dict(environ)
    apply_kernel_env(env)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env
