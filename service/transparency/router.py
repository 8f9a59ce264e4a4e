"""Public transparency report per site, as JSON and as a plain HTML page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse

from service.deps import CurrentSite, ReadSession, StateDep
from service.transparency.models import TransparencyReport
from service.transparency.service import build_report, render_html

router = APIRouter(prefix="/api/v1/sites/{site}", tags=["transparency"])
# The page readers are linked to (from the no-JavaScript thread page and the demo), beside
# /sites/{site}/threads; the /api/v1 address stays for existing links.
page_router = APIRouter(prefix="/sites/{site}", tags=["transparency"], include_in_schema=False)
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

Months = Annotated[int, Query(ge=1, le=36)]
CACHE = "public, max-age=300"


@router.get("/transparency")
def transparency(
    site: CurrentSite,
    session: ReadSession,
    state: StateDep,
    response: Response,
    months: Months = 12,
) -> TransparencyReport:
    """Monthly counts of comments received, published, held and removed (by reason, automatic
    or human), and of accesses to personal data by category. No personal data."""
    response.headers["Cache-Control"] = CACHE
    return build_report(session, site, now=state.clock(), months=months)


@router.get("/transparency.html", response_class=HTMLResponse)
def transparency_page(
    site: CurrentSite, session: ReadSession, state: StateDep, months: Months = 12
) -> HTMLResponse:
    """The same report as a plain HTML page."""
    report = build_report(session, site, now=state.clock(), months=months)
    return HTMLResponse(
        render_html(report), headers={"Cache-Control": CACHE, "Content-Security-Policy": PAGE_CSP}
    )


@page_router.get("/transparency", response_class=HTMLResponse)
def transparency_short(
    site: CurrentSite, session: ReadSession, state: StateDep, months: Months = 12
) -> HTMLResponse:
    """The report page at a short address."""
    return transparency_page(site, session, state, months)
