"""Status changes, the one place that keeps counters, thread versions and placeholders right."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from service.comments.models import Comment, CommentStatus, Thread


def change_status(
    session: Session, comment: Comment, new_status: CommentStatus, *, reason: str, at: datetime
) -> str:
    """Move a comment to ``new_status`` and return the old status.

    Counters are updated in SQL (``x = x + 1``) so concurrent workers never lose an increment.
    """
    old = comment.status
    comment.status = new_status.value
    comment.reason = reason
    comment.status_changed_at = at
    if old == new_status.value:
        return old
    delta = int(new_status is CommentStatus.APPROVED) - int(old == CommentStatus.APPROVED)
    session.execute(
        update(Thread)
        .where(col(Thread.id) == comment.thread_id)
        .values(approved_count=col(Thread.approved_count) + delta, version=col(Thread.version) + 1)
    )
    if delta and comment.root_id is not None:
        session.execute(
            update(Comment)
            .where(col(Comment.id) == comment.root_id)
            .values(reply_count=col(Comment.reply_count) + delta)
        )
    return old


def bump_version(session: Session, thread_id: int) -> None:
    session.execute(
        update(Thread).where(col(Thread.id) == thread_id).values(version=col(Thread.version) + 1)
    )
