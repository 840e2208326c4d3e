"""``python -m kerascourse``: prepare this machine for the course (idempotent, offline-safe).

Installs the course kernel into the virtual environment and fills every data cache: the Keras
cache (:mod:`kerascourse.datasets`) first, then side by side the prepared TFDS data
(:mod:`kerascourse.tfds_data`, which reads the same files) and the explorers' runs
(:mod:`kerascourse.explorer_grids`: committed, rebuilt from Fashion-MNIST in the Keras cache only
if they are missing or stale). Each step is
fast when already done. A missing data set is reported with the command that fixes it but does
not fail (JupyterLab still opens; the lesson's set-up cell repeats the message). ``--strict``
exits 1.
"""

import sys
from concurrent.futures import ThreadPoolExecutor

from kerascourse import datasets, explorer_grids, kernel, tfds_data

print(f"course kernel: {kernel.install()}")
statuses = [datasets.link_fashion_mnist(), tfds_data.prepare_iris()]
# If the committed explorers' runs are stale, they train in their own processes (one per core) while
# this one writes the TFDS copy of Fashion-MNIST (one core, about 20 s): together they finish sooner.
with ThreadPoolExecutor(max_workers=1) as background:
    grids = background.submit(explorer_grids.prepare)
    statuses.append(tfds_data.prepare_fashion_mnist())
    statuses.append(grids.result())
for status in statuses:
    print(f"[{'ok' if status.ready else 'MISSING'}] {status.name}: {status.detail}")
strict = "--strict" in sys.argv[1:]
sys.exit(1 if strict and not all(s.ready for s in statuses) else 0)
