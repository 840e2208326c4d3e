"""Feedback step 5: keep only what is safe to render, and say what the scores mean.

The page is HTML that a student's browser (or an instructor's, in the formgrader) opens, and
everything in it came from a notebook the student wrote. Outputs and markdown attachments keep
what :mod:`grader.inert` allows (text, PNG and JPEG images, errors, each capped; the HTML
exporter also sanitizes markdown, and the page forbids scripts). A test cell that lost points
without a visible error gets one line saying a hidden test failed; one whose graded run showed
tampering says so, in fixed words.
"""

from __future__ import annotations

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from grader.cells import is_test_cell, nbgrader_meta
from grader.inert import inert_attachments, inert_outputs
from grader.limits import COURSE_LIMITS

NOT_SHOWN = "[output not shown in feedback]"
HIDDEN_FAILED = "a hidden test failed (its source and message are not shown)"
TAMPERED = ("the grader found the kernel's machinery changed around this test "
            "(tampering suspected): scored 0")


class SafeFeedback(NbGraderPreprocessor):
    """Allow-list outputs and attachments; explain lost points on test cells."""

    output_chars = Integer(COURSE_LIMITS.output_chars).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown" and isinstance(cell.get("attachments"), dict):
            cell.attachments = inert_attachments(cell.attachments)
        if cell.cell_type != "code":
            return cell, resources
        cell.outputs = inert_outputs(cell.get("outputs", []), self.output_chars, NOT_SHOWN)
        if is_test_cell(cell):
            self._explain(cell)
        return cell, resources

    @staticmethod
    def _explain(cell) -> None:
        meta = nbgrader_meta(cell)
        verdict = cell.get("metadata", {}).get("grader", {}).get("verdict")
        score, points = meta.get("score"), meta.get("points")
        lost = score is not None and points is not None and float(score) < float(points)
        shown = any(o.output_type == "error" for o in cell.outputs)
        if verdict == "tampering":
            cell.outputs.append(new_output("error", ename="TamperingSuspected", evalue=TAMPERED,
                                           traceback=[f"TamperingSuspected: {TAMPERED}"]))
        elif lost and not shown:
            cell.outputs.append(new_output("error", ename="HiddenTestFailed", evalue=HIDDEN_FAILED,
                                           traceback=[f"HiddenTestFailed: {HIDDEN_FAILED}"]))
