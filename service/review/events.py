"""Appending to the hash-chained moderation event log, and verifying the chain."""

from __future__ import annotations

import hashlib
import json
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


def _lock_site_chain(sql: Sql, site_id: int) -> None:
    # Two PostgreSQL workers appending for one site must not both read the same tail.
    # SQLite needs nothing: writes already run under BEGIN IMMEDIATE.
    if sql.postgres:
        sql.run("SELECT pg_advisory_xact_lock(7311, :site)", {"site": site_id})


def _chain_tail(sql: Sql, site_id: int) -> str:
    """The hash the site's next event links to, under the site's chain lock."""
    _lock_site_chain(sql, site_id)
    tail = sql.one(
        "SELECT row_hash FROM moderation_events WHERE site_id = :site ORDER BY id DESC LIMIT 1",
        {"site": site_id},
    )
    return str(tail[0]) if tail is not None else GENESIS


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
    the same chain, without the ORM."""
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
        "prev_hash": _chain_tail(sql, site_id),
    }
    row_hash = hashlib.sha256(_canonical(fields)).hexdigest()
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
