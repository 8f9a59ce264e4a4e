"""Database engines and sessions: SQLite (the embedded default) and PostgreSQL (production).

SQLite gets WAL, ``synchronous=FULL`` (an acknowledged comment survives power loss), a busy
timeout and foreign keys on every connection. Writes open with ``BEGIN IMMEDIATE`` so two writers
queue on the lock instead of failing with "database is locked" when a deferred transaction
tries to upgrade.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, event, make_url
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

from service.pgloop import LoopConnections

# Explicit constraint names so later migrations can drop them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


SQLITE_PAGE_CACHE_KIB = 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, busy_timeout_ms: int = 10_000) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _begin below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # 1 MB of page cache per connection instead of SQLite's 2 MB: a worker keeps up to 17
    # connections, pages not cached here come from the OS page cache in microseconds, and hot
    # thread pages are served from the response cache without touching SQLite at all.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_PAGE_CACHE_KIB}")
    cursor.close()


# Connections kept open per engine and worker. Opening one (and its pragmas) costs more than
# a cached read, so readers keep enough for concurrent cache misses; but every connection also
# keeps its page cache (SQLITE_PAGE_CACHE_KIB), so not one per request thread (40 kept connections
# with 2 MB caches added ~85 MB to a worker under load). Writers have one connection (see
# WriterQueue).
# Overflow up to 40 connections: more than the default 16 request threads (Settings), so an
# operator who raises MARGIN_REQUEST_THREADS is not capped here first; docs/performance.md has
# the measurements.
SQLITE_READ_POOL = 16
SQLITE_MAX_CONNECTIONS = 40


class WriterQueue:
    """Writers take their turn in queues that wake the next one at once, before SQLite's lock.

    Only one writer at a time can hold SQLite's lock anyway; but a writer that finds it taken
    polls with sleeps of up to 100 ms (SQLite's busy handler), so sixteen waiting threads left
    the lock idle most of the time (62 posts/s, p99 3 s; docs/performance.md). Threads of one
    process queue for the process's single write connection (the pool wakes the next waiter
    when it is returned); processes (workers) then queue on an advisory ``flock`` of a file
    beside the database, polled every few hundred microseconds. The turn is held from the
    check-out of the write connection to its return, which is when its transaction has ended.
    Other programs (the CLI) still meet at SQLite's own lock, which stays the real guard.
    """

    def __init__(self, lock_path: str | None, timeout_s: float) -> None:
        self._timeout = timeout_s
        self._fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600) if lock_path else None

    def take(self) -> None:
        if self._fd is None:
            return
        deadline = time.monotonic() + self._timeout
        pause = 0.0002
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise PoolTimeoutError("writers of other workers held the database") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.002)

    def give(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _queue_writers(engine: Engine, queue: WriterQueue) -> None:
    @event.listens_for(engine, "checkout")
    def _take_turn(_dbapi: Any, record: Any, _proxy: Any) -> None:
        queue.take()
        record.info["write_turn"] = True

    @event.listens_for(engine, "checkin")
    def _end_turn(_dbapi: Any, record: Any) -> None:
        if record.info.pop("write_turn", False):
            queue.give()


def _sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or "mode=memory" in url:
        return None
    return database


def _make_engine(
    url: str,
    *,
    pool_size: int,
    immediate: bool,
    busy_timeout_ms: int,
    writers: WriterQueue | None = None,
) -> Engine:
    if url.startswith("sqlite"):
        # One write connection per process: its pool is the queue of the process's writers.
        kept = 1 if immediate else SQLITE_READ_POOL
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            pool_size=kept,
            max_overflow=0 if immediate else SQLITE_MAX_CONNECTIONS - kept,
            pool_timeout=busy_timeout_ms / 1000,
        )
        event.listen(
            engine,
            "connect",
            lambda conn, record: _sqlite_pragmas(conn, record, busy_timeout_ms),
        )

        if writers is not None:
            _queue_writers(engine, writers)
        begin_sql = "BEGIN IMMEDIATE" if immediate else "BEGIN"

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql(begin_sql)

        return engine
    # The same peak as pool_size + pool_size overflow, but every connection is kept: overflow
    # connections were closed on return and reopened by the next burst (a new backend each).
    return create_engine(
        url,
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        pool_timeout=5,
        connect_args={"connect_timeout": 5},
    )


class DataVersion:
    """SQLite's ``PRAGMA data_version`` on a connection of its own that never writes: the value
    changes whenever any other connection (any worker process) commits to the database file.
    While it is unchanged nothing at all was committed, so a page validated at that value is
    still current; the read cache uses it to skip the per-request version query. About 10 us.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def current(self) -> int | None:
        """The current value, or None when it cannot be read (then callers query as usual)."""
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = sqlite3.connect(
                        self._path, timeout=0, isolation_level=None, check_same_thread=False
                    )
                row = self._conn.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error:
                self._close()
                return None
            return int(row[0])

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._close()


class Database:
    """Owns the engines. Read sessions and write sessions differ only on SQLite."""

    def __init__(self, url: str, *, pool_size: int = 10, busy_timeout_ms: int = 10_000) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine = _make_engine(
            url, pool_size=pool_size, immediate=False, busy_timeout_ms=busy_timeout_ms
        )
        database = _sqlite_file(url) if self.is_sqlite else None
        lock_path = f"{database}-writers.lock" if database else None
        self.writers = WriterQueue(lock_path, busy_timeout_ms / 1000) if self.is_sqlite else None
        self.write_engine = (
            _make_engine(
                url,
                pool_size=pool_size,
                immediate=True,
                busy_timeout_ms=busy_timeout_ms,
                writers=self.writers,
            )
            if self.is_sqlite
            else self.engine
        )
        self.data_versions = DataVersion(database) if database else None
        # PostgreSQL: page requests read the thread's version on the event loop
        # (service.comments.pages); nothing else runs there.
        self.loop_reads = None if self.is_sqlite else LoopConnections(url, size=pool_size)
        self.busy_timeout_ms = busy_timeout_ms

    def data_version(self) -> int | None:
        """SQLite: a value that changes on every commit by any connection; else None."""
        return self.data_versions.current() if self.data_versions is not None else None

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with Session(self.write_engine, expire_on_commit=False) as session:
            yield session

    def dispose(self) -> None:
        if self.data_versions is not None:
            self.data_versions.close()
        self.engine.dispose()
        if self.loop_reads is not None:
            self.loop_reads.close()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()
        if self.writers is not None:
            self.writers.close()


def single_use_engine(url: str) -> Engine:
    """An engine for one-off work (migrations, CLI) that leaves no pooled connections behind."""
    if url.startswith("sqlite"):
        engine = create_engine(url, poolclass=NullPool)
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, poolclass=NullPool)
