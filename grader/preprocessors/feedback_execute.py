"""Feedback step 3: run the notebook again, in the sandbox, with only the visible tests.

The same kernel, sandbox and output caps as grading (:class:`SandboxedExecute`), without the guard
and without verdicts: nothing is scored here, the run only produces what the student sees next to
the scores. It is not a subclass of :class:`GuardedExecute`, so no autograde setting applies here.
"""

from __future__ import annotations

from grader.preprocessors.sandboxed_execute import SandboxedExecute


class FeedbackExecute(SandboxedExecute):
    """Execute for feedback pages: sandboxed, capped, no guard, no verdicts."""

    guard_kernel = False
