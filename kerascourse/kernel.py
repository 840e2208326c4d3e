"""Install the course's Jupyter kernel: the virtual environment's Python with the course environment.

Jupyter starts a kernel with the environment written in its ``kernel.json``, so writing
:func:`kerascourse.paths.kernel_env` there gives every kernel the course settings (data caches,
deterministic threading, quiet TensorFlow logs), whether JupyterLab, nbval or nbgrader started it.
The kernel keeps ipykernel's name ``python3``, so the notebooks need no special kernel name.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from kerascourse.paths import kernel_env

KERNEL_NAME = "python3"


def kernelspec(python: str = sys.executable) -> dict:
    """The ``kernel.json`` contents for the course kernel."""
    return {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (Keras course)",
        "language": "python",
        "env": kernel_env(),
        "metadata": {"debugger": True, "supported_encryption": ["curve"]},
    }


def install(prefix: Path = Path(sys.prefix)) -> Path:
    """Write the kernel spec into ``<prefix>/share/jupyter/kernels/python3`` (idempotent).

    The file is replaced, never written in place: ipykernel installs this ``kernel.json`` and uv
    hard-links installed files from its cache, so one inode is shared by the cache and every
    environment uv made. Written in place, one clone's set-up pointed every other clone's kernel
    at its own Python (found when a second clone's kernels ran the first clone's code).
    """
    target = prefix / "share" / "jupyter" / "kernels" / KERNEL_NAME / "kernel.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(kernelspec(), indent=1) + "\n"
    if target.exists() and target.read_text() == text and target.stat().st_nlink == 1:
        return target
    scratch = target.with_name(f".{target.name}.{os.getpid()}")
    scratch.write_text(text)
    scratch.chmod(0o644)
    os.replace(scratch, target)  # a new file: a hard link to the old one keeps its own contents
    return target
