"""Autograde's last step: the autograded notebook holds nothing that a browser would run.

The formgrader's manual grading page renders the autograded notebook with nbgrader's template and
no sanitizer, in the instructor's Jupyter session: a student's ``display(HTML("<script>..."))``,
``<img onerror=...>`` in a reflection or a raw cell marked as HTML would run there with the
instructor's rights (checked before this step existed: all of them reached the page). The
grades are saved before this step (``SaveAutoGrades``), so it changes what is shown, never a score.
"""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from grader.inert import inert_attachments, inert_markdown, inert_outputs
from grader.limits import COURSE_LIMITS

NOT_SHOWN = "[output not kept by the grader: only text, PNG and JPEG images are]"


class InertNotebook(NbGraderPreprocessor):
    """Allow-list outputs and attachments, break markup in markdown, unformat raw cells."""

    output_chars = Integer(COURSE_LIMITS.output_chars).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.outputs = inert_outputs(cell.get("outputs", []), self.output_chars, NOT_SHOWN)
        elif cell.cell_type == "markdown":
            cell.source = inert_markdown(cell.source)
            if isinstance(cell.get("attachments"), dict):
                cell.attachments = inert_attachments(cell.attachments)
        elif cell.cell_type == "raw":
            for key in ("format", "raw_mimetype"):
                cell.get("metadata", {}).pop(key, None)
        return cell, resources
