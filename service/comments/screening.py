"""The CPU work of posting one comment, bounded by a deadline (issue 19).

``screen`` is the one call a posting path makes for everything that reads the comment's
text: moderation (the pure core, with the deadline as its budget), the learned spam filter,
the Markdown rendering and the duplicate key. Every stage is linear in the text and capped
(see docs/performance.md, "Hostile input"); the deadline is the backstop that really stops
the work: it is asked between stages, between moderation checks and inside their long
loops, and once it has passed:

* no further check runs and the decision holds the comment for a person, with the plain
  reason ``moderation.OVER_BUDGET_REASON`` ("too long to check automatically; a moderator
  will review it") — never SPAM, never REJECT, never dropped;
* the spam filter is not started (the same HOLD);
* the body is rendered as plain text (escaped, paragraphs kept) instead of Markdown.

The deadline counts this thread's CPU time by default, not wall time: a server waiting for
its turn on a busy machine is not a slow comment, and must not hold every comment. Run
``screen`` on one thread from start to end (a worker thread is fine).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from service import moderation
from service.comments import rendering

# What a posting path passes for the spam filter: called with the deadline, gives the
# filter's check (``spamcheck.assess`` with its other arguments bound).
SpamScorer = Callable[["Deadline"], moderation.Check]


def dedupe_key(body: str) -> str:
    """The duplicate key of a comment body: two bodies with the same key are the same comment
    to a reader (``moderation.normalised_key``: case, width, look-alikes, spacing aside)."""
    return hashlib.sha256(moderation.normalised_key(body).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point on ``clock`` (seconds) after which the comment's work stops.

    Callable, so it is a ``moderation.Budget`` as it is: ``deadline()`` is True once
    ``clock()`` has reached ``at``.
    """

    at: float
    clock: Callable[[], float] = field(default=time.thread_time, compare=False)

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.thread_time) -> Deadline:
        """The deadline ``seconds`` from now on ``clock`` (this thread's CPU time)."""
        return cls(clock() + seconds, clock)

    def __call__(self) -> bool:
        return self.clock() >= self.at

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.at - self.clock()


@dataclass(frozen=True, slots=True)
class Screened:
    """What ``screen`` found: the decision, the HTML to store, the duplicate key."""

    decision: moderation.Decision
    html: str
    # Rendered as plain text: over the Markdown caps, or no time left to render Markdown.
    plain: bool
    dedupe: str
    # The deadline stopped some of the work (the decision then holds the comment).
    over_budget: bool


@dataclass(frozen=True, slots=True)
class _Deferred:
    """The spam filter as a moderation check that is only computed when the pipeline
    reaches it, so a deadline spent by the cheaper checks skips it."""

    name: str
    scorer: SpamScorer
    deadline: Deadline

    def __call__(
        self, submission: moderation.Submission, facts: moderation.Facts
    ) -> moderation.Verdict | None:
        return self.scorer(self.deadline)(submission, facts)


def screen(
    submission: moderation.Submission,
    facts: moderation.Facts,
    policy: moderation.Policy,
    *,
    deadline: Deadline,
    spam: SpamScorer | None = None,
    spam_name: str = "spam_filter",
    extra_checks: Sequence[moderation.Check] = (),
    dedupe: str | None = None,
) -> Screened:
    """Moderate, score, render and key one comment within ``deadline``.

    ``facts`` as the posting path builds them (now, the author's history); its budget is
    replaced by ``deadline``. ``spam``: the learned filter, run after the built-in checks
    and ``extra_checks`` only while time remains (the decision keeps its verdict under
    ``spam_name``, as before). ``dedupe``: the duplicate key when the caller has it already
    (posting computes it for the cheap duplicate check first). Pure CPU work apart from what
    ``spam`` reads.
    """
    checks = list(extra_checks)
    if spam is not None:
        checks.append(_Deferred(spam_name, spam, deadline))
    decision = moderation.moderate(submission, replace(facts, budget=deadline), policy, checks)
    over = any(
        v.reason == moderation.OVER_BUDGET_REASON and not v.dry_run for v in decision.verdicts
    )
    if over or deadline():
        rendered = rendering.Rendered(rendering.plain_text(submission.body), plain=True)
        over = True
    else:
        rendered = rendering.render_bounded(submission.body)
    return Screened(
        decision=decision,
        html=rendered.html,
        plain=rendered.plain,
        dedupe=dedupe if dedupe is not None else dedupe_key(submission.body),
        over_budget=over,
    )
