"""Appending to the hash-chained moderation event log, and verifying the chain."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.comments.store import Sql
from service.review.models import Actor, ModerationEvent

GENESIS = "0" * 64


# What an event's hash covers: every column but the id and the hash itself.
_HASHED = (
    "site_id",
    "comment_id",
    "actor",
    "moderator_id",
    "action",
    "from_status",
    "to_status",
    "reason",
    "details",
    "created_at",
    "prev_hash",
)


def _canonical(fields: Mapping[str, Any]) -> bytes:
    payload = {name: fields[name] for name in _HASHED}
    payload["created_at"] = fields["created_at"].isoformat()
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def event_hash(event: ModerationEvent) -> str:
    return hashlib.sha256(_canonical({name: getattr(event, name) for name in _HASHED})).hexdigest()


# Two PostgreSQL workers appending for one site must not both read the same tail. (SQLite
# needs nothing: writes already run under BEGIN IMMEDIATE.)
_LOCK_CHAIN = "SELECT pg_advisory_xact_lock(7311, :site)"
_TAIL = "SELECT row_hash FROM moderation_events WHERE site_id = :site ORDER BY id DESC LIMIT 1"


def _chain_tail(sql: Sql, site_id: int) -> str:
    """The hash the site's next event links to, under the site's chain lock (PostgreSQL).
    Every append of a site waits for that lock until the holder commits, so it is taken as
    late as possible and held for as few round trips as possible: the lock and the tail go
    together (``Sql.pipeline``: the tail is read after the lock is granted, so it sees the
    previous holder's commit), and the comment write path sends its event with its COMMIT."""
    params = {"site": site_id}
    if sql.postgres:
        tail_rows = sql.pipeline([(_LOCK_CHAIN, params), (_TAIL, params)])[1]
    else:
        tail_rows = sql.all(_TAIL, params)
    return str(tail_rows[0][0]) if tail_rows else GENESIS


def append_event(
    session: Session,
    *,
    site_id: int,
    actor: Actor,
    action: str,
    at: datetime,
    comment_id: int | None = None,
    moderator_id: int | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> ModerationEvent:
    session.flush()  # events added earlier in this transaction are part of the chain
    prev_hash = _chain_tail(Sql(session), site_id)
    event = ModerationEvent(
        site_id=site_id,
        comment_id=comment_id,
        actor=actor.value,
        moderator_id=moderator_id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        details=details or {},
        created_at=at,
        prev_hash=prev_hash,
        row_hash="",
    )
    event.row_hash = event_hash(event)
    session.add(event)
    return event


def append_event_sql(
    sql: Sql,
    *,
    site_id: int,
    actor: Actor,
    action: str,
    at: datetime,
    comment_id: int | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """``append_event`` for the comment write path (service.comments.store): the same row,
    the same chain, without the ORM. The last write of its transaction: on PostgreSQL it takes
    the site's chain lock, which every other append of the site then waits for."""
    fields: dict[str, Any] = {
        "site_id": site_id,
        "comment_id": comment_id,
        "actor": actor.value,
        "moderator_id": None,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "reason": reason,
        "details": details or {},
        "created_at": at,
    }
    values = {**fields, "details": sql.json(fields["details"]), "created_at": sql.when(at)}
    if sql.postgres:
        # The server links the row: it reads the tail and hashes the canonical text around
        # it (the same bytes as _canonical), in the statement after the lock. Sent with the
        # COMMIT (Sql.run_at_commit), the lock is held for no round trip at all: from its
        # grant to the commit the server works alone. Reading the tail here first held it
        # for two round trips on a busy event loop, and a site's posts queued behind them.
        prefix, suffix = _canonical_around_prev_hash(fields)
        sql.run_at_commit(_LOCK_CHAIN, {"site": site_id})
        linked = {**values, "prefix": prefix, "suffix": suffix, "genesis": GENESIS}
        sql.run_at_commit(_APPEND_LINKED_BY_SERVER, linked)
        return
    fields["prev_hash"] = _chain_tail(sql, site_id)
    sql.run(
        "INSERT INTO moderation_events (site_id, comment_id, actor, moderator_id, action,"
        " from_status, to_status, reason, details, created_at, prev_hash, row_hash)"
        " VALUES (:site_id, :comment_id, :actor, :moderator_id, :action, :from_status,"
        " :to_status, :reason, :details, :created_at, :prev_hash, :row_hash)",
        {
            **values,
            "prev_hash": fields["prev_hash"],
            "row_hash": hashlib.sha256(_canonical(fields)).hexdigest(),
        },
    )


_APPEND_LINKED_BY_SERVER = (
    "INSERT INTO moderation_events (site_id, comment_id, actor, moderator_id, action,"
    " from_status, to_status, reason, details, created_at, prev_hash, row_hash)"
    " SELECT CAST(:site_id AS INTEGER), CAST(:comment_id AS INTEGER),"
    " CAST(:actor AS VARCHAR), CAST(:moderator_id AS INTEGER), CAST(:action AS VARCHAR),"
    " CAST(:from_status AS VARCHAR), CAST(:to_status AS VARCHAR), CAST(:reason AS TEXT),"
    " :details, :created_at, tail.hash,"
    " encode(sha256(convert_to(CAST(:prefix AS TEXT) || tail.hash || CAST(:suffix AS TEXT),"
    " 'UTF8')), 'hex')"
    " FROM (SELECT coalesce((SELECT row_hash FROM moderation_events WHERE site_id = :site_id"
    " ORDER BY id DESC LIMIT 1), CAST(:genesis AS VARCHAR)) AS hash) AS tail"
)


def _canonical_around_prev_hash(fields: Mapping[str, Any]) -> tuple[str, str]:
    """The canonical text of an event (``_canonical``) before and after its ``prev_hash``
    value: ``prefix + prev_hash + suffix`` is that text once ``prev_hash`` is known. The
    text is ASCII (``json.dumps`` escapes the rest), so its bytes are the same in UTF-8."""
    marker = secrets.token_hex(16)  # appears nowhere else in the text
    text = _canonical({**fields, "prev_hash": marker}).decode()
    before, after = text.split(f'"{marker}"')
    return before + '"', '"' + after


def verify_chain(events: Iterable[ModerationEvent]) -> list[str]:
    """Problems found in one site's events (in id order); empty when the chain is intact."""
    problems: list[str] = []
    previous = GENESIS
    for event in events:
        if event.prev_hash != previous:
            problems.append(f"event {event.id}: link to the previous event is broken")
        if event_hash(event) != event.row_hash:
            problems.append(f"event {event.id}: content does not match its hash")
        previous = event.row_hash
    return problems
