"""Public writes: submit, edit and delete. Every write commits before it is acknowledged."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from service import moderation
from service.comments import formtoken, ratelimit
from service.comments.inputs import CommentCreate, CommentEdit
from service.comments.models import (
    Comment,
    CommentCreated,
    CommentPublic,
    CommentStatus,
    IdempotencyRecord,
    OwnComment,
)
from service.comments.public import preview_public
from service.comments.reading import get_comment
from service.comments.screening import Deadline, dedupe_key, screen
from service.comments.status import bump_version, change_status
from service.comments.store import Sql
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.groupcommit import GroupCommit
from service.privacy.crypto import Sealed, Vault, ip_prefix
from service.review.events import append_event, append_event_sql
from service.review.models import Actor
from service.sites.models import Site
from service.sites.policy import site_policy
from service.textcheck import origin_of

# Builds the learned spam filter's check for (author name, website, body).
# The learned filter for one comment: (author name, website, body, the comment's deadline).
SpamCheckFactory = Callable[[str, str | None, str, Deadline], moderation.Check]

# CPU seconds a comment's checks, filter and rendering may take before it is held for a person
# (MARGIN_CHECK_BUDGET_MS; service.comments.screening).
DEFAULT_CHECK_BUDGET = 1.0

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
    check_budget: float = DEFAULT_CHECK_BUDGET


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _fingerprint(data: CommentCreate) -> str:
    canonical = json.dumps(data.model_dump(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    return _created(preview_public(comment), comment.status, comment.reason, token, ctx)


def _created(
    public: CommentPublic, status: str, reason: str, token: str, ctx: WriteContext
) -> CommentCreated:
    return CommentCreated(
        id=public.id,
        status=status,
        edit_token=token,
        editable_until=public.created_at + ctx.edit_window,
        reason=reason,
        comment=public,
    )


def _serialise(sql: Sql, *keys: str | None) -> None:
    """PostgreSQL runs requests side by side: a request with the same Idempotency-Key, or from
    the same author, waits for the other's transaction, so its checks see what that one
    committed. (SQLite's BEGIN IMMEDIATE already serialises every write.) Keys are always
    taken in the same order, so two requests never wait for each other."""
    if not sql.postgres:
        return
    for key in keys:
        if key is not None:
            sql.run("SELECT pg_advisory_xact_lock(hashtext(:k))", {"k": key})


@dataclass(frozen=True)
class _Prepared:
    """Everything about a submission that can be worked out before the write transaction:
    the cheap checks' keys, then moderation, rendering and the edit token. None of it
    writes."""

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


@dataclass(frozen=True)
class _ThreadRow:
    id: int
    is_open: bool


@dataclass(frozen=True)
class _ParentRow:
    id: int
    root_id: int | None
    depth: int


_THREAD_BY_KEY = "SELECT id, is_open FROM threads WHERE site_id = :site AND key = :key"


def _thread_row(sql: Sql, site_id: int, key: str) -> _ThreadRow | None:
    row = sql.one(_THREAD_BY_KEY, {"site": site_id, "key": key})
    return _ThreadRow(row[0], sql.flag(row[1])) if row is not None else None


def _parent_row(sql: Sql, thread_id: int | None, parent_id: int) -> _ParentRow:
    row = sql.one(
        "SELECT id, thread_id, status, root_id, depth FROM comments WHERE id = :id",
        {"id": parent_id},
    )
    if row is None or thread_id is None or row[1] != thread_id or row[2] != CommentStatus.APPROVED:
        raise Invalid("parent_id", "there is no published comment with this id in this thread")
    return _ParentRow(row[0], row[3], row[4])


def _history(sql: Sql, site_id: int, lookups: Sequence[str], name: str) -> moderation.AuthorHistory:
    # Trust needs the keyed email hash AND the same name: an email typed by someone else
    # alone never borrows another commenter's standing. One query per look-up key (there are
    # two only while a key rotation is under way): with a single equality SQLite reads the
    # (site_id, email_lookup, author_name, status) index alone, already grouped (0.02 ms);
    # with ``IN (a, b)`` it picked the (site_id, status, id) index and walked every comment
    # of the site to group them (7 ms on 14,000 comments; migration 0005).
    by_status: dict[str, int] = {}
    for lookup in lookups:
        rows = sql.all(
            "SELECT status, count(*) FROM comments WHERE site_id = :site"
            " AND email_lookup = :lookup AND author_name = :name GROUP BY status",
            {"site": site_id, "lookup": lookup, "name": name},
        )
        for status, count in rows:
            by_status[status] = by_status.get(status, 0) + int(count)
    return moderation.AuthorHistory(
        approved=by_status.get(CommentStatus.APPROVED, 0),
        rejected=by_status.get(CommentStatus.REJECTED, 0),
        spam=by_status.get(CommentStatus.SPAM, 0),
        pending=by_status.get(CommentStatus.PENDING, 0),
    )


_DUPLICATE = (
    "SELECT id FROM comments WHERE thread_id = :thread AND dedupe_key = :dedupe"
    " AND email_lookup IN ({in_list}) AND status != :deleted LIMIT 1"
)


def _duplicate_query(
    thread_id: int, dedupe: str, lookups: Sequence[str], sql: Sql
) -> tuple[str, dict[str, object]]:
    """The look-up for the same text by the same author on this thread (a 409)."""
    in_list, in_params = sql.placeholders("lookup", lookups)
    params: dict[str, object] = {
        "thread": thread_id,
        "dedupe": dedupe,
        "deleted": CommentStatus.DELETED.value,
        **in_params,
    }
    return _DUPLICATE.format(in_list=in_list), params


def _rate_keys(
    vault: Vault, site_id: int, prefix: str | None, lookup: str, thread_id: int | None
) -> dict[str, str | None]:
    """The flood limits' keys: keyed hashes, never the raw values (service.comments.ratelimit).
    No thread yet: nothing can have been posted to it, so its scope is not counted."""
    return {
        "ip": vault.derived("rate-ip", f"{site_id}:{prefix}") if prefix else None,
        "author": lookup,
        "thread": str(thread_id) if thread_id is not None else None,
    }


def _known_key(
    reader: Session, vault: Vault, site_id: int, data: CommentCreate, ctx: WriteContext
) -> CommentCreated | None:
    """A retry with an Idempotency-Key already stored: the first answer (or 409 for a
    different body). The write transaction looks again, for a retry racing its original."""
    if not ctx.idempotency_key:
        return None
    record = reader.exec(
        select(IdempotencyRecord).where(
            IdempotencyRecord.site_id == site_id, IdempotencyRecord.key == ctx.idempotency_key
        )
    ).first()
    return _replay(reader, vault, record, data, ctx) if record is not None else None


def _without(history: moderation.AuthorHistory, status: str) -> moderation.AuthorHistory:
    """``history`` without one comment of ``status``: an edited comment is not its own
    history (a comment marked as spam must not count against itself when edited)."""
    field = {
        CommentStatus.APPROVED: "approved",
        CommentStatus.REJECTED: "rejected",
        CommentStatus.SPAM: "spam",
        CommentStatus.PENDING: "pending",
    }.get(CommentStatus(status))
    if field is None:
        return history
    return dataclasses.replace(history, **{field: max(getattr(history, field) - 1, 0)})


def _prepare(
    reader: Session,
    *,
    site: Site,
    data: CommentCreate,
    vault: Vault,
    ctx: WriteContext,
    spam_check: SpamCheckFactory | None,
    max_body_chars: int | None,
) -> _Prepared | CommentCreated:
    """Cheap checks first, then the costly work. The size limit, the origin, a known
    Idempotency-Key, a closed thread, the parent, the flood limits and a duplicate cost a few
    indexed reads and hashes, so a post refused by any of them costs no rendering, moderation
    or spam scoring (a flood of posts is exactly what must stay cheap). The write
    transaction checks the limits, the duplicate and the key again (``_store``): another
    writer may have committed meanwhile. A known Idempotency-Key is answered here, as the
    first post was."""
    assert site.id is not None
    if max_body_chars is not None and len(data.body) > max_body_chars:
        raise Invalid("body", f"must be at most {max_body_chars} characters on this server")
    if data.thread_url is not None and origin_of(data.thread_url) not in site.allowed_origins:
        raise Invalid("thread_url", "must be a page on one of the site's allowed origins")
    replayed = _known_key(reader, vault, site.id, data, ctx)
    if replayed is not None:
        return replayed
    lookup_key_id, lookup = vault.email_lookup(data.email)
    sql = Sql(reader)
    thread = _thread_row(sql, site.id, data.thread)
    if thread is not None and not thread.is_open:
        raise Forbidden("comments are closed on this article")
    if data.parent_id is not None:
        _parent_row(sql, thread.id if thread else None, data.parent_id)
    # During a look-up key rotation older rows carry the old key's hash: match them all.
    lookups = sorted(set(vault.email_lookups(data.email).values()) | {lookup})
    policy = site_policy(site)
    prefix = ip_prefix(ctx.client_ip)
    thread_id = thread.id if thread is not None else None
    ratelimit.check(
        sql,
        site_id=site.id,
        policy=policy,
        keys=_rate_keys(vault, site.id, prefix, lookup, thread_id),
        now=ctx.now,
    )
    dedupe = dedupe_key(data.body)
    if thread_id is not None and sql.one(*_duplicate_query(thread_id, dedupe, lookups, sql)):
        raise Conflict("you have already posted this comment on this article")
    decision, html = _assess(
        sql,
        site=site,
        data=data,
        vault=vault,
        ctx=ctx,
        policy=policy,
        lookups=lookups,
        spam_check=spam_check,
        dedupe=dedupe,
    )
    return _Prepared(
        lookup=lookup,
        lookup_key_id=lookup_key_id,
        lookups=lookups,
        prefix=prefix,
        policy=policy,
        decision=decision,
        status=ACTION_STATUS[decision.action],
        reason=public_reason(decision),
        html=html,
        token=secrets.token_urlsafe(32),
        dedupe=dedupe,
    )


def _assess(
    sql: Sql,
    *,
    site: Site,
    data: CommentCreate,
    vault: Vault,
    ctx: WriteContext,
    policy: moderation.Policy,
    lookups: Sequence[str],
    spam_check: SpamCheckFactory | None,
    dedupe: str,
) -> tuple[moderation.Decision, str]:
    """The costly part of a new comment, and the one place posting runs it: the learned spam
    filter, the moderation pipeline and the Markdown rendering, on the text as sent. Only
    after every cheap check passed (``_prepare``), and always on a request thread, never on
    the event loop (service.comments.posting): however long it takes, other requests are
    answered meanwhile."""
    assert site.id is not None
    scorer = _scorer(spam_check, data.author_name, data.website, data.body)
    screened = screen(
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
            history=_history(sql, site.id, lookups, data.author_name),
        ),
        policy,
        deadline=Deadline.after(ctx.check_budget),
        spam=scorer,
        dedupe=dedupe,
    )
    return screened.decision, screened.html


def _scorer(
    spam_check: SpamCheckFactory | None, author_name: str, website: str | None, body: str
) -> Callable[[Deadline], moderation.Check] | None:
    """The learned filter as ``screen`` calls it: given the deadline, only once it is reached."""
    if spam_check is None:
        return None
    return lambda deadline: spam_check(author_name, website, body, deadline)


def submit(
    reader: Session,
    *,
    site: Site,
    data: CommentCreate,
    vault: Vault,
    ctx: WriteContext,
    spam_check: SpamCheckFactory | None = None,
    max_body_chars: int | None = None,
    session: Session | None = None,
    committer: GroupCommit | None = None,
) -> CommentCreated:
    """Store a new comment (blocking: on a request thread). Checks and moderation run first
    on ``reader``, a read session (on SQLite no write lock is held meanwhile); the write
    transaction then only re-checks what another writer may have changed and inserts, in
    plain SQL (service.comments.store). With ``committer`` (SQLite) that transaction is
    shared with the other comments submitted meanwhile (service.groupcommit); otherwise it
    runs on ``session``, a write session (which may also be ``reader``: the demo seeds so).
    Answers only after the commit."""
    assert site.id is not None
    site_id = site.id
    prepared = _prepare(
        reader,
        site=site,
        data=data,
        vault=vault,
        ctx=ctx,
        spam_check=spam_check,
        max_body_chars=max_body_chars,
    )
    if reader is not session:
        reader.rollback()  # end the read snapshot before queuing for the write lock
    if isinstance(prepared, CommentCreated):
        return prepared
    if committer is not None:
        return committer.run(
            lambda batch: _store(batch, site_id, data, prepared, vault, ctx, commit=False)
        )
    assert session is not None, "without a group commit, a write session is needed"
    try:
        try:
            return _store(session, site_id, data, prepared, vault, ctx, commit=True)
        except IntegrityError:
            # Another request with the same Idempotency-Key committed first: answer as it did.
            session.rollback()
            record = session.exec(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.site_id == site_id,
                    IdempotencyRecord.key == ctx.idempotency_key,
                )
            ).first()
            if record is None or not ctx.idempotency_key:
                raise
            return _replay(session, vault, record, data, ctx)
    finally:
        # End the transaction here, on every path (replay, 409, 429, errors), not when the
        # session is closed: it holds PostgreSQL's advisory locks meanwhile.
        if session.in_transaction():
            session.rollback()


def _store(
    session: Session,
    site_id: int,
    data: CommentCreate,
    prepared: _Prepared,
    vault: Vault,
    ctx: WriteContext,
    *,
    commit: bool,
) -> CommentCreated:
    """The write transaction of ``submit``: re-check what another writer may have changed
    meanwhile, insert, record the event, and commit (unless the caller commits a batch)."""
    sql = Sql(session)
    lookup = prepared.lookup
    _serialise(
        sql,
        f"idem:{site_id}:{ctx.idempotency_key}" if ctx.idempotency_key else None,
        f"author:{site_id}:{lookup}",
    )
    if ctx.idempotency_key:
        existing = sql.one(
            "SELECT id FROM idempotency_keys WHERE site_id = :site AND key = :key",
            {"site": site_id, "key": ctx.idempotency_key},
        )
        if existing is not None:
            record = session.get(IdempotencyRecord, existing[0])
            assert record is not None
            return _replay(session, vault, record, data, ctx)

    thread = _thread_row(sql, site_id, data.thread)
    if thread is None:
        # Two first comments on a new article may race: insert-if-absent, then read.
        sql.run(
            "INSERT INTO threads (site_id, key, title, url, is_open, approved_count, version,"
            " created_at) VALUES (:site, :key, :title, :url, :open, 0, 0, :at)"
            " ON CONFLICT (site_id, key) DO NOTHING",
            {
                "site": site_id,
                "key": data.thread,
                "title": data.thread_title or data.thread,
                "url": data.thread_url,
                "open": True,
                "at": sql.when(ctx.now),
            },
        )
        thread = _thread_row(sql, site_id, data.thread)
        assert thread is not None
    if not thread.is_open:
        raise Forbidden("comments are closed on this article")
    parent = _parent_row(sql, thread.id, data.parent_id) if data.parent_id is not None else None
    ratelimit.enforce(
        sql,
        site_id=site_id,
        policy=prepared.policy,
        keys=_rate_keys(vault, site_id, prepared.prefix, lookup, thread.id),
        now=ctx.now,
    )
    duplicate_sql, duplicate_params = _duplicate_query(
        thread.id, prepared.dedupe, prepared.lookups, sql
    )
    # The same statement takes the new rows' ids, so their ciphertexts (bound to the row id)
    # go into the INSERTs themselves rather than into an UPDATE after each.
    idempotency_id = sql.next_id("idempotency_keys") if ctx.idempotency_key else "NULL"
    # Only placeholder names and fixed expressions are interpolated.
    found = sql.one(
        f"SELECT ({duplicate_sql}), {sql.next_id('comments')}, {idempotency_id}",
        duplicate_params,
    )
    assert found is not None
    duplicate, comment_id, record_id = found
    if duplicate is not None:
        raise Conflict("you have already posted this comment on this article")

    decision, status, reason, token = (
        prepared.decision,
        prepared.status,
        prepared.reason,
        prepared.token,
    )
    root_id = (parent.root_id or parent.id) if parent else None
    avatar = vault.avatar_seed(site_id, lookup)
    sealed = vault.seal(data.email, table="comments", column="email", row_id=comment_id)
    sql.run(
        "INSERT INTO comments (id, site_id, thread_id, parent_id, root_id, depth, author_name,"
        " website, body, html, status, moderation, reason, reply_count, flag_count,"
        " review_requested, email_ciphertext, email_key_id, email_lookup, email_lookup_key_id,"
        " avatar, ip_prefix, ip_hash, ip_expires_at, edit_token_hash, dedupe_key, created_at,"
        " status_changed_at)"
        " VALUES (:id, :site, :thread, :parent, :root, :depth, :name, :website, :body, :html,"
        " :status, :moderation, :reason, 0, 0, :review, :blob, :key, :lookup, :lookup_key,"
        " :avatar, :prefix, :ip_hash, :ip_expires, :token_hash, :dedupe, :at, :at)",
        {
            "id": comment_id,
            "site": site_id,
            "thread": thread.id,
            "parent": parent.id if parent else None,
            "root": root_id,
            "depth": (parent.depth + 1) if parent else 0,
            "name": data.author_name,
            "website": data.website,
            "body": data.body,
            "html": prepared.html,
            "status": status.value,
            "moderation": sql.json({"actor": "system", **decision.to_dict()}),
            "reason": reason,
            "review": False,
            "blob": sealed.blob,
            "key": sealed.key_id,
            "lookup": lookup,
            "lookup_key": prepared.lookup_key_id,
            "avatar": avatar,
            "prefix": prepared.prefix,
            "ip_hash": vault.ip_hash(ctx.client_ip) if ctx.client_ip else None,
            "ip_expires": sql.when(ctx.now + ctx.ip_retention) if ctx.client_ip else None,
            "token_hash": _token_hash(token),
            "dedupe": prepared.dedupe,
            "at": sql.when(ctx.now),
        },
    )
    if status is CommentStatus.APPROVED:
        # What status.change_status does for a comment becoming visible: counters in SQL
        # (x = x + 1, so concurrent workers never lose one) and the thread's cache version.
        sql.run(
            "UPDATE threads SET approved_count = approved_count + 1, version = version + 1"
            " WHERE id = :id",
            {"id": thread.id},
        )
        if root_id is not None:
            sql.run(
                "UPDATE comments SET reply_count = reply_count + 1 WHERE id = :id",
                {"id": root_id},
            )
    if ctx.idempotency_key:
        _remember(sql, vault, record_id, site_id, comment_id, token, data, ctx)
    # Last: on PostgreSQL this takes the site's chain lock, which every post of the site
    # waits for until this transaction commits.
    append_event_sql(
        sql,
        site_id=site_id,
        comment_id=comment_id,
        actor=Actor.SYSTEM,
        action=f"auto_{decision.action.value}",
        at=ctx.now,
        from_status=None,
        to_status=status.value,
        reason=reason,
        details=decision.to_dict(),
    )
    public = CommentPublic(
        id=comment_id,
        parent_id=parent.id if parent else None,
        author_name=data.author_name,
        website=data.website,
        html=prepared.html,
        created_at=ctx.now,
        edited_at=None,
        avatar=avatar,
        reply_count=0,
    )
    # The answer is built before the commit, so nothing after the commit can fail: an error
    # always means nothing was stored.
    created = _created(public, status.value, reason, token, ctx)
    if commit:
        session.commit()
    return created


def _remember(
    sql: Sql,
    vault: Vault,
    record_id: int,
    site_id: int,
    comment_id: int,
    token: str,
    data: CommentCreate,
    ctx: WriteContext,
) -> None:
    assert ctx.idempotency_key is not None
    sealed = vault.seal(token, table="idempotency_keys", column="edit_token", row_id=record_id)
    sql.run_at_commit(
        "INSERT INTO idempotency_keys (id, site_id, key, fingerprint, comment_id, created_at,"
        " token_ciphertext, token_key_id)"
        " VALUES (:id, :site, :key, :fingerprint, :comment, :at, :blob, :key_id)",
        {
            "id": record_id,
            "site": site_id,
            "key": ctx.idempotency_key,
            "fingerprint": _fingerprint(data),
            "comment": comment_id,
            "at": sql.when(ctx.now),
            "blob": sealed.blob,
            "key_id": sealed.key_id,
        },
    )


# What the author reads when an automatic check asked to remove the comment but did not have
# the evidence to (moderation.pipeline.combine): the comment is held, and a person decides
# whether it is spam, so the author is not told it is.
ASKED_FOR_REVIEW = "an automatic check asked for a person to look at it"


def public_reason(decision: moderation.Decision) -> str:
    """What the author is told, once, in plain words. The widget shows it after "held for
    review:" or "not published:", so it is the reasons alone: for a removal the evidence for
    it; for a hold every acting objection; without repeats, most severe first."""
    if decision.action is moderation.Action.APPROVE:
        return "published"
    acting = [v for v in decision.acting if v.action is not moderation.Action.APPROVE]
    held = decision.action is moderation.Action.HOLD
    if not held:  # what asked for the removal, and what agreed with it (the evidence)
        acting = [
            v
            for v in acting
            if v.action.severity >= moderation.Action.SPAM.severity
            or v.weight is not moderation.Evidence.WEAK
        ]
    ordered = sorted(acting, key=lambda v: -v.action.severity)
    reasons = list(
        dict.fromkeys(
            ASKED_FOR_REVIEW
            if held and v.action is not moderation.Action.HOLD
            else _clause(v.reason)
            for v in ordered
        )
    )
    return "; ".join(reasons[:3]) or "a moderator will read it first"


def _clause(reason: str) -> str:
    """A reason as a clause: "Matched a blocked word" reads "matched a blocked word" after
    "not published:". (Acronyms and names keep their capitals: only a capital followed by
    a lower-case letter is lowered.)"""
    if len(reason) > 1 and reason[0].isupper() and reason[1].islower():
        return reason[0].lower() + reason[1:]
    return reason


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
    # An edit is moderated again: approved text cannot be swapped for spam afterwards.
    policy = site_policy(site)
    screened = screen(
        moderation.Submission(
            body=data.body,
            author_name=comment.author_name,
            website=comment.website,
            is_reply=comment.parent_id is not None,
            is_edit=True,
        ),
        moderation.Facts(
            now=ctx.now.timestamp(),
            history=_without(
                _history(Sql(session), site.id or 0, [comment.email_lookup], comment.author_name),
                comment.status,
            ),
        ),
        policy,
        deadline=Deadline.after(ctx.check_budget),
        spam=_scorer(spam_check, comment.author_name, comment.website, data.body),
    )
    decision = screened.decision
    comment.body = data.body
    comment.html = screened.html
    comment.dedupe_key = screened.dedupe
    comment.edited_at = ctx.now
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
