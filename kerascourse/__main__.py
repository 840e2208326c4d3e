"""``python -m kerascourse``: prepare this machine for the course (idempotent, offline-safe).

Installs the course kernel into the virtual environment and fills every data cache, in order:
the Keras cache (:mod:`kerascourse.datasets`), the prepared TFDS data
(:mod:`kerascourse.tfds_data`, which reads the same files) and the explorers' runs
(:mod:`kerascourse.explorer_grids`, which read Fashion-MNIST from the Keras cache). Each step is
fast when already done. A missing data set is reported with the command that fixes it but does
not fail (JupyterLab still opens; the lesson's set-up cell repeats the message). ``--strict``
exits 1.
"""

import sys

from kerascourse import datasets, explorer_grids, kernel, tfds_data

print(f"course kernel: {kernel.install()}")
statuses = [datasets.link_fashion_mnist(), tfds_data.prepare_iris(), tfds_data.prepare_fashion_mnist(),
            explorer_grids.prepare()]
for status in statuses:
    print(f"[{'ok' if status.ready else 'MISSING'}] {status.name}: {status.detail}")
strict = "--strict" in sys.argv[1:]
sys.exit(1 if strict and not all(s.ready for s in statuses) else 0)
