"""A family of hostile comment bodies (issue 19): shapes that made Margin's per-comment work
super-linear, and the neighbours an attacker would try next.

Shared by the tests in this folder and by ``bench/hostile.py``. Every body is at most
``SIZE`` characters (the API's limit on a comment body).
"""

from __future__ import annotations

import string
from collections.abc import Iterator

SIZE = 10_000

# Characters that mean something to Markdown, the link finder or the matching key.
PUNCTUATION = string.punctuation
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u3164"
SCRIPTS = "a\u0430\u03b1\u05d0\u0627\u4e2d\u3042\u0915\u0e01\uac00"  # Latin, Cyrillic, Greek...
EMOJI = "\U0001f600\U0001f44d\U0001f3fd\u2764\ufe0f\U0001f1eb\U0001f1f7\U0001f468\u200d\U0001f469"

# Units repeated to SIZE: unclosed or nested constructs of Markdown and of the link finder.
UNITS = (
    "[a](",
    "[a]",
    "](",
    "[](",
    "[a](b",
    "[a](b ",
    "[a](<",
    "![a](",
    "<a",
    "<http:",
    "&#",
    "&#x",
    "&amp",
    "> ",
    "- ",
    "* ",
    "1. ",
    "  - ",
    "> - ",
    "*a",
    "**a",
    "_a",
    "__a",
    "~~a",
    "*a_",
    "a*",
    "a.",
    "a-",
    "a_",
    "a ",
    "a\n",
    "\n\n",
    "`a",
    "``a",
    "```\n",
    "    a\n",
    "\\*",
    "a.b",
    "a.co",
    "a.com.",
    "www.",
    "www.a",
    "http://",
    "http://a",
    "a@b.c",
    "@$",
    "!|",
    "$a",
    "1a",
    "a1",
    "a 1 ",
    "a b ",
    "s.p.a.m ",
    "a\u0301",
    "\u0430a",
    "a\u200b",
    "|-",
    "| a ",
    "---\n",
    "***\n",
)


def _fill(unit: str, size: int = SIZE) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def family() -> Iterator[tuple[str, str]]:
    """(name, body) for every shape: runs of each punctuation character, repeated units,
    zero-width characters, mixed scripts and emoji, and a few mixtures of them."""
    for ch in PUNCTUATION:
        yield f"run {ch!r}", _fill(ch)
        yield f"run {ch!r} with spaces", _fill(ch + " ")
        yield f"run {ch!r} after a word", "word" + _fill(ch, SIZE - 4)
    for unit in UNITS:
        yield f"repeat {unit!r}", _fill(unit)
    for ch in ZERO_WIDTH:
        yield f"run U+{ord(ch):04X}", _fill(ch)
        yield f"a and U+{ord(ch):04X}", _fill("a" + ch)
    yield "mixed scripts", _fill(SCRIPTS)
    yield "mixed scripts with dots", _fill(".".join(SCRIPTS))
    yield "emoji", _fill(EMOJI)
    yield "emoji and punctuation", _fill(EMOJI + "*_[](")
    yield "all punctuation", _fill(PUNCTUATION)
    yield "all punctuation and letters", _fill(PUNCTUATION + "ab ")
    yield "long word", _fill("a")
    yield "nested emphasis", "*" * 2500 + "a" * 5000 + "*" * 2500
    yield "nested brackets", "[" * 5000 + "]" * 5000
    yield "nested parentheses", "[a](" + "(" * 4996 + ")" * 5000
    yield "deep quote", ">" * SIZE
    yield "deep list", "".join("  " * i + "- a\n" for i in range(200))[:SIZE]


NORMAL = (
    "I read the whole article twice, and I think the council's numbers on the new bus lanes"
    " are worth a second look. The report (see https://example.org/report?page=2) says"
    " ridership went up by **12%**, but the survey only covered weekdays. My neighbour, who"
    " rides the 14 every morning, says the buses are *fuller* but slower since the roadworks"
    " began. Has anyone compared the timetables from last spring with this autumn's? I'd"
    " be happy to help collect the data: I have a spreadsheet of my own trips since March.\n\n"
    "- weekdays: 23 trips, average 31 minutes\n- weekends: 6 trips, average 24 minutes\n\n"
    "Thanks for writing this up; it's the first piece I've seen that links the raw figures."
)
