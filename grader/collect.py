"""``grader collect LESSON SOURCE``: import submissions as an LMS exports them.

An LMS hands over one folder or zip with every student's files side by side, the student's
identity in the file name (Canvas: ``doejane_LATE_12345_67890_01-sequential-models-1.ipynb``).
This sorts them into nbgrader's ``submitted/<student>/<lesson>/`` layout, with a ``timestamp.txt``
nbgrader uses for late penalties, and reports late, duplicate and unrecognised files. Every
original file is first kept byte for byte under ``originals/``; the submitted copies are the same
bytes (nothing is parsed or re-serialised here; broken notebooks are autograde's business).
"""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from grader.config import SOLUTIONS_DIR

# Canvas' export name: login, optional LATE, numeric ids, then the file name the student uploaded
# (Canvas appends -1, -2 ... to a resubmitted file). Matched against the path inside the export.
DEFAULT_PATTERN = r"^(?:.*/)?(?P<student>[^_/]+)_(?:(?P<late>LATE)_)?(?:\d+_)*(?P<file>[^/]+)$"
_LMS_COPY_SUFFIX = re.compile(r"(?:-\d+| ?\(\d+\))(?=\.[^.]+$)")


@dataclass
class CollectedFile:
    """One file of the export and what became of it."""

    path: str  # inside the export
    student: str | None
    file: str | None  # the name it gets in submitted/<student>/<lesson>/
    timestamp: datetime
    late: bool = False
    status: str = "imported"  # imported | duplicate (ignored) | unmatched
    data: bytes = field(default=b"", repr=False)


def lesson_notebooks(lesson: str, solutions: Path = SOLUTIONS_DIR) -> list[str]:
    return sorted(p.name for p in (solutions / lesson).glob("*.ipynb"))


def read_export(source: Path) -> list[tuple[str, bytes, datetime]]:
    """Every file of a folder or zip: (path inside, bytes, modification time in UTC)."""
    files = []
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    stamp = datetime(*info.date_time, tzinfo=UTC)
                    files.append((info.filename, zf.read(info), stamp))
    else:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            stamp = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
            files.append((path.relative_to(source).as_posix(), path.read_bytes(), stamp))
    return files


def classify(files: list[tuple[str, bytes, datetime]], notebooks: list[str], pattern: str,
             deadline: datetime | None) -> list[CollectedFile]:
    """Match names, mark late files and keep only the newest of duplicates per student and file."""
    regex = re.compile(pattern)
    collected = []
    for path, data, stamp in files:
        match = regex.match(path)
        if not match or not match.groupdict().get("student"):
            collected.append(CollectedFile(path, None, None, stamp, status="unmatched", data=data))
            continue
        groups = match.groupdict()
        name = groups.get("file") or PurePosixPath(path).name
        plain = _LMS_COPY_SUFFIX.sub("", name)
        if name not in notebooks and plain in notebooks:
            name = plain
        late = bool(groups.get("late")) or (deadline is not None and stamp > deadline)
        collected.append(CollectedFile(path, groups["student"], name, stamp, late, data=data))
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
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    originals = course_root / "originals" / lesson / f"{stamp}-{source.name}"
    originals.mkdir(parents=True)
    if source.is_file():
        shutil.copy2(source, originals / source.name)
    files = read_export(source)
    for path, data, _ in files:
        target = originals / "files" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    collected = classify(files, notebooks, pattern, deadline)
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
    for c in collected:
        if c.status == "unmatched":
            lines.append(f"unmatched (kept in originals only): {c.path}")
    return "\n".join(lines)
