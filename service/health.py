"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from service.deps import StateDep
from service.errors import DB_RETRY_AFTER_SECONDS
from service.observability import check_metrics_access, metrics_payload
from service.schema_version import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None, responses={503: {"description": "Not ready."}})
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


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, state: StateDep) -> Response:
    """Prometheus metrics: latency by route, decisions, queue depth, spam filter time. Only with
    the metrics token, or without one on a loopback connection (observability)."""
    check_metrics_access(request, state.settings.metrics_token)
    body, content_type = metrics_payload(state.db)
    return Response(content=body, media_type=content_type)
