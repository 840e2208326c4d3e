"""nbgrader settings for the student's JupyterLab (``make lab``): what the Validate button runs with.

The Validate button runs ``nbgrader validate`` inside the Jupyter server, which reads this file
because ``kerascourse.lab`` puts this folder first on ``JUPYTER_CONFIG_PATH``. nbgrader's default
per-cell limit (30 s) is too tight for a training cell on a busy laptop; use the course's.
"""

from grader.config import CELL_TIMEOUT_S, COURSE_ID

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
c.CourseDirectory.course_id = COURSE_ID
c.Execute.timeout = CELL_TIMEOUT_S
