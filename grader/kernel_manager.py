"""The kernel manager every graded notebook runs with: a sandboxed kernel on private sockets.

nbgrader (through nbclient) starts kernels with jupyter_client's ``AsyncKernelManager``; this
subclass changes how, and nothing else:

- the command is :func:`grader.sandbox.kernel_command` (cgroup, prlimit, bubblewrap, the guard's
  boot script) instead of the kernel spec's;
- the kernel speaks ZeroMQ over Unix sockets in a private folder (``transport = ipc``), not over
  loopback TCP, where any process on the machine could connect or read its output stream;
- the kernel's stdout and stderr go to a log in that folder (outside the sandbox): the guard
  writes its signed answers there, and the grader reads the reason a kernel was stopped;
- Jupyter interrupts the kernel with a message (bubblewrap does not pass signals on);
- when the kernel ends, every process left in its cgroup is killed and the folder removed.

The guard is on for autograding and off for feedback runs (``guard``). Limits come from
:data:`grader.limits.COURSE_LIMITS` unless the caller sets ``limits``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import tempfile
import uuid
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Instance

from grader import cgroups, sandbox
from grader.limits import Limits


def _private_root() -> str:
    """Short paths (Unix socket names are limited to 107 bytes), in memory where possible."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else tempfile.gettempdir()


class SandboxedKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernel runs in the course's sandbox."""

    guard = Bool(True, help="install the grader's guard in the kernel (autograde)").tag(config=True)
    limits = Instance(Limits, args=(), help="what the kernel may use (set by the preprocessor)")

    guard_key: bytes = b""
    log_path: Path | None = None

    def _limits(self) -> Limits:
        limits = self.limits
        if limits.use_bwrap and not sandbox.bwrap_works():
            limits = limits.replace(use_bwrap=False)
        return limits

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        self._private = Path(tempfile.mkdtemp(prefix="kc-", dir=_private_root()))
        self._sockets = self._private / "s"
        self._sockets.mkdir(mode=0o700)
        self.log_path = self._private / "kernel.log"
        self.transport = "ipc"
        self.ip = str(self._sockets / "k")
        self.cache_ports = False
        self.connection_file = str(self._sockets / "connection.json")
        self._host_workdir = Path(kw.get("cwd") or os.getcwd())
        if self.guard:
            self.guard_key = secrets.token_bytes(32)
            key_file = self._sockets / "key"
            key_file.write_bytes(self.guard_key)
            key_file.chmod(0o600)
        self._cgroup = cgroups.create(f"kc-{uuid.uuid4().hex[:12]}", self._limits())
        if self.kernel_spec is not None:
            self.kernel_spec.interrupt_mode = "message"
        return await super()._async_pre_start_kernel(**kw)

    def _workdir_files(self) -> list[Path]:
        """Regular files nbgrader put beside the notebook (data files from the source folder)."""
        files = []
        try:
            entries = list(self._host_workdir.iterdir())
        except OSError:
            return files
        for entry in entries:
            info = entry.lstat()
            if stat.S_ISREG(info.st_mode) and entry.suffix != ".ipynb":
                files.append(entry)
        return files

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        limits = self._limits()
        env = sandbox.sandbox_env(self._sockets if self.guard else None)
        files = self._workdir_files()
        if not limits.use_bwrap:  # no jail: a throwaway folder with copies of the same files
            self._workdir = self._private / "w"
            self._workdir.mkdir(exist_ok=True)
            for file in files:
                shutil.copy(file, self._workdir / file.name)
        cmd = sandbox.kernel_command(
            private=self._sockets, env=env, limits=limits, files=files if limits.use_bwrap else [],
            cgroup_prefix=self._cgroup.join_command() if self._cgroup else [])
        cmd = [part.replace("{connection_file}", self.connection_file) for part in cmd]
        return cmd + list(extra_arguments or [])

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        limits = self._limits()
        kw["env"] = sandbox.sandbox_env(self._sockets if self.guard else None)
        kw["cwd"] = str(self._private / "w" if not limits.use_bwrap else self._private)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in cleanup)
        kw["stdout"] = kw["stderr"] = self._log
        await super()._async_launch_kernel(kernel_cmd, **kw)

    def read_log(self, start: int = 0, limit: int = 4 * 1024**2) -> tuple[bytes, int]:
        """The kernel's output log from byte ``start`` (at most ``limit`` bytes of its end)."""
        if self.log_path is None:
            return b"", start
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                end = f.tell()
                f.seek(max(start, end - limit))
                return f.read(), end
        except OSError:
            return b"", start

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if getattr(self, "_cgroup", None):
            self._cgroup.destroy()
            self._cgroup = None
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None
        if getattr(self, "_private", None) and not restart:
            shutil.rmtree(self._private, ignore_errors=True)
            self._private = None
