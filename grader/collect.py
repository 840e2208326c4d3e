"""``grader collect LESSON SOURCE``: import submissions as an LMS exports them.

An LMS hands over one folder or zip with every student's files side by side, the student's
identity in the file name (Canvas: ``doejane_LATE_12345_67890_01-sequential-models-1.ipynb``).
This sorts them into nbgrader's ``submitted/<student>/<lesson>/`` layout, with a ``timestamp.txt``
nbgrader uses for late penalties, and reports late, duplicate, ignored and unrecognised files.
Every original is first kept byte for byte under ``originals/`` (the export as it came, and each
member under a safe name); the submitted copies are the same bytes (nothing is parsed here;
broken notebooks are autograde's business).

Only notebooks are imported: a ``.py`` file beside a notebook could shadow a module the kernel
imports, and no lesson reads files students upload. Names come from the export, which anyone
can craft: a member path with ``..``, an absolute path or a link never becomes a path here, and a
student id must be a plain name.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from grader.errors import UsageError

# Canvas' export name: login, optional LATE, numeric ids, then the file name the student uploaded
# (Canvas appends -1, -2 ... to a resubmitted file). Matched against the path inside the export.
DEFAULT_PATTERN = r"^(?:.*/)?(?P<student>[^_/]+)_(?:(?P<late>LATE)_)?(?:\d+_)*(?P<file>[^/]+)$"
_LMS_COPY_SUFFIX = re.compile(r"(?:-\d+| ?\(\d+\))(?=\.[^.]+$)")
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_FILE_BYTES = 50 * 1024**2  # a notebook larger than this is kept in originals/ only
MAX_EXPORT_BYTES = 4 * 1024**3


@dataclass
class CollectedFile:
    """One file of the export and what became of it."""

    path: str  # inside the export
    student: str | None
    file: str | None  # the name it gets in submitted/<student>/<lesson>/
    timestamp: datetime
    late: bool = False
    status: str = "imported"  # imported | duplicate (ignored) | ignored (...) | unmatched
    data: bytes = field(default=b"", repr=False)


def lesson_notebooks(lesson: str, solutions: Path | None = None) -> list[str]:
    if solutions is None:
        from grader.config import SOLUTIONS_DIR  # imports nbgrader: not before a slip is answered

        solutions = SOLUTIONS_DIR
    return sorted(p.name for p in (solutions / lesson).glob("*.ipynb"))


_EXPORT_HINT = "give the LMS export: a .zip or the folder it unpacks to"


def check_export(source: Path) -> None:
    """Refuse, as a :class:`UsageError`, an export that is missing, unreadable or not a zip/folder.

    Cheap (a zip's directory, a folder's first level): it answers a slip before anything is written.
    """
    source = Path(source)
    if not source.exists():  # a dangling link too
        raise UsageError(f"no such file or folder: {source} ({_EXPORT_HINT})")
    try:
        if source.is_dir():
            os.listdir(source)
            return
        if not source.is_file():
            raise UsageError(f"{source} is not a file or a folder ({_EXPORT_HINT})")
        with open(source, "rb") as f:
            f.read(4)
        if not zipfile.is_zipfile(source):
            raise UsageError(f"{source} is not a zip file (a download cut short is not one either): "
                             f"{_EXPORT_HINT}")
        with zipfile.ZipFile(source) as zf:
            encrypted = [i.filename for i in zf.infolist() if i.flag_bits & 0x1]
    except OSError as err:
        raise UsageError(f"cannot read {source} ({err.strerror or err}): check its permissions, "
                         f"or {_EXPORT_HINT}") from None
    except zipfile.BadZipFile as err:
        raise UsageError(f"the zip file {source} is damaged ({err}): download the export again") from None
    if encrypted:
        raise UsageError(f"the zip file {source} is encrypted ({encrypted[0]}): export it again "
                         "without a password, or unpack it and give the folder")


def _raise_unreadable(error: OSError) -> None:
    raise UsageError(f"cannot read {error.filename} in the export ({error.strerror or error}): check "
                     "its permissions")


def read_export(source: Path) -> list[tuple[str, bytes | None, datetime]]:
    """Every file of a folder or zip: (path inside, bytes, modification time in UTC).

    Links and special files are skipped (they are not submissions); a member larger than
    :data:`MAX_FILE_BYTES` is listed with ``None`` instead of its bytes (never read whole).
    A damaged zip or an unreadable file is a :class:`UsageError` (the export must be fixed; a
    half-read export would silently lose submissions).
    """
    files: list[tuple[str, bytes | None, datetime]] = []
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as zf:
            total = 0
            for info in zf.infolist():
                mode = info.external_attr >> 16
                if info.is_dir() or stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # links, devices
                    continue
                stamp = datetime(*info.date_time, tzinfo=UTC)
                total += info.file_size
                big = info.file_size > MAX_FILE_BYTES or total > MAX_EXPORT_BYTES
                try:
                    data = None if big else zf.read(info)[:MAX_FILE_BYTES + 1]
                except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as err:
                    raise UsageError(f"the zip file {source} is damaged or uses an unsupported "
                                     f"compression ({info.filename}: {err}): download the export "
                                     "again, or unpack it and give the folder") from None
                files.append((info.filename, data, stamp))
    else:
        for folder, dirs, names in os.walk(source, onerror=_raise_unreadable):  # never follows links
            dirs.sort()
            for name in sorted(names):
                path = Path(folder, name)
                try:
                    info = path.lstat()
                    if not stat.S_ISREG(info.st_mode):
                        continue
                    data = path.read_bytes() if info.st_size <= MAX_FILE_BYTES else None
                except OSError as err:
                    _raise_unreadable(err)
                stamp = datetime.fromtimestamp(info.st_mtime, tz=UTC)
                files.append((path.relative_to(source).as_posix(), data, stamp))
    return files


def safe_relpath(path: str, index: int) -> PurePosixPath:
    """A relative path made only of plain name parts (no ``..``, no root, no odd characters)."""
    parts = [re.sub(r"[^A-Za-z0-9._ ()+-]", "_", p) for p in re.split(r"[/\\]+", path)
             if p not in ("", ".", "..")]
    parts = [p for p in parts if p.strip(".")]
    return PurePosixPath(*parts) if parts else PurePosixPath(f"member-{index}")


def classify(files: list[tuple[str, bytes | None, datetime]], notebooks: list[str], pattern: str,
             deadline: datetime | None) -> list[CollectedFile]:
    """Match names, mark late files and keep only the newest of duplicates per student and file."""
    regex = re.compile(pattern)
    collected = []
    for path, data, stamp in files:
        match = regex.match(path)
        student = match.groupdict().get("student") if match else None
        if not student or not STUDENT_ID.match(student):
            collected.append(CollectedFile(path, None, None, stamp, status="unmatched", data=data or b""))
            continue
        groups = match.groupdict()
        name = PurePosixPath((groups.get("file") or path).replace("\\", "/")).name
        plain = _LMS_COPY_SUFFIX.sub("", name)
        if name not in notebooks and plain in notebooks:
            name = plain
        late = bool(groups.get("late")) or (deadline is not None and stamp > deadline)
        item = CollectedFile(path, student, name, stamp, late, data=data or b"")
        if not name.endswith(".ipynb") or not re.match(r"^[A-Za-z0-9][A-Za-z0-9._ ()+-]*$", name):
            item.status = "ignored (only notebooks are collected)"
        elif data is None:
            item.status = "ignored (too large)"
        collected.append(item)
    newest: dict[tuple[str, str], CollectedFile] = {}
    for item in collected:
        if item.status != "imported":
            continue
        key = (item.student, item.file)
        best = newest.get(key)
        if best is None or (item.timestamp, item.path) > (best.timestamp, best.path):
            if best is not None:
                best.status = "duplicate (ignored)"
            newest[key] = item
        else:
            item.status = "duplicate (ignored)"
    return collected


def collect(source: Path, course_root: Path, lesson: str, *, pattern: str = DEFAULT_PATTERN,
            deadline: datetime | None = None, notebooks: list[str] | None = None) -> list[CollectedFile]:
    """Import ``source`` (folder or zip) into ``course_root``; return what happened to each file."""
    source, course_root = Path(source), Path(course_root)
    notebooks = notebooks if notebooks is not None else lesson_notebooks(lesson)
    check_export(source)
    files = read_export(source)  # before anything is written: a slip leaves the course folder as it was
    if not files:
        raise UsageError(f"the export {source} holds no files: {_EXPORT_HINT}")
    collected = classify(files, notebooks, pattern, deadline)
    if not any(item.status == "imported" for item in collected):
        raise UsageError(nothing_imported(source, collected))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    originals = course_root / "originals" / lesson / f"{stamp}-{source.name}"
    originals.mkdir(parents=True)
    if source.is_file():
        shutil.copy2(source, originals / source.name)
    for index, (path, data, _) in enumerate(files):
        if data is None:
            continue  # too large to read: it stays in the export copied above
        target = originals / "files" / safe_relpath(path, index)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(data)
    latest: dict[str, datetime] = {}
    for item in collected:
        if item.status != "imported":
            continue
        folder = course_root / "submitted" / item.student / lesson
        folder.mkdir(parents=True, exist_ok=True)
        (folder / item.file).write_bytes(item.data)
        latest[item.student] = max(latest.get(item.student, item.timestamp), item.timestamp)
    for student, when in latest.items():
        timestamp = course_root / "submitted" / student / lesson / "timestamp.txt"
        timestamp.write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
    return collected


def nothing_imported(source: Path, collected: list[CollectedFile]) -> str:
    """Why an export gave no submission, and what to do, in one line."""
    unmatched = [c.path for c in collected if c.status == "unmatched"]
    example = ascii(unmatched[0][:80]) if unmatched else ""
    if len(unmatched) == len(collected):
        return (f"nothing imported from {source}: none of its {len(collected)} file names matched "
                f"--pattern (e.g. {example}; the default reads Canvas names such as "
                "doejane_123_456_LESSON.ipynb): give a --pattern with a (?P<student>...) group")
    counts = Counter(c.status for c in collected if c.status != "unmatched")
    parts = ([f"{len(unmatched)} matched no --pattern"] if unmatched else []) + \
        [f"{n} {status}" for status, n in sorted(counts.items())]
    return (f"nothing imported from {source}: of its {len(collected)} files, {', '.join(parts)}; only "
            "notebooks are collected, from names --pattern matches")


def format_report(collected: list[CollectedFile], notebooks: list[str]) -> str:
    """Per student: imported files, late ones, duplicates, notebooks missing; then unmatched files."""
    lines = []
    students = sorted({c.student for c in collected if c.student})
    for student in students:
        mine = [c for c in collected if c.student == student]
        imported = sorted(c.file for c in mine if c.status == "imported")
        flags = []
        if any(c.late and c.status == "imported" for c in mine):
            flags.append("LATE")
        dups = [c.path for c in mine if c.status.startswith("duplicate")]
        if dups:
            flags.append(f"duplicates ignored: {', '.join(dups)}")
        missing = [n for n in notebooks if n not in imported]
        if missing:
            flags.append(f"missing: {', '.join(missing)}")
        lines.append(f"{student}: {', '.join(imported)}" + (f"  [{'; '.join(flags)}]" if flags else ""))
        ignored = [f"{c.path} ({c.status.removeprefix('ignored (').rstrip(')')})" for c in mine
                   if c.status.startswith("ignored")]
        if ignored:
            lines.append(f"  ignored (kept in originals only): {', '.join(ignored)}")
    for c in collected:
        if c.status == "unmatched":
            lines.append(f"unmatched (kept in originals only): {c.path}")
    return "\n".join(lines)
