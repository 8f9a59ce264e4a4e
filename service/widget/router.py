"""Serving the widget: the loader, content-hashed static files, the demo and no-JS pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from service.bounded import CursorQuery, Plain
from service.comments.inputs import LIMITS
from service.comments.reading import Sort, list_thread
from service.deps import CurrentSite, ReadSession, StateDep
from service.errors import NotFound
from service.widget import pages
from service.widget.assets import Asset, assets

router = APIRouter(tags=["widget"], include_in_schema=False)

IMMUTABLE = "public, max-age=31536000, immutable"
# The loader is the only URL publishers paste; it stays short-lived so a release reaches
# readers within minutes while the hashed files it points to are cached for a year.
LOADER_CACHE = "public, max-age=300, stale-while-revalidate=3600"
PAGE_SIZE = 50


def _send(request: Request, asset: Asset, cache_control: str) -> Response:
    headers = {
        "Cache-Control": cache_control,
        "Vary": "Accept-Encoding",
        # Embedded on other origins, also under Cross-Origin-Embedder-Policy.
        "Cross-Origin-Resource-Policy": "cross-origin",
        # Public files; the widget fetches its language files from the publisher's page.
        "Access-Control-Allow-Origin": "*",
        "ETag": f'"{asset.name}"',
    }
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.api_route("/embed.js", methods=["GET", "HEAD"])
def embed_loader(request: Request) -> Response:
    """The tag publishers paste: loads the current content-hashed widget."""
    return _send(request, assets().loader, LOADER_CACHE)


@router.api_route("/static/{name}", methods=["GET", "HEAD"])
def static_file(request: Request, name: str) -> Response:
    """Content-hashed files: the URL changes whenever the content does."""
    asset = assets().by_name().get(name)
    if asset is None:
        raise NotFound("no such file")
    return _send(request, asset, IMMUTABLE)


def _html(body: str, csp: str, cache_control: str = "no-cache") -> Response:
    return Response(
        body,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": csp, "Cache-Control": cache_control},
    )


@router.get("/", include_in_schema=False)
def home(state: StateDep) -> Response:
    """With the demo on (``make run``), the front page is the demo article."""
    if state.settings.demo:
        return RedirectResponse("/demo", status_code=307)
    raise NotFound("nothing here: Margin serves /embed.js and /api/v1")


@router.get("/demo")
def demo() -> Response:
    """A news article with the widget under it: the whole product on one page."""
    return _html(pages.demo_page(), pages.PAGE_CSP)


@router.get("/sites/{site}/origin-check")
def origin_check(
    state: StateDep,
    site: Annotated[str, Path(min_length=1, max_length=64)],
    origin: Annotated[str, Query(min_length=1, max_length=300)],
) -> Response:
    """Whether a page's origin may use a site: asked by the widget only after a request to
    the API failed, so it can tell the publisher which origin to register instead of failing
    silently. Open to every origin (the API itself answers an unregistered origin without CORS
    headers, which a page cannot tell from a network failure); it reveals no more than a CORS
    preflight does."""
    found = state.sites.find(site)
    wanted = origin.rstrip("/").lower()
    body = {
        "site": site,
        "site_exists": found is not None,
        "origin": wanted,
        "allowed": found is not None and wanted in found.allowed_origins,
    }
    return JSONResponse(
        body,
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"},
    )


@router.get("/sites/{site}/threads")
def thread_html(
    site: CurrentSite,
    session: ReadSession,
    thread: Annotated[Plain, Query(min_length=1, max_length=LIMITS["thread"])],
    cursor: CursorQuery = None,
    sort: Sort = Sort.OLDEST,
) -> Response:
    """The thread as plain HTML for readers without JavaScript, text browsers and search
    engines; paged with ordinary links."""
    page = list_thread(session, site, thread, limit=PAGE_SIZE, cursor=cursor, sort=sort)
    body = pages.thread_page(
        site.name, site.slug, page, sort=sort.value, origins=site.allowed_origins
    )
    return _html(body, pages.THREAD_CSP, "public, max-age=60")
