"""Shared checks for user-supplied text: reject what cannot be stored or displayed safely."""

from __future__ import annotations

import unicodedata
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
    text cannot hold NUL, and we store exactly what we accept)."""
    for char in value:
        if char in "\n\r\t":
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError(f"{field} must not contain control characters")
    return value


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
