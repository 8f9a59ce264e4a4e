"""Retention: personal data that is only needed for a while is erased on schedule.

- IP prefixes and keyed IP hashes: after ``ip_retention_days`` (default 30).
- Rejected, spam and deleted comments: after ``removed_retention_days`` (default 90) in that
  status the row is deleted, or, when replies still hang under it, emptied of text and
  personal data (the placeholder keeps the replies' context).
- Idempotency records (they keep the edit token sealed): after ``idempotency_retention_hours``.

Every step is an idempotent ``UPDATE``/``DELETE`` on a time condition, so several workers
running it at once do no harm; on PostgreSQL a try-lock makes the others skip the run anyway.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, or_, text, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from service.comments import ratelimit
from service.comments.models import Comment, CommentStatus, IdempotencyRecord
from service.db import Database
from service.review.events import append_event
from service.review.models import Actor
from service.settings import Settings

log = logging.getLogger("margin.retention")

PURGE_LOCK = 7311002
BATCH = 500
REMOVED = [CommentStatus.REJECTED.value, CommentStatus.SPAM.value, CommentStatus.DELETED.value]


@dataclass(frozen=True)
class RetentionPolicy:
    ip: timedelta = timedelta(days=30)
    removed: timedelta = timedelta(days=90)
    idempotency: timedelta = timedelta(hours=24)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            ip=timedelta(days=settings.ip_retention_days),
            removed=timedelta(days=settings.removed_retention_days),
            idempotency=timedelta(hours=settings.idempotency_retention_hours),
        )


@dataclass
class PurgeReport:
    ran_at: datetime
    skipped: bool = False
    ips_cleared: int = 0
    comments_deleted: int = 0
    comments_emptied: int = 0
    idempotency_deleted: int = 0
    rate_events_deleted: int = 0
    per_site: dict[int, Counter[str]] = field(default_factory=dict)

    def summary(self) -> str:
        if self.skipped:
            return "purge skipped: another worker is running it"
        return (
            f"IP data cleared on {self.ips_cleared} comments; "
            f"{self.comments_deleted} removed comments deleted, {self.comments_emptied} emptied; "
            f"{self.idempotency_deleted} idempotency records and "
            f"{self.rate_events_deleted} rate-limit records deleted"
        )


def _try_lock(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        # SQLite: the write transaction (BEGIN IMMEDIATE) already serialises purges.
        session.execute(text("PRAGMA secure_delete=ON"))
        return True
    got = session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": PURGE_LOCK})
    return bool(got.scalar())


def _clear_ips(session: Session, policy: RetentionPolicy, now: datetime) -> Counter[int]:
    held = or_(
        col(Comment.ip_prefix).is_not(None),
        col(Comment.ip_hash).is_not(None),
        col(Comment.ip_expires_at).is_not(None),
    )
    due = or_(
        col(Comment.ip_expires_at) <= now,
        col(Comment.ip_expires_at).is_(None),
        col(Comment.created_at) <= now - policy.ip,  # the period was shortened since
    )
    rows = session.exec(select(Comment.id, Comment.site_id).where(held, due)).all()
    ids = [r[0] for r in rows if r[0] is not None]
    for start in range(0, len(ids), BATCH):
        session.execute(
            update(Comment)
            .where(col(Comment.id).in_(ids[start : start + BATCH]))
            .values(ip_prefix=None, ip_hash=None, ip_expires_at=None)
        )
    return Counter(site_id for _, site_id in rows)


def _purge_removed(
    session: Session, policy: RetentionPolicy, now: datetime
) -> tuple[Counter[int], Counter[int]]:
    child = aliased(Comment)
    has_children = exists().where(col(child.parent_id) == col(Comment.id))
    due = and_(
        col(Comment.status).in_(REMOVED), col(Comment.status_changed_at) <= now - policy.removed
    )
    deleted: Counter[int] = Counter()
    emptied: Counter[int] = Counter()
    # Deleting a leaf can make its parent a leaf: repeat until nothing more is due.
    while True:
        leaves = session.exec(
            select(Comment.id, Comment.site_id).where(due, ~has_children).limit(BATCH)
        ).all()
        if not leaves:
            break
        ids = [r[0] for r in leaves]
        session.execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.comment_id).in_(ids)))
        session.execute(delete(Comment).where(col(Comment.id).in_(ids)))
        deleted.update(site_id for _, site_id in leaves)
    still_full = or_(col(Comment.body) != "", col(Comment.email_ciphertext).is_not(None))
    kept = session.exec(
        select(Comment.id, Comment.site_id).where(due, has_children, still_full)
    ).all()
    for start in range(0, len(kept), BATCH):
        ids = [r[0] for r in kept[start : start + BATCH]]
        session.execute(
            update(Comment)
            .where(col(Comment.id).in_(ids))
            .values(
                body="",
                html="",
                author_name="",
                website=None,
                email_ciphertext=None,
                email_key_id=None,
                email_lookup=None,
                email_lookup_key_id=None,
                avatar="",
                ip_prefix=None,
                ip_hash=None,
                ip_expires_at=None,
            )
        )
    emptied.update(site_id for _, site_id in kept)
    return deleted, emptied


def purge(db: Database, policy: RetentionPolicy, now: datetime) -> PurgeReport:
    """One retention run, in one transaction. ``now`` comes from the injected clock."""
    report = PurgeReport(ran_at=now)
    with db.write() as session:
        if not _try_lock(session):
            report.skipped = True
            return report
        ips = _clear_ips(session, policy, now)
        deleted, emptied = _purge_removed(session, policy, now)
        result = session.execute(
            delete(IdempotencyRecord).where(
                col(IdempotencyRecord.created_at) <= now - policy.idempotency
            )
        )
        report.idempotency_deleted = int(getattr(result, "rowcount", 0) or 0)
        # Flood-limit records (keyed hashes of IP prefix and email) outlive no window.
        report.rate_events_deleted = ratelimit.purge_old(session, now)
        report.ips_cleared = sum(ips.values())
        report.comments_deleted = sum(deleted.values())
        report.comments_emptied = sum(emptied.values())
        for site_id in sorted(set(ips) | set(deleted) | set(emptied)):
            counts: Counter[str] = Counter(
                ips_cleared=ips[site_id],
                comments_deleted=deleted[site_id],
                comments_emptied=emptied[site_id],
            )
            report.per_site[site_id] = counts
            # The schedule leaves a trace: regulators can see that data expires.
            append_event(
                session,
                site_id=site_id,
                actor=Actor.SYSTEM,
                action="retention_purge",
                at=now,
                reason="retention period elapsed",
                details=dict(counts),
            )
        session.commit()
    if report.ips_cleared or report.comments_deleted or report.comments_emptied:
        log.info("retention: %s", report.summary())
    return report


def checkpoint(db: Database) -> bool:
    """SQLite: copy every page in the WAL into the database file and truncate the WAL to zero
    bytes. After an erasure or a purge (run with ``secure_delete``, so the new pages hold zeros
    where the values were) this is what makes the old values physically go: until then the
    WAL still holds the frames written when the comment was posted, name, website and all,
    and the file the pages from before the erasure. Cheaper than ``compact`` (no VACUUM: the
    file is not rewritten, so it can run after each request); it waits for readers of older
    snapshots (the busy timeout) like any writer. Takes the writers' turn, so it must not run
    while this thread holds a write session. Returns False when readers kept part of the WAL
    (the next checkpoint finishes the job); PostgreSQL: nothing to do here (True)."""
    if not db.is_sqlite:
        return True
    raw = db.write_engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        row = cursor.fetchone()
        cursor.close()
    finally:
        raw.close()
    done = row is None or int(row[0]) == 0
    if not done:
        log.warning("WAL checkpoint after an erasure or purge was incomplete: readers were busy")
    return done


def compact(db: Database, *, full: bool = False) -> None:
    """Make deleted values physically go away: SQLite checkpoints the WAL into the file and
    truncates it, then VACUUMs (rewrites the file without free pages); PostgreSQL VACUUMs the
    tables that held personal data (``full`` rewrites them, taking an exclusive lock)."""
    if db.is_sqlite:
        raw = db.write_engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            raw.close()
        return
    verb = "VACUUM (FULL, ANALYZE)" if full else "VACUUM (ANALYZE)"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("comments", "idempotency_keys"):
            conn.execute(text(f"{verb} {table}"))
