"""Feedback step 1: cut every test cell back to what the student received, before anything runs.

The autograded notebook's test cells hold the hidden tests (nbgrader restored them from the
gradebook to grade). Feedback is built from a fresh run of the notebook with those cells as
released, so no hidden line is ever sent to a kernel the student's code runs in, and none can
reach the page by any output, message or history trick. What the graded run concluded is kept
as one fixed word per cell (``grader_verdict``), never as text the kernel produced.
"""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from grader.cells import hidden_lines, is_test_cell, released_source
from grader.preprocessors.guarded_execute import TAMPERING

HIDDEN_NOTE = "# (hidden tests run here when your notebook is graded; they are not shown)"


class StripHiddenTests(NbGraderPreprocessor):
    """Replace each test cell's source by its released (visible) part."""

    def preprocess_cell(self, cell, resources, index):
        if not is_test_cell(cell):
            return cell, resources
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        verdict = "tampering" if any(o.get("ename") == TAMPERING for o in errors) else (
            "failed" if errors else "passed")
        cell.metadata.setdefault("grader", {})["verdict"] = verdict
        visible = released_source(cell.source).rstrip("\n")
        if hidden_lines(cell.source):
            visible = f"{visible}\n{HIDDEN_NOTE}"
        cell.source = visible
        return cell, resources
