"""Data-subject requests: find a reader's comments, export everything held about them, erase.

A reader is found either by the email they gave (a moderator with the PII scope, or the admin
command line) or by the edit tokens of their comments (self-service). An edit token proves
authorship of one comment; an email typed into a comment form proves nothing, so self-service
never widens from the tokens' comments to "every comment with the same email".
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, text
from sqlmodel import Session, col, select

from service.comments.models import Comment, CommentStatus, IdempotencyRecord, RateEvent, Thread
from service.comments.status import bump_version, change_status
from service.errors import Invalid, NotFound
from service.privacy.crypto import DecryptionError, Sealed, Vault
from service.privacy.inputs import (
    ErasureReport,
    ExportedComment,
    ExportedEvent,
    OwnedComment,
    SubjectExport,
)
from service.privacy.models import AccessActor, AccessKind
from service.privacy.register import entries_for_comments, record_access
from service.review.events import append_event
from service.review.models import Actor, ModerationEvent
from service.sites.models import Site

ANONYMOUS = "Anonymous"
ERASED_REASON = "erased at the author's request"
ERASURE_POLICIES = ("anonymise", "delete")
CHUNK = 500

NOTES = [
    "Emails are stored encrypted (AES-256-GCM) and shown here decrypted; a keyed hash of the "
    "email is kept for look-ups and is meaningless without the server's key, so it is not shown.",
    "IP addresses are kept only as a network prefix (/24 or /48) and a keyed hash, and both are "
    "erased after the IP retention period (ip_expires_at).",
    "The moderation event log and the access register keep comment ids, actions and reasons, "
    "never an email, name or IP.",
]


@dataclass(frozen=True)
class Requester:
    """Who is asking: the subject (edit tokens), a moderator or the admin command line."""

    kind: str  # "subject" | "moderator" | "admin"
    moderator_id: int | None = None

    @property
    def access_actor(self) -> AccessActor | None:
        if self.kind == "moderator":
            return AccessActor.MODERATOR
        if self.kind == "admin":
            return AccessActor.ADMIN
        return None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


# Finding a subject's comments ---------------------------------------------------------------
def find_by_email(
    session: Session, vault: Vault, email: str, *, site_ids: Iterable[int] | None
) -> list[Comment]:
    """Every comment whose keyed email hash matches, under any look-up key still held (a
    look-up key rotation may be half done)."""
    digests = vault.email_lookups(email)
    # Always by site: the (site_id, email_lookup, ...) index answers it, one probe per site
    # and key. There is no index on the email hash alone (migration 0006): every new comment
    # would write one more random index page for a look-up that only these requests make.
    sites = list(site_ids) if site_ids is not None else select(Site.id)
    query = select(Comment).where(
        col(Comment.site_id).in_(sites), col(Comment.email_lookup).in_(list(digests.values()))
    )
    rows = list(session.exec(query.order_by(col(Comment.id))).all())
    # A row matches only under the key that hashed it.
    return [r for r in rows if digests.get(r.email_lookup_key_id or "") == r.email_lookup]


def find_by_tokens(session: Session, site: Site, owned: Sequence[OwnedComment]) -> list[Comment]:
    """The comments these edit tokens prove. One wrong token and nothing is returned, with the
    same answer as an unknown id (no oracle)."""
    ids = sorted({o.comment_id for o in owned})
    rows = {
        c.id: c
        for chunk in _chunks(ids)
        for c in session.exec(select(Comment).where(col(Comment.id).in_(chunk))).all()
    }
    for item in owned:
        row = rows.get(item.comment_id)
        if (
            row is None
            or row.site_id != site.id
            or not hmac.compare_digest(_token_hash(item.edit_token), row.edit_token_hash)
        ):
            raise NotFound("no such comment")
    return [rows[i] for i in ids]


# Export -------------------------------------------------------------------------------------
def _decrypt_email(vault: Vault, row: Comment) -> str | None:
    if row.email_ciphertext is None or row.email_key_id is None or row.id is None:
        return None
    try:
        return vault.open(
            Sealed(row.email_key_id, row.email_ciphertext),
            table="comments",
            column="email",
            row_id=row.id,
        )
    except DecryptionError:
        return None


def export_subject(
    session: Session,
    vault: Vault,
    comments: Sequence[Comment],
    *,
    requester: Requester,
    category: str,
    purpose: str,
    now: datetime,
) -> SubjectExport:
    """Everything held about the subject. When someone other than the subject asks, one entry
    per comment goes to the access register (committed by the caller before answering)."""
    ids = [c.id for c in comments if c.id is not None]
    thread_ids = sorted({c.thread_id for c in comments})
    site_ids = sorted({c.site_id for c in comments})
    threads = {
        t.id: t
        for chunk in _chunks(thread_ids)
        for t in session.exec(select(Thread).where(col(Thread.id).in_(chunk))).all()
    }
    slugs = dict(session.exec(select(Site.id, Site.slug).where(col(Site.id).in_(site_ids))).all())
    history: dict[int, list[ExportedEvent]] = {}
    for chunk in _chunks(ids):
        for event in session.exec(
            select(ModerationEvent)
            .where(col(ModerationEvent.comment_id).in_(chunk))
            .order_by(col(ModerationEvent.id))
        ).all():
            assert event.comment_id is not None
            history.setdefault(event.comment_id, []).append(
                ExportedEvent.model_validate(event, from_attributes=True)
            )
    actor = requester.access_actor
    if actor is not None:
        for row in comments:
            assert row.id is not None
            record_access(
                session,
                site_id=row.site_id,
                comment_id=row.id,
                actor=actor,
                moderator_id=requester.moderator_id,
                kind=AccessKind.EXPORT,
                category=category,
                purpose=purpose,
                at=now,
            )
    exported = []
    for row in comments:
        assert row.id is not None
        thread = threads[row.thread_id]
        exported.append(
            ExportedComment(
                id=row.id,
                site=str(slugs[row.site_id]),
                thread_key=thread.key,
                thread_title=thread.title,
                thread_url=thread.url,
                parent_id=row.parent_id,
                author_name=row.author_name,
                email=_decrypt_email(vault, row),
                website=row.website,
                body=row.body,
                status=row.status,
                reason=row.reason,
                created_at=row.created_at,
                edited_at=row.edited_at,
                status_changed_at=row.status_changed_at,
                ip_prefix=row.ip_prefix,
                ip_hash_held=row.ip_hash is not None,
                ip_expires_at=row.ip_expires_at,
                email_lookup_hash_held=row.email_lookup is not None,
                history=history.get(row.id, []),
            )
        )
    return SubjectExport(
        generated_at=now,
        requested_by=requester.kind,
        comments=exported,
        access_register=entries_for_comments(session, ids),
        notes=NOTES,
    )


# Erasure ------------------------------------------------------------------------------------
def _scrub_personal(row: Comment) -> None:
    row.email_ciphertext = None
    row.email_key_id = None
    row.email_lookup = None
    row.email_lookup_key_id = None
    row.author_name = ANONYMOUS
    row.website = None
    row.avatar = ""
    row.ip_prefix = None
    row.ip_hash = None
    row.ip_expires_at = None
    # The edit token stops working: nothing can be done "as" the erased author any more.
    row.edit_token_hash = secrets.token_hex(32)
    # Keep who decided and the category (the public placeholder says why), drop the rest: the
    # verdicts may quote the name or the link.
    row.moderation = {
        k: v for k, v in row.moderation.items() if k in ("actor", "category", "action")
    } | {"erased": True}


def erase_subject(
    session: Session,
    comments: Sequence[Comment],
    *,
    requester: Requester,
    now: datetime,
) -> ErasureReport:
    """Remove the subject's personal data from their comments, as each site's erasure policy
    says ("anonymise": keep the text under "Anonymous"; "delete": remove the text too, and the
    row when nothing replies to it). Replies by others are untouched. The erasure is recorded in
    each site's event log with counts only. The caller commits."""
    if session.get_bind().dialect.name == "sqlite":
        # Freed pages and cells are zeroed, so the old values do not linger in the file.
        session.execute(text("PRAGMA secure_delete=ON"))
    site_ids = sorted({c.site_id for c in comments})
    sites = {s.id: s for s in session.exec(select(Site).where(col(Site.id).in_(site_ids))).all()}
    ids = sorted(c.id for c in comments if c.id is not None)
    for chunk in _chunks(ids):
        # The records hold the sealed edit token and a fingerprint of the request (with the email).
        session.execute(
            delete(IdempotencyRecord).where(col(IdempotencyRecord.comment_id).in_(chunk))
        )
    # Flood-limit records keyed by the author's look-up hash (short-lived, but theirs).
    lookups = sorted({c.email_lookup for c in comments if c.email_lookup})
    if lookups:
        session.execute(
            delete(RateEvent).where(
                col(RateEvent.scope) == "author", col(RateEvent.key).in_(lookups)
            )
        )
    per_site: dict[int, dict[str, int]] = {}
    touched_threads: set[int] = set()
    anonymised = deleted = removed = 0
    # Newest first: the subject's own replies go before the comments they answer.
    for row in sorted(comments, key=lambda c: c.id or 0, reverse=True):
        assert row.id is not None
        site = sites[row.site_id]
        counts = per_site.setdefault(row.site_id, {"comments": 0, "anonymised": 0, "deleted": 0})
        counts["comments"] += 1
        _scrub_personal(row)
        if site.erasure_policy == "delete":
            row.body = ""
            row.html = ""
            row.dedupe_key = ""
            row.edited_at = None
            if row.status != CommentStatus.DELETED:
                change_status(session, row, CommentStatus.DELETED, reason=ERASED_REASON, at=now)
            else:
                row.reason = ERASED_REASON
            row.moderation = {"actor": "author", "category": "erased", "erased": True}
            deleted += 1
            counts["deleted"] += 1
            session.add(row)
            session.flush()
            children = session.exec(
                select(func.count()).select_from(Comment).where(Comment.parent_id == row.id)
            ).one()
            if children == 0:
                session.delete(row)
                session.flush()
                removed += 1
        else:
            anonymised += 1
            counts["anonymised"] += 1
            session.add(row)
        touched_threads.add(row.thread_id)
    for thread_id in sorted(touched_threads):
        bump_version(session, thread_id)
    actor = {"subject": Actor.AUTHOR, "moderator": Actor.MODERATOR}.get(
        requester.kind, Actor.SYSTEM
    )
    for site_id, counts in per_site.items():
        append_event(
            session,
            site_id=site_id,
            actor=actor,
            moderator_id=requester.moderator_id,
            action="erasure",
            at=now,
            reason="personal data erased at the data subject's request",
            details={**counts, "via": requester.kind, "policy": sites[site_id].erasure_policy},
        )
    session.flush()
    return ErasureReport(
        comments=len(comments),
        anonymised=anonymised,
        deleted=deleted,
        rows_removed=removed,
        sites=sorted(str(sites[s].slug) for s in per_site),
    )


def set_erasure_policy(session: Session, slug: str, policy: str) -> Site:
    if policy not in ERASURE_POLICIES:
        raise Invalid("erasure_policy", f"must be one of {', '.join(ERASURE_POLICIES)}")
    site = session.exec(select(Site).where(Site.slug == slug)).first()
    if site is None:
        raise NotFound(f"no site {slug!r}")
    site.erasure_policy = policy
    session.add(site)
    session.commit()
    return site
