"""The instructor's grading day in the formgrader, driven end to end in a real headless Chromium.

JupyterLab starts exactly as ``make instructor`` starts it (``python -m kerascourse.lab
--instructor``: the repository root, every nbgrader extension, the course's settings from
``jupyter/instructor/``), but grading in a scratch course folder (``--course-dir``, under the
git-ignored ``artifacts/browser-instructor/``, removed when the test passes: the formgrader only
works on a course folder inside the served one) with a scratch exchange (``--exchange``).
``grading/`` is never touched. One student, one submission of lesson 01 with a mistake only a
hidden verdict catches:

1. on the command line, as on one machine: the instructor generates and releases the lesson to the
   local exchange; the student fetches it, answers (``hidden-units-from-the-demo`` from
   ``tests/mistakes/``, and a written reflection) and submits;
2. the instructor opens the lesson's solution in JupyterLab and reads the reflection's mark scheme
   (nbgrader's formgrader does not show mark schemes);
3. Nbgrader > Formgrader lists every lesson; Collect brings the submission in;
4. the Autograde button grades it through the course pipeline: the sandboxed ``GuardedExecute``
   computes the lesson's reference first (the scratch course has none) and judges the hidden
   verdicts in the grader (ex1 scores 0, the others full marks, the manual grading page shows why);
5. on the manual grading page the instructor gives the reflection a score and a comment;
6. Generate feedback, Release feedback (the assignment's buttons);
7. the student fetches the feedback (``nbgrader fetch_feedback``, command line) and sees in the
   browser the scores, the comment, and no hidden test;
8. ``grader report`` includes the manual score.

Screenshots go to ``artifacts/browser/`` (``i*.png``; git-ignored).
"""

from __future__ import annotations

import csv
import getpass
import json
import os
import re
import shutil
import time

import nbformat
import pytest
from formgrader_driver import (
    Formgrader,
    gradebook_comment,
    gradebook_grades,
    running_instructor_lab,
    wait_for,
)
from helpers import LESSONS, hidden_test_lines, read_nb, solution_path, squash
from jupyterlab_driver import CHROMIUM, Lab, chromium_page

from grader.cells import grade_id
from grader.cli import main as grader_main
from grader.config import COURSE_ID, nbgrader_settings
from grader.expected import reference_path
from grader.run_nbgrader import run_nbgrader
from grader.variants import build_submission, load_variants
from kerascourse.paths import REPO_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.notebook]

LESSON = "01-sequential-models"
SHOTS = REPO_ROOT / "artifacts" / "browser"
# inside the served root; one per test process, so that two checkouts' runs never share one
COURSE = REPO_ROOT / "artifacts" / "browser-instructor" / f"course-{os.getpid()}"
MISTAKE = "hidden-units-from-the-demo"  # passes the visible asserts; a hidden verdict catches it
REFLECTION = "ex5-reflection"
ANSWER = ("Dense acts on the last axis, so without Flatten it would score each of the 28 rows: "
          "the output would be (None, 28, 10).")
COMMENT = "Right: Flatten makes one 784-vector per image. (marker 7f3a)"
AUTOGRADE_S = 600  # the reference run of the solution, then the submission (each ~40 s when idle)


def test_instructor_grades_a_lesson_in_the_formgrader(tmp_path, record_property):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make data` installs Debian's chromium when it can "
                    "(root or sudo); otherwise run `sudo apt-get install chromium`")
    started = time.perf_counter()
    solution_file = solution_path(LESSON)
    committed_solution = solution_file.read_bytes()
    solution = read_nb(solution_file)
    student = getpass.getuser()  # nbgrader's local exchange knows students by their user name
    exchange, home, cache = tmp_path / "exchange", tmp_path / "student", tmp_path / "cache"
    shutil.rmtree(COURSE, ignore_errors=True)
    for folder in (COURSE, exchange, home, cache):
        folder.mkdir(parents=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("i[0-9]*.png"):  # this test's own screenshots
        old.unlink()

    # 1. release, fetch, answer, submit: nbgrader's commands with the course settings, local exchange
    instructor = {**nbgrader_settings(COURSE, release=COURSE / "release"), "Exchange.root": str(exchange)}
    as_student = {"CourseDirectory.course_id": COURSE_ID, "Exchange.root": str(exchange),
                  "Exchange.cache": str(cache)}
    run_nbgrader("generate_assignment", [LESSON, "--force"], instructor)
    run_nbgrader("release_assignment", [LESSON, "--force"], instructor)
    run_nbgrader("fetch_assignment", [LESSON], as_student, cwd=home)
    mistake = next(v for v in load_variants(LESSON) if v.id == MISTAKE)
    fetched = home / LESSON / f"{LESSON}.ipynb"
    nbformat.write(build_submission(read_nb(fetched), solution,
                                    {mistake.cell: mistake.source, REFLECTION: ANSWER}), fetched)
    run_nbgrader("submit", [LESSON], as_student, cwd=home)
    reference = reference_path(COURSE, LESSON)
    assert not reference.exists(), "the scratch course must start without the lesson's reference"

    with running_instructor_lab(tmp_path, COURSE, exchange) as server, \
            chromium_page(tmp_path / "chromium") as page:
        # 2. the mark scheme, in the lesson's solution (the formgrader shows the submission only)
        lab = Lab(page, server, SHOTS)
        lab.open(solution_file.relative_to(REPO_ROOT).as_posix())
        lab.wait_for_cells(len(solution.cells))
        scheme = next(i for i, c in enumerate(solution.cells) if grade_id(c) == REFLECTION)
        lab.scroll_to(scheme)
        scheme_text = wait_for(lambda: lab.cells().nth(scheme).inner_text(), "the reflection cell shown")
        lab.screenshot("i01-mark-scheme-in-the-solution")
        assert "=== BEGIN MARK SCHEME ===" in scheme_text and "784 numbers" in scheme_text, scheme_text

        # 3. Nbgrader > Formgrader: every lesson listed; Collect
        lab.open_menu("Nbgrader")
        items = lab.menu_items()
        page.keyboard.press("Escape")
        assert {"Formgrader", "Create assignment"} <= set(items), items
        lab.menu("Nbgrader", "Formgrader")
        fg = Formgrader(page, page.frame_locator("iframe[src*='formgrader']"), SHOTS)
        lesson_row = fg.row(LESSON)
        lesson_row.wait_for(timeout=60_000)
        listed = [t.strip() for t in fg.frame.locator("td.name").all_inner_texts()]
        fg.screenshot("i02-formgrader-lists-the-lessons")
        assert listed == LESSONS, listed
        assert lesson_row.locator("td.status").inner_text().strip() == "released"
        result = fg.press_and_confirm(lesson_row.locator("td.collect a"), timeout_s=60)
        fg.screenshot("i03-collected")
        fg.close_dialog()
        assert f"Successfully collected submissions of '{LESSON}'" in result, result

        # 4. Autograde: the reference, then the submission, verdicts judged in the grader
        lesson_row.locator("td.num-submissions a").click()
        submission_row = fg.row(student)
        submission_row.wait_for(timeout=30_000)
        assert "needs autograding" in submission_row.inner_text()
        autograde_started = time.perf_counter()
        result = fg.press_and_confirm(submission_row.locator("td.autograde a"), timeout_s=AUTOGRADE_S)
        autograde_s = time.perf_counter() - autograde_started
        fg.screenshot("i04-autograded")
        fg.close_dialog()
        assert f"Successfully autograded '{LESSON}' for student '{student}'" in result, result
        assert reference.exists(), "the formgrader's autograde did not compute the lesson's reference"
        assert json.loads(reference.read_text())["notebooks"][LESSON], "an empty reference"
        grades = gradebook_grades(COURSE, student)
        assert grades == {"ex1-tests": (0.0, None), "ex2-tests": (2.0, None), "ex3-tests": (2.0, None),
                          "ex4-tests": (2.0, None), REFLECTION: (None, None)}, grades
        wait_for(lambda: "needs manual grading" in submission_row.inner_text(), "status after autograde")

        # 5. Manual grading: the verdict the grader wrote, then the reflection's score and comment
        fg.link("Manual Grading").click()
        fg.frame.locator(f"a[href$='/formgrader/gradebook/{LESSON}']").click()
        fg.frame.locator(f"a[href$='/formgrader/gradebook/{LESSON}/{LESSON}']").click()  # its notebook
        fg.frame.locator("a", has_text="Submission #1").first.click()
        score = fg.frame.locator(f"input.score#{REFLECTION}")
        score.wait_for(timeout=60_000)
        fg.wait_for_grading_page()
        ex1 = fg.frame.locator(".code_cell", has=fg.frame.locator("input.score#ex1-tests"))  # with outputs
        ex1.scroll_into_view_if_needed()
        verdict = ex1.inner_text()
        fg.screenshot("i05-hidden-verdict-in-the-formgrader")
        assert "HiddenCheckFailed" in verdict and "named_units: got [128, 10]" in verdict, verdict
        score.scroll_into_view_if_needed()
        assert ANSWER in fg.frame.locator(".nbgrader_cell", has=score).inner_text()
        score.fill("1")
        score.press("Tab")  # the formgrader saves a score when the field loses focus
        comment = fg.frame.locator(f"textarea#{REFLECTION}-comment")
        comment.fill(COMMENT)
        comment.press("Tab")
        wait_for(lambda: gradebook_grades(COURSE, student)[REFLECTION] == (None, 1.0), "manual score saved")
        wait_for(lambda: gradebook_comment(COURSE, student, REFLECTION) == COMMENT, "comment saved")
        fg.screenshot("i06-reflection-graded")

        # 6. Generate feedback, Release feedback
        fg.link("Manual Grading").click()  # the grading page has a breadcrumb, not the side menu
        fg.link("Manage Assignments").click()
        lesson_row = fg.row(LESSON)
        lesson_row.wait_for(timeout=30_000)
        result = fg.press_and_confirm(lesson_row.locator("td.generate-feedback a"), timeout_s=AUTOGRADE_S)
        fg.screenshot("i07-feedback-generated")
        fg.close_dialog()
        assert f"Successfully generated feedback of '{LESSON}'" in result, result
        result = fg.press_and_confirm(fg.row(LESSON).locator("td.release-feedback a"), timeout_s=60)
        fg.screenshot("i08-feedback-released")
        fg.close_dialog()
        assert f"Successfully released feedback of '{LESSON}'" in result, result

        # 7. the student fetches the feedback and reads it in the browser
        run_nbgrader("fetch_feedback", [LESSON], as_student, cwd=home)
        [feedback] = (home / LESSON / "feedback").glob(f"*/{LESSON}.html")
        assert "Content-Security-Policy" in feedback.read_text(), "not the course's feedback page"
        page.goto(feedback.as_uri())
        shown = page.locator("body").inner_text()
        page.get_by_text(COMMENT).first.scroll_into_view_if_needed()
        lab.screenshot("i09-student-reads-the-feedback")
        assert "Score: 7.0 / 9.0" in shown, "the total (6 autograded + 1 by hand) is not shown"
        assert "Score: 0.0 / 2.0" in shown and "Score: 1.0 / 1.0" in shown
        assert COMMENT in shown and ANSWER in shown
        assert "a hidden test failed" in shown, "ex1 lost its points without saying why"
        leaked = [line for line in hidden_test_lines(LESSON) if squash(line) in squash(shown)]
        assert not leaked, f"hidden tests in the student's feedback: {leaked}"
        assert not re.search(r"BEGIN HIDDEN|HiddenCheckFailed|the solution's differs", shown)

    # 8. grader report includes the manual score
    assert grader_main(["report", LESSON, "--course-dir", str(COURSE)]) == 0
    rows = list(csv.DictReader(open(COURSE / "reports" / f"{LESSON}-scores.csv")))
    assert len(rows) == 1 and rows[0]["student"] == student, rows
    assert rows[0][f"{REFLECTION} (1)"] == "1" and rows[0]["total (9)"] == "7", rows

    assert solution_file.read_bytes() == committed_solution, "opening the solution changed it"
    shutil.rmtree(COURSE, ignore_errors=True)  # kept when the test fails, to look into
    record_property("seconds:formgrader autograde of lesson 01 (reference run + submission)", autograde_s)
    record_property("seconds:browser test (instructor's day in the formgrader, lesson 01)",
                    time.perf_counter() - started)
