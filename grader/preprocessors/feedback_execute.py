"""Feedback step 3: run the notebook again, in the sandbox, with only the visible tests.

The same kernel, sandbox and output caps as grading (:class:`GuardedExecute`), without the guard:
nothing is scored here, the run only produces what the student sees next to the scores.
"""

from __future__ import annotations

from traitlets import Bool

from grader.preprocessors.guarded_execute import GuardedExecute


class FeedbackExecute(GuardedExecute):
    """Execute for feedback pages: sandboxed, capped, no guard."""

    guard = Bool(False, help="feedback runs score nothing: no guard").tag(config=True)
