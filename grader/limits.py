"""What one submission may use while it is graded: the one place every limit is written.

The command line (``grader autograde --help``), the nbgrader settings (``Execute.timeout`` for
the Validate button and the formgrader), the sandbox, the output caps and the tests all read
their numbers from :data:`COURSE_LIMITS`; change a default here and every one of them follows.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True)
class Limits:
    """Bounds on one graded notebook: time, memory, processes, files and output."""

    # Per cell. Lessons train small models for a few seconds; the limit only has to stop a
    # runaway cell (nbgrader's default of 30 s is too tight for a training cell on a busy machine).
    cell_timeout_s: int = 120
    # The whole submission: kernel start, every cell, nbgrader's own work.
    total_timeout_s: float = 900
    # The kernel's memory: its cgroup (every process it starts and the files it writes to its
    # in-memory /tmp and working folder count) and, per process, its address space.
    # TensorFlow maps about 2 GiB of address space when it is imported.
    memory_bytes: int = 4 * GIB
    # nbgrader itself holds every output the kernel sends; a flood must end as this job's failure.
    nbgrader_memory_bytes: int = 3 * GIB
    # Processes and threads of one kernel (TensorFlow alone starts a few dozen threads).
    max_tasks: int = 512
    # CPU: at most this many cores for one kernel, so one submission cannot starve the others.
    cpu_cores: float = 1.0
    # Largest file the kernel may write, and the size of its /tmp and of its working folder.
    max_file_bytes: int = 256 * MIB
    scratch_bytes: int = 512 * MIB
    # Output kept per output field, and per cell in all (the rest is cut with a note).
    output_chars: int = 100_000
    cell_output_chars: int = 1_000_000
    # A submitted notebook larger than this is not graded.
    notebook_bytes: int = 20 * MIB
    # How long the kernel may take to answer one of the grader's checks (they take milliseconds,
    # the first snapshot a second or two; on a machine loaded ten times over it took longer than
    # 20 s once). A kernel that cannot answer runs nothing more.
    guard_timeout_s: float = 60
    # Isolate the kernel with bubblewrap (where it works; see grader/sandbox.py).
    use_bwrap: bool = True

    def replace(self, **changes: object) -> Limits:
        """A copy with some limits changed (``None`` values keep the default)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


COURSE_LIMITS = Limits()


def limits_to_json(limits: Limits) -> str:
    """The limits as one JSON string: how they travel to nbgrader's preprocessors as one setting."""
    import json

    return json.dumps(dataclasses.asdict(limits), sort_keys=True)


def limits_from_json(text: str) -> Limits:
    """The inverse of :func:`limits_to_json`; an empty string means the course's limits."""
    import json

    return Limits(**json.loads(text)) if text else COURSE_LIMITS
