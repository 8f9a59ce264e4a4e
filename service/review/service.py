"""The review queue: list, decide, reveal. Every action is checked against the moderator's sites
and written to the event log in the same transaction."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from service.comments import cursor as cursors
from service.comments.models import Comment, CommentStatus, Thread
from service.comments.status import change_status
from service.errors import Forbidden, NotFound
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


def site_for(session: Session, principal: Principal, slug: str) -> Site:
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
    )


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
    site_slug: str,
    status: CommentStatus | None,
    thread_key: str | None,
    cursor: str | None,
    limit: int,
    flagged: bool = False,
) -> QueuePage:
    site = site_for(session, principal, site_slug)
    query = select(Comment).where(Comment.site_id == site.id)
    if flagged:
        query = query.where(col(Comment.review_requested).is_(True))
    if status is not None and not flagged:  # reported comments are published ones
        query = query.where(Comment.status == status.value)
    if thread_key is not None:
        thread_id = session.exec(
            select(Thread.id).where(Thread.site_id == site.id, Thread.key == thread_key)
        ).first()
        query = query.where(Comment.thread_id == (thread_id or -1))
    # The pending queue reads oldest first (first come, first reviewed); other lists newest first.
    oldest_first = status is CommentStatus.PENDING or flagged
    if cursor:
        (edge,) = cursors.decode(cursor, (int,))
        query = query.where(col(Comment.id) > edge if oldest_first else col(Comment.id) < edge)
    query = query.order_by(col(Comment.id) if oldest_first else col(Comment.id).desc())
    rows = list(session.exec(query.limit(limit + 1)).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        assert rows[-1].id is not None
        next_cursor = cursors.encode(rows[-1].id)
    return QueuePage(items=_views(session, rows), next_cursor=next_cursor)


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
    comment.moderation = {
        **comment.moderation,
        "actor": "moderator",
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
    session: Session, principal: Principal, *, site_slug: str, cursor: str | None, limit: int
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
