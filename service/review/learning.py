"""Each site's spam model learns from its moderators, durably, and every worker sees it.

Every teaching event is a row in ``spam_feedback``: a decision (``spam``/``ham``) with the exact
weight change it caused, an ``undo`` carrying the negated change of a reversed decision, or a
``reset`` back to the shipped model. A worker keeps each site's model in memory and, before
using it, applies the rows it has not seen yet (one indexed query), so a restart or another
worker rebuilds the same model from the same rows.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from service.comments.store import Sql, sql_of
from service.review.models import SpamFeedback
from service.spam import SiteModel, SpamModel, SpamScore, Update

SPAM, HAM, UNDO, RESET = "spam", "ham", "undo", "reset"


def _json_value(value: Any) -> Any:
    """A JSON column read in plain SQL: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str | bytes) else value


@dataclass
class _Cached:
    model: SiteModel
    last_id: int = 0
    # Rows this worker wrote and applied already; skipped when the sync reaches them.
    applied: set[int] = field(default_factory=set)


@dataclass
class SpamLearner:
    """Per-site models on top of one shipped base model (loaded once per process)."""

    base: SpamModel
    _sites: dict[int, _Cached] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _cached(self, site_id: int) -> _Cached:
        cached = self._sites.get(site_id)
        if cached is None:
            cached = self._sites[site_id] = _Cached(SiteModel(self.base))
        return cached

    @staticmethod
    def _new_feedback(
        session: Session | Sql, site_id: int, after: int
    ) -> list[tuple[int, str, object]]:
        # Runs before every score: plain SQL (service.comments.store), as the ORM's statement
        # building cost ~50 times the query, which finds nothing new almost every time.
        rows = sql_of(session).all(
            "SELECT id, label, delta FROM spam_feedback WHERE site_id = :site AND id > :last"
            " ORDER BY id",
            {"site": site_id, "last": after},
        )
        return [(int(row_id), str(label), delta) for row_id, label, delta in rows]

    def _apply(self, cached: _Cached, rows: list[tuple[int, str, object]]) -> None:
        """Under the lock: the feedback not applied yet, in order (another caller may have
        applied some of ``rows`` since they were read)."""
        for row_id, label, delta in rows:
            if row_id <= cached.last_id:
                continue
            if row_id in cached.applied:
                cached.applied.discard(row_id)
            elif label == RESET:
                cached.model = SiteModel(self.base)
            else:
                cached.model.apply(Update.from_json(_json_value(delta)))
            cached.last_id = row_id

    def score(
        self, session: Session | Sql, site_id: int, body: str, author_name: str, website: str | None
    ) -> SpamScore:
        # The database is read without the lock held: other request threads score
        # meanwhile, and none of them waits for another's statement.
        cached = self._sites.get(site_id)
        rows = self._new_feedback(session, site_id, cached.last_id if cached else 0)
        with self._lock:
            cached = self._cached(site_id)
            self._apply(cached, rows)
            return cached.model.score(body, author_name, website)

    def teach(
        self,
        session: Session,
        *,
        site_id: int,
        comment_id: int,
        label: str | None,
        text: tuple[str, str, str | None],
        at: datetime,
    ) -> None:
        """Record what a moderator decided about a comment (``spam``, ``ham`` or None for a
        decision that says nothing about spam). A different earlier lesson from the same
        comment is undone first, so a reversed decision leaves no trace in the model."""
        previous = session.exec(
            select(SpamFeedback).where(
                SpamFeedback.site_id == site_id,
                SpamFeedback.comment_id == comment_id,
                col(SpamFeedback.label).in_([SPAM, HAM]),
                col(SpamFeedback.active).is_(True),
            )
        ).first()
        if previous is not None and previous.label == label:
            return  # the same lesson twice would count double
        with self._lock:  # on a request thread: reading under the lock blocks no event loop
            cached = self._cached(site_id)
            self._apply(cached, self._new_feedback(session, site_id, cached.last_id))
            written: list[SpamFeedback] = []
            if previous is not None:
                undo = Update.from_json(previous.delta).negated()
                previous.active = False
                session.add(previous)
                cached.model.apply(undo)
                written.append(self._row(site_id, comment_id, UNDO, undo, at))
            if label is not None:
                body, author_name, website = text
                lesson = cached.model.learn(body, author_name, website, is_spam=label == SPAM)
                written.append(self._row(site_id, comment_id, label, lesson, at))
            session.add_all(written)
            session.flush()
            cached.applied.update(row.id for row in written if row.id is not None)

    def forget(self, site_id: int) -> None:
        """Drop a site's in-memory model (after a failed commit); the next use rebuilds it."""
        with self._lock:
            self._sites.pop(site_id, None)

    def reset(self, session: Session, *, site_id: int, at: datetime) -> None:
        session.execute(
            update(SpamFeedback).where(col(SpamFeedback.site_id) == site_id).values(active=False)
        )
        session.add(
            SpamFeedback(site_id=site_id, label=RESET, delta={}, active=False, created_at=at)
        )
        session.flush()

    @staticmethod
    def _row(
        site_id: int, comment_id: int, label: str, change: Update, at: datetime
    ) -> SpamFeedback:
        return SpamFeedback(
            site_id=site_id,
            comment_id=comment_id,
            label=label,
            delta=change.to_json(),
            active=label != UNDO,
            created_at=at,
        )
