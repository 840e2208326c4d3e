"""nbgrader settings for the instructor's JupyterLab (``make instructor``): the course's own.

The formgrader, Validate and "Create Assignment" read this file because ``kerascourse.lab
--instructor`` puts this folder first on ``JUPYTER_CONFIG_PATH``: the course root is ``grading/``
(git-ignored), lessons come from ``solutions/`` and are released to ``notebooks/``. The settings
themselves live in ``grader/config.py``.
"""

from grader.config import apply_to, nbgrader_settings

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
apply_to(c, nbgrader_settings())
