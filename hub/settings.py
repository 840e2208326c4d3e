"""One class's hub, described once: who is in it, where the exchange is, where the hub listens.

``python -m hub start`` passes the settings to JupyterHub as ``KERAS_HUB_*`` environment variables
and ``hub/jupyterhub_config.py`` reads them back (:meth:`HubSettings.from_env`), so the command
line, the hub and the tests cannot disagree. On a server without the launcher, set the same
variables (e.g. in the systemd unit) or edit the defaults below.

Every user's JupyterLab gets :func:`singleuser_environment`: the course's ``jupyter/student/`` or
``jupyter/instructor/`` settings (as ``make lab`` / ``make instructor``), with ``hub/jupyter/`` in
front of them for the exchange and, for instructors, the course folder. A terminal in that
JupyterLab inherits it, so ``nbgrader`` and ``grader`` typed there use the same settings.

This module needs only the standard library: a hub that runs from another Python environment
(The Littlest JupyterHub's) can import it. ``tests/test_hub.py`` checks that its two copies of
course facts (``COURSE_ID``, the view folders) agree with ``grader.config`` and ``kerascourse.lab``.
"""

from __future__ import annotations

import os
import pwd
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

COURSE_ID = "keras-course"  # grader.config.COURSE_ID: the exchange's course folder, the course list
HUB_DIR = Path(__file__).resolve().parent
REPO_ROOT = HUB_DIR.parent
HUB_JUPYTER_DIR = HUB_DIR / "jupyter"  # the hub's nbgrader layer, first on JUPYTER_CONFIG_PATH
VIEWS = {False: REPO_ROOT / "jupyter" / "student", True: REPO_ROOT / "jupyter" / "instructor"}
PROXY_COMMAND = HUB_DIR / "node_modules" / ".bin" / "configurable-http-proxy"
# The course environment (jupyterhub-singleuser, nbgrader, grader): the checkout's .venv, else the
# environment running this (conda).
ENV_BIN = REPO_ROOT / ".venv" / "bin" if (REPO_ROOT / ".venv" / "bin").is_dir() else Path(sys.prefix) / "bin"
COURSE_FOLDER_NAME = "keras-course"  # the instructor's course folder, in their home unless set

# Read by hub/jupyter/nbgrader_config.py in every user's server and terminal.
EXCHANGE_VAR = "KERAS_COURSE_EXCHANGE"
COURSE_DIR_VAR = "KERAS_COURSE_DIR"


def _names(text: str) -> tuple[str, ...]:
    return tuple(name for name in (part.strip() for part in text.split(",")) if name)


# HubSettings field -> (environment variable, parser)
_ENV: dict[str, tuple[str, Callable[[str], object]]] = {
    "instructors": ("KERAS_HUB_INSTRUCTORS", _names),
    "students": ("KERAS_HUB_STUDENTS", _names),
    "exchange_root": ("KERAS_HUB_EXCHANGE", Path),
    "course_dir": ("KERAS_HUB_COURSE_DIR", Path),
    "state_dir": ("KERAS_HUB_STATE_DIR", Path),
    "bind_url": ("KERAS_HUB_BIND_URL", str),
    "hub_port": ("KERAS_HUB_PORT", int),
    "proxy_api_port": ("KERAS_HUB_PROXY_API_PORT", int),
    "instructors_group": ("KERAS_HUB_INSTRUCTORS_GROUP", str),
    "users_group": ("KERAS_HUB_USERS_GROUP", str),
}


@dataclass(frozen=True)
class HubSettings:
    """A class on one hub. The defaults are the ``make hub`` demo class and a server's paths."""

    instructors: tuple[str, ...] = ("kc-instructor",)
    students: tuple[str, ...] = ("kc-student1", "kc-student2", "kc-student3")
    # nbgrader's documented place; world-writable with the sticky bit, one folder per course inside
    exchange_root: Path = Path("/srv/nbgrader/exchange")
    # gradebook, submitted/, autograded/, feedback/; private to the instructor. None: ~instructor/keras-course
    course_dir: Path | None = None
    state_dir: Path = HUB_DIR / "state"  # hub database, cookie secret, pid files (root only)
    bind_url: str = "http://127.0.0.1:8000"  # what browsers open (the proxy)
    hub_port: int = 8081  # the hub's own API, on loopback, for the proxy and the users' servers
    proxy_api_port: int = 8001  # the proxy's REST API, on loopback, for the hub
    instructors_group: str = f"{COURSE_ID}-instructors"  # may read the instructor-only files
    users_group: str = f"{COURSE_ID}-users"  # everyone in the class (see provision.allow_traverse)

    # -- environment round trip -------------------------------------------------------------
    def to_env(self) -> dict[str, str]:
        env = {}
        for name, (var, _) in _ENV.items():
            value = getattr(self, name)
            if value is not None:
                env[var] = ",".join(value) if isinstance(value, tuple) else str(value)
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> HubSettings:
        return cls(**{name: parse(environ[var]) for name, (var, parse) in _ENV.items() if var in environ})

    # -- derived ------------------------------------------------------------------------------
    @property
    def users(self) -> tuple[str, ...]:
        return self.instructors + self.students

    def is_instructor(self, username: str) -> bool:
        return username in self.instructors

    def course_folder(self) -> Path:
        """The instructor's course folder (the first instructor's ``~/keras-course`` by default)."""
        if self.course_dir is not None:
            return Path(self.course_dir)
        if not self.instructors:
            raise ValueError("a class needs an instructor (KERAS_HUB_INSTRUCTORS)")
        return Path(pwd.getpwnam(self.instructors[0]).pw_dir) / COURSE_FOLDER_NAME

    def course_exchange(self) -> Path:
        """This course's folder in the exchange: ``outbound/``, ``inbound/``, ``feedback/``."""
        return Path(self.exchange_root) / COURSE_ID


def singleuser_environment(settings: HubSettings, username: str) -> dict[str, str]:
    """The environment of ``username``'s JupyterLab on the hub (and of anything started from it).

    - ``JUPYTER_CONFIG_PATH``: ``hub/jupyter/`` (exchange; course folder for instructors), then the
      course's student or instructor view, exactly the folders ``make lab`` / ``make instructor``
      use; the user's own ``~/.jupyter`` still comes after them;
    - ``PATH``: the course environment first (``jupyterhub-singleuser``, ``nbgrader``, ``grader``
      and the ``alembic`` that nbgrader shells out to), then the system.

    The kernels get the course's variables (data caches, deterministic threads, quiet TensorFlow)
    from the course kernel's spec, as everywhere else (``kerascourse.kernel``).
    """
    instructor = settings.is_instructor(username)
    env = {
        "JUPYTER_CONFIG_PATH": os.pathsep.join([str(HUB_JUPYTER_DIR), str(VIEWS[instructor])]),
        "PATH": os.pathsep.join([str(ENV_BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
        EXCHANGE_VAR: str(settings.exchange_root),
    }
    if instructor:
        env[COURSE_DIR_VAR] = str(settings.course_folder())
    return env


def configure_user_servers(c, settings: HubSettings, spawner: str | None = "localprocess") -> None:
    """JupyterHub settings for the users' servers (``c`` of a ``jupyterhub_config.py``).

    Each user gets their own JupyterLab from the course environment, started as their Unix user
    by the hub's LocalProcessSpawner (nbgrader's exchange tells students apart by Unix user), in
    their home, with :func:`singleuser_environment`. A hub with a spawner of its own that also
    starts each server as its user (The Littlest JupyterHub's systemd one) passes ``spawner=None``.
    """
    if spawner:
        c.JupyterHub.spawner_class = spawner
    c.Spawner.cmd = [str(ENV_BIN / "jupyterhub-singleuser")]
    c.Spawner.default_url = "/lab"
    c.Spawner.notebook_dir = "~"  # students fetch lessons into their home
    # A cold JupyterLab start on a busy 2-core machine takes tens of seconds; do not give up early.
    c.Spawner.start_timeout = 180
    c.Spawner.http_timeout = 180

    def course_environment(spawner) -> None:
        extra = singleuser_environment(settings, spawner.user.name)
        spawner.environment = {**spawner.environment, **extra}

    c.Spawner.pre_spawn_hook = course_environment
