"""R-BACKUP-1: backup, restore, the same rows, and only ciphertext emails in the backup."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from service import backup
from service.db import Database
from tests.conftest import PG_ADMIN_URL
from tests.factories import make_site, post_comment

EMAIL = "backed.up@example.org"
TABLES = ("sites", "threads", "comments", "moderation_events")


def _rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = {
            t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY id"))]
            for t in TABLES
        }
    engine.dispose()
    return rows


def test_backup_and_restore_round_trip(
    client: TestClient, db: Database, database_url: str, tmp_path: Path
) -> None:
    make_site(db)
    for i in range(5):
        assert post_comment(client, email=EMAIL, body=f"kept comment {i}").status_code == 201
    before = _rows(database_url)
    archive = backup.backup(database_url, tmp_path / "margin.backup")
    assert archive.stat().st_mode & 0o777 == 0o600
    raw = archive.read_bytes()
    assert EMAIL.encode() not in raw and b"backed.up" not in raw
    with pytest.raises(backup.BackupError, match="already exists"):
        backup.backup(database_url, archive)

    if db.is_sqlite:
        target = f"sqlite:///{tmp_path / 'restored.db'}"
        backup.restore(target, archive)
        assert _rows(target) == before
        return
    name = f"margin_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    target = database_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        backup.restore(target, archive)
        assert _rows(target) == before
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_restore_refuses_what_is_not_a_margin_backup(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"not a database at all" * 100)
    with pytest.raises(backup.BackupError):
        backup.restore(f"sqlite:///{tmp_path / 'x.db'}", bogus)
    with pytest.raises(backup.BackupError, match="does not exist"):
        backup.restore(f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "missing.db")
