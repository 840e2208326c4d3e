"""``grader autograde --scheduler``: the same grades from a real Dask cluster, even when a worker dies.

The test starts a Dask scheduler and two single-threaded workers on loopback (real processes, the
``dask`` command line, each worker under a nanny that restarts it), grades one class of the tiny
fixture lesson through the cluster, and kills one worker while it grades. Every submission must
still be graded (the killed one rescheduled on the other worker), none dropped, and every cell's
score and every status must be what ``grader autograde`` on one machine gives this class
(``EXPECTED``: the same answers graded on one machine are proven in ``test_grading_integrity``).
One run proves both: a cluster that grades differently, or loses a submission when a worker dies,
fails it. (Two runs, one without the kill, cost 30 s more CPU and proved nothing the one does not.)
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from helpers import FIXTURE_LESSONS, TINY, TINY_ANSWERS, release_tiny, with_answers
from nbgrader.api import Gradebook

from grader.cli import main as grader_main
from grader.gradebook import db_url
from kerascourse.paths import course_env

pytestmark = pytest.mark.notebook

LESSON = TINY
DASK = Path(sys.executable).with_name("dask")
ANSWERS = {
    "full": TINY_ANSWERS,
    "half": {"ex1-answer": TINY_ANSWERS["ex1-answer"]},
    "hidden-mistake": {"ex1-answer": "def add(a, b):\n    return 3"},
    "blank": {},
    "slow": {"ex1-answer": "import time\ntime.sleep(8)\ndef add(a, b):\n    return a + b"},
    "tamper": {"ex1-answer": "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])"},
}
# What one machine gives each of them: (status, {test cell: score}).
EXPECTED = {
    "full": ("graded", {"ex1-tests": 2.0, "ex2-tests": 2.0}),
    "half": ("graded", {"ex1-tests": 2.0, "ex2-tests": 0.0}),
    "hidden-mistake": ("graded", {"ex1-tests": 0.0, "ex2-tests": 0.0}),
    "blank": ("graded", {"ex1-tests": 0.0, "ex2-tests": 0.0}),
    "slow": ("graded", {"ex1-tests": 2.0, "ex2-tests": 0.0}),
    "tamper": ("tampering suspected", {"ex1-tests": 0.0, "ex2-tests": 0.0}),
}


def _class(course: Path) -> None:
    student_nb = release_tiny(course)
    for student, answers in ANSWERS.items():
        nb = with_answers(student_nb, answers)
        folder = course / "submitted" / student / LESSON
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{LESSON}.ipynb")


def _grade(course: Path, *extra: str) -> tuple[dict, dict]:
    assert grader_main(["autograde", LESSON, "--course-dir", str(course), "--lessons-dir",
                        str(FIXTURE_LESSONS), *extra]) == 0
    report = course / "reports" / f"{LESSON}-autograde.csv"
    rows = {r["student"]: r["status"] for r in csv.DictReader(open(report))}
    with Gradebook(db_url(course)) as gb:
        scores = {s: {g.name: g.score for g in gb.find_submission_notebook(LESSON, LESSON, s).grades}
                  for s in rows}
    return rows, scores


class Cluster:
    """A scheduler and its workers (two by default), one thread each, on loopback; always stopped."""

    def __init__(self, folder: Path, workers: int = 2) -> None:
        self.folder, self.n_workers = folder, workers
        self.file = folder / "scheduler.json"
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> Cluster:
        env = course_env()
        common = dict(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(self.file)], **common))
        deadline = time.monotonic() + 60
        while not self.file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.address = json.loads(self.file.read_text())["address"]
        for _ in range(self.n_workers):
            self.procs.append(subprocess.Popen(
                [str(DASK), "worker", self.address, "--nthreads", "1", "--nworkers", "1",
                 "--no-dashboard", "--death-timeout", "60", "--local-directory", str(self.folder)], **common))
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(self.n_workers, timeout=120)
        return self

    def workers(self) -> list[subprocess.Popen]:
        return self.procs[1:]

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def _as_expected(rows: dict, scores: dict) -> dict:
    """{student: (status, scores)}, the status cut to its kind (``tampering suspected: ...``)."""
    return {student: (next((k for k in ("graded", "tampering suspected") if status.startswith(k)), status),
                      {cell: score for cell, score in scores[student].items() if cell.endswith("-tests")})
            for student, status in rows.items()}


@pytest.fixture()
def cluster(tmp_path):
    (tmp_path / "dask").mkdir()
    with Cluster(tmp_path / "dask") as running:
        yield running


def test_a_dask_cluster_gives_the_same_grades_when_a_worker_dies(tmp_path, cluster, record_property):
    from distributed import Client

    course = tmp_path / "course"
    _class(course)
    killed = []

    def kill_a_busy_worker() -> None:
        with Client(cluster.address, timeout=60) as client:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                busy = [w for w, tasks in client.processing().items() if tasks]
                if busy:
                    pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
                time.sleep(0.2)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    start = time.perf_counter()
    rows, scores = _grade(course, "--scheduler", cluster.address)
    record_property("seconds:grader autograde --scheduler, 6 submissions of 00-tiny, 2 workers, one killed",
                    time.perf_counter() - start)
    killer.join()
    assert killed, "no worker was ever busy: the run proves nothing about a worker dying"
    assert set(rows) == set(ANSWERS), "a submission was dropped"
    assert _as_expected(rows, scores) == EXPECTED, "the cluster graded differently from one machine"
    shutil.rmtree(course, ignore_errors=True)
