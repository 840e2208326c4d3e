"""An interactive explorer in the student's JupyterLab, driven in a real headless Chromium.

JupyterLab starts exactly as ``make lab`` starts it (``python -m kerascourse.lab``: the student
view, with nothing installed beyond the pinned packages), serving a scratch copy of lesson 03's
student notebook (the committed ``notebooks/`` is never touched). The test runs the locked set-up
cell and the lesson's explorer cell, and checks what a student sees:

1. the widget renders (ipywidgets 8 through the ``jupyterlab_widgets`` extension that ipywidgets
   installs: no "Loading widget...", no "Error displaying widget"): controls, caption and figure;
2. moving the learning-rate slider with the keyboard redraws the figure: the image's pixels and
   the caption change, and the slider shows the new value; the time from the key press to the new
   caption is recorded.

Screenshots before and after the move go to ``artifacts/browser/explorer-*.png`` (git-ignored).
"""

from __future__ import annotations

import time

import nbformat
import pytest
from jupyterlab_driver import CHROMIUM, Lab, chromium_page, running_lab

from grader.cells import grade_id
from kerascourse.explorer_grids import grid_status
from kerascourse.paths import REPO_ROOT

pytestmark = pytest.mark.browser

LESSON = "03-training-with-fit"
SHOTS = REPO_ROOT / "artifacts" / "browser"
GONE_WRONG = ("Loading widget", "Error displaying widget", "could not draw", "not available")


def _scratch_lesson(root):
    """A copy of lesson 03's student notebook under ``root``; the set-up and explorer cells' indices."""
    student = REPO_ROOT / "notebooks" / LESSON / f"{LESSON}.ipynb"
    nb = nbformat.read(student, as_version=4)
    (root / LESSON).mkdir(parents=True)
    nbformat.write(nb, root / LESSON / f"{LESSON}.ipynb")
    setup = next(i for i, c in enumerate(nb.cells) if grade_id(c) == "setup")
    explorer = next(i for i, c in enumerate(nb.cells)
                    if c.cell_type == "code" and c.source.strip().endswith("learning_rate_explorer()"))
    return len(nb.cells), setup, explorer


def test_moving_a_slider_redraws_the_explorer(tmp_path, record_property):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make data` installs Debian's chromium when it can")
    assert grid_status("learning_rate_batch_size").ready, "run `make data` to build the explorer's runs"
    started = time.perf_counter()
    root = tmp_path / "lab"
    count, setup_index, cell_index = _scratch_lesson(root)
    SHOTS.mkdir(parents=True, exist_ok=True)

    with running_lab(root, tmp_path) as server, chromium_page(tmp_path / "chromium") as page:
        lab = Lab(page, server, SHOTS)
        lab.open(f"{LESSON}/{LESSON}.ipynb")
        lab.wait_for_cells(count)
        lab.run_cell(setup_index)
        lab.wait_idle(timeout_s=120)
        lab.run_cell(cell_index)
        cell = lab.cells().nth(cell_index)
        explorer = cell.locator(".kerascourse-explorer")
        explorer.wait_for(timeout=120_000)
        lab.wait_idle(timeout_s=120)

        # 1. rendered: controls, caption, figure
        image = explorer.locator("img")
        image.wait_for(timeout=30_000)
        page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                               arg=image.element_handle(), polling=100, timeout=30_000)
        text = cell.locator(".jp-OutputArea").inner_text()
        assert not [w for w in GONE_WRONG if w in text], text
        assert not lab.error_cells(), lab.error_cells()
        slider = explorer.locator(".widget-hslider", has_text="learning_rate")
        assert slider.count() == 1, "no learning_rate slider"
        readout = slider.locator(".widget-readout")
        caption = explorer.locator("code")
        assert readout.inner_text().strip() == "0.001" and "learning_rate=0.001" in caption.inner_text()
        explorer.scroll_into_view_if_needed()
        before_pixels = image.screenshot()
        before_caption = caption.inner_text()
        explorer.screenshot(path=str(SHOTS / "explorer-1-before.png"))

        # 2. a student moves the slider one step to the right, with the keyboard
        slider.locator(".noUi-handle").focus()
        moved = time.perf_counter()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(  # the caption's <code> is replaced on update: query it anew
            "([root, old]) => { const c = root.querySelector('code'); return c && c.innerText !== old; }",
            arg=[explorer.element_handle(), before_caption], polling=100, timeout=30_000)
        answered = time.perf_counter() - moved
        page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                               arg=image.element_handle(), polling=100, timeout=30_000)
        lab.wait_idle(timeout_s=60, settle_s=0.5)
        after_pixels = image.screenshot()
        explorer.screenshot(path=str(SHOTS / "explorer-2-after.png"))

        assert readout.inner_text().strip() == "0.003", readout.inner_text()
        assert "learning_rate=0.003" in caption.inner_text(), caption.inner_text()
        assert after_pixels != before_pixels, "the figure did not change after the move"
        assert not lab.error_cells(), lab.error_cells()

    record_property("seconds:browser explorer: slider move to new figure", answered)
    record_property("seconds:browser test (JupyterLab + Chromium, explorer)",
                    time.perf_counter() - started)
