"""nbgrader settings on the hub: the shared exchange, and the course folder for instructors.

Every user's JupyterLab on the hub has this folder first on ``JUPYTER_CONFIG_PATH``, in front of
the course's ``jupyter/student/`` or ``jupyter/instructor/`` (see ``hub/settings.py``), so these
settings win over theirs and everything else (the Validate timeout, the course id, the lessons'
folders) comes from the course as in ``make lab``. The values arrive as environment variables set
by the hub for each user, so a terminal in JupyterLab (``nbgrader fetch_assignment``,
``grader autograde``) sees the same.
"""

import os
from pathlib import Path

from grader.config import COURSE_ID, apply_to, nbgrader_settings

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
c.CourseDirectory.course_id = COURSE_ID

exchange = os.environ.get("KERAS_COURSE_EXCHANGE")  # hub.settings.EXCHANGE_VAR
if exchange:
    c.Exchange.root = exchange
    # One course per hub: students fetch into ~/01-sequential-models, not ~/keras-course/01-...
    c.Exchange.path_includes_course = False

course_dir = os.environ.get("KERAS_COURSE_DIR")  # hub.settings.COURSE_DIR_VAR; instructors only
if course_dir:
    # gradebook, submitted/, autograded/, feedback/ in the instructor's private course folder;
    # lessons still come from the checkout (solutions/ and the released notebooks/)
    apply_to(c, nbgrader_settings(Path(course_dir)))
