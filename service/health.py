"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service.deps import StateDep
from service.errors import DB_RETRY_AFTER_SECONDS
from service.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(state: StateDep) -> dict[str, str] | JSONResponse:
    """Ready to serve: database reachable, schema at the latest migration, keys loaded."""
    problems: list[str] = []
    try:
        with state.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        if current_revision(state.db.engine) != head_revision():
            problems.append("database schema is not at the latest migration")
    except Exception:
        problems.append("database is unreachable")
    if not state.vault.keyring.encryption_keys:
        problems.append("no encryption keys loaded")
    if problems:
        return JSONResponse(
            {"status": "unavailable", "problems": problems},
            status_code=503,
            headers={"Retry-After": str(DB_RETRY_AFTER_SECONDS)},
        )
    return {"status": "ready"}
