"""A class on the course's JupyterHub, end to end, driven as its members would drive it.

A real JupyterHub with configurable-http-proxy on loopback, real Unix accounts (an instructor and
three students, made by ``python -m hub setup``), each user's own JupyterLab started as that user
by the hub's LocalProcessSpawner, and nbgrader's exchange in a scratch folder:

1. the instructor releases lesson 01 (``nbgrader release_assignment``, as in a terminal on the hub);
2. student 1 logs in on the hub's log-in page in headless Chromium, opens the Assignment List,
   fetches the lesson, opens it, types every answer, saves and submits from the panel; student 2
   (one exercise answered) and student 3 (nothing answered) fetch and submit with ``nbgrader`` as
   their own Unix users, as from a terminal in their JupyterLab, and student 3 then attacks the
   exchange by hand (a link to the solutions in its own submission, a newer blank submission in
   student 2's name); the instructor logs in meanwhile,
   in a second browser context (cookies of their own), and their JupyterLab has Nbgrader >
   Formgrader (a student's server has no formgrader);
3. the instructor grades in the formgrader, opened in a tab of its own (JupyterHub forbids the
   frame JupyterLab's Formgrader tab shows it in): it lists every lesson; its Collect button brings
   in every submission and neither attack (the course's collect, ``grader.exchange_collect``);
   ``grader autograde --student ... --jobs 2`` in a terminal grades students
   2 and 3 in parallel (and computes the lesson's reference), while the instructor reads the
   reflection's mark scheme in JupyterLab, in the lesson's solution through the course folder's
   ``solutions/`` link (``python -m hub setup`` makes it: JupyterLab shows only the home); then
   the formgrader's Autograde button grades student 1 through the same sandboxed pipeline: full
   marks, one exercise's marks, zero;
4. a student cannot list the exchange's inbox, read another's submission or home, the gradebook,
   the course folder or the solutions, nor remove the released lesson; the instructor can read what
   a grader must (so the refusals are not for want of a file);
5. on the formgrader's manual grading page student 1's reflection gets a score and a comment,
   saved in the gradebook;
6. the formgrader's Generate feedback (the course's feedback pipeline: a Content-Security-Policy
   in every page) and Release feedback;
7. student 1 fetches the feedback from the panel and sees the total with the reflection's score,
   and the comment; the others fetch with ``nbgrader fetch_feedback``; no hidden test line appears
   in anything a student receives;
8. ``grader report``, run as the instructor, has the reflection's manual score.

Skipped, with the reason, unless running as root (accounts, a spawner that switches users) with
Chromium and Node.js. Screenshots (student 1's ``01``-``06``, the instructor's ``07``-``13``), the
hub's log, the commands run and the instructor's course folder go to ``artifacts/hub/class/``
(git-ignored).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from formgrader_driver import Formgrader, gradebook_comment, gradebook_grades, wait_for
from helpers import LESSONS, hidden_test_lines, read_nb, solution_path, squash, student_path
from jupyterlab_driver import CHROMIUM, Lab, chromium_page

from grader.variants import answer_text, grade_id
from kerascourse.paths import REPO_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="browser")]

LESSON = "01-sequential-models"
INSTRUCTOR = "kctest-instructor"
FULL, PARTIAL, NONE = STUDENTS = ("kctest-student1", "kctest-student2", "kctest-student3")
PARTIAL_ANSWERS = ("ex1-answer",)  # the one exercise student 2 answers
REFLECTION = "ex5-reflection"  # graded by hand: student 1's, in the formgrader
MANUAL_SCORE = 1
MANUAL_COMMENT = "Yes: Flatten gives Dense one 784-vector per image. (hub marker 5d1c)"
ARTIFACTS = REPO_ROOT / "artifacts" / "hub"
CLASS_ARTIFACTS = ARTIFACTS / "class"  # the class test's screenshots, logs and course folder
FILL_ANSWERS = """\
import json, sys, nbformat
path, answers = sys.argv[1], json.loads(sys.argv[2])
nb = nbformat.read(path, as_version=4)
for cell in nb.cells:
    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    if gid in answers:
        cell.source = answers[gid]
nbformat.write(nb, path)
"""


def _requirements() -> str:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return ("the hub test creates Unix accounts and starts servers as them: run it as root "
                "(sudo .venv/bin/python -m pytest tests/test_hub.py)")
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: `make data` installs Debian's chromium as root"
    if not shutil.which("node") or not shutil.which("npm"):
        return "JupyterHub's proxy needs Node.js 20+ and npm (apt-get install nodejs npm)"
    return ""


def _text(html: str) -> str:
    """What a browser shows of an HTML page, without whitespace: syntax highlighting splits code
    into spans, so only a comparison without whitespace finds a line of code in it."""
    return squash(BeautifulSoup(html, "html.parser").get_text())


def _auto_scores(course_dir: Path, lesson: str) -> dict[str, float]:
    """Each student's autograded points for the lesson, from the instructor's gradebook."""
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        for student in STUDENTS:
            notebook = gb.find_submission_notebook(lesson, lesson, student)
            scores[student] = sum(g.auto_score or 0 for g in notebook.grades if g.cell.cell_type == "code")
    return scores


@pytest.fixture(scope="module")
def lesson_facts() -> dict:
    student, solution = read_nb(student_path(LESSON)), read_nb(solution_path(LESSON))
    by_id = {grade_id(c): i for i, c in enumerate(student.cells) if grade_id(c)}
    answers = {grade_id(c): answer_text(c) for c in solution.cells
               if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    points = {grade_id(c): c.metadata.nbgrader.get("points", 0) for c in solution.cells
              if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("grade")}
    by_hand = {grade_id(c): c.metadata.nbgrader.get("points", 0) for c in solution.cells
               if c.cell_type == "markdown" and c.get("metadata", {}).get("nbgrader", {}).get("grade")}
    visible = [line.strip() for c in student.cells
               if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
               for line in c.source.splitlines() if line.strip().startswith("assert")]
    return {"cells": len(student.cells), "by_id": by_id, "answers": answers, "points": points,
            "by_hand": by_hand, "visible": visible, "solution_cells": len(solution.cells),
            "scheme_cell": next(i for i, c in enumerate(solution.cells) if grade_id(c) == REFLECTION)}


def _hub_settings():
    import sys

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from hub import settings

    return settings


def test_hub_settings_agree_with_the_course():
    """``hub.settings`` keeps its own copies of course facts (so a hub's Python can import it
    without the course's packages); they must agree with the course's."""
    from grader.config import COURSE_ID
    from kerascourse.lab import config_dir

    hs = _hub_settings()
    assert hs.COURSE_ID == COURSE_ID
    assert hs.VIEWS == {False: config_dir(False), True: config_dir(True)}
    assert (hs.ENV_BIN / "jupyterhub-singleuser").exists(), "jupyterhub is not installed in the environment"
    custom = hs.HubSettings(instructors=("teach",), students=("a", "b"), exchange_root=Path("/x/exchange"),
                            course_dir=Path("/x/course"), bind_url="http://127.0.0.1:1", hub_port=2,
                            proxy_api_port=3, instructors_group="g1", users_group="g2")
    assert hs.HubSettings.from_env(custom.to_env()) == custom
    assert hs.HubSettings.from_env({}) == hs.HubSettings()
    student, teacher = (hs.singleuser_environment(custom, name) for name in ("a", "teach"))
    for env, view in ((student, config_dir(False)), (teacher, config_dir(True))):
        assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(hs.HUB_JUPYTER_DIR), str(view)]
    assert hs.COURSE_DIR_VAR not in student and teacher[hs.COURSE_DIR_VAR] == "/x/course"
    assert student[hs.EXCHANGE_VAR] == teacher[hs.EXCHANGE_VAR] == "/x/exchange"


def _nbgrader_config(monkeypatch, tmp_path, config_path: list[Path], env: dict[str, str]):
    """The configuration nbgrader's apps (and the Assignment List) load with these folders first."""
    from nbgrader.apps.baseapp import NbGrader

    monkeypatch.chdir(tmp_path)  # nbgrader also reads ./nbgrader_config.py
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", os.pathsep.join(map(str, config_path)))
    for var in ("KERAS_COURSE_EXCHANGE", "KERAS_COURSE_DIR"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    app = NbGrader()
    app.load_config_file()
    return app.config


def test_nbgrader_settings_on_the_hub_and_alone(monkeypatch, tmp_path):
    """On the hub the hub's exchange wins over ``make lab``'s local one; instructors get their
    course folder; alone, ``make lab`` has a local exchange that exists (no error in the panel)."""
    from grader.config import COURSE_ID, GRADING_DIR
    from kerascourse.lab import config_dir

    hs = _hub_settings()
    hub_student = _nbgrader_config(monkeypatch, tmp_path, [hs.HUB_JUPYTER_DIR, config_dir(False)],
                                   {hs.EXCHANGE_VAR: "/srv/x/exchange"})
    assert hub_student.Exchange.root == "/srv/x/exchange"
    assert hub_student.CourseDirectory.course_id == COURSE_ID
    assert "db_url" not in hub_student.CourseDirectory, "a student's server must not know the gradebook"
    hub_teacher = _nbgrader_config(monkeypatch, tmp_path, [hs.HUB_JUPYTER_DIR, config_dir(True)],
                                   {hs.EXCHANGE_VAR: "/srv/x/exchange", hs.COURSE_DIR_VAR: str(tmp_path)})
    assert hub_teacher.Exchange.root == "/srv/x/exchange"
    assert hub_teacher.CourseDirectory.root == str(tmp_path.resolve())
    assert hub_teacher.CourseDirectory.db_url == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"
    alone = _nbgrader_config(monkeypatch, tmp_path, [config_dir(False)], {})
    assert alone.Exchange.root == str(GRADING_DIR / "exchange")
    assert (GRADING_DIR / "exchange").is_dir(), "make lab's exchange was not created"


def test_the_hidden_test_check_would_see_hidden_tests():
    """The feedback check below compares text without whitespace (highlighted code is split into
    spans): on an HTML page of the solution notebook it finds every hidden line it looks for."""
    from nbconvert import HTMLExporter

    hidden = hidden_test_lines(LESSON)
    html, _ = HTMLExporter().from_notebook_node(read_nb(solution_path(LESSON)))
    text = _text(html)
    assert hidden and all(squash(line) in text for line in hidden)


@pytest.mark.browser
def test_make_lab_assignment_list_shows_no_error(tmp_path):
    """Alone (``make lab``), the Assignment List opens on the local exchange: empty, no error."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make data` installs Debian's chromium as root")
    from jupyterlab_driver import running_lab

    root = tmp_path / "lab"
    root.mkdir()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_lab(root, tmp_path) as server, chromium_page(tmp_path / "chromium") as page:
        page.goto(f"{server.url}/lab?token={server.token}")
        page.locator("#jp-main-dock-panel").wait_for(timeout=120_000)
        _open_assignment_list(page)
        placeholder = page.locator("#released_assignments_list_placeholder")
        placeholder.wait_for(state="visible", timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "make-lab-assignment-list.png"))
        lists = ("released", "fetched", "submitted")
        errors = [page.locator(f"#{name}_assignments_list_error") for name in lists]
        assert not [e.inner_text() for e in errors if e.is_visible()], "the Assignment List shows an error"
        assert "There are no assignments to fetch" in placeholder.inner_text()


def test_a_class_on_jupyterhub(lesson_facts, record_property):
    reason = _requirements()
    if reason:
        pytest.skip(reason)
    from hub_driver import chromium_contexts, listing_fails, running_class

    started = time.perf_counter()
    hidden = hidden_test_lines(LESSON)
    assert hidden, "lesson 01 has no hidden tests: the feedback check would prove nothing"
    answers, points = lesson_facts["answers"], lesson_facts["points"]
    full_marks = sum(points.values())
    partial_marks = sum(points[gid.replace("-answer", "-tests")] for gid in PARTIAL_ANSWERS)
    assert 0 < partial_marks < full_marks, points  # lesson 01: three or more exercises, 2 points each
    solution = solution_path(LESSON)
    committed_solution = solution.read_bytes()
    shutil.rmtree(CLASS_ARTIFACTS, ignore_errors=True)
    CLASS_ARTIFACTS.mkdir(parents=True)

    with (running_class((INSTRUCTOR,), STUDENTS, CLASS_ARTIFACTS) as hub,
          chromium_contexts() as new_page):
        page = new_page()  # student 1's browser
        course, exchange = hub.settings.course_folder(), hub.settings.course_exchange()
        assert oct(hub.settings.exchange_root.stat().st_mode & 0o7777) == "0o1777"

        # 1. the instructor releases the lesson
        hub.run_as(INSTRUCTOR, "nbgrader", "release_assignment", LESSON)
        released = exchange / "outbound" / LESSON / f"{LESSON}.ipynb"
        assert released.read_bytes() == student_path(LESSON).read_bytes(), "released != notebooks/"

        # 2. students 2 and 3 work in terminals while student 1 works in the browser
        def terminal_student(student: str, answered: tuple[str, ...]) -> None:
            hub.run_as(student, "nbgrader", "fetch_assignment", LESSON)
            notebook = hub.home(student) / LESSON / f"{LESSON}.ipynb"
            if answered:
                hub.run_as(student, "python", "-c", FILL_ANSWERS, str(notebook),
                           json.dumps({gid: answers[gid] for gid in answered}))
            submitted = hub.run_as(student, "nbgrader", "submit", LESSON)
            if not answered:
                attack_the_exchange(hub, student, submitted.stderr, notebook, exchange / "inbound")

        teacher = new_page()  # the instructor's browser; the hub starts their server meanwhile
        _submit_login(teacher, hub, INSTRUCTOR)
        with ThreadPoolExecutor(max_workers=2) as pool:
            terminals = [pool.submit(terminal_student, PARTIAL, PARTIAL_ANSWERS),
                         pool.submit(terminal_student, NONE, ())]
            browser_student(page, hub, lesson_facts)
            fg = instructor_opens_the_formgrader(teacher, hub)
            for future in terminals:
                future.result()

        # 3. Collect (the formgrader's button); grade: two students from the terminal, which also
        # computes the lesson's reference, then student 1 with the Autograde button. Meanwhile the
        # instructor reads the reflection's mark scheme in JupyterLab.
        result = fg.press_and_confirm(fg.row(LESSON).locator("td.collect a"), timeout_s=120)
        fg.screenshot("08-formgrader-collected")
        fg.close_dialog()
        assert f"Successfully collected submissions of '{LESSON}'" in result, result
        assert "cheating attempt" not in result, result  # every submission belongs to its student
        # student 3's attacks on the exchange (attack_the_exchange) took nothing
        assert f"written by {NONE}, not by {PARTIAL}" in result, result
        assert "solution.ipynb (a link)" in result, result
        assert not (course / "submitted" / NONE / LESSON / "solution.ipynb").exists(), "a link was followed"
        for student in STUDENTS:
            assert (course / "submitted" / student / LESSON / f"{LESSON}.ipynb").exists(), result
        with ThreadPoolExecutor(max_workers=1) as pool:
            terminal = pool.submit(hub.run_as, INSTRUCTOR, "grader", "autograde", LESSON, "--student",
                                   PARTIAL, "--student", NONE, "--course-dir", str(course), "--jobs", "2")
            instructor_reads_the_mark_scheme(teacher, hub, course, lesson_facts)
            graded = terminal.result()
        autograde_started = time.perf_counter()
        result = formgrader_autogrades(fg, FULL)
        autograde_s = time.perf_counter() - autograde_started
        assert f"Successfully autograded '{LESSON}' for student '{FULL}'" in result, result
        assert "Applying preprocessor: GuardedExecute" in result, \
            f"the formgrader's autograde did not run the course's pipeline: {result[-3000:]}"
        scores = _auto_scores(course, LESSON)

        # 4. what a student cannot do, and what the instructor can
        check_isolation(hub, course, released)
        assert scores == {FULL: full_marks, PARTIAL: partial_marks, NONE: 0}, \
            f"{scores}\n{graded.stdout[-3000:]}\n{result[-3000:]}"

        # 5. the reflection, in the formgrader: a score and a comment
        instructor_grades_the_reflection(fg, course, answers[REFLECTION])

        # 6. feedback: generated and released with the formgrader's buttons, made by the course's
        # feedback pipeline (a Content-Security-Policy on every page)
        fg.link("Manual Grading").click()  # the grading page has a breadcrumb, not the side menu
        fg.link("Manage Assignments").click()
        result = fg.press_and_confirm(fg.row(LESSON).locator("td.generate-feedback a"), timeout_s=600)
        fg.screenshot("12-formgrader-feedback-generated")
        fg.close_dialog()
        assert f"Successfully generated feedback of '{LESSON}'" in result, result
        assert "Applying preprocessor: FeedbackExecute" in result, \
            f"the formgrader's feedback did not run the course's pipeline: {result[-3000:]}"
        for student in STUDENTS:
            page_file = course / "feedback" / student / LESSON / f"{LESSON}.html"
            assert page_file.exists(), f"no feedback for {student}: {result[-3000:]}"
            assert "Content-Security-Policy" in page_file.read_text(), \
                f"{page_file} was not made by the course's feedback pipeline"
        result = fg.press_and_confirm(fg.row(LESSON).locator("td.release-feedback a"), timeout_s=120)
        fg.screenshot("13-formgrader-feedback-released")
        fg.close_dialog()
        assert f"Successfully released feedback of '{LESSON}'" in result, result
        assert listing_fails(hub, PARTIAL, exchange / "feedback"), "a student can list all feedback"

        # 7. the students fetch it: no hidden test in it; student 1 sees the comment and the total;
        # 8. meanwhile the instructor's report (below) is written
        with ThreadPoolExecutor(max_workers=3) as pool:
            fetches = [pool.submit(hub.run_as, student, "nbgrader", "fetch_feedback", LESSON)
                       for student in (PARTIAL, NONE)]
            reported = pool.submit(hub.run_as, INSTRUCTOR, "grader", "report", LESSON,
                                   "--course-dir", str(course))
            shown = browser_fetches_feedback(page, hub)
            for future in (*fetches, reported):
                future.result()
        total, out_of = full_marks + MANUAL_SCORE, full_marks + sum(lesson_facts["by_hand"].values())
        assert f"Score: {total:.1f} / {out_of:.1f}" in shown, \
            f"student 1's feedback does not show the total with the reflection's score: {shown[:2000]}"
        assert MANUAL_COMMENT in shown, "student 1's feedback does not show the instructor's comment"
        leaked = [line for line in hidden if squash(line) in squash(shown)]
        assert not leaked, f"student 1's feedback page shows hidden test lines: {leaked}"

        for student in STUDENTS:
            fetched = sorted((hub.home(student) / LESSON / "feedback").glob(f"*/{LESSON}.html"))
            assert fetched, f"{student} has no feedback"
            text = _text(fetched[-1].read_text())
            leaked = [line for line in hidden if squash(line) in text]
            assert not leaked, f"{student}'s feedback shows hidden test lines: {leaked}"
            assert any(squash(line) in text for line in lesson_facts["visible"]), \
                f"{student}'s feedback shows none of the visible tests: the check would see no code"

        # 8. the report has the manual score
        with open(course / "reports" / f"{LESSON}-scores.csv", newline="") as csv_file:
            rows = {row["student"]: row for row in csv.DictReader(csv_file)}
        assert set(rows) == set(STUDENTS), rows
        column = f"{REFLECTION} ({lesson_facts['by_hand'][REFLECTION]})"
        assert rows[FULL][column] == f"{MANUAL_SCORE:g}", f"no manual score in the report: {rows[FULL]}"
        assert rows[FULL][f"total ({out_of})"] == f"{total:g}", rows[FULL]

    assert solution.read_bytes() == committed_solution, "opening the solution on the hub changed it"
    record_property("seconds:hub formgrader autograde of one submission (lesson 01)", autograde_s)
    record_property("seconds:hub test (JupyterHub, 3 students, lesson 01)", time.perf_counter() - started)


def attack_the_exchange(hub, student: str, submit_log: str, notebook: Path, inbound: Path) -> None:
    """What a student can do by hand in ``inbound``: a link to the solutions in their own submission
    (the instructor collects with rights the student lacks), and a newer blank submission in another
    student's name. The course's Collect (``grader.exchange_collect``) must take neither: student 2
    keeps their own score, and the solution never reaches a submission."""
    own = re.search(r"Destination: (.*/inbound/.*)$", submit_log, re.M)
    assert own, f"nbgrader submit did not say where it put the submission:\n{submit_log[-2000:]}"
    hub.run_as(student, "ln", "-s", str(solution_path(LESSON)), f"{own.group(1).strip()}/solution.ipynb")
    forged = inbound / f"{PARTIAL}+{LESSON}+2099-01-01 00:00:00.000000 UTC+forged"
    hub.run_as(student, "mkdir", str(forged))
    hub.run_as(student, "cp", str(notebook), str(forged / f"{LESSON}.ipynb"))


def check_isolation(hub, course: Path, released: Path) -> None:
    """Student 2 tries, as its own Unix user, what it must not be able to do; the instructor
    succeeds where a grader must, so a refusal is never for want of a file."""
    from hub_driver import listing_fails, reading_fails

    student = PARTIAL
    inbound = hub.settings.course_exchange() / "inbound"
    submission = f"{inbound}/{FULL}+{LESSON}+*/{LESSON}.ipynb"
    solution = f"{REPO_ROOT}/solutions/{LESSON}/{LESSON}.ipynb"
    assert not reading_fails(hub, INSTRUCTOR, submission), "the instructor cannot read submissions"
    assert not reading_fails(hub, INSTRUCTOR, solution), "the instructor cannot read solutions/"
    assert not reading_fails(hub, INSTRUCTOR, f"{course}/solutions/{LESSON}/{LESSON}.ipynb"), \
        "the instructor cannot read the lessons through the course folder's solutions/ link"
    refused = {
        "list the exchange's inbox": listing_fails(hub, student, inbound),
        "read another student's submission": reading_fails(hub, student, submission),
        "read another student's home": reading_fails(hub, student, f"{hub.home(FULL)}/{LESSON}/*.ipynb"),
        "read the gradebook": reading_fails(hub, student, str(course / "gradebook.db")),
        "list the collected submissions": listing_fails(hub, student, course / "submitted"),
        "read the hidden tests in solutions/": reading_fails(hub, student, solution),
        "read them through the instructor's link": reading_fails(
            hub, student, f"{course}/solutions/{LESSON}/{LESSON}.ipynb"),
        "read the git history": reading_fails(hub, student, f"{REPO_ROOT}/.git/HEAD"),
        "remove the released lesson": hub.run_as(student, "rm", "-rf", str(released.parent),
                                                 check=False).returncode != 0 and released.exists(),
    }
    allowed = [what for what, refused_it in refused.items() if not refused_it]
    assert not allowed, f"a student could: {allowed}"


def _login(page, hub, user: str, timeout_s: float = 240) -> None:
    _submit_login(page, hub, user)
    _wait_for_lab(page, user, timeout_s)


def _submit_login(page, hub, user: str) -> None:
    """Log in on the hub's log-in page; the hub then starts the user's server (tens of seconds)."""
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.passwords[user])
    page.click("#login_submit")


def _wait_for_lab(page, user: str, timeout_s: float = 240) -> None:
    page.wait_for_url(f"**/user/{user}/lab**", timeout=timeout_s * 1000)
    page.locator("#jp-main-dock-panel").wait_for(timeout=timeout_s * 1000)


def _open_assignment_list(page) -> None:
    page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text=re.compile("^Nbgrader$")).click()
    page.locator('li[data-command="nbgrader:open-assignment-list"]').click()
    page.locator("#released_assignments_list").wait_for()


def _rows(page, name: str, timeout_s: float = 120):
    """The rows of one list of the Assignment List panel, once it has finished loading."""
    rows = page.locator(f"#{name}_assignments_list > .list_item")
    rows.first.wait_for(timeout=timeout_s * 1000)
    error = page.locator(f"#{name}_assignments_list_error")
    assert not error.is_visible(), error.inner_text()
    return rows


def browser_student(page, hub, facts: dict) -> None:
    """Student 1: log in, Assignment List, fetch, open, answer everything, save, submit."""
    page.goto(f"{hub.url}/hub/login")
    page.screenshot(path=str(CLASS_ARTIFACTS / "01-hub-login.png"))
    _login(page, hub, FULL)
    hub.note(f"browser: {FULL} logged in, JupyterLab open")
    # the student's server runs the course's student view: no formgrader
    assert page.request.get(f"{hub.url}/user/{FULL}/formgrader").status == 404, "formgrader on for a student"
    _open_assignment_list(page)
    released = _rows(page, "released")
    assert released.count() == 1 and released.first.locator(".item_name").inner_text() == LESSON
    assert released.first.locator(".item_course").inner_text() == "keras-course"
    page.screenshot(path=str(CLASS_ARTIFACTS / "02-assignment-list.png"))

    released.first.locator(".item_status button", has_text="Fetch").click()
    fetched = _rows(page, "fetched")
    fetched.first.locator("a.assignment-notebooks-link").click()
    page.locator(".nested_list_item .item_name a", has_text=LESSON).click()  # opens the notebook
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=120_000)
    lab = Lab(page, None, CLASS_ARTIFACTS)  # the driver's notebook actions; the page is already open
    lab.wait_for_cells(facts["cells"])
    for gid, text in facts["answers"].items():
        lab.type_into(facts["by_id"][gid], text)
    lab.save()
    page.locator(".lm-TabBar-tab.jp-mod-dirty").wait_for(state="detached", timeout=30_000)
    lab.screenshot("03-answered-and-saved")

    page.locator(".lm-TabBar-tab", has_text="Assignments").click()
    fetched = _rows(page, "fetched")
    fetched.first.locator(".item_status button", has_text="Submit").click()
    submitted = _rows(page, "submitted")
    assert submitted.first.locator(".item_name").first.inner_text() == LESSON
    page.screenshot(path=str(CLASS_ARTIFACTS / "04-submitted.png"))
    hub.note(f"browser: {FULL} submitted")


def browser_fetches_feedback(page, hub) -> str:
    """Student 1 fetches the released feedback from the panel and opens it; returns what it shows."""
    page.locator("#refresh_assignments_list").click()
    button = page.locator("#submitted_assignments_list .item_status button", has_text="Fetch Feedback")
    button.first.wait_for(timeout=60_000)
    button.first.click()
    link = page.locator("#submitted_assignments_list a", has_text=re.compile("view feedback", re.I))
    link.first.wait_for(timeout=60_000)
    page.screenshot(path=str(CLASS_ARTIFACTS / "05-feedback-fetched.png"))
    files = sorted((hub.home(FULL) / LESSON / "feedback").glob(f"*/{LESSON}.html"))
    assert files, "Fetch Feedback fetched nothing"
    relative = files[-1].relative_to(hub.home(FULL))
    response = page.goto(f"{hub.url}/user/{FULL}/files/{relative}")
    assert response is not None and response.ok, response
    shown = page.locator("body").inner_text()
    page.screenshot(path=str(CLASS_ARTIFACTS / "06-feedback.png"), full_page=True)
    hub.note(f"browser: {FULL} fetched and opened the feedback")
    return shown


# -- the instructor's day in the browser ----------------------------------------------------------
def instructor_opens_the_formgrader(page, hub) -> Formgrader:
    """The instructor's JupyterLab (logged in with :func:`_submit_login`) has Nbgrader > Formgrader;
    the formgrader, in a tab of its own (JupyterHub forbids the frame JupyterLab's Formgrader tab
    would show it in), lists the lessons."""
    _wait_for_lab(page, INSTRUCTOR)
    hub.note(f"browser: {INSTRUCTOR} logged in, JupyterLab open")
    lab = Lab(page, None, CLASS_ARTIFACTS)
    lab.open_menu("Nbgrader")
    items = lab.menu_items()
    page.keyboard.press("Escape")
    assert {"Formgrader", "Create assignment"} <= set(items), f"the instructor's Nbgrader menu: {items}"
    tab = page.context.new_page()
    response = tab.goto(f"{hub.url}/user/{INSTRUCTOR}/formgrader")
    assert response is not None and response.ok, response
    fg = Formgrader(tab, tab, CLASS_ARTIFACTS)
    lesson_row = fg.row(LESSON)
    lesson_row.wait_for(timeout=60_000)
    listed = [t.strip() for t in tab.locator("td.name").all_inner_texts()]
    fg.screenshot("07-formgrader-lists-the-lessons")
    assert listed == LESSONS, f"the formgrader lists {listed}"
    assert lesson_row.locator("td.status").inner_text().strip() == "released", lesson_row.inner_text()
    hub.note(f"browser: {INSTRUCTOR}'s formgrader lists the lessons")
    return fg


def formgrader_autogrades(fg: Formgrader, student: str) -> str:
    """The lesson's submissions page, then the student's Autograde button; returns nbgrader's log."""
    fg.row(LESSON).locator("td.num-submissions a").click()
    row = fg.row(student)
    row.wait_for(timeout=30_000)
    assert "needs autograding" in row.inner_text(), row.inner_text()
    result = fg.press_and_confirm(row.locator("td.autograde a"), timeout_s=600)
    fg.screenshot("09-formgrader-autograded")
    fg.close_dialog()
    return result


def instructor_reads_the_mark_scheme(page, hub, course: Path, facts: dict) -> None:
    """In JupyterLab, which shows the instructor's home only: the lesson's solution through the
    course folder's ``solutions/`` link (``python -m hub setup`` makes it)."""
    link = course / "solutions"
    assert link.is_symlink() and link.resolve() == REPO_ROOT / "solutions", \
        f"{link} should link to the checkout's solutions/ (python -m hub setup)"
    path = (link / LESSON / f"{LESSON}.ipynb").relative_to(hub.home(INSTRUCTOR))
    page.goto(f"{hub.url}/user/{INSTRUCTOR}/lab/tree/{path}")
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=120_000)
    lab = Lab(page, None, CLASS_ARTIFACTS)
    lab.wait_for_cells(facts["solution_cells"])
    lab.scroll_to(facts["scheme_cell"])
    text = wait_for(lambda: lab.cells().nth(facts["scheme_cell"]).inner_text(), "the reflection cell shown")
    lab.screenshot("10-mark-scheme-in-the-solution")
    assert "=== BEGIN MARK SCHEME ===" in text, f"no mark scheme in the solution's reflection cell: {text}"
    hub.note(f"browser: {INSTRUCTOR} read the mark scheme")


def instructor_grades_the_reflection(fg: Formgrader, course: Path, answer: str) -> None:
    """Manual Grading > the lesson > its notebook > student 1 (names shown): a score and a comment."""
    fg.link("Manual Grading").click()
    fg.frame.locator(f"a[href$='/formgrader/gradebook/{LESSON}']").click()
    fg.frame.locator(f"a[href$='/formgrader/gradebook/{LESSON}/{LESSON}']").click()  # its notebook
    wait_for(lambda: fg.frame.locator("a.name-hidden").count() == len(STUDENTS), "every submission listed")
    fg.frame.locator("#toggle_names").click()
    fg.frame.locator("a.name-shown", has_text=FULL).click()
    score = fg.frame.locator(f"input.score#{REFLECTION}")
    score.wait_for(timeout=60_000)
    fg.wait_for_grading_page()
    score.scroll_into_view_if_needed()
    cell = fg.frame.locator(".nbgrader_cell", has=score).inner_text()
    assert answer in cell, f"not student 1's reflection: {cell}"
    score.fill(str(MANUAL_SCORE))
    score.press("Tab")  # the formgrader saves a score when the field loses focus
    comment = fg.frame.locator(f"textarea#{REFLECTION}-comment")
    comment.fill(MANUAL_COMMENT)
    comment.press("Tab")
    wait_for(lambda: gradebook_grades(course, FULL).get(REFLECTION) == (None, float(MANUAL_SCORE)),
             "the reflection's score saved in the gradebook")
    wait_for(lambda: gradebook_comment(course, FULL, REFLECTION) == MANUAL_COMMENT,
             "the comment saved in the gradebook")
    fg.screenshot("11-formgrader-reflection-graded")
