"""The course's nbgrader configuration, in one place.

nbgrader reads it three ways, all from :func:`nbgrader_settings`:
``grader/nbgrader_config.py`` (instructors running ``nbgrader`` or the formgrader by hand),
:func:`nbgrader_cli_args` (the course's commands and tests, which run nbgrader as a subprocess),
and the tests' scratch course folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kerascourse.paths import REPO_ROOT

COURSE_ID = "keras-course"
SOLUTIONS_DIR = REPO_ROOT / "solutions"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
GRADING_DIR = REPO_ROOT / "grading"  # the instructor's working course folder (git-ignored)

# Per-cell limit. Lessons train small models for a few seconds; the limit only has to stop a
# runaway cell (nbgrader's default of 30 s is too tight for a training cell on a busy machine).
CELL_TIMEOUT_S = 120

# nbgrader scores a test cell 0 if it wrote anything to stderr, even when every assertion passed.
# TensorFlow's C++ logs and Python warnings from Keras are stderr noise, not a student's error
# (errors are 'error' outputs, which this does not touch), so autograde drops stderr that matches.
STDERR_NOISE_PATTERN = (
    r"(?m)^(?:"
    r"[IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\]"  # absl / glog lines: W0000 00:00:... file.cc:12]
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] "  # TensorFlow's own C++ log lines
    r"|WARNING: All log messages before absl::InitializeLog"
    r"|.*\b\w*Warning: "  # Python warnings: path:line: UserWarning: message
    r"|WARNING:(?:tensorflow|absl):"  # Python-side TF logging, e.g. the tf.function retracing notice
    r")"
)


def nbgrader_settings(
    course_root: Path = GRADING_DIR,
    *,
    source: Path = SOLUTIONS_DIR,
    release: Path = NOTEBOOKS_DIR,
) -> dict[str, Any]:
    """nbgrader's configuration as ``{'Class.trait': value}``.

    ``course_root`` holds the gradebook and the submitted/autograded/feedback folders; the source
    (``solutions/``) and release (``notebooks/``) folders are given as absolute paths, which
    nbgrader joins onto the root unchanged, so any scratch course folder grades the real lessons.
    """
    course_root = Path(course_root).resolve()
    return {
        "CourseDirectory.course_id": COURSE_ID,
        "CourseDirectory.root": str(course_root),
        "CourseDirectory.source_directory": str(Path(source).resolve()),
        "CourseDirectory.release_directory": str(Path(release).resolve()),
        "CourseDirectory.db_url": f"sqlite:///{course_root / 'gradebook.db'}",
        "Execute.timeout": CELL_TIMEOUT_S,
        "IgnorePattern.enabled": True,
        "IgnorePattern.pattern": STDERR_NOISE_PATTERN,
    }


def nbgrader_cli_args(settings: dict[str, Any]) -> list[str]:
    """The same settings as nbgrader command-line options (``--Class.trait=value``)."""
    return [f"--{key}={value}" for key, value in settings.items()]


def apply_to(config: Any, settings: dict[str, Any]) -> None:
    """Apply the settings to a traitlets config object (``c`` in an ``nbgrader_config.py``)."""
    for key, value in settings.items():
        cls, trait = key.split(".")
        setattr(config[cls], trait, value)
