"""Raw scans of the database: the SQLite file and WAL after checkpoint+VACUUM, or every
PostgreSQL table as text. What an attacker holding the disk or a dump would see."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from service.db import Database
from service.privacy.retention import compact
from tests.factories import ORIGIN

IP = "203.0.113.77"


def raw_dump(db: Database) -> bytes:
    """Every byte the database holds, after the same compaction `margin` runs."""
    compact(db)
    if db.is_sqlite:
        path = Path(db.url.removeprefix("sqlite:///"))
        data = path.read_bytes()
        for suffix in ("-wal", "-journal"):
            extra = path.with_name(path.name + suffix)
            if extra.exists():
                data += extra.read_bytes()
        return data
    chunks: list[bytes] = []
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            value = conn.execute(
                text(f"SELECT coalesce(string_agg(t::text, '|'), '') FROM \"{table}\" t")
            ).scalar_one()
            chunks.append(str(value).encode())
    return b"\n".join(chunks)


def ip_client(client: TestClient, ip: str = IP) -> TestClient:
    """A second client on the same app whose requests come from ``ip`` (no lifespan run)."""
    return TestClient(client.app, base_url="http://margin.test", client=(ip, 50000))


def tokens_body(*created: dict[str, Any]) -> dict[str, Any]:
    return {"comments": [{"comment_id": c["id"], "edit_token": c["edit_token"]} for c in created]}


def post_privacy(client: TestClient, path: str, body: dict[str, Any], site: str = "news") -> Any:
    return client.post(
        f"/api/v1/sites/{site}/privacy/{path}", json=body, headers={"Origin": ORIGIN}
    )
