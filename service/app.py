"""The application factory. Everything the app needs arrives through ``Settings``."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from service import __version__
from service.clock import Clock, system_clock
from service.comments.router import router as comments_router
from service.db import Database
from service.errors import install_error_handlers
from service.health import router as health_router
from service.middleware import BodyLimit, SecurityHeaders, SiteCORS
from service.privacy.crypto import Vault
from service.privacy.keys import load_or_create_keyring
from service.review.router import router as review_router
from service.settings import Settings
from service.state import AppState, SiteCache

log = logging.getLogger("margin")


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """Build the ASGI app. Keys are loaded here, so a missing or broken key file fails at
    start-up rather than at the first comment."""
    keyring = load_or_create_keyring(settings.key_file, create=not settings.is_production)
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    sites = SiteCache(db)
    app = FastAPI(
        title="Margin",
        version=__version__,
        summary="Comments under articles, with private emails and explainable moderation.",
        docs_url="/docs" if settings.show_docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.show_docs else None,
    )
    app.state.margin = AppState(
        settings=settings, db=db, vault=Vault(keyring), clock=clock or system_clock, sites=sites
    )
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(comments_router)
    app.include_router(review_router)
    # Outermost first: headers on everything, then CORS, then the size limit.
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(SiteCORS, sites=sites)
    app.add_middleware(SecurityHeaders, hsts=settings.is_production)
    return app


def create_app_from_env() -> FastAPI:
    """Entry point for uvicorn workers (``--factory``)."""
    return create_app(Settings())
