"""Public reads: approved comments only, keyset pagination, placeholders for removed parents."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from service.comments import cursor as cursors
from service.comments.models import (
    REMOVED_STATUSES,
    Comment,
    CommentCounts,
    CommentPublic,
    CommentStatus,
    Thread,
    ThreadPage,
    ThreadPublic,
)
from service.comments.public import to_public
from service.errors import NotFound
from service.sites.models import Site

# Replies fetched with one page of top-level comments; bigger trees page through ``root=``.
REPLY_CAP = 500
_VISIBLE = [CommentStatus.APPROVED.value, *(s.value for s in REMOVED_STATUSES)]


class Sort(StrEnum):
    OLDEST = "oldest"
    NEWEST = "newest"
    REPLIES = "replies"


def find_thread(session: Session, site: Site, key: str) -> Thread | None:
    return session.exec(select(Thread).where(Thread.site_id == site.id, Thread.key == key)).first()


def _thread_public(thread: Thread | None, key: str) -> ThreadPublic:
    if thread is None:
        return ThreadPublic(key=key, title="", url=None, open=True, total=0)
    return ThreadPublic(
        key=thread.key,
        title=thread.title,
        url=thread.url,
        open=thread.is_open,
        total=thread.approved_count,
    )


def _keep_visible(rows: list[Comment]) -> list[Comment]:
    """Approved comments, plus removed ones that still have an approved comment beneath them."""
    by_id = {c.id: c for c in rows}
    needed: set[int | None] = set()
    for row in rows:
        if row.status == CommentStatus.APPROVED:
            parent = row.parent_id
            while parent is not None and parent in by_id and parent not in needed:
                needed.add(parent)
                parent = by_id[parent].parent_id
    return [c for c in rows if c.status == CommentStatus.APPROVED or c.id in needed]


def list_thread(
    session: Session,
    site: Site,
    key: str,
    *,
    limit: int,
    cursor: str | None,
    sort: Sort,
    root: int | None = None,
) -> ThreadPage:
    if cursor:  # a bad cursor is an error even on an empty thread
        cursors.decode(cursor, (int, int) if sort is Sort.REPLIES and root is None else (int,))
    thread = find_thread(session, site, key)
    if thread is None:
        return ThreadPage(thread=_thread_public(None, key), comments=[], next_cursor=None)
    if root is not None:
        return _list_replies(session, thread, root, limit=limit, cursor=cursor)

    query = select(Comment).where(
        Comment.thread_id == thread.id,
        col(Comment.parent_id).is_(None),
        or_(
            col(Comment.status) == CommentStatus.APPROVED,
            and_(col(Comment.status).in_(_VISIBLE), col(Comment.reply_count) > 0),
        ),
    )
    if sort is Sort.OLDEST:
        if cursor:
            (after,) = cursors.decode(cursor, (int,))
            query = query.where(col(Comment.id) > after)
        query = query.order_by(col(Comment.id))
    elif sort is Sort.NEWEST:
        if cursor:
            (before,) = cursors.decode(cursor, (int,))
            query = query.where(col(Comment.id) < before)
        query = query.order_by(col(Comment.id).desc())
    else:
        if cursor:
            count, before = cursors.decode(cursor, (int, int))
            query = query.where(
                or_(
                    col(Comment.reply_count) < count,
                    and_(col(Comment.reply_count) == count, col(Comment.id) < before),
                )
            )
        query = query.order_by(col(Comment.reply_count).desc(), col(Comment.id).desc())

    roots = list(session.exec(query.limit(limit + 1)).all())
    next_cursor = None
    if len(roots) > limit:
        roots = roots[:limit]
        last = roots[-1]
        assert last.id is not None
        next_cursor = (
            cursors.encode(last.reply_count, last.id)
            if sort is Sort.REPLIES
            else cursors.encode(last.id)
        )

    root_ids = [r.id for r in roots if r.reply_count > 0]
    replies: list[Comment] = []
    if root_ids:
        replies = list(
            session.exec(
                select(Comment)
                .where(col(Comment.root_id).in_(root_ids), col(Comment.status).in_(_VISIBLE))
                .order_by(col(Comment.id))
                .limit(REPLY_CAP)
            ).all()
        )
    visible = [to_public(c) for c in roots] + [to_public(c) for c in _keep_visible(replies)]
    return ThreadPage(thread=_thread_public(thread, key), comments=visible, next_cursor=next_cursor)


def _list_replies(
    session: Session, thread: Thread, root: int, *, limit: int, cursor: str | None
) -> ThreadPage:
    query = select(Comment).where(
        Comment.thread_id == thread.id,
        Comment.root_id == root,
        col(Comment.status).in_(_VISIBLE),
    )
    if cursor:
        (after,) = cursors.decode(cursor, (int,))
        query = query.where(col(Comment.id) > after)
    rows = list(session.exec(query.order_by(col(Comment.id)).limit(limit + 1)).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        assert rows[-1].id is not None
        next_cursor = cursors.encode(rows[-1].id)
    comments: list[CommentPublic] = [to_public(c) for c in _keep_visible(rows)]
    return ThreadPage(
        thread=_thread_public(thread, thread.key), comments=comments, next_cursor=next_cursor
    )


def counts(session: Session, site: Site, keys: list[str]) -> CommentCounts:
    rows = session.exec(
        select(Thread.key, Thread.approved_count).where(
            Thread.site_id == site.id, col(Thread.key).in_(keys)
        )
    ).all()
    found = dict(rows)
    return CommentCounts(counts={k: found.get(k, 0) for k in keys})


def get_comment(session: Session, site: Site, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None or comment.site_id != site.id:
        raise NotFound("no such comment")
    return comment
