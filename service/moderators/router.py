"""The site-admin API: a token with the site-admin scope lists and changes its own sites and
manages the tokens of their moderators. The same functions as ``margin site`` and
``margin moderator`` on the command line, for a console to use."""

from __future__ import annotations

from fastapi import APIRouter, status

from service.apidocs.errors import errors_doc
from service.bounded import PathId, SlugPath, SlugQuery
from service.deps import CurrentModerator, ReadSession, StateDep, WriteSession
from service.errors import Forbidden
from service.moderators import service
from service.moderators.models import (
    IssuedToken,
    ModeratorCreate,
    ModeratorView,
    TokenRotation,
)
from service.review.models import Actor
from service.review.service import site_for
from service.sites import admin
from service.sites.models import SiteAdminView, SiteUpdate

router = APIRouter(prefix="/api/v1/moderation", tags=["administration"])


@router.get("/sites")
def my_sites(moderator: CurrentModerator, session: ReadSession) -> list[SiteAdminView]:
    """The sites this token acts on, with their origins and mode (any moderator)."""
    return admin.list_sites(session, moderator.site_ids)


@router.get("/sites/{site}")
def show_site(moderator: CurrentModerator, session: ReadSession, site: SlugPath) -> SiteAdminView:
    """One of your sites (any moderator of it)."""
    return admin.admin_view(site_for(session, moderator, site))


@router.patch("/sites/{site}", responses=errors_doc(403))
def update_site(
    moderator: CurrentModerator,
    site: SlugPath,
    change: SiteUpdate,
    session: WriteSession,
    state: StateDep,
) -> SiteAdminView:
    """Rename a site, add or remove allowed origins (www, staging, localhost) or change its
    moderation mode. Site-admin scope; logged in the site's event log with the reason."""
    service.require_site_admin(moderator)
    found = site_for(session, moderator, site)
    updated = admin.update_site(
        session,
        found,
        change,
        state.clock(),
        actor=Actor.MODERATOR,
        moderator_id=moderator.moderator_id,
    )
    state.sites.forget(site)
    return updated


@router.get("/moderators", responses=errors_doc(403))
def list_moderators(
    moderator: CurrentModerator, session: ReadSession, state: StateDep, site: SlugQuery
) -> list[ModeratorView]:
    """The moderators of one of your sites, with their scopes, expiry and state (never a token).
    Site-admin scope."""
    service.require_site_admin(moderator)
    found = site_for(session, moderator, site)
    return service.list_moderators(session, state.clock(), site_id=found.id)


@router.post("/moderators", status_code=status.HTTP_201_CREATED, responses=errors_doc(403))
def create_moderator(
    moderator: CurrentModerator, request: ModeratorCreate, session: WriteSession, state: StateDep
) -> IssuedToken:
    """A new moderator of some of your sites; the token is in this answer only. Site-admin
    scope; the PII scope only from a token that has it."""
    service.require_site_admin(moderator)
    for slug in request.sites:
        site_for(session, moderator, slug)  # 404 for a site that is not yours
    if request.can_reveal_pii and not moderator.can_reveal_pii:
        raise Forbidden("you cannot grant the PII scope: your token lacks it")
    now = state.clock()
    created, token = service.create_moderator(
        session,
        name=request.name,
        site_slugs=request.sites,
        pii=request.can_reveal_pii,
        site_admin=request.site_admin,
        expires_at=request.expires_at,
        now=now,
    )
    slugs = sorted(set(request.sites))
    return IssuedToken(moderator=service.view(created, slugs, now), token=token)


@router.post("/moderators/{moderator_id}/revoke", responses=errors_doc(403, 404))
def revoke(
    moderator: CurrentModerator, moderator_id: PathId, session: WriteSession, state: StateDep
) -> ModeratorView:
    """The token stops working at once (401). Site-admin scope; only moderators all of whose
    sites are yours."""
    service.require_site_admin(moderator)
    return service.revoke_moderator(session, moderator_id, state.clock(), within=moderator.site_ids)


@router.post("/moderators/{moderator_id}/rotate", responses=errors_doc(403, 404))
def rotate(
    moderator: CurrentModerator,
    moderator_id: PathId,
    request: TokenRotation,
    session: WriteSession,
    state: StateDep,
) -> IssuedToken:
    """A new token for the same moderator (sites and scopes unchanged), shown once; the old one
    stops working at once. Site-admin scope; only moderators all of whose sites are yours."""
    service.require_site_admin(moderator)
    view, token = service.rotate_token(
        session,
        moderator_id,
        state.clock(),
        expires_at=request.expires_at,
        within=moderator.site_ids,
    )
    return IssuedToken(moderator=view, token=token)
