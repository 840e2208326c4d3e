"""Execute a submission in the sandbox, and score test cells on evidence the student cannot forge.

nbgrader's ``Execute`` runs the notebook and ``SaveAutoGrades`` then scores each test cell from
its outputs: no error means full marks. Those outputs come from the kernel, which runs the
student's code, and no check made inside that process can be made safe (``ctypes`` reaches any
object in it). So this preprocessor replaces ``Execute`` in the autograde pipeline and decides
where the student's code cannot reach:

1. **Verdicts in the grader.** A test cell's hidden block holds probes (``observe(...)`` calls);
   their verdict keywords are cut out before the cell is sent (:func:`grader.verdicts.prepare`),
   the probes' observations come back as data (:mod:`grader.observations`) and are judged here,
   in nbgrader's process, against the solution's (:mod:`grader.expected`). A test cell scores
   only if its visible asserts passed in the kernel *and* every verdict holds.
2. **The guard, as a second line.** Before the first cell it imports the modules the locked cells
   import and asks the guard (:mod:`grader.kernel.guard`) for a snapshot; before and after each
   test cell the guard restores the kernel's machinery and answers with a signed list of what it
   restored; a missing or unsigned answer, or anything restored, is tampering. The test cell runs
   with one line appended that hands the guard a fresh nonce: its signed answer proves the cell
   ran to its last line; the execute reply must say ``ok``, and the cell must show no error, no
   stderr and no displayed value; outputs cannot be cleared during a test cell.
3. A test cell without that evidence gets an error output in front of the others, so nbgrader
   scores it 0 and the instructor sees why; every finding is also written to ``evidence_file``
   (:mod:`grader.evidence`), where the parent reads it and scores those cells 0 itself.

In *reference mode* (the solution, graded by :func:`grader.expected.ensure`) observations are
recorded instead of judged, and each verdict is checked against the solution's own values.
"""

from __future__ import annotations

import ast
import secrets
import time
from pathlib import Path
from queue import Empty
from typing import Any

from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async, run_sync
from traitlets import Bool, Unicode

from grader import evidence, observations, verdicts
from grader.cells import is_test_cell
from grader.evidence import Finding, Kind, NotebookEvidence
from grader.preprocessors.sandboxed_execute import SandboxedExecute

TAMPERING = "TamperingSuspected"
HIDDEN_CHECK_FAILED = "HiddenCheckFailed"
GUARD_PREFIX = b"GRADER-GUARD "
KILL_PREFIX = b"GRADER-GUARD-KILL "
# How often the grader looks for a reply to its own code, and how long after the kernel said it
# was idle it still waits for one: ipykernel sends the reply first, but on another channel (and
# ipykernel 7 forwards it through its shell-channel thread), so it may arrive a little later.
REPLY_POLL_S, IDLE_WITHOUT_REPLY_S = 0.5, 5.0
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


def names_imported_from(source: str) -> list[tuple[str, str]]:
    """(module, name) for each ``from module import name`` of a cell (absolute imports only).

    A package may load a name on first use (``kerascourse`` does, PEP 562); the guard's preload
    asks for each name, so the snapshot holds what the locked cells will have loaded.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [(node.module, alias.name) for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module and not node.level
            for alias in node.names if alias.name != "*"]


class GuardedExecute(SandboxedExecute):
    """The course's autograde step: sandbox, verdicts in the grader, the guard around test cells."""

    guard = Bool(True, help="check test cells with the guard (off only to measure its cost)").tag(config=True)
    evidence_file = Unicode("", help="where to write what the run found (JSON)").tag(config=True)
    reference_file = Unicode("", help="the lesson's reference observations (grader.expected)"
                             ).tag(config=True)
    reference_mode = Bool(False, help="record the probes' observations instead of judging").tag(config=True)
    course_root = Unicode("", help="the course folder (where a missing reference is computed)"
                          ).tag(config=True)
    source_dir = Unicode("", help="the lessons' instructor versions (solutions/)").tag(config=True)

    @property
    def guard_kernel(self) -> bool:  # type: ignore[override]
        return self.guard

    # --- the notebook -------------------------------------------------------------------------

    def preprocess(self, nb, resources=None, km=None):
        self._armed = False
        self._stopped_by_guard = False
        self._log_offset = 0
        self._answers: dict[tuple[str, str], list[str]] = {}
        self._forgeries: list[str] = []
        self._evidence = NotebookEvidence()
        self._observed: dict[str, list] = {}
        self._observed_chars = 0
        info = (resources or {}).get("nbgrader", {})
        self._notebook = info.get("notebook", "notebook")
        self._reference = None if self.reference_mode else self._load_reference(info.get("assignment", ""))
        locked = [cell.source for cell in nb.cells
                  if cell.cell_type == "code" and cell.get("metadata", {}).get(
                      "nbgrader", {}).get("locked") and not is_test_cell(cell)]
        self._locked_imports = [name for source in locked for name in imports_of(source)]
        self._locked_names = [pair for source in locked for pair in names_imported_from(source)]
        guarded_modules = list(dict.fromkeys([*BASE_MODULES, *self._locked_imports]))
        self._guarded_modules = guarded_modules
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self._evidence.kernel_died = self._dead
            self._evidence.stopped_by_guard = self._stopped_by_guard
            if self.evidence_file:
                evidence.write(Path(self.evidence_file), self._notebook, self._evidence)

    def _load_reference(self, lesson: str) -> dict:
        """The solution's observations for this notebook, computed first if the course has none."""
        from grader import expected

        path = Path(self.reference_file) if self.reference_file else None
        if path is None or not path.exists():
            path = expected.ensure(Path(self.course_root), lesson, Path(self.source_dir), self.limits)
        return expected.load(path).get(self._notebook, {})

    def run_code_cell(self, cell, resources, index):
        if self.guard and not self._armed:
            self._arm()
        if is_test_cell(cell):
            return self._run_test_cell(cell, resources, index)
        return super().run_code_cell(cell, resources, index)

    def on_dead_cell(self, cell) -> None:
        if is_test_cell(cell):
            kind = Kind.TAMPERING if self._stopped_by_guard else Kind.NOTE
            self._record(cell, kind, self._dead or "the kernel died")

    # --- test cells ---------------------------------------------------------------------------

    def _run_test_cell(self, cell, resources, index):
        prepared = verdicts.prepare(cell.source)
        problems, tampering = [], []
        if self.guard:
            tampering += self._guard("before")
            if self._dead is not None:
                cell.outputs = [self._error(TAMPERING, "; ".join(tampering))]
                self._record(cell, Kind.TAMPERING, "; ".join(tampering))
                return cell, resources
        nonce = secrets.token_hex(16)
        original = cell.source
        cell.source = prepared.kernel_source
        if self.guard:
            cell.source += f"\n__import__('sys').audit('grader.guard', 'done', {nonce!r})"
        self._reply_status = None
        self._in_test = True
        self._cleared = False
        self._observed, self._observed_chars = {}, 0
        try:
            cell, resources = super().run_code_cell(cell, resources, index)
        finally:
            cell.source = original
            self._in_test = False
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if self.guard:
            completed = self._answer("done", nonce) == []
            tampering += self._guard("after")
            if self._forgeries:
                tampering.append("forged answers to the grader's checks")
                self._forgeries.clear()
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
        failures = self._judge(cell, prepared) if not (errors or tampering or problems) else []
        if tampering:
            message = "; ".join(dict.fromkeys(tampering))
            cell.outputs.insert(0, self._error(TAMPERING, message))
            self._record(cell, Kind.TAMPERING, message)
        elif problems:
            cell.outputs.insert(0, self._error("TestIncomplete", "; ".join(problems)))
            self._record(cell, Kind.INCOMPLETE, "; ".join(problems))
        elif failures:
            cell.outputs.insert(0, self._error(HIDDEN_CHECK_FAILED, "; ".join(failures)))
            for failure in failures:
                self._record(cell, Kind.HIDDEN_CHECK, failure)
        return cell, resources

    def _judge(self, cell, prepared: verdicts.Prepared) -> list[str]:
        """Record (reference mode) or judge (grading) what the cell's probes observed."""
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?")
        if self.reference_mode:
            self._evidence.observations[gid] = {
                name: [observations.encode(v) for v in values] for name, values in self._observed.items()}
            return prepared.problems + verdicts.judge(prepared.checks, self._observed, self._observed)
        return prepared.problems + verdicts.judge(prepared.checks, self._observed,
                                                  (self._reference or {}).get(gid, {}))

    def on_observation(self, text) -> None:
        if not self._in_test:
            return  # only a test cell's probes observe; anything else is dropped unread
        self._observed_chars += len(text) if isinstance(text, str) else 0
        if self._observed_chars > observations.MAX_NOTEBOOK_CHARS:
            name, value = "(too many observations)", observations.Malformed("over the size limit")
        else:
            name, value = observations.parse(text)
        self._observed.setdefault(name or "(unnamed)", []).append(value)

    def on_cell_executed(self, **kwargs: Any) -> None:
        super().on_cell_executed(**kwargs)
        self._reply_status = kwargs["execute_reply"]["content"].get("status")

    # --- the guard ----------------------------------------------------------------------------

    def _arm(self) -> None:
        """Import what the locked cells import (and the names they take from modules), then the
        guard's arm and snapshot (no cell ran yet)."""
        modules = self._guarded_modules
        preload = (f"import importlib\nfor _m in {modules!r}:\n    try:\n"
                   "        importlib.import_module(_m)\n    except Exception:\n        pass\n"
                   f"_n = None\nfor _m, _n in {self._locked_names!r}:\n    try:\n"
                   "        getattr(importlib.import_module(_m), _n)\n    except Exception:\n        pass\n"
                   "del _m, _n, importlib")
        run_sync(self._silent)(preload)
        self._armed = True
        problems = self._guard("arm") + self._guard("snapshot", tuple(modules))
        for problem in problems:
            self._evidence.findings.append(Finding("kernel", Kind.NOTE, problem))

    async def _silent(self, code: str) -> dict | None:
        """Run the grader's own code; its reply, or None if none will come.

        A kernel whose student replaced ``run_cell`` (or broke ``do_execute``) goes idle without
        replying: ipykernel logs the handler's exception and publishes ``idle``. Waiting the whole
        check timeout for that reply would only cost time, so an ``idle`` for this request with
        no reply a little later means none is coming.
        """
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False,
                                 stop_on_error=False)
        waited, idle_at = 0.0, None
        while waited <= self.timeout:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=REPLY_POLL_S))
            except Empty:
                await self._async_check_alive()
                waited += REPLY_POLL_S
                if idle_at is None and await self._went_idle(msg_id):
                    idle_at = waited
                if idle_at is not None and waited - idle_at >= IDLE_WITHOUT_REPLY_S:
                    return None
            else:
                if msg["parent_header"].get("msg_id") == msg_id:
                    return msg
        return None

    async def _went_idle(self, msg_id: str) -> bool:
        """Whether the kernel said it is idle after this request (iopub, read up to now)."""
        idle = False
        while True:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=0))
            except Empty:
                return idle
            idle |= (msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
                     and msg["parent_header"].get("msg_id") == msg_id)

    def _guard(self, command: str, argument: tuple = ()) -> list[str]:
        """Ask the guard to check (and restore) the kernel; return what it found, [] if clean."""
        started = time.perf_counter()
        try:
            return self._ask_guard(command, argument)
        finally:
            self._evidence.guard_seconds += time.perf_counter() - started

    def _ask_guard(self, command: str, argument: tuple = ()) -> list[str]:
        nonce = secrets.token_hex(16)
        extra = ", get_ipython()" if command == "arm" else f", {argument!r}" if argument else ""
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

    def death_reason(self) -> str:
        for line in self._new_log_lines():
            if line.startswith(KILL_PREFIX):
                what = line[len(KILL_PREFIX):].decode("ascii", "replace")
                self._stopped_by_guard = True
                return f"the kernel was stopped by the grader's guard ({what})"
        return "the kernel died (a crash, os._exit or the memory limit)"

    # --- evidence -----------------------------------------------------------------------------

    def _record(self, cell, kind: Kind, message: str) -> None:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?")
        if message:
            self._evidence.findings.append(Finding(gid, kind, message))
