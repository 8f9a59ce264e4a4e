"""Signed form tokens: the server records when a comment form was rendered.

Token = ``v1.<issued_at>.<hmac>`` over site, thread and time. A bot posting without rendering the
form has no token; one posting a second after rendering is faster than any person types.
"""

from __future__ import annotations

import hashlib
import hmac

MAX_AGE_SECONDS = 24 * 3600


def _mac(key: bytes, site: str, thread: str, issued_at: int) -> str:
    message = f"form\x00{site}\x00{thread}\x00{issued_at}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def issue(key: bytes, site: str, thread: str, now: float) -> str:
    issued_at = int(now)
    return f"v1.{issued_at}.{_mac(key, site, thread, issued_at)}"


def verify(key: bytes, site: str, thread: str, token: str | None, now: float) -> float | None:
    """The render time if the token is genuine, fresh and for this thread; otherwise None."""
    if not token:
        return None
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "v1" or not (parts[1].isascii() and parts[1].isdigit()):
        return None
    issued_at = int(parts[1])
    # Bytes: compare_digest refuses non-ASCII str (a TypeError, answered 500).
    mac = _mac(key, site, thread, issued_at).encode()
    if not hmac.compare_digest(parts[2].encode("utf-8", "surrogatepass"), mac):
        return None
    if issued_at > now + 5 or now - issued_at > MAX_AGE_SECONDS:
        return None
    return float(issued_at)
