"""The course's nbgrader preprocessors, one transformation per file (as in nbgrader's own).

They are configured into nbgrader's pipelines by :func:`grader.config.nbgrader_settings`, so
``grader autograde``, ``grader feedback``, a by-hand ``nbgrader autograde`` and the formgrader's
buttons all run the same steps:

- autograde: :class:`GuardedExecute` replaces nbgrader's ``Execute``; :class:`InertNotebook`
  comes last (the formgrader renders the autograded notebook);
- feedback: :class:`StripHiddenTests`, ``ClearOutput``, :class:`FeedbackExecute` (a fresh run that
  never sees a hidden test), ``GetGrades``, then :class:`SafeFeedback`.
"""

from grader.preprocessors.feedback_execute import FeedbackExecute
from grader.preprocessors.guarded_execute import GuardedExecute
from grader.preprocessors.inert_notebook import InertNotebook
from grader.preprocessors.safe_feedback import SafeFeedback
from grader.preprocessors.strip_hidden_tests import StripHiddenTests

__all__ = ["FeedbackExecute", "GuardedExecute", "InertNotebook", "SafeFeedback", "StripHiddenTests"]
