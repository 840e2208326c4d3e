"""The exchange's Collect (the formgrader's button, ``nbgrader collect``) trusts no inbound folder.

A student can write anything into the exchange's ``inbound`` folder by hand. One real ``nbgrader
collect`` with the course's settings (:class:`grader.exchange_collect.CourseCollect`) collects an
inbound folder in which students attack it; before the course's collect, nbgrader's own copied an
instructor-only file into a submission through a link, collected a folder named for another
student as theirs, and stopped for everyone at a folder with an unparsable name or a named pipe
(each seen on nbgrader 0.9.6). The checks:

- links (to a file, to a folder, the submission folder itself) are never followed: nothing of what
  they point to reaches ``submitted/``;
- a folder written by someone else than the student it names is not collected, and that student's
  own newest folder is;
- pipes are left out, too large or too crowded submissions are not collected, names that do not
  parse are skipped: each is one line of the log, and every honest student is collected in full;
- a submission that claims a time a day before its files were written is collected with a warning.

The students are system accounts (``daemon``, ``bin``, ...), so that each folder can be owned by
the student it names: that needs root, as the hub's own test does.
"""

from __future__ import annotations

import os
import pwd
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import FIXTURE_LESSONS, TINY

from grader.config import COURSE_ID, nbgrader_settings
from grader.exchange_collect import MAX_ENTRIES, Refused, copy_regular_files
from grader.run_nbgrader import run_nbgrader

SECRET = "instructor only: the hidden tests"
LIMIT_KB = 64  # CourseDirectory.max_dir_size for the run (the default is 100 MB)


NOW = datetime.now(UTC).replace(second=0, microsecond=0, tzinfo=None)


def _stamp(minute: int) -> str:
    """A time a submission claims, ``minute`` minutes from now (-1 day: long before its files)."""
    return (NOW + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def _submission(inbound: Path, student: str, minute: int, files: dict[str, str] | None = None,
                owner: str | None = None) -> Path:
    folder = inbound / f"{student}+{TINY}+{_stamp(minute)}"
    folder.mkdir()
    (folder / f"{TINY}.ipynb").write_text(f'{{"by": "{owner or student}", "minute": {minute}}}')
    (folder / "timestamp.txt").write_text(_stamp(minute))
    for name, text in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    _chown_tree(folder, owner or student)
    return folder


def _chown_tree(folder: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _tree(folder: Path) -> dict[str, str]:
    """Every entry under ``folder``: file text, 'folder' or 'LINK'."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        out[rel] = "LINK" if path.is_symlink() else "folder" if path.is_dir() else path.read_text()
    return out


@pytest.mark.skipif(os.geteuid() != 0, reason="the students' folders must be owned by other users: root")
def test_collect_trusts_no_inbound_folder(tmp_path):
    course, exchange = tmp_path / "course", tmp_path / "exchange"
    secret_file = tmp_path / "instructor" / "solutions.txt"
    secret_file.parent.mkdir()
    secret_file.write_text(SECRET)
    secret_file.parent.chmod(0o700)
    inbound = exchange / COURSE_ID / "inbound"
    inbound.mkdir(parents=True)

    # An honest student, with a data file in a subfolder: collected in full.
    _submission(inbound, "daemon", 9, {"data/notes.txt": "my notes"})
    # A student whose submission links to the instructor's files, holds a pipe, and who also made
    # a newer "submission" that is a link to the instructor's folder.
    linker = _submission(inbound, "bin", 9, {"answer.txt": "42"})
    (linker / "loot.txt").symlink_to(secret_file)
    (linker / "loot-folder").symlink_to(secret_file.parent, target_is_directory=True)
    os.mkfifo(linker / "pipe")
    (inbound / f"bin+{TINY}+{_stamp(10)}").symlink_to(secret_file.parent, target_is_directory=True)
    # A student impersonated: a newer folder named "sys", written by "games".
    _submission(inbound, "sys", 9)
    _submission(inbound, "sys", 11, owner="games")
    # Limits: a submission too large, one with too many files; and a name that does not parse.
    _submission(inbound, "man", 9, {"big.bin": "x" * (LIMIT_KB + 1) * 1000})
    crowded = _submission(inbound, "nobody", 9)
    for i in range(MAX_ENTRIES + 1):
        (crowded / f"f{i}").touch()
    (inbound / f"games+{TINY}+not-a-time").mkdir()
    # A submission that claims a time a day before its files were written (late, made to look on time).
    _submission(inbound, "lp", -24 * 60)

    settings = nbgrader_settings(course, source=FIXTURE_LESSONS) | {
        "Exchange.root": str(exchange), "CourseDirectory.max_dir_size": LIMIT_KB}
    course.mkdir()
    log = run_nbgrader("collect", [TINY], settings, timeout=60).stderr  # nbgrader's stopped on a pipe: 1

    submitted = course / "submitted"
    collected = {student: _tree(submitted / student / TINY) for student in os.listdir(submitted)}
    assert set(collected) == {"daemon", "bin", "sys", "lp"}, log
    assert collected["daemon"] == {f"{TINY}.ipynb": '{"by": "daemon", "minute": 9}', "data": "folder",
                                   "data/notes.txt": "my notes", "timestamp.txt": _stamp(9)}
    assert collected["bin"] == {f"{TINY}.ipynb": '{"by": "bin", "minute": 9}', "answer.txt": "42",
                                "timestamp.txt": _stamp(9)}, "a link or a pipe was collected"
    assert collected["sys"][f"{TINY}.ipynb"] == '{"by": "sys", "minute": 9}', "another student's folder won"
    everything = "".join(p.read_text(errors="replace") for p in submitted.rglob("*") if p.is_file())
    assert SECRET not in everything

    late = [line for line in log.splitlines() if "after the time it claims" in line]
    assert len(late) == 1 and f"lp+{TINY}+{_stamp(-24 * 60)}" in late[0], log
    lines = [line for line in log.splitlines() if "Not collected" in line or "Left out" in line]
    expected = {f"bin+{TINY}+{_stamp(10)}": "a link or a file, not a folder",
                f"sys+{TINY}+{_stamp(11)}": "written by games, not by sys",
                f"man+{TINY}+{_stamp(9)}": "larger than the exchange's size limit",
                f"nobody+{TINY}+{_stamp(9)}": f"more than {MAX_ENTRIES} files and folders",
                f"games+{TINY}+not-a-time": "its name is not student+lesson+time"}
    for folder, why in expected.items():
        refused = [line for line in lines if folder in line and "Not collected" in line]
        assert len(refused) == 1 and why in refused[0], (folder, lines)
    left_out = [line for line in lines if "Left out" in line]
    parts = ("loot.txt (a link)", "loot-folder (a link)", "pipe (not a regular file)")
    assert len(left_out) == 1 and all(part in left_out[0] for part in parts), left_out
    assert len(lines) == len(expected) + 1, lines


def test_copy_never_follows_a_link_and_honours_the_limits(tmp_path):
    """The copy itself, as any user: links and pipes left out, limits refuse, names ignored, and
    when the copied files last changed."""
    src, outside = tmp_path / "src", tmp_path / "outside.txt"
    (src / "sub").mkdir(parents=True)
    outside.write_text(SECRET)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("b")
    (src / "sub" / "link.txt").symlink_to(outside)
    (src / "forged\n[CollectApp | INFO] line").symlink_to(outside)  # a name that would forge a log line
    (src / ".ipynb_checkpoints").mkdir()
    os.mkfifo(src / "pipe")

    def ignore(folder, names):
        return [n for n in names if n == ".ipynb_checkpoints"]

    copied = copy_regular_files(src, tmp_path / "dest", ignore, max_bytes=10)
    assert _tree(tmp_path / "dest") == {"a.txt": "a", "sub": "folder", "sub/b.txt": "b"}
    assert copied.left_out == ["forged\\x0a[CollectApp | INFO] line (a link)", "pipe (not a regular file)",
                               "sub/link.txt (a link)"]
    changed = datetime.fromtimestamp((src / "sub" / "b.txt").stat().st_ctime, UTC).replace(tzinfo=None)
    assert copied.written_at >= changed  # the newest status change among what was copied
    assert stat.S_ISREG((tmp_path / "dest" / "a.txt").lstat().st_mode)

    with pytest.raises(Refused, match="size limit"):
        copy_regular_files(src, tmp_path / "small", ignore, max_bytes=1)
    (tmp_path / "linked").symlink_to(src, target_is_directory=True)
    with pytest.raises(OSError):  # the submission folder itself a link: not opened
        copy_regular_files(tmp_path / "linked", tmp_path / "via-link", ignore, max_bytes=10)
