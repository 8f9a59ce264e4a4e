"""Policy parsing: defaults, round trip, and clear errors on bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from service.moderation import Mode, Policy, PolicyError, RateLimit


def test_defaults_round_trip_through_json() -> None:
    policy = Policy()
    assert policy.mode is Mode.PREMODERATE_FIRST
    assert Policy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy
    assert Policy.from_dict({}) == policy


def test_a_full_policy_round_trips_and_is_hashable() -> None:
    data: dict[str, Any] = {
        "mode": "publish",
        "checks": ["words", "links"],
        "dry_run": ["honeypot", "spam_filter"],
        "trust_min_approved": 2,
        "require_form_token": False,
        "min_seconds_to_submit": 5,
        "max_chars_per_second": 40.5,
        "max_links": 0,
        "blocked_domains": ["*.Spam.example", "bad.example."],
        "url_shorteners": ["bit.ly"],
        "blocked_words": ["foo", "bar*"],
        "suspect_words": ["check out my"],
        "suspect_presets": ["self_promotion"],
        "rate_limits": {"ip": {"limit": 3, "window_seconds": 30}, "thread": None},
        "flags_to_review": 5,
    }
    policy = Policy.from_dict(data)
    assert policy.blocked_domains == ("spam.example", "bad.example")
    assert policy.rate_limits == (RateLimit("ip", 3, 30.0), RateLimit("author", 5, 60.0))
    assert policy.rate_limit("thread") is None
    assert policy.dry_run == frozenset({"honeypot", "spam_filter"})
    assert Policy.from_dict(policy.to_dict()) == policy
    assert hash(policy) == hash(Policy.from_dict(policy.to_dict()))
    assert "check out my" in policy.all_suspect_words()


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"modes": "publish"}, "modes", "is not a policy setting"),
        ({"mode": "open"}, "mode", "must be one of premoderate_all"),
        ({"mode": 1}, "mode", "must be one of"),
        ({"require_form_token": "yes"}, "require_form_token", "true or false"),
        ({"max_links": True}, "max_links", "whole number"),
        ({"max_links": -1}, "max_links", "from 0 to 1000"),
        ({"max_links": 2.5}, "max_links", "whole number"),
        ({"min_seconds_to_submit": float("nan")}, "min_seconds_to_submit", "a number"),
        ({"min_seconds_to_submit": "3"}, "min_seconds_to_submit", "a number"),
        ({"max_chars_per_second": -1}, "max_chars_per_second", "from 0"),
        ({"trust_min_approved": None}, "trust_min_approved", "whole number"),
        ({"blocked_words": "spam"}, "blocked_words", "must be a list"),
        ({"blocked_words": ["ok", ""]}, "blocked_words[1]", "non-empty text"),
        ({"blocked_words": ["ok", 3]}, "blocked_words[1]", "non-empty text"),
        ({"blocked_words": ["!!!"]}, "blocked_words[0]", "no letters or digits"),
        ({"blocked_words": ["x" * 101]}, "blocked_words[0]", "longer than 100"),
        ({"suspect_presets": ["nope"]}, "suspect_presets[0]", "self_promotion"),
        ({"blocked_domains": ["not a domain"]}, "blocked_domains[0]", "domain name"),
        ({"blocked_domains": ["http://x.com/"]}, "blocked_domains[0]", "domain name"),
        ({"checks": ["words", "nope"]}, "checks[1]", "unknown check 'nope'"),
        ({"checks": ["trust"]}, "checks[0]", "always runs"),
        ({"dry_run": ["mode"]}, "dry_run[0]", "cannot be dry-run"),
        ({"dry_run": ["Bad Name"]}, "dry_run[0]", "check name"),
        ({"rate_limits": []}, "rate_limits", "must be an object"),
        ({"rate_limits": {"planet": None}}, "rate_limits.planet", "not a scope"),
        ({"rate_limits": {"ip": {"limit": 5}}}, "rate_limits.ip", "limit, window_seconds"),
        (
            {"rate_limits": {"ip": {"limit": 0, "window_seconds": 60}}},
            "rate_limits.ip.limit",
            "from 1",
        ),
        (
            {"rate_limits": {"ip": {"limit": 1, "window_seconds": 0}}},
            "rate_limits.ip.window_seconds",
            "from 1",
        ),
        ({"flags_to_review": 0}, "flags_to_review", "from 1"),
    ],
)
def test_bad_policies_name_the_field_and_say_why(
    data: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.from_dict(data)
    assert caught.value.field == field
    assert words in caught.value.message
    assert str(caught.value).startswith(field + ": ")


def test_policy_error_is_a_value_error() -> None:
    assert issubclass(PolicyError, ValueError)
    with pytest.raises(PolicyError):
        Policy.from_dict([])  # type: ignore[arg-type]


def test_a_replaced_policy_is_parsed_again() -> None:
    """site_policy caches by the policy object; assigning a new policy (the only way a policy
    changes) is seen at once, and the same object gives the same parsed policy."""
    from service.sites.models import Site
    from service.sites.policy import site_policy

    site = Site(slug="memo", name="Memo", policy={"mode": "publish"})
    first = site_policy(site)
    assert site_policy(site) is first
    site.policy = {"mode": "premoderate_all"}
    assert site_policy(site) is not first
    assert site_policy(site).to_dict()["mode"] == "premoderate_all"
