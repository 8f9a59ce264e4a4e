"""Privacy use cases behind the HTTP API: moderator-side subject requests, the access register,
IP look-ups, and readers' self-service requests. No HTTP here."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from service.comments.models import Comment
from service.errors import Forbidden, NotFound
from service.moderators.service import Principal
from service.privacy import subjects
from service.privacy.crypto import Vault
from service.privacy.inputs import (
    ErasureReport,
    RevealedIp,
    RevealIpRequest,
    SelfServiceRequest,
    SubjectExport,
    SubjectRequest,
)
from service.privacy.models import AccessActor, AccessKind, AccessPage
from service.privacy.register import list_access, record_access
from service.review.service import site_for
from service.sites.models import Site


def _require_pii(principal: Principal) -> None:
    if not principal.can_reveal_pii:
        raise Forbidden("this token may not handle personal data (it lacks the PII scope)")


def _moderator_scope(session: Session, principal: Principal, slug: str | None) -> list[int]:
    if slug is not None:
        site = site_for(session, principal, slug)
        assert site.id is not None
        return [site.id]
    return sorted(principal.site_ids)


def _requester(principal: Principal) -> subjects.Requester:
    return subjects.Requester(kind="moderator", moderator_id=principal.moderator_id)


def moderator_export(
    session: Session, principal: Principal, vault: Vault, request: SubjectRequest, now: datetime
) -> SubjectExport:
    _require_pii(principal)
    site_ids = _moderator_scope(session, principal, request.site)
    comments = subjects.find_by_email(session, vault, request.email, site_ids=site_ids)
    export = subjects.export_subject(
        session,
        vault,
        comments,
        requester=_requester(principal),
        category=request.category.value,
        purpose=request.purpose,
        now=now,
    )
    session.commit()  # the register entries exist before the data leaves
    return export


def moderator_erase(
    session: Session, principal: Principal, vault: Vault, request: SubjectRequest, now: datetime
) -> ErasureReport:
    _require_pii(principal)
    site_ids = _moderator_scope(session, principal, request.site)
    comments = subjects.find_by_email(session, vault, request.email, site_ids=site_ids)
    report = subjects.erase_subject(session, comments, requester=_requester(principal), now=now)
    session.commit()
    return report


def access_register(
    session: Session, principal: Principal, *, site_slug: str, cursor: str | None, limit: int
) -> AccessPage:
    site = site_for(session, principal, site_slug)
    assert site.id is not None
    return list_access(session, site_id=site.id, cursor=cursor, limit=limit)


def reveal_ip(
    session: Session,
    principal: Principal,
    comment_id: int,
    request: RevealIpRequest,
    now: datetime,
) -> RevealedIp:
    """The comment's IP prefix and the other comments sent from the same address (matched on
    the keyed hash, never shown). Recorded in the access register before answering."""
    comment = session.get(Comment, comment_id)
    if comment is None or comment.site_id not in principal.site_ids:
        raise NotFound("no such comment")
    _require_pii(principal)
    assert comment.id is not None
    same: list[int] = []
    if comment.ip_hash is not None:
        same = [
            int(i)
            for i in session.exec(
                select(Comment.id)
                .where(
                    Comment.site_id == comment.site_id,
                    Comment.ip_hash == comment.ip_hash,
                    col(Comment.id) != comment.id,
                )
                .order_by(col(Comment.id).desc())
                .limit(200)
            ).all()
            if i is not None
        ]
    record_access(
        session,
        site_id=comment.site_id,
        comment_id=comment.id,
        actor=AccessActor.MODERATOR,
        moderator_id=principal.moderator_id,
        kind=AccessKind.IP,
        category=request.category.value,
        purpose=request.purpose,
        at=now,
    )
    session.commit()
    return RevealedIp(
        comment_id=comment.id, ip_prefix=comment.ip_prefix, same_address_comment_ids=same
    )


def self_export(
    session: Session, site: Site, vault: Vault, request: SelfServiceRequest, now: datetime
) -> SubjectExport:
    comments = subjects.find_by_tokens(session, site, request.comments)
    return subjects.export_subject(
        session,
        vault,
        comments,
        requester=subjects.Requester(kind="subject"),
        category="subject_request",
        purpose="the data subject's own request",
        now=now,
    )


def self_erase(
    session: Session, site: Site, request: SelfServiceRequest, now: datetime
) -> ErasureReport:
    comments = subjects.find_by_tokens(session, site, request.comments)
    report = subjects.erase_subject(
        session, comments, requester=subjects.Requester(kind="subject"), now=now
    )
    session.commit()
    return report
