"""The application factory. Everything the app needs arrives through ``Settings``."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute

from service import __version__
from service.apidocs import docs_router
from service.apidocs.errors import document_errors
from service.clock import Clock, system_clock
from service.comments.fastpath import CachedPages
from service.comments.router import list_comments
from service.comments.router import router as comments_router
from service.db import Database
from service.errors import install_error_handlers
from service.groupcommit import GroupCommit
from service.health import router as health_router
from service.memory import limit_malloc_arenas, release_free_memory
from service.middleware import BodyLimit, ForwardedClient, SecurityHeaders, SiteCORS
from service.moderators.router import router as admin_router
from service.observability import RequestLog
from service.privacy.crypto import Vault
from service.privacy.keys import load_or_create_keyring
from service.privacy.router import moderation_router as privacy_moderation_router
from service.privacy.router import public_router as privacy_public_router
from service.privacy.scheduler import retention_lifespan
from service.review.learning import SpamLearner
from service.review.router import router as review_router
from service.settings import Settings
from service.spam import SpamModel, load_model
from service.spam.cli import DEFAULT_MODEL
from service.state import AppState, SiteCache
from service.transparency.router import page_router as transparency_page_router
from service.transparency.router import router as transparency_router
from service.widget.router import router as widget_router

log = logging.getLogger("margin")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Size the worker's thread pool (per event loop), then run the retention schedule."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = app.state.margin.settings.request_threads
    async with retention_lifespan(app):
        yield


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """Build the ASGI app. Keys are loaded here, so a missing or broken key file fails at
    start-up rather than at the first comment."""
    keyring = load_or_create_keyring(settings.key_file, create=not settings.is_production)
    learner = SpamLearner(spam_model(settings.spam_model)) if settings.spam_enabled else None
    db = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
    sites = SiteCache(db)
    app = FastAPI(
        title="Margin",
        version=__version__,
        summary="Comments under articles, with private emails and explainable moderation.",
        # /docs is Margin's own page (service.apidocs): FastAPI's loads Swagger UI from a CDN.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.show_docs else None,
        lifespan=_lifespan,
    )
    app.state.margin = AppState(
        settings=settings,
        db=db,
        vault=Vault(keyring, key_file=settings.key_file),
        clock=clock or system_clock,
        sites=sites,
        learner=learner,
        committer=GroupCommit(db) if db.is_sqlite else None,
    )
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(comments_router)
    app.include_router(review_router)
    app.include_router(admin_router)
    app.include_router(widget_router)
    app.include_router(privacy_moderation_router)
    app.include_router(privacy_public_router)
    app.include_router(transparency_router)
    app.include_router(transparency_page_router)
    if settings.show_docs:
        app.include_router(docs_router("/openapi.json"))
    document_errors(app)
    # Outermost last: the request log, headers on everything, then CORS, then the size limit,
    # and innermost the unchanged-page answer (it needs all of the others' work).
    app.add_middleware(
        CachedPages, state=app.state.margin, route=_route(comments_router, list_comments)
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(SiteCORS, sites=sites)
    app.add_middleware(SecurityHeaders, hsts=settings.is_production)
    app.add_middleware(RequestLog)
    # Outermost of all: every layer inside sees the client's address, never a proxy's text.
    app.add_middleware(ForwardedClient, trusted=settings.forwarded_allow_ips)
    return app


def _route(router: APIRouter, endpoint: Callable[..., object]) -> BaseRoute:
    return next(r for r in router.routes if getattr(r, "endpoint", None) is endpoint)


def spam_model(path: Path | None) -> SpamModel:
    """Load (and validate) the spam model at start-up: a missing or corrupt file stops the
    server here with a clear message, not at the first comment. Loaded once per process."""
    resolved = (path or DEFAULT_MODEL).resolve()
    stat = resolved.stat() if resolved.exists() else None
    return _load_cached(resolved, stat.st_mtime_ns if stat else 0)


@functools.lru_cache(maxsize=4)
def _load_cached(path: Path, _mtime_ns: int) -> SpamModel:
    return load_model(path, names=False)


def create_app_from_env() -> FastAPI:
    """Entry point for uvicorn workers (``--factory``)."""
    limit_malloc_arenas()  # before the request threads start
    settings = Settings()
    sys.setswitchinterval(settings.switch_interval_ms / 1000)
    app = create_app(settings)
    release_free_memory()  # what loading the spam model parsed and freed
    return app
