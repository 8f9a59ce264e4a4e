"""Metrics and logs that say how the service is doing without saying anything about anyone.

Logs are JSON lines with a request id; they never carry an IP, an email, a token or a query
string (uvicorn's access log, which has all of those, is switched off). Metrics are Prometheus,
labelled by route template, never by anything a reader typed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Iterable
from typing import Any

from fastapi import Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from pydantic import SecretStr
from sqlalchemy import func
from sqlmodel import col, select

from service.comments.models import Comment, CommentStatus
from service.db import Database
from service.errors import Forbidden, Unauthorized
from service.middleware import FORWARDED_UNUSABLE, ASGIApp, Message, Receive, Scope, Send
from service.sites.models import Site

log = logging.getLogger("margin.http")

REQUEST_SECONDS = Histogram(
    "margin_http_request_duration_seconds",
    "Time to answer a request, by route template.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
COMMENTS = Counter(
    "margin_comments_total", "Comments received, by the automatic decision.", ["decision"]
)
DECISIONS = Counter(
    "margin_moderator_decisions_total", "Moderator decisions, by action.", ["action"]
)
CLASSIFIER_SECONDS = Histogram(
    "margin_spam_filter_seconds",
    "Time the learned spam filter took per comment.",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25),
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class QueueDepth:
    """Pending comments per site, read from the database at scrape time (exact across workers)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterable[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "margin_queue_depth", "Comments waiting for a moderator, per site.", labels=["site"]
        )
        try:
            with self.db.read() as session:
                slugs = dict(session.exec(select(Site.id, Site.slug)).all())
                pending = dict(
                    session.exec(
                        select(Comment.site_id, func.count())
                        .where(Comment.status == CommentStatus.PENDING)
                        .group_by(col(Comment.site_id))
                    ).all()
                )
        except Exception:
            return [gauge]
        for site_id, slug in sorted(slugs.items(), key=lambda item: item[1]):
            gauge.add_metric([slug], pending.get(site_id or 0, 0))
        return [gauge]


# The histogram's child per (method, route template, status): ``labels()`` builds and checks
# its key on every call, which was 8 % of the CPU of a cached page answer. The set is small
# (route templates, not paths); past the bound, labels() is simply called each time.
_TIMERS: dict[tuple[str, str, int], Any] = {}
_TIMERS_MAX = 2048


def _request_timer(method: str, route: str, status: int) -> Any:
    key = (method, route, status)
    timer = _TIMERS.get(key)
    if timer is None:
        timer = REQUEST_SECONDS.labels(method, route, str(status))
        if len(_TIMERS) < _TIMERS_MAX:
            _TIMERS[key] = timer
    return timer


_OWN_METRICS = (REQUEST_SECONDS, COMMENTS, DECISIONS, CLASSIFIER_SECONDS, FORWARDED_UNUSABLE)


def metrics_payload(db: Database) -> tuple[bytes, str]:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for collector in _OWN_METRICS:
            registry.register(collector)
    registry.register(QueueDepth(db))
    return generate_latest(registry), CONTENT_TYPE_LATEST


# Headers a reverse proxy adds: a request carrying one came through a proxy, whatever the
# address of the connection says.
_PROXY_HEADERS = frozenset({b"x-forwarded-for", b"forwarded", b"x-real-ip"})


def _digest(value: str) -> bytes:
    # Both sides hashed first: compare_digest then always compares 32 bytes (str arguments
    # raise TypeError on non-ASCII input, which a header may well hold).
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def _direct_loopback(request: Request) -> bool:
    if any(name in _PROXY_HEADERS for name, _ in request.scope["headers"]):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_metrics_access(request: Request, token: SecretStr | None) -> None:
    """Who may read ``/metrics``. Metrics say how busy each site is, how many comments wait,
    which routes fail: not for the public (issue 19). With ``MARGIN_METRICS_TOKEN`` set, a
    scraper sends it as a bearer token, from anywhere (401 otherwise). Unset, the safe default:
    only a direct connection from the machine itself (loopback, no proxy headers) is answered,
    which keeps ``curl localhost:8000/metrics`` and a local Prometheus working and publishes
    nothing through a reverse proxy on the same host (403)."""
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        expected = _digest(token.get_secret_value())
        if scheme.lower() != "bearer" or not hmac.compare_digest(_digest(given.strip()), expected):
            raise Unauthorized("metrics need the metrics token (MARGIN_METRICS_TOKEN)")
        return
    if not _direct_loopback(request):
        raise Forbidden(
            "metrics are answered on loopback connections only; set MARGIN_METRICS_TOKEN to"
            " scrape them from elsewhere"
        )


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Control characters in messages are escaped by json.dumps,
    so user text cannot forge log lines."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("request_id", "method", "route", "status", "duration_ms"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # One line per request: skip what the JSON lines never show (the calling frame, thread
    # and process names), as the logging HOWTO's "Optimization" section suggests. Each of
    # these walks frames or asks the OS on every record.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


class RequestLog:
    """Gives every request an id (kept from X-Request-ID when it looks like one), times it,
    logs one line and records the latency histogram by route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode(
            "latin-1"
        )
        request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            _request_timer(scope["method"], route, status).observe(elapsed)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
