"""What the app holds for its lifetime: settings, database, keys, clock, and a small site cache."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlmodel import select

from service.clock import Clock
from service.comments.cache import PageCache
from service.db import Database
from service.errors import NotFound
from service.groupcommit import GroupCommit
from service.privacy.crypto import Vault
from service.review.learning import SpamLearner
from service.settings import Settings
from service.sites.models import Site

SITE_CACHE_SECONDS = 5.0


@dataclass
class SiteCache:
    """Sites change rarely and are read on every request; a few seconds of staleness across
    workers is the price of not querying for them each time."""

    db: Database
    ttl: float = SITE_CACHE_SECONDS
    _entries: dict[str, tuple[float, Site | None]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def find(self, slug: str) -> Site | None:
        now = time.monotonic()
        hit = self._entries.get(slug)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self.db.read() as session:
            site = session.exec(select(Site).where(Site.slug == slug)).first()
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[slug] = (now + self.ttl, site)
        return site

    def cached(self, slug: str) -> Site | None:
        """The site if it is cached and fresh (no database access); None otherwise, also for
        a cached "no such site", so that the caller's ``get`` raises the 404."""
        hit = self._entries.get(slug)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def get(self, slug: str) -> Site:
        site = self.find(slug)
        if site is None:
            raise NotFound(f"no site {slug!r}")
        return site

    def forget(self, slug: str) -> None:
        with self._lock:
            self._entries.pop(slug, None)


@dataclass
class AppState:
    settings: Settings
    db: Database
    vault: Vault
    clock: Clock
    sites: SiteCache
    learner: SpamLearner | None = None
    # SQLite only: new comments share transactions and fsyncs (service.groupcommit).
    committer: GroupCommit | None = None
    pages: PageCache = field(default_factory=PageCache)
