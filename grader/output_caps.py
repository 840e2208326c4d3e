"""Cut outputs down to size: what the kernel prints must not fill the grader's memory or disk.

nbgrader's LimitOutput counts lines, not characters, and ignores errors and rich outputs: one
``print`` of a huge string, a 30 MB exception message or a huge JSON display would go whole into
the autograded notebook and the feedback page. These functions bound every part of an output.
"""

from __future__ import annotations

import json
from typing import Any

MAX_TRACEBACK_ENTRIES = 100


def _note(size: int) -> str:
    return f"\n[output cut by the grader: {size} characters]\n"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + _note(len(text))


def output_size(output: Any) -> int:
    """Roughly how many characters an output holds (the measure the caps use)."""
    size = len(output.get("text", "") or "") + len(output.get("evalue", "") or "")
    size += sum(len(line) for line in output.get("traceback", []) or [] if isinstance(line, str))
    for value in (output.get("data") or {}).values():
        size += len(value) if isinstance(value, str) else len(json.dumps(value, default=str))
    return size


def cap_output(output: Any, limit: int) -> bool:
    """Cut every field of one output to ``limit`` characters in place; True if anything was cut."""
    before = output_size(output)
    if isinstance(output.get("text"), str):
        output["text"] = _cut(output["text"], limit)
    if "evalue" in output:
        output["evalue"] = _cut(str(output.get("evalue", "")), limit)
        output["ename"] = _cut(str(output.get("ename", "")), 200)
    if "traceback" in output:
        lines = [str(line) for line in (output.get("traceback") or [])]
        if len(lines) > MAX_TRACEBACK_ENTRIES:
            lines = [*lines[:10], f"[{len(lines) - 20} traceback entries cut by the grader]", *lines[-10:]]
        output["traceback"] = [_cut(line, limit) for line in lines]
    data = output.get("data")
    if isinstance(data, dict):
        for mime in list(data):
            value = data[mime]
            if isinstance(value, str):
                data[mime] = _cut(value, limit)
            elif len(json.dumps(value, default=str)) > limit:
                data[mime] = {"cut by the grader": True}
    metadata = output.get("metadata")
    if isinstance(metadata, dict) and len(json.dumps(metadata, default=str)) > 10_000:
        output["metadata"] = {}
    return output_size(output) < before


def cap_notebook(nb: Any, limit: int) -> bool:
    """Cap every output of every cell; True if anything was cut."""
    cut = False
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            cut = cap_output(output, limit) or cut
    return cut
