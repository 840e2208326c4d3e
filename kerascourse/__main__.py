"""``python -m kerascourse``: prepare this machine for the course (idempotent, offline-safe).

Installs the course kernel into the virtual environment and fills the data caches, then reports
each data set. Exits 1 if a data set is missing, with the command that fixes it.
"""

import sys

from kerascourse import datasets, kernel

print(f"course kernel: {kernel.install()}")
statuses = datasets.prepare_all()
for status in statuses:
    print(f"[{'ok' if status.ready else 'MISSING'}] {status.name}: {status.detail}")
sys.exit(0 if all(s.ready for s in statuses) else 1)
