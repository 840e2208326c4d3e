"""nbgrader settings for the student's JupyterLab (``make lab``): Validate and the assignment list.

The Validate button runs ``nbgrader validate`` inside the Jupyter server, which reads this file
because ``kerascourse.lab`` puts this folder first on ``JUPYTER_CONFIG_PATH``. nbgrader's default
per-cell limit (30 s) is too tight for a training cell on a busy laptop; use the course's.

The assignment list needs an exchange, or it shows an error. Alone with ``make lab`` there is no
class hub, so the exchange is a local folder, ``grading/exchange/`` (git-ignored, made here on
first use): the list is empty, not an error, and an instructor can rehearse the round trip on one
machine (``nbgrader release_assignment`` with ``--Exchange.root`` pointing there, then Fetch).
On the class's JupyterHub, ``hub/jupyter/`` comes first on the path and its exchange wins.
"""

from grader.config import CELL_TIMEOUT_S, COURSE_ID, GRADING_DIR

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
c.CourseDirectory.course_id = COURSE_ID
c.Execute.timeout = CELL_TIMEOUT_S

LOCAL_EXCHANGE = GRADING_DIR / "exchange"
c.Exchange.root = str(LOCAL_EXCHANGE)
try:
    LOCAL_EXCHANGE.mkdir(parents=True, exist_ok=True)
except OSError:  # a checkout this user may not write (on the hub, whose exchange is used instead)
    pass
