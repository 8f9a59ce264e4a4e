"""Signed form tokens: the server records when a comment form was rendered.

Token = ``v1.<issued_at>.<hmac>`` over site, thread and time. A bot posting without rendering the
form has no token; one posting a second after rendering is faster than any person types.

Short-lived, not single-use. A token is good for one article of one site, from when it was
issued for ``MAX_AGE_SECONDS`` (one hour; it was 24 hours, long enough to harvest tokens in
bulk and post with them all day). Peers: phpBB's form keys live two hours by default, WordPress
nonces 12-24 hours, both reusable meanwhile; captcha tokens (Turnstile, reCAPTCHA) live two to
five minutes and are spent on the first check, but they prove a solved challenge, not how long
the form was open, and a token that must be fresh at posting time cannot also say when the
reader started writing. An hour covers writing even a long comment; the widget fetches the
token when the form gets focus and fetches a new one on a later focus while the comment box is
still empty, so a tab left open does not post with a stale token (and a token fetched just
before posting would look like a paste). A comment after the hour is held for review, never
dropped. The token is not spent by a refused post (409, 422, 429...): the reader fixes the
comment and sends it again with the same token.

Single use would need the post's own write transaction to record the token, atomically with
the comment, so that two workers cannot both accept it; the signature already binds site,
thread and time, so such a record (a spent-token table keyed by the token's MAC, purged after
``MAX_AGE_SECONDS``) is all that would be missing.
"""

from __future__ import annotations

import hashlib
import hmac

MAX_AGE_SECONDS = 3600
# A token issued this far ahead of the server's clock (another worker's clock, slightly ahead)
# is still accepted; the honeypot check then holds the comment as "form's time in the future".
CLOCK_SKEW_SECONDS = 5


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
    if issued_at > now + CLOCK_SKEW_SECONDS or now - issued_at > MAX_AGE_SECONDS:
        return None
    return float(issued_at)
