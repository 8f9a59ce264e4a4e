"""Posting a comment without routing it.

``POST /api/v1/sites/{site}/comments`` is the one write that arrives in volume. For a site in
the site cache, this middleware does what the route does, with the route's own parts: the same
dependency functions (``checked_write_site``, ``write_context``), the same request model
(``CommentCreate``, validated from the parsed JSON as FastAPI does), the same posting code
(``service.comments.posting``), the same response. What it skips is FastAPI's routing,
dependency resolution and request-body machinery, and on SQLite the request thread too
(``posting.create_on_loop``).

Refusals (409, 429, 403, ...) are answered with the MarginError handler's own response. Any
other problem (a body that does not validate, a database error) hands the request, body
included, to the route, which then answers or reports it exactly as it always does: nothing
has been committed when that happens, so the route's attempt is the only one that counts.
Everything outside this middleware (request id and log, security headers, CORS, the size
limit) applies as usual, and the request is logged under the route's name.
"""

from __future__ import annotations

import json
import logging
import re

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from service.comments import posting
from service.comments.fastpath import PREFIX, SUFFIX
from service.comments.inputs import CommentCreate
from service.comments.models import CommentCreated
from service.comments.router import created_response
from service.comments.writing import WriteContext
from service.deps import SLUG_MAX_LENGTH, SLUG_PATTERN, checked_write_site, write_context
from service.errors import MarginError, refusal_response
from service.middleware import replay_body
from service.sites.models import Site
from service.state import AppState

log = logging.getLogger("margin.posting")

# The route's SiteSlug: anything else is the route's to refuse.
_SLUG = re.compile(SLUG_PATTERN)


class FastPosts:
    def __init__(self, app: ASGIApp, state: AppState, route: BaseRoute) -> None:
        self.app = app
        self.state = state
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        site = self._site(scope) if scope["type"] == "http" else None
        if site is None:
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        if not complete:
            return  # the client went away: nobody to answer, nothing to store
        response = await self._answer(scope, site, body)
        if response is None:
            await self.app(scope, replay_body(body, receive), send)
            return
        scope["route"] = self.route
        await response(scope, receive, send)

    def _site(self, scope: Scope) -> Site | None:
        path: str = scope["path"]
        if scope["method"] != "POST" or not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
            return None
        slug = path[len(PREFIX) : -len(SUFFIX)]
        valid = len(slug) <= SLUG_MAX_LENGTH and _SLUG.fullmatch(slug)
        return self.state.sites.cached(slug) if valid else None

    async def _answer(self, scope: Scope, site: Site, body: bytes) -> Response | None:
        request = Request(scope)
        try:
            site = await checked_write_site(request, site)
            ctx = await write_context(request, self.state)
            data = CommentCreate.model_validate(json.loads(body))
        except MarginError as refused:
            return refusal_response(refused)
        except Exception:
            return None  # not valid: the route answers with its 400/422
        try:
            if self.state.committer is not None and self.state.db.reads_on_loop:
                created = await posting.create_on_loop(self.state, site, data, ctx)
            elif self.state.db.loop_reads is not None:
                created = await posting.create_on_loop_postgres(self.state, site, data, ctx)
            else:
                created = await run_in_threadpool(self._create, site, data, ctx)
        except MarginError as refused:
            return refusal_response(refused)
        except Exception:
            # Nothing was committed: the route tries once more and reports the error with its
            # handlers (a database that is down answers 503 there); debug, not logged twice.
            log.debug("new comment: answered by the route after an error", exc_info=True)
            return None
        return created_response(created)

    def _create(self, site: Site, data: CommentCreate, ctx: WriteContext) -> CommentCreated:
        with self.state.db.read() as reader:
            return posting.create(self.state, site, data, reader, ctx)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole body, and False if the client went away first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True
