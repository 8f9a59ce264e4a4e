"""The demo follows the port it is served on (``MARGIN_PORT=8002 make run`` after 8000)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from service.db import Database
from service.demo import DEMO_SITE, DEMO_THREAD, demo_origins, seed_demo
from tests.factories import comment_payload


def _seed(client: TestClient, db: Database, origins: list[str], token_file: Path) -> None:
    vault = client.app.state.margin.vault  # type: ignore[attr-defined]
    with db.write() as session:
        seed_demo(session, vault, origins=origins, token_file=token_file)


def test_demo_allows_the_origin_of_each_start(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    token_file = tmp_path / "var" / "demo-moderator-token"
    _seed(client, db, demo_origins("127.0.0.1", 8000), token_file)
    token = token_file.read_text()
    payload = comment_payload(thread=DEMO_THREAD, form_token=None)
    refused = client.post(
        f"/api/v1/sites/{DEMO_SITE}/comments",
        json=payload,
        headers={"Origin": "http://127.0.0.1:8002"},
    )
    assert refused.status_code == 403

    _seed(client, db, demo_origins("127.0.0.1", 8002), token_file)  # the second start
    client.app.state.margin.sites.forget(DEMO_SITE)  # type: ignore[attr-defined]
    for origin in ("http://127.0.0.1:8002", "http://localhost:8002", "http://127.0.0.1:8000"):
        answer = client.post(
            f"/api/v1/sites/{DEMO_SITE}/comments",
            json={**payload, "body": f"From {origin}, a fresh reply."},
            headers={"Origin": origin},
        )
        assert answer.status_code == 201, (origin, answer.text)
    assert token_file.read_text() == token  # the site and its moderator were not made again
    comments = client.get(
        f"/api/v1/sites/{DEMO_SITE}/comments", params={"thread": DEMO_THREAD}
    ).json()
    assert comments["thread"]["total"] >= 2


def test_demo_origins_include_a_specific_listening_host() -> None:
    assert demo_origins("0.0.0.0", 9000) == ["http://127.0.0.1:9000", "http://localhost:9000"]
    assert demo_origins("192.168.1.20", 8000)[-1] == "http://192.168.1.20:8000"
    assert demo_origins("::1", 8000)[-1] == "http://[::1]:8000"
