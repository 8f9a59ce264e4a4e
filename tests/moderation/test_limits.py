"""Rate-limit and reader-flag helpers."""

from __future__ import annotations

import pytest

from service.moderation import Policy, RateLimit, flag_verdict, rate_limit_verdict

from .helpers import NOW

LIMITS = Policy().rate_limits


def test_under_every_limit_is_fine() -> None:
    counts = {"ip": (4, NOW - 10), "author": (0, None), "thread": (59, NOW - 59)}
    assert rate_limit_verdict(counts, LIMITS, NOW) is None
    assert rate_limit_verdict({}, LIMITS, NOW) is None


def test_retry_after_is_when_the_oldest_leaves_the_window() -> None:
    hit = rate_limit_verdict({"ip": (5, NOW - 20.5)}, LIMITS, NOW)
    assert hit is not None
    assert (hit.scope, hit.retry_after) == ("ip", 40)
    assert hit.message == (
        "too many comments from your network: 5 in the last minute (limit 5);"
        " please try again in 40 seconds"
    )


@pytest.mark.parametrize(
    ("oldest", "retry"),
    [(NOW - 59.9, 1), (NOW - 60, 1), (NOW - 500, 1), (None, 60), (NOW, 60)],
)
def test_retry_after_is_a_whole_second_at_least_one(oldest: float | None, retry: int) -> None:
    hit = rate_limit_verdict({"author": (7, oldest)}, LIMITS, NOW)
    assert hit is not None and hit.retry_after == retry and hit.scope == "author"


def test_the_longest_wait_wins() -> None:
    limits = (RateLimit("ip", 5, 60), RateLimit("thread", 2, 3600))
    hit = rate_limit_verdict({"ip": (9, NOW - 1), "thread": (2, NOW - 100)}, limits, NOW)
    assert hit is not None and hit.scope == "thread" and hit.retry_after == 3500
    assert "on this article: 2 in the last hour (limit 2)" in hit.message


def test_flags_put_back_in_the_queue_at_the_threshold() -> None:
    policy = Policy.from_dict({"flags_to_review": 3})
    assert [flag_verdict(n, policy) for n in range(5)] == [False, False, False, True, True]
