"""NFKC in bounded time (issue 19): the same result as ``unicodedata.normalize("NFKC", text)``
on any real text, without CPython's slow paths on hostile text.

CPython's NFKC is quadratic on two shapes that a 10,000-character comment can take:

* long runs of combining marks of alternating classes (``"a" + "\\u0301\\u0316" * 4999``:
  0.6 s), which its canonical reordering sorts by insertion;
* long runs of characters with big compatibility expansions (``"\\ufdfa" * 10000``, 18
  characters each: 60 ms), whose output buffer grows a few characters at a time.

So, first, no run of non-starters is longer than 30: the Stream-Safe Text Format of UAX #15
(section 13) inserts U+034F COMBINING GRAPHEME JOINER after each 30; no real text has such a
run, and ``fold`` drops the joiner with the other marks. Then the text is normalised in
chunks of about ``CHUNK`` characters (CPython's slow paths grow with a chunk's square),
each cut just before a character that nothing before it can combine with (its
decomposition starts with a starter that is never the second half of a composition: a
normalisation boundary), so the chunks' forms joined are the whole text's form. ``limit``
stops once that many characters are out.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

CHUNK = 200
MAX_NON_STARTERS = 30
_CGJ = "\u034f"
_SEARCH = 64  # how far past a chunk's end to look for a boundary before giving up on it


@lru_cache(maxsize=1)
def _tables() -> tuple[re.Pattern[str], frozenset[str]]:
    """(a pattern for a too-long run of non-starters, the characters that may combine with
    the character before them). Built on first need from the running Python's Unicode
    database (planes 0 and 1 hold every such character): ~0.1 s once per process."""
    non_starters: list[str] = []
    backward: set[str] = set()
    for cp in range(0x20000):
        ch = chr(cp)
        if unicodedata.combining(ch) or unicodedata.combining(
            unicodedata.normalize("NFKD", ch)[:1] or ch
        ):
            non_starters.append(ch)
        decomposition = unicodedata.decomposition(ch)
        if decomposition and not decomposition.startswith("<"):
            parts = decomposition.split()
            if len(parts) == 2:
                backward.add(chr(int(parts[1], 16)))
    # Hangul vowels and trailing consonants compose with the syllable before them.
    backward.update(map(chr, range(0x1161, 0x1176)))
    backward.update(map(chr, range(0x11A8, 0x11C3)))
    # The BMP's and the other planes' apart: the engine tests a BMP class with a bitmap,
    # while a class reaching past U+FFFF is a list of ranges searched one by one.
    bmp = _ranges([ch for ch in non_starters if ch <= "\uffff"])
    astral = _ranges([ch for ch in non_starters if ch > "\uffff"])
    mark = f"(?:[{bmp}]|(?=[^\x00-\uffff])[{astral}])"
    run = re.compile(f"{mark}{{{MAX_NON_STARTERS + 1},}}")
    return run, frozenset(backward) | frozenset(non_starters)


def _ranges(chars: list[str]) -> str:
    """A character class body for ``chars`` (ascending), as ranges: the engine then tests a
    character with one table look-up instead of a search through thousands of them."""
    out: list[str] = []
    i = 0
    while i < len(chars):
        j = i
        while j + 1 < len(chars) and ord(chars[j + 1]) == ord(chars[j]) + 1:
            j += 1
        first, last = re.escape(chars[i]), re.escape(chars[j])
        out.append(first if i == j else f"{first}-{last}")
        i = j + 1
    return "".join(out)


def _stream_safe(match: re.Match[str]) -> str:
    run = match.group()
    return _CGJ.join(run[i : i + MAX_NON_STARTERS] for i in range(0, len(run), MAX_NON_STARTERS))


def _boundary(text: str, at: int, combines: frozenset[str]) -> int:
    """The first index at or after ``at`` before which the text can be cut without changing
    its normal form; ``len(text)`` if none is found within ``_SEARCH`` characters."""
    for i in range(at, min(at + _SEARCH, len(text))):
        ch = text[i]
        if ch < "\x80" or ch == _CGJ:
            return i
        first = unicodedata.normalize("NFKD", ch)[:1]
        if first and first not in combines:
            return i
    return len(text)


def nfkc(text: str, limit: int) -> str:
    """``unicodedata.normalize("NFKC", text)``, or at least its first ``limit + 1``
    characters, in time linear in ``len(text)``. Short or ASCII text goes straight through."""
    if len(text) <= CHUNK or text.isascii():
        return unicodedata.normalize("NFKC", text)
    run, combines = _tables()
    text = run.sub(_stream_safe, text)
    out: list[str] = []
    size = start = 0
    while start < len(text) and size <= limit:
        end = _boundary(text, start + CHUNK, combines)
        piece = unicodedata.normalize("NFKC", text[start:end])
        out.append(piece)
        size += len(piece)
        start = end
    return "".join(out)
