"""The matching key (security checklist U-NORM-1): obfuscation-resistant, display untouched.

Pipeline for any text:

1. ``fold``: NFKC -> casefold -> drop format (Cf) and invisible filler characters ->
   NFD and drop combining marks -> map look-alikes to Latin (UTS #39 skeleton subset).
2. ``text_key``: fold leetspeak inside words (``sh1t``, ``@ss``, ``$lut``) and turn the
   gaps between words into markers the matcher understands:

   * ``" "`` (hard boundary): whitespace between real words. Matches never cross it
     except as the space inside a multi-word phrase, so "the pen is" never reads "penis".
   * ``SOFT`` (soft boundary): punctuation inside a word (``s.p.a.m``, ``f_u_c_k``,
     ``sex-positive``), whitespace between runs of single letters (``s p a m``) and
     script changes. A soft boundary is both a word boundary and transparent, so
     ``s.p.a.m`` reads "spam" and ``sex-positive`` still contains the word "sex".

Repeated letters are collapsed by the matcher, not here, because it must remember run
lengths ("as" must not match a blocked "ass"). ``normalised_key`` does collapse them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from .confusables import SKELETON
from .nfkc import nfkc

SOFT = "\x1f"  # never survives into a key as text: \x1f is a separator in the input

# Invisible characters that are not category Cf (so the Cf filter misses them) but render
# as nothing: Hangul fillers, braille blank, Mongolian vowel separator.
_DROP = frozenset({"Mn", "Mc", "Me", "Cf"})
_INVISIBLE = dict.fromkeys(map(ord, "\u115f\u1160\u3164\uffa0\u2800\u180e"), None)

# Leetspeak: applied only inside tokens that contain a real letter, so "2024" and "4 5 5"
# stay numbers. 1 -> i (sh1t, b1tch) is by far the most common reading.
_LEET_DIGITS = str.maketrans("0123456789", "oizeasgtbg")
# @ and $ count as letters when they touch a letter or digit (@ss, a$$, $hit); ! and | only
# between two of them (sh!t), so "hello!" keeps its boundary.
_LEET_SYMBOLS = (("@", "a"), ("$", "s"), ("!", "i"), ("|", "l"))
_LONE_AT_DOLLAR = re.compile(r"(?<![\w@$])[@$]++(?![\w@$])")
_EDGE_BANG = re.compile(r"(?<![^\W_])[!|]+|[!|]+(?![^\W_])")
_DIGIT = re.compile(r"\d")
_ALNUM_RUN = re.compile(r"[^\W_]*")  # [^\W_] is exactly str.isalnum
# A run of non-word characters (or _) holding whitespace, written to start with a
# character class so the regex engine skips letters without trying a match there: the
# same matches as [\W_]*\s[\W_]* (a whole run, from its first character).
# Linear-time (issue 19): a match may only start where a run starts (the lookbehind: the
# character before is not [\W_]), so a run without whitespace is scanned once, not once
# from each of its characters ("*" * 10000 cost 50 million steps), and the possessive
# loops never give back what the next token could not match anyway.
_HARD_SEP = re.compile(r"[\W_](?<![\W_]{2})(?:(?<=\s)[\W_]*+|(?:[^\w\s]|_)*+\s[\W_]*+)")
# The same matches as (?:[^\w ]|_)+, written to start with a character class.
_SOFT_SEP = re.compile(r"[^\w ](?:[^\w ]|_)*+|_(?:[^\w ]|_)*+")
_SCRIPT_CHANGE = re.compile(r"(?<=[a-z0-9])(?=[^\W_a-z0-9])|(?<=[^\W_a-z0-9])(?=[a-z0-9])")
# Three or more single-character tokens in a row ("s p a m", "f.u.c.k") form one word.
_SPACED_LETTERS = re.compile(r"(?<![^ \x1f])[^\W_](?:[ \x1f][^\W_]){2,}(?![^ \x1f])")
REPEATS = re.compile(r"(.)\1+")
_RUN = re.compile(r"(.)\1*")


# Cap (issue 19): fold looks at this many characters of the NFKC form at most. A body has at
# most 10,000 characters, but NFKC expands some up to 18 times (U+FDFA), and every later
# step (keys, links, duplicates) works on the folded text. A longer folded text is cut one
# character past the limit, so ``capped`` tells the checks, which hold such a comment.
FOLD_LIMIT = 30_000


def capped(folded: str) -> bool:
    """True when ``folded`` (from ``fold``) was cut at ``FOLD_LIMIT``."""
    return len(folded) > FOLD_LIMIT


@lru_cache(maxsize=64)
def fold(text: str) -> str:
    """Steps NFKC, casefold, drop Cf/invisible, drop combining marks, skeleton.

    Used for domains too, so bit.ly written with a Cyrillic i is still a shortener.
    Cached (small): the words and links checks both fold the same comment body.
    """
    s = nfkc(text, FOLD_LIMIT)
    if len(s) > FOLD_LIMIT:  # NFKC expanded a hostile body: look at a bounded part
        s = s[: FOLD_LIMIT + 1]
    s = s.casefold()
    if s.isascii():  # the common case: nothing below can change ASCII
        return s
    # Only the non-ASCII stretches need work; NFD and the tables act per character, so
    # folding each stretch on its own is the same as folding the whole text.
    return _NON_ASCII.sub(_fold_run, s)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _fold_run(m: re.Match[str]) -> str:
    return _fold_non_ascii(m.group())


@lru_cache(maxsize=4096)
def _fold_non_ascii(run: str) -> str:
    s = unicodedata.normalize("NFD", run.translate(_INVISIBLE))
    s = "".join(ch for ch in s if unicodedata.category(ch) not in _DROP)
    return s.translate(SKELETON)


def _fold_leet_digits(s: str) -> str:
    """Fold leetspeak digits in every token (maximal run of letters and digits) that
    holds a \\d digit and is not all digits: "sh1t" -> "shit", "2024" stays. Works outward
    from each digit found by a C-speed search, so text without digits costs one scan."""
    m = _DIGIT.search(s)
    if m is None:
        return s
    out: list[str] = []
    done = 0
    while m is not None:
        start = m.start()
        while start > done and s[start - 1].isalnum():
            start -= 1
        run = _ALNUM_RUN.match(s, m.end())
        end = run.end() if run else m.end()
        token = s[start:end]
        out.append(s[done:start])
        out.append(token if token.isdigit() else token.translate(_LEET_DIGITS))
        done = end
        m = _DIGIT.search(s, end)
    out.append(s[done:])
    return "".join(out)


def _join_spaced(m: re.Match[str]) -> str:
    return m.group().replace(" ", SOFT)


def text_key(text: str) -> str:
    """The matching key of ``text``: letters/digits, ``" "`` and ``SOFT`` markers only,
    no leading/trailing separators. Never shown to anyone."""
    return folded_key(fold(text))


def folded_key(s: str) -> str:
    """``text_key`` of text that ``fold`` has already folded."""
    if "@" in s or "$" in s:
        s = _LONE_AT_DOLLAR.sub(".", s)
    if "!" in s or "|" in s:
        s = _EDGE_BANG.sub(".", s)
    for symbol, letter in _LEET_SYMBOLS:  # str.replace is far faster than translate
        if symbol in s:
            s = s.replace(symbol, letter)
    s = _fold_leet_digits(s)
    s = _HARD_SEP.sub(" ", s)
    s = _SOFT_SEP.sub(SOFT, s)
    if not s.isascii():
        s = _SCRIPT_CHANGE.sub(SOFT, s)
    if " " in s or SOFT in s:
        s = _SPACED_LETTERS.sub(_join_spaced, s)
    return s.strip(" " + SOFT)


class TermKey(NamedTuple):
    """A list term compiled for the matcher.

    ``key`` has repeats collapsed and ``runs`` holds each collapsed letter's count, so
    text may stretch a letter ("fuuuck") but never shrink it ("as" is not "ass").
    ``prefix``: the term ended with ``*`` (matches word starts: ``subscrib*``);
    ``suffix``: the term started with ``*`` (matches word ends).
    """

    key: str
    runs: tuple[int, ...]
    prefix: bool
    suffix: bool


def term_key(term: str) -> TermKey:
    """Compile one blocked/suspect term. Soft boundaries inside a term are dropped, so
    "e-mail" and "email" are the same term; the key is empty when nothing is matchable."""
    raw = term.strip()
    prefix, suffix = raw.endswith("*"), raw.startswith("*")
    key = text_key(raw.strip("*")).replace(SOFT, "")
    runs = tuple(len(m.group()) for m in _RUN.finditer(key))
    return TermKey(REPEATS.sub(r"\1", key), runs, prefix, suffix)


def normalised_key(text: str) -> str:
    """Key for duplicate detection: two comments with the same key are the same comment
    to a reader (case, width, accents, look-alikes, leetspeak, spacing and repeated
    letters aside). Words are separated by single spaces."""
    return REPEATS.sub(r"\1", text_key(text).replace(SOFT, ""))
