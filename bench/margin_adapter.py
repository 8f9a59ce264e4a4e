"""commentbench adapter for Margin (``--adapter bench/margin_adapter.py:MarginAdapter``).

Loaded by ``../shared/bench/commentbench.py``, which injects itself as the module global
``commentbench`` before this file runs (see its ``load_adapter``).

Options (``--opt key=value``):
  site=bench          site slug (created beforehand with ``margin site create``)
  origin=URL          an allowed origin of the site (sent as ``Origin`` on writes)
  page=full|widget    full: a read fetches the WHOLE thread like Isso's ``GET /?uri=``
                      (pages of 100 top-level comments, following ``next_cursor``);
                      widget: a read is what the embed script asks first (20 top-level comments)
  moderation=0|1      1: comments are held; the approve phase uses the moderator API
  token=TOKEN         moderator token (moderation=1 only)

Article ``art`` is the thread key ``/articles/a-<art>/`` (the same URIs as the Isso adapter).
"""

from __future__ import annotations

import json
import sys
import urllib.parse
from typing import Any

import httpx

cb: Any = (
    globals().get("commentbench") or sys.modules.get("commentbench") or sys.modules["__main__"]
)

FULL_PAGE = 100  # the API's maximum page size
WIDGET_PAGE = 20  # service/widget/static/embed.js PAGE


def comments_path(site: str, art: int, limit: int, cursor: str | None = None) -> str:
    query = {"thread": f"/articles/a-{art}/", "limit": str(limit)}
    if cursor:
        query["cursor"] = cursor
    return f"/api/v1/sites/{site}/comments?" + urllib.parse.urlencode(query, safe="/")


class MarginAdapter(cb.Adapter):  # type: ignore[misc,name-defined]
    name = "margin"
    create_ok = {201}
    approve_ok = {200}

    def __init__(self, opts: dict[str, str]) -> None:
        super().__init__(opts)
        self.site = opts.get("site", "bench")
        self.origin = opts.get("origin", "http://127.0.0.1:8000")
        self.base = opts.get("base", self.origin)
        self.page = opts.get("page", "full")
        self.needs_approval = opts.get("moderation", "0") in ("1", "true", "on")
        self.token = opts.get("token", "")
        self.expected: dict[int, int] = {}  # filled by commentbench after seeding
        self._pages: dict[int, list[Any]] = {}

    async def setup(self, client: httpx.AsyncClient, n_articles: int) -> None:  # noqa: ARG002
        self.base = str(client.base_url).rstrip("/")

    def create(self, art: int, i: int) -> Any:
        body = {
            "thread": f"/articles/a-{art}/",
            "author_name": f"Bench User {i % 97}",
            "email": f"u{i % 97}@example.invalid",
            "body": cb.comment_text(art, i),
            "thread_title": f"Article {art}",
        }
        headers = {"content-type": "application/json", "origin": self.origin}
        return cb.Req(
            "POST", f"/api/v1/sites/{self.site}/comments", headers, json.dumps(body).encode()
        )

    def thread(self, art: int) -> Any:
        if self.page == "widget":
            return cb.Req("GET", comments_path(self.site, art, WIDGET_PAGE))
        if self.expected.get(art, 1) <= FULL_PAGE:
            return cb.Req("GET", comments_path(self.site, art, FULL_PAGE))
        pages = self._pages.get(art)
        if pages is None:
            # Cursors are opaque: learn the page chain once (untimed, during validation).
            pages, cursor = [], None
            with httpx.Client(base_url=self.base, trust_env=False, timeout=30) as client:
                while True:
                    path = comments_path(self.site, art, FULL_PAGE, cursor)
                    pages.append(cb.Req("GET", path))
                    cursor = client.get(path).json().get("next_cursor")
                    if not cursor:
                        break
            self._pages[art] = pages
        return pages

    def count(self, status: int, body: bytes) -> int:  # noqa: ARG002
        return len(json.loads(body)["comments"])

    def created_id(self, resp: httpx.Response) -> Any:
        try:
            return resp.json()["id"]
        except Exception:
            return None

    def approve(self, cid: Any) -> Any:
        headers = {"content-type": "application/json", "authorization": f"Bearer {self.token}"}
        body = json.dumps({"action": "approve", "reason": "bench"}).encode()
        return cb.Req("POST", f"/api/v1/moderation/comments/{int(cid)}/decision", headers, body)
