"""Drive the instructor's JupyterLab (``make instructor``) and nbgrader's formgrader in Chromium.

Used by ``tests/test_browser_instructor.py`` and ``tests/test_hub.py`` (the hub's instructor, whose
formgrader opens in a page of its own). :func:`running_instructor_lab` starts JupyterLab
exactly as ``make instructor`` does (``python -m kerascourse.lab --instructor``), but serving a
scratch folder and grading in a scratch course folder inside it (``--course-dir``), with a scratch
exchange (``--exchange``); like the student's (``jupyterlab_driver.running_lab``) it always shuts
the server and its kernels down. :class:`Formgrader` wraps the formgrader's pages, which JupyterLab
shows in a frame of its Formgrader tab: the buttons an instructor presses, and waiting for what
they do. :func:`gradebook_grades` and :func:`gradebook_comment` read what the formgrader saved.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
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

    def wait_for_grading_page(self, timeout_s: float = 120) -> None:
        """Wait until the manual grading page can save what is typed into it.

        The page's score and comment fields are in its HTML, but only once nbgrader's
        ``formgrade.js`` has fetched the submission's grades and comments does it bind them to
        the gradebook; a score typed before that is never saved (a busy machine showed it: the
        comment typed a second later was saved, the score was not). nbgrader's own UI tests wait
        for the same flags.
        """
        ready = ("() => typeof formgrader !== 'undefined'"
                 " && formgrader.grades !== undefined && formgrader.grades.loaded === true"
                 " && formgrader.comments !== undefined && formgrader.comments.loaded === true")
        wait_for(lambda: self.frame.locator("body").evaluate(ready), "the grading page's fields bound",
                 timeout_s)

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


def wait_for(check: Callable, what: str, timeout_s: float = 30):
    """Call ``check`` until it returns something true; return that (TimeoutError names ``what``)."""
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout_s:.0f} s")
        time.sleep(0.3)
    return result


def _read_gradebook(course: Path, query: str, args: tuple) -> list[tuple]:
    """Rows of a query on the course's gradebook, opened read-only (the formgrader may be writing)."""
    with closing(sqlite3.connect(f"{(course / 'gradebook.db').as_uri()}?mode=ro", uri=True)) as con:
        return con.execute(query, args).fetchall()


def gradebook_grades(course: Path, student: str) -> dict[str, tuple[float | None, float | None]]:
    """{cell: (auto score, manual score)} of the student's submissions, from the gradebook."""
    rows = _read_gradebook(
        course, "SELECT bc.name, g.auto_score, g.manual_score FROM grade g "
        "JOIN base_cell bc ON g.cell_id = bc.id "
        "JOIN submitted_notebook sn ON g.notebook_id = sn.id "
        "JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
        "WHERE sa.student_id = ?", (student,))
    return {name: (auto, manual) for name, auto, manual in rows}


def gradebook_comment(course: Path, student: str, cell: str) -> str | None:
    """The instructor's comment on one cell of the student's submission, from the gradebook."""
    rows = _read_gradebook(
        course, "SELECT c.manual_comment FROM comment c JOIN base_cell bc ON c.cell_id = bc.id "
        "JOIN submitted_notebook sn ON c.notebook_id = sn.id "
        "JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
        "WHERE sa.student_id = ? AND bc.name = ?", (student, cell))
    return rows[0][0] if rows else None
