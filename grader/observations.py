"""Observations as the grader reads them: untrusted JSON text in, plain values out, within limits.

A probe in the student's kernel (:func:`kerascourse.probes.observe`) publishes each observation
as JSON text. Everything in that text is chosen by whoever controls the kernel, so this module is
the border: it parses with its own size, depth and count limits, accepts only the tagged forms the
probe writes, reads arrays with ``np.load(..., allow_pickle=False)`` (no object arrays, ever) and
turns anything else into a :class:`Malformed` value, which fails every verdict. Nothing here calls
code from the kernel, and nothing is unpickled.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

MIME = "application/vnd.keras-course.observation+json"  # the same as kerascourse.probes.MIME
MAX_MESSAGE_CHARS = 4_000_000  # one observation's JSON text
MAX_NOTEBOOK_CHARS = 64_000_000  # all observations of one notebook run
MAX_DEPTH = 16
MAX_ITEMS = 200_000  # list items, dict entries and array elements in one observation
MAX_ARRAY = 1_000_000


@dataclass(frozen=True)
class Raised:
    """The student's code raised: its exception type's name and message (see ``attempt``)."""

    type: str
    message: str


@dataclass(frozen=True)
class Refused:
    """The probe could not send the value (an unsupported or subclassed type): it fails verdicts."""

    what: str


@dataclass(frozen=True)
class Malformed:
    """The kernel sent something the probe never writes: it fails every verdict."""

    why: str


class _TooBig(ValueError):
    pass


def parse(text: Any) -> tuple[str, Any]:
    """``(name, value)`` from one observation message, or ``("", Malformed)`` for anything else."""
    if type(text) is not str:
        return "", Malformed(f"the observation is a {type(text).__name__}, not JSON text")
    if len(text) > MAX_MESSAGE_CHARS:
        return "", Malformed(f"the observation is too large ({len(text)} characters)")
    try:
        data = json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError) as err:
        return "", Malformed(f"the observation is not valid JSON ({type(err).__name__})")
    if type(data) is not dict or set(data) != {"name", "value"} or type(data["name"]) is not str:
        return "", Malformed("the observation lacks its name or value")
    name = data["name"][:200]
    try:
        return name, decode(data["value"])
    except _TooBig as err:
        return name, Malformed(str(err))


def _no_constants(token: str) -> Any:
    raise ValueError(f"{token} is not allowed")


def decode(wire: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """A value from the probe's wire form (see :func:`kerascourse.probes.to_data`)."""
    budget = budget if budget is not None else [MAX_ITEMS]
    if depth > MAX_DEPTH:
        return Malformed("nested too deeply")
    kind = type(wire)
    if kind in (bool, int, str, type(None)):
        return wire
    if kind is float:
        return wire
    if kind is list:
        _spend(budget, len(wire))
        return [decode(item, depth + 1, budget) for item in wire]
    if kind is not dict:
        return Malformed(f"an unexpected {kind.__name__}")
    keys = set(wire)
    if keys == {"dict"} and type(wire["dict"]) is dict:
        _spend(budget, len(wire["dict"]))
        return {str(k): decode(v, depth + 1, budget) for k, v in wire["dict"].items()}
    if keys == {"npy"} and type(wire["npy"]) is str:
        return _array(wire["npy"], budget)
    if keys == {"float"} and wire["float"] in ("nan", "inf", "-inf"):
        return float(wire["float"])
    if keys == {"raised", "message"} and all(type(wire[k]) is str for k in keys):
        return Raised(wire["raised"][:200], wire["message"][:500])
    if keys == {"refused"} and type(wire["refused"]) is str:
        return Refused(wire["refused"][:200])
    return Malformed("an object the probe never writes")


def _spend(budget: list[int], count: int) -> None:
    budget[0] -= count
    if budget[0] < 0:
        raise _TooBig(f"the observation has more than {MAX_ITEMS} items")


def _array(text: str, budget: list[int]) -> Any:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, binascii.Error, OSError, EOFError, UnicodeError) as err:
        return Malformed(f"an unreadable array ({type(err).__name__})")
    if type(array) is not np.ndarray or array.dtype.kind not in "biuf" or array.dtype.hasobject:
        return Malformed("an array that is not numeric")
    if array.size > MAX_ARRAY:
        return Malformed(f"an array of {array.size} elements")
    _spend(budget, int(array.size))
    return array


def encode(value: Any) -> Any:
    """The wire form again (for the cached reference, which is stored as JSON)."""
    if type(value) is float and not math.isfinite(value):
        return {"float": repr(value)}
    if type(value) in (bool, int, float, str, type(None)):
        return value
    if type(value) is list:
        return [encode(v) for v in value]
    if type(value) is dict:
        return {"dict": {k: encode(v) for k, v in value.items()}}
    if type(value) is np.ndarray:
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return {"npy": base64.b64encode(buffer.getvalue()).decode("ascii")}
    if type(value) is Raised:
        return {"raised": value.type, "message": value.message}
    if type(value) is Refused:
        return {"refused": value.what}
    return {"refused": f"malformed: {getattr(value, 'why', type(value).__name__)}"}


def describe(value: Any, limit: int = 80) -> str:
    """A short text for the instructor's notes."""
    if type(value) is np.ndarray:
        text = f"array{value.shape} {np.array2string(value.ravel()[:6], precision=4)}"
    elif type(value) is Raised:
        text = f"raised {value.type}"
    elif type(value) in (Refused, Malformed):
        text = repr(value)
    elif type(value) is dict:
        text = "{" + ", ".join(f"{k}: {describe(v, 30)}" for k, v in list(value.items())[:6]) + "}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
