"""What runs inside a student's kernel while it is graded: the boot script and the guard.

The kernel cannot import the ``grader`` package (the sandbox shows it only this folder), so
both files are plain scripts: :data:`BOOT_SCRIPT` starts ipykernel after installing the guard
(``guard.py``, executed into a namespace of its own).
"""

from pathlib import Path

KERNEL_DIR = Path(__file__).resolve().parent
BOOT_SCRIPT = KERNEL_DIR / "boot.py"
GUARD_SCRIPT = KERNEL_DIR / "guard.py"
GUARD_DIR_ENV = "GRADER_GUARD_DIR"  # where boot.py finds (and deletes) the guard's key
