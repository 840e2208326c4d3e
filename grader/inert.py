"""Make what a student's notebook holds inert before a browser outside the sandbox renders it.

Two pages render a student's notebook in someone else's browser: the feedback page (the student's,
or the instructor's in the formgrader) and the formgrader's manual grading page, which shows the
autograded notebook with nbgrader's own template, unsanitized, inside the instructor's Jupyter
session. Script there would act with the instructor's rights (the Jupyter API, the gradebook).
Everything in that notebook came from the student: the outputs their kernel displayed, the
markdown they typed, the cells they added. These functions keep what reads as text or a picture:

- outputs: plain text, PNG or JPEG images (checked to be base64), streams and errors, each capped;
  HTML, JavaScript, SVG, markdown, LaTeX and widget views are replaced by one line of text;
- markdown: a word joiner (U+2060, invisible) goes after the ``<`` of every HTML tag, comment or
  autolink, except a few formatting tags without attributes (``<sup>``, ``<br>`` ...), after the
  ``&`` of every character reference (nbconvert decodes a link's URL twice, so ``&amp;#106;``
  spells a ``j``), and after the first letter of a ``javascript:`` or ``vbscript:`` scheme (a
  link the instructor clicks would run it). Each reads as before, in code as in prose, and none
  is markup or a scheme any more. The whole cell is treated alike: where markdown's code ends is
  not decided here, since a wrong guess there would let markup through;
- attachments: PNG and JPEG images only; raw cells lose the format that would pass them through.
"""

from __future__ import annotations

import html
import re
from typing import Any

from grader.output_caps import cap_output

SAFE_IMAGES = ("image/png", "image/jpeg")
JOINER = "\u2060"  # WORD JOINER: invisible, and no part of a tag name, reference or scheme
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
# The start of any tag, comment or declaration, unless it is an attribute-free formatting tag.
_TAG = re.compile(r"<(?!/?(?:sup|sub|br|b|i|em|strong|code|kbd|p|hr)\s*/?>)(?=[A-Za-z/!?])",
                  re.IGNORECASE)

# Where a character reference could start (the html module's own pattern for html.unescape).
_REFERENCE = re.compile(r"&(?:#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")
# A script scheme where a URL could start: not after a character that a scheme may contain (then it
# is another scheme), allowing the tabs and newlines a browser drops from a URL, and the backslash
# that escapes the colon in markdown.
_GAP = r"[\t\r\n]*"
_SCHEMES = "|".join(_GAP.join(word) for word in ("javascript", "vbscript"))
_SCRIPT_SCHEME = re.compile(rf"(?<![A-Za-z0-9+.-])(?:{_SCHEMES})(?={_GAP}\\?:)", re.IGNORECASE)


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


def _break_reference(match: re.Match) -> str:
    # A numeric reference always decodes (to U+FFFD if nothing else), and html.unescape raises on
    # one of more than 4,300 digits (Python's limit on int()), so only names are looked up.
    text = match.group(0)
    return text if text[1] != "#" and html.unescape(text) == text else "&" + JOINER + text[1:]


def inert_markdown(source: str) -> str:
    """Markdown in which no tag, character reference or script scheme is one (see the module)."""
    source = _REFERENCE.sub(_break_reference, source)
    source = _TAG.sub("<" + JOINER, source)
    return _SCRIPT_SCHEME.sub(lambda m: m.group(0)[0] + JOINER + m.group(0)[1:], source)
