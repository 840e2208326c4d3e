"""Install the course's Jupyter kernel: the virtual environment's Python with the course environment.

Jupyter starts a kernel with the environment written in its ``kernel.json``, so writing
:func:`kerascourse.paths.kernel_env` there gives every kernel the course settings (data caches,
deterministic threading, quiet TensorFlow logs), whether JupyterLab, nbval or nbgrader started it.
The kernel keeps ipykernel's name ``python3``, so the notebooks need no special kernel name.
"""

from __future__ import annotations

import json
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
    """Write the kernel spec into ``<prefix>/share/jupyter/kernels/python3`` (idempotent)."""
    target = prefix / "share" / "jupyter" / "kernels" / KERNEL_NAME / "kernel.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(kernelspec(), indent=1) + "\n"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return target
