"""Shared checks for user-supplied text: reject what cannot be stored or displayed safely."""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

# Bidi embedding/override/isolate controls reorder surrounding UI text (Trojan Source class).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def single_line(value: str, field: str) -> str:
    """A name-like field: trimmed, no control characters, no bidi controls."""
    value = value.strip()
    for char in value:
        if char in BIDI_CONTROLS:
            raise ValueError(f"{field} must not contain bidirectional control characters")
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError(f"{field} must not contain control characters")
    return value


def multi_line(value: str, field: str) -> str:
    """Comment text: newlines and tabs allowed; NUL and other controls are not (PostgreSQL
    text cannot hold NUL, and we store exactly what we accept). Bidi embedding, override and
    isolate controls are refused too (they reorder the text around them: Trojan Source); the
    marks U+200E/U+200F, which only set a direction, are kept for right-to-left writers."""
    for char in value:
        if char in "\n\r\t":
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError(f"{field} must not contain control characters")
    if not BIDI_REORDERING.isdisjoint(value):
        raise ValueError(f"{field} must not contain bidirectional override characters")
    return value


# --- boundary checks for query, path and short values (service.bounded) ------------------

# The controls that reorder text around them (embeddings, overrides, isolates).
BIDI_REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def refuse_controls(value: str) -> None:
    """Refuse a single-line value holding a control character (NUL and C1 included), a lone
    surrogate (unencodable: it could be neither stored nor answered) or a bidi control. The
    message names no field: the caller's error names it."""
    for char in value:
        if char in BIDI_CONTROLS:
            raise ValueError("must not contain bidirectional control characters")
        category = unicodedata.category(char)
        if category == "Cs":
            raise ValueError("must not contain unpaired surrogates")
        if category == "Cc":
            raise ValueError("must not contain control characters (such as NUL)")


def http_url(value: str, field: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{field} must be an http:// or https:// address")
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in value):
        raise ValueError(f"{field} must not contain spaces or control characters")
    return value


def email_address(value: str) -> str:
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or domain.startswith(".") or domain.endswith("."):
        raise ValueError("email must look like name@example.org")
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("email must not contain spaces or control characters")
    return value


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


# --- showing text stored before the checks above (event log, policies, categories) -------

# What no answer should carry raw: lone surrogates (unencodable: the whole answer fails),
# C0/C1 controls other than tab, newline and carriage return, and bidi reordering controls.
_UNSHOWABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def readable(value: Any) -> Any:
    """``value`` (text, or JSON made of it) with every unshowable character written as a
    visible ``\\uXXXX`` escape. For stored text that no check refused when it was written:
    an append-only log cannot be corrected, only shown safely. Anything else is unchanged."""
    if isinstance(value, str):
        if _UNSHOWABLE.search(value) is None:
            return value
        return _UNSHOWABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
    if isinstance(value, dict):
        return {readable(k): readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [readable(v) for v in value]
    return value
