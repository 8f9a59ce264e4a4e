"""Privacy endpoints: readers' self-service requests, moderators' subject requests, the access
register and IP look-ups. Thin handlers over privacy.service; answers are never cached."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlmodel import Session

from service.apidocs.errors import errors_doc
from service.bounded import CursorQuery, PathId, SlugQuery
from service.deps import CurrentModerator, ReadSession, StateDep, WriteSession, WriteSite
from service.privacy import service
from service.privacy.inputs import (
    ErasureReport,
    RevealedIp,
    RevealIpRequest,
    SelfServiceRequest,
    SubjectExport,
    SubjectRequest,
)
from service.privacy.models import AccessPage
from service.privacy.retention import checkpoint
from service.state import AppState

log = logging.getLogger("margin.privacy")

moderation_router = APIRouter(prefix="/api/v1/moderation", tags=["privacy"])
public_router = APIRouter(prefix="/api/v1/sites/{site}/privacy", tags=["privacy"])


@moderation_router.post("/subjects/export", responses=errors_doc(403, 404))
def export_subject(
    moderator: CurrentModerator, request: SubjectRequest, session: WriteSession, state: StateDep
) -> SubjectExport:
    """Everything held about the person who gave this email, on your sites (PII scope only).
    Each exported comment is recorded in the access register with the purpose."""
    return service.moderator_export(session, moderator, state.vault, request, state.clock())


@moderation_router.post("/subjects/erase", responses=errors_doc(403, 404))
def erase_subject(
    moderator: CurrentModerator,
    request: SubjectRequest,
    session: WriteSession,
    state: StateDep,
    reader: ReadSession,
) -> ErasureReport:
    """Erase the personal data of the person who gave this email, on your sites (PII scope
    only); comments are anonymised or deleted as each site's erasure policy says."""
    report = service.moderator_erase(session, moderator, state.vault, request, state.clock())
    # ``reader`` is the session that authenticated the moderator (FastAPI gives the handler
    # the same one): its snapshot would keep the checkpoint from emptying the WAL.
    _erased(session, state, reader)
    return report


@moderation_router.get("/access")
def access_register(
    moderator: CurrentModerator,
    session: ReadSession,
    site: SlugQuery,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AccessPage:
    """The register of access to personal data of one of your sites, newest first."""
    return service.access_register(session, moderator, site_slug=site, cursor=cursor, limit=limit)


@moderation_router.post("/comments/{comment_id}/reveal-ip", responses=errors_doc(403))
def reveal_ip(
    moderator: CurrentModerator,
    comment_id: PathId,
    request: RevealIpRequest,
    session: WriteSession,
    state: StateDep,
) -> RevealedIp:
    """A comment's IP prefix and the comments sent from the same address (PII scope; recorded)."""
    return service.reveal_ip(session, moderator, comment_id, request, state.clock())


@public_router.post("/export")
def export_own(
    site: WriteSite,
    request: SelfServiceRequest,
    session: ReadSession,
    state: StateDep,
    response: Response,
) -> SubjectExport:
    """Everything held about the comments whose edit tokens you send (as JSON)."""
    response.headers["Cache-Control"] = "no-store"
    return service.self_export(session, site, state.vault, request, state.clock())


@public_router.post("/erase")
def erase_own(
    site: WriteSite,
    request: SelfServiceRequest,
    session: WriteSession,
    state: StateDep,
    response: Response,
) -> ErasureReport:
    """Erase your personal data from the comments whose edit tokens you send."""
    response.headers["Cache-Control"] = "no-store"
    report = service.self_erase(session, site, request, state.clock())
    _erased(session, state)
    return report


def _erased(session: Session, state: AppState, reader: Session | None = None) -> None:
    """After an erasure is committed: give the request's connections back, then checkpoint, so
    the erased values are gone from SQLite's WAL and file when the answer says they are
    (P-ERASE-1), as ``margin subject erase`` does (it also VACUUMs)."""
    session.close()
    if reader is not None:
        reader.close()
    try:
        checkpoint(state.db)
    except Exception:  # the erasure is committed: its answer stands; the next checkpoint will do
        log.exception("WAL checkpoint after an erasure failed")
