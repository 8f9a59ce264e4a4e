"""The review queue: list, decide, reveal. Every action is checked against the moderator's sites
and written to the event log in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from service.comments import cursor as cursors
from service.comments.models import Comment, CommentStatus, Thread
from service.comments.status import change_status
from service.errors import Forbidden, Invalid, NotFound
from service.moderators.service import Principal
from service.privacy.crypto import Sealed, Vault
from service.privacy.models import AccessActor, AccessKind
from service.privacy.register import record_access
from service.review import learning
from service.review.events import append_event
from service.review.inputs import (
    BulkDecisionRequest,
    CommentForModerator,
    DecisionAction,
    DecisionRequest,
    QueueCounts,
    QueuePage,
    RevealedEmail,
    RevealRequest,
)
from service.review.models import Actor, EventPublic, ModerationEvent
from service.sites.models import Site
from service.textcheck import readable

ACTION_STATUS = {
    DecisionAction.APPROVE: CommentStatus.APPROVED,
    DecisionAction.REJECT: CommentStatus.REJECTED,
    DecisionAction.SPAM: CommentStatus.SPAM,
    DecisionAction.DELETE: CommentStatus.DELETED,
}


def site_for(session: Session, principal: Principal, slug: str | None) -> Site:
    """The site ``slug`` if the moderator may act on it. Without a slug, the moderator's only
    site; a moderator of several sites must say which (422 naming them)."""
    if slug is None:
        sites = list(
            session.exec(
                select(Site).where(col(Site.id).in_(principal.site_ids)).order_by(col(Site.slug))
            ).all()
        )
        if len(sites) == 1:
            return sites[0]
        names = ", ".join(s.slug for s in sites[:20])
        raise Invalid("site", f"say which site with ?site=SLUG (you moderate {names})")
    site = session.exec(select(Site).where(Site.slug == slug)).first()
    if site is None or site.id not in principal.site_ids:
        raise NotFound(f"no site {slug!r}")  # the same answer whether it exists or not
    return site


def _comment_for(session: Session, principal: Principal, comment_id: int, *, lock: bool) -> Comment:
    query = select(Comment).where(Comment.id == comment_id)
    if lock:
        query = query.with_for_update()
    comment = session.exec(query).first()
    if comment is None or comment.site_id not in principal.site_ids:
        raise NotFound("no such comment")
    return comment


def _view(comment: Comment, site_slug: str, thread_key: str) -> CommentForModerator:
    assert comment.id is not None
    return CommentForModerator(
        id=comment.id,
        site=site_slug,
        thread_key=thread_key,
        parent_id=comment.parent_id,
        author_name=comment.author_name,
        website=comment.website,
        body=comment.body,
        html=comment.html,
        status=comment.status,
        reason=readable(comment.reason),
        moderation=readable(comment.moderation),
        reply_count=comment.reply_count,
        flag_count=comment.flag_count,
        review_requested=comment.review_requested,
        avatar=comment.avatar,
        created_at=comment.created_at,
        edited_at=comment.edited_at,
        queue=_queue_of(comment),
    )


def _queue_of(comment: Comment) -> str | None:
    if comment.status in (CommentStatus.PENDING, CommentStatus.SPAM):
        return comment.status
    if comment.review_requested and comment.status == CommentStatus.APPROVED:
        return "flagged"
    return None


def _views(session: Session, comments: list[Comment]) -> list[CommentForModerator]:
    thread_ids = {c.thread_id for c in comments}
    site_ids = {c.site_id for c in comments}
    keys = dict(
        session.exec(select(Thread.id, Thread.key).where(col(Thread.id).in_(thread_ids))).all()
    )
    slugs = dict(session.exec(select(Site.id, Site.slug).where(col(Site.id).in_(site_ids))).all())
    return [_view(c, slugs[c.site_id], keys[c.thread_id]) for c in comments]


def queue(
    session: Session,
    principal: Principal,
    *,
    site_slug: str | None,
    status: CommentStatus | None,
    thread_key: str | None,
    cursor: str | None,
    limit: int,
    flagged: bool = False,
) -> QueuePage:
    """One page of a site's comments, with the size of every queue beside it.

    Without ``status`` or ``flagged`` this is the review queue: the pending comments (oldest
    first: first come, first reviewed), then the spam folder (newest first), so what the
    automatic moderation binned is in front of a person too and can be released. The
    cursor says which of the two it stopped in.
    """
    site = site_for(session, principal, site_slug)
    assert site.id is not None
    thread_id: int | None = None
    if thread_key is not None:
        found = session.exec(
            select(Thread.id).where(Thread.site_id == site.id, Thread.key == thread_key)
        ).first()
        thread_id = found or -1
    if status is None and not flagged:
        rows, next_cursor = _review_queue(session, site.id, thread_id, cursor, limit)
    else:
        query = select(Comment).where(Comment.site_id == site.id)
        if flagged:
            query = query.where(col(Comment.review_requested).is_(True))
        if status is not None and not flagged:  # reported comments are published ones
            query = query.where(Comment.status == status.value)
        if thread_id is not None:
            query = query.where(Comment.thread_id == thread_id)
        # The pending queue reads oldest first; other lists newest first.
        oldest_first = status is CommentStatus.PENDING or flagged
        rows, next_cursor = _page(session, query, cursor, limit, oldest_first=oldest_first)
    return QueuePage(
        items=_views(session, rows), next_cursor=next_cursor, counts=queue_counts(session, site.id)
    )


def _page(
    session: Session, query: Any, cursor: str | None, limit: int, *, oldest_first: bool
) -> tuple[list[Comment], str | None]:
    if cursor:
        (edge,) = cursors.decode(cursor, (int,))
        query = query.where(col(Comment.id) > edge if oldest_first else col(Comment.id) < edge)
    query = query.order_by(col(Comment.id) if oldest_first else col(Comment.id).desc())
    rows = list(session.exec(query.limit(limit + 1)).all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    assert rows[-1].id is not None
    return rows, cursors.encode(rows[-1].id)


_REVIEW_QUEUES = (CommentStatus.PENDING, CommentStatus.SPAM)


def _review_queue(
    session: Session, site_id: int, thread_id: int | None, cursor: str | None, limit: int
) -> tuple[list[Comment], str | None]:
    """Pending then spam; the cursor is (queue number, last id) and each part is a keyset
    page on the (site_id, status, id) index."""
    part, edge = 0, None
    if cursor:
        decoded = cursors.decode(cursor, (int, int))
        part, edge = int(decoded[0]), int(decoded[1])
        if part not in (0, 1):
            raise Invalid("cursor", "is not a cursor this server issued")
    rows: list[Comment] = []
    while part < len(_REVIEW_QUEUES) and len(rows) <= limit:
        status = _REVIEW_QUEUES[part]
        oldest_first = status is CommentStatus.PENDING
        query = select(Comment).where(Comment.site_id == site_id, Comment.status == status.value)
        if thread_id is not None:
            query = query.where(Comment.thread_id == thread_id)
        if edge is not None:
            query = query.where(col(Comment.id) > edge if oldest_first else col(Comment.id) < edge)
        query = query.order_by(col(Comment.id) if oldest_first else col(Comment.id).desc())
        rows.extend(session.exec(query.limit(limit + 1 - len(rows))).all())
        part, edge = part + 1, None
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    assert last.id is not None
    return rows, cursors.encode(_REVIEW_QUEUES.index(CommentStatus(last.status)), last.id)


def queue_counts(session: Session, site_id: int) -> QueueCounts:
    """Comments waiting in each queue: pending, spam (the spam folder), flagged (published
    and reported often enough to need a look). Counted on the (site_id, status, id) index."""
    by_status = dict(
        session.execute(
            sa_select(col(Comment.status), func.count())
            .where(
                col(Comment.site_id) == site_id,
                col(Comment.status).in_([s.value for s in _REVIEW_QUEUES]),
            )
            .group_by(col(Comment.status))
        ).all()
    )
    flagged = session.execute(
        sa_select(func.count()).where(
            col(Comment.site_id) == site_id,
            col(Comment.status) == CommentStatus.APPROVED.value,
            col(Comment.review_requested).is_(True),
        )
    ).scalar_one()
    return QueueCounts(
        pending=int(by_status.get(CommentStatus.PENDING.value, 0)),
        spam=int(by_status.get(CommentStatus.SPAM.value, 0)),
        flagged=int(flagged),
    )


# What each decision teaches the site's spam filter (None: nothing about spam; an earlier
# lesson from the same comment is undone).
LESSON = {
    DecisionAction.APPROVE: learning.HAM,
    DecisionAction.SPAM: learning.SPAM,
    DecisionAction.REJECT: None,
    DecisionAction.DELETE: None,
}


def _decide_one(
    session: Session,
    principal: Principal,
    comment: Comment,
    request: DecisionRequest,
    now: datetime,
    learner: learning.SpamLearner | None,
) -> None:
    assert comment.id is not None
    if learner is not None:
        learner.teach(
            session,
            site_id=comment.site_id,
            comment_id=comment.id,
            label=LESSON[request.action],
            text=(comment.body, comment.author_name, comment.website),
            at=now,
        )
    new_status = ACTION_STATUS[request.action]
    old = change_status(session, comment, new_status, reason=request.reason, at=now)
    comment.review_requested = False  # a moderator has looked
    # ``action`` is the decision in force (the moderator's); what the automatic moderation
    # decided first stays beside it, with its verdicts, for the audit trail.
    automatic = comment.moderation.get("automatic_action", comment.moderation.get("action"))
    comment.moderation = {
        **comment.moderation,
        "actor": "moderator",
        "action": request.action.value,
        "automatic_action": automatic,
        "category": request.category or request.action.value,
    }
    append_event(
        session,
        site_id=comment.site_id,
        comment_id=comment.id,
        actor=Actor.MODERATOR,
        moderator_id=principal.moderator_id,
        action=request.action.value,
        at=now,
        from_status=old,
        to_status=new_status.value,
        reason=request.reason,
        details={"category": request.category} if request.category else {},
    )


def decide(
    session: Session,
    principal: Principal,
    comment_id: int,
    request: DecisionRequest,
    now: datetime,
    learner: learning.SpamLearner | None = None,
) -> CommentForModerator:
    comment = _comment_for(session, principal, comment_id, lock=True)
    _decide_one(session, principal, comment, request, now, learner)
    _commit(session, learner, {comment.site_id})
    return _views(session, [comment])[0]


def _commit(session: Session, learner: learning.SpamLearner | None, site_ids: set[int]) -> None:
    try:
        session.commit()
    except Exception:
        # The in-memory spam model already holds the lesson; rebuild it from the database.
        for site_id in site_ids:
            if learner is not None:
                learner.forget(site_id)
        raise


def decide_bulk(
    session: Session,
    principal: Principal,
    request: BulkDecisionRequest,
    now: datetime,
    learner: learning.SpamLearner | None = None,
) -> list[CommentForModerator]:
    """All or nothing: one unknown id and no comment changes."""
    ids = sorted(set(request.ids))
    comments = list(
        session.exec(
            select(Comment)
            .where(col(Comment.id).in_(ids))
            .order_by(col(Comment.id))
            .with_for_update()
        ).all()
    )
    visible = [c for c in comments if c.site_id in principal.site_ids]
    if len(visible) != len(ids):
        missing = sorted(set(ids) - {c.id for c in visible})
        raise NotFound(f"no such comment: {', '.join(map(str, missing[:20]))}")
    for comment in visible:
        _decide_one(session, principal, comment, request, now, learner)
    _commit(session, learner, {c.site_id for c in visible})
    return _views(session, visible)


def reveal_email(
    session: Session,
    principal: Principal,
    vault: Vault,
    comment_id: int,
    request: RevealRequest,
    now: datetime,
) -> RevealedEmail:
    comment = _comment_for(session, principal, comment_id, lock=False)
    if not principal.can_reveal_pii:
        raise Forbidden("this token may not reveal personal data (it lacks the PII scope)")
    assert comment.id is not None
    if comment.email_ciphertext is None or comment.email_key_id is None:
        raise NotFound("this comment holds no email (it was erased)")
    email = vault.open(
        Sealed(comment.email_key_id, comment.email_ciphertext),
        table="comments",
        column="email",
        row_id=comment.id,
    )
    # Recorded and committed before the email is handed out: no reveal without a trace.
    append_event(
        session,
        site_id=comment.site_id,
        comment_id=comment.id,
        actor=Actor.MODERATOR,
        moderator_id=principal.moderator_id,
        action="reveal_email",
        at=now,
        reason=request.purpose,
        details={"category": request.category.value},
    )
    record_access(
        session,
        site_id=comment.site_id,
        comment_id=comment.id,
        actor=AccessActor.MODERATOR,
        moderator_id=principal.moderator_id,
        kind=AccessKind.EMAIL,
        category=request.category.value,
        purpose=request.purpose,
        at=now,
    )
    session.commit()
    return RevealedEmail(comment_id=comment.id, email=email)


def list_events(
    session: Session,
    principal: Principal,
    *,
    site_slug: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[EventPublic], str | None]:
    site = site_for(session, principal, site_slug)
    query = select(ModerationEvent).where(ModerationEvent.site_id == site.id)
    if cursor:
        (before,) = cursors.decode(cursor, (int,))
        query = query.where(col(ModerationEvent.id) < before)
    rows = list(session.exec(query.order_by(col(ModerationEvent.id).desc()).limit(limit + 1)).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        assert rows[-1].id is not None
        next_cursor = cursors.encode(rows[-1].id)
    # Shown readable (service.textcheck.readable): an event stored with a lone surrogate or a
    # control character stays in the append-only log as it was (its hash covers it, so the
    # chain still verifies) and no longer makes every page that includes it fail.
    events = [
        EventPublic.model_validate(r, from_attributes=True).model_copy(
            update={"reason": readable(r.reason), "details": readable(r.details)}
        )
        for r in rows
    ]
    return events, next_cursor
