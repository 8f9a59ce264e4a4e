"""Pure helpers the service uses *around* moderation: rate limits and reader flags.

Rate limits answer 429 before a comment is moderated, so they are not checks; the
service counts recent submissions (it owns the storage) and asks here what to answer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .policy import Policy, RateLimit

_WHO = {
    "ip": "from your network",
    "author": "from you",
    "thread": "on this article",
}


@dataclass(frozen=True, slots=True)
class RateLimitExceeded:
    """Which limit was hit, how long to wait (whole seconds, >= 1) and what to tell the
    author, in plain words."""

    scope: str
    retry_after: int
    message: str


def _window(seconds: float) -> str:
    if seconds % 3600 == 0:
        n = int(seconds // 3600)
        return "hour" if n == 1 else f"{n} hours"
    if seconds % 60 == 0:
        n = int(seconds // 60)
        return "minute" if n == 1 else f"{n} minutes"
    return f"{seconds:g} seconds"


def rate_limit_verdict(
    counts: Mapping[str, tuple[int, float | None]],
    limits: Iterable[RateLimit],
    now: float,
) -> RateLimitExceeded | None:
    """Would one more submission exceed a limit?

    ``counts[scope]`` is (submissions already in the window, timestamp of the oldest of
    them or None). A scope missing from ``counts`` is not limited. When several limits
    are hit, the one with the longest wait is returned: waiting less would fail again.
    """
    worst: RateLimitExceeded | None = None
    for limit in limits:
        count, oldest = counts.get(limit.scope, (0, None))
        if count < limit.limit:
            continue
        # The oldest submission leaves the window at oldest + window; then one slot frees.
        wait = limit.window_seconds if oldest is None else oldest + limit.window_seconds - now
        retry = max(1, math.ceil(wait))
        if worst is None or retry > worst.retry_after:
            who = _WHO.get(limit.scope, f"in scope {limit.scope}")
            message = (
                f"too many comments {who}: {count} in the last {_window(limit.window_seconds)}"
                f" (limit {limit.limit}); please try again in {retry} seconds"
            )
            worst = RateLimitExceeded(limit.scope, retry, message)
    return worst


def flag_verdict(flag_count: int, policy: Policy) -> bool:
    """True when reader flags should put a published comment back in the review queue.

    Flags never hide or delete anything by themselves: only a moderator does that.
    """
    return flag_count >= policy.flags_to_review
