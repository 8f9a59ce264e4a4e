"""Appending to and reading the register of access to personal data (``pii_access``).

Every entry commits to the previous entry of its site (SHA-256 over a canonical JSON form), so
an edit or a deletion anywhere breaks the chain and ``margin audit verify`` reports it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from service.comments import cursor as cursors
from service.privacy.models import AccessActor, AccessEntry, AccessKind, AccessPage, PiiAccess

GENESIS = "0" * 64


def _canonical(entry: PiiAccess) -> bytes:
    payload = {
        "site_id": entry.site_id,
        "comment_id": entry.comment_id,
        "actor": entry.actor,
        "moderator_id": entry.moderator_id,
        "kind": entry.kind,
        "category": entry.category,
        "purpose": entry.purpose,
        "created_at": entry.created_at.isoformat(),
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def entry_hash(entry: PiiAccess) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def _lock_site_chain(session: Session, site_id: int) -> None:
    # Same reasoning as the event log: PostgreSQL workers must not both read the same tail.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7312, :site)"), {"site": site_id})


def record_access(
    session: Session,
    *,
    site_id: int,
    comment_id: int | None,
    actor: AccessActor,
    moderator_id: int | None,
    kind: AccessKind,
    category: str,
    purpose: str,
    at: datetime,
) -> PiiAccess:
    """Add one entry; the caller commits it together with (and before showing) the data."""
    _lock_site_chain(session, site_id)
    tail = session.exec(
        select(PiiAccess.row_hash)
        .where(PiiAccess.site_id == site_id)
        .order_by(col(PiiAccess.id).desc())
        .limit(1)
    ).first()
    entry = PiiAccess(
        site_id=site_id,
        comment_id=comment_id,
        actor=actor.value,
        moderator_id=moderator_id,
        kind=kind.value,
        category=category,
        purpose=purpose,
        created_at=at,
        prev_hash=tail or GENESIS,
        row_hash="",
    )
    entry.row_hash = entry_hash(entry)
    session.add(entry)
    session.flush()
    return entry


def verify_register(entries: Iterable[PiiAccess]) -> list[str]:
    """Problems in one site's entries (id order); empty when the chain is intact."""
    problems: list[str] = []
    previous = GENESIS
    for entry in entries:
        if entry.prev_hash != previous:
            problems.append(f"access entry {entry.id}: link to the previous entry is broken")
        if entry_hash(entry) != entry.row_hash:
            problems.append(f"access entry {entry.id}: content does not match its hash")
        previous = entry.row_hash
    return problems


def to_entry(row: PiiAccess) -> AccessEntry:
    return AccessEntry.model_validate(row, from_attributes=True)


def entries_for_comments(session: Session, comment_ids: Iterable[int]) -> list[AccessEntry]:
    ids = sorted(set(comment_ids))
    rows: list[PiiAccess] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows.extend(
            session.exec(
                select(PiiAccess)
                .where(col(PiiAccess.comment_id).in_(chunk))
                .order_by(col(PiiAccess.id))
            ).all()
        )
    return [to_entry(r) for r in sorted(rows, key=lambda r: r.id or 0)]


def list_access(session: Session, *, site_id: int, cursor: str | None, limit: int) -> AccessPage:
    query = select(PiiAccess).where(PiiAccess.site_id == site_id)
    if cursor:
        (before,) = cursors.decode(cursor, (int,))
        query = query.where(col(PiiAccess.id) < before)
    rows = list(session.exec(query.order_by(col(PiiAccess.id).desc()).limit(limit + 1)).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        assert rows[-1].id is not None
        next_cursor = cursors.encode(rows[-1].id)
    return AccessPage(items=[to_entry(r) for r in rows], next_cursor=next_cursor)
