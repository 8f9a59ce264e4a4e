"""Public writes: submit, edit and delete. Every write commits before it is acknowledged."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service import moderation
from service.comments import formtoken, ratelimit, rendering
from service.comments.inputs import CommentCreate, CommentEdit
from service.comments.models import (
    Comment,
    CommentCreated,
    CommentStatus,
    IdempotencyRecord,
    OwnComment,
    Thread,
)
from service.comments.public import preview_public
from service.comments.reading import get_comment
from service.comments.status import bump_version, change_status
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.privacy.crypto import Sealed, Vault, ip_prefix
from service.review.events import append_event
from service.review.models import Actor
from service.sites.models import Site
from service.sites.policy import site_policy
from service.textcheck import origin_of

# Builds the learned spam filter's check for (author name, website, body).
SpamCheckFactory = Callable[[str, str | None, str], moderation.Check]

ACTION_STATUS = {
    moderation.Action.APPROVE: CommentStatus.APPROVED,
    moderation.Action.HOLD: CommentStatus.PENDING,
    moderation.Action.SPAM: CommentStatus.SPAM,
    moderation.Action.REJECT: CommentStatus.REJECTED,
}


@dataclass(frozen=True)
class WriteContext:
    """Facts about the request that the service needs, gathered by the router."""

    now: datetime
    client_ip: str | None
    idempotency_key: str | None
    edit_window: timedelta
    ip_retention: timedelta


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _fingerprint(data: CommentCreate) -> str:
    canonical = json.dumps(data.model_dump(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def dedupe_key(body: str) -> str:
    return hashlib.sha256(moderation.normalised_key(body).encode()).hexdigest()


def _get_or_create_thread(
    session: Session, site: Site, data: CommentCreate, now: datetime
) -> Thread:
    assert site.id is not None
    existing = session.exec(
        select(Thread).where(Thread.site_id == site.id, Thread.key == data.thread)
    ).first()
    if existing is not None:
        return existing
    values = {
        "site_id": site.id,
        "key": data.thread,
        "title": data.thread_title or data.thread,
        "url": data.thread_url,
        "is_open": True,
        "approved_count": 0,
        "version": 0,
        "created_at": now,
    }
    # Two first comments on a new article may race: insert-if-absent, then read.
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(Thread).values(**values).on_conflict_do_nothing(index_elements=["site_id", "key"])
    )
    thread = session.exec(
        select(Thread).where(Thread.site_id == site.id, Thread.key == data.thread)
    ).one()
    return thread


def _author_history(
    session: Session, site: Site, lookups: Sequence[str], name: str
) -> moderation.AuthorHistory:
    # Trust needs the keyed email hash AND the same name: an email typed by someone else
    # alone never borrows another commenter's standing.
    # Grouped by an expression, not the column: grouping by ``status`` itself made SQLite walk
    # the (site_id, status, id) index, i.e. every comment of the site, to skip a sort of the
    # author's handful of rows (a full scan per post on a site with a million comments).
    status = func.lower(Comment.status)
    rows = session.exec(
        select(status, func.count())
        .where(
            Comment.site_id == site.id,
            col(Comment.email_lookup).in_(lookups),
            Comment.author_name == name,
        )
        .group_by(status)
    ).all()
    by_status = dict(rows)
    return moderation.AuthorHistory(
        approved=by_status.get(CommentStatus.APPROVED, 0),
        rejected=by_status.get(CommentStatus.REJECTED, 0),
        spam=by_status.get(CommentStatus.SPAM, 0),
    )


def _replay(
    session: Session,
    vault: Vault,
    record: IdempotencyRecord,
    data: CommentCreate,
    ctx: WriteContext,
) -> CommentCreated:
    if record.fingerprint != _fingerprint(data):
        raise Conflict("this Idempotency-Key was already used for a different comment")
    comment = session.get(Comment, record.comment_id)
    if comment is None or record.token_ciphertext is None or record.token_key_id is None:
        raise Conflict("this Idempotency-Key belongs to a comment that no longer exists")
    assert record.id is not None
    token = vault.open(
        Sealed(record.token_key_id, record.token_ciphertext),
        table="idempotency_keys",
        column="edit_token",
        row_id=record.id,
    )
    return _created(comment, token, ctx)


def _created(comment: Comment, token: str, ctx: WriteContext) -> CommentCreated:
    assert comment.id is not None
    return CommentCreated(
        id=comment.id,
        status=comment.status,
        edit_token=token,
        editable_until=comment.created_at + ctx.edit_window,
        reason=comment.reason,
        comment=preview_public(comment),
    )


def _serialise(session: Session, *keys: str | None) -> None:
    """PostgreSQL runs requests side by side: a request with the same Idempotency-Key, or from
    the same author, waits for the other's transaction, so its checks see what that one
    committed. (SQLite's BEGIN IMMEDIATE already serialises every write.) Keys are always
    taken in the same order, so two requests never wait for each other."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in keys:
        if key is not None:
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


@dataclass(frozen=True)
class _Prepared:
    """Everything about a submission that can be worked out before the write transaction:
    moderation, rendering, keyed hashes and the edit token. None of it writes."""

    lookup: str
    lookup_key_id: str
    lookups: list[str]
    prefix: str | None
    policy: moderation.Policy
    decision: moderation.Decision
    status: CommentStatus
    reason: str
    html: str
    token: str
    dedupe: str


def _find_parent(session: Session, thread_id: int | None, parent_id: int) -> Comment:
    parent = session.get(Comment, parent_id)
    if (
        parent is None
        or thread_id is None
        or parent.thread_id != thread_id
        or parent.status != CommentStatus.APPROVED
    ):
        raise Invalid("parent_id", "there is no published comment with this id in this thread")
    return parent


def _prepare(
    reader: Session,
    *,
    site: Site,
    data: CommentCreate,
    vault: Vault,
    ctx: WriteContext,
    extra_checks: Sequence[moderation.Check],
) -> _Prepared:
    assert site.id is not None
    if data.thread_url is not None and origin_of(data.thread_url) not in site.allowed_origins:
        raise Invalid("thread_url", "must be a page on one of the site's allowed origins")
    lookup_key_id, lookup = vault.email_lookup(data.email)
    thread = reader.exec(
        select(Thread).where(Thread.site_id == site.id, Thread.key == data.thread)
    ).first()
    if thread is not None and not thread.is_open:
        raise Forbidden("comments are closed on this article")
    if data.parent_id is not None:
        _find_parent(reader, thread.id if thread else None, data.parent_id)
    # During a look-up key rotation older rows carry the old key's hash: match them all.
    lookups = sorted(set(vault.email_lookups(data.email).values()) | {lookup})
    policy = site_policy(site)
    decision = moderation.moderate(
        moderation.Submission(
            body=data.body,
            author_name=data.author_name,
            website=data.website,
            is_reply=data.parent_id is not None,
            honeypot=data.honeypot or None,
            form_rendered_at=formtoken.verify(
                vault.keyring.signing_key,
                site.slug,
                data.thread,
                data.form_token,
                ctx.now.timestamp(),
            ),
        ),
        moderation.Facts(
            now=ctx.now.timestamp(),
            history=_author_history(reader, site, lookups, data.author_name),
        ),
        policy,
        extra_checks,
    )
    return _Prepared(
        lookup=lookup,
        lookup_key_id=lookup_key_id,
        lookups=lookups,
        prefix=ip_prefix(ctx.client_ip),
        policy=policy,
        decision=decision,
        status=ACTION_STATUS[decision.action],
        reason=public_reason(decision),
        html=rendering.render(data.body),
        token=secrets.token_urlsafe(32),
        dedupe=dedupe_key(data.body),
    )


def submit(
    session: Session,
    *,
    site: Site,
    data: CommentCreate,
    vault: Vault,
    ctx: WriteContext,
    extra_checks: Sequence[moderation.Check] = (),
    reader: Session | None = None,
) -> CommentCreated:
    """Store a new comment. Moderation, rendering and hashing run first, on ``reader`` (a
    read session: on SQLite no write lock is held meanwhile); the write transaction then
    only re-checks what another writer may have changed and inserts."""
    assert site.id is not None
    prepared = _prepare(
        reader or session, site=site, data=data, vault=vault, ctx=ctx, extra_checks=extra_checks
    )
    if reader is not None:
        reader.rollback()  # end the read snapshot before queuing for the write lock
    lookup = prepared.lookup
    try:
        _serialise(
            session,
            f"idem:{site.id}:{ctx.idempotency_key}" if ctx.idempotency_key else None,
            f"author:{site.id}:{lookup}",
        )
        if ctx.idempotency_key:
            existing = session.exec(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.site_id == site.id,
                    IdempotencyRecord.key == ctx.idempotency_key,
                )
            ).first()
            if existing is not None:
                return _replay(session, vault, existing, data, ctx)

        thread = _get_or_create_thread(session, site, data, ctx.now)
        if not thread.is_open:
            raise Forbidden("comments are closed on this article")
        parent = (
            _find_parent(session, thread.id, data.parent_id) if data.parent_id is not None else None
        )
        ratelimit.enforce(
            session,
            site_id=site.id,
            policy=prepared.policy,
            keys={
                "ip": vault.derived("rate-ip", f"{site.id}:{prepared.prefix}")
                if prepared.prefix
                else None,
                "author": lookup,
                "thread": str(thread.id),
            },
            now=ctx.now,
        )
        duplicate = session.exec(
            select(Comment.id).where(
                Comment.thread_id == thread.id,
                col(Comment.email_lookup).in_(prepared.lookups),
                Comment.dedupe_key == prepared.dedupe,
                col(Comment.status) != CommentStatus.DELETED,
            )
        ).first()
        if duplicate is not None:
            raise Conflict("you have already posted this comment on this article")

        decision, status, reason, token = (
            prepared.decision,
            prepared.status,
            prepared.reason,
            prepared.token,
        )
        comment = Comment(
            site_id=site.id,
            thread_id=thread.id or 0,
            parent_id=parent.id if parent else None,
            root_id=(parent.root_id or parent.id) if parent else None,
            depth=(parent.depth + 1) if parent else 0,
            author_name=data.author_name,
            website=data.website,
            body=data.body,
            html=prepared.html,
            status=CommentStatus.PENDING.value,
            moderation={"actor": "system", **decision.to_dict()},
            reason=reason,
            email_lookup=lookup,
            email_lookup_key_id=prepared.lookup_key_id,
            avatar=vault.avatar_seed(site.id, lookup),
            ip_prefix=prepared.prefix,
            ip_hash=vault.ip_hash(ctx.client_ip) if ctx.client_ip else None,
            ip_expires_at=ctx.now + ctx.ip_retention if ctx.client_ip else None,
            edit_token_hash=_token_hash(token),
            dedupe_key=prepared.dedupe,
            created_at=ctx.now,
            status_changed_at=ctx.now,
        )
        session.add(comment)
        session.flush()  # the id binds the ciphertext to this row
        assert comment.id is not None
        sealed = vault.seal(data.email, table="comments", column="email", row_id=comment.id)
        comment.email_ciphertext, comment.email_key_id = sealed.blob, sealed.key_id
        change_status(session, comment, status, reason=reason, at=ctx.now)
        append_event(
            session,
            site_id=site.id,
            comment_id=comment.id,
            actor=Actor.SYSTEM,
            action=f"auto_{decision.action.value}",
            at=ctx.now,
            from_status=None,
            to_status=status.value,
            reason=reason,
            details=decision.to_dict(),
        )
        if ctx.idempotency_key:
            _remember(session, vault, site, comment, token, data, ctx)
        try:
            session.commit()
        except IntegrityError:
            # Another request with the same Idempotency-Key committed first: answer as it did.
            session.rollback()
            record = session.exec(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.site_id == site.id,
                    IdempotencyRecord.key == ctx.idempotency_key,
                )
            ).first()
            if record is None:
                raise
            return _replay(session, vault, record, data, ctx)
        return _created(comment, token, ctx)
    finally:
        # End the transaction here, on every path (replay, 409, 429, errors), not when the
        # session dependency is torn down: it holds SQLite's write connection or PostgreSQL's
        # advisory locks, and before the teardown FastAPI validates a sync endpoint's response
        # on a request thread, which may all be held by the requests queuing behind those locks.
        if session.in_transaction():
            session.rollback()


def _remember(
    session: Session,
    vault: Vault,
    site: Site,
    comment: Comment,
    token: str,
    data: CommentCreate,
    ctx: WriteContext,
) -> None:
    assert comment.id is not None and ctx.idempotency_key is not None
    record = IdempotencyRecord(
        site_id=site.id or 0,
        key=ctx.idempotency_key,
        fingerprint=_fingerprint(data),
        comment_id=comment.id,
        created_at=ctx.now,
    )
    session.add(record)
    session.flush()
    assert record.id is not None
    sealed = vault.seal(token, table="idempotency_keys", column="edit_token", row_id=record.id)
    record.token_ciphertext, record.token_key_id = sealed.blob, sealed.key_id


def public_reason(decision: moderation.Decision) -> str:
    if decision.action is moderation.Action.APPROVE:
        return "published"
    reasons = decision.reasons()
    return reasons[0] if reasons else "held for review"


def _own(session: Session, site: Site, comment_id: int, token: str | None) -> Comment:
    comment = get_comment(session, site, comment_id)
    if not token or not hmac.compare_digest(_token_hash(token), comment.edit_token_hash):
        # The same answer as an unknown id: a wrong token reveals nothing.
        raise NotFound("no such comment")
    return comment


def own_view(comment: Comment, edit_window: timedelta) -> OwnComment:
    assert comment.id is not None
    return OwnComment(
        id=comment.id,
        status=comment.status,
        reason=comment.reason,
        body=comment.body,
        editable_until=comment.created_at + edit_window,
        comment=preview_public(comment),
    )


def read_own(
    session: Session, site: Site, comment_id: int, token: str | None, ctx: WriteContext
) -> OwnComment:
    return own_view(_own(session, site, comment_id, token), ctx.edit_window)


def _check_window(comment: Comment, ctx: WriteContext) -> None:
    if comment.status == CommentStatus.DELETED:
        raise Forbidden("this comment has been deleted")
    closes = comment.created_at + ctx.edit_window
    if ctx.now >= closes:
        raise Forbidden(f"the edit window closed at {closes.isoformat()}")


def edit(
    session: Session,
    *,
    site: Site,
    comment_id: int,
    token: str | None,
    data: CommentEdit,
    ctx: WriteContext,
    spam_check: SpamCheckFactory | None = None,
) -> OwnComment:
    comment = _own(session, site, comment_id, token)
    _check_window(comment, ctx)
    assert comment.id is not None and comment.email_lookup is not None
    comment.body = data.body
    comment.html = rendering.render(data.body)
    comment.dedupe_key = dedupe_key(data.body)
    comment.edited_at = ctx.now
    # An edit is moderated again: approved text cannot be swapped for spam afterwards.
    policy = site_policy(site)
    decision = moderation.moderate(
        moderation.Submission(
            body=data.body,
            author_name=comment.author_name,
            website=comment.website,
            is_reply=comment.parent_id is not None,
            is_edit=True,
        ),
        moderation.Facts(
            now=ctx.now.timestamp(),
            history=_author_history(session, site, [comment.email_lookup], comment.author_name),
        ),
        policy,
        [spam_check(comment.author_name, comment.website, data.body)] if spam_check else [],
    )
    new_status = ACTION_STATUS[decision.action]
    if comment.status == CommentStatus.PENDING and new_status is CommentStatus.APPROVED:
        # An edit never lets a comment skip the queue it is already in.
        new_status, reason = CommentStatus.PENDING, comment.reason
    else:
        reason = public_reason(decision)
    old = change_status(session, comment, new_status, reason=reason, at=ctx.now)
    comment.moderation = {"actor": "system", **decision.to_dict()}
    bump_version(session, comment.thread_id)
    append_event(
        session,
        site_id=comment.site_id,
        comment_id=comment.id,
        actor=Actor.AUTHOR,
        action="edit",
        at=ctx.now,
        from_status=old,
        to_status=new_status.value,
        reason=reason,
        details=decision.to_dict(),
    )
    session.commit()
    return own_view(comment, ctx.edit_window)


def delete(
    session: Session, *, site: Site, comment_id: int, token: str | None, ctx: WriteContext
) -> None:
    comment = _own(session, site, comment_id, token)
    _check_window(comment, ctx)
    assert comment.id is not None
    old = change_status(
        session, comment, CommentStatus.DELETED, reason="deleted by its author", at=ctx.now
    )
    comment.moderation = {**comment.moderation, "actor": "author"}
    append_event(
        session,
        site_id=comment.site_id,
        comment_id=comment.id,
        actor=Actor.AUTHOR,
        action="delete",
        at=ctx.now,
        from_status=old,
        to_status=CommentStatus.DELETED.value,
        reason="deleted by its author",
    )
    session.commit()
