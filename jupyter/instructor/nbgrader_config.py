"""nbgrader settings for the instructor's JupyterLab (``make instructor``): the course's own.

The formgrader, Validate and "Create Assignment" read this file because ``kerascourse.lab
--instructor`` puts this folder first on ``JUPYTER_CONFIG_PATH``: the course root is ``grading/``
(git-ignored), lessons come from ``solutions/`` and are released to ``notebooks/``. The settings
themselves live in ``grader/config.py``.

``KERAS_COURSE_DIR`` names another course folder (``kerascourse.lab --course-dir``; the hub sets it
for instructors). The exchange, where the formgrader's "Release feedback" puts feedback and its
"Collect" finds submissions, is the local folder the student's JupyterLab reads,
``grading/exchange/``, unless ``KERAS_COURSE_EXCHANGE`` names another (``--exchange``; on the
hub, ``hub/jupyter/`` sets the class's exchange and wins).

The feedback page's template reaches nbgrader's feedback converter only, not the formgrader's own
pages (see ``grader.config.apply_to``).
"""

import os
from pathlib import Path

from grader.config import GRADING_DIR, apply_to, nbgrader_settings

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
course_dir = os.environ.get("KERAS_COURSE_DIR")  # kerascourse.lab.COURSE_DIR_VAR
apply_to(c, nbgrader_settings(Path(course_dir) if course_dir else GRADING_DIR))

exchange = os.environ.get("KERAS_COURSE_EXCHANGE")  # kerascourse.lab.EXCHANGE_VAR
c.Exchange.root = exchange or str(GRADING_DIR / "exchange")
if not exchange:
    try:
        (GRADING_DIR / "exchange").mkdir(parents=True, exist_ok=True)
    except OSError:  # a checkout this user may not write (on the hub, whose exchange is used instead)
        pass
