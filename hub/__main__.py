"""``python -m hub``: set up and start the course's JupyterHub (``make hub`` runs ``demo``).

    python -m hub setup [--create-users]   users, exchange, course folder, proxy (root)
    python -m hub start                    run JupyterHub in the foreground (root)
    python -m hub demo                     both, for the demo class; prints the log-ins

Every command takes the class's settings (``--instructor``, ``--student``, ``--exchange``, ...);
run from the repository root (``make hub`` does).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from hub import provision
from hub.settings import ENV_BIN, HUB_DIR, HubSettings


def _settings(args: argparse.Namespace) -> HubSettings:
    base = HubSettings()
    return HubSettings(
        instructors=tuple(args.instructor) if args.instructor else base.instructors,
        students=tuple(args.student) if args.student else base.students,
        exchange_root=args.exchange or base.exchange_root,
        course_dir=args.course_dir or base.course_dir,
        state_dir=args.state_dir or base.state_dir,
        bind_url=args.bind_url or base.bind_url,
        hub_port=args.hub_port or base.hub_port,
        proxy_api_port=args.proxy_api_port or base.proxy_api_port,
        instructors_group=args.instructors_group or base.instructors_group,
        users_group=args.users_group or base.users_group,
    )


def _add_settings(p: argparse.ArgumentParser) -> None:
    d = HubSettings()
    p.add_argument("--instructor", action="append", help=f"instructor's user name, repeatable "
                   f"(default: {', '.join(d.instructors)})")
    p.add_argument("--student", action="append", help=f"student's user name, repeatable "
                   f"(default: {', '.join(d.students)})")
    p.add_argument("--exchange", type=Path, help=f"nbgrader's exchange root (default: {d.exchange_root})")
    p.add_argument("--course-dir", type=Path,
                   help="the instructor's course folder (default: ~INSTRUCTOR/keras-course)")
    p.add_argument("--state-dir", type=Path, help=f"the hub's database and secrets (default: {d.state_dir})")
    p.add_argument("--bind-url", help=f"where browsers reach the hub (default: {d.bind_url})")
    p.add_argument("--hub-port", type=int, help=f"the hub's internal API port (default: {d.hub_port})")
    p.add_argument("--proxy-api-port", type=int,
                   help=f"the proxy's internal API port (default: {d.proxy_api_port})")
    p.add_argument("--instructors-group", help=f"Unix group that may read the instructor-only files "
                   f"(default: {d.instructors_group})")
    p.add_argument("--users-group", help=f"Unix group of the whole class (default: {d.users_group})")


def _add_traverse(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-traverse", action="store_true",
                   help="if users cannot reach the course environment (e.g. a Python under /root), "
                   "let the class's group pass through the closed folders (ACL, search only)")


def cmd_setup(args: argparse.Namespace) -> int:
    settings = _settings(args)
    for line in provision.setup(settings, create_users=args.create_users, home_base=args.home_base,
                                hide_files=not args.keep_files_readable,
                                grant_traverse=args.allow_traverse):
        print(line)
    return 0


def start(settings: HubSettings) -> None:
    """Replace this process by JupyterHub (so signals reach it directly)."""
    provision.require_root("the hub starts each user's server as that user")
    if not provision.PROXY_COMMAND.exists():
        raise provision.SetupError("the proxy is not installed: run `python -m hub setup` first")
    env = {**os.environ, **settings.to_env()}
    env["PATH"] = os.pathsep.join([str(ENV_BIN), env.get("PATH", "/usr/bin:/bin")])
    cmd = [str(ENV_BIN / "jupyterhub"), "-f", str(HUB_DIR / "jupyterhub_config.py")]
    os.chdir(settings.state_dir)
    os.execve(cmd[0], cmd, env)


def cmd_start(args: argparse.Namespace) -> int:
    start(_settings(args))
    return 0  # not reached


def cmd_demo(args: argparse.Namespace) -> int:
    settings = _settings(args)
    for line in provision.setup(settings, create_users=True, grant_traverse=True):  # a local demo
        print(line)
    passwords = provision.read_passwords(Path(settings.state_dir))
    print(f"\nJupyterHub for the Keras course: {settings.bind_url}  (Ctrl+C stops it and every server)")
    for name in settings.users:
        role = "instructor" if settings.is_instructor(name) else "student"
        print(f"  {role:10} {name:16} password: {passwords.get(name, '(its own Unix password)')}")
    print(flush=True)
    start(settings)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hub", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("setup", help="users, exchange, course folder, proxy (root)")
    _add_settings(p)
    p.add_argument("--create-users", action="store_true",
                   help="create missing Unix accounts with random passwords (in <state>/passwords.txt)")
    p.add_argument("--home-base", type=Path, help="where created accounts get their homes (default: /home)")
    p.add_argument("--keep-files-readable", action="store_true",
                   help="do not hide solutions/, tests/, .git ... from students (not for a real class)")
    _add_traverse(p)
    p.set_defaults(func=cmd_setup)
    p = sub.add_parser("start", help="run JupyterHub in the foreground (root)")
    _add_settings(p)
    p.set_defaults(func=cmd_start)
    p = sub.add_parser("demo", help="setup with the demo class's accounts, then start (make hub)")
    _add_settings(p)
    p.set_defaults(func=cmd_demo)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except provision.SetupError as err:
        print(f"python -m hub {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
