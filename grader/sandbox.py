"""The jail a student's kernel runs in while it is graded: the command that starts it.

Every graded kernel (autograde, feedback, the formgrader's buttons) is started by
:class:`grader.kernel_manager.SandboxedKernelManager` with the command built here:

- a **cgroup** (:mod:`grader.cgroups`): memory of every process and of the in-memory files,
  CPU share and number of tasks, where this machine allows it;
- ``prlimit``: address space per process (a memory bomb is a MemoryError in its own cell), file
  size, no core dumps;
- Debian's **bubblewrap** (``bwrap``), where it works: new mount, PID, IPC, UTS, user and
  *network* namespaces (the kernel talks to the grader over Unix sockets in a private folder,
  never over TCP, so no other kernel can reach it), no capabilities, a cleared environment, the
  system, the Python installation, the course's ``.venv``, ``kerascourse/``, ``data/`` and the
  guard scripts read-only, and two size-limited in-memory folders: ``/tmp`` and the working
  folder :data:`SANDBOX_WORKDIR` (a neutral path: the grader's folders do not show). Whatever the
  kernel writes there (links, pipes, notebooks, huge files) vanishes with it, and nothing the
  grader reads afterwards was ever visible to the kernel;
- ``python -P``: the working folder is not on ``sys.path``, so an uploaded ``.py`` file cannot
  shadow a module the kernel imports.

Without bubblewrap (no user namespaces and not root; ``grader`` warns) the cgroup, the resource
limits, the cleared environment, ``python -P`` and a throwaway working folder still hold, but the
kernel can read any file the grading user can (see README "Isolation").
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path

from grader.kernel import BOOT_SCRIPT, GUARD_DIR_ENV, KERNEL_DIR
from grader.limits import Limits
from kerascourse.paths import DATA_DIR, KERAS_HOME, REPO_ROOT, TFDS_DATA_DIR, kernel_env
from kerascourse.probes import ENV as PROBES_ENV

SANDBOX_WORKDIR = Path("/home/student/work")  # the kernel's working folder, inside the jail


@functools.cache
def bwrap_works() -> bool:
    """Whether bubblewrap is installed and may create the namespaces we need here.

    It needs unprivileged user namespaces or root; containers often forbid both, so try it once.
    """
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return False
    probe = [bwrap, *_namespace_args(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _namespace_args() -> list[str]:
    # In a PID namespace the kernel's parent is bwrap's init, which ipykernel would take for a dead
    # parent and exit: --die-with-parent does that job, and the cleared environment drops
    # JPY_PARENT_PID.
    return ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv"]


def sandbox_env(guard_dir: Path | None) -> dict[str, str]:
    """The only environment variables the kernel sees: the course's, and nothing of the grader's."""
    env = {
        **kernel_env(),
        "HOME": "/tmp",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        PROBES_ENV: "1",  # the hidden tests' probes send their observations to the grader
    }
    if guard_dir is not None:
        env[GUARD_DIR_ENV] = str(guard_dir)
    return env


def _read_only_paths() -> list[Path]:
    """What the kernel needs to run a lesson, and nothing from the instructor's side."""
    paths = [Path("/usr"), Path("/etc"), Path(sys.base_prefix), Path(sys.prefix),
             REPO_ROOT / "kerascourse", DATA_DIR, KERNEL_DIR]
    return [p for p in dict.fromkeys(p.resolve() for p in paths) if p.exists()]


def bwrap_args(private: Path, env: dict[str, str], limits: Limits, files: list[Path] = ()) -> list[str]:
    """bubblewrap's options: read-only course environment, fresh size-limited scratch folders.

    ``private`` holds the kernel's Unix sockets and connection file (bound read-write: ZeroMQ
    creates the sockets there). ``files`` are regular files shown read-only in the working folder.
    """
    workdir = SANDBOX_WORKDIR
    size = str(limits.scratch_bytes)
    # The empty /tmp comes first: later mounts go on top of earlier ones, so a course checked out
    # under /tmp (a CI clone, say) stays visible instead of being hidden by the tmpfs.
    args = ["bwrap", *_namespace_args(), "--hostname", "grader-sandbox",
            "--proc", "/proc", "--dev", "/dev", "--size", size, "--tmpfs", "/tmp"]
    for path in _read_only_paths():
        args += ["--ro-bind", str(path), str(path)]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/", link)
        if target.is_symlink():
            args += ["--symlink", str(target.readlink()), f"/{link}"]
    for cache in (KERAS_HOME, TFDS_DATA_DIR):
        args += _writable_over_read_only(cache, size)
    args += ["--size", size, "--tmpfs", str(workdir)]
    for file in files:
        args += ["--ro-bind", str(file), str(workdir / file.name)]
    args += ["--bind", str(private), str(private)]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return [*args, "--chdir", str(workdir)]


def _writable_over_read_only(cache: Path, size: str) -> list[str]:
    """A writable, empty ``cache`` folder showing the real cache's entries read-only.

    Keras checks that ``KERAS_HOME`` is writable and otherwise looks in ``/tmp/.keras`` (and
    downloads): it must look writable, yet no student may change the data the next one reads.
    """
    if not cache.is_dir():
        return []
    args = ["--size", size, "--tmpfs", str(cache)]
    for entry in sorted(cache.iterdir()):
        args += ["--ro-bind", str(entry), str(entry)]
    return args


def prlimit_args(limits: Limits, *, memory_bytes: int | None = None, hard: bool = True) -> list[str]:
    """``prlimit`` options; ``hard=False`` sets soft limits only, so a child (nbgrader's kernel) may
    still set its own, larger, limits: a hard limit can never be raised again, even by root here."""
    memory = memory_bytes or limits.memory_bytes
    limit = (lambda n: f"{n}") if hard else (lambda n: f"{n}:unlimited")
    return ["prlimit", f"--as={limit(memory)}", f"--fsize={limit(limits.max_file_bytes)}", "--core=0", "--"]


def kernel_command(*, private: Path, env: dict[str, str], limits: Limits, files: list[Path] = (),
                   cgroup_prefix: list[str] = ()) -> list[str]:
    """The command that starts one graded kernel (``{connection_file}`` filled in by Jupyter).

    With bubblewrap the kernel starts in :data:`SANDBOX_WORKDIR`; without, in the folder the
    caller starts the command in (a throwaway one: see the kernel manager).
    """
    python = [sys.executable, "-P", str(BOOT_SCRIPT), "-f", "{connection_file}"]
    jail = bwrap_args(private, env, limits, files) if limits.use_bwrap else []
    return [*cgroup_prefix, *prlimit_args(limits), *jail, *python]
