"""One submission's ``nbgrader autograde``, alone in its own scratch course folder.

SQLite does not take concurrent writers well, and nbgrader holds its gradebook open for a whole
run, so parallel grading never shares a gradebook: each job gets a copy of a template gradebook
(the lesson's assignment and nothing else), the student's submitted folder and a kernel spec that
runs the kernel in the sandbox (:mod:`grader.sandbox`). The parent merges the job's gradebook and
autograded notebook into the main course folder afterwards, one job at a time
(:mod:`grader.gradebook_merge`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from grader import sandbox
from grader.config import nbgrader_cli_args, nbgrader_settings
from grader.nbgrader import subprocess_env

# nbgrader itself holds every output the kernel sends in memory; a flood of output must end as
# this job's failure, not as the grading machine's.
NBGRADER_MEMORY_BYTES = 3 * 1024**3


@dataclass(frozen=True)
class Limits:
    """What one submission may use."""

    cell_timeout_s: int = 120
    total_timeout_s: float = 900
    memory_bytes: int = sandbox.DEFAULT_MEMORY_BYTES
    use_bwrap: bool = True


@dataclass
class JobResult:
    """How nbgrader ended for one submission (the merge reads the rest from the job folder)."""

    student: str
    job_root: Path
    returncode: int | None
    seconds: float
    peak_rss_bytes: int
    timed_out: bool
    log: str


def prepare_job(job_root: Path, template_db: Path, submitted: Path, student: str, lesson: str,
                renames: dict[str, str] | None = None) -> Path:
    """Lay out the scratch course folder; return the folder nbgrader will execute the notebook in."""
    if job_root.exists():
        shutil.rmtree(job_root)
    target = job_root / "submitted" / student / lesson
    shutil.copytree(submitted, target)
    for old, new in (renames or {}).items():
        (target / old).rename(target / new)
    shutil.copy2(template_db, job_root / "gradebook.db")
    workdir = job_root / "autograded" / student / lesson
    workdir.mkdir(parents=True)
    return workdir


def run_job(job_root: Path, student: str, lesson: str, limits: Limits) -> JobResult:
    """Run nbgrader autograde for one student in ``job_root``, within the limits; never raises for
    anything the submission does."""
    workdir = job_root / "autograded" / student / lesson
    argv = sandbox.kernel_argv(workdir, limits.memory_bytes, use_bwrap=limits.use_bwrap)
    sandbox.write_kernelspec(job_root / "jupyter", argv)
    settings = nbgrader_settings(job_root, release=job_root / "release")
    settings["Execute.timeout"] = limits.cell_timeout_s
    env = subprocess_env()
    env["JUPYTER_PATH"] = str(job_root / "jupyter")
    env["JUPYTER_RUNTIME_DIR"] = str(job_root / "runtime")
    cmd = [*sandbox.prlimit_args(NBGRADER_MEMORY_BYTES, hard=False),
           sys.executable, "-m", "nbgrader", "autograde", lesson, "--student", student,
           "--create", "--force", *nbgrader_cli_args(settings)]
    return run_limited(cmd, cwd=job_root, env=env, timeout_s=limits.total_timeout_s,
                       student=student, job_root=job_root)


def run_limited(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout_s: float,
                student: str = "", job_root: Path | None = None) -> JobResult:
    """Run ``cmd`` in its own process group; kill the whole group at the time limit.

    The peak memory is the largest sum of resident memory over the process tree (nbgrader plus
    its kernel), sampled twice a second: that is what a worker costs the machine.
    """
    log_path = cwd / "nbgrader.log"
    start = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    peak = _PeakMemory(proc.pid)
    peak.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
    finally:
        peak.stop()
    seconds = time.perf_counter() - start
    text = log_path.read_text(errors="replace")
    return JobResult(student, job_root or cwd, proc.returncode, seconds, peak.peak, timed_out,
                     text[-20000:])


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the job's process group (bwrap's --die-with-parent takes the kernel along)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


class _PeakMemory(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop_event.wait(0.5):
            total = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                return
            self.peak = max(self.peak, total)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
