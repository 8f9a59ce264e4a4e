"""ASGI middleware: the client's address behind a proxy, body-size limit, per-site CORS,
security headers.

Written as plain ASGI (not BaseHTTPMiddleware) so streaming and exceptions behave normally.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from anyio import to_thread
from prometheus_client import Counter
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from service.state import SiteCache

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_SITE_PATH = re.compile(r"^/api/v1/sites/([a-z0-9][a-z0-9-]{0,63})(/|$)")


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


FORWARDED_UNUSABLE = Counter(
    "margin_forwarded_for_unusable_total",
    "Requests from a trusted proxy whose X-Forwarded-For held no IP address for the client"
    " (counted under the proxy's own address instead).",
)
_PEER = "margin.peer"
log = logging.getLogger("margin.http")


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class _Throttled:
    """Warn about a misconfigured proxy at most once a minute per worker, with a count."""

    def __init__(self, every_seconds: float = 60.0) -> None:
        self.every = every_seconds
        self.lock = threading.Lock()
        self.last = -every_seconds
        self.missed = 0

    def warn(self, message: str) -> None:
        with self.lock:
            now = time.monotonic()
            self.missed += 1
            if now - self.last < self.every:
                return
            count, self.missed, self.last = self.missed, 0, now
        log.warning("%s (%d request(s) since the last warning)", message, count)


class ForwardedClient:
    """The client's address behind a trusted reverse proxy.

    The address is uvicorn's choice (its ProxyHeadersMiddleware runs here, in the app, rather
    than in the server: ``margin serve`` turns the server's own off): the right-most
    X-Forwarded-For entry that is not itself a trusted proxy, and only when the connection
    comes from one (``MARGIN_FORWARDED_ALLOW_IPS``); anyone else's header is ignored. What
    uvicorn does not check is that the entry is an address at all: a proxy that writes
    ``unknown`` (RFC 7239's word for a hidden client, Squid's ``forwarded_for off``) or any
    other text made that text the client, which has no network prefix, so the IP flood limit
    was skipped and every such client shared one flag and one rate key. Here such an entry
    never becomes the client: the request keeps the proxy's own address, as nginx's realip
    module and Apache's mod_remoteip do with a value they cannot parse. The IP limit then
    counts those requests under the proxy's address (stricter, never skipped), and the
    misconfiguration is reported: a warning in the log (at most once a minute, no header
    value) and ``margin_forwarded_for_unusable_total``. When the proxy itself has no IP
    address (a Unix socket), or the server already replaced the client with such a value
    before the app saw it, the request is refused with 400: there is no address to fall back on.
    """

    def __init__(self, app: ASGIApp, trusted: str) -> None:
        self.app = app
        self.proxy_headers = ProxyHeadersMiddleware(self._resolved, trusted_hosts=trusted)  # type: ignore[arg-type]
        self.warning = _Throttled()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[_PEER] = scope.get("client")
        await self.proxy_headers(scope, receive, send)  # type: ignore[arg-type]

    async def _resolved(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.pop(_PEER, None)
        client = scope.get("client")
        host = client[0] if client else None
        if host is not None and not is_ip_address(host):
            forwarded = any(name == b"x-forwarded-for" for name, _ in scope["headers"])
            if client is not peer and peer is not None and is_ip_address(peer[0]):
                # The trusted proxy's X-Forwarded-For named no address: keep the proxy's own.
                scope["client"] = peer
                FORWARDED_UNUSABLE.inc()
                self.warning.warn(
                    "X-Forwarded-For from a trusted proxy holds no IP address for the client;"
                    " counting those requests under the proxy's own address (fix the proxy's"
                    " configuration)"
                )
            elif client is not peer or forwarded:
                await _send_json(
                    send,
                    400,
                    {
                        "error": {
                            "code": "bad_forwarded_for",
                            "message": "X-Forwarded-For does not give the client's IP address",
                        }
                    },
                    [(b"connection", b"close")],
                )
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """Answers 413 before the app parses anything: checks Content-Length, then counts the
    bytes actually received (a chunked or lying body is caught too)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        too_large = {
            "error": {
                "code": "too_large",
                "message": f"request body is over {self.max_bytes} bytes",
            }
        }
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max_bytes + 1
                if declared > self.max_bytes:
                    await _send_json(send, 413, too_large, [(b"connection", b"close")])
                    return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _send_json(send, 413, too_large, [(b"connection", b"close")])
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, replay_body(b"".join(chunks), receive), send)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the app ``body`` (already read) first, then the rest."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class SiteCORS:
    """CORS for the public API, answered only for the site's registered origins. Moderator and
    other routes get no CORS headers at all."""

    ALLOW_HEADERS = b"Content-Type, X-Edit-Token, Idempotency-Key"
    ALLOW_METHODS = b"GET, POST, PATCH, DELETE"

    def __init__(self, app: ASGIApp, sites: SiteCache) -> None:
        self.app = app
        self.sites = sites

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        match = _SITE_PATH.match(scope["path"])
        origin = next((v for k, v in scope["headers"] if k == b"origin"), None)
        if match is None or origin is None:
            await self.app(scope, receive, send)
            return
        slug = match.group(1)
        # A cached site needs no thread hop; a miss queries the database on a thread.
        site = self.sites.cached(slug) or await to_thread.run_sync(self.sites.find, slug)
        allowed = (
            site is not None
            and origin.decode("latin-1").rstrip("/").lower() in site.allowed_origins
        )
        vary = [(b"vary", b"Origin")]
        if scope["method"] == "OPTIONS":
            if not allowed:
                await _send_json(
                    send,
                    403,
                    {"error": {"code": "forbidden", "message": "origin not allowed"}},
                    vary,
                )
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        (b"access-control-allow-origin", origin),
                        (b"access-control-allow-methods", self.ALLOW_METHODS),
                        (b"access-control-allow-headers", self.ALLOW_HEADERS),
                        (b"access-control-max-age", b"600"),
                        *vary,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(vary)
                if allowed:
                    headers.append((b"access-control-allow-origin", origin))
                    headers.append((b"access-control-expose-headers", b"Retry-After"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cors)


class SecurityHeaders:
    """Defensive headers on every response; moderator answers are never stored by caches."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        private = path.startswith("/api/v1/moderation")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"strict-origin-when-cross-origin"))
                if b"content-security-policy" not in names:
                    headers.append(
                        (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
                    )
                if private:
                    headers.append((b"cache-control", b"no-store"))
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
