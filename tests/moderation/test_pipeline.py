"""moderate(): base modes, trust, strictest-wins, failing checks, dry runs, the registry."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from service.moderation import (
    Action,
    Decision,
    Evidence,
    Facts,
    Mode,
    Policy,
    Submission,
    Verdict,
    build_checks,
    moderate,
    register,
    strictest,
)

from .helpers import facts, open_policy, sub


@dataclass(frozen=True)
class Fixed:
    """An extra check that always says the same thing."""

    action: Action
    name: str = "fixed"

    def __call__(self, submission: Submission, facts: Facts) -> Verdict | None:
        return Verdict(self.name, self.action, f"fixed {self.action}")


class Boom:
    name = "spam_filter"

    def __call__(self, submission: Submission, facts: Facts) -> Verdict | None:
        raise RuntimeError("model file missing: /secret/path")


class Garbage:
    name = "garbage"

    def __call__(self, submission: Submission, facts: Facts) -> Verdict | None:
        return "reject"  # type: ignore[return-value]


def test_actions_are_ordered_by_severity_not_alphabet() -> None:
    assert [a.severity for a in Action] == [0, 1, 2, 3]
    assert strictest([Action.SPAM, Action.HOLD, Action.REJECT]) is Action.REJECT
    assert strictest([Action.HOLD, Action.APPROVE]) is Action.HOLD
    assert strictest([]) is Action.APPROVE


@pytest.mark.parametrize(
    ("mode", "approved", "bad", "expected", "reason"),
    [
        (Mode.PUBLISH, 0, 0, Action.APPROVE, None),
        (Mode.PUBLISH, 5, 1, Action.HOLD, "rejected or marked as spam"),
        (Mode.PREMODERATE_ALL, 9, 0, Action.HOLD, "a moderator reads every comment on this site"),
        (Mode.PREMODERATE_FIRST, 0, 0, Action.HOLD, "the first comment from each name and email"),
        (Mode.PREMODERATE_FIRST, 1, 0, Action.APPROVE, None),
        (
            Mode.PREMODERATE_FIRST,
            3,
            1,
            Action.HOLD,
            "1 earlier comment from this name and email was rejected",
        ),
    ],
)
def test_base_modes_and_trust(
    mode: Mode, approved: int, bad: int, expected: Action, reason: str | None
) -> None:
    policy = open_policy(mode=mode.value)
    decision = moderate(sub(), facts(approved=approved, spam=bad), policy)
    assert decision.action is expected
    if reason:
        assert reason in decision.reasons()[0]


def test_trust_threshold_is_configurable() -> None:
    policy = open_policy(mode="premoderate_first", trust_min_approved=3)
    held = moderate(sub(), facts(approved=2), policy)
    assert held.action is Action.HOLD
    assert held.reasons() == [
        "this name and email has 2 approved comments; comments appear without review once 3"
        " have been approved"
    ]
    trusted = moderate(sub(), facts(approved=3), policy)
    assert trusted.action is Action.APPROVE
    assert trusted.reasons() == ["known author with 3 approved comments"]


def test_strictest_acting_verdict_wins_and_every_verdict_is_kept() -> None:
    policy = open_policy(mode="premoderate_all")
    decision = moderate(sub(), facts(), policy, [Fixed(Action.SPAM), Fixed(Action.APPROVE, "ok")])
    assert decision.action is Action.SPAM  # a verdict that does not say is decisive
    assert decision.held_instead_of is None
    assert [v.check for v in decision.verdicts] == ["mode", "fixed", "ok"]
    assert decision.reasons() == [
        "fixed spam",
        "a moderator reads every comment on this site before it appears",
        "fixed approve",
    ]


@pytest.mark.parametrize("broken", [Boom(), Garbage()])
@pytest.mark.parametrize("mode", list(Mode))
def test_a_failing_check_holds_never_approves_never_rejects(broken: object, mode: Mode) -> None:
    decision = moderate(sub(), facts(approved=9), open_policy(mode=mode.value), [broken])  # type: ignore[list-item]
    assert decision.action is Action.HOLD
    failed = decision.verdicts[-1]
    name = broken.name  # type: ignore[attr-defined]
    assert failed == Verdict(
        name,
        Action.HOLD,
        f"the automatic check {name!r} could not run, so a moderator will read it",
        detail=failed.detail,
        evidence=Evidence.WEAK,
    )
    assert "secret" not in str(decision.to_dict())


def test_dry_run_is_recorded_but_not_acted_on() -> None:
    policy = open_policy(dry_run=["fixed", "spam_filter", "words"], blocked_words=["spam"])
    decision = moderate(sub("spam spam"), facts(), policy, [Fixed(Action.REJECT), Boom()])
    assert decision.action is Action.APPROVE
    assert {v.check for v in decision.verdicts} == {"words", "fixed", "spam_filter"}
    assert all(v.dry_run for v in decision.verdicts)
    assert decision.reasons() == []


def test_dry_run_of_one_check_leaves_the_others_acting() -> None:
    policy = open_policy(dry_run=["fixed"], max_links=1)
    decision = moderate(sub("see https://a.example"), facts(), policy, [Fixed(Action.REJECT)])
    assert decision.action is Action.HOLD
    assert decision.reasons() == ["contains 1 link (comments with 1 or more are reviewed)"]


def test_decision_round_trips_through_its_dict() -> None:
    policy = open_policy(blocked_words=["spam"], dry_run=["fixed"])
    decision = moderate(sub("spam"), facts(), policy, [Fixed(Action.HOLD)])
    data = decision.to_dict()
    assert Decision.from_dict({"actor": "system", **data}) == decision
    assert data["action"] == "reject"
    with pytest.raises(ValueError, match="explode"):
        Decision.from_dict({"action": "explode", "verdicts": []})
    with pytest.raises(ValueError, match="needs text"):
        Decision.from_dict({"action": "hold", "verdicts": [{"check": 1}]})


def test_builtins_come_from_the_registry_and_plugins_register_the_same_way() -> None:
    names = [c.name for c in build_checks(Policy(blocked_words=("x",)))]
    assert names == ["mode", "trust", "honeypot", "links", "words"]
    assert [c.name for c in build_checks(Policy())] == ["mode", "trust", "honeypot", "links"]

    @register("always_hold")
    def _factory(policy: Policy) -> Fixed:
        return Fixed(Action.HOLD, "always_hold")

    policy = open_policy(checks=["always_hold"])
    assert moderate(sub(), facts(), policy).action is Action.HOLD


def test_moderate_is_pure() -> None:
    policy = open_policy(blocked_words=["spam"], max_links=1)
    submission = sub("spam at https://x.example")
    first = moderate(submission, facts(), policy)
    assert all(moderate(submission, facts(), policy) == first for _ in range(3))
