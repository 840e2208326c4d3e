"""One submission's ``nbgrader autograde``, alone in its own scratch course folder.

SQLite does not take concurrent writers well, and nbgrader holds its gradebook open for a whole
run, so parallel grading never shares a gradebook: a :class:`Job` owns a scratch course folder
with a copy of the template gradebook (the lesson's assignment and nothing else) and the clean
copy of the student's notebooks the pre-check wrote. nbgrader grades there; its kernel runs in
the sandbox (:mod:`grader.kernel_manager`) and never sees this folder. The parent then reads the
job's results (:meth:`Job.results`) and merges them, one job at a time.

A job can also run elsewhere (a Dask worker): :func:`run_packed` takes the folder as bytes and
returns the results as bytes, so workers need the course installed but no shared disk.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import stat
import subprocess
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil

from grader import evidence
from grader.config import SOLUTIONS_DIR, nbgrader_settings
from grader.evidence import NotebookEvidence
from grader.limits import Limits, limits_from_json
from grader.output_caps import cap_notebook
from grader.precheck import KEPT_FILES, MAX_KEPT_FILE_BYTES, Precheck
from grader.run_nbgrader import nbgrader_command
from grader.sandbox import prlimit_args
from kerascourse.paths import course_env


@dataclass
class JobResult:
    """How nbgrader ended for one submission."""

    returncode: int | None
    seconds: float
    peak_rss_bytes: int
    timed_out: bool
    log: str


@dataclass
class JobOutput:
    """What the parent merges: the job's gradebook, the autograded notebooks, the job's evidence."""

    result: JobResult
    gradebook: Path
    notebooks: dict[str, nbformat.NotebookNode] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # nbgrader's small files (KEPT_FILES)
    evidence: dict[str, NotebookEvidence] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class Job:
    """One student's scratch course folder, and running nbgrader in it."""

    def __init__(self, root: Path, student: str, lesson: str, source: Path = SOLUTIONS_DIR,
                 guard: bool = True, reference_mode: bool = False) -> None:
        self.root, self.student, self.lesson, self.source = Path(root), student, lesson, Path(source)
        self.guard = guard
        self.reference_mode = reference_mode  # record the probes' observations (grader.expected)

    @property
    def submitted(self) -> Path:
        return self.root / "submitted" / self.student / self.lesson

    @property
    def autograded(self) -> Path:
        return self.root / "autograded" / self.student / self.lesson

    @property
    def gradebook(self) -> Path:
        return self.root / "gradebook.db"

    @property
    def evidence_file(self) -> Path:
        return self.root / "evidence.json"

    @property
    def reference_file(self) -> Path:
        """The lesson's reference observations, copied in: the job judges with them (Dask too)."""
        return self.root / "reference.json"

    @property
    def log_file(self) -> Path:
        return self.root / "nbgrader.log"

    def prepare(self, template_db: Path, check: Precheck, reference: Path | None = None) -> None:
        """Lay out the folder: the template gradebook, the reference and the clean notebooks only."""
        if self.root.exists():
            shutil.rmtree(self.root)
        self.submitted.mkdir(parents=True)
        for name, data in check.notebooks.items():
            (self.submitted / f"{name}.ipynb").write_bytes(data)
        for name, data in check.files.items():
            (self.submitted / name).write_bytes(data)
        shutil.copy2(template_db, self.gradebook)
        if reference is not None:
            shutil.copy2(reference, self.reference_file)

    def run(self, limits: Limits) -> JobResult:
        """Run nbgrader autograde here within the limits; never raises for what the submission does."""
        settings = nbgrader_settings(self.root, source=self.source, release=self.root / "release",
                                     limits=limits, evidence_file=self.evidence_file, guard=self.guard,
                                     reference_file=self.reference_file, reference_mode=self.reference_mode)
        args = [self.lesson, "--student", self.student, "--create", "--force"]
        return run_nbgrader_limited("autograde", args, settings, limits, cwd=self.root,
                                    log_path=self.log_file)

    def results(self, notebooks: list[str], result: JobResult, limits: Limits) -> JobOutput:
        """Read what nbgrader wrote: only regular files with the expected names, parsed and capped."""
        out = JobOutput(result, self.gradebook)
        for name in notebooks:
            path = self.autograded / f"{name}.ipynb"
            try:
                info = path.lstat()
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode) or info.st_size > 4 * limits.notebook_bytes:
                out.problems.append(f"{name}.ipynb: the autograded notebook is unusable")
                continue
            try:
                nb = nbformat.reads(path.read_text(), as_version=4)
            except Exception:
                out.problems.append(f"{name}.ipynb: the autograded notebook is unreadable")
                continue
            cap_notebook(nb, limits.output_chars)
            out.notebooks[name] = nb
        for name in KEPT_FILES:
            path = self.autograded / name
            try:
                info = path.lstat()
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_KEPT_FILE_BYTES:
                out.files[name] = path.read_bytes()
        out.evidence = evidence.read(self.evidence_file)
        return out

    def pack(self) -> bytes:
        """The folder as a tar archive (for a job that runs on another machine)."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            tar.add(self.root, arcname=".")
        return buffer.getvalue()


def unpack(data: bytes, target: Path) -> None:
    """Extract a job archive, regular files and folders only (tarfile's 'data' filter)."""
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(target, filter="data")


def run_packed(data: bytes, student: str, lesson: str, limits_json: str,
               source: str = str(SOLUTIONS_DIR)) -> tuple[bytes, dict]:
    """Run a packed job in a temporary folder here; return the folder packed again and the result.

    This is what a Dask worker executes: the same sandboxed ``nbgrader autograde`` as a local job.
    """
    with tempfile.TemporaryDirectory(prefix="grader-job-") as tmp:
        root = Path(tmp) / student
        unpack(data, root)
        job = Job(root, student, lesson, Path(source))
        result = job.run(limits_from_json(limits_json))
        return job.pack(), result.__dict__


def run_nbgrader_limited(command: str, args: list[str], settings: dict, limits: Limits, *, cwd: Path,
                         log_path: Path) -> JobResult:
    """``nbgrader COMMAND`` for one student, as every grading step runs it: within the memory limit
    (prlimit), the total time limit (its whole process group killed) and the course environment."""
    cmd = [*prlimit_args(limits, memory_bytes=limits.nbgrader_memory_bytes, hard=False),
           *nbgrader_command(command, args, settings)]
    return run_limited(cmd, cwd=cwd, env=course_env(), timeout_s=limits.total_timeout_s, log_path=log_path)


def run_limited(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout_s: float,
                log_path: Path | None = None) -> JobResult:
    """Run ``cmd`` in its own process group; kill the whole group at the time limit.

    The peak memory is the largest sum of resident memory over the process tree (nbgrader plus
    its kernel), sampled twice a second: that is what a worker costs the machine.
    """
    log_path = log_path or cwd / "nbgrader.log"
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
    return JobResult(proc.returncode, seconds, peak.peak, timed_out, text[-20000:])


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
