"""``python -m kerascourse.lab``: open JupyterLab for the course (``make lab``, ``make instructor``).

Students (the default) get the student notebooks (``notebooks/``) with nbgrader's student
extensions only: the Validate button on every notebook and the assignment list. The instructor-only
extensions (formgrader, course list, the "Create Assignment" cell toolbar) are switched off for
them. ``--instructor`` opens the repository root with every nbgrader extension, and the formgrader
reads the course's own nbgrader configuration (``grader/config.py``).

Both views take their Jupyter settings from a folder of the repository, put first on
``JUPYTER_CONFIG_PATH`` for this launch only (nothing is installed into the environment):

- ``jupyter/student/``: ``labconfig/page_config.json`` (lab plugins switched off),
  ``jupyter_server_config.json`` (server extensions switched off) and ``nbgrader_config.py``
  (what the Validate button runs with: the course's per-cell timeout);
- ``jupyter/instructor/``: ``nbgrader_config.py`` (the course settings for the formgrader).

``--course-dir`` (instructors) grades in another course folder than ``grading/``, and
``--exchange`` uses another nbgrader exchange than ``grading/exchange/``: they reach
``jupyter/instructor/nbgrader_config.py`` as ``KERAS_COURSE_DIR`` and ``KERAS_COURSE_EXCHANGE``,
the variables the class hub sets (``hub/settings.py``). The course folder must lie inside the
folder JupyterLab serves, or the formgrader refuses to work.

Extra arguments go to ``jupyter lab`` (e.g. ``--no-browser``, ``--port=8899``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from kerascourse.paths import REPO_ROOT, course_env

JUPYTER_CONFIG_ROOT = REPO_ROOT / "jupyter"
STUDENT_ROOT = REPO_ROOT / "notebooks"
# Read by jupyter/instructor/nbgrader_config.py (and, on the hub, hub/jupyter/nbgrader_config.py).
COURSE_DIR_VAR = "KERAS_COURSE_DIR"
EXCHANGE_VAR = "KERAS_COURSE_EXCHANGE"


def config_dir(instructor: bool) -> Path:
    """The repository folder holding the Jupyter settings of one view."""
    return JUPYTER_CONFIG_ROOT / ("instructor" if instructor else "student")


def lab_env(instructor: bool, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment JupyterLab runs with.

    - the view's settings folder first on ``JUPYTER_CONFIG_PATH`` (it wins over the environment's
      and the user's own settings, which stay in effect for everything it does not set);
    - the course variables (data caches, deterministic threads, quiet TensorFlow): the kernels get
      them from their kernel spec anyway, and the server runs nbgrader's Validate itself;
    - the environment's ``bin/`` on ``PATH``: nbgrader shells out to ``alembic`` there.
    """
    env = course_env(environ)
    paths = [str(config_dir(instructor))]
    if env.get("JUPYTER_CONFIG_PATH"):
        paths.append(env["JUPYTER_CONFIG_PATH"])
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    return env


def lab_command(instructor: bool, extra: Sequence[str], root: Path | None = None) -> list[str]:
    """The ``jupyter lab`` command line; ``root`` is the folder it serves (default: per view)."""
    if root is None:
        root = REPO_ROOT if instructor else STUDENT_ROOT
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={Path(root).resolve()}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers often run as root; Jupyter refuses it otherwise
    return [*cmd, *extra]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kerascourse.lab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instructor", action="store_true",
                        help="open the instructor view (formgrader, create assignment)")
    parser.add_argument("--root", type=Path, default=None,
                        help="serve this folder instead of the view's default (the browser test "
                             "serves a scratch copy of a lesson)")
    parser.add_argument("--course-dir", type=Path, default=None,
                        help="instructors: the course folder the formgrader grades in (default: "
                             "grading/); it must lie inside the served folder")
    parser.add_argument("--exchange", type=Path, default=None,
                        help="instructors: the nbgrader exchange for releasing feedback "
                             "(default: grading/exchange/)")
    args, extra = parser.parse_known_args(argv)
    if (args.course_dir or args.exchange) and not args.instructor:
        parser.error("--course-dir and --exchange are for the instructor view (--instructor)")
    cmd = lab_command(args.instructor, extra, args.root)
    env = lab_env(args.instructor)
    if args.course_dir is not None:
        env[COURSE_DIR_VAR] = str(args.course_dir.resolve())
    if args.exchange is not None:
        env[EXCHANGE_VAR] = str(args.exchange.resolve())
    os.execve(cmd[0], cmd, env)


if __name__ == "__main__":
    main()
