"""Issue 20, honest defaults: SPAM or REJECT without a person needs decisive evidence or two
independent strong signals; anything else is held for review (``pipeline.combine``)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from service.moderation import Action, Decision, Evidence, Verdict, combine, moderate

from .helpers import NOW, facts, open_policy, sub


@dataclass(frozen=True)
class Says:
    """An extra check with a fixed verdict and weight (the learned filter, a plug-in)."""

    action: Action
    evidence: Evidence | None = Evidence.STRONG
    name: str = "spam_filter"

    def __call__(self, submission: object, facts: object) -> Verdict:
        return Verdict(
            self.name, self.action, f"{self.name} says {self.action}", evidence=self.evidence
        )


FILTER_SPAM = Says(Action.SPAM)


def test_the_filter_alone_holds_and_says_what_it_wanted() -> None:
    decision = moderate(sub(), facts(), open_policy(), [FILTER_SPAM])
    assert decision.action is Action.HOLD
    assert decision.held_instead_of is Action.SPAM
    assert Decision.from_dict(decision.to_dict()) == decision
    assert decision.to_dict()["held_instead_of"] == "spam"


def test_the_filter_with_the_authors_earlier_spam_bins() -> None:
    """The author's earlier spam is independent of this text; an earlier rejection (off
    topic, uncivil) says nothing about spam and does not count."""
    decision = moderate(sub(), facts(spam=1), open_policy(), [FILTER_SPAM])
    assert decision.action is Action.SPAM and decision.held_instead_of is None
    rejected = moderate(sub(), facts(rejected=2), open_policy(), [FILTER_SPAM])
    assert rejected.action is Action.HOLD and rejected.held_instead_of is Action.SPAM


@pytest.mark.parametrize(
    ("body", "kw", "policy"),
    [
        # form timing: a pasted text sent at once
        ("x" * 2500, {"form_rendered_at": NOW - 1}, {"require_form_token": True}),
        # no form token at all
        ("A comment.", {}, {"require_form_token": True}),
        # link count at the limit
        ("see https://a.example and https://b.example", {}, {}),
        # a link shortener (weak until the links check says otherwise)
        ("see https://bit.ly/x", {}, {}),
        # premoderation
        ("A comment.", {}, {"mode": "premoderate_all"}),
        ("A comment.", {}, {"mode": "premoderate_first"}),
        # a suspect phrase
        ("please subscribe to my channel", {}, {"suspect_presets": ["self_promotion"]}),
    ],
)
def test_weak_signals_never_corroborate_the_filter(
    body: str, kw: dict[str, object], policy: dict[str, object]
) -> None:
    decision = moderate(sub(body, **kw), facts(), open_policy(**policy), [FILTER_SPAM])
    assert decision.action is Action.HOLD, decision.verdicts
    assert len([v for v in decision.verdicts if v.action is not Action.APPROVE]) >= 2


def test_two_strong_verdicts_of_one_check_are_not_independent() -> None:
    decision = moderate(sub(), facts(), open_policy(), [FILTER_SPAM, FILTER_SPAM])
    assert decision.action is Action.HOLD


def test_a_dry_run_check_corroborates_nothing() -> None:
    other = Says(Action.HOLD, name="other")
    policy = open_policy(dry_run=["other"])
    assert moderate(sub(), facts(), policy, [FILTER_SPAM, other]).action is Action.HOLD
    assert moderate(sub(), facts(), open_policy(), [FILTER_SPAM, other]).action is Action.SPAM


@pytest.mark.parametrize(
    ("kw", "policy", "expected"),
    [
        ({"honeypot": "http://x.example"}, {}, Action.SPAM),
        ({}, {"blocked_words": ["casino"]}, Action.REJECT),
        ({}, {"blocked_domains": ["casino.example"]}, Action.SPAM),
    ],
)
def test_decisive_rules_act_alone(
    kw: dict[str, object], policy: dict[str, object], expected: Action
) -> None:
    body = "win at casino.example"
    decision = moderate(sub(body, **kw), facts(), open_policy(**policy))
    assert decision.action is expected and decision.held_instead_of is None


@pytest.mark.parametrize("action", [Action.SPAM, Action.REJECT])
def test_a_weak_or_strong_plugin_cannot_bin_alone(action: Action) -> None:
    for evidence in (Evidence.WEAK, Evidence.STRONG):
        decision = moderate(sub(), facts(), open_policy(), [Says(action, evidence, "plug")])
        assert decision.action is Action.HOLD and decision.held_instead_of is action


def test_combine_rules_directly() -> None:
    strong = Verdict("a", Action.SPAM, "a", evidence=Evidence.STRONG)
    agree = Verdict("b", Action.HOLD, "b", evidence=Evidence.STRONG)
    weak = Verdict("c", Action.SPAM, "c", evidence=Evidence.WEAK)
    assert combine([]) == (Action.APPROVE, None)
    assert combine([strong]) == (Action.HOLD, Action.SPAM)
    assert combine([strong, agree]) == (Action.SPAM, None)
    assert combine([weak, agree]) == (Action.HOLD, Action.SPAM)
    # the weak SPAM does not count, the strong pair does
    assert combine([weak, strong, agree]) == (Action.SPAM, None)
    # an unmarked REJECT is the site's own rule (a blocked word): decisive
    assert combine([Verdict("words", Action.REJECT, "w"), strong]) == (Action.REJECT, None)
