"""Answering a request for a public thread page: from the cache when nothing changed, else
validated by the thread's version (ETag, 304) and rendered on a miss (service.comments.cache).
Used by the route and by the before-routing answer (service.comments.fastpath)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from service.comments import cache, reading
from service.comments.cache import PageParams
from service.comments.reading import Sort
from service.pgloop import LoopConnections
from service.state import AppState


async def answer(state: AppState, slug: str, params: PageParams, if_none_match: str) -> Response:
    """The page (or 304) for validated parameters. SQLite: a page validated at the current
    ``data_version`` (nothing committed since, by any worker) is answered on the event loop."""
    data_version = state.db.data_version()
    if data_version is not None:
        hit = state.pages.fresh((slug, params), data_version)
        if hit is not None:
            return cache.page_response(hit[0], hit[1], if_none_match)
    version: int | None = None
    if data_version is None and state.db.loop_reads is not None:
        checked = await _checked_on_loop(state, state.db.loop_reads, slug, params, if_none_match)
        if isinstance(checked, Response):
            return checked
        version = checked
    etag, body = await run_in_threadpool(
        _load_page, state, slug, params, data_version, if_none_match, version
    )
    return cache.page_response(etag, body, if_none_match)


async def _checked_on_loop(
    state: AppState,
    reads: LoopConnections,
    slug: str,
    params: PageParams,
    if_none_match: str,
) -> Response | int | None:
    """PostgreSQL: the thread's version asked on the event loop. The answer when the client
    holds that version or the page is cached under it; else the version, for the thread that
    renders the page (None: the site is not cached, the thread looks it all up)."""
    site = state.sites.cached(slug)
    if site is None or site.id is None:
        return None
    version = await cache.thread_version_on_loop(reads, site.id, params[0])
    etag = cache.etag_for(site.id, version, params)
    if etag in if_none_match:
        return cache.page_response(etag, None, if_none_match)
    body = state.pages.peek((site.id, version, params))
    return version if body is None else cache.page_response(etag, body, if_none_match)


def _load_page(
    state: AppState,
    slug: str,
    params: PageParams,
    data_version: int | None,
    if_none_match: str,
    version: int | None = None,
) -> tuple[str, bytes | None]:
    """Validate by thread version (``version``: already read on the event loop); render on a
    miss. None as the body: the client's is current."""
    site = state.sites.get(slug)
    assert site.id is not None
    thread, limit, cursor, sort, root = params
    with state.db.read() as session:
        if version is None:
            version = cache.thread_version(session, site.id, thread)
        etag = cache.etag_for(site.id, version, params)
        if etag in if_none_match:
            return etag, None

        def render() -> bytes:
            page = reading.list_thread(
                session, site, thread, limit=limit, cursor=cursor, sort=Sort(sort), root=root
            )
            return page.model_dump_json().encode()

        body = state.pages.get_or_render((site.id, version, params), render)
    if data_version is not None:
        # data_version was read before the version query: a commit in between only makes
        # the next request validate again.
        state.pages.remember((slug, params), data_version, etag, body)
    return etag, body
