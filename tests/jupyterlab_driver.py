"""Drive the student's JupyterLab in a real headless Chromium, the way a student uses it.

Used by ``tests/test_browser.py``. :func:`running_lab` starts JupyterLab exactly as ``make lab``
does (``python -m kerascourse.lab``), on a free loopback port with a random token, serving a scratch
folder, and always shuts it down (kernels included). :class:`Lab` wraps a Playwright page with the
few student actions the test needs: open a notebook, type into a cell, run cells, wait for the
kernel, press Validate.

Playwright's own browser download does not work offline, so it drives Debian's ``chromium``
through ``executable_path``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kerascourse.paths import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
# Launch flags checked on this kind of machine (shared/field-notes.md); the profile is fresh.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LabServer:
    url: str
    token: str
    process: subprocess.Popen
    log: Path

    def api(self, path: str, method: str = "GET") -> dict | list:
        request = urllib.request.Request(f"{self.url}/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else {}

    def status(self, path: str) -> int:
        """The HTTP status of GET ``path`` (404 for a switched-off extension)."""
        try:
            self.api(path)
        except urllib.error.HTTPError as err:
            return err.code
        except json.JSONDecodeError:
            pass
        return 200

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@contextmanager
def running_lab(root: Path, workdir: Path, start_timeout: float = 180) -> Iterator[LabServer]:
    """Start the student's JupyterLab on ``root``; shut it and its kernels down on exit, always.

    Jupyter's runtime files, workspaces and user settings go to ``workdir``, so neither the
    developer's own JupyterLab settings nor a saved layout changes what the test sees.
    """
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    for var, sub in (("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                     ("JUPYTERLAB_SETTINGS_DIR", "settings")):
        env[var] = str(workdir / sub)
    log = workdir / "jupyterlab.log"
    cmd = [
        sys.executable, "-m", "kerascourse.lab", "--root", str(root), "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
    ]
    with serve(cmd, env, log, port, token, start_timeout) as server:
        yield server


@contextmanager
def serve(cmd: list[str], env: dict, log: Path, port: int, token: str, start_timeout: float):
    """Start a JupyterLab command, wait until its API answers, and shut it down afterwards."""
    with log.open("w") as log_file:
        process = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log_file,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = LabServer(f"http://127.0.0.1:{port}", token, process, log)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{server.log_tail()}")
            try:
                server.api("api/status")
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not answer in {start_timeout:.0f} s:\n"
                                       f"{server.log_tail()}") from None
                time.sleep(0.5)
        yield server
    finally:
        _shut_down(server)


def _shut_down(server: LabServer) -> None:
    """Ask the server to stop (it shuts its kernels down), then make sure it has."""
    process = server.process
    if process.poll() is None:
        try:
            server.api("api/shutdown", method="POST")
        except (OSError, urllib.error.URLError):
            pass
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
    try:  # anything left in the server's process group (kernels run in their own sessions)
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait(timeout=10)


@contextmanager
def chromium_page(profile: Path, width: int = 1400, height: int = 1000):
    """A Playwright page in headless Debian Chromium with a fresh profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            yield page
        finally:
            context.close()


ERROR_LINE = re.compile(r"^\w*(Error|Exception)\b|Traceback \(most recent call last\)", re.MULTILINE)


class Lab:
    """The student actions on one open notebook in JupyterLab."""

    def __init__(self, page, server: LabServer, shots: Path):
        self.page = page
        self.server = server
        self.shots = shots
        self.panel = page.locator(".jp-NotebookPanel:visible")

    # -- navigation -------------------------------------------------------------------------
    def open(self, path: str, timeout_s: float = 120) -> None:
        self.page.goto(f"{self.server.url}/lab/tree/{path}?token={self.server.token}",
                       timeout=timeout_s * 1000)
        self.page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=timeout_s * 1000)
        self.wait_idle(timeout_s)

    def screenshot(self, name: str, full_page: bool = False) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    # -- cells ------------------------------------------------------------------------------
    def cells(self):
        return self.panel.locator(".jp-Notebook .jp-Cell")

    def type_into(self, index: int, text: str) -> None:
        """Replace a cell's text as a student pasting an answer would (no auto-indent, no brackets)."""
        cell = self.cells().nth(index)
        cell.scroll_into_view_if_needed()
        if "jp-MarkdownCell" in (cell.get_attribute("class") or ""):
            cell.dblclick()  # a rendered markdown cell opens its editor on double click
        editor = cell.locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.insert_text(text)
        self.page.keyboard.press("Escape")  # back to command mode

    def run_cell(self, index: int) -> None:
        cell = self.cells().nth(index)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputArea-prompt").click()  # select it in command mode
        self.page.keyboard.press("Control+Enter")

    def wait_for_cells(self, count: int, timeout_s: float = 60) -> None:
        """Wait until all ``count`` cells are attached (JupyterLab attaches them in batches)."""
        deadline = time.monotonic() + timeout_s
        while self.cells().count() < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self.cells().count()} of {count} cells shown")
            time.sleep(0.3)

    def scroll_to(self, index: int) -> None:
        self.cells().nth(index).scroll_into_view_if_needed()

    def is_read_only(self, index: int) -> bool:
        editor = self.cells().nth(index).locator(".cm-editor")
        return "jp-mod-readOnly" in (editor.get_attribute("class") or "")

    def add_cell_below(self, index: int, text: str) -> None:
        """Select a cell, press B (new code cell below, as a student does) and type ``text``."""
        cell = self.cells().nth(index)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputArea-prompt").click()
        self.page.keyboard.press("b")
        self.type_into(index + 1, text)

    def open_menu(self, label: str) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")).click()

    def menu_items(self) -> list[str]:
        """The labels of the open menu's visible items."""
        return [t.strip() for t in
                self.page.locator(".lm-Menu:visible .lm-Menu-item:visible .lm-Menu-itemLabel")
                .all_inner_texts() if t.strip()]

    def menu(self, *labels: str) -> None:
        self.open_menu(labels[0])
        for label in labels[1:]:
            self.page.locator(".lm-Menu:visible .lm-Menu-item:visible .lm-Menu-itemLabel",
                              has_text=re.compile(f"^{re.escape(label)}$")).click()

    def run_all(self) -> None:
        self.menu("Run", "Run All Cells")

    def save(self) -> None:
        self.menu("File", "Save Notebook")

    def wait_idle(self, timeout_s: float = 180, settle_s: float = 1.5) -> None:
        """Wait until the kernel is idle and no cell is queued or running, for ``settle_s``."""
        deadline = time.monotonic() + timeout_s
        quiet_since = None
        while True:
            busy = self.page.evaluate("""() => {
                const panel = [...document.querySelectorAll('.jp-NotebookPanel')]
                    .find(p => !p.classList.contains('lm-mod-hidden'));
                if (!panel) return 'no notebook';
                const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
                const state = status ? status.getAttribute('data-status') : 'unknown';
                const running = [...panel.querySelectorAll('.jp-InputArea-prompt')]
                    .some(p => p.textContent.includes('*'));
                return state === 'idle' && !running ? '' : `kernel ${state}, running ${running}`;
            }""")
            now = time.monotonic()
            if not busy:
                quiet_since = quiet_since or now
                if now - quiet_since >= settle_s:
                    return
            else:
                quiet_since = None
            if now > deadline:
                self.screenshot("timeout-waiting-for-kernel")
                raise TimeoutError(f"kernel still busy after {timeout_s:.0f} s ({busy})")
            time.sleep(0.3)

    def outputs_text(self, index: int) -> str:
        """The text of a cell's outputs as shown (the cell is scrolled into view first)."""
        self.scroll_to(index)
        return self.cells().nth(index).locator(".jp-OutputArea").inner_text()

    def prompt(self, index: int) -> str:
        """A code cell's prompt: ``[ ]:``, ``[*]:`` or ``[3]:``."""
        return (self.cells().nth(index).locator(".jp-InputArea-prompt").text_content() or "").strip()

    def error_cells(self) -> dict[int, str]:
        """Cells whose output shows an exception (a traceback or an ``...Error`` line)."""
        texts = self.page.evaluate("""() => {
            const panel = [...document.querySelectorAll('.jp-NotebookPanel')]
                .find(p => !p.classList.contains('lm-mod-hidden'));
            return [...panel.querySelectorAll('.jp-Notebook .jp-Cell')].map(cell => {
                const out = cell.querySelector('.jp-OutputArea');
                return out ? [...out.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]')]
                    .map(o => o.textContent).join('\\n') : '';
            });
        }""")
        return {i: t for i, t in enumerate(texts) if ERROR_LINE.search(t)}

    # -- nbgrader ---------------------------------------------------------------------------
    def validate(self, timeout_s: float = 300) -> str:
        """Press Validate, wait for nbgrader's result dialog and return its text."""
        self.panel.locator(".validate-button").click()
        dialog = self.page.locator(".jp-Dialog")
        dialog.wait_for(timeout=timeout_s * 1000)
        return dialog.inner_text()

    def close_dialog(self) -> None:
        self.page.locator(".jp-Dialog .jp-mod-accept").click()
        self.page.locator(".jp-Dialog").wait_for(state="detached")
