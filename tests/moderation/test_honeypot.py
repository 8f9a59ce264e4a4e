"""The honeypot check: hidden field, form token and typing speed (no real clock used).

Only the hidden field bins a comment; a missing token and speed hold it at most: people
paste, dictate and re-send (issue 20)."""

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
        ({"form_rendered_at": NOW - 1}, Action.HOLD, "sent 1 second after the comment form"),
        ({"form_rendered_at": NOW - 0.2}, Action.HOLD, "sent less than a second after"),
        ({"form_rendered_at": NOW - 2.99}, Action.HOLD, "sent 3 seconds after"),
        ({"form_rendered_at": NOW - 3}, Action.APPROVE, None),
        ({"form_rendered_at": NOW + 60}, Action.HOLD, "could not be checked"),
        ({"form_rendered_at": NOW - 600}, Action.APPROVE, None),
        (
            {"form_rendered_at": NOW - 10, "body": "x" * 251},
            Action.HOLD,
            "251 characters were sent 10 seconds after the comment form appeared",
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


@pytest.mark.parametrize("elapsed", [0.0, 1.0, 2.5, 7.0])
def test_speed_never_bins_and_never_corroborates_spam(elapsed: float) -> None:
    """A pasted comment sent at once is held at most, even beside a "very likely spam" from
    another check: timing is weak evidence, and two are needed to bin (issue 20)."""
    from service.moderation import Evidence, Verdict

    class FilterSaysSpam:
        name = "spam_filter"

        def __call__(self, submission: object, facts: object) -> Verdict:
            return Verdict(self.name, Action.SPAM, "filter", evidence=Evidence.STRONG)

    pasted = sub("x" * 2500, form_rendered_at=NOW - elapsed)
    decision = moderate(pasted, facts(), STRICT, [FilterSaysSpam()])
    assert decision.action is Action.HOLD, decision.verdicts
    assert decision.held_instead_of is Action.SPAM
    timing = [v for v in decision.verdicts if v.check == "form_timing"]
    assert timing and timing[0].action is Action.HOLD and timing[0].weight is Evidence.WEAK
