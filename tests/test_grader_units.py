"""Fast tests of the grader's pure functions: parsing, caps, pre-checks, reasons, the guard's restore.

No kernel starts here; each test takes milliseconds. The end-to-end behaviour of the same code is
proven by the real grading runs in test_grading_integrity.py and test_instructor_grading.py.
"""

from __future__ import annotations

import io
import json
import re
import sys
import types
import urllib.parse
import zipfile
from pathlib import Path

import nbformat
import pytest
from helpers import FIXTURE_LESSONS, REPO_ROOT

from grader import collect
from grader.cells import hidden_lines, is_test_cell, nbgrader_meta, released_source
from grader.config import nbgrader_cli_args
from grader.kernel import GUARD_SCRIPT
from grader.limits import COURSE_LIMITS, limits_from_json, limits_to_json
from grader.merge import failure_reason
from grader.output_caps import cap_output
from grader.precheck import Unreadable, check_folder, clean_notebook
from grader.preprocessors.guarded_execute import imports_of, names_imported_from
from grader.preprocessors.safe_feedback import SafeFeedback

TEST_SOURCE = ('assert f(1) == 2, "visible"\n### BEGIN HIDDEN TESTS\nassert f(2) == 4, "hidden"\n'
               "### END HIDDEN TESTS")


def test_hidden_tests_are_found_exactly_as_nbgrader_releases_them():
    assert released_source(TEST_SOURCE) == 'assert f(1) == 2, "visible"'
    assert hidden_lines(TEST_SOURCE) == {2, 3, 4}
    indented = "x = 1\n    #   ### BEGIN HIDDEN TESTS (indented)\nsecret()\n  ### END HIDDEN TESTS"
    assert released_source(indented) == "x = 1" and hidden_lines(indented) == {2, 3, 4}


def test_cell_roles_survive_hostile_metadata():
    for metadata in ({"nbgrader": None}, {"nbgrader": "x"}, None, {"nbgrader": {"grade": True}}):
        cell = {"cell_type": "code", "metadata": metadata, "source": ""}
        assert nbgrader_meta(cell) == ({"grade": True} if metadata and metadata.get("nbgrader") == {
            "grade": True} else {})
    assert is_test_cell({"cell_type": "code", "metadata": {"nbgrader": {"grade": True}}})
    answer = {"cell_type": "code", "metadata": {"nbgrader": {"grade": True, "solution": True}}}
    assert not is_test_cell(answer)


def test_limits_travel_as_json_and_the_cli_repeats_list_options():
    changed = COURSE_LIMITS.replace(cell_timeout_s=7, use_bwrap=False)
    assert limits_from_json(limits_to_json(changed)) == changed
    assert limits_from_json("") == COURSE_LIMITS
    args = nbgrader_cli_args({"A.b": ["x", "y"], "C.d": 3})
    assert args == ["--A.b=x", "--A.b=y", "--C.d=3"]


def test_cap_output_bounds_every_field():
    huge = "x" * 1_000_000
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": huge},
        {"output_type": "error", "ename": "E" * 1000, "evalue": huge, "traceback": [huge] * 500},
        {"output_type": "display_data", "data": {"text/plain": huge, "application/json": {"a": huge}},
         "metadata": {"m": huge}},
    ]
    for output in outputs:
        assert cap_output(output, 1000)
        assert len(json.dumps(output)) < 30_000, output["output_type"]
    small = {"output_type": "stream", "name": "stdout", "text": "ok"}
    assert not cap_output(small, 1000) and small["text"] == "ok"


def _nb_bytes(**change) -> bytes:
    nb = nbformat.read(FIXTURE_LESSONS / "00-tiny" / "00-tiny.ipynb", as_version=4)
    raw = json.loads(nbformat.writes(nb))
    for index, cell in change.items():
        raw["cells"][int(index.removeprefix("c"))].update(cell)
    return json.dumps(raw).encode()


@pytest.mark.parametrize("data, verdict", [
    (b"", "empty file"),
    (b"\xff\xfe\x00", "corrupt notebook (not JSON)"),
    (b"[1, 2]", "corrupt notebook (no cells)"),
    (_nb_bytes(c1={"source": 42}), "corrupt notebook (cell 1: its source is not text)"),
    (_nb_bytes(c1={"cell_type": "python"}), "corrupt notebook (cell 1: not a cell)"),
])
def test_clean_notebook_rejects_what_nbgrader_would_crash_on(data, verdict):
    with pytest.raises(Unreadable, match=verdict.replace("(", r"\(").replace(")", r"\)")):
        clean_notebook(data, 10**6)


def test_clean_notebook_repairs_what_it_safely_can():
    nb = clean_notebook(_nb_bytes(c4={"metadata": {"nbgrader": None}, "source": ["a", "b"]}), 10**6)
    assert nb.cells[4].source == "ab" and "nbgrader" not in nb.cells[4].metadata
    with pytest.raises(Unreadable, match="too large"):
        clean_notebook(_nb_bytes(), 100)


def test_check_folder_reads_regular_notebooks_only(tmp_path):
    expected = {"00-tiny": {"ex1-tests": released_source(TEST_SOURCE)}}
    (tmp_path / "mine.ipynb").write_bytes(_nb_bytes())
    (tmp_path / "numpy.py").write_text("raise SystemExit")
    (tmp_path / "link.ipynb").symlink_to("/etc/passwd")
    check = check_folder(tmp_path, expected, 10**6)
    assert check.gradable and list(check.notebooks) == ["00-tiny"]
    notes = "; ".join(check.notes)
    assert "renamed notebook 'mine.ipynb'" in notes and "numpy.py" in notes and "not a regular file" in notes
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_folder(empty, expected, 10**6).problem == "no notebook submitted"


def test_collect_never_writes_outside_the_course_folder(tmp_path):
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as zf:
        zf.writestr("../../escape_1_00-tiny.ipynb", b"{}")
        zf.writestr("/abs/olute_1_00-tiny.ipynb", b"{}")
        zf.writestr("good_1_00-tiny.ipynb", b"{}")
        zf.writestr("good_1_helper.py", b"import os")
        zf.writestr("..%2f_1_00-tiny.ipynb", b"{}")
    course = tmp_path / "course"
    collected = collect.collect(export, course, "00-tiny", notebooks=["00-tiny.ipynb"])
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(course in p.parents or p == export for p in written), written
    assert (course / "submitted" / "good" / "00-tiny" / "00-tiny.ipynb").exists()
    assert not (course / "submitted" / "good" / "00-tiny" / "helper.py").exists()
    statuses = {c.path: c.status for c in collected}
    assert statuses["good_1_helper.py"].startswith("ignored")
    assert collect.safe_relpath("../../a/./b", 3) == collect.PurePosixPath("a/b")
    assert collect.safe_relpath("../..", 3).name == "member-3"


def test_failure_reasons_name_the_cause():
    assert "kernel died" in failure_reason("nbclient.exceptions.DeadKernelError: Kernel died")
    assert "did not start" in failure_reason("RuntimeError: Kernel didn't respond in 60 seconds")
    assert failure_reason("") == "nbgrader exited with an error"


def test_imports_of_reads_the_locked_cells_imports():
    assert imports_of("import numpy as np\nfrom keras import layers\nfrom . import x\nimport a.b") == [
        "numpy", "keras", "a.b"]
    assert imports_of("def (") == []
    assert names_imported_from("from kerascourse import setup_notebook as s, show_images\n"
                               "from . import x\nfrom numpy import *\nimport keras") == [
        ("kerascourse", "setup_notebook"), ("kerascourse", "show_images")]


def test_safe_feedback_keeps_only_inert_outputs():
    cell = nbformat.v4.new_code_cell("x", metadata={"nbgrader": {"grade": True, "grade_id": "t", "score": 0.0,
                                                                  "points": 2.0, "solution": False}})
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": "<script>alert(1)</script>",
                                                      "image/png": "bad\"onerror=x", "text/plain": "ok"}),
        nbformat.v4.new_output("display_data", data={"application/javascript": "alert(1)"}),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    SafeFeedback().preprocess(nb, {})
    data = [o["data"] for o in nb.cells[0].outputs if "data" in o]
    assert data == [{"text/plain": "ok"}, {"text/plain": "[output not shown in feedback]"}]
    assert nb.cells[0].outputs[-1]["ename"] == "HiddenTestFailed"


# --- the guard, run against a stand-in for IPython's shell ------------------------------------


class _Events:
    def __init__(self):
        self.callbacks = {"pre_run_cell": [], "post_run_cell": [], "post_execute": []}


class _Kernel:
    def __init__(self):
        self.shell_handlers = {"execute_request": self.do_execute}
        self.control_handlers = {}

    def do_execute(self, code):
        return "real"


class _Shell:
    def __init__(self):
        self.kernel = _Kernel()
        self.events = _Events()
        self.input_transformers_post = []
        self.ast_transformers = []
        self.user_ns = {"np": types}

    def run_cell(self, source):
        return "real"


@pytest.fixture
def guard(monkeypatch):
    """guard.py executed as boot.py executes it, with a stand-in shell armed and snapshotted."""
    import gc
    import hashlib
    import os
    import signal

    read, write = os.pipe()
    import builtins

    namespace = {"__builtins__": dict(vars(builtins)), "__name__": "grader_guard"}
    exec(compile(Path(GUARD_SCRIPT).read_text(), "<grader guard>", "exec"), namespace)
    namespace.update(_KEY=b"k" * 32, _CHANNEL=write, _write=os.write, _blake2b=hashlib.blake2b,
                     _exit=os._exit, _sigmask=signal.pthread_sigmask, _SIG_BLOCK=signal.SIG_BLOCK,
                     _SIG_SETMASK=signal.SIG_SETMASK, _ALL_SIGNALS=signal.valid_signals(),
                     _gc_disable=gc.disable, _gc_enable=gc.enable, _gc_isenabled=gc.isenabled, _sys=sys,
                     _ALWAYS_PROTECTED=("math",))
    shell = _Shell()
    streams = io.StringIO(), io.StringIO()  # the guard watches sys.stdout: not pytest's, which it swaps

    def ask(command, *extra):
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = streams
        try:
            namespace["_guard"]((command, "0" * 32, *extra))
        finally:
            sys.stdout, sys.stderr = saved
        line = os.read(read, 65536).decode().strip()
        assert line.startswith("GRADER-GUARD ")
        body, mac = line.removeprefix("GRADER-GUARD ").rsplit(" ", 1)
        assert mac == hashlib.blake2b(body.encode(), key=b"k" * 32, digest_size=16).hexdigest()
        return [item for item in body.split(" ", 3)[3].split("|") if item]

    assert ask("arm", shell) == [] and ask("snapshot") == []
    yield shell, ask
    os.close(read)
    os.close(write)


def test_guard_finds_nothing_on_an_untouched_kernel(guard):
    shell, ask = guard
    shell.kernel.execution_count = 5  # data changes as honest code runs
    assert ask("before") == [] and ask("after") == []


def test_guard_restores_every_kind_of_tampering(guard):
    import math

    shell, ask = guard
    shell.input_transformers_post.append(lambda lines: ["pass\n"])
    shell.events.callbacks["post_run_cell"].append(print)
    shell.run_cell = lambda source: "fake"
    shell.kernel.do_execute = lambda code: "fake"
    original_sqrt = math.sqrt
    math.sqrt = lambda x: 3
    shell.user_ns["np"] = "not a module"
    shell.user_ns["isinstance"] = lambda *a: True
    found = " | ".join(ask("before"))
    for what in ("input_transformers_post", "post_run_cell", "shell.run_cell", "do_execute", "math.sqrt",
                 "user namespace: np", "shadows the builtin isinstance"):
        assert what in found, (what, found)
    assert shell.input_transformers_post == [] and shell.events.callbacks["post_run_cell"] == []
    assert shell.run_cell("x") == "real" and shell.kernel.do_execute("x") == "real"
    assert math.sqrt is original_sqrt and shell.user_ns["np"] is types and "isinstance" not in shell.user_ns
    assert ask("before") == []


def test_guard_restores_class_patches_and_reports_tests_that_trace(guard):
    shell, ask = guard
    real = _Kernel.do_execute
    _Kernel.do_execute = lambda self, code: "fake"
    try:
        assert any("_Kernel.do_execute" in item for item in ask("before"))
        assert _Kernel.do_execute is real
    finally:
        _Kernel.do_execute = real
    assert ask("before") == []


def test_boot_script_keeps_the_key_out_of_reach(tmp_path):
    """The key file is gone and nothing but the guard holds the key; gc.get_objects stops the kernel."""
    import subprocess

    key_dir = tmp_path / "g"
    key_dir.mkdir()
    (key_dir / "key").write_bytes(b"s" * 32)
    boot = GUARD_SCRIPT.with_name("boot.py")
    code = (
        "import importlib.util, os, sys\n"
        f"spec = importlib.util.spec_from_file_location('boot', {str(boot)!r})\n"
        "boot = importlib.util.module_from_spec(spec); spec.loader.exec_module(boot)\n"
        "boot._install_guard()\n"
        f"print(os.path.exists({str(key_dir / 'key')!r}), 'GRADER_GUARD_DIR' in os.environ,"
        " any(v == b's' * 32 for v in vars(boot).values() if isinstance(v, bytes)), flush=True)\n"
        "import gc\ngc.get_objects()\nprint('not reached')\n"
    )
    env = {"GRADER_GUARD_DIR": str(key_dir), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.stdout.splitlines()[0] == "False False False", proc.stdout + proc.stderr
    assert "not reached" not in proc.stdout and proc.returncode == 86
    assert "GRADER-GUARD-KILL gc.get_objects" in proc.stderr


def test_the_formgrader_runs_the_same_pipelines(monkeypatch, tmp_path):
    """The instructor's JupyterLab (formgrader buttons) reads jupyter/instructor/nbgrader_config.py:
    its autograde and feedback converters get the course's preprocessors and feedback page."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.converters import Autograde, GenerateFeedback
    from traitlets.config import Config, PyFileConfigLoader

    from kerascourse.lab import config_dir

    loader = PyFileConfigLoader("nbgrader_config.py", path=str(config_dir(instructor=True)))
    config = loader.load_config()
    assert isinstance(config, Config)
    autograde = Autograde(config=config)
    assert autograde.autograde_preprocessors[0] == "grader.preprocessors.GuardedExecute"
    feedback = GenerateFeedback(config=config)
    assert feedback.preprocessors[0] == "grader.preprocessors.StripHiddenTests"
    assert "grader.preprocessors.FeedbackExecute" in feedback.preprocessors
    exporter = HTMLExporter(parent=feedback, config=feedback.config)  # as nbgrader builds it
    assert exporter.template_name == "course_feedback" and exporter.sanitize_html
    # ... and only there: the formgrader's own pages keep nbgrader's templates (its manual grading
    # page fails otherwise), here and on the hub, whose config applies the same settings
    assert HTMLExporter(config=config).template_name != "course_feedback"
    monkeypatch.setenv("KERAS_COURSE_DIR", str(tmp_path))  # what the hub sets for instructors
    hub = PyFileConfigLoader("nbgrader_config.py", path=str(REPO_ROOT / "hub" / "jupyter")).load_config()
    assert HTMLExporter(config=hub).template_name != "course_feedback"
    assert HTMLExporter(parent=GenerateFeedback(config=hub), config=hub).template_name == "course_feedback"


def test_an_undecodable_folder_name_is_reported_not_fatal(tmp_path):
    """A student folder whose name is not text is one line in the report; nobody else is stopped."""
    import os

    from grader.feedback import generate_feedback
    from grader.precheck import student_folders

    for parent in ("submitted", "autograded"):
        (tmp_path / parent / os.fsdecode(b"caf\xe9") / "00-tiny").mkdir(parents=True)
        (tmp_path / parent / "plain" / "00-tiny").mkdir(parents=True)
    assert student_folders(tmp_path / "submitted", "00-tiny") == (["plain"], [os.fsdecode(b"caf\xe9")])
    results = generate_feedback(tmp_path, "00-tiny", students=None, jobs=1)
    bad = [r for r in results if r.student.startswith("caf")]
    assert bad and bad[0].problem == "unusable student folder name"
    assert any(r.student == "plain" for r in results), "the other student must still be processed"


def test_a_format_3_notebook_is_converted_and_graded(tmp_path):
    """IPython 2's format (cells in "worksheets") is converted by nbformat, not called corrupt."""
    from nbformat.v3 import nbbase as v3

    tiny = nbformat.read(FIXTURE_LESSONS / "00-tiny" / "00-tiny.ipynb", as_version=4)
    cells = [v3.new_code_cell(input=c.source, metadata=c.metadata) if c.cell_type == "code"
             else v3.new_text_cell(c.cell_type, source=c.source, metadata=c.metadata) for c in tiny.cells]
    old = v3.new_notebook(worksheets=[v3.new_worksheet(cells=cells)])
    (tmp_path / "00-tiny.ipynb").write_text(json.dumps(old))
    check = check_folder(tmp_path, {"00-tiny": {"ex1-tests": released_source(TEST_SOURCE)}}, 10**6)
    assert check.gradable, check.problem
    assert "00-tiny.ipynb: converted from notebook format 3" in check.notes
    converted = nbformat.reads(check.notebooks["00-tiny"].decode(), as_version=4)
    assert [c.source for c in converted.cells] == [c.source for c in tiny.cells]
    assert [c.metadata.get("nbgrader") for c in converted.cells] == [c.metadata.get("nbgrader")
                                                                     for c in tiny.cells]
    with pytest.raises(Unreadable, match=r"corrupt notebook \(format 3, cannot be converted"):
        clean_notebook(b'{"nbformat": 3, "worksheets": [{"cells": [{"cell_type": "code", "input": 5}]}]}',
                       10**6)
    with pytest.raises(Unreadable, match="notebook format 2, not 4 .*save it"):
        clean_notebook(b'{"nbformat": 2, "worksheets": []}', 10**6)


def test_a_lone_surrogate_is_not_gradable_not_an_internal_error(tmp_path):
    """JSON may escape half a UTF-16 pair; nothing can write it back, so it is the student's line."""
    data = _nb_bytes(c2={"source": "x = 1  # caf\ud800"})
    assert b"\\ud800" in data
    (tmp_path / "00-tiny.ipynb").write_bytes(data)
    check = check_folder(tmp_path, {"00-tiny": {}}, 10**6)
    assert check.problem == r"corrupt notebook (cell 2: a lone surrogate '\ud800', not valid Unicode)"
    assert not check.gradable and not check.notebooks


def test_guard_protects_what_the_locked_cells_import_and_their_public_submodules():
    import json as _json  # noqa: F401 (loaded, so its submodules are in sys.modules)
    import xml.dom  # noqa: F401

    from grader.kernel import GUARD_SCRIPT

    namespace = {"__name__": "grader_guard"}
    exec(compile(Path(GUARD_SCRIPT).read_text(), "<grader guard>", "exec"), namespace)
    namespace["_sys"] = sys
    names = namespace["_protected_modules"](("json", "xml"))
    assert {"builtins", "kerascourse.probes", "json", "json.decoder", "xml", "xml.dom"} <= set(names)
    assert not [n for n in names if n.startswith("json._") or n.count(".") > 1 and n.startswith("xml.")]
    assert "numpy" not in names  # only what the lesson imports (the grader always adds numpy, math)
    assert namespace["_protected_modules"]("not a tuple") == list(namespace["_ALWAYS_PROTECTED"])


def test_only_autograde_runs_are_guarded_whatever_the_settings():
    """traitlets applies a class's settings to its subclasses: feedback must not inherit autograde's."""
    from traitlets.config import Config

    from grader.config import apply_to, nbgrader_settings
    from grader.preprocessors import FeedbackExecute, GuardedExecute

    config = Config()
    apply_to(config, nbgrader_settings(Path("/tmp/course"), guard=True))
    assert not issubclass(FeedbackExecute, GuardedExecute)
    assert GuardedExecute(config=config).guard_kernel is True
    assert FeedbackExecute(config=config).guard_kernel is False
    config.GuardedExecute.guard = False  # the benchmark's unguarded run
    assert GuardedExecute(config=config).guard_kernel is False


def test_the_formgrader_renders_nothing_a_student_could_run():
    """The manual grading page renders the autograded notebook with nbgrader's own template and no
    sanitizer, in the instructor's session: autograde's last step leaves nothing there to run."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.converters import Autograde
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config, PyFileConfigLoader

    from grader.inert import JOINER
    from grader.preprocessors import InertNotebook
    from kerascourse.lab import config_dir

    config = PyFileConfigLoader("nbgrader_config.py", path=str(config_dir(instructor=True))).load_config()
    assert Autograde(config=config).autograde_preprocessors[-1] == "grader.preprocessors.InertNotebook"
    formgrade = Config()  # what nbgrader's FormgradeExtension adds for its exporter
    formgrade.HTMLExporter.template_name = "formgrade"
    formgrade.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    config.merge(formgrade)

    png = "iVBORw0KGgo="
    attacks = {
        "md-img": "<img src=\"x\" onerror=\"alert('md-img')\">",
        "md-script": "<script>alert('md-script')</script>",
        "out-html": "<img src=x onerror=alert('out-html')>", "out-js": "alert('out-js')",
        "out-md": "<img src=\"x\" onerror=\"alert('out-md')\">",
        "out-svg": "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert('out-svg')\"></svg>",
        "raw": "<script>alert('raw')</script>", "sup-attr": "<sup onmouseover=\"alert('sup-attr')\">2</sup>",
        # Links that run script when the instructor clicks them (the image runs nothing today):
        # written plainly, in another case, with character references, an escaped colon, as a
        # reference definition, and as an image source. (A tab in the scheme, which a browser
        # drops from a URL, reaches the page %-escaped, which no browser drops.)
        "link": "[my plot](javascript:alert('link'))", "link-case": "[a](JaVaScRiPt:alert('link-case'))",
        "link-entity": "[b](&#106;avascript&#58;alert('link-entity'))",
        "link-escaped": "[c](javascript\\:alert('link-escaped'))",
        "link-ref": "[e][ref]\n\n[ref]: vbscript:alert('link-ref')",
        "link-img": "![f](javascript:alert('link-img'))",
        # Markup that a guess at where markdown's code ends would have let through.
        "code-runs": "`` [g](javascript:alert('code-runs')) `",
        "fence-indent": "```\n  ```\nsee <img src=\"x\" onerror=\"alert('fence-indent')\">\n```",
    }
    links = [name for name in attacks if name.startswith(("link", "code-", "fence-"))]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"My answer: x<sup>2</sup>, `<div>` and x < 0. {attacks['md-img']} "
                                      f"{attacks['md-script']} {attacks['sup-attr']}\n\n```\na<b\n```"),
        *(nbformat.v4.new_markdown_cell(attacks[name]) for name in links),
        nbformat.v4.new_markdown_cell("Plain prose keeps its words: javascript is not run here, "
                                      "`javascript:void(0)` in code, R&D, [docs](https://keras.io)."),
        nbformat.v4.new_code_cell("plot()", outputs=[
            nbformat.v4.new_output("display_data", data={"text/html": attacks["out-html"],
                                                          "text/plain": "kept text"}),
            nbformat.v4.new_output("display_data", data={"application/javascript": attacks["out-js"]}),
            nbformat.v4.new_output("display_data", data={"text/markdown": attacks["out-md"]}),
            nbformat.v4.new_output("display_data", data={"image/svg+xml": attacks["out-svg"]}),
            nbformat.v4.new_output("display_data", data={"image/png": png}),
            nbformat.v4.new_output("stream", text="printed\n")]),
        nbformat.v4.new_raw_cell(attacks["raw"],
                                 metadata={"format": "text/html", "raw_mimetype": "text/html"}),
    ])
    resources = {"assignment_id": "a", "notebook_id": "n", "submission_id": "s", "index": 0, "total": 1,
                 "base_url": "", "student": "st", "last_name": "", "first_name": "", "notebook_path": "n"}
    exporter = HTMLExporter(config=config)
    before, _ = exporter.from_notebook_node(nb, resources=dict(resources))
    # Six reach this page as they are; it shows SVG as an image and raw cells as text (other
    # templates pass raw HTML through): the step makes those inert too.
    assert _scripted(before, attacks) == set(attacks) - {"out-svg", "raw"}, "the attacks should work"

    InertNotebook().preprocess(nb, {})
    after, _ = exporter.from_notebook_node(nb, resources=dict(resources))
    assert not _scripted(after, attacks), "a student's markup would run in the instructor's page"
    shown = after.replace(JOINER, "")  # what the instructor reads: the joiners are invisible
    for kept in ("kept text", png, "printed", "x<sup>2</sup>", "<code>&lt;div&gt;</code>", "x &lt; 0",
                 "a&lt;b", "javascript is not run", "<code>javascript:void(0)</code>", "R&amp;D",
                 'href="https://keras.io"', '&lt;img src="x" onerror='):
        assert kept in shown, f"{kept!r} should still be shown"


def test_no_markdown_a_student_writes_is_markup_after_autograde():
    """Thousands of markdown cells made of the pieces that change how markdown parses (backticks,
    fences, escapes, character references, brackets, line breaks) and of attack fragments: none
    renders as a script, an event handler or a script link once made inert."""
    import random

    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    from grader.inert import inert_markdown

    pieces = ["`", "``", "```", "~~~", "\n", "\n\n", "  ", "    ", "\\", "&", "#", ";", "<", ">", "[", "]",
              "(", ")", ":", "java", "script", "javascript", "vbscript", "alert(1)", "x", "&#106;",
              "&amp;", "&#96;", "&#x3A;", "&colon;", "\t", "<img src=x onerror=alert(1)>", "[r]: ",
              "<img src=\"x\" onerror=\"alert(1)\">", "[r]", "!", "- ", "> ", "# ", "*", "_", '"', "'",
              "<javascript:alert(1)>"]
    rng = random.Random(2026)
    sources = ["".join(rng.choice(pieces) for _ in range(rng.randint(3, 25))) for _ in range(3000)]
    live = [source for source in sources if _live(markdown2html_mistune(source))]
    assert len(live) > 300, "the cells should hold live attacks before they are made inert"
    still = [source for source in sources
             if _live(markdown2html_mistune(inert_markdown(source)))]
    assert not still, f"{len(still)} cells still render markup, e.g. {still[:3]}"
    # A reference too long for int() (Python stops at 4,300 digits) is broken like any other.
    assert inert_markdown("&#" + "1" * 5000 + ";").startswith("&\u2060#1")


def _scripted(html: str, attacks: dict[str, str]) -> set[str]:
    """The attacks whose ``alert('name')`` sits where a browser runs it (:func:`_live`)."""
    return {name for name in attacks if any(f"alert('{name}')" in text for text in _live(html))}


def _live(html: str) -> list[str]:
    """What a browser would run in ``html``: ``on...`` attributes, script elements, and URL
    attributes with a script scheme, read as a browser reads a URL (surrounding spaces and controls
    stripped, tabs and newlines dropped, %-escapes decoded). Escaped text runs nothing."""
    from bs4 import BeautifulSoup

    active = []
    for tag in BeautifulSoup(html, "html.parser").find_all(True):
        active += [str(v) for k, v in tag.attrs.items() if k.lower().startswith("on")]
        for key in ("href", "src", "action", "formaction", "xlink:href"):
            url = re.sub(r"[\t\n\r]", "", str(tag.get(key, ""))).strip("".join(map(chr, range(33))))
            if url.lower().startswith(("javascript:", "vbscript:")):
                active.append(urllib.parse.unquote(url))  # the browser decodes it before running it
        if tag.name == "script":
            active.append(tag.get_text())
    return active
