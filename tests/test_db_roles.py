"""The one PostgreSQL role set-up (docs/operations.md): the owner migrates and grants, the app
role serves and cannot rewrite the append-only logs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.cli import main
from service.settings import Settings
from tests.conftest import ORIGIN, PG_ADMIN_URL, _pg_reachable
from tests.factories import comment_payload

pytestmark = pytest.mark.postgres


@pytest.fixture
def owner_db() -> Iterator[tuple[str, str, str]]:
    if not _pg_reachable():
        pytest.skip("PostgreSQL not reachable")
    suffix = uuid.uuid4().hex[:8]
    owner, app, database = f"margin_owner_{suffix}", f"margin_app_{suffix}", f"margin_{suffix}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {owner} LOGIN CREATEROLE PASSWORD 'owner-pw'")
        conn.execute(f'CREATE DATABASE "{database}" OWNER {owner}')
    host = PG_ADMIN_URL.split("@", 1)[1].rsplit("/", 1)[0]
    yield f"postgresql+psycopg://{owner}:owner-pw@{host}/{database}", app, host
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f"DROP ROLE IF EXISTS {app}")
        conn.execute(f"DROP ROLE IF EXISTS {owner}")


def test_owner_migrates_and_grants_app_role_serves_logs_stay_append_only(
    owner_db: tuple[str, str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """D-*/P-*: `margin migrate --app-role` as the owner; the app role posts comments (which
    append events) but UPDATE/DELETE/TRUNCATE on the logs and DDL are refused by PostgreSQL."""
    owner_url, app, host = owner_db
    database = owner_url.rsplit("/", 1)[1]
    monkeypatch.setenv("MARGIN_DATABASE_URL", owner_url)
    monkeypatch.setenv("MARGIN_KEY_FILE", str(tmp_path / "keys.json"))
    assert main(["migrate", "--app-role", app]) == 2  # the role does not exist yet
    assert "does not exist" in capsys.readouterr().err
    monkeypatch.setenv("MARGIN_APP_ROLE_PASSWORD", "app-pw")
    assert main(["migrate", "--app-role", app, "--create-role"]) == 0
    assert "created and granted" in capsys.readouterr().out
    assert main(["site", "create", "news", "--origin", ORIGIN, "--mode", "publish"]) == 0
    capsys.readouterr()
    assert main(["migrate", "--app-role", app, "--create-role"]) == 0  # idempotent per release
    assert "created and" not in capsys.readouterr().out

    app_url = f"postgresql+psycopg://{app}:app-pw@{host}/{database}"
    settings = Settings(database_url=app_url, key_file=tmp_path / "keys.json")
    served = create_app(settings)
    with TestClient(served) as client:
        answer = client.post(
            "/api/v1/sites/news/comments",
            json=comment_payload(form_token=None),
            headers={"Origin": ORIGIN},
        )
        assert answer.status_code == 201, answer.text
    served.state.margin.db.dispose()

    with psycopg.connect(f"postgresql://{app}:app-pw@{host}/{database}", autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM moderation_events").fetchone()[0] >= 1
        for statement in (
            "UPDATE moderation_events SET reason = 'x'",
            "DELETE FROM pii_access",
            "TRUNCATE moderation_events",
            "UPDATE alembic_version SET version_num = 'x'",
            "CREATE TABLE intruder (id int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
