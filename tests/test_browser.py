"""The student's JupyterLab, driven end to end in a real headless Chromium.

JupyterLab starts exactly as ``make lab`` starts it (``python -m kerascourse.lab``), serving a
scratch copy of lesson 01's student notebook (the committed ``notebooks/`` is never touched). The
test then does what a student does and checks what a student sees:

1. the student view: nbgrader's Validate button and assignment list, none of the instructor-only
   extensions (formgrader, course list, create assignment);
2. a readable lesson: the title, learning goals before any code, a locked set-up cell, exercise
   headings with points;
3. every answer typed in (from the solution notebook), Run All: no cell shows an error and the
   plots render inline; Validate says the notebook passes;
4. a training cell added at the end: Keras' progress bar is one updating line per epoch;
5. instant feedback: a typical wrong answer makes the visible test cell say what is wrong, the
   right answer makes it pass; with the exercise left unanswered again, Validate fails and names
   that exercise's test, and only that one.

Screenshots of each step go to ``artifacts/browser/`` (git-ignored).
"""

from __future__ import annotations

import re
import shutil
import time

import pytest
from helpers import read_nb, solution_path, student_path
from jupyterlab_driver import CHROMIUM, Lab, chromium_page, running_lab

from grader.conventions import EXERCISE_HEADING
from grader.variants import answer_text, grade_id, load_variants
from kerascourse.paths import REPO_ROOT

pytestmark = pytest.mark.browser

LESSON = "01-sequential-models"
SHOTS = REPO_ROOT / "artifacts" / "browser"
UNANSWERED = "ex2"  # the exercise the second round leaves unanswered
SUCCESS = "Success! Your notebook passes all the tests."
# Typed into a new cell after the lesson: Keras' progress bar must render as one line per epoch.
TRAINING_CELL = """\
model_mc.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model_mc.fit(x_train[:2000] / 255, y_train[:2000], epochs=2, batch_size=50, verbose=1)"""


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _first_line(source: str) -> str:
    return source.strip().splitlines()[0].strip()


def test_student_solves_a_lesson_in_jupyterlab(tmp_path, record_property):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make data` installs Debian's chromium when it can "
                    "(root or sudo); otherwise run `sudo apt-get install chromium`")
    started = time.perf_counter()
    committed = student_path(LESSON).read_bytes()
    student, solution = read_nb(student_path(LESSON)), read_nb(solution_path(LESSON))
    by_id = {grade_id(c): i for i, c in enumerate(student.cells) if grade_id(c)}
    answers = {by_id[grade_id(c)]: answer_text(c) for c in solution.cells if _nbgrader(c).get("solution")}
    test_cells = {gid: i for gid, i in by_id.items()
                  if _nbgrader(student.cells[i]).get("grade") and student.cells[i].cell_type == "code"}
    headings = [m for c in student.cells if c.cell_type == "markdown"
                for m in EXERCISE_HEADING.finditer(c.source)]
    ex_answer, ex_tests = by_id[f"{UNANSWERED}-answer"], by_id[f"{UNANSWERED}-tests"]
    mistake = next(v for v in load_variants(LESSON)
                   if v.cell == f"{UNANSWERED}-answer" and not v.correct)

    root = tmp_path / "lab"
    (root / LESSON).mkdir(parents=True)
    notebook = root / LESSON / f"{LESSON}.ipynb"
    shutil.copy(student_path(LESSON), notebook)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("[0-9]*.png"):  # this test's own screenshots (the explorer's are its own)
        old.unlink()

    with running_lab(root, tmp_path) as server, chromium_page(tmp_path / "chromium") as page:
        # 1. the student view: student extensions on, instructor-only ones off (server side too)
        assert server.status("formgrader") == 404, "the formgrader must be off for students"
        lab = Lab(page, server, SHOTS)
        lab.open(f"{LESSON}/{LESSON}.ipynb")
        lab.wait_for_cells(len(student.cells))
        assert lab.panel.locator(".validate-button").is_visible(), "no Validate button"
        lab.open_menu("Nbgrader")
        items = lab.menu_items()
        lab.screenshot("01-nbgrader-menu")
        page.keyboard.press("Escape")
        assert "Assignment List" in items, items
        assert not {"Formgrader", "Course List", "Create assignment"} & set(items), items
        assert page.locator("#nbgrader-create_assignemnt").count() == 0, "Create Assignment panel shown"

        # 2. a readable lesson
        first_code = next(i for i, c in enumerate(student.cells) if c.cell_type == "code")
        assert lab.cells().nth(0).locator("h1").inner_text().startswith("Lesson 01")
        goals = [i for i, c in enumerate(student.cells)
                 if re.search(r"^## Learning goals", c.source, re.MULTILINE)]
        assert goals and goals[0] < first_code, "learning goals must come before any code"
        assert "Learning goals¶" in lab.cells().nth(goals[0]).locator("h2").all_text_contents()
        assert lab.is_read_only(by_id["setup"]), "the set-up cell must be locked (read-only)"
        shown = [h.strip().rstrip("¶").strip() for h in lab.cells().locator("h3").all_text_contents()
                 if h.startswith("Exercise")]
        assert len(shown) == len(headings) >= 3, shown
        assert all(re.search(r"\(\d+ points?\)$", h) for h in shown), shown
        lab.screenshot("02-lesson-opened")

        # 3. every answer typed in, Run All, no errors, plots inline, Validate passes
        for index, text in answers.items():
            lab.type_into(index, text)
        lab.run_all()
        lab.wait_idle(timeout_s=420)
        errors = lab.error_cells()
        assert not errors, f"cells show errors after Run All: {errors}"
        code_cells = [i for i, c in enumerate(student.cells) if c.cell_type == "code"]
        not_run = [i for i in code_cells if not re.fullmatch(r"\[\d+\]:", lab.prompt(i))]
        assert not not_run, f"cells not executed by Run All: {not_run}"
        plots = [i for i in code_cells if lab.cells().nth(i).locator(".jp-RenderedImage img").count()]
        assert plots, "no plot rendered inline"
        lab.scroll_to(plots[0])
        lab.screenshot("03-plot-inline")
        lab.scroll_to(test_cells["ex3-tests"])
        lab.screenshot("04-all-answered-and-run")
        result = lab.validate()
        lab.screenshot("05-validate-success")
        lab.close_dialog()
        assert SUCCESS in result, result
        saved = read_nb(notebook)  # Validate saved the notebook first: the file agrees
        assert not [o for c in saved.cells if c.cell_type == "code" for o in c.outputs
                    if o.output_type == "error"], "the saved notebook holds error outputs"

        # 4. Keras' progress bar: one updating line per epoch
        last = len(student.cells) - 1
        lab.add_cell_below(last, TRAINING_CELL)
        lab.run_cell(last + 1)
        lab.wait_idle(timeout_s=300)
        out = lab.outputs_text(last + 1)
        lab.screenshot("06-progress-bar")
        lines = [line for line in out.splitlines() if line.strip()]
        assert [line for line in lines if line.startswith("Epoch")] == ["Epoch 1/2", "Epoch 2/2"], out
        bars = [line for line in lines if re.match(r"\s*40/40 ", line)]
        assert len(bars) == 2 and len(lines) == 4, f"progress bar not one line per epoch:\n{out}"
        assert not re.search(r"[\b\r]|\d+/40 .*\d+/40 ", out), f"progress bar redrawn as text:\n{out}"

        # 5. instant feedback, then Validate with the exercise unanswered
        lab.type_into(ex_answer, mistake.source.strip())
        lab.run_cell(ex_answer)
        lab.run_cell(ex_tests)
        lab.wait_idle()
        feedback = lab.outputs_text(ex_tests)
        lab.screenshot("07-feedback-wrong-answer")
        assert "AssertionError" in feedback and "plus one bias per unit" in feedback, feedback

        lab.type_into(ex_answer, answers[ex_answer])
        lab.run_cell(ex_answer)
        lab.run_cell(ex_tests)
        lab.wait_idle()
        lab.screenshot("08-feedback-right-answer")
        assert not lab.error_cells(), lab.error_cells()
        assert re.fullmatch(r"\[\d+\]:", lab.prompt(ex_tests)), "the test cell did not run"

        lab.type_into(ex_answer, student.cells[ex_answer].source)  # back to the unanswered cell
        lab.run_cell(ex_answer)
        lab.wait_idle()
        assert "NotImplementedError" in lab.outputs_text(ex_answer)
        result = lab.validate()
        lab.screenshot("09-validate-names-the-unanswered-exercise")
        lab.close_dialog()
        assert SUCCESS not in result, result
        assert result.count("The following cell failed:") == 1, result
        assert _first_line(student.cells[ex_tests].source) in result, result
        assert "NotImplementedError" in result, result
        others = [_first_line(student.cells[i].source) for gid, i in test_cells.items()
                  if gid != f"{UNANSWERED}-tests"]
        assert not [line for line in others if line in result], result

    assert student_path(LESSON).read_bytes() == committed, "the committed student notebook changed"
    record_property("seconds:browser test (JupyterLab + Chromium, lesson 01)",
                    time.perf_counter() - started)
