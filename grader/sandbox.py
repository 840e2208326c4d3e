"""The jail a student's kernel runs in while ``grader autograde`` grades their notebook.

nbgrader starts the kernel named in the gradebook (``python3``) from the first kernel spec it finds
on ``JUPYTER_PATH``. Each grading job puts its own ``python3`` spec first on that path, whose
command wraps the course kernel in resource limits and, where it works, Debian's bubblewrap:

- ``prlimit``: address space (a memory bomb raises MemoryError or kills only its own kernel),
  file size, no core dumps;
- ``bwrap``: a private mount namespace that shows the kernel only the system (``/usr``, ``/etc``),
  the Python installation, the course's ``.venv``, ``kerascourse/`` and ``data/`` read-only, the
  job's own scratch copy of the submission read-write, and an empty ``/tmp``. The solutions, the
  gradebooks (the main one and the job's copy), ``grading/`` and every other student's files do not
  exist inside. PID, IPC, UTS and user namespaces are private, all capabilities are dropped, and
  the kernel dies with nbgrader. The network is shared: Jupyter talks to its kernel over loopback
  TCP.

Without bubblewrap only the resource limits, the per-cell and total timeouts and the scratch working
folder hold: student code could read any file the grading user can (see the README).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path

from kerascourse.paths import DATA_DIR, KERAS_HOME, REPO_ROOT, TFDS_DATA_DIR, kernel_env

DEFAULT_MEMORY_BYTES = 4 * 1024**3  # TensorFlow maps ~2 GiB of address space on import
MAX_FILE_BYTES = 512 * 1024**2


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
    # The kernel reaches nbgrader over loopback TCP (Jupyter's default), so the network namespace is
    # shared. In a PID namespace the kernel's parent is bwrap's init, which ipykernel would take for
    # a dead parent and exit: --die-with-parent does that job instead of JPY_PARENT_PID.
    return ["--unshare-all", "--share-net", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--unsetenv", "JPY_PARENT_PID"]


def _read_only_paths() -> list[Path]:
    """What the kernel needs to run a lesson, and nothing from the instructor's side."""
    paths = [Path("/usr"), Path("/etc"), Path(sys.base_prefix), Path(sys.prefix),
             REPO_ROOT / "kerascourse", DATA_DIR]
    return [p for p in dict.fromkeys(p.resolve() for p in paths) if p.exists()]


def bwrap_args(workdir: Path) -> list[str]:
    """bubblewrap's options: read-only system and course environment, writable scratch copy.

    Jupyter writes the kernel's connection file wherever it likes (often a temporary file in
    ``/tmp``, which the jail replaces), so the file itself is bound in through its placeholder.
    """
    # The empty /tmp comes first: later mounts go on top of earlier ones, so a course checked out
    # under /tmp (a CI clone, say) stays visible instead of being hidden by the tmpfs.
    args = ["bwrap", *_namespace_args(), "--hostname", "grader-sandbox",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for path in _read_only_paths():
        args += ["--ro-bind", str(path), str(path)]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/", link)
        if target.is_symlink():
            args += ["--symlink", str(target.readlink()), f"/{link}"]
    for cache in (KERAS_HOME, TFDS_DATA_DIR):
        args += _writable_over_read_only(cache)
    args += ["--bind", str(workdir), str(workdir),
             "--ro-bind", "{connection_file}", "{connection_file}",
             "--setenv", "HOME", "/tmp", "--setenv", "MPLCONFIGDIR", "/tmp/matplotlib",
             "--chdir", str(workdir)]
    return args


def _writable_over_read_only(cache: Path) -> list[str]:
    """A writable, empty ``cache`` folder showing the real cache's entries read-only.

    Keras checks that ``KERAS_HOME`` is writable and otherwise looks in ``/tmp/.keras`` (and
    downloads): it must look writable, yet no student may change the data the next one reads.
    """
    if not cache.is_dir():
        return []
    args = ["--tmpfs", str(cache)]
    for entry in sorted(cache.iterdir()):
        args += ["--ro-bind", str(entry), str(entry)]
    return args


def prlimit_args(memory_bytes: int, *, hard: bool = True) -> list[str]:
    """``prlimit`` options; ``hard=False`` sets soft limits only, so a child (nbgrader's kernel) may
    still set its own, larger, limits: a hard limit can never be raised again, even by root here."""
    limit = (lambda n: f"{n}") if hard else (lambda n: f"{n}:unlimited")
    return ["prlimit", f"--as={limit(memory_bytes)}", f"--fsize={limit(MAX_FILE_BYTES)}", "--core=0", "--"]


def kernel_argv(workdir: Path, memory_bytes: int, *, use_bwrap: bool) -> list[str]:
    """The command that starts one sandboxed course kernel (``{connection_file}`` filled by Jupyter)."""
    kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    jail = bwrap_args(workdir) if use_bwrap else []
    return [*prlimit_args(memory_bytes), *jail, *kernel]


def write_kernelspec(jupyter_dir: Path, argv: list[str]) -> Path:
    """Write ``<jupyter_dir>/kernels/python3/kernel.json``; put ``jupyter_dir`` first on JUPYTER_PATH."""
    target = jupyter_dir / "kernels" / "python3" / "kernel.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    env = {**kernel_env(), "HOME": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib"}
    # Jupyter interrupts a kernel by signalling the process it started, which is bwrap here and
    # does not pass signals on; ipykernel also takes interrupts as a message, which reaches it.
    spec = {"argv": argv, "display_name": "Python 3 (Keras course, sandboxed)",
            "language": "python", "env": env, "interrupt_mode": "message"}
    target.write_text(json.dumps(spec, indent=1) + "\n")
    return target
