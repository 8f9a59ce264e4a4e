"""The `margin` command and start-up checks."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from sqlmodel import select

from service.app import create_app
from service.cli import main
from service.db import Database
from service.moderators.models import Moderator
from service.privacy.keys import KeyError_
from service.settings import Settings
from service.sites.models import Site


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MARGIN_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("MARGIN_KEY_FILE", str(tmp_path / "keys.json"))
    return tmp_path


def test_site_and_moderator_creation_stores_only_the_token_hash(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            ["site", "create", "news", "--origin", "https://news.example.org/", "--mode", "publish"]
        )
        == 0
    )
    assert "https://news.example.org" in capsys.readouterr().out
    assert main(["moderator", "create", "--site", "news", "--name", "Eve", "--pii"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("mgn_") and len(token) > 40
    db = Database(f"sqlite:///{env / 'cli.db'}")
    with db.read() as session:
        moderator = session.exec(select(Moderator)).one()
        site = session.exec(select(Site)).one()
    db.dispose()
    assert moderator.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert moderator.can_reveal_pii is True
    assert site.allowed_origins == ["https://news.example.org"]
    assert token.encode() not in (env / "cli.db").read_bytes()


def test_cli_errors_are_clear(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["site", "create", "Bad Slug!"]) == 2
    assert "slug" in capsys.readouterr().err
    assert main(["site", "create", "news", "--origin", "https://x.org/path"]) == 2
    assert "origin only" in capsys.readouterr().err
    assert main(["moderator", "create", "--site", "missing", "--name", "Eve"]) == 2
    assert "no such site" in capsys.readouterr().err


def test_development_creates_a_private_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "keys.json"
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}", key_file=key_file))
    app.state.margin.db.dispose()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert json.loads(key_file.read_text())["version"] == 1


def test_production_refuses_to_start_without_keys(tmp_path: Path) -> None:
    settings = Settings(
        env="production",
        database_url=f"sqlite:///{tmp_path / 'p.db'}",
        key_file=tmp_path / "none.json",
    )
    with pytest.raises(KeyError_, match="does not exist"):
        create_app(settings)
    assert not (tmp_path / "none.json").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"version": 2}', "version"),
        ('{"version": 1}', "encryption_keys"),
    ],
)
def test_broken_key_files_fail_at_start_up(tmp_path: Path, content: str, message: str) -> None:
    key_file = tmp_path / "keys.json"
    key_file.write_text(content)
    with pytest.raises(KeyError_, match=message):
        create_app(Settings(database_url=f"sqlite:///{tmp_path / 'b.db'}", key_file=key_file))


def test_production_hides_the_api_docs_and_every_route_is_documented(tmp_path: Path) -> None:
    """S-API-1: no /docs in production; every served API route is in the OpenAPI inventory."""
    from fastapi.testclient import TestClient

    from service.privacy.keys import Keyring, write_keyring

    key_file = tmp_path / "keys.json"
    write_keyring(key_file, Keyring.generate())
    db_url = f"sqlite:///{tmp_path / 'prod.db'}"
    from service.migrate import upgrade

    upgrade(db_url)
    prod = create_app(Settings(env="production", database_url=db_url, key_file=key_file))
    with TestClient(prod) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 404
    prod.state.margin.db.dispose()

    dev = create_app(Settings(database_url=db_url, key_file=key_file))
    documented = set(dev.openapi()["paths"])
    api_routes = set()
    for route in dev.routes:
        router = getattr(route, "original_router", None)  # an included router
        for inner in router.routes if router is not None else [route]:
            path = getattr(inner, "path", "")
            if path.startswith("/api/") and getattr(inner, "include_in_schema", False):
                api_routes.add(path)
    assert len(api_routes) > 20
    assert api_routes == {p for p in documented if p.startswith("/api/")}
    dev.state.margin.db.dispose()


def test_front_page_is_the_demo_only_when_the_demo_is_on(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    for demo, expected in ((True, 307), (False, 404)):
        app = create_app(
            Settings(
                database_url=f"sqlite:///{tmp_path / 'f.db'}",
                key_file=tmp_path / "k.json",
                demo=demo,
            )
        )
        with TestClient(app, follow_redirects=False) as client:
            response = client.get("/")
            assert response.status_code == expected
            if demo:
                assert response.headers["location"] == "/demo"
        app.state.margin.db.dispose()
