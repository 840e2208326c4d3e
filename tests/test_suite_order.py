"""The suite's order for xdist (``conftest.longest_first``): scopes whole, the longest first."""

from __future__ import annotations

import pytest
from conftest import LONGEST_FIRST, longest_first, scope_of


class _Item:
    def __init__(self, nodeid: str, notebook: bool = False) -> None:
        self.nodeid, self._notebook = nodeid, notebook

    def get_closest_marker(self, name: str):
        return pytest.mark.notebook if name == "notebook" and self._notebook else None


def test_scopes_are_classes_else_modules_and_notebooks():
    assert scope_of("tests/test_grading.py::TestLesson09::test_bank") == "tests/test_grading.py::TestLesson09"
    assert scope_of("tests/test_hub.py::test_a_class_on_jupyterhub") == "tests/test_hub.py"
    assert scope_of("solutions/01-x/01-x.ipynb::Cell 3") == "solutions/01-x/01-x.ipynb"


def test_longest_scopes_first_then_notebooks_each_scope_whole_and_in_order():
    ids = ["tests/test_a.py::test_one", "solutions/01-x/01-x.ipynb::Cell 0",
           "tests/test_grading.py::TestLesson05::test_bank", "tests/test_a.py::test_two",
           "solutions/01-x/01-x.ipynb::Cell 1", "tests/test_grading.py::TestLesson09::test_bank",
           "tests/test_grading.py::TestLesson09::test_round_trip"]
    items = [_Item(i, notebook=".ipynb" in i) for i in ids]
    assert [i.nodeid for i in longest_first(items)] == [
        "tests/test_grading.py::TestLesson09::test_bank",
        "tests/test_grading.py::TestLesson09::test_round_trip",
        "tests/test_grading.py::TestLesson05::test_bank",
        "solutions/01-x/01-x.ipynb::Cell 0", "solutions/01-x/01-x.ipynb::Cell 1",
        "tests/test_a.py::test_one", "tests/test_a.py::test_two"]


def test_every_listed_scope_exists(request):
    """A renamed test module or class would silently drop out of the order: every entry is collected."""
    collected = {scope_of(item.nodeid) for item in request.session.items}
    if not {"tests/test_grading.py::TestLesson09", "tests/test_hub.py"} <= collected:
        pytest.skip("only part of the suite was collected")
    assert not [scope for scope in LONGEST_FIRST if scope not in collected]
