"""The retention job inside the server: a background thread started by the app's lifespan."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.clock import Clock
from service.db import Database
from service.privacy.retention import PurgeReport, RetentionPolicy, checkpoint, purge

log = logging.getLogger("margin.retention")


class RetentionScheduler:
    """Runs ``purge`` every ``interval`` seconds (first run after one interval) until stopped.
    Safe with several workers: each run is idempotent and PostgreSQL runs take a try-lock."""

    def __init__(
        self, db: Database, policy: RetentionPolicy, clock: Clock, *, interval: float
    ) -> None:
        self.db = db
        self.policy = policy
        self.clock = clock
        self.interval = interval
        self.runs = 0
        self.last_report: PurgeReport | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="margin-retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_once(self) -> PurgeReport:
        report = purge(self.db, self.policy, self.clock())
        if not report.skipped and _removed_anything(report):
            # What was purged leaves the WAL and the file now, not at SQLite's next automatic
            # checkpoint (which never truncates the WAL). ``margin purge`` also VACUUMs.
            checkpoint(self.db)
        self.last_report = report
        self.runs += 1
        return report

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # a failed run must not kill the schedule; the next one retries
                log.exception("retention run failed")


def _removed_anything(report: PurgeReport) -> bool:
    return bool(
        report.ips_cleared
        or report.comments_deleted
        or report.comments_emptied
        or report.idempotency_deleted
        or report.rate_events_deleted
    )


@asynccontextmanager
async def retention_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the retention schedule with the app, stop it on shutdown."""
    state = app.state.margin
    interval = state.settings.purge_interval_seconds
    scheduler: RetentionScheduler | None = None
    if interval > 0:
        scheduler = RetentionScheduler(
            state.db,
            RetentionPolicy.from_settings(state.settings),
            state.clock,
            interval=float(interval),
        )
        scheduler.start()
    app.state.retention = scheduler
    try:
        yield
    finally:
        if scheduler is not None:
            scheduler.stop()
