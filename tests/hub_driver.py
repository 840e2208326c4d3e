"""Run a real class on the course's JupyterHub for a test, and take it all down afterwards.

Used by ``tests/test_hub.py``. :func:`running_class` does what an administrator does, with the
course's own commands: ``python -m hub setup`` (Unix accounts for the class, the exchange, the
course folder, the proxy from npm) and ``python -m hub start`` (JupyterHub with
configurable-http-proxy, on free loopback ports). :meth:`HubClass.run_as` runs a command as one of
the class's Unix users with the environment the hub gives that user's JupyterLab, which is what
the user would get typing it into a terminal there. :func:`chromium_contexts` opens one headless
Chromium with a browser context (cookies of its own) per hub user, so that several log in at once.

Everything it changes on the machine is put back on exit, also after a failure: the hub, the proxy
and every process of the class's accounts are stopped, the accounts and groups removed, the
checkout's modes and the ACLs restored, the scratch folder deleted (its logs are copied first).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from jupyterlab_driver import CHROMIUM, CHROMIUM_ARGS, free_port

from kerascourse.paths import REPO_ROOT

if str(REPO_ROOT) not in sys.path:  # the `hub` package lives in the checkout, not in the environment
    sys.path.insert(0, str(REPO_ROOT))

from hub import provision  # noqa: E402
from hub.settings import HubSettings, singleuser_environment  # noqa: E402


@dataclass
class HubClass:
    """A running hub with its class: where it is, how to log in, how to act as a user."""

    settings: HubSettings
    url: str
    passwords: dict[str, str]
    scratch: Path
    log: Path
    process: subprocess.Popen | None = None
    commands: list[str] = field(default_factory=list)  # every run_as, for the failure report
    started: float = field(default_factory=time.perf_counter)

    def home(self, user: str) -> Path:
        return Path(pwd.getpwnam(user).pw_dir)

    def run_as(self, user: str, *cmd: str, check: bool = True, timeout: float = 600,
               cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run ``cmd`` as ``user`` (runuser) in their home, with their JupyterLab's environment."""
        env = {"LANG": "C.UTF-8", **singleuser_environment(self.settings, user)}
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        started = time.perf_counter()
        result = subprocess.run([runuser, "-u", user, "--", *cmd], env=env, cwd=cwd or self.home(user),
                                capture_output=True, text=True, timeout=timeout)
        shown = " ".join(part if len(part) < 80 else part[:40] + "..." for part in cmd)
        self.note(f"{time.perf_counter() - started:5.1f} s  rc={result.returncode}  {user}$ {shown}")
        if check and result.returncode != 0:
            raise AssertionError(f"`{' '.join(cmd)}` as {user} failed ({result.returncode}):\n"
                                 f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def note(self, line: str) -> None:
        """Add a line to the run's record (``commands.txt``), stamped with the seconds since start."""
        self.commands.append(f"[{time.perf_counter() - self.started:6.1f}] {line}")

    def api(self, path: str) -> int:
        try:
            with urllib.request.urlopen(f"{self.url}/hub/api/{path}", timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as err:
            return err.code
        except (urllib.error.URLError, OSError):
            return 0  # not listening (yet)

    def log_tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _settings_args(settings: HubSettings) -> list[str]:
    args = ["--exchange", str(settings.exchange_root), "--state-dir", str(settings.state_dir),
            "--instructors-group", settings.instructors_group, "--users-group", settings.users_group,
            "--bind-url", settings.bind_url, "--hub-port", str(settings.hub_port),
            "--proxy-api-port", str(settings.proxy_api_port)]
    for name in settings.instructors:
        args += ["--instructor", name]
    for name in settings.students:
        args += ["--student", name]
    return args


def _processes_of(uids: set[int]) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids:
                    pids.append(int(entry.name))
            except FileNotFoundError:
                pass
    return pids


def _stop_everything(hub: HubClass) -> None:
    """The hub stops the users' servers and its proxy on SIGTERM; then anything left of the class."""
    process = hub.process
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the proxy runs in the hub's process group
        except (ProcessLookupError, PermissionError):
            pass
        process.wait(timeout=10)
    uids = set()
    for name in hub.settings.users:
        try:
            uids.add(pwd.getpwnam(name).pw_uid)
        except KeyError:
            pass
    deadline = time.monotonic() + 20
    while pids := _processes_of(uids):  # kernels, terminals: only this class's own accounts
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes of the test accounts survive: {pids}")
        time.sleep(0.2)


def _remove_accounts(settings: HubSettings) -> None:
    for name in settings.users:
        if provision.created_here(name):
            provision.remove_user(name)
    for group in (settings.instructors_group, settings.users_group):
        subprocess.run(["groupdel", group], capture_output=True)


def _top_level_modes() -> list[provision.EntryMode]:
    return [provision.EntryMode(p, stat.S_IMODE(p.lstat().st_mode), p.lstat().st_gid)
            for p in REPO_ROOT.iterdir() if not p.is_symlink()]


@contextmanager
def running_class(instructors: tuple[str, ...], students: tuple[str, ...], artifacts: Path,
                  start_timeout: float = 120) -> Iterator[HubClass]:
    """Set up the class's accounts and folders, start the hub; undo all of it on exit."""
    for name in (*instructors, *students):
        if provision.user_exists(name) and not provision.created_here(name):
            raise RuntimeError(f"a Unix account {name} exists and was not made by the course's set-up: "
                               "the hub test will not touch it")
    scratch = Path(tempfile.mkdtemp(prefix="kc-hub-", dir="/tmp"))
    scratch.chmod(0o755)  # the class's accounts live below it
    settings = HubSettings(
        instructors=instructors, students=students, exchange_root=scratch / "exchange",
        state_dir=scratch / "state", bind_url=f"http://127.0.0.1:{free_port()}",
        hub_port=free_port(), proxy_api_port=free_port(),
        instructors_group="kctest-instructors", users_group="kctest-users",
    )
    hub = HubClass(settings, settings.bind_url, {}, scratch, scratch / "jupyterhub.log")
    # a run that was killed may have left its accounts: they are this test's, remove them first
    _stop_everything(hub)
    provision.revoke_traverse(settings.users_group, provision.closed_folders())
    _remove_accounts(settings)
    modes, closed = _top_level_modes(), provision.closed_folders()
    try:
        setup = subprocess.run(
            [sys.executable, "-m", "hub", "setup", "--create-users", "--allow-traverse",
             "--home-base", str(scratch / "home"), *_settings_args(settings)],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
        (scratch / "setup.log").write_text(setup.stdout + setup.stderr)
        if setup.returncode != 0:
            raise RuntimeError(f"python -m hub setup failed:\n{setup.stdout}\n{setup.stderr}")
        hub.passwords = provision.read_passwords(settings.state_dir)
        hub.note("python -m hub setup done")
        with hub.log.open("w") as log:
            hub.process = subprocess.Popen(
                [sys.executable, "-m", "hub", "start", *_settings_args(settings)], cwd=REPO_ROOT,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + start_timeout
        while hub.api("") != 200:
            if hub.process.poll() is not None:
                raise RuntimeError(f"JupyterHub exited with {hub.process.returncode}:\n{hub.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterHub did not answer in {start_timeout:.0f} s:\n{hub.log_tail()}")
            time.sleep(0.5)
        hub.note(f"JupyterHub answers at {hub.url}")
        yield hub
    finally:
        try:
            _stop_everything(hub)
        finally:
            artifacts.mkdir(parents=True, exist_ok=True)
            for name in ("jupyterhub.log", "setup.log"):
                if (scratch / name).exists():
                    shutil.copy(scratch / name, artifacts / name)
            (artifacts / "commands.txt").write_text("\n".join(hub.commands) + "\n")
            course = scratch / "home" / instructors[0] / "keras-course"
            if course.is_dir():  # submissions, autograded notebooks, gradebook, reports: to debug a failure
                shutil.copytree(course, artifacts / "course", ignore=_not_course_work(course),
                                dirs_exist_ok=True)
            provision.revoke_traverse(settings.users_group, closed)  # while the group still exists
            _remove_accounts(settings)
            provision.restore_modes(modes)
            shutil.rmtree(scratch, ignore_errors=True)


def _not_course_work(course: Path) -> Callable[[str, list[str]], set[str]]:
    """What a copy of the course folder leaves out: the grader's scratch and the ``solutions/``
    link (the checkout's own lessons, see ``provision.link_solutions``)."""
    def ignore(folder: str, names: list[str]) -> set[str]:
        left_out = {".grader", "solutions"} if Path(folder) == course else {".grader"}
        return left_out & set(names)
    return ignore


@contextmanager
def chromium_contexts(width: int = 1400, height: int = 1000) -> Iterator[Callable[[], object]]:
    """Headless Debian Chromium; yields ``new_page()``, a page in a new browser context each call
    (its own cookies: each user of the hub logs in in a context of their own)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            yield lambda: browser.new_context(viewport={"width": width, "height": height}).new_page()
        finally:
            browser.close()


# -- what the students and the instructor see --------------------------------------------------
def listing_fails(hub: HubClass, user: str, path: Path) -> bool:
    """Whether ``user`` is refused a listing of ``path`` (the path itself must exist)."""
    assert path.exists(), f"{path} does not exist: the permission check would prove nothing"
    return hub.run_as(user, "ls", str(path), check=False).returncode != 0


def reading_fails(hub: HubClass, user: str, pattern: str) -> bool:
    """Whether ``user`` fails to read files matching a shell ``pattern`` (as an attempt would)."""
    return hub.run_as(user, "sh", "-c", f"cat {pattern} > /dev/null", check=False).returncode != 0
