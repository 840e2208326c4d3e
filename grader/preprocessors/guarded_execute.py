"""Execute a submission in the sandbox, and score test cells on evidence the student cannot forge.

nbgrader's ``Execute`` runs the notebook and ``SaveAutoGrades`` then scores each test cell from
its outputs: no error means full marks, and the first ``execute_result`` decides partial credit.
Those outputs come from the kernel, which runs the student's code. This preprocessor replaces
``Execute`` in the autograde pipeline and makes every test cell prove itself:

1. Before the first cell it imports the modules the locked cells import, then asks the guard
   (:mod:`grader.kernel.guard`) for a snapshot of the pristine kernel.
2. Before and after each test cell the guard restores the kernel's machinery and answers with a
   signed list of what it restored; a missing or unsigned answer, or anything restored, is
   tampering.
3. The test cell runs with one line appended that hands the guard a fresh nonce: its signed
   answer proves the cell ran to its last line; the kernel's execute reply must say ``ok``, and
   the cell must show no error, no stderr and no displayed value (a test cell never ends in
   one); outputs are not sent to widgets and cannot be cleared during a test cell.
4. A test cell without that evidence gets an error output in front of the others, so nbgrader
   scores it 0 and the instructor sees why; tampering is also written to ``evidence_file`` for
   the course's status report.

Outputs are capped as they arrive (``Limits.output_chars`` per text, ``cell_output_chars`` per
cell), so a flood never fills nbgrader's memory. When the kernel dies, the cells already graded
keep their scores and the remaining test cells score 0 with the reason. With ``guard = False``
(feedback runs) only the sandbox and the caps apply.
"""

from __future__ import annotations

import ast
import json
import secrets
import time
from pathlib import Path
from typing import Any

from nbclient.exceptions import DeadKernelError
from nbclient.util import run_sync
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Unicode

from grader.cells import is_test_cell
from grader.kernel_manager import SandboxedKernelManager
from grader.limits import Limits, limits_from_json
from grader.output_caps import cap_output, output_size

TAMPERING = "TamperingSuspected"
GUARD_PREFIX = b"GRADER-GUARD "
KILL_PREFIX = b"GRADER-GUARD-KILL "
# Always snapshotted (tests use them), besides what the locked cells import.
BASE_MODULES = ("numpy", "math")


def imports_of(source: str) -> list[str]:
    """Top-level module names a cell imports (``import a.b``, ``from a.b import c``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


class GuardedExecute(Execute):
    """nbgrader's Execute in the course sandbox, with the guard around every test cell."""

    guard = Bool(True, help="check test cells with the guard (off for feedback runs)").tag(config=True)
    limits_json = Unicode("", help="the grading limits as JSON (grader.limits)").tag(config=True)
    evidence_file = Unicode("", help="where to write what the guard found (JSON)").tag(config=True)

    def __init__(self, **kw: Any) -> None:
        kw.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(**kw)

    @property
    def limits(self) -> Limits:
        return limits_from_json(self.limits_json)

    def create_kernel_manager(self):
        self.kernel_manager_class = SandboxedKernelManager
        km = super().create_kernel_manager()
        km.guard = self.guard
        km.limits = self.limits
        return km

    # --- the notebook -------------------------------------------------------------------------

    def preprocess(self, nb, resources=None, km=None):
        self.store_widget_state = False
        self._armed = False
        self._dead: str | None = None
        self._stopped_by_guard = False
        self._capped: set[int] = set()
        self._in_test = False
        self._findings: dict[str, list[str]] = {}
        self._log_offset = 0
        self._answers: dict[tuple[str, str], list[str]] = {}
        self._forgeries: list[str] = []
        self._guard_seconds = 0.0
        self._locked_imports = [name for cell in nb.cells
                                if cell.cell_type == "code" and cell.get("metadata", {}).get(
                                    "nbgrader", {}).get("locked") and not is_test_cell(cell)
                                for name in imports_of(cell.source)]
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self._write_evidence(resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        test = is_test_cell(cell)
        if self._dead is not None:
            if test:
                cell.outputs = [self._error("KernelDied", f"not run: {self._dead}")]
                self._record(cell, f"not run: {self._dead}", tampering=self._stopped_by_guard)
            return cell, resources
        self.comm_open_handlers = {}  # no widget may capture a cell's outputs
        try:
            if self.guard and not self._armed:
                self._arm()
            if self.guard and test:
                return self._run_test_cell(cell, resources, index)
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._dead = self._death_reason()
            cell.outputs = [*cell.get("outputs", []), self._error("KernelDied", self._dead)]
            if test:
                self._record(cell, self._dead, tampering=self._stopped_by_guard)
            return cell, resources

    # --- test cells ---------------------------------------------------------------------------

    def _run_test_cell(self, cell, resources, index):
        problems, tampering = [], []
        before = self._guard("before")
        tampering += before
        if self._dead is not None:
            cell.outputs = [self._error(TAMPERING, "; ".join(tampering))]
            self._record(cell, "; ".join(tampering), tampering=True)
            return cell, resources
        nonce = secrets.token_hex(16)
        original = cell.source
        cell.source = f"{original}\n__import__('sys').audit('grader.guard', 'done', {nonce!r})"
        self._reply_status = None
        self._in_test = True
        self._cleared = False
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        finally:
            cell.source = original
            self._in_test = False
        completed = self._answer("done", nonce) == []
        after = self._guard("after")
        tampering += after
        if self._forgeries:
            tampering.append("forged answers to the grader's checks")
            self._forgeries.clear()
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if any(o.output_type == "execute_result" for o in cell.outputs):
            tampering.append("a value was displayed in a test cell")
        if self._cleared:
            tampering.append("outputs were cleared during a test cell")
        if self._reply_status == "ok" and not completed:
            tampering.append("the test cell reported success but did not run to its end")
        if self._reply_status not in ("ok", None) and not errors:
            tampering.append("the test cell failed but its error was hidden")
        if not completed and not errors:
            problems.append("the test cell did not run to its end")
        if tampering:
            cell.outputs.insert(0, self._error(TAMPERING, "; ".join(dict.fromkeys(tampering))))
        elif problems:
            cell.outputs.insert(0, self._error("TestIncomplete", "; ".join(problems)))
        self._record(cell, "; ".join(dict.fromkeys(tampering)), tampering=bool(tampering))
        return cell, resources

    def on_cell_executed(self, **kwargs: Any) -> None:
        super().on_cell_executed(**kwargs)
        self._reply_status = kwargs["execute_reply"]["content"].get("status")

    # --- the guard ----------------------------------------------------------------------------

    def _arm(self) -> None:
        """Import what the locked cells import, then the guard's arm and snapshot (no cell ran yet)."""
        modules = list(dict.fromkeys([*BASE_MODULES, *self._locked_imports]))
        preload = (f"import importlib\nfor _m in {modules!r}:\n    try:\n"
                   "        importlib.import_module(_m)\n    except Exception:\n        pass\n"
                   "del _m, importlib")
        run_sync(self._silent)(preload)
        self._armed = True
        problems = self._guard("arm") + self._guard("snapshot")
        if problems:
            self._findings.setdefault("kernel", []).extend(problems)

    async def _silent(self, code: str) -> dict | None:
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False,
                                 stop_on_error=False)
        return await self.async_wait_for_reply(msg_id)

    def _guard(self, command: str) -> list[str]:
        """Ask the guard to check (and restore) the kernel; return what it found, [] if clean."""
        started = time.perf_counter()
        try:
            return self._ask_guard(command)
        finally:
            self._guard_seconds += time.perf_counter() - started

    def _ask_guard(self, command: str) -> list[str]:
        nonce = secrets.token_hex(16)
        extra = ", get_ipython()" if command == "arm" else ""
        code = f"__import__('sys').audit('grader.guard', {command!r}, {nonce!r}{extra})"
        timeout, self.timeout = self.timeout, int(self.limits.guard_timeout_s)
        try:
            reply = run_sync(self._silent)(code)
        except DeadKernelError:
            raise
        except Exception:
            reply = None
        finally:
            self.timeout = timeout
        if reply is None:  # a kernel that cannot answer its grader runs nothing more
            self._dead = "the kernel stopped answering the grader's checks"
            self._stopped_by_guard = True
            return ["the kernel did not answer the grader's check"]
        answer = self._answer(command, nonce)
        if answer is None:
            return ["the grader's check did not run (the kernel's execution was intercepted)"]
        return answer

    def _answer(self, command: str, nonce: str) -> list[str] | None:
        """The guard's signed answer to (command, nonce), or None if it never came."""
        self._read_answers()
        return self._answers.pop((command, nonce), None)

    def _read_answers(self) -> None:
        """Verify every new answer in the kernel's log and keep it by (command, nonce)."""
        import hashlib
        import hmac

        for line in self._new_log_lines():
            if not line.startswith(GUARD_PREFIX):
                continue
            try:
                body, mac = line[len(GUARD_PREFIX):].decode("ascii").rsplit(" ", 1)
                command, nonce, status, items = body.split(" ", 3)
            except ValueError:
                continue
            expected = hashlib.blake2b(body.encode(), key=self.km.guard_key, digest_size=16).hexdigest()
            if not hmac.compare_digest(expected, mac):
                self._forgeries.append(command)
                continue
            found = [i for i in items.split("|") if i]
            if status != "ok":
                found.append("the grader's check failed in the kernel")
            self._answers[(command, nonce)] = [
                f"restored {i}" if not i.startswith("during the test") else i for i in found]

    def _new_log_lines(self) -> list[bytes]:
        data, self._log_offset = self.km.read_log(self._log_offset)
        return data.splitlines()

    def _death_reason(self) -> str:
        for line in self._new_log_lines():
            if line.startswith(KILL_PREFIX):
                what = line[len(KILL_PREFIX):].decode("ascii", "replace")
                self._stopped_by_guard = True
                return f"the kernel was stopped by the grader's guard ({what})"
        return "the kernel died (a crash, os._exit or the memory limit)"

    # --- outputs ------------------------------------------------------------------------------

    def output(self, outs, msg, display_id, cell_index):
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

    def clear_output(self, outs, msg, cell_index):
        if self._in_test:
            self._cleared = True
            return
        super().clear_output(outs, msg, cell_index)

    def _update_display_id(self, display_id, msg):
        data = msg.get("content", {}).get("data", {})
        if sum(len(v) for v in data.values() if isinstance(v, str)) > self.limits.output_chars:
            return
        super()._update_display_id(display_id, msg)

    # --- evidence -----------------------------------------------------------------------------

    @staticmethod
    def _error(ename: str, evalue: str):
        return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])

    def _record(self, cell, what: str, *, tampering: bool) -> None:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?")
        if what:
            self._findings.setdefault(gid, []).append(("tampering: " if tampering else "") + what)

    def _write_evidence(self, resources) -> None:
        if not self.evidence_file:
            return
        path = Path(self.evidence_file)
        notebook = (resources or {}).get("nbgrader", {}).get("notebook", "notebook")
        data = json.loads(path.read_text()) if path.exists() else {}
        data[notebook] = {"findings": self._findings, "kernel_died": self._dead,
                          "stopped_by_guard": self._stopped_by_guard,
                          "guard_seconds": round(self._guard_seconds, 3)}
        path.write_text(json.dumps(data, indent=1))
