"""Feedback step 5: keep only what is safe to render, and say what the scores mean.

The page is HTML that a student's browser (or an instructor's, in the formgrader) opens, and
everything in it came from a notebook the student wrote. Outputs keep only plain text, PNG or
JPEG images (checked to be base64) and errors, each capped; HTML, JavaScript, SVG, LaTeX and
widget views are dropped; markdown attachments other than images are dropped (the HTML exporter
also sanitizes markdown, and the page forbids scripts). A test cell that lost points without a
visible error gets one line saying a hidden test failed; one whose graded run showed tampering
says so, in fixed words.
"""

from __future__ import annotations

import re

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from grader.cells import is_test_cell, nbgrader_meta
from grader.limits import COURSE_LIMITS
from grader.output_caps import cap_output

_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
_SAFE_IMAGES = ("image/png", "image/jpeg")
HIDDEN_FAILED = "a hidden test failed (its source and message are not shown)"
TAMPERED = ("the grader found the kernel's machinery changed around this test "
            "(tampering suspected): scored 0")


def _safe_data(data: dict) -> dict:
    kept = {}
    text = data.get("text/plain")
    if isinstance(text, str):
        kept["text/plain"] = text
    for mime in _SAFE_IMAGES:
        value = data.get(mime)
        if isinstance(value, str) and _BASE64.match(value):
            kept[mime] = value
    return kept or {"text/plain": "[output not shown in feedback]"}


class SafeFeedback(NbGraderPreprocessor):
    """Allow-list outputs and attachments; explain lost points on test cells."""

    output_chars = Integer(COURSE_LIMITS.output_chars).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown" and isinstance(cell.get("attachments"), dict):
            cell.attachments = {name: {m: v for m, v in item.items() if m in _SAFE_IMAGES
                                       and isinstance(v, str) and _BASE64.match(v)}
                                for name, item in cell.attachments.items() if isinstance(item, dict)}
        if cell.cell_type != "code":
            return cell, resources
        outputs = []
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind in ("display_data", "execute_result"):
                output["data"] = _safe_data(output.get("data") or {})
                output["metadata"] = {}
            elif kind not in ("stream", "error"):
                continue
            cap_output(output, self.output_chars)
            outputs.append(output)
        cell.outputs = outputs
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
