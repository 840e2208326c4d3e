"""The Collect step of nbgrader's exchange (the formgrader's button, ``nbgrader collect``), made safe.

Students put their submissions into the exchange's ``inbound`` folder themselves, and a student
with a terminal can put anything there by hand. nbgrader's own collect trusts what it finds
(measured on nbgrader 0.9.6 with the course's settings):

- it copies with ``shutil.copytree``, which follows symbolic links: the instructor collects, so a
  link to the lesson's solutions or to the gradebook is read with the instructor's rights and
  lands in the submission as a plain file, where the student's code reads it during the
  formgrader's autograde and prints it into the feedback;
- a folder named for another student is collected as that student's submission (it only warns
  that the owner differs), so one student can replace another's work;
- one folder whose name does not parse, or a named pipe in one submission, stops the whole
  collection: nobody after it is collected.

:class:`CourseCollect` keeps nbgrader's choice of submission (the newest per student, or the
newest before the due date) and its ``ignore``/``include``/size settings, and changes what it
trusts. A folder that is not a real folder owned by the student it names, or whose name does not
parse, is not collected: one error line, and the student's own newest folder is chosen as if it
were not there. Inside a submission only folders and regular files are copied, each opened
without following links (so a link swapped in while the collect runs is refused too); links,
pipes and other special files are left out, with one warning line per submission. Everyone
else is collected whatever one folder holds. ``ExchangeCollect.check_owner = False`` turns the owner
check off for an exchange where the Unix owner is not the student (a shared account).

The time a submission claims (its folder's name, ``timestamp.txt``) is written by the student too,
and nbgrader's late penalties trust it. No user can set a file's status-change time (ctime), so a
submission whose files changed more than ten minutes after the time it claims (edited after the
due date, or its time forged) gets a warning line, for the instructor to check before grading it
as on time. The claimed time is kept: restoring the exchange from a backup changes every ctime.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.utils import ignore_patterns

try:
    import pwd
except ImportError:  # not on Windows: there the owner is not checked (as in nbgrader)
    pwd = None

MAX_ENTRIES = 1000  # files and folders in one submission; a lesson's submission has a handful
MAX_DEPTH = 16  # folders inside folders
_SKIPPED = "\0not collected"  # the username of a folder that is not collected (never a real one)


class Refused(Exception):
    """Why a submission folder is not collected at all (one line for the instructor)."""


class CourseCollect(ExchangeCollect):
    """nbgrader's collect that trusts nothing a student wrote into ``inbound`` (see the module)."""

    def _path_to_record(self, path: str) -> dict:
        """nbgrader's record of one inbound folder; a folder it must not collect gets a username of
        its own, so that it is never chosen as any student's newest submission."""
        filename = os.path.basename(path)
        try:
            record = super()._path_to_record(path)
            self._check_folder(Path(path), record["username"])
            return record
        except Exception as err:  # a name that does not parse, a link, another's folder
            self.log.error("Not collected: %r (%s)", filename, _reason(err))
            return {"username": f"{_SKIPPED} {filename}", "filename": filename,
                    "timestamp": datetime(1970, 1, 1)}

    def _check_folder(self, path: Path, student: str) -> None:
        info = path.lstat()
        if not stat.S_ISDIR(info.st_mode):
            raise Refused("a link or a file, not a folder" if stat.S_ISLNK(info.st_mode) else "not a folder")
        self._check_owner(info, student)

    def _check_owner(self, info: os.stat_result, student: str) -> None:
        if not self.check_owner or pwd is None:
            return
        try:
            owner = pwd.getpwuid(info.st_uid).pw_name
        except KeyError:
            owner = f"user id {info.st_uid}"
        if owner != student:
            raise Refused(f"written by {owner}, not by {student}")

    def init_src(self) -> None:
        super().init_src()
        self.src_records = [r for r in self.src_records if not r["username"].startswith(_SKIPPED)]

    def do_copy(self, src: str, dest: str, log=None) -> None:
        """Copy one submission: folders and regular files only, never through a link."""
        ignore = ignore_patterns(exclude=self.coursedir.ignore, include=self.coursedir.include,
                                 max_file_size=self.coursedir.max_file_size, log=self.log)
        name = os.path.basename(src)
        record = super()._path_to_record(src)  # nbgrader's own parse, which chose this folder
        student, claimed = record["username"], record["timestamp"]
        try:
            copied = copy_regular_files(Path(src), Path(dest), ignore,
                                        max_bytes=1000 * self.coursedir.max_dir_size,
                                        check=lambda info: self._check_owner(info, student))
        except (Refused, OSError) as err:
            shutil.rmtree(dest, ignore_errors=True)
            try:  # the student's folder nbgrader made for this copy, unless it holds other lessons
                os.rmdir(os.path.dirname(dest))
            except OSError:
                pass
            self.log.error("Not collected: %r (%s)", name, _reason(err))
            return
        if copied.left_out:
            more = len(copied.left_out) - 10
            shown = ", ".join(copied.left_out[:10]) + (f" and {more} more" if more > 0 else "")
            self.log.warning("Left out of %r: %s", name, shown)
        if copied.written_at - claimed > REWRITTEN_AFTER:
            self.log.warning("%r: its files were last changed at %s UTC, after the time it claims "
                             "(a student writes that time): check it before grading it as on time",
                             name, copied.written_at.strftime("%Y-%m-%d %H:%M:%S"))


REWRITTEN_AFTER = timedelta(minutes=10)  # nbgrader's submit copies in seconds; clocks may differ a bit


@dataclass
class Copied:
    """What :func:`copy_regular_files` left out, and when the copied entries last changed (UTC)."""

    left_out: list[str] = field(default_factory=list)
    written_at: datetime = datetime(1970, 1, 1)


def copy_regular_files(src: Path, dest: Path, ignore: Callable[[str, list[str]], list[str]], *,
                       max_bytes: int, check: Callable[[os.stat_result], None] = lambda info: None,
                       ) -> Copied:
    """Copy the folders and regular files under ``src`` to ``dest``.

    Every entry is opened relative to its folder's descriptor with ``O_NOFOLLOW`` and judged by
    ``fstat`` on what was opened, so a name that is (or becomes, while this runs) a link is never
    followed. ``check`` judges the top folder (its owner). ``ignore`` is nbgrader's patterns.
    ``written_at`` is the newest status change (ctime) of what was copied: unlike the submission's
    own timestamp, or a file's mtime, no user can set it.
    Raises :class:`Refused` when the submission is larger than ``max_bytes`` or holds too many
    entries, and ``OSError`` when ``src`` itself cannot be opened as a folder (a link, say).
    """
    walk = _Walk(src, ignore, max_bytes)
    top = os.open(src, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        info = os.fstat(top)
        check(info)
        walk.seen(info)
        walk.folder(top, dest, "", depth=0)
    finally:
        os.close(top)
    return walk.copied


class _Walk:
    def __init__(self, src: Path, ignore, max_bytes: int) -> None:
        self.src, self.ignore = src, ignore
        self.bytes_left, self.entries_left = max_bytes, MAX_ENTRIES
        self.copied = Copied()
        self._newest = 0.0

    def seen(self, info: os.stat_result) -> None:
        if info.st_ctime > self._newest:
            self._newest = info.st_ctime
            self.copied.written_at = datetime.fromtimestamp(info.st_ctime, UTC).replace(tzinfo=None)

    def folder(self, folder_fd: int, dest: Path, rel: str, depth: int) -> None:
        dest.mkdir(parents=True, exist_ok=True)
        names = sorted(os.listdir(folder_fd))
        ignored = set(self.ignore(str(self.src / rel) if rel else str(self.src), names))
        for name in names:
            path = f"{rel}/{name}" if rel else name
            shown = _printable(path)  # for the log only
            if name in ignored:
                continue
            self.entries_left -= 1
            if self.entries_left < 0:
                raise Refused(f"more than {MAX_ENTRIES} files and folders")
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)
            except OSError as err:
                self.copied.left_out.append(
                    f"{shown} ({'a link' if err.errno == errno.ELOOP else err.strerror})")
                continue
            try:
                info = os.fstat(fd)
                if stat.S_ISDIR(info.st_mode) and depth + 1 >= MAX_DEPTH:
                    self.copied.left_out.append(f"{shown} (folders nested too deep)")
                elif stat.S_ISDIR(info.st_mode):
                    self.seen(info)
                    self.folder(fd, dest / name, path, depth + 1)
                elif stat.S_ISREG(info.st_mode):
                    self.seen(info)
                    self.file(fd, dest / name)
                else:
                    self.copied.left_out.append(f"{shown} (not a regular file)")
            finally:
                os.close(fd)

    def file(self, fd: int, target: Path) -> None:
        with open(os.dup(fd), "rb") as source, open(target, "wb") as out:
            while chunk := source.read(1 << 20):
                self.bytes_left -= len(chunk)
                if self.bytes_left < 0:
                    raise Refused("larger than the exchange's size limit (CourseDirectory.max_dir_size)")
                out.write(chunk)


def _printable(name: str) -> str:
    """A file name as one line of the log: control characters (a newline could forge a line) escaped."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda match: f"\\x{ord(match.group()):02x}", name)


def _reason(err: BaseException) -> str:
    if isinstance(err, Refused):
        return str(err)
    if isinstance(err, OSError) and err.errno == errno.ELOOP:
        return "a link, not a folder"
    if isinstance(err, OSError):
        return err.strerror or type(err).__name__
    return f"its name is not student+lesson+time: {str(err)[:120]}"

