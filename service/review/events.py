"""Appending to the hash-chained moderation event log, and verifying the chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from service.comments.store import Sql
from service.review.models import Actor, ModerationEvent

GENESIS = "0" * 64


def _canonical(event: ModerationEvent) -> bytes:
    return canonical(
        site_id=event.site_id,
        comment_id=event.comment_id,
        actor=event.actor,
        moderator_id=event.moderator_id,
        action=event.action,
        from_status=event.from_status,
        to_status=event.to_status,
        reason=event.reason,
        details=event.details,
        created_at=event.created_at,
        prev_hash=event.prev_hash,
    )


def canonical(
    *,
    site_id: int,
    comment_id: int | None,
    actor: str,
    moderator_id: int | None,
    action: str,
    from_status: str | None,
    to_status: str | None,
    reason: str,
    details: dict[str, Any],
    created_at: datetime,
    prev_hash: str,
) -> bytes:
    """The bytes an event's hash covers: every field but the id and the hash itself."""
    payload = {
        "site_id": site_id,
        "comment_id": comment_id,
        "actor": actor,
        "moderator_id": moderator_id,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "reason": reason,
        "details": details,
        "created_at": created_at.isoformat(),
        "prev_hash": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def event_hash(event: ModerationEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def _lock_site_chain(session: Session, site_id: int) -> None:
    # Two PostgreSQL workers appending for one site must not both read the same tail.
    # SQLite needs nothing: writes already run under BEGIN IMMEDIATE.
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7311, :site)"), {"site": site_id})


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
    _lock_site_chain(session, site_id)
    tail = session.exec(
        select(ModerationEvent.row_hash)
        .where(ModerationEvent.site_id == site_id)
        .order_by(col(ModerationEvent.id).desc())
        .limit(1)
    ).first()
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
        prev_hash=tail or GENESIS,
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
    the same chain, without the ORM."""
    if sql.postgres:
        sql.run("SELECT pg_advisory_xact_lock(7311, :site)", {"site": site_id})
    tail = sql.one(
        "SELECT row_hash FROM moderation_events WHERE site_id = :site ORDER BY id DESC LIMIT 1",
        {"site": site_id},
    )
    prev_hash = tail[0] if tail is not None else GENESIS
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
        "prev_hash": prev_hash,
    }
    row_hash = hashlib.sha256(canonical(**fields)).hexdigest()
    sql.run(
        "INSERT INTO moderation_events (site_id, comment_id, actor, moderator_id, action,"
        " from_status, to_status, reason, details, created_at, prev_hash, row_hash)"
        " VALUES (:site_id, :comment_id, :actor, :moderator_id, :action, :from_status,"
        " :to_status, :reason, :details, :created_at, :prev_hash, :row_hash)",
        {
            **fields,
            "details": sql.json(fields["details"]),
            "created_at": sql.when(at),
            "row_hash": row_hash,
        },
    )


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
