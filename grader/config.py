"""The course's nbgrader configuration, in one place.

nbgrader reads it three ways, all from :func:`nbgrader_settings`: ``jupyter/instructor/`` and
``jupyter/student/`` (the formgrader and the Validate button), :func:`nbgrader_cli_args` (the
course's commands and tests, which run nbgrader as a subprocess), and the tests' scratch course
folders. The settings put the course's preprocessors (``grader/preprocessors/``) into nbgrader's
autograde and feedback pipelines, so every path that grades or writes feedback, by command or by
button, runs the same sandboxed, guarded steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbgrader

from grader.limits import COURSE_LIMITS, Limits, limits_to_json
from kerascourse.paths import REPO_ROOT

COURSE_ID = "keras-course"
SOLUTIONS_DIR = REPO_ROOT / "solutions"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
GRADING_DIR = REPO_ROOT / "grading"  # the instructor's working course folder (git-ignored)
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_NBGRADER_TEMPLATES = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"

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

AUTOGRADE_PIPELINE = [
    "grader.preprocessors.GuardedExecute",  # instead of nbgrader's Execute
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
    "grader.preprocessors.InertNotebook",  # last: what the formgrader renders runs nothing
]
FEEDBACK_PIPELINE = [
    "grader.preprocessors.StripHiddenTests",
    "nbgrader.preprocessors.ClearOutput",
    "grader.preprocessors.FeedbackExecute",
    "nbgrader.preprocessors.GetGrades",
    "grader.preprocessors.SafeFeedback",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

CELL_TIMEOUT_S = COURSE_LIMITS.cell_timeout_s  # what the Validate button and nbval allow per cell


def nbgrader_settings(
    course_root: Path = GRADING_DIR,
    *,
    source: Path = SOLUTIONS_DIR,
    release: Path = NOTEBOOKS_DIR,
    limits: Limits = COURSE_LIMITS,
    evidence_file: Path | None = None,
    guard: bool = True,
    reference_file: Path | None = None,
    reference_mode: bool = False,
) -> dict[str, Any]:
    """nbgrader's configuration as ``{'Class.trait': value}``.

    ``course_root`` holds the gradebook and the submitted/autograded/feedback folders; the source
    (``solutions/``) and release (``notebooks/``) folders are given as absolute paths, which
    nbgrader joins onto the root unchanged, so any scratch course folder grades the real lessons.
    ``evidence_file``: where autograding writes what the guard found (the course's commands read it).
    ``guard=False`` grades without the guard (only the benchmark does, to measure what it costs).
    ``reference_file``: the lesson's reference observations (:mod:`grader.expected`); without one,
    autograde computes it into the course folder first. ``reference_mode``: record the probes'
    observations instead of judging them (the reference run of the solution).
    """
    course_root = Path(course_root).resolve()
    settings = {
        "CourseDirectory.course_id": COURSE_ID,
        "CourseDirectory.root": str(course_root),
        "CourseDirectory.source_directory": str(Path(source).resolve()),
        "CourseDirectory.release_directory": str(Path(release).resolve()),
        "CourseDirectory.db_url": f"sqlite:///{course_root / 'gradebook.db'}",
        "Execute.timeout": limits.cell_timeout_s,
        "IgnorePattern.enabled": True,
        "IgnorePattern.pattern": STDERR_NOISE_PATTERN,
        "Autograde.autograde_preprocessors": AUTOGRADE_PIPELINE,
        "GenerateFeedback.preprocessors": FEEDBACK_PIPELINE,
        "GuardedExecute.timeout": limits.cell_timeout_s,
        "GuardedExecute.limits_json": limits_to_json(limits),
        "GuardedExecute.guard": guard,
        "GuardedExecute.course_root": str(course_root),
        "GuardedExecute.source_dir": str(Path(source).resolve()),
        "GuardedExecute.reference_mode": reference_mode,
        "FeedbackExecute.timeout": limits.cell_timeout_s,
        "FeedbackExecute.limits_json": limits_to_json(limits),
        "SafeFeedback.output_chars": limits.output_chars,
        "InertNotebook.output_chars": limits.output_chars,
        "LimitOutput.max_lines": 2000,
        "ExchangeFactory.collect": "grader.exchange_collect.CourseCollect",  # trusts no inbound folder
        "HTMLExporter.template_name": "course_feedback",
        "HTMLExporter.template_file": "feedback_page.html.j2",
        "HTMLExporter.extra_template_basedirs": [str(TEMPLATES_DIR), str(_NBGRADER_TEMPLATES)],
        "HTMLExporter.sanitize_html": True,
    }
    if evidence_file is not None:
        settings["GuardedExecute.evidence_file"] = str(evidence_file)
    if reference_file is not None:
        settings["GuardedExecute.reference_file"] = str(reference_file)
    return settings


def nbgrader_cli_args(settings: dict[str, Any]) -> list[str]:
    """The same settings as nbgrader command-line options (``--Class.trait=value``).

    A list is given as the same option once per item: traitlets reads a list written in one
    option as a one-item list of that text for classes the application does not know in advance.
    """
    args = []
    for key, value in settings.items():
        values = value if isinstance(value, list) else [value]
        args += [f"--{key}={item}" for item in values]
    return args


def apply_to(config: Any, settings: dict[str, Any]) -> None:
    """Apply the settings to a traitlets config object (``c`` in an ``nbgrader_config.py``).

    The HTML exporter settings (the feedback page's template) go to the exporter of nbgrader's
    feedback converter only (``c.GenerateFeedback.HTMLExporter``): set for every HTML exporter, in
    a Jupyter server they would also replace the formgrader's own template, whose manual grading
    page then fails (500, ``TemplateNotFound: feedback_page.html.j2``).
    """
    for key, value in settings.items():
        cls, trait = key.split(".")
        owner = config.GenerateFeedback[cls] if cls == "HTMLExporter" else config[cls]
        setattr(owner, trait, value)
