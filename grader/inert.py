"""Make what a student's notebook holds inert before a browser outside the sandbox renders it.

Two pages render a student's notebook in someone else's browser: the feedback page (the student's,
or the instructor's in the formgrader) and the formgrader's manual grading page, which shows the
autograded notebook with nbgrader's own template, unsanitized, inside the instructor's Jupyter
session. Script there would act with the instructor's rights (the Jupyter API, the gradebook).
Everything in that notebook came from the student: the outputs their kernel displayed, the
markdown they typed, the cells they added. These functions keep what reads as text or a picture:

- outputs: plain text, PNG or JPEG images (checked to be base64), streams and errors, each capped;
  HTML, JavaScript, SVG, markdown, LaTeX and widget views are replaced by one line of text;
- markdown: every HTML tag is escaped so that it shows as text, except a few formatting tags
  without attributes (``<sup>``, ``<br>`` ...); code spans and fenced code are left as written;
- attachments: PNG and JPEG images only; raw cells lose the format that would pass them through.
"""

from __future__ import annotations

import re
from typing import Any

from grader.output_caps import cap_output

SAFE_IMAGES = ("image/png", "image/jpeg")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
# Fenced code blocks and inline code spans: markdown shows them verbatim, escaping would show "&lt;".
_CODE = re.compile(r"^(```|~~~)[^\n]*\n.*?^\1[^\n]*$|(`+).+?\2", re.S | re.M)
# The start of any tag, comment or declaration, unless it is an attribute-free formatting tag.
_TAG = re.compile(r"<(?!/?(?:sup|sub|br|b|i|em|strong|code|kbd|p|hr)\s*/?>)(?=[A-Za-z/!?])",
                  re.IGNORECASE)


def _base64(value: Any) -> bool:
    return isinstance(value, str) and bool(_BASE64.match(value))


def inert_data(data: dict, not_shown: str) -> dict:
    """A display's data, allow-listed: text and base64 PNG/JPEG, else ``not_shown``."""
    kept = {}
    text = data.get("text/plain")
    if isinstance(text, str):
        kept["text/plain"] = text
    for mime in SAFE_IMAGES:
        if _base64(data.get(mime)):
            kept[mime] = data[mime]
    return kept or {"text/plain": not_shown}


def inert_outputs(outputs: list, output_chars: int, not_shown: str) -> list:
    """A code cell's outputs, allow-listed and capped (unknown output types are dropped)."""
    kept = []
    for output in outputs:
        kind = output.get("output_type")
        if kind in ("display_data", "execute_result"):
            output["data"] = inert_data(output.get("data") or {}, not_shown)
            output["metadata"] = {}
        elif kind not in ("stream", "error"):
            continue
        cap_output(output, output_chars)
        kept.append(output)
    return kept


def inert_attachments(attachments: dict) -> dict:
    """A markdown cell's attachments: base64 PNG and JPEG images only."""
    return {name: {mime: value for mime, value in item.items() if mime in SAFE_IMAGES and _base64(value)}
            for name, item in attachments.items() if isinstance(item, dict)}


def inert_markdown(source: str) -> str:
    """Markdown whose HTML tags show as text (outside code, which markdown shows as written)."""
    pieces, last = [], 0
    for code in _CODE.finditer(source):
        pieces += [_TAG.sub("&lt;", source[last:code.start()]), code.group(0)]
        last = code.end()
    pieces.append(_TAG.sub("&lt;", source[last:]))
    return "".join(pieces)
