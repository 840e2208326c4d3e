"""``python -m kerascourse``: prepare this machine for the course (idempotent, offline-safe).

Installs the course kernel into the virtual environment and fills the data caches, then reports
each data set. A missing data set is reported with the command that fixes it but does not fail
(JupyterLab still opens; the lesson's set-up cell repeats the message). ``--strict`` exits 1.
"""

import sys

from kerascourse import datasets, kernel

print(f"course kernel: {kernel.install()}")
statuses = datasets.prepare_all()
for status in statuses:
    print(f"[{'ok' if status.ready else 'MISSING'}] {status.name}: {status.detail}")
strict = "--strict" in sys.argv[1:]
sys.exit(1 if strict and not all(s.ready for s in statuses) else 0)
