"""The API reference at ``/docs``: Swagger UI served from Margin's own files.

FastAPI's default page loads Swagger UI from a CDN and starts it with an inline script; under
Margin's ``default-src 'none'`` policy that page stays blank, and it would fail offline anyway.
Here the page, its start-up script and Swagger UI's files (vendored in ``static/``, Apache-2.0,
licence beside them) all come from Margin, under a policy that allows exactly them: scripts and
styles from this origin only, no inline script, no other host.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request, Response

from service.errors import NotFound

STATIC = Path(__file__).parent / "static"

# Swagger UI sets element styles through the DOM (allowed without 'unsafe-inline'), fetches the
# OpenAPI document and "Try it out" requests from this origin, and draws icons as data: images.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
CACHE = "public, max-age=3600"

_MEDIA = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".LICENSE": "text/plain; charset=utf-8",
    ".NOTICE": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Margin API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
</head>
<body>
<noscript>The API reference needs JavaScript; the same description is at
<a href="{openapi}">{openapi}</a> (OpenAPI JSON).</noscript>
<div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/static/init.js" data-openapi="{openapi}"></script>
</body>
</html>
"""

# Started from a file (no inline script); the OpenAPI address arrives in a data attribute.
INIT_JS = """(function () {
  var url = document.currentScript.getAttribute("data-openapi");
  window.ui = SwaggerUIBundle({
    url: url,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
"""


@dataclass(frozen=True)
class _File:
    media_type: str
    body: bytes
    gzipped: bytes


# The files served, by name: nothing else under static/ (or anywhere) can be asked for, and
# an unknown name is never cached.
FILES = frozenset(
    {
        "init.js",
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "swagger-ui.LICENSE",
        "swagger-ui.NOTICE",
        "swagger-ui-bundle.js.LICENSE.txt",
    }
)


def _file(name: str) -> _File | None:
    return _load(name) if name in FILES else None


@cache
def _load(name: str) -> _File:
    """Read (and compress) each file once per process, on first request."""
    body = INIT_JS.encode() if name == "init.js" else (STATIC / name).read_bytes()
    media = _MEDIA.get(Path(name).suffix, "application/octet-stream")
    return _File(media, body, gzip.compress(body, compresslevel=6, mtime=0))


def docs_router(openapi_url: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    def docs_page() -> Response:
        return Response(
            PAGE.format(openapi=openapi_url),
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache"},
        )

    @router.api_route("/docs/static/{name}", methods=["GET", "HEAD"])
    def docs_file(request: Request, name: str) -> Response:
        found = _file(name)
        if found is None:
            raise NotFound("no such file")
        headers = {"Cache-Control": CACHE, "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            headers["Content-Encoding"] = "gzip"
            return Response(found.gzipped, media_type=found.media_type, headers=headers)
        return Response(found.body, media_type=found.media_type, headers=headers)

    return router
