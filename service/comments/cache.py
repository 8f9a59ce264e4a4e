"""The read cache for public thread pages.

Every change a reader can see bumps ``threads.version`` in the same transaction. A page is
cached (per worker, as ready-to-send JSON bytes) under its thread's version, and each request
checks the version with one indexed query, so every worker serves fresh pages without talking
to the others. The same version is the ETag: a client or CDN holding the page gets a 304.

On SQLite a cheaper check comes first: ``PRAGMA data_version`` (service.db.DataVersion) changes
on every commit by any connection of any worker. A page validated while it had the same value
is served without a query and without leaving the event loop (nothing was committed since, so
nothing can be stale). Any commit anywhere sends the next request back to the version query.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from sqlmodel import Session
from starlette import status
from starlette.responses import Response

from service.comments.store import Sql
from service.pgloop import LoopConnections

# thread key, limit, cursor, sort, root: a page request's validated parameters
PageParams = tuple[str, int, str | None, str, int | None]

CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"
# Rendered pages kept per worker, by bytes (each of the two maps below; they mostly share the
# same body objects).
MAX_BYTES = 24 * 1024 * 1024


class PageCache:
    """A small thread-safe LRU of rendered pages, bounded by count and by bytes (a worker's
    memory must not grow with the number of threads read)."""

    def __init__(self, max_entries: int = 4096, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        # (site slug, params) -> (data version it was validated at, ETag, body): SQLite only.
        self._fresh: OrderedDict[Hashable, tuple[int, str, bytes]] = OrderedDict()
        self._fresh_bytes = 0
        # (site slug, raw query string) -> the parameters the route validated it into: lets
        # service.comments.fastpath answer a request it has seen before without routing it.
        self._requests: OrderedDict[tuple[str, bytes], PageParams] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: Hashable) -> bytes | None:
        """The page rendered under ``key``, if it is still kept."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
            return hit

    def get_or_render(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit
        body = render()  # outside the lock: two workers' threads may render once each
        with self._lock:
            old = self._entries.pop(key, None)
            self._bytes += len(body) - (len(old) if old is not None else 0)
            self._entries[key] = body
            while self._entries and (
                len(self._entries) > self.max_entries or self._bytes > self.max_bytes
            ):
                self._bytes -= len(self._entries.popitem(last=False)[1])
        return body

    def fresh(self, key: Hashable, data_version: int) -> tuple[str, bytes] | None:
        """The page validated at exactly this data version (nothing committed since), if any."""
        with self._lock:
            hit = self._fresh.get(key)
            if hit is None or hit[0] != data_version:
                return None
            self._fresh.move_to_end(key)
            return hit[1], hit[2]

    def params_for(self, slug: str, query: bytes) -> PageParams | None:
        """The parameters this raw query string was validated into before (see :meth:`learn`)."""
        return self._requests.get((slug, query))

    def learn(self, slug: str, query: bytes, params: PageParams) -> None:
        """Record what a request's query string was validated into. The mapping never goes
        stale: it depends on nothing but the strings."""
        request = (slug, query)
        if request in self._requests:
            return
        with self._lock:
            self._requests[request] = params
            while len(self._requests) > self.max_entries:
                self._requests.popitem(last=False)

    def remember(self, key: Hashable, data_version: int, etag: str, body: bytes) -> None:
        with self._lock:
            old = self._fresh.pop(key, None)
            self._fresh_bytes += len(body) - (len(old[2]) if old is not None else 0)
            self._fresh[key] = (data_version, etag, body)
            while self._fresh and (
                len(self._fresh) > self.max_entries or self._fresh_bytes > self.max_bytes
            ):
                self._fresh_bytes -= len(self._fresh.popitem(last=False)[1][2])

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._fresh.clear()
            self._requests.clear()
            self._bytes = self._fresh_bytes = 0


def page_response(etag: str, body: bytes | None, if_none_match: str) -> Response:
    """A thread page, or 304 when the client holds this version (None: known to be current)."""
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if body is None or etag in if_none_match:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)


def thread_version(session: Session, site_id: int, key: str) -> int:
    """The thread's version (-1: no such thread yet), in plain SQL: through the ORM this one
    indexed look-up cost several times the query (service.comments.store). On PostgreSQL the
    page requests ask it on the event loop instead (``thread_version_on_loop``)."""
    row = Sql(session).one(
        "SELECT version FROM threads WHERE site_id = :site_id AND key = :key",
        {"site_id": site_id, "key": key},
    )
    return -1 if row is None else int(row[0])


async def thread_version_on_loop(reads: LoopConnections, site_id: int, key: str) -> int:
    """``thread_version`` on PostgreSQL in one round trip, without leaving the event loop."""
    row = await reads.one(
        "SELECT version FROM threads WHERE site_id = %(site_id)s AND key = %(key)s",
        {"site_id": site_id, "key": key},
    )
    return -1 if row is None else int(row[0])


def etag_for(site_id: int, version: int, params: tuple[object, ...]) -> str:
    digest = hashlib.blake2s(repr((site_id, params)).encode(), digest_size=8).hexdigest()
    return f'"{version}-{digest}"'
