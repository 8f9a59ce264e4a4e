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

PostgreSQL does not need this: its concurrent transactions already share WAL flushes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlmodel import Session

from service.comments.store import Sql
from service.db import Database
from service.errors import MarginError

T = TypeVar("T")

# Submissions per transaction at most (a savepoint each; one fsync for all).
MAX_BATCH = 64
# The writer thread ends after this long without work and starts again with the next one.
IDLE_SECONDS = 5.0


@dataclass
class _Job(Generic[T]):
    work: Callable[[Session], T]
    future: Future[T] = field(default_factory=Future)


class GroupCommit:
    """Runs write functions in shared transactions on the database's write connection."""

    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job[object]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False
        self.transactions = 0  # batches committed or tried (tests, diagnostics)

    def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` inside a batch transaction and return its result once that
        transaction is committed (or raise what ``work`` raised, or the commit's error).
        ``work`` must not commit or roll back; it may raise a MarginError to refuse."""
        return self.submit(work).result()

    def submit(self, work: Callable[[Session], T]) -> Future[T]:
        """Queue ``work`` like ``run`` and return at once: the future is resolved after the
        batch's commit."""
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

    def _write(self, batch: list[_Job[object]]) -> None:
        """Write ``batch`` in one transaction on the write connection."""
        # A job whose future was cancelled before it ran is dropped; the others can no
        # longer be cancelled, so setting their results below cannot fail.
        batch = [job for job in batch if job.future.set_running_or_notify_cancel()]
        if not batch:
            return
        self.transactions += 1
        done: list[tuple[_Job[object], object]] = []
        try:
            with self._db.write() as session:
                sql = Sql(session)  # BEGIN IMMEDIATE, after this worker's turn at the lock
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
