"""Group commit for SQLite: the new comments that arrive while one commit is being made to disk
are written together in the next transaction, and each is acknowledged only after that
transaction's commit has returned.

With ``synchronous=FULL`` every commit waits for the disk (``fsync``), and SQLite commits one
transaction at a time, so one commit per comment caps a whole server at the disk's commit
rate (about 220 per second on the machine in docs/performance.md). A thread per worker
process takes the queued submissions, opens one ``BEGIN IMMEDIATE`` transaction, runs each
in a savepoint of its own (a comment refused with 409 or 429 leaves the others untouched),
commits once, then answers them all. Nothing is acknowledged before its commit: if the
commit fails every submission of the batch gets the error (503), none a 201.

Submissions from the event loop (``submit_on_loop``, the posting fast path) are written by
the event loop itself, between requests: the loop collects what the requests it served meanwhile
submitted, takes its worker's turn at the write lock when it is free (polling, never waiting),
and writes them in one transaction on a connection of its own. The writer thread spent most
of its time holding the lock while waiting for the interpreter lock: SQLite releases it for
every statement, and the busy event loop keeps it for up to the switch interval each time, so
a batch of 8 held the database for ~13 ms, about 1.5 ms per comment for 0.35 ms of work, and
the other worker waited (docs/performance.md, "Writes"). On the loop a statement costs its
own time. The commit's ``fsync`` then stalls the loop (~0.3-1 ms per batch on the machine
measured), which the loop would have spent on the same CPU anyway.

PostgreSQL does not need this: its concurrent transactions already share WAL flushes.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlmodel import Session

from service.comments.store import Sql
from service.db import Database
from service.errors import MarginError

T = TypeVar("T")

# Submissions per transaction at most (a savepoint each; one fsync for all).
MAX_BATCH = 64
# The writer thread ends after this long without work and starts again with the next one.
IDLE_SECONDS = 5.0
# The event loop looks again for a free write lock after this long, doubling up to the
# maximum (another worker's batch holds it for a few milliseconds).
LOOP_RETRY_FIRST_S = 0.0002
LOOP_RETRY_MAX_S = 0.002


@dataclass
class _Job(Generic[T]):
    work: Callable[[Session], T]
    future: Future[T] | asyncio.Future[T] = field(default_factory=Future)


def _claim(future: Future[T] | asyncio.Future[T]) -> bool:
    """False if the waiter gave up (cancelled) before its work began; else its work begins."""
    if isinstance(future, Future):
        return future.set_running_or_notify_cancel()
    return not future.cancelled()


class _Busy(Exception):
    """SQLite's lock is held by another program (the loop's connection does not wait)."""

    def __init__(self, error: DBAPIError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class _LoopQueue:
    """Submissions from one event loop waiting for that loop to write them."""

    jobs: list[_Job[object]] = field(default_factory=list)
    flushing: bool = False


class GroupCommit:
    """Runs write functions in shared transactions on the database's write connection."""

    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job[object]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False
        self.transactions = 0  # batches committed or tried (tests, diagnostics)
        self._loop_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopQueue] = (
            weakref.WeakKeyDictionary()
        )
        self._busy_timeout_s = db.busy_timeout_ms / 1000

    def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` inside a batch transaction and return its result once that
        transaction is committed (or raise what ``work`` raised, or the commit's error).
        ``work`` must not commit or roll back; it may raise a MarginError to refuse."""
        return self.submit(work).result()

    def submit(self, work: Callable[[Session], T]) -> Future[T]:
        """Queue ``work`` like ``run`` and return at once: the future is resolved after the
        batch's commit (so an event loop can await it with ``asyncio.wrap_future``)."""
        future: Future[T] = Future()
        job: _Job[T] = _Job(work, future)
        self._queue.put(job)  # type: ignore[arg-type]
        with self._lock:
            if not self._running:
                self._running = True
                threading.Thread(
                    target=self._serve, name="margin-group-commit", daemon=True
                ).start()
        return future

    def submit_on_loop(self, work: Callable[[Session], T]) -> asyncio.Future[T]:
        """From code on the event loop (SQLite file only): queue ``work`` for that loop to
        write; the future is resolved after the batch's commit, like ``submit``'s."""
        loop = asyncio.get_running_loop()
        pending = self._loop_queues.get(loop)
        if pending is None:
            pending = self._loop_queues[loop] = _LoopQueue()
        future: asyncio.Future[T] = loop.create_future()
        pending.jobs.append(_Job(work, future))  # type: ignore[arg-type]
        if not pending.flushing:
            # After the callbacks already ready: the requests this loop is serving now join
            # the batch.
            pending.flushing = True
            loop.call_soon(self._flush_on_loop, loop, pending, None, LOOP_RETRY_FIRST_S)
        return future

    def _flush_on_loop(
        self,
        loop: asyncio.AbstractEventLoop,
        pending: _LoopQueue,
        deadline: float | None,
        pause: float,
    ) -> None:
        if not self._db.try_loop_write_turn():
            self._retry_on_loop(
                loop,
                pending,
                deadline,
                pause,
                PoolTimeoutError("writers of other workers held the database"),
            )
            return
        batch, pending.jobs = pending.jobs[: self._max_batch], pending.jobs[self._max_batch :]
        try:
            self._write(batch, self._db.loop_write, wait_for_lock=False)
        except _Busy as busy:
            pending.jobs[:0] = batch
            self._retry_on_loop(loop, pending, deadline, pause, busy.error)
            return
        finally:
            self._db.end_loop_write_turn()
        if pending.jobs:
            loop.call_soon(self._flush_on_loop, loop, pending, None, LOOP_RETRY_FIRST_S)
        else:
            pending.flushing = False

    def _retry_on_loop(
        self,
        loop: asyncio.AbstractEventLoop,
        pending: _LoopQueue,
        deadline: float | None,
        pause: float,
        error: Exception,
    ) -> None:
        """Look for the lock again later; after the busy timeout, everything waiting gets
        ``error`` (answered 503), as a thread waiting that long would."""
        now = time.monotonic()
        if deadline is None:
            deadline = now + self._busy_timeout_s
        if now < deadline:
            retry = min(pause * 2, LOOP_RETRY_MAX_S)
            loop.call_later(pause, self._flush_on_loop, loop, pending, deadline, retry)
            return
        jobs, pending.jobs, pending.flushing = pending.jobs, [], False
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(error)

    def _serve(self) -> None:
        try:
            self._loop()
        except BaseException:
            # Only interpreter shutdown gets here (_write catches every Exception); let the
            # next submission start a new thread rather than wait for this one.
            with self._lock:
                self._running = False
            raise

    def _loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    # A job put before this check is seen here; one put after it finds
                    # _running False and starts a new thread.
                    if self._queue.empty():
                        self._running = False
                        return
                continue
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(
        self,
        batch: list[_Job[object]],
        open_session: Callable[[], AbstractContextManager[Session]] | None = None,
        *,
        wait_for_lock: bool = True,
    ) -> None:
        """Write ``batch`` in one transaction of a session from ``open_session`` (the write
        connection by default). With ``wait_for_lock=False``, SQLite's lock held by another
        program raises ``_Busy`` before any work ran, and nothing is answered."""
        # A job whose future was cancelled before it ran is dropped; the others can no
        # longer be cancelled, so setting their results below cannot fail.
        batch = [job for job in batch if _claim(job.future)]
        if not batch:
            return
        self.transactions += 1
        done: list[tuple[_Job[object], object]] = []
        try:
            with (open_session or self._db.write)() as session:
                sql = _begin(session, wait_for_lock)
                for job in batch:
                    sql.run("SAVEPOINT submission", {})
                    try:
                        result = job.work(session)
                    except MarginError as refused:
                        # Refused (409, 429, 403, 422): undo its writes, keep the others'.
                        sql.run("ROLLBACK TO SAVEPOINT submission", {})
                        sql.run("RELEASE SAVEPOINT submission", {})
                        job.future.set_exception(refused)
                        continue
                    sql.run("RELEASE SAVEPOINT submission", {})
                    done.append((job, result))
                session.commit()
        except _Busy:
            raise
        except BaseException as error:
            # The transaction is rolled back (the session closes without a commit): nobody
            # in this batch may be told their comment was stored.
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for job, result in done:
            job.future.set_result(result)


def _begin(session: Session, wait_for_lock: bool) -> Sql:
    """``BEGIN IMMEDIATE`` (after this worker's turn at the lock)."""
    try:
        return Sql(session)
    except DBAPIError as error:
        locked = (
            isinstance(error.orig, sqlite3.OperationalError)
            and error.orig.sqlite_errorcode == sqlite3.SQLITE_BUSY
        )
        if locked and not wait_for_lock:
            raise _Busy(error) from error
        raise
