"""A control group per graded kernel: memory, CPU and task limits that cover every process.

``prlimit`` bounds each process on its own: a child process or a file in an in-memory ``/tmp`` is
not counted, and the task limit does not hold for root. A cgroup counts the kernel, everything it
starts and the memory its files occupy together, caps its CPU share, and lets the grader kill
every process it left behind. Both cgroup v2 (one unified hierarchy) and v1 (one hierarchy per
controller, as on this course's machines) are supported; where neither is writable (no root, no
delegation) :func:`create` returns None and the per-process limits are all that hold.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.limits import Limits

CGROUP_ROOT = Path("/sys/fs/cgroup")
_V1_CONTROLLERS = ("memory", "pids", "cpu")
_CPU_PERIOD_US = 100_000


@dataclass
class KernelCgroup:
    """One kernel's group(s): a folder in each hierarchy the kernel is moved into."""

    paths: list[Path] = field(default_factory=list)

    def join_command(self) -> list[str]:
        """A command prefix that moves itself (and so what it executes) into the group."""
        script = ('while [ "$1" != -- ]; do echo $$ > "$1/cgroup.procs" || exit 97; shift; done; '
                  'shift; exec "$@"')
        return ["sh", "-c", script, "kc-cgroup", *map(str, self.paths), "--"]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.paths:
            try:
                found |= {int(p) for p in (path / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return found

    def destroy(self) -> None:
        """Kill every process left in the group, then remove it."""
        for _ in range(50):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        for path in self.paths:
            for _ in range(20):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


def own_group(controller: str | None) -> Path | None:
    """This process's group in one v1 hierarchy (or in the v2 one when ``controller`` is None)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if (controller is None and controllers == "") or (controller in controllers.split(",")):
            base = CGROUP_ROOT if controller is None else CGROUP_ROOT / controller
            return base / path.lstrip("/")
    return None


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


def _v2(name: str, limits: Limits) -> KernelCgroup | None:
    parent = own_group(None)
    if parent is None or not (CGROUP_ROOT / "cgroup.controllers").exists():
        return None
    group = parent / name
    try:
        group.mkdir()
    except OSError:
        return None
    cg = KernelCgroup([group])
    ok = (_write(group / "memory.max", str(limits.memory_bytes))
          and _write(group / "pids.max", str(limits.max_tasks)))
    _write(group / "memory.swap.max", "0")
    _write(group / "cpu.max", f"{int(limits.cpu_cores * _CPU_PERIOD_US)} {_CPU_PERIOD_US}")
    if not ok:
        cg.destroy()
        return None
    return cg


def _v1(name: str, limits: Limits) -> KernelCgroup | None:
    cg = KernelCgroup()
    for controller in _V1_CONTROLLERS:
        parent = own_group(controller)
        if parent is None or not parent.is_dir():
            cg.destroy()
            return None
        group = parent / name
        try:
            group.mkdir()
        except OSError:
            cg.destroy()
            return None
        cg.paths.append(group)
        if controller == "memory":
            ok = _write(group / "memory.limit_in_bytes", str(limits.memory_bytes))
            _write(group / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
        elif controller == "pids":
            ok = _write(group / "pids.max", str(limits.max_tasks))
        else:
            ok = (_write(group / "cpu.cfs_period_us", str(_CPU_PERIOD_US))
                  and _write(group / "cpu.cfs_quota_us", str(int(limits.cpu_cores * _CPU_PERIOD_US))))
        if not ok:
            cg.destroy()
            return None
    return cg


def create(name: str, limits: Limits) -> KernelCgroup | None:
    """A new group named ``name`` below this process's own, with the limits set; None if impossible."""
    if (CGROUP_ROOT / "cgroup.controllers").exists():
        return _v2(name, limits)
    return _v1(name, limits)
