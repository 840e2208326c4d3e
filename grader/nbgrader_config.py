"""nbgrader configuration for instructors running nbgrader by hand.

    cd grader && nbgrader generate_assignment 01-sequential-models   # or: nbgrader formgrader

The course root is ``grading/`` (git-ignored: gradebook, submissions, feedback); lessons are read
from ``solutions/`` and released to ``notebooks/``. The settings themselves live in
``grader/config.py``, shared with the course's commands and tests.
"""

from grader.config import apply_to, nbgrader_settings

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
apply_to(c, nbgrader_settings())
