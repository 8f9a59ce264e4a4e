"""Links: counting every written form once, blocked domains, shorteners, the website."""

from __future__ import annotations

import pytest

from service.moderation import Action, find_links, moderate

from .helpers import facts, open_policy, sub


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("no links here, e.g. node.js or file.py or readme.md", 0),
        ("see https://example.org/a?b=c#d", 1),
        ("ftp://files.example.net and http://a.example", 2),
        ("visit www.example.info today", 1),
        ("visit example.com, or shop.example.co.uk/sale", 2),
        ("[my site](https://example.com/x)", 1),
        ("[https://a.example](https://b.example)", 1),
        ("<https://example.com/auto>", 1),
        ('<a href="http://www.youtube.com/watch?v=x">2:19</a>', 1),
        ("\uff42\uff49\uff54\uff0e\uff4c\uff59/abc", 1),
        ("mail me at someone@example.com", 0),
        ("it was good.Then we left. The end.", 0),
        ("version 1.2.3 of the app", 0),
    ],
)
def test_link_counting(text: str, count: int) -> None:
    assert len(find_links(text)) == count, find_links(text)


@pytest.mark.parametrize(
    ("body", "website", "expected", "reason"),
    [
        ("one https://a.example link", None, Action.APPROVE, None),
        ("https://a.example and www.b.example", None, Action.HOLD, "contains 2 links"),
        (
            "[a](http://x.example) b.com c.net",
            None,
            Action.HOLD,
            "contains 3 links (comments with 2",
        ),
        ("see bit.ly/3xYz", None, Action.HOLD, "link shortener"),
        ("see https://b\u0456t.ly/3xYz", None, Action.HOLD, "link shortener"),
        ("nice post", "https://tinyurl.com/abc", Action.HOLD, "link shortener"),
        ("buy at http://shop.casino.example/now", None, Action.SPAM, "blocked list"),
        ("buy at CASINO.example", None, Action.SPAM, "blocked list"),
        ("nice post", "https://www.casino.example", Action.SPAM, "website given"),
        ("nice post", "https://notcasino.example", Action.APPROVE, None),
        ("nice post", "https://a.example/ https://b.example/", Action.APPROVE, None),
    ],
)
def test_links_check(body: str, website: str | None, expected: Action, reason: str | None) -> None:
    policy = open_policy(blocked_domains=["casino.example"])
    decision = moderate(sub(body, website=website), facts(), policy)
    assert decision.action is expected, decision.verdicts
    if reason:
        assert reason in decision.reasons()[0]


def test_link_limit_zero_means_no_limit() -> None:
    policy = open_policy(max_links=0)
    body = " ".join(f"https://{i}.example" for i in range(20))
    assert moderate(sub(body), facts(), policy).action is Action.APPROVE
