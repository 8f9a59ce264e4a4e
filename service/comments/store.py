"""Hand-written SQL for the comment write path, run on the session's own DBAPI connection.

Posting a comment is the hottest write, and on this path SQLAlchemy's ORM cost far more than the
database: building a ``select()``, compiling-cache look-ups, the unit of work and model
construction took 0.3-1 ms per statement against ~10 us for the statement itself on SQLite
(docs/performance.md, "Writes"). These statements run inside the session's transaction (so
``session.commit()`` still commits them, and ``BEGIN IMMEDIATE``, the writer queue and the
connection pool are unchanged), with values converted exactly as the ORM stores them, so every
other reader of these tables (ORM queries, migrations, the audit verifier) sees the same rows.

The ORM models stay the schema's source of truth; tests/test_store.py checks that rows written
here read back through them unchanged, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, StatementError
from sqlmodel import Session

Params = Mapping[str, Any]

_NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
_PG_SQL: dict[str, str] = {}
_TABLES_WITH_IDS = frozenset({"comments", "idempotency_keys"})


def _pg(sql: str) -> str:
    """``:name`` placeholders (SQLite's named style) as psycopg's ``%(name)s``."""
    converted = _PG_SQL.get(sql)
    if converted is None:
        converted = _PG_SQL[sql] = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))
    return converted


class Sql:
    """The current transaction of ``session``, spoken to in plain SQL. Creating it begins the
    session's transaction if none is open (with the engine's ``BEGIN``/``BEGIN IMMEDIATE``)."""

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self._setup(
            connection.connection.driver_connection,
            connection.dialect.loaded_dbapi,
            postgres=connection.dialect.name == "postgresql",
        )

    def _setup(self, dbapi: Any, module: Any, *, postgres: bool) -> None:
        self.postgres = postgres
        self._dbapi = dbapi
        self._module = module
        if self.postgres:
            from psycopg.types.json import Json

            self._json_type: Any = Json
        else:
            self._json_type = None

    def _error(self, sql: str, params: Params, error: Exception) -> StatementError:
        # The same exception types as the ORM raises, so the error handlers (503 for a
        # database that is down or locked, IntegrityError handling) apply unchanged.
        return DBAPIError.instance(sql, dict(params), error, self._module.Error)

    def _execute(self, sql: str, params: Params) -> Any:
        cursor = self._dbapi.cursor()
        try:
            cursor.execute(_pg(sql) if self.postgres else sql, params)
        except self._module.Error as error:
            raise self._error(sql, params, error) from error
        return cursor

    def pipeline(self, statements: Sequence[tuple[str, Params]]) -> list[list[tuple[Any, ...]]]:
        """Run ``statements`` in order and return each one's rows (the server runs each after
        the previous has finished, so a lock the first takes already holds for the second's
        snapshot)."""
        return [self._any_rows(sql, params) for sql, params in statements]

    def run_at_commit(self, sql: str, params: Params) -> None:
        """A write nothing reads back before the commit. It runs now: the name says what the
        caller allows (service.review.events takes the chain lock with it, as late as it can)."""
        self.run(sql, params)

    def _any_rows(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        cursor = self._execute(sql, params)
        try:
            rows = cursor.fetchall() if cursor.description is not None else []
            return [tuple(row) for row in rows]
        finally:
            cursor.close()

    def run(self, sql: str, params: Params) -> None:
        self._execute(sql, params).close()

    def one(self, sql: str, params: Params) -> tuple[Any, ...] | None:
        cursor = self._execute(sql, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return tuple(row) if row is not None else None

    def all(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        cursor = self._execute(sql, params)
        try:
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    # --- values as the ORM's column types store them ------------------------------------

    def when(self, value: datetime) -> Any:
        """A UTCDateTime column value."""
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        if self.postgres:
            return value
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        # How SQLAlchemy's SQLite DateTime stores a value, "YYYY-MM-DD HH:MM:SS.ffffff" (naive
        # UTC, microseconds always present): the same text, so string comparisons and ORM reads
        # agree with rows the ORM wrote. isoformat takes a third of strftime's time.
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    def read_when(self, value: Any) -> datetime:
        """A UTCDateTime column value read back (SQLite returns its text)."""
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)

    def json(self, value: Any) -> Any:
        """A JSON column value."""
        if self._json_type is not None:
            return self._json_type(value)
        return json.dumps(value)

    @staticmethod
    def flag(value: Any) -> bool:
        """A Boolean column read back (SQLite returns 0/1)."""
        return bool(value)

    def next_id(self, table: str) -> str:
        """An SQL expression for the id the next row of ``table`` takes, for a statement in
        this transaction: PostgreSQL's sequence (concurrent transactions get distinct ids; a
        rollback leaves a gap), or on SQLite one more than the largest, exact under its write
        lock. ``table`` is one of this module's fixed names, never input."""
        if table not in _TABLES_WITH_IDS:
            raise ValueError(f"no id sequence for {table!r}")
        if self.postgres:
            return f"nextval(pg_get_serial_sequence('{table}', 'id'))"
        return f"(SELECT coalesce(max(id), 0) + 1 FROM {table})"  # noqa: S608 - a fixed name

    @staticmethod
    def placeholders(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
        """``:p0, :p1, ...`` and their parameters, for an ``IN (...)`` list."""
        names = {f"{prefix}{i}": value for i, value in enumerate(values)}
        return ", ".join(f":{name}" for name in names), names


def sql_of(source: Session | Sql) -> Sql:
    """``source`` itself if it is already a ``Sql``, else the session's transaction."""
    return source if isinstance(source, Sql) else Sql(source)
