"""PostgreSQL from the event loop: psycopg's asynchronous connections, outside SQLAlchemy.

A pooled session's statement costs four round trips (the pool's liveness ping, ``BEGIN``, the
statement, the rollback when it is returned), the ORM's bookkeeping and a request thread; here a
statement is one round trip on the loop. Two users:

- the thread version that validates every page request (``one``: a single read-only statement
  in autocommit mode);
- a new comment (``connection``, service.comments.posting): its reads in autocommit mode, then
  its write transaction with an explicit ``BEGIN`` ... ``COMMIT``. Its code is the request
  thread's own, synchronous code, run in a greenlet on the loop (``run_blocking_code``), so every
  statement waits for the database without holding up the loop or handing the request to a
  thread. On a request thread a post spent most of its time passing the interpreter lock back
  and forth with the loop, once per round trip (docs/performance.md, "Writes").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.util import await_only, greenlet_spawn

T = TypeVar("T")


class LoopConnections:
    """At most ``size`` connections, in autocommit mode; callers beyond that wait for one.
    Errors surface as SQLAlchemy's exception types, so a database that is down answers 503
    as anywhere else. Connections belong to the event loop that opened them; on another loop
    (tests start one per client) the old ones are closed and new ones opened."""

    def __init__(self, url: str, *, size: int) -> None:
        self._conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
        self._size = size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[Any] = []
        self._slots: asyncio.Semaphore | None = None

    def _slots_of_this_loop(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop is not self._loop or self._slots is None:
            self.close()
            self._loop, self._slots = loop, asyncio.Semaphore(self._size)
        return self._slots

    async def _connect(self) -> Any:
        import psycopg

        try:
            return await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, connect_timeout=5
            )
        except psycopg.Error as error:
            raise DBAPIError.instance("connect", {}, error, psycopg.Error) from error

    async def one(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """One read-only statement. A connection that fails is dropped and the statement
        tried once more on a new one (it only reads)."""
        import psycopg

        async with self._slots_of_this_loop():
            for attempt in (1, 2):
                conn = self._idle.pop() if self._idle else await self._connect()
                try:
                    cursor = await conn.execute(sql, params)
                    row = await cursor.fetchone()
                except psycopg.Error as error:
                    await conn.close()
                    if attempt == 2 or not isinstance(error, psycopg.OperationalError):
                        raise DBAPIError.instance(sql, params, error, psycopg.Error) from error
                    continue
                self._idle.append(conn)
                return None if row is None else tuple(row)
        raise AssertionError("unreachable")

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A connection for one request's statements. It goes back to the idle ones only if
        it is left outside any transaction and no error escaped; otherwise it is closed (the
        server rolls back whatever it had not committed)."""
        from psycopg.pq import TransactionStatus

        async with self._slots_of_this_loop():
            conn = self._idle.pop() if self._idle else await self._connect()
            reusable = False
            try:
                yield conn
                reusable = conn.info.transaction_status == TransactionStatus.IDLE
            finally:
                if reusable:
                    self._idle.append(conn)
                else:
                    await conn.close()

    def close(self) -> None:
        """Close the idle connections (from any thread: libpq's own close, no event loop)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.pgconn.finish()


async def run_blocking_code(function: Callable[..., T], *args: Any) -> T:
    """Run synchronous code on the loop; inside it, ``wait_for`` awaits a coroutine (the
    same mechanism as SQLAlchemy's own asyncio support)."""
    result: T = await greenlet_spawn(function, *args)
    return result


def rows_of(conn: Any, sql: str, params: Any) -> list[Sequence[Any]]:
    """Inside ``run_blocking_code``: execute on an asynchronous connection and fetch every
    row (none for a statement that returns none)."""

    async def execute() -> list[Sequence[Any]]:
        cursor = await conn.execute(sql, params)
        return list(await cursor.fetchall()) if cursor.description is not None else []

    rows: list[Sequence[Any]] = await_only(execute())
    return rows


def pipelined_rows_of(
    conn: Any, statements: Sequence[tuple[str, Any]]
) -> list[list[Sequence[Any]]]:
    """Inside ``run_blocking_code``: the statements in one round trip (psycopg's pipeline
    mode), each executed by the server after the one before it has finished, and every
    statement's rows. The first error aborts the rest and is raised."""

    async def execute() -> list[list[Sequence[Any]]]:
        cursors = []
        async with conn.pipeline():
            for sql, params in statements:
                cursor = conn.cursor()
                await cursor.execute(sql, params)
                cursors.append(cursor)
        return [
            list(await cursor.fetchall()) if cursor.description is not None else []
            for cursor in cursors
        ]

    results: list[list[Sequence[Any]]] = await_only(execute())
    return results
