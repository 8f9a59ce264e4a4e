"""Dependencies named as types, so handlers read like prose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

# Re-exported: service.comments.fastpost checks slugs with the same rules.
from service.bounded import SLUG_MAX_LENGTH as SLUG_MAX_LENGTH
from service.bounded import SLUG_PATTERN as SLUG_PATTERN
from service.bounded import SlugPath
from service.comments.writing import WriteContext
from service.errors import Forbidden, Invalid, MarginError
from service.moderators.service import Principal, authenticate
from service.sites.models import Site
from service.state import AppState

# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency on the
# thread pool, and those hops (one per dependency, two per session) cost more CPU than the rest
# of a typical request (docs/performance.md, "Writes").


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.margin
    return state


async def get_state(request: Request) -> AppState:
    return state_of(request)


StateDep = Annotated[AppState, Depends(get_state)]


async def read_session(state: StateDep) -> AsyncIterator[Session]:
    # Creating a session touches no database; the connection is checked out by the first
    # statement (on a request thread). Closing returns it, normally after the handler already
    # ended its transaction, so nothing blocks the event loop for long here.
    with state.db.read() as session:
        yield session


async def write_session(state: StateDep) -> AsyncIterator[Session]:
    with state.db.write() as session:
        yield session


ReadSession = Annotated[Session, Depends(read_session)]
WriteSession = Annotated[Session, Depends(write_session)]

SiteSlug = SlugPath


async def current_site(state: StateDep, site: SiteSlug) -> Site:
    cached = state.sites.cached(site)
    if cached is not None:
        return cached
    return await run_in_threadpool(state.sites.get, site)  # a database query


CurrentSite = Annotated[Site, Depends(current_site)]


class UnsupportedMediaType(MarginError):
    status = 415
    code = "unsupported_media_type"


async def checked_write_site(request: Request, site: CurrentSite) -> Site:
    """Writes from the widget: JSON only (forces a CORS preflight, so no form-post CSRF) and
    only from the site's registered origins."""
    if request.method in ("POST", "PATCH", "PUT"):
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise UnsupportedMediaType("writes must be sent as Content-Type: application/json")
    origin = request.headers.get("origin")
    if origin is None:
        raise Forbidden("an Origin header is required for writes")
    if origin.rstrip("/").lower() not in site.allowed_origins:
        raise Forbidden("this origin may not post to this site")
    return site


WriteSite = Annotated[Site, Depends(checked_write_site)]


async def write_context(request: Request, state: StateDep) -> WriteContext:
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= 128 and key.isprintable()):
        raise Invalid("Idempotency-Key", "must be 1-128 printable characters")
    return WriteContext(
        now=state.clock(),
        client_ip=request.client.host if request.client else None,
        idempotency_key=key,
        edit_window=timedelta(seconds=state.settings.edit_window_seconds),
        ip_retention=timedelta(days=state.settings.ip_retention_days),
        check_budget=state.settings.check_budget_ms / 1000,
    )


WriteCtx = Annotated[WriteContext, Depends(write_context)]

EditToken = Annotated[str | None, Header(alias="X-Edit-Token", max_length=200)]


def current_moderator(request: Request, session: ReadSession, state: StateDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else None
    return authenticate(session, bearer, state.clock())  # the app's clock decides expiry


CurrentModerator = Annotated[Principal, Depends(current_moderator)]
