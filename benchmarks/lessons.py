"""Benchmark: run every lesson notebook top to bottom and print its wall time and peak memory.

    .venv/bin/python benchmarks/lessons.py [LESSON ...]

Targets (from the course guide): a lesson in about 30 s on a 2-core CPU, the capstone in about
60 s. The figures are printed, not asserted: timings depend on the machine and its load, so they
belong in a benchmark rather than in a test that fails at random.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.config import CELL_TIMEOUT_S  # noqa: E402
from grader.reference import solution_notebook  # noqa: E402
from grader.run_nbgrader import lessons  # noqa: E402
from kerascourse.paths import apply_kernel_env  # noqa: E402

TARGET_S = {"09": 60.0}  # every other lesson: 30 s


def peak_rss_mib(pid: int) -> float:
    """The kernel's peak resident memory (VmHWM), read before it shuts down."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(lesson: str) -> tuple[float, float]:
    path = solution_notebook(lesson)
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name="python3")  # our own manager: nbclient leaves it running
    start = time.perf_counter()
    km.start_kernel(cwd=str(path.parent))
    try:
        NotebookClient(nb, km=km, timeout=CELL_TIMEOUT_S).execute()
        seconds = time.perf_counter() - start  # kernel start and TF import included
        memory = peak_rss_mib(km.provisioner.process.pid)
    finally:
        km.shutdown_kernel(now=True)
    return seconds, memory


def main(argv: list[str]) -> int:
    apply_kernel_env(os.environ)
    names = argv or lessons()
    print(f"{'lesson':40s} {'seconds':>8s} {'target':>7s} {'peak MiB':>9s}  cores: {os.cpu_count()}")
    for name in names:
        seconds, memory = run(name)
        target = TARGET_S.get(name[:2], 30.0)
        flag = "" if seconds <= target else "  over target"
        print(f"{name:40s} {seconds:8.1f} {target:7.0f} {memory:9.0f}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
