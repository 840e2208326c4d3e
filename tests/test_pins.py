"""The three places that name package versions agree: requirements.in, requirements.txt, environment.yml;
and a pin held back for a reason still does its job."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib

from kerascourse.paths import REPO_ROOT

PIN = re.compile(r"^\s*(?:-\s+)?([A-Za-z0-9_.\-]+)==([^\s#]+)")


def _name(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        match = PIN.match(line)
        if match:
            pins[_name(match.group(1))] = match.group(2)
    return pins


def test_direct_pins_are_exact():
    lines = [
        line.split("#")[0].strip()
        for line in (REPO_ROOT / "requirements.in").read_text().splitlines()
    ]
    loose = [line for line in lines if line and "==" not in line]
    assert not loose, f"requirements.in must pin exactly (==): {loose}"


def test_environment_yml_matches_requirements_in():
    direct = _pins((REPO_ROOT / "requirements.in").read_text())
    conda = _pins((REPO_ROOT / "environment.yml").read_text())
    assert direct, "requirements.in has no pins"
    assert conda == direct, (
        f"environment.yml and requirements.in disagree: only in environment.yml "
        f"{sorted(set(conda.items()) - set(direct.items()))}, only in requirements.in "
        f"{sorted(set(direct.items()) - set(conda.items()))}"
    )


def test_lock_contains_every_direct_pin():
    direct = _pins((REPO_ROOT / "requirements.in").read_text())
    lock = _pins((REPO_ROOT / "requirements.txt").read_text())
    wrong = {name: (version, lock.get(name)) for name, version in direct.items()
             if lock.get(name) != version}
    assert not wrong, f"requirements.txt disagrees with requirements.in (want, lock): {wrong}"


def test_environment_yml_python_is_311():
    text = (REPO_ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*-\s*python=3\.11\b", text, re.MULTILINE), "environment.yml must pin python=3.11"


def test_lock_pins_everything_the_environment_holds():
    """Every package ``make setup`` installed is in the lock, at the locked version.

    A dependency missing from the lock is still installed (pip resolves it), but at whatever
    version is newest that day, so two students' environments could differ: this caught
    ``lazy-importer`` (a dependency of ``importlib_metadata``) and ``wheel`` (of ``astunparse``;
    plain ``pip freeze`` leaves it out). pip, setuptools and uv are the installers' own (the
    Makefile pins uv); the course itself is installed from this folder."""
    lock = _pins((REPO_ROOT / "requirements.txt").read_text())
    course = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["name"]
    own = {"pip", "setuptools", "uv", _name(course)}
    installed = {_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    unlocked = {name: (version, lock.get(name)) for name, version in installed.items()
                if name not in own and lock.get(name) != version}
    assert not unlocked, f"installed but not locked at that version (installed, lock): {unlocked}"


def test_reading_a_notebook_builds_no_iri_grammar():
    """Why jsonschema is held at 4.24: every process that reads a notebook imports it (nbformat).

    From 4.25 it imports ``rfc3987_syntax`` when installed (jupyter-events asks for it), which builds
    about 35 Earley parsers at import: 1.5-2 s of CPU in every nbgrader run, Jupyter server and
    ``grader`` command, for a format no notebook schema uses. A re-lock that brings it back fails here."""
    code = ("import sys, nbformat, nbgrader.apps.nbgraderapp\n"
            "print(sorted(m for m in sys.modules if 'rfc3987' in m or m == 'lark'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", f"reading a notebook imports {proc.stdout.strip()}"
