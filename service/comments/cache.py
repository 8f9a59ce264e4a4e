"""The read cache for public thread pages.

Every change a reader can see bumps ``threads.version`` in the same transaction. A page is
cached (per worker, as ready-to-send JSON bytes) under its thread's version, and each request
checks the version with one indexed query, so every worker serves fresh pages without talking
to the others. The same version is the ETag: a client or CDN holding the page gets a 304.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from sqlmodel import Session, select

from service.comments.models import Thread

CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"


class PageCache:
    """A small thread-safe LRU of rendered pages."""

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit
        body = render()  # outside the lock: two workers' threads may render once each
        with self._lock:
            self._entries[key] = body
            if len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return body

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def thread_version(session: Session, site_id: int, key: str) -> int:
    version = session.exec(
        select(Thread.version).where(Thread.site_id == site_id, Thread.key == key)
    ).first()
    return -1 if version is None else version


def etag_for(site_id: int, version: int, params: tuple[object, ...]) -> str:
    digest = hashlib.blake2s(repr((site_id, params)).encode(), digest_size=8).hexdigest()
    return f'"{version}-{digest}"'
