"""The admin command line: subject export/erase, purge, keys, audit verify."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.cli import main
from service.db import Database
from service.settings import Settings
from tests.factories import make_site, post_comment


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("MARGIN_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MARGIN_KEY_FILE", str(settings.key_file))
    return settings


def test_cli_subject_export_and_erase_on_every_site(
    client: TestClient, db: Database, env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    make_site(db)
    make_site(db, "blog")
    post_comment(client, email="cli.person@example.org", author_name="Cli Person", body="news one")
    post_comment(
        client, "blog", email="cli.person@example.org", author_name="Cli Person", body="blog one"
    )
    post_comment(client, email="else@example.org", body="someone else")
    assert main(["subject", "export", "--email", "CLI.Person@example.org"]) == 0
    export = json.loads(capsys.readouterr().out)
    assert sorted(c["site"] for c in export["comments"]) == ["blog", "news"]
    assert {e["actor"] for e in export["access_register"]} == {"admin"}
    assert main(["subject", "erase", "--email", "cli.person@example.org"]) == 2  # needs --yes
    assert main(["subject", "erase", "--email", "cli.person@example.org", "--yes"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["comments"] == 2
    assert main(["subject", "export", "--email", "cli.person@example.org"]) == 0
    assert json.loads(capsys.readouterr().out)["comments"] == []


def test_cli_keys_purge_and_audit(
    client: TestClient, db: Database, env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    make_site(db)
    post_comment(client)
    assert main(["keys", "rotate", "--settle", "0", "--pause", "0"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["remaining"] == 0 and "e2" in out.err
    assert main(["keys", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["encryption"] == {"active": "e2", "keys": {"e1": 0, "e2": 1}}
    assert main(["keys", "retire", "e1"]) == 0
    assert main(["keys", "rotate", "--lookup", "--settle", "0", "--pause", "0"]) == 0
    assert main(["purge"]) == 0
    assert "purge" not in capsys.readouterr().err
    assert main(["audit", "verify"]) == 0
    assert "intact" in capsys.readouterr().out
    with db.engine.connect() as conn:
        if db.is_sqlite:
            conn.execute(text("DROP TRIGGER moderation_events_no_update"))
        else:
            conn.execute(text("ALTER TABLE moderation_events DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE moderation_events SET to_status = 'approved', reason = 'edited'"))
        if not db.is_sqlite:
            conn.execute(text("ALTER TABLE moderation_events ENABLE TRIGGER USER"))
        conn.commit()
    assert main(["audit", "verify"]) == 1
    assert "content does not match" in capsys.readouterr().out
    assert main(["audit", "app-role", "margin_app"]) == 0
    assert (
        "REVOKE UPDATE, DELETE, TRUNCATE ON pii_access FROM margin_app;" in capsys.readouterr().out
    )
