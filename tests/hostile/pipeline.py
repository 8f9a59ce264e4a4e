"""The posting pipeline's CPU work, in process, as a site with a word list sees it (issue 19).

``Pipeline.run(body)`` is what posting a comment costs apart from the database: moderation
(form, trust, a 1,000-term blocked list plus the self-promotion preset, links with a
blocked domain and shorteners), the shipped spam model through ``spamcheck.assess`` and the
learner, Markdown rendering and the duplicate key, all through ``screening.screen`` with a
deadline. Shared by tests/hostile and bench/hostile.py.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import create_engine, text
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from service import moderation
from service.app import spam_model
from service.comments import spamcheck
from service.comments.screening import Deadline, Screened, screen
from service.comments.store import Sql
from service.db import Database
from service.review.learning import SpamLearner

SITE_ID = 1
BLOCKED = (*(f"blockedword{i}" for i in range(1000)), "spam", "casino", "viagra")


def site_policy() -> moderation.Policy:
    return moderation.Policy.from_dict(
        {
            "mode": "publish",
            "blocked_words": list(BLOCKED),
            "suspect_presets": ["self_promotion"],
            "blocked_domains": ["casino.example"],
            "max_links": 3,
        }
    )


@dataclass
class Pipeline:
    """One site's pipeline; ``budget`` seconds of this thread's CPU time per comment."""

    budget: float = 10.0
    policy: moderation.Policy = field(default_factory=site_policy)
    spam_seconds: float = 0.0  # CPU time of the last run's spam filter (service/spam)

    def __post_init__(self) -> None:
        self.learner = SpamLearner(spam_model(None))
        # An empty feedback table: the shipped model as a site without decisions scores.
        engine = create_engine(
            "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
        with engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE spam_feedback (id INTEGER PRIMARY KEY, site_id INTEGER,"
                    " label TEXT, delta TEXT)"
                )
            )
        self.reader = Sql(Session(engine))

    def run(self, body: str, *, budget: float | None = None) -> Screened:
        """Screen ``body``; ``spam_seconds`` then holds the spam filter's share."""
        self.spam_seconds = 0.0
        submission = moderation.Submission(body=body, author_name="A Reader")
        deadline = Deadline.after(self.budget if budget is None else budget)

        def spam(d: Deadline) -> moderation.Check:
            started = time.thread_time()
            try:
                return self._assess(body, submission, d)
            finally:
                self.spam_seconds = time.thread_time() - started

        return screen(
            submission, moderation.Facts(now=0.0), self.policy, deadline=deadline, spam=spam
        )

    def _assess(
        self, body: str, submission: moderation.Submission, d: Deadline
    ) -> moderation.Check:
        return spamcheck.assess(
            self.learner,
            cast(Database, None),  # unused: the reader below is used
            site_id=SITE_ID,
            policy=self.policy,
            body=body,
            author_name=submission.author_name,
            website=None,
            budget_seconds=max(self.budget, 0.5),
            session=self.reader,
            deadline=d,
        )


def forget_memos() -> None:
    """Empty the spam features' memos (service.spam.features.Memo), so a body repeated in a
    benchmark pays for its own features as a new comment would."""
    from service.spam import features

    memo = getattr(features, "Memo", None)  # the spam features may drop their memos
    if memo is None:
        return
    for obj in gc.get_objects():
        if isinstance(obj, memo):
            obj.clear()
