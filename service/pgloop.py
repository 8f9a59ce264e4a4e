"""PostgreSQL from the event loop: psycopg's asynchronous connections, outside SQLAlchemy.

A pooled session's statement costs four round trips (the pool's liveness ping, ``BEGIN``, the
statement, the rollback when it is returned), the ORM's bookkeeping and a request thread; here a
statement is one round trip on the loop. One user: the thread version that validates every
page request (``one``: a single read-only statement in autocommit mode, no CPU work on the
request's text). Posting never runs here: it runs on a request thread
(service.comments.posting).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError


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

    def close(self) -> None:
        """Close the idle connections (from any thread: libpq's own close, no event loop)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.pgconn.finish()
