"""Drive the instructor's JupyterLab (``make instructor``) and nbgrader's formgrader in Chromium.

Used by ``tests/test_browser_instructor.py``. :func:`running_instructor_lab` starts JupyterLab
exactly as ``make instructor`` does (``python -m kerascourse.lab --instructor``), but serving a
scratch folder and grading in a scratch course folder inside it (``--course-dir``), with a scratch
exchange (``--exchange``); like the student's (``jupyterlab_driver.running_lab``) it always shuts
the server and its kernels down. :class:`Formgrader` wraps the formgrader's pages, which JupyterLab
shows in a frame of its Formgrader tab: the buttons an instructor presses, and waiting for what
they do.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jupyterlab_driver import LabServer, free_port, serve


@contextmanager
def running_instructor_lab(workdir: Path, course: Path, exchange: Path, root: Path | None = None,
                           start_timeout: float = 180) -> Iterator[LabServer]:
    """Start the instructor's JupyterLab grading in ``course``, which must lie inside the folder it
    serves: ``root``, or the repository root as ``make instructor`` serves."""
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    for var, sub in (("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                     ("JUPYTERLAB_SETTINGS_DIR", "settings")):
        env[var] = str(workdir / sub)
    # no "Would you like to get notified about Jupyter news?" toast over the formgrader's buttons
    news = workdir / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text('{"fetchNews": "false"}')
    log = workdir / "jupyterlab-instructor.log"
    cmd = [
        sys.executable, "-m", "kerascourse.lab", "--instructor", *(["--root", str(root)] if root else []),
        "--course-dir", str(course), "--exchange", str(exchange), "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
    ]
    with serve(cmd, env, log, port, token, start_timeout) as server:
        yield server


class Formgrader:
    """The formgrader's pages, inside JupyterLab's Formgrader tab (a frame) or a page of their own."""

    def __init__(self, page, frame, shots: Path):
        self.page = page  # what screenshots are taken of
        self.frame = frame  # a Playwright FrameLocator (the tab's iframe) or the page itself
        self.shots = shots

    def screenshot(self, name: str, full_page: bool = False) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def link(self, text: str):
        return self.frame.get_by_role("link", name=re.compile(f"^{re.escape(text)}$")).first

    def row(self, text: str):
        """The table row (``tr``) that shows ``text`` in one of its cells."""
        return self.frame.locator("tr", has=self.frame.locator("td", has_text=text)).first

    def press_and_confirm(self, button, timeout_s: float) -> str:
        """Press a button that ends in nbgrader's result dialog; wait for it and return its text.

        The formgrader runs the command inside the Jupyter server (which answers nothing else
        meanwhile), then shows a dialog titled "Success" or "Error" with nbgrader's log.
        """
        button.click()
        title = self.frame.locator(".modal-dialog:visible .modal-title",
                                   has_text=re.compile("^(Success|Error)$"))
        title.wait_for(timeout=timeout_s * 1000)
        return self.frame.locator(".modal-dialog:visible").inner_text()

    def close_dialog(self) -> None:
        self.frame.locator(".modal-dialog:visible .modal-footer button").first.click()
        deadline = time.monotonic() + 10
        while self.frame.locator(".modal-dialog:visible").count():
            if time.monotonic() > deadline:
                raise TimeoutError("the formgrader's dialog did not close")
            time.sleep(0.2)
