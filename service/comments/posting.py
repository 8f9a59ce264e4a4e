"""Posting a new comment: the one path, for every database.

The route (``service.comments.router.create_comment``, a plain ``def`` handler) runs on a
request thread, and so does everything here: the cheap checks, then the spam filter,
moderation, Markdown rendering and hashing (``writing._assess``), then the write. None of it
runs on the event loop, so however long one comment's text takes to check, the loop goes on
answering every other request (``/healthz``, pages, other posts). The write transaction is
SQLite's group commit (``service.groupcommit``: one transaction and one ``fsync`` for the
comments submitted meanwhile) or, on PostgreSQL, a pooled session of its own (concurrent
transactions there already share WAL flushes). Either way the answer is sent only after the
``COMMIT`` has returned, and a refusal or an error leaves nothing stored.
"""

from __future__ import annotations

from sqlmodel import Session

from service.comments import spamcheck, writing
from service.comments.inputs import CommentCreate
from service.comments.models import CommentCreated
from service.comments.screening import Deadline
from service.comments.writing import WriteContext
from service.groupcommit import GroupCommit
from service.observability import COMMENTS
from service.sites.models import Site
from service.sites.policy import site_policy
from service.state import AppState


def spam_check(
    state: AppState, site: Site, session: Session | None = None
) -> writing.SpamCheckFactory:
    """The learned filter's verdict, computed outside the write transaction."""

    def check(
        author_name: str, website: str | None, body: str, deadline: Deadline
    ) -> spamcheck.FixedVerdict:
        assert site.id is not None
        return spamcheck.assess(
            state.learner,
            state.db,
            site_id=site.id,
            policy=site_policy(site),
            body=body,
            author_name=author_name,
            website=website,
            budget_seconds=state.settings.spam_budget_ms / 1000,
            session=session,
            deadline=deadline,
        )

    return check


def create(
    state: AppState, site: Site, data: CommentCreate, reader: Session, ctx: WriteContext
) -> CommentCreated:
    """Store a new comment (blocking: on a request thread). Answers once committed."""
    if state.committer is not None:  # SQLite: the group commit writes on its own connection
        created = _submit(state, site, data, reader, ctx, committer=state.committer)
    else:
        with state.db.write() as session:
            created = _submit(state, site, data, reader, ctx, session=session)
    COMMENTS.labels(created.status).inc()
    return created


def _submit(
    state: AppState,
    site: Site,
    data: CommentCreate,
    reader: Session,
    ctx: WriteContext,
    *,
    session: Session | None = None,
    committer: GroupCommit | None = None,
) -> CommentCreated:
    return writing.submit(
        reader,
        site=site,
        data=data,
        vault=state.vault,
        ctx=ctx,
        spam_check=spam_check(state, site, reader),
        max_body_chars=state.settings.max_body_chars,
        session=session,
        committer=committer,
    )
