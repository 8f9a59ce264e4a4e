"""Answering a thread page request seen before, without routing it.

The most-read article's page is requested over and over with the same query string. Once the
route has validated a query string, this middleware answers the same request itself, through
the same ``pages.answer`` as the route: from the cache while nothing has been committed
(SQLite), else validated by the thread's version as usual. What it skips is FastAPI's routing,
parameter validation and dependency resolution, about half of such a request's CPU time.
Everything outside it (request id and log, security headers, CORS) still applies, and the
request is logged under the route's name. Any other request, and any error on this path, goes
on to the route unchanged (which then answers or reports the error as usual).
"""

from __future__ import annotations

import logging

from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from service.comments.pages import answer as answer_page
from service.state import AppState

log = logging.getLogger("margin.pages")

PREFIX = "/api/v1/sites/"
SUFFIX = "/comments"


class CachedPages:
    def __init__(self, app: ASGIApp, state: AppState, route: BaseRoute) -> None:
        self.app = app
        self.state = state
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._answer(scope) if scope["type"] == "http" else None
        if response is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        await response(scope, receive, send)

    async def _answer(self, scope: Scope) -> Response | None:
        path: str = scope["path"]
        if scope["method"] != "GET" or not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
            return None
        slug = path[len(PREFIX) : -len(SUFFIX)]
        params = self.state.pages.params_for(slug, scope["query_string"])
        if params is None:
            return None
        if_none_match = next(
            (value for name, value in scope["headers"] if name == b"if-none-match"), b""
        ).decode("latin-1")
        try:
            return await answer_page(self.state, slug, params, if_none_match)
        except Exception:
            # The route answers it again and reports the error with its handlers (a database
            # that is down answers 503 there); kept at debug so an outage is not logged twice.
            log.debug("thread page: answered by the route after an error", exc_info=True)
            return None
