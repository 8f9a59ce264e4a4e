"""Issue 19: a hard time budget really stops the work, and holds the comment for a person.

The budget is a plain callable (the core reads no clock); these tests drive it by counting
its calls, so nothing here depends on the machine's speed.
"""

from __future__ import annotations

from typing import Any

import pytest

from service import moderation
from service.comments import rendering, screening, spamcheck
from service.moderation import Action, OutOfTime
from service.moderation.words import MAX_KEY_INPUT, WordsCheck
from tests.hostile.pipeline import Pipeline
from tests.hostile.shapes import NORMAL
from tests.moderation.helpers import PROFANITY, open_policy, sub

REASON = moderation.OVER_BUDGET_REASON


class Countdown:
    """A budget that runs out after ``calls`` questions."""

    def __init__(self, calls: int) -> None:
        self.left = calls
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        self.left -= 1
        return self.left < 0


class Recorder:
    """A check that records being run."""

    name = "recorder"

    def __init__(self) -> None:
        self.ran = False

    def __call__(self, submission: Any, facts: Any) -> None:
        self.ran = True


def test_a_spent_budget_holds_and_runs_no_further_check() -> None:
    """R-DEP-1: over budget is a HOLD with a plain reason; never SPAM, never dropped."""
    later = Recorder()
    decision = moderation.moderate(
        sub("an ordinary comment"),
        moderation.Facts(now=0.0, budget=lambda: True),
        open_policy(blocked_words=["spam"]),
        [later],
    )
    assert decision.action is Action.HOLD
    assert decision.reasons() == [REASON]
    assert not later.ran


def test_the_budget_is_asked_between_checks() -> None:
    later = Recorder()
    budget = Countdown(2)
    decision = moderation.moderate(
        sub("an ordinary comment"),
        moderation.Facts(now=0.0, budget=budget),
        open_policy(),
        [later],
    )
    assert budget.asked >= 3
    assert decision.action is Action.HOLD
    assert decision.verdicts[-1].check == moderation.BUDGET_CHECK
    assert not later.ran


def test_verdicts_found_before_the_budget_ran_out_still_count() -> None:
    """A blocked word found before time ran out still rejects: the budget only adds a
    HOLD, it never softens what was already found."""
    budget = Countdown(100)
    policy = open_policy(blocked_words=["spam"])
    decision = moderation.moderate(sub("buy spam"), moderation.Facts(0.0, budget=budget), policy)
    assert decision.action is Action.REJECT


def test_an_unlimited_budget_changes_nothing() -> None:
    policy = open_policy(blocked_words=list(PROFANITY), max_links=2)
    for body in ("hello there", "shit", "see a.com and b.com", NORMAL):
        plain = moderation.moderate(sub(body), moderation.Facts(now=0.0), policy)
        timed = moderation.moderate(sub(body), moderation.Facts(0.0, budget=lambda: False), policy)
        assert plain == timed


def test_the_matcher_asks_the_budget_inside_its_loop() -> None:
    """The automaton (and the fast path's verification) stop mid-text, in bounded chunks."""
    matcher = moderation.compile_matcher((("blocked", ("*ing",)), ("suspect", ())))
    key = "going " * 5000
    budget = Countdown(1)
    with pytest.raises(OutOfTime):
        matcher.find_key(key, budget)
    assert budget.asked == 2  # the first chunk ran, the second was refused
    assert matcher.find_key(key) != []


def test_words_check_holds_what_is_past_its_cap() -> None:
    """NFKC expands U+FDFA 18 times: a 10,000-character body folds to 180,000 characters.
    Only the first MAX_KEY_INPUT are matched, and the comment is held for a person."""
    check = WordsCheck(open_policy(blocked_words=["spam"]).matcher)
    verdict = check(sub("\ufdfa " * 4000 + " spam"), moderation.Facts(now=0.0))
    assert verdict is not None
    assert verdict.action is Action.HOLD and verdict.reason == REASON
    # a blocked word inside the cap still rejects
    verdict = check(sub("spam " + "\ufdfa " * 4000), moderation.Facts(now=0.0))
    assert verdict is not None and verdict.action is Action.REJECT
    assert len(moderation.normalised_key("\ufdfa" * 2000)) > MAX_KEY_INPUT // 2


def test_links_check_asks_the_budget() -> None:
    policy = open_policy(max_links=2)
    body = " ".join(f"site{i}.com" for i in range(400))
    decision = moderation.moderate(sub(body), moderation.Facts(0.0, budget=Countdown(3)), policy)
    assert decision.action is Action.HOLD
    assert decision.verdicts[-1].reason == REASON


def test_spam_filter_is_not_run_once_the_deadline_has_passed() -> None:
    pipeline = Pipeline()
    calls: list[str] = []
    real = pipeline.learner.score

    def score(*args: Any) -> Any:
        calls.append("score")
        return real(*args)

    pipeline.learner.score = score  # type: ignore[method-assign]
    verdict = spamcheck.assess(
        pipeline.learner,
        None,  # type: ignore[arg-type]
        site_id=1,
        policy=pipeline.policy,
        body="hello",
        author_name="A",
        website=None,
        budget_seconds=1.0,
        session=pipeline.reader,
        deadline=lambda: True,
    )
    assert calls == []
    assert verdict.verdict is not None
    assert verdict.verdict.action is Action.HOLD and verdict.verdict.reason == REASON


def test_screen_with_time_left_is_the_ordinary_pipeline() -> None:
    pipeline = Pipeline()
    screened = pipeline.run(NORMAL)
    assert not screened.over_budget and not screened.plain
    assert screened.html == rendering.render(NORMAL)
    assert any(v.check == "spam_filter" for v in screened.decision.verdicts)


def test_screen_past_its_deadline_holds_renders_plain_and_skips_the_filter() -> None:
    """Over budget: HOLD with the plain reason, plain-text HTML, the filter not run."""
    pipeline = Pipeline()
    screened = pipeline.run("**bold** and [a link](https://example.org)", budget=-1.0)
    assert screened.over_budget and screened.plain
    assert screened.decision.action is Action.HOLD
    assert screened.decision.reasons() == [REASON]
    assert not any(v.check == "spam_filter" for v in screened.decision.verdicts)
    assert "<strong>" not in screened.html and "**bold**" in screened.html
    assert screened.dedupe  # the duplicate key is always computed (linear, cheap)


def test_deadline_counts_on_its_clock() -> None:
    now = [10.0]
    deadline = screening.Deadline.after(0.5, clock=lambda: now[0])
    assert not deadline() and deadline.remaining() == pytest.approx(0.5)
    now[0] = 10.5
    assert deadline()
