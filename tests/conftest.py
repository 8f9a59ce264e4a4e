"""Fixtures: every API test runs on SQLite and, when reachable, on PostgreSQL.

SQLite: the schema is migrated once into a template file, copied for each test.
PostgreSQL: one database per test session, migrated once, emptied before each test.
With MARGIN_REQUIRE_POSTGRES=1 (CI) an unreachable PostgreSQL is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from service.app import create_app
from service.db import Database
from service.migrate import upgrade
from service.settings import Settings

PG_ADMIN_URL = os.environ.get(
    "MARGIN_TEST_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = os.environ.get("MARGIN_REQUIRE_POSTGRES") == "1"
ORIGIN = "https://news.example.org"


@dataclass
class FrozenClock:
    """A clock tests can move."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 28, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "margin.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if not _pg_reachable():
        if REQUIRE_PG:
            pytest.fail("PostgreSQL is required (MARGIN_REQUIRE_POSTGRES=1) but not reachable")
        pytest.skip("PostgreSQL not reachable")
    name = f"margin_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    url = f"{base}/{name}"
    upgrade(url)
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


TABLES = (
    "comment_flags, rate_events, spam_feedback, comments, threads, idempotency_keys, "
    "moderation_events, moderator_sites, moderators, sites, pii_access"
)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        target = tmp_path / "margin.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, key_file=tmp_path / "keys.json")


@pytest.fixture
def client(settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    app = create_app(settings, clock=clock)
    with TestClient(app, base_url="http://margin.test") as test_client:
        yield test_client
    app.state.margin.db.dispose()


@pytest.fixture
def db(client: TestClient) -> Database:
    database: Database = client.app.state.margin.db  # type: ignore[attr-defined]
    return database
