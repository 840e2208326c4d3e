"""The usual slips at the command line: one line on stderr that names the problem and the fix,
exit status 2, no traceback, and nothing written. No notebook runs here; each test takes
milliseconds (the slips are answered before nbgrader is even imported, which one subprocess test
checks).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import FIXTURE_LESSONS, TINY

from grader import cli
from grader.cli import main

LESSON = "01-sequential-models"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """``grader ARGV`` in this process: (exit status, stdout, stderr); argparse's exits included."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_slip(result: tuple[int, str, str], *words: str) -> str:
    """Exit 2, stderr exactly one line starting with ``grader``, holding every word; no traceback."""
    code, out, err = result
    assert code == 2, (code, out, err)
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("grader") and "Traceback" not in err + out, err
    for word in words:
        assert word in err, (word, err)
    return err


# --- an unknown lesson: the lessons are listed -------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["autograde", "99-no-such-lesson", "--course-dir", "COURSE"],
    ["feedback", "99-no-such-lesson", "--course-dir", "COURSE"],
    ["collect", "99-no-such-lesson", "export.zip", "--course-dir", "COURSE"],
    ["release", "99-no-such-lesson"],
    ["check", LESSON, "99-no-such-lesson"],
])
def test_an_unknown_lesson_lists_the_lessons(capsys, tmp_path, argv):
    argv = [tmp_path / "c" if a == "COURSE" else a for a in argv]
    err = assert_slip(run(capsys, *argv), "unknown lesson '99-no-such-lesson'", LESSON,
                      "09-capstone-fashion-classifier")
    assert "did you mean" not in err
    assert not (tmp_path / "c").exists()


def test_a_near_miss_is_named(capsys, tmp_path):
    assert_slip(run(capsys, "autograde", "01-sequential-model", "--course-dir", tmp_path),
                f"did you mean {LESSON}?")


def test_lessons_come_from_lessons_dir(capsys, tmp_path):
    assert_slip(run(capsys, "autograde", LESSON, "--lessons-dir", FIXTURE_LESSONS, "--course-dir", tmp_path),
                f"unknown lesson '{LESSON}' in {FIXTURE_LESSONS}", TINY)
    assert_slip(run(capsys, "autograde", TINY, "--lessons-dir", tmp_path / "nope", "--course-dir", tmp_path),
                "no lessons folder", "--lessons-dir")


def test_the_cli_defaults_are_the_configs():
    """cli.py repeats two paths of grader.config (so a slip needs no nbgrader import)."""
    from grader import config
    from grader.run_nbgrader import lessons

    assert (cli.SOLUTIONS_DIR, cli.GRADING_DIR) == (config.SOLUTIONS_DIR, config.GRADING_DIR)
    for folder in (config.SOLUTIONS_DIR, FIXTURE_LESSONS):
        assert cli._known_lessons(folder) == lessons(folder)


# --- collect: a missing, unreadable or empty export ---------------------------------------------

def _collect(capsys, course: Path, source, *extra: str):
    return run(capsys, "collect", LESSON, source, "--course-dir", course, *extra)


def test_collect_a_missing_export(capsys, tmp_path):
    assert_slip(_collect(capsys, tmp_path / "c", "/path/that/does/not/exist.zip"),
                "no such file or folder: /path/that/does/not/exist.zip", "a .zip or the folder")
    (tmp_path / "dangling.zip").symlink_to(tmp_path / "gone.zip")
    assert_slip(_collect(capsys, tmp_path / "c", tmp_path / "dangling.zip"), "no such file or folder")
    assert not (tmp_path / "c").exists()


def test_collect_an_export_that_is_not_a_zip_or_folder(capsys, tmp_path):
    (tmp_path / "export.zip").write_bytes(b"<html>Session expired</html>")
    assert_slip(_collect(capsys, tmp_path / "c", tmp_path / "export.zip"), "is not a zip file",
                "a .zip or the folder")
    with zipfile.ZipFile(tmp_path / "full.zip", "w") as zf:
        zf.writestr(f"doejane_1_{LESSON}.ipynb", b"{}" * 1000)
    cut = (tmp_path / "full.zip").read_bytes()
    (tmp_path / "cut.zip").write_bytes(cut[: len(cut) // 2])  # a download cut short
    assert_slip(_collect(capsys, tmp_path / "c", tmp_path / "cut.zip"), "is not a zip file")
    os.mkfifo(tmp_path / "pipe")
    assert_slip(_collect(capsys, tmp_path / "c", tmp_path / "pipe"), "is not a file or a folder")
    assert not (tmp_path / "c").exists()


def test_collect_a_damaged_zip(capsys, tmp_path):
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"doejane_1_{LESSON}.ipynb", b'{"cells": []}' * 100)
    data = bytearray(export.read_bytes())
    data[60] ^= 0xFF  # inside the compressed member: the CRC no longer matches
    export.write_bytes(bytes(data))
    assert_slip(_collect(capsys, tmp_path / "c", export), "is damaged", "download the export again")
    assert not (tmp_path / "c").exists()


def test_collect_an_unreadable_export(capsys, tmp_path, monkeypatch):
    """(Permissions do not stop root, so the read itself is made to fail.)"""
    export = tmp_path / "export"
    export.mkdir()
    (export / f"doejane_1_{LESSON}.ipynb").write_text("{}")

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    assert_slip(_collect(capsys, tmp_path / "c", export), "cannot read", "Permission denied",
                "check its permissions")
    assert not (tmp_path / "c").exists()


def test_collect_an_empty_export(capsys, tmp_path):
    (tmp_path / "export").mkdir()
    assert_slip(_collect(capsys, tmp_path / "c", tmp_path / "export"), "holds no files")
    with zipfile.ZipFile(tmp_path / "empty.zip", "w"):
        pass
    assert_slip(_collect(capsys, tmp_path / "c", tmp_path / "empty.zip"), "holds no files")
    assert not (tmp_path / "c").exists()


def test_collect_names_that_match_no_pattern(capsys, tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    (export / f"{LESSON}.ipynb").write_text("{}")  # no student id in the name
    assert_slip(_collect(capsys, tmp_path / "c", export), "nothing imported", "none of its 1 file names "
                f"matched --pattern (e.g. '{LESSON}.ipynb'", "give a --pattern")
    (export / f"doejane_1_{LESSON}.py").write_text("")
    assert_slip(_collect(capsys, tmp_path / "c", export), "of its 2 files, 1 matched no --pattern, 1 "
                "ignored (only notebooks are collected)")
    assert not (tmp_path / "c").exists()
    assert_slip(_collect(capsys, tmp_path / "c", export, "--pattern", "(?P<student"),
                "--pattern is not a regular expression")
    assert_slip(_collect(capsys, tmp_path / "c", export, "--pattern", "(?P<who>.*)"), "(?P<student>")
    assert_slip(_collect(capsys, tmp_path / "c", export, "--deadline", "friday"),
                "--deadline", "not an ISO time")


# --- autograde, feedback, report before there is anything to work on ---------------------------

def test_autograde_with_no_submissions(capsys, tmp_path):
    course = tmp_path / "course"
    err = assert_slip(run(capsys, "autograde", LESSON, "--course-dir", course),
                      f"no submissions of {LESSON} in {course / 'submitted'}/",
                      f"`grader collect {LESSON} EXPORT --course-dir {course}` fills it")
    assert "holds" not in err
    assert not course.exists(), "nothing may be created"
    (course / "submitted" / "doejane" / "02-compile-choices").mkdir(parents=True)
    assert_slip(run(capsys, "autograde", LESSON, "--course-dir", course),
                "it holds submissions of 02-compile-choices")
    assert sorted(p.name for p in course.iterdir()) == ["submitted"]


def test_autograde_a_student_who_did_not_submit(capsys, tmp_path):
    for student in ("doejane", "roejohn"):
        (tmp_path / "submitted" / student / LESSON).mkdir(parents=True)
    assert_slip(run(capsys, "autograde", LESSON, "--course-dir", tmp_path, "--student", "doejan"),
                "--student doejan", "doejane, roejohn")


def test_feedback_before_autograde(capsys, tmp_path):
    (tmp_path / "submitted" / "doejane" / LESSON).mkdir(parents=True)
    assert_slip(run(capsys, "feedback", LESSON, "--course-dir", tmp_path),
                f"nothing autograded for {LESSON}", f"`grader autograde {LESSON} --course-dir {tmp_path}`")
    assert not (tmp_path / "feedback").exists()


def _gradebook(course: Path, submissions: dict[str, int]) -> None:
    """A gradebook with nbgrader's own tables (its SQLAlchemy models, without the alembic run that
    takes seconds): each lesson with that many submissions."""
    import sqlite3

    import sqlalchemy
    from nbgrader.api import Base

    engine = sqlalchemy.create_engine(f"sqlite:///{course / 'gradebook.db'}")
    Base.metadata.create_all(engine)
    engine.dispose()
    with sqlite3.connect(course / "gradebook.db") as db:
        db.execute("INSERT INTO course (id) VALUES ('keras-course')")
        for n, (lesson, count) in enumerate(submissions.items()):
            db.execute("INSERT INTO assignment (id, name, course_id) VALUES (?, ?, 'keras-course')",
                       (f"a{n}", lesson))
            for k in range(count):
                db.execute("INSERT INTO student (id) VALUES (?)", (f"s{n}-{k}",))
                db.execute("INSERT INTO submitted_assignment (id, assignment_id, student_id) "
                           "VALUES (?, ?, ?)", (f"sub{n}-{k}", f"a{n}", f"s{n}-{k}"))


def test_report_before_anything_was_graded(capsys, tmp_path):
    assert_slip(run(capsys, "report", "--course-dir", tmp_path), "nothing graded yet",
                "run `grader autograde LESSON")
    assert list(tmp_path.iterdir()) == [], "no gradebook, no reports folder"
    _gradebook(tmp_path, {TINY: 0})  # released (e.g. by the formgrader), never graded
    assert_slip(run(capsys, "report", "--course-dir", tmp_path), f"nothing graded yet for {TINY}")
    assert_slip(run(capsys, "report", TINY, "--course-dir", tmp_path), f"nothing graded yet for {TINY}")
    assert_slip(run(capsys, "report", LESSON, "--course-dir", tmp_path),
                f"no lesson '{LESSON}' in the gradebook", f"it holds: {TINY}")
    (tmp_path / "gradebook.db").write_bytes(b"not a database at all, but long enough" * 100)
    assert_slip(run(capsys, "report", "--course-dir", tmp_path), "is not a gradebook")
    assert not (tmp_path / "reports").exists()


def test_report_covers_the_graded_lessons(capsys, tmp_path, monkeypatch):
    from grader import report

    _gradebook(tmp_path, {TINY: 2, LESSON: 0})
    asked = []
    monkeypatch.setattr(report, "report", lambda course, lessons: asked.append(lessons) or [])
    assert run(capsys, "report", "--course-dir", tmp_path)[0] == 0
    assert_slip(run(capsys, "report", TINY, LESSON, "--course-dir", tmp_path),
                f"nothing graded yet for {LESSON}")
    assert asked == [[TINY]]


# --- options out of range -----------------------------------------------------------------------

@pytest.mark.parametrize("option, value, words", [
    ("--jobs", "0", ["--jobs", "0 is out of range: give 1 to"]),
    ("--jobs", "-3", ["--jobs", "out of range"]),
    ("--jobs", "two", ["--jobs", "'two' is not a whole number"]),
    ("--jobs", str(4 * (os.cpu_count() or 1) + 1), ["--jobs", "4 per core at most"]),
    ("--cell-timeout", "0", ["--cell-timeout", "out of range"]),
    ("--time-limit", "nan", ["--time-limit", "out of range"]),
    ("--time-limit", "-1", ["--time-limit", "out of range"]),
    ("--memory-gb", "0", ["--memory-gb", "out of range"]),
    ("--memory-gb", "1e9", ["--memory-gb", "out of range: give 0.1 to 1024 GiB"]),
    ("--memory-gb", "inf", ["--memory-gb", "out of range"]),
])
@pytest.mark.parametrize("command", ["autograde", "feedback"])
def test_a_limit_out_of_range(capsys, tmp_path, command, option, value, words):
    assert_slip(run(capsys, command, LESSON, option, value, "--course-dir", tmp_path), *words,
                f"`grader {command} --help`")


def test_limits_that_do_not_fit_together_or_this_machine(capsys, tmp_path):
    assert_slip(run(capsys, "autograde", LESSON, "--cell-timeout", "600", "--time-limit", "300",
                    "--course-dir", tmp_path), "--cell-timeout 600 s is longer than --time-limit 300 s")
    more = f"{cli._memory_gib() + 1:.0f}"
    assert_slip(run(capsys, "feedback", LESSON, "--memory-gb", more, "--course-dir", tmp_path),
                f"--memory-gb {more} is more than this machine's memory")


def test_a_missing_argument_is_one_line_too(capsys):
    assert_slip(run(capsys, "collect", LESSON), "required: source", "`grader collect --help`")


# --- a real bug keeps its traceback; the console script, end to end -----------------------------

def test_a_bug_is_not_a_slip(capsys, tmp_path, monkeypatch):
    from grader import report

    def broken(course_root):
        raise KeyError("a bug")

    monkeypatch.setattr(report, "graded_lessons", broken)
    with pytest.raises(KeyError):
        main(["report", "--course-dir", str(tmp_path)])


def test_the_grader_command_answers_before_loading_nbgrader(tmp_path):
    """The installed ``grader`` script: status 2, one line; and no slip imports nbgrader (seconds)."""
    grader = Path(sys.executable).parent / "grader"
    proc = subprocess.run([grader, "autograde", "99-no-such-lesson"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("grader: unknown lesson") and not proc.stdout
    slips = [["autograde", "99-no-such-lesson"], ["autograde", LESSON, "--course-dir", str(tmp_path)],
             ["collect", LESSON, str(tmp_path / "missing.zip")], ["feedback", LESSON, "--course-dir",
             str(tmp_path)], ["report", "--course-dir", str(tmp_path)], ["autograde", LESSON, "-j", "0"]]
    script = ("import sys\nfrom grader.cli import main\n"
              f"for argv in {slips!r}:\n"
              "    try:\n        assert main(argv) == 2\n"
              "    except SystemExit as e:\n        assert e.code == 2\n"
              "print([m for m in ('nbgrader', 'nbformat', 'grader.config', 'kerascourse', 'matplotlib')"
              " if m in sys.modules])\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", proc.stdout
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == len(slips)
