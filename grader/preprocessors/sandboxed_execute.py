"""Execute a notebook in the course sandbox, with its outputs capped as they arrive.

The base of both runs of a student's notebook: :class:`GuardedExecute` (autograde, which adds
the guard and the verdicts) and :class:`FeedbackExecute` (feedback pages, which score nothing).
Kept apart so that a setting of one never reaches the other: traitlets applies a class's settings
to its subclasses, so a feedback step that subclassed the autograde step would be guarded too.

- The kernel is started by :class:`grader.kernel_manager.SandboxedKernelManager`.
- Outputs are capped as they arrive (``Limits.output_chars`` per text, ``cell_output_chars`` per
  cell), so a flood never fills nbgrader's memory; observation messages (the probes' data) are
  never kept as outputs.
- At the end the kernel is killed at once (``shutdown_kernel = "immediate"``), not shut down.
- When the kernel dies, the cells run before keep their outputs, and every later code cell gets
  the reason as an error (a test cell then scores 0).
"""

from __future__ import annotations

from typing import Any

from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Unicode

from grader.cells import is_test_cell
from grader.kernel_manager import SandboxedKernelManager
from grader.limits import Limits, limits_from_json
from grader.observations import MIME
from grader.output_caps import cap_output, output_size


class SandboxedExecute(Execute):
    """nbgrader's Execute with the kernel in the course sandbox and capped outputs."""

    limits_json = Unicode("", help="the grading limits as JSON (grader.limits)").tag(config=True)
    guard_kernel = False  # whether the kernel manager installs the guard (GuardedExecute: yes)

    def __init__(self, **kw: Any) -> None:
        kw.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(**kw)

    @property
    def limits(self) -> Limits:
        return limits_from_json(self.limits_json)

    def create_kernel_manager(self):
        self.kernel_manager_class = SandboxedKernelManager
        km = super().create_kernel_manager()
        km.guard = self.guard_kernel
        km.limits = self.limits
        return km

    def preprocess(self, nb, resources=None, km=None):
        self.store_widget_state = False
        # Killed, not asked to exit: nothing of a graded kernel is kept, its cgroup is removed
        # anyway, and TensorFlow's graceful exit costs about 2 s per submission (measured).
        self.shutdown_kernel = "immediate"
        self._dead: str | None = None
        self._capped: set[int] = set()
        self._in_test = False
        self._cleared = False
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._dead is not None:
            cell.outputs = [self._error("KernelDied", f"not run: {self._dead}")]
            self.on_dead_cell(cell)
            return cell, resources
        self.comm_open_handlers = {}  # no widget may capture a cell's outputs
        try:
            return self.run_code_cell(cell, resources, index)
        except DeadKernelError:
            self._dead = self.death_reason()
            cell.outputs = [*cell.get("outputs", []), self._error("KernelDied", self._dead)]
            self.on_dead_cell(cell)
            return cell, resources

    def run_code_cell(self, cell, resources, index):
        return super().preprocess_cell(cell, resources, index)

    def on_dead_cell(self, cell) -> None:
        """A code cell that did not run, or did not finish, because the kernel died."""

    def death_reason(self) -> str:
        return "the kernel died (a crash, os._exit or the memory limit)"

    # --- outputs ------------------------------------------------------------------------------

    def output(self, outs, msg, display_id, cell_index):
        data = msg.get("content", {}).get("data")
        if isinstance(data, dict) and MIME in data:
            self.on_observation(data[MIME])
            return None
        limits = self.limits
        if cell_index in self._capped:
            return None
        used = sum(output_size(o) for o in outs)
        if used >= limits.cell_output_chars:
            self._capped.add(cell_index)
            outs.append(new_output("stream", name="stdout",
                                   text=f"\n[further output cut by the grader: over {used} characters]\n"))
            return None
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None:
            cap_output(out, limits.output_chars)
        return out

    def on_observation(self, text: Any) -> None:
        """A probe's observation message (ignored here: only autograde judges them)."""

    def clear_output(self, outs, msg, cell_index):
        if self._in_test:
            self._cleared = True
            return
        super().clear_output(outs, msg, cell_index)

    def _update_display_id(self, display_id, msg):
        data = msg.get("content", {}).get("data", {})
        if not isinstance(data, dict) or MIME in data:
            return
        if sum(len(v) for v in data.values() if isinstance(v, str)) > self.limits.output_chars:
            return
        super()._update_display_id(display_id, msg)

    @staticmethod
    def _error(ename: str, evalue: str):
        return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])

    @staticmethod
    def is_test(cell) -> bool:
        return is_test_cell(cell)
