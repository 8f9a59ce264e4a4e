"""Managing sites and moderator tokens: the site-admin API and `margin site|moderator` on the
command line, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.cli import main
from service.clock import system_clock
from service.db import Database
from service.moderators.service import create_moderator
from tests.conftest import ORIGIN, FrozenClock
from tests.factories import auth, make_moderator, make_site, post_comment

WWW = "https://www.news.example.org"


def admin_token(db: Database, *sites: str, pii: bool = False) -> str:
    with db.write() as session:
        _, token = create_moderator(
            session,
            name="Admin",
            site_slugs=list(sites),
            pii=pii,
            site_admin=True,
            now=system_clock(),
        )
    return token


def test_site_admin_adds_and_removes_origins_and_changes_mode(
    client: TestClient, db: Database
) -> None:
    """A new origin (www, staging) may post at once; a removed one is refused at once (the
    server's site cache is dropped); the change and its reason are in the event log."""
    make_site(db, "news")
    token = admin_token(db, "news")
    assert post_comment(client, origin=WWW).status_code == 403
    changed = client.patch(
        "/api/v1/moderation/sites/news",
        json={"add_origins": [WWW + "/"], "mode": "premoderate_all", "reason": "www launch"},
        headers=auth(token),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["allowed_origins"] == [ORIGIN, WWW]
    assert changed.json()["moderation_mode"] == "premoderate_all"
    assert changed.headers["cache-control"] == "no-store"
    created = post_comment(client, origin=WWW)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "pending"  # premoderate_all now holds everything
    config = client.get("/api/v1/sites/news/config").json()
    assert config["moderation_mode"] == "premoderate_all"

    removed = client.patch(
        "/api/v1/moderation/sites/news",
        json={"remove_origins": [ORIGIN], "name": "The News"},
        headers=auth(token),
    )
    assert removed.status_code == 200, removed.text
    assert removed.json()["allowed_origins"] == [WWW]
    assert removed.json()["name"] == "The News"
    assert post_comment(client, body="Another one entirely.").status_code == 403
    assert client.get("/api/v1/moderation/sites/news", headers=auth(token)).json()["name"] == (
        "The News"
    )

    events = client.get(
        "/api/v1/moderation/events", params={"site": "news"}, headers=auth(token)
    ).json()["items"]
    updates = [e for e in events if e["action"] == "site_update"]
    assert len(updates) == 2
    first = updates[-1]
    assert first["reason"] == "www launch"
    assert first["details"]["before"]["allowed_origins"] == [ORIGIN]
    assert first["details"]["after"]["moderation_mode"] == "premoderate_all"


def test_site_update_refuses_bad_changes_and_changes_nothing(
    client: TestClient, db: Database
) -> None:
    make_site(db, "news")
    token = admin_token(db, "news")
    for body, field in [
        ({"remove_origins": [WWW]}, "remove_origins"),
        ({"add_origins": ["https://x.org/path"]}, "origin"),
        ({"add_origins": ["ftp://x.org"]}, "origin"),
        ({}, "change"),
        ({"mode": "everything"}, "mode"),
        ({"add_origins": [WWW], "remove_origins": [WWW]}, "remove_origins"),
    ]:
        answer = client.patch("/api/v1/moderation/sites/news", json=body, headers=auth(token))
        assert answer.status_code == 422, (body, answer.text)
        assert field in answer.text, (body, answer.text)
    view = client.get("/api/v1/moderation/sites/news", headers=auth(token)).json()
    assert view["allowed_origins"] == [ORIGIN]


def test_only_site_admins_manage_and_only_their_own_sites(client: TestClient, db: Database) -> None:
    """A plain moderator reads its sites but changes nothing (403); a site admin gets the same
    404 for another site, and for a moderator who also acts on a site that is not theirs."""
    make_site(db, "news")
    make_site(db, "other", origins=["https://other.example.org"])
    plain = make_moderator(db, "news")
    admin = admin_token(db, "news")
    outsider = make_moderator(db, "other", name="Outsider")
    both = make_moderator(db, "news", "other", name="Both")
    del outsider, both

    listed = client.get("/api/v1/moderation/sites", headers=auth(plain))
    assert [s["site"] for s in listed.json()] == ["news"]
    for method, url, body in [
        ("PATCH", "/api/v1/moderation/sites/news", {"name": "X"}),
        ("GET", "/api/v1/moderation/moderators?site=news", None),
        ("POST", "/api/v1/moderation/moderators/2/revoke", None),
        ("POST", "/api/v1/moderation/moderators/2/rotate", {}),
        ("POST", "/api/v1/moderation/moderators", {"name": "N", "sites": ["news"]}),
    ]:
        answer = client.request(method, url, json=body, headers=auth(plain))
        assert answer.status_code == 403, (url, answer.text)
        assert "site-admin" in answer.json()["error"]["message"]

    assert (
        client.patch(
            "/api/v1/moderation/sites/other", json={"name": "X"}, headers=auth(admin)
        ).status_code
        == 404
    )
    mods = client.get("/api/v1/moderation/moderators?site=news", headers=auth(admin)).json()
    assert {m["name"] for m in mods} == {"Mod", "Admin", "Both"}
    assert all("token" not in m and "token_hash" not in m for m in mods)
    by_name = {m["name"]: m["id"] for m in mods}
    # Outsider (id 3) acts only on "other"; Both also on "other": neither is the admin's to touch.
    for target in (3, by_name["Both"], 999):
        answer = client.post(f"/api/v1/moderation/moderators/{target}/revoke", headers=auth(admin))
        assert answer.status_code == 404, answer.text
    assert (
        client.post(
            "/api/v1/moderation/moderators",
            json={"name": "N", "sites": ["other"]},
            headers=auth(admin),
        ).status_code
        == 404
    )
    granted = client.post(
        "/api/v1/moderation/moderators",
        json={"name": "N", "sites": ["news"], "can_reveal_pii": True},
        headers=auth(admin),
    )
    assert granted.status_code == 403
    assert "PII" in granted.json()["error"]["message"]


def test_tokens_expire_rotate_and_revoke(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    """An expired token is refused with 401; rotating gives a new token and refuses the old one
    at once; a revoked token is refused and cannot be rotated back to life."""
    make_site(db, "news")
    admin = admin_token(db, "news", pii=True)
    expires = clock.now + timedelta(days=1)
    created = client.post(
        "/api/v1/moderation/moderators",
        json={"name": "Temp", "sites": ["news"], "expires_at": expires.isoformat()},
        headers=auth(admin),
    )
    assert created.status_code == 201, created.text
    token, moderator = created.json()["token"], created.json()["moderator"]
    assert moderator["state"] == "active" and moderator["expires_at"].startswith("2026-11-29")
    queue = "/api/v1/moderation/comments?site=news"
    assert client.get(queue, headers=auth(token)).status_code == 200

    clock.advance(days=1)  # exactly at expiry: refused
    refused = client.get(queue, headers=auth(token))
    assert refused.status_code == 401
    assert "expired" in refused.json()["error"]["message"]
    assert refused.headers["www-authenticate"] == "Bearer"
    mods = client.get("/api/v1/moderation/moderators?site=news", headers=auth(admin)).json()
    assert {m["name"]: m["state"] for m in mods}["Temp"] == "expired"

    rotated = client.post(
        f"/api/v1/moderation/moderators/{moderator['id']}/rotate", json={}, headers=auth(admin)
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["token"]
    assert new != token and rotated.json()["moderator"]["expires_at"] is None
    assert client.get(queue, headers=auth(new)).status_code == 200
    assert client.get(queue, headers=auth(token)).status_code == 401

    revoked = client.post(
        f"/api/v1/moderation/moderators/{moderator['id']}/revoke", headers=auth(admin)
    )
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    answer = client.get(queue, headers=auth(new))
    assert answer.status_code == 401 and "revoked" in answer.json()["error"]["message"]
    again = client.post(
        f"/api/v1/moderation/moderators/{moderator['id']}/rotate", json={}, headers=auth(admin)
    )
    assert again.status_code == 409


def test_expiry_must_be_future_and_zoned(client: TestClient, db: Database) -> None:
    make_site(db, "news")
    admin = admin_token(db, "news")
    for value in ["2020-01-01T00:00:00Z", "2030-01-01T00:00:00", "2199-01-01T00:00:00Z", "soon"]:
        answer = client.post(
            "/api/v1/moderation/moderators",
            json={"name": "N", "sites": ["news"], "expires_at": value},
            headers=auth(admin),
        )
        assert answer.status_code == 422, (value, answer.text)


# -- the command line, on both databases ------------------------------------------------------


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MARGIN_DATABASE_URL", database_url)
    monkeypatch.setenv("MARGIN_KEY_FILE", str(tmp_path / "keys.json"))
    return database_url


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_site_list_show_update(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "site", "create", "news", "--origin", ORIGIN)[0] == 0
    code, out, err = _run(
        capsys,
        "site",
        "update",
        "news",
        "--add-origin",
        WWW,
        "--add-origin",
        "http://localhost:4000",
        "--mode",
        "publish",
        "--name",
        "The News",
        "--reason",
        "launch",
    )
    assert code == 0, err
    code, out, _ = _run(capsys, "site", "list")
    assert out.split("\t")[:3] == ["news", "publish", "The News"]
    assert WWW in out and "http://localhost:4000" in out
    code, out, _ = _run(capsys, "site", "update", "news", "--remove-origin", ORIGIN)
    assert code == 0
    code, out, _ = _run(capsys, "site", "show", "news")
    import json

    shown = json.loads(out)
    assert shown["allowed_origins"] == ["http://localhost:4000", WWW]
    assert shown["moderation_mode"] == "publish"
    code, _, err = _run(capsys, "site", "update", "news", "--remove-origin", ORIGIN)
    assert code == 2 and "not an allowed origin" in err
    code, _, err = _run(capsys, "site", "update", "missing", "--name", "x")
    assert code == 2 and "no site 'missing'" in err
    code, _, err = _run(capsys, "site", "update", "news")
    assert code == 2 and "nothing to change" in err


def test_cli_moderator_list_revoke_rotate_and_expiry(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Tokens made on the command line: expiry honoured by the API (401 after it), rotation
    refuses the old token, revocation refuses the token."""
    from service.app import create_app
    from service.settings import Settings

    assert _run(capsys, "site", "create", "news", "--origin", ORIGIN)[0] == 0
    code, token, err = _run(
        capsys, "moderator", "create", "--site", "news", "--name", "Eve", "--expires-in", "30d"
    )
    assert code == 0 and "expires" in err
    token = token.strip()
    code, out, _ = _run(capsys, "moderator", "list", "--site", "news")
    fields = out.strip().split("\t")
    assert fields[:3] == ["1", "active", "Eve"] and fields[-1].startswith("expires=20")

    clock = FrozenClock(now=system_clock())
    settings = Settings(database_url=cli_env, key_file=Path(str(Settings().key_file)))
    app = create_app(settings, clock=clock)
    queue = "/api/v1/moderation/comments?site=news"
    with TestClient(app) as client:
        assert client.get(queue, headers=auth(token)).status_code == 200
        clock.advance(days=31)
        assert client.get(queue, headers=auth(token)).status_code == 401
        clock.advance(days=-31)

        code, new, err = _run(capsys, "moderator", "rotate", "1", "--expires-in", "2w")
        assert code == 0, err
        new = new.strip()
        assert client.get(queue, headers=auth(token)).status_code == 401
        assert client.get(queue, headers=auth(new)).status_code == 200

        assert _run(capsys, "moderator", "revoke", "1")[0] == 0
        assert client.get(queue, headers=auth(new)).status_code == 401
    app.state.margin.db.dispose()
    code, out, _ = _run(capsys, "moderator", "list", "--json")
    import json

    assert json.loads(out)[0]["state"] == "revoked"
    code, _, err = _run(capsys, "moderator", "rotate", "1")
    assert code == 2 and "revoked" in err
    code, _, err = _run(capsys, "moderator", "revoke", "7")
    assert code == 2 and "no moderator 7" in err
    for bad in ("yesterday", "2001-01-01", "0d"):
        code, _, err = _run(
            capsys, "moderator", "create", "--site", "news", "--name", "X", "--expires-in", bad
        )
        assert code == 2 and "expires" in err, (bad, err)
