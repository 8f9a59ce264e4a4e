"""The learned spam filter as one more moderation check.

The score is computed before the write transaction opens (so SQLite's write lock is never held
while scoring) and handed to the pure core as a check with a fixed verdict. A filter that fails
or runs past its time budget sends the comment to the queue: never to publication, never to
the bin.

A score at or above the policy's spam threshold is a STRONG verdict, not a decisive one: the
pipeline bins the comment only when another check independently agrees (see
``moderation.pipeline.combine``); on its own it holds the comment for review. A model is a
judgement learned from other people's comments, and a legitimate reader with a link to
Wikipedia must never be binned because of it alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from service import moderation
from service.comments.store import Sql
from service.db import Database
from service.observability import CLASSIFIER_SECONDS
from service.review.learning import SpamLearner

log = logging.getLogger("margin.spam")

NAME = "spam_filter"


@dataclass(frozen=True)
class FixedVerdict:
    """A moderation.Check whose verdict was computed outside the core."""

    name: str
    verdict: moderation.Verdict | None

    def __call__(
        self, submission: moderation.Submission, facts: moderation.Facts
    ) -> moderation.Verdict | None:
        del submission, facts
        return self.verdict


def _held(reason: str) -> FixedVerdict:
    verdict = moderation.Verdict(
        NAME, moderation.Action.HOLD, reason, evidence=moderation.Evidence.WEAK
    )
    return FixedVerdict(NAME, verdict)


def assess(
    learner: SpamLearner | None,
    db: Database,
    *,
    site_id: int,
    policy: moderation.Policy,
    body: str,
    author_name: str,
    website: str | None,
    budget_seconds: float,
    session: Session | Sql | None = None,
    deadline: Callable[[], bool] | None = None,
) -> FixedVerdict:
    """The filter's verdict. ``session``: a read session to sync the site's model on (the
    request's own, which saves opening another); a new one otherwise. ``deadline``: answers
    True once the comment's time is up (service.comments.screening.Deadline); when it has
    already, the filter does not run and the comment is held with the plain reason."""
    if learner is None:
        return FixedVerdict(NAME, None)
    if deadline is not None and deadline():
        return _held(moderation.OVER_BUDGET_REASON)
    # CPU time of this thread, not wall time: a busy server waiting for its turn is not a
    # slow filter, and must not hold every comment.
    started = time.thread_time()
    try:
        if session is not None:
            score = learner.score(session, site_id, body, author_name, website)
        else:
            with db.read() as own:
                score = learner.score(own, site_id, body, author_name, website)
    except Exception:
        log.exception("spam filter failed")
        return _held("the automatic filter could not check it, so a moderator will")
    spent = time.thread_time() - started
    CLASSIFIER_SECONDS.observe(spent)
    if spent > budget_seconds or (deadline is not None and deadline()):
        log.warning("spam filter over its time budget")
        return _held("the automatic filter took too long, so a moderator will check it")
    return FixedVerdict(NAME, verdict_for(score.probability, score.top_features, policy))


def verdict_for(
    probability: float, top_features: list[tuple[str, float]], policy: moderation.Policy
) -> moderation.Verdict:
    """The filter's verdict for a score. The score and the features that weighed most are
    for moderators (``detail``); the reason, which the author reads too, says what happened
    in plain words and names no weak signal (a link, the length) as if it were proof."""
    features = ", ".join(f"{name} ({weight:+.2f})" for name, weight in top_features)
    detail = f"filter score {probability:.2f}" + (f"; {features}" if features else "")
    if probability >= policy.spam_threshold:
        return moderation.Verdict(
            NAME,
            moderation.Action.SPAM,
            "the automatic spam filter rated it as very likely spam",
            detail=detail,
            evidence=moderation.Evidence.STRONG,
        )
    if probability >= policy.spam_hold_threshold:
        return moderation.Verdict(
            NAME,
            moderation.Action.HOLD,
            "the automatic filter was not sure about it",
            detail=detail,
            evidence=moderation.Evidence.WEAK,
        )
    return moderation.Verdict(
        NAME, moderation.Action.APPROVE, f"spam filter score {probability:.2f}", detail=detail
    )
