"""Serving an unchanged thread page before routing (SQLite).

The most-read article's page is requested over and over with the same query string. Once the
full route has validated such a request and cached its page (service.comments.cache), this
middleware answers the same request, while nothing has been committed since, straight from
that cache: no routing, no parameter validation, no dependency resolution. Everything outside
it (request id and log, security headers, CORS) still applies, the answer is built by the
same function as the route's, and the route is named in the log and metrics as usual.
Anything else (a first request, another query string, a commit since, PostgreSQL) goes on
to the route unchanged.
"""

from __future__ import annotations

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from service.comments.cache import page_response
from service.state import AppState

PREFIX = "/api/v1/sites/"
SUFFIX = "/comments"


class CachedPages:
    def __init__(self, app: ASGIApp, state: AppState, route: BaseRoute) -> None:
        self.app = app
        self.state = state
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            if path.startswith(PREFIX) and path.endswith(SUFFIX):
                slug = path[len(PREFIX) : -len(SUFFIX)]
                data_version = self.state.db.data_version()
                if data_version is not None and "/" not in slug:
                    hit = self.state.pages.fresh_for_request(
                        slug, scope["query_string"], data_version
                    )
                    if hit is not None:
                        scope["route"] = self.route
                        if_none_match = next(
                            (v for k, v in scope["headers"] if k == b"if-none-match"), b""
                        ).decode("latin-1")
                        await page_response(hit[0], hit[1], if_none_match)(scope, receive, send)
                        return
        await self.app(scope, receive, send)
