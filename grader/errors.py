"""The one exception for a slip at the command line.

A wrong lesson name, a missing export, nothing to grade yet, a limit out of range: the person
typing can fix each from one line that says what is wrong and what to do. ``grader``'s ``main``
prints a :class:`UsageError` as ``grader: <message>`` and exits with 2, without a traceback;
every other exception is a bug of the grader and keeps its traceback.
"""


class UsageError(Exception):
    """A slip of the person at the command line; the message names the problem and the fix."""
