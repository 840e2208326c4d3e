"""Probes: what a hidden test does inside the student's kernel (observe), and nothing more.

A hidden check has two halves. The *probe* runs in the student's kernel: it calls the student's
code on inputs and hands what it saw to :func:`observe`. The *verdict* is written beside the probe
as keyword arguments of the same call (``why=``, ``atol=``, ``at_least=``, ``verdict=`` ...), but
the grader cuts those arguments out before the cell reaches the kernel and judges the observations
in its own process (:mod:`grader.verdicts`), against what the same probes saw on the solution.
Expected values, reference answers and comparisons therefore never enter a kernel that ran
student code; code in that kernel can forge an observation, but a forged value only scores if it
is the right answer.

Outside grading (nbval, ``grader refresh``, the formgrader's Validate on a solution) ``observe``
only checks that the value can be sent, so an author sees an unsupported type at once. When the
grader runs the kernel (``KERAS_COURSE_PROBES=1`` in its environment) each observation is
published as one display message of type :data:`MIME`: JSON text that the grader parses with its
own limits. Types are dispatched on ``type(x) is ...``: a subclass of ``int`` with an ``__eq__``
that always says True is sent as a refusal, not as a number.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
from collections.abc import Callable
from typing import Any

MIME = "application/vnd.keras-course.observation+json"
ENV = "KERAS_COURSE_PROBES"
MAX_DEPTH = 12
MAX_ITEMS = 100_000  # list items and dict entries in one observation
MAX_ARRAY = 1_000_000  # elements of one array
MAX_TEXT = 10_000  # characters of one string

_PLAIN = (bool, int, float, str, type(None))


class Raised:
    """What :func:`attempt` returns when the student's code raised: the type name and message."""

    def __init__(self, error: BaseException) -> None:
        self.type = type(error).__name__
        self.message = str(error)[:500]

    def __repr__(self) -> str:
        return f"Raised({self.type}: {self.message})"


def attempt(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``function``; return its result, or a :class:`Raised` record if it raised.

    Use it where raising is part of the answer (``attempt(output_layer, "clustering")`` should
    raise a ValueError): the verdict then sees ``{"raised": "ValueError", "message": ...}``.
    """
    try:
        return function(*args, **kwargs)
    except Exception as error:  # a probe records what happened; the verdict decides
        return Raised(error)


def to_data(value: Any, depth: int = 0) -> Any:
    """Plain JSON data for ``value``; anything else becomes ``{"refused": <type name>}``."""
    if depth > MAX_DEPTH:
        return {"refused": "nested too deeply"}
    kind = type(value)
    if kind in _PLAIN:
        if kind is float and not math.isfinite(value):
            return {"float": repr(value)}
        if kind is str and len(value) > MAX_TEXT:
            return value[:MAX_TEXT]
        return value
    if kind is Raised:
        return {"raised": value.type, "message": value.message}
    if kind in (list, tuple):
        items = list.__iter__(value) if kind is list else tuple.__iter__(value)
        out = []
        for item in items:
            if len(out) >= MAX_ITEMS:
                return {"refused": "too many items"}
            out.append(to_data(item, depth + 1))
        return out  # a tuple is sent as a list: the verdict compares values, not containers
    if kind is dict:
        if dict.__len__(value) > MAX_ITEMS:
            return {"refused": "too many items"}
        out = {}
        for key, item in dict.items(value):
            if type(key) is not str:
                return {"refused": f"a dict key of type {type(key).__name__}"}
            out[key] = to_data(item, depth + 1)
        return {"dict": out}
    numpy = _numpy()
    if numpy is not None:
        if kind is numpy.ndarray:
            return _array(value, numpy)
        if kind in (numpy.bool_,):
            return bool(value)
        if issubclass(kind, numpy.generic) and kind.__module__ == "numpy":
            if value.dtype.kind in "iu":
                return int(value)
            if value.dtype.kind == "f":
                return to_data(float(value))
    return {"refused": f"type {kind.__module__}.{kind.__qualname__}"}


def _array(value: Any, numpy: Any) -> Any:
    if value.dtype.kind not in "biuf":
        return {"refused": f"an array of dtype {value.dtype}"}
    if value.size > MAX_ARRAY:
        return {"refused": f"an array of {value.size} elements"}
    buffer = io.BytesIO()
    numpy.save(buffer, numpy.ascontiguousarray(value), allow_pickle=False)
    return {"npy": base64.b64encode(buffer.getvalue()).decode("ascii")}


def _numpy() -> Any:
    import sys

    return sys.modules.get("numpy")


def observe(name: str, value: Any, **verdict: Any) -> None:
    """Record what a probe saw under ``name``; the keyword arguments are the grader's verdict.

    In a graded kernel the grader has already removed the keyword arguments from the cell: they
    never reach this function there. Outside grading they are accepted and ignored.
    """
    if type(name) is not str:
        raise TypeError("observe(name, value): the name must be a string")
    data = to_data(value)
    text = json.dumps({"name": name, "value": data}, allow_nan=False)
    if os.environ.get(ENV) != "1":
        _check_authoring(name, data)
        return
    from IPython.display import publish_display_data

    publish_display_data({MIME: text})


def _check_authoring(name: str, data: Any) -> None:
    """Outside grading only the solution runs: a refusal there is the author's mistake."""
    text = json.dumps(data)
    if '"refused"' in text:
        raise TypeError(f"observe({name!r}, ...): the value cannot be sent to the grader: {text[:200]}")
