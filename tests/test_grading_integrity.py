"""Grades a dishonest or sloppy submission cannot fool or stop: one real class, every attack.

One ``grader autograde`` run (the CLI, two workers, sandbox on) grades a class of the tiny fixture
lesson (``tests/fixtures/lessons/00-tiny``: two exercises, no TensorFlow, seconds per
submission) in which nearly every student attacks the grader a different way, then ``grader
feedback`` writes their pages. The checks, per attack class:

- tampering with the kernel (transformers, events, replaced methods, patched libraries, trace
  functions, forged outputs): a blank notebook still scores 0 and is reported as tampering;
  correct answers plus tampering lose the tampered exercises;
- the working folder (links to the gradebook, pipes, junk and extra notebooks, huge files,
  a module that shadows one the kernel imports): nothing reaches the gradebook or the course
  folder, the submission is graded normally;
- hostile files and metadata (``nbgrader: null``, a numeric source, a pipe, a link or an
  undecodable name in the submitted folder or as the student's name): one status line each;
- resources (fork bomb, a full ``/tmp``, a memory-hungry child, the environment, the network):
  bounded, invisible or unreachable;
- hidden tests in feedback (an updated display, an exception message carrying ``In``, an extra
  notebook): no page shows a hidden line;
- honest submissions (warnings on stderr, a plot, prints): full marks, status ``graded``.
Every other student is graded whatever the others do, and the status CSV lists everyone.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import sqlite3

import nbformat
import pytest
from helpers import FIXTURE_LESSONS, TINY, TINY_ANSWERS, read_nb, release_tiny, with_answers
from nbgrader.api import Gradebook

from grader import sandbox
from grader.cli import main as grader_main
from grader.gradebook import db_url

pytestmark = pytest.mark.notebook

LESSON = TINY
ADD, MEAN = TINY_ANSWERS["ex1-answer"], TINY_ANSWERS["ex2-answer"]
FULL = {"ex1-tests": 2.0, "ex2-tests": 2.0}
ZERO = {"ex1-tests": 0.0, "ex2-tests": 0.0}
SECRET_ENV = "GRADER_TEST_SECRET_VALUE"

# Kernel tampering that makes a blank notebook "pass" under plain nbgrader (answers left blank).
TAMPER_BLANK = {
    "output-before-test": (
        "ip = get_ipython()\nip.events.register('pre_run_cell', lambda *a: ip.displayhook(2.0))"),
    "input-transformer": "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
    "ast-transformer": (
        "import ast\nclass Gut(ast.NodeTransformer):\n    def visit_Module(self, node):\n"
        "        node.body = [ast.Pass()]\n        return node\n"
        "get_ipython().ast_transformers.append(Gut())"),
    "post-run-clears-error": (
        "from IPython.display import clear_output\ndef hide(result):\n    result.error_in_exec = None\n"
        "    clear_output()\nget_ipython().events.register('post_run_cell', hide)"),
    "wrapped-run-cell": (
        "ip = get_ipython()\n_orig = ip.run_cell_async\n"
        "async def run_cell_async(raw_cell, *a, **k):\n"
        "    return await _orig('pass' if 'assert' in raw_cell else raw_cell, *a, **k)\n"
        "ip.run_cell_async = run_cell_async\nip.run_cell = lambda raw_cell, *a, **k: None"),
    "replaced-do-execute": (
        "k = get_ipython().kernel\n_orig = k.do_execute\n"
        "async def do_execute(code, silent, *args, **kw):\n"
        "    return await _orig('pass' if 'grader.guard' not in code else code, silent, *args, **kw)\n"
        "k.do_execute = do_execute"),
    "class-patched-do-execute": (
        "k = get_ipython().kernel\n_orig = type(k).do_execute\n"
        "async def do_execute(self, code, silent, *args, **kw):\n"
        "    return await _orig(self, 'pass' if 'assert' in code else code, silent, *args, **kw)\n"
        "type(k).do_execute = do_execute"),
    "shadowed-builtins": (
        "import builtins, numpy\nnumpy.allclose = lambda *a, **k: True\n"
        "def add(a, b):\n    return AlwaysRight()\nclass AlwaysRight:\n    def __eq__(self, other):\n"
        "        return True\nbuiltins.AssertionError = type('Nope', (Exception,), {})"),
    "trace-jumps-asserts": (
        "import sys\ndef jump(frame, event, arg):\n"
        "    if event == 'line' and frame.f_code.co_filename.startswith('<ipython'):\n"
        "        try:\n            frame.f_lineno = frame.f_lineno + 1\n        except ValueError:\n"
        "            pass\n    return jump\n"
        "def add(a, b):\n    sys._getframe(1).f_trace = jump\n    sys.settrace(jump)\n    return 0"),
    "finds-the-guard": "import gc\nhooks = [o for o in gc.get_objects() if callable(o)]",
    # setup_notebook is loaded on first use (PEP 562): the guard's snapshot must hold it anyway.
    "patched-course-helper": "import kerascourse\nkerascourse.setup_notebook = lambda *a, **k: None",
}
# A blank notebook that switches the guard off from inside, with ctypes reads that raise none of
# the audit events the guard stops on (a pointer cast, then indexing: the interpreter's own state
# leads to its list of audit hooks and so to the guard's namespace), then makes every statement
# swallow its own failure (so each test cell still runs to its signed last line). The guard sees
# nothing; the grader's verdicts still give it nothing.
DEFEATS_THE_GUARD = (
    "import ctypes, types\n"
    "_P = ctypes.POINTER(ctypes.c_ssize_t)\n"
    "def _word(address):\n    return ctypes.cast(address, _P)[0]\n"
    "_get = ctypes.pythonapi.PyInterpreterState_Get\n_get.restype = ctypes.c_void_p\n"
    "_interp = _get()\n"
    "for _off in range(0, 200000, 8):\n"
    "    _w = _word(_interp + _off)\n"
    "    if _w and _w % 8 == 0 and abs(_w - _interp) < 1 << 40 and _word(_w + 8) == id(list):\n"
    "        _hooks = ctypes.cast(_w, ctypes.py_object).value\n"
    "        if [f for f in _hooks if type(f) is types.FunctionType and '_check' in f.__globals__]:\n"
    "            break\n"
    "_guard = [f for f in _hooks if '_check' in f.__globals__][0].__globals__\n"
    "_guard['_check'] = lambda: []\n"
    "_guard['_KILL_EVENTS'] = frozenset()\n"
    "import ast\n"
    "class _EachStatement(ast.NodeTransformer):\n"
    "    def visit_Module(self, node):\n"
    "        catch = [ast.ExceptHandler(type=ast.Name('BaseException', ast.Load()), body=[ast.Pass()])]\n"
    "        node.body = [ast.Try(body=[s], handlers=catch, orelse=[], finalbody=[]) for s in node.body]\n"
    "        return ast.fix_missing_locations(node)\n"
    "get_ipython().ast_transformers.append(_EachStatement())\n")
# Correct answers, then something nasty in the kernel's working folder or the machine.
HOSTILE_BUT_CORRECT = {
    "symlink-gradebook": (
        "import glob, os\nfor p in glob.glob('*'):\n    os.remove(p)\n"
        "os.symlink({gradebook!r}, '00-tiny.ipynb')\nos.symlink('/', 'root-link')"),
    "pipe-junk-extra-notebooks": (
        "import os, json\nos.mkfifo('00-tiny.ipynb.fifo')\nos.mkfifo('zz.ipynb')\n"
        "open('junk.ipynb', 'w').write('{{not json')\n"
        "open('leak.ipynb', 'w').write(json.dumps({{'cells': [], 'In': list(In)}}))\n"
        "try:\n    with open('huge.bin', 'wb') as f:\n        f.truncate(10**12)\n"
        "except OSError as e:\n    print('file size limit', e.errno)"),
    "resources": (
        "import os, subprocess, sys, time\n"
        "child = subprocess.run([sys.executable, '-c', 'b = bytearray(6 * 2**30)'], capture_output=True)\n"
        "print('child exit', child.returncode)\n"
        "try:\n    open('/tmp/fill', 'wb').write(b'x' * (700 * 2**20))\nexcept OSError as e:\n"
        "    print('tmp full', e.errno)\n"
        "pids = []\ntry:\n    for _ in range(3000):\n        pid = os.fork()\n        if pid == 0:\n"
        "            time.sleep(20)\n            os._exit(0)\n        pids.append(pid)\nexcept OSError:\n"
        "    pass\nprint('forked', len(pids))\n"
        "for pid in pids:\n    os.kill(pid, 9)\n    os.waitpid(pid, 0)"),
    "environment-and-network": (
        "import os, socket\nprint('ENV', sorted(os.environ))\n"
        "print('SECRET' if any('{secret}' in v for v in os.environ.values()) else 'no secret')\n"
        "try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n    print('NET reached')\n"
        "except OSError as e:\n    print('NET blocked')"),
}
# Correct answers that try to carry the hidden tests (which the graded run sends to the kernel, so
# ``In`` holds them) into the feedback page: a display updated later, an exception message, a file.
LEAKS = {
    "ex1-answer": "from IPython.display import display\ndisplay('placeholder', display_id='leak')\n" + ADD,
    "ex2-answer": MEAN + (
        "import json\nfrom IPython.display import update_display\n"
        "update_display(json.dumps(list(In)), display_id='leak')\n"
        "open('leak.ipynb', 'w').write(json.dumps({'cells': [], 'In': list(In)}))\n"
        "raise ValueError(json.dumps(list(In)))"),
}
HONEST = {
    "honest-warnings-and-plot": (
        "import warnings\nimport matplotlib.pyplot as plt\nplt.plot([1, 2], [3, 4])\nplt.title('a plot')\n"
        "plt.show()\ndef add(a, b):\n    warnings.warn('adding numbers')\n    return a + b\n"),
}


def _write(course, student: str, nb=None, *, data: bytes | None = None, name=f"{LESSON}.ipynb"):
    folder = course / "submitted" / student / LESSON
    folder.mkdir(parents=True, exist_ok=True)
    if data is None:
        data = nbformat.writes(nb).encode()
    (folder / name).write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The class, graded once by ``grader autograde`` and given feedback by ``grader feedback``."""
    course = tmp_path_factory.mktemp("integrity") / "course"
    student_nb = release_tiny(course)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    gradebook = str(course / "gradebook.db")

    _write(course, "good", with_answers(student_nb, {"ex1-answer": ADD, "ex2-answer": MEAN}))
    _write(course, "blank", student_nb)
    for name, code in TAMPER_BLANK.items():
        _write(course, f"blank-{name}", with_answers(student_nb, {"ex1-answer": code}))
    _write(course, "blank-defeats-the-guard", with_answers(student_nb, {"ex1-answer": DEFEATS_THE_GUARD}))
    _write(course, "correct-then-tamper", with_answers(student_nb, {
        "ex1-answer": ADD, "ex2-answer": MEAN + TAMPER_BLANK["input-transformer"]}))
    for name, code in HOSTILE_BUT_CORRECT.items():
        code = code.format(gradebook=gradebook, secret=SECRET_ENV, port=port)
        answers = {"ex1-answer": code + "\n" + ADD, "ex2-answer": MEAN}
        _write(course, name, with_answers(student_nb, answers))
    for name, code in HONEST.items():
        _write(course, name, with_answers(student_nb, {"ex1-answer": code, "ex2-answer": MEAN}))
    _write(course, "leaks-for-feedback", with_answers(student_nb, LEAKS))
    copied = with_answers(student_nb, {"ex1-answer": ADD, "ex2-answer": MEAN})
    for gid in ("setup", "ex1-answer", "ex1-tests"):  # copy and paste in JupyterLab keeps the metadata
        index = next(i for i, c in enumerate(copied.cells)
                     if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
        copied.cells.insert(index + 1, nbformat.from_dict(json.loads(json.dumps(copied.cells[index]))))
        copied.cells[index + 1].id = f"copy-of-{gid}"
    _write(course, "copied-cells", copied)
    folder = _write(course, "shadow-module", with_answers(student_nb, TINY_ANSWERS))
    for module in ("numpy.py", "ipykernel_launcher.py", "sitecustomize.py", "boot.py"):
        (folder / module).write_text("raise SystemExit('shadowed')\n")

    nulled = with_answers(student_nb, {"ex1-answer": ADD, "ex2-answer": MEAN})
    for cell in nulled.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ex1-tests":
            cell.metadata["nbgrader"] = None
    _write(course, "null-metadata", data=json.dumps(nulled).encode())
    numeric = json.loads(nbformat.writes(student_nb))
    numeric["cells"][1]["source"] = 42
    _write(course, "numeric-source", data=json.dumps(numeric).encode())
    _write(course, "garbage", data=b"\x89PNG not a notebook")
    correct = {"ex1-answer": ADD, "ex2-answer": MEAN}
    folder = _write(course, "odd-file-names", with_answers(student_nb, correct))
    (folder / os.fsdecode(b"\xff\xfe.ipynb")).write_text("{}")
    folder = course / "submitted" / "pipe" / LESSON
    folder.mkdir(parents=True)
    os.mkfifo(folder / f"{LESSON}.ipynb")
    folder = course / "submitted" / "link" / LESSON
    folder.mkdir(parents=True)
    (folder / f"{LESSON}.ipynb").symlink_to(FIXTURE_LESSONS / LESSON / f"{LESSON}.ipynb")
    (course / "submitted" / os.fsdecode(b"caf\xe9") / LESSON).mkdir(parents=True)

    os.environ[SECRET_ENV] = "do-not-show-students"
    try:
        code = grader_main(["autograde", LESSON, "--jobs", "2", "--course-dir", str(course),
                            "--lessons-dir", str(FIXTURE_LESSONS), "--cell-timeout", "60",
                            "--time-limit", "300"])
        assert code == 0
        feedback_students = ["good", "blank", "leaks-for-feedback", "pipe-junk-extra-notebooks",
                             "blank-input-transformer"]
        args = ["feedback", LESSON, "--course-dir", str(course), "--lessons-dir", str(FIXTURE_LESSONS)]
        for student in feedback_students:
            args += ["--student", student]
        grader_main(args)
    finally:
        os.environ.pop(SECRET_ENV, None)
        listener.close()
    rows = {r["student"]: r for r in csv.DictReader(open(course / "reports" / f"{LESSON}-autograde.csv"))}
    with Gradebook(db_url(course)) as gb:
        scores = {}
        for student in rows:
            try:
                nb = gb.find_submission_notebook(LESSON, LESSON, student)
            except Exception:
                continue
            scores[student] = {g.name: g.score for g in nb.grades if g.cell_type == "code"}
    return course, rows, scores


def _printed(course, student: str) -> str:
    nb = read_nb(course / "autograded" / student / LESSON / f"{LESSON}.ipynb")
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def test_honest_submissions_keep_full_marks(graded_class):
    course, rows, scores = graded_class
    for student in ("good", *HONEST, "shadow-module", "odd-file-names", "copied-cells"):
        assert scores[student] == FULL, (student, rows[student])
        assert rows[student]["status"] == "graded", rows[student]
    assert "cell(s) copied or split: setup, ex1-answer, ex1-tests" in rows["copied-cells"]["notes"]
    assert scores["blank"] == ZERO and rows["blank"]["status"] == "graded"


@pytest.mark.parametrize("attack", sorted(TAMPER_BLANK))
def test_tampering_never_earns_points(graded_class, attack):
    _, rows, scores = graded_class
    student = f"blank-{attack}"
    assert scores[student] == ZERO, (student, rows[student])
    assert rows[student]["status"].startswith("tampering suspected"), rows[student]


def test_a_blank_notebook_that_switches_the_guard_off_still_scores_zero(graded_class):
    """The guard is beaten (it reports nothing) and every visible assert "passes": the verdicts,
    made in the grader, still find no right answer."""
    course, rows, scores = graded_class
    assert scores["blank-defeats-the-guard"] == ZERO, rows["blank-defeats-the-guard"]
    assert "hidden check failed" in rows["blank-defeats-the-guard"]["notes"], rows["blank-defeats-the-guard"]


def test_tampering_after_correct_answers_loses_the_tampered_exercise(graded_class):
    _, rows, scores = graded_class
    assert scores["correct-then-tamper"] == {"ex1-tests": 2.0, "ex2-tests": 0.0}, rows["correct-then-tamper"]
    assert "tampering suspected: ex2-tests scored 0" in rows["correct-then-tamper"]["status"]


def test_the_kernel_cannot_touch_the_course_folder(graded_class):
    course, rows, scores = graded_class
    for student in (*HOSTILE_BUT_CORRECT, "leaks-for-feedback"):
        assert scores[student] == FULL, (student, rows[student])
    with sqlite3.connect(course / "gradebook.db") as db:  # still a gradebook, not notebook JSON
        assert db.execute("select count(*) from student").fetchone()[0] >= len(scores)
    for student in HOSTILE_BUT_CORRECT:
        folder = course / "autograded" / student / LESSON
        assert sorted(p.name for p in folder.iterdir()) == [f"{LESSON}.ipynb"], student
        assert not (folder / f"{LESSON}.ipynb").is_symlink()
    assert not any(p.is_symlink() or p.is_fifo() for p in course.rglob("*") if "submitted" not in p.parts)


def test_resources_environment_and_network_are_bounded(graded_class):
    course, rows, _ = graded_class
    printed = _printed(course, "resources")
    forked = int(printed.split("forked ")[1].split()[0])
    assert forked < 3000, "the task limit must stop a fork bomb"
    assert "tmp full" in printed, "the kernel's /tmp must be size-limited"
    assert "child exit 0" not in printed, "a child process must not get 6 GiB"
    env = _printed(course, "environment-and-network")
    assert "no secret" in env and SECRET_ENV not in env, "the grader's environment leaked"
    if sandbox.bwrap_works():  # the network namespace is bubblewrap's
        assert "NET blocked" in env, "the kernel reached a TCP port on the grading machine"


def test_hostile_files_each_get_their_own_status_line(graded_class):
    _, rows, scores = graded_class
    assert rows["numeric-source"]["status"].startswith("not gradable: corrupt notebook (cell 1")
    assert rows["garbage"]["status"].startswith("not gradable: corrupt notebook")
    assert rows["pipe"]["status"] == "not gradable: no notebook submitted"
    assert rows["link"]["status"] == "not gradable: no notebook submitted"
    odd = [s for s in rows if s.startswith("caf")]
    assert odd and rows[odd[0]]["status"].endswith("unusable student folder name")
    assert scores["null-metadata"] == {"ex1-tests": 0.0, "ex2-tests": 2.0}, rows["null-metadata"]
    assert "deleted: ex1-tests" in rows["null-metadata"]["notes"]
    assert "ignored" in rows["odd-file-names"]["notes"]
    for student in ("numeric-source", "garbage", "pipe", "link"):
        assert scores[student] == ZERO


def test_feedback_never_shows_a_hidden_test(graded_class):
    course, _, _ = graded_class
    pages = sorted((course / "feedback").rglob("*.html"))
    assert {p.parent.parent.name for p in pages} == {
        "good", "blank", "leaks-for-feedback", "pipe-junk-extra-notebooks", "blank-input-transformer"}
    for page in pages:
        text = page.read_text()
        assert "SECRET-HIDDEN" not in text and "BEGIN HIDDEN" not in text, page
        assert "Content-Security-Policy" in text and "<script src" not in text
    blank = (course / "feedback" / "blank" / LESSON / f"{LESSON}.html").read_text()
    assert "add(1, 2) should be 3" in blank, "a visible test's message must be shown"
    tampered = (course / "feedback" / "blank-input-transformer" / LESSON / f"{LESSON}.html").read_text()
    assert "TamperingSuspected" in tampered
