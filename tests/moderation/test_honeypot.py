"""The honeypot check: hidden field, form token and typing speed (no real clock used)."""

from __future__ import annotations

import pytest

from service.moderation import Action, moderate

from .helpers import NOW, facts, open_policy, sub

STRICT = open_policy(require_form_token=True)


@pytest.mark.parametrize(
    ("kw", "expected", "reason"),
    [
        ({"honeypot": "http://spam.example"}, Action.SPAM, "hidden form field"),
        ({"honeypot": "   "}, Action.HOLD, "without a valid comment form"),
        ({"honeypot": ""}, Action.HOLD, "without a valid comment form"),
        ({"form_rendered_at": None}, Action.HOLD, "without a valid comment form"),
        ({"form_rendered_at": NOW - 1}, Action.SPAM, "faster than a person can type"),
        ({"form_rendered_at": NOW - 2.99}, Action.SPAM, "sent 3.0 seconds"),
        ({"form_rendered_at": NOW - 3}, Action.APPROVE, None),
        ({"form_rendered_at": NOW + 60}, Action.HOLD, "in the future"),
        ({"form_rendered_at": NOW - 600}, Action.APPROVE, None),
        (
            {"form_rendered_at": NOW - 10, "body": "x" * 251},
            Action.SPAM,
            "251 characters written in 10 seconds",
        ),
        ({"form_rendered_at": NOW - 10, "body": "x" * 250}, Action.APPROVE, None),
        ({"form_rendered_at": NOW - 1, "is_edit": True}, Action.APPROVE, None),
        ({"form_rendered_at": None, "is_edit": True}, Action.APPROVE, None),
        ({"honeypot": "x", "is_edit": True}, Action.SPAM, "hidden form field"),
    ],
)
def test_honeypot_and_timing(kw: dict[str, object], expected: Action, reason: str | None) -> None:
    body = str(kw.pop("body", "A comment."))
    decision = moderate(sub(body, **kw), facts(), STRICT)
    assert decision.action is expected, decision.verdicts
    if reason:
        assert reason in decision.reasons()[0]


def test_form_token_can_be_optional() -> None:
    assert moderate(sub(), facts(), open_policy()).action is Action.APPROVE


def test_timing_rules_can_be_switched_off() -> None:
    policy = open_policy(require_form_token=True, min_seconds_to_submit=0, max_chars_per_second=0)
    fast = sub("x" * 5000, form_rendered_at=NOW)
    assert moderate(fast, facts(), policy).action is Action.APPROVE
