"""R-DB-DOWN-1 / R-DB-LOCK-1: a database that is away answers 503 with Retry-After, never a
201 for a write that was not committed, and the service recovers without a restart."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from service.app import create_app
from service.db import Database
from service.settings import Settings
from tests.factories import OPEN_POLICY, make_site, post_comment
from tests.tcp_proxy import TcpProxy


def _count(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        value: int = conn.execute(text("SELECT count(*) FROM comments")).scalar_one()
    engine.dispose()
    return value


@pytest.fixture
def proxied(postgres_url: str) -> Iterator[tuple[str, TcpProxy]]:
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(
            text("TRUNCATE comments, threads, moderation_events, sites RESTART IDENTITY CASCADE")
        )
    engine.dispose()
    proxy = TcpProxy("127.0.0.1", 5432)
    proxy.start()
    url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    yield url, proxy
    proxy.stop()


def test_postgres_going_away_and_coming_back(
    proxied: tuple[str, TcpProxy], postgres_url: str, tmp_path: Path
) -> None:
    url, proxy = proxied
    settings = Settings(database_url=url, key_file=tmp_path / "keys.json")
    app = create_app(settings)
    make_site(app.state.margin.db, policy=dict(OPEN_POLICY))
    with TestClient(app, base_url="http://margin.test") as client:
        assert post_comment(client, body="before the outage").status_code == 201
        assert client.get("/readyz").status_code == 200

        proxy.stop()
        down = post_comment(client, body="during the outage")
        assert down.status_code == 503
        assert down.headers["retry-after"]
        assert down.json()["error"]["code"] == "unavailable"
        assert "Traceback" not in down.text
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["retry-after"]
        assert client.get("/healthz").status_code == 200, "the process itself is alive"
        read = client.get("/api/v1/sites/news/comments", params={"thread": "/2020/12/18/zoom-data"})
        assert read.status_code == 503

        proxy.start()  # the same port again
        after = post_comment(client, body="after the outage")
        assert after.status_code == 201
        again = client.get(
            "/api/v1/sites/news/comments", params={"thread": "/2020/12/18/zoom-data"}
        )
        assert again.status_code == 200, "page reads reconnect too"
        assert client.get("/readyz").status_code == 200
    app.state.margin.db.dispose()
    assert _count(postgres_url) == 2, "exactly the acknowledged comments were stored"


def test_sqlite_locked_beyond_busy_timeout_is_503_not_500(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "locked.db"
    path.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{path}"
    settings = Settings(
        database_url=url, key_file=tmp_path / "keys.json", sqlite_busy_timeout_ms=200
    )
    app = create_app(settings)
    make_site(app.state.margin.db, policy=dict(OPEN_POLICY))
    with TestClient(app, base_url="http://margin.test") as client:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            locked = post_comment(client, body="while another process holds the lock")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert locked.status_code == 503
        assert locked.headers["retry-after"]
        assert post_comment(client, body="once the lock is gone").status_code == 201
    app.state.margin.db.dispose()
    database = Database(url)
    with database.read() as session:
        bodies = [row[0] for row in session.execute(text("SELECT body FROM comments"))]
    database.dispose()
    assert bodies == ["once the lock is gone"]
