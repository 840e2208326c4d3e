"""The root-only set-up of a class's hub (``python -m hub setup``; ``make hub`` runs it).

Each step is idempotent and says what it changed:

- the proxy: configurable-http-proxy from npm, pinned by ``hub/package-lock.json``, into
  ``hub/node_modules`` (git-ignored);
- the users: the instructors' group (it may read the instructor-only files of the checkout), and
  with ``--create-users`` Unix accounts for the roster that do not exist yet (private homes, a
  random password each for the PAM log-in, written to ``<state>/passwords.txt``, root only);
- the exchange: nbgrader's root, world-writable with the sticky bit (students drop submissions,
  nobody deletes another's folder), and this course's folder in it, created for the instructor
  up front so that no student can take the name first;
- the instructor's course folder (gradebook, submissions, feedback): the instructor's, mode 0700,
  with ``solutions/`` in it, a link to the checkout's lessons with their mark schemes: the
  instructor's JupyterLab shows only their home, not the checkout, and grading a reflection needs
  its mark scheme;
- the checkout: everything students' servers do not need (``solutions/`` with the hidden tests,
  ``tests/`` with correct answers, ``.git`` with both in its history, ``grading/``...) becomes
  readable by the instructors' group only. Students' servers need the environment, the course
  modules, the Jupyter settings, the data caches and the released notebooks, and see only those.
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hub.settings import ENV_BIN, HUB_DIR, PROXY_COMMAND, REPO_ROOT, HubSettings

# Top-level entries of the checkout that every user's server needs; everything else is hidden.
STUDENT_VISIBLE = frozenset({
    ".venv", "kerascourse", "grader", "jupyter", "hub", "data", "notebooks", "keras_course.egg-info",
    "README.md", "LICENSE", "pyproject.toml",
})
# Written into the GECOS field of accounts this module creates: only those are ever removed.
ACCOUNT_MARK = "keras-course hub user"


class SetupError(RuntimeError):
    """A step that cannot be done here, with what to do about it."""


def require_root(why: str) -> None:
    if os.geteuid() != 0:
        raise SetupError(f"this needs root ({why}); run it with sudo")


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)


# -- the proxy ------------------------------------------------------------------------------------
def install_proxy() -> bool:
    """``npm ci`` the pinned configurable-http-proxy into ``hub/node_modules`` unless it is there."""
    lock, installed = HUB_DIR / "package-lock.json", HUB_DIR / "node_modules" / ".package-lock.json"
    if PROXY_COMMAND.exists() and installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return False
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        raise SetupError("JupyterHub's proxy (configurable-http-proxy) comes from npm: install Node.js "
                         "20 or later (Debian: apt-get install nodejs npm)")
    _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HUB_DIR)
    return True


# -- users ----------------------------------------------------------------------------------------
def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def created_here(name: str) -> bool:
    """Whether ``name`` is an account this module created (and may therefore remove)."""
    try:
        return pwd.getpwnam(name).pw_gecos == ACCOUNT_MARK
    except KeyError:
        return False


def ensure_group(name: str, members: Iterable[str]) -> None:
    _run(["groupadd", "--force", name])
    for member in members:
        if member not in grp.getgrnam(name).gr_mem:
            _run(["usermod", "--append", "--groups", name, member])


def create_user(name: str, home_base: Path | None = None) -> str:
    """Create a Unix account with a private home and a random password; return the password."""
    cmd = ["useradd", "--create-home", "--user-group", "--shell", "/bin/bash", "--comment", ACCOUNT_MARK]
    if home_base is not None:
        home_base.mkdir(parents=True, exist_ok=True)
        cmd += ["--home-dir", str(home_base / name)]
    _run([*cmd, name])
    os.chmod(pwd.getpwnam(name).pw_dir, 0o700)  # Debian's default home is world-readable
    password = secrets.token_urlsafe(12)
    _run(["chpasswd"], input=f"{name}:{password}\n")
    return password


def remove_user(name: str) -> None:
    """Remove an account this module created (its home stays; it may hold a student's work)."""
    if not created_here(name):
        raise SetupError(f"{name} was not created by the course's set-up; not removing it")
    _run(["userdel", name])


def ensure_users(settings: HubSettings, home_base: Path | None = None) -> dict[str, str]:
    """Create the roster's missing accounts; return ``{name: password}`` of those created."""
    created = {}
    for name in settings.users:
        if not user_exists(name):
            created[name] = create_user(name, home_base)
    return created


def missing_users(settings: HubSettings) -> list[str]:
    return [name for name in settings.users if not user_exists(name)]


def write_passwords(state_dir: Path, passwords: dict[str, str]) -> Path:
    """Keep the created accounts' passwords in ``<state>/passwords.txt`` (root only)."""
    path = state_dir / "passwords.txt"
    known = {}
    if path.exists():
        known = dict(line.split(" ", 1) for line in path.read_text().splitlines() if " " in line)
    known.update(passwords)
    path.touch(mode=0o600)
    path.write_text("".join(f"{name} {password}\n" for name, password in sorted(known.items())))
    return path


def read_passwords(state_dir: Path) -> dict[str, str]:
    path = state_dir / "passwords.txt"
    if not path.exists():
        return {}
    return dict(line.split(" ", 1) for line in path.read_text().splitlines() if " " in line)


# -- folders --------------------------------------------------------------------------------------
def _ids(name: str) -> tuple[int, int]:
    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def prepare_exchange(settings: HubSettings) -> None:
    """nbgrader's exchange root (root's, 1777) and this course's folder in it (the instructor's)."""
    root = Path(settings.exchange_root)
    root.mkdir(parents=True, exist_ok=True)
    os.chown(root, 0, 0)
    os.chmod(root, 0o1777)  # everyone may create (nbgrader needs it), nobody removes others' folders
    course = settings.course_exchange()
    uid, gid = _ids(settings.instructors[0])
    if course.exists():
        owner = course.stat().st_uid
        if owner != uid:
            raise SetupError(f"{course} belongs to {pwd.getpwuid(owner).pw_name}, not the instructor "
                             f"{settings.instructors[0]}: remove it (someone may have created it first)")
        return
    course.mkdir()
    os.chown(course, uid, gid)
    os.chmod(course, 0o755)  # nbgrader release_assignment makes outbound/ and inbound/ inside


def prepare_course_folder(settings: HubSettings) -> Path:
    """The instructor's course folder: theirs alone (the gradebook and every submission)."""
    folder = settings.course_folder()
    uid, gid = _ids(settings.instructors[0])
    folder.mkdir(parents=True, exist_ok=True)
    os.chown(folder, uid, gid)
    os.chmod(folder, 0o700)
    return folder


def link_solutions(settings: HubSettings) -> str:
    """``<course folder>/solutions``: a link to the checkout's ``solutions/``, so that the instructor
    can open a lesson's mark schemes in JupyterLab (which serves their home only; the formgrader
    shows submissions, not mark schemes). Students never see it: the course folder is the
    instructor's alone, and ``solutions/`` is readable by the instructors' group only. Returns what
    it did, "" when the link was there already."""
    link, target = settings.course_folder() / "solutions", REPO_ROOT / "solutions"
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return ""
    if link.exists() and not link.is_symlink():
        return f"left {link} alone (not a link): the mark schemes are in {target}"
    if link.is_symlink():  # a checkout that moved
        link.unlink()
    link.symlink_to(target, target_is_directory=True)
    uid, gid = _ids(settings.instructors[0])
    os.lchown(link, uid, gid)
    return f"{link} links to the lessons' solutions (mark schemes)"


def prepare_state_dir(state_dir: Path) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(state_dir, 0o700)  # the hub's database and cookie secret


def environment_paths() -> list[Path]:
    """What every user's server runs from: the checkout (``.venv``, the course modules, the
    settings, the data) and the Python installation the environment was made from."""
    return [REPO_ROOT, Path(os.path.realpath(sys.executable)).parent, Path(sys.base_prefix)]


def closed_folders(paths: Iterable[Path] = ()) -> list[Path]:
    """Folders on the way to ``paths`` that other users may not enter (e.g. ``/root`` when the
    environment's Python came from root's pyenv), outermost first."""
    closed = []
    for path in paths or environment_paths():
        for folder in reversed([path, *path.parents]):
            if not os.stat(folder).st_mode & stat.S_IXOTH and folder not in closed:
                closed.append(folder)
    return closed


def environment_works_for(user: str) -> str:
    """Run the course environment as ``user``; return the error, or "" when it works."""
    # cheap stand-ins for a server start: the interpreter, its packages, the checkout's modules
    module = REPO_ROOT / "kerascourse" / "paths.py"
    script = f"import jupyter_server, jupyterhub; open({str(module)!r}).close()"
    probe = [str(ENV_BIN / "python"), "-c", script]
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    result = subprocess.run([runuser, "-u", user, "--", *probe], capture_output=True, text=True,
                            cwd="/", env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    return "" if result.returncode == 0 else (result.stderr.strip().splitlines() or ["failed"])[-1]


def allow_traverse(group: str, folders: Iterable[Path]) -> None:
    """Let ``group`` pass through ``folders`` (search only: no listing, no reading) with an ACL."""
    if not shutil.which("setfacl"):
        subprocess.run([str(REPO_ROOT / "scripts" / "system-packages.sh"), "acl"], check=False)
    if not shutil.which("setfacl"):
        raise SetupError("setfacl is missing: apt-get install acl")
    for folder in folders:
        _run(["setfacl", "--modify", f"g:{group}:x", str(folder)])


def revoke_traverse(group: str, folders: Iterable[Path]) -> None:
    """Undo :func:`allow_traverse`; a folder left with no other ACL entry gets its plain mode back."""
    if not shutil.which("setfacl"):
        return
    for folder in folders:
        subprocess.run(["setfacl", "--remove", f"g:{group}", str(folder)], capture_output=True)
        acl = subprocess.run(["getfacl", "--omit-header", "--absolute-names", str(folder)],
                             capture_output=True, text=True).stdout.splitlines()
        if not any(line.split(":")[1] for line in acl if line.startswith(("user:", "group:"))):
            subprocess.run(["setfacl", "--remove-all", str(folder)], capture_output=True)


def check_environment(settings: HubSettings, grant: bool) -> list[Path]:
    """Make sure the class's users can run the course environment; return folders opened to them.

    Without ``grant`` a closed folder is an error that says what to do; with it, the class's group
    gets search permission on exactly those folders (``--allow-traverse``).
    """
    user = settings.users[-1]
    error = environment_works_for(user)
    if not error:
        return []
    closed = closed_folders()
    if not grant or not closed:
        where = f" (other users cannot enter {', '.join(map(str, closed))})" if closed else ""
        raise SetupError(
            f"{user} cannot run the course environment{where}: {error}. Every user's server runs "
            f"{ENV_BIN / 'jupyterhub-singleuser'}, so install the checkout and its Python where all "
            f"users can read them (e.g. /srv/keras-course), or pass --allow-traverse to let the group "
            f"{settings.users_group} pass through {', '.join(map(str, closed))} (an ACL, search only)")
    allow_traverse(settings.users_group, closed)
    error = environment_works_for(user)
    if error:
        raise SetupError(f"{user} still cannot run the course environment: {error}")
    return closed


@dataclass(frozen=True)
class EntryMode:
    path: Path
    mode: int
    gid: int


def hide_instructor_files(group: str, root: Path = REPO_ROOT) -> list[EntryMode]:
    """Make every top-level entry students' servers do not need readable by ``group`` only.

    Only the top-level entry changes (a folder nobody else may enter hides all inside it), so git
    sees nothing. Returns the previous modes (the tests put them back).
    """
    gid = grp.getgrnam(group).gr_gid
    changed = []
    for entry in sorted(root.iterdir()):
        if entry.name in STUDENT_VISIBLE or entry.is_symlink():
            continue
        st = entry.lstat()
        group_bits = stat.S_IRGRP | (stat.S_IXGRP if entry.is_dir() else 0)
        mode = (stat.S_IMODE(st.st_mode) | group_bits) & ~0o007
        if stat.S_IMODE(st.st_mode) != mode or st.st_gid != gid:
            changed.append(EntryMode(entry, stat.S_IMODE(st.st_mode), st.st_gid))
            os.chown(entry, -1, gid)
            os.chmod(entry, mode)
    return changed


def restore_modes(entries: Iterable[EntryMode]) -> None:
    for entry in entries:
        if entry.path.exists():
            os.chown(entry.path, -1, entry.gid)
            os.chmod(entry.path, entry.mode)


def visible_to_students(root: Path = REPO_ROOT) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name in STUDENT_VISIBLE)


# -- everything -----------------------------------------------------------------------------------
def setup(settings: HubSettings, *, create_users: bool = False, home_base: Path | None = None,
          hide_files: bool = True, grant_traverse: bool = False) -> list[str]:
    """Every step above, in order; returns one line per thing done, for the instructor to read."""
    require_root("it creates users and folders owned by them")
    done = []
    if install_proxy():
        done.append(f"installed configurable-http-proxy into {HUB_DIR / 'node_modules'}")
    prepare_state_dir(Path(settings.state_dir))
    if create_users:
        created = ensure_users(settings, home_base)
        if created:
            path = write_passwords(Path(settings.state_dir), created)
            done.append(f"created users {', '.join(created)} (passwords in {path})")
    missing = missing_users(settings)
    if missing:
        raise SetupError(f"no Unix account for {', '.join(missing)}: create them (or pass --create-users)")
    ensure_group(settings.users_group, settings.users)
    ensure_group(settings.instructors_group, settings.instructors)
    done.append(f"groups {settings.users_group} (everyone), {settings.instructors_group} "
                f"({', '.join(settings.instructors)})")
    opened = check_environment(settings, grant_traverse)
    if opened:
        done.append(f"{settings.users_group} may pass through {', '.join(map(str, opened))} "
                    "(ACL, search only) to run the course environment")
    prepare_exchange(settings)
    done.append(f"exchange {settings.exchange_root} (1777), course folder {settings.course_exchange()}")
    done.append(f"instructor's course folder {prepare_course_folder(settings)} (0700)")
    linked = link_solutions(settings)
    if linked:
        done.append(linked)
    if hide_files:
        hidden = hide_instructor_files(settings.instructors_group)
        if hidden:
            done.append(f"only {settings.instructors_group} may read "
                        f"{', '.join(e.path.name for e in hidden)} in {REPO_ROOT}")
    return done
