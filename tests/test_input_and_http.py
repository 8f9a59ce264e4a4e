"""Bad input gets a clear error; writes are JSON-only and origin-checked; CORS is per site."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from service.db import Database
from tests.factories import ORIGIN, auth, comment_payload, make_moderator, make_site, post_comment

URL = "/api/v1/sites/news/comments"


@pytest.mark.parametrize(
    "field", ["status", "site_id", "id", "approved", "created_at", "email_lookup"]
)
def test_extra_fields_are_rejected(client: TestClient, db: Database, field: str) -> None:
    """S-MASS-1: fields a reader must not set are refused with 422 naming the field."""
    make_site(db)
    response = client.post(
        URL, json=comment_payload(**{field: "approved"}), headers={"Origin": ORIGIN}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["fields"] == [{"field": field, "message": "is not an accepted field"}]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@" + "b" * 260 + ".org"}, "email"),
        ({"author_name": "   "}, "author_name"),
        ({"author_name": "x" * 65}, "author_name"),
        ({"author_name": "evil\u202ename"}, "author_name"),
        ({"body": ""}, "body"),
        ({"body": "   \n "}, "body"),
        ({"body": "x" * 10_001}, "body"),
        ({"body": "nul\x00byte"}, "body"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"website": "ftp://example.org"}, "website"),
        ({"parent_id": 0}, "parent_id"),
        ({"thread": ""}, "thread"),
    ],
)
def test_invalid_fields_get_422_with_the_field(
    client: TestClient, db: Database, overrides: dict[str, object], field: str
) -> None:
    make_site(db)
    response = client.post(URL, json=comment_payload(**overrides), headers={"Origin": ORIGIN})
    assert response.status_code == 422, response.text
    assert field in [f["field"] for f in response.json()["error"]["fields"]]


def test_missing_field_is_named(client: TestClient, db: Database) -> None:
    make_site(db)
    payload = comment_payload()
    del payload["email"]
    response = client.post(URL, json=payload, headers={"Origin": ORIGIN})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == [{"field": "email", "message": "is required"}]


def test_broken_json_is_400(client: TestClient, db: Database) -> None:
    make_site(db)
    response = client.post(
        URL, content=b'{"thread": ', headers={"Origin": ORIGIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_non_json_writes_are_415(client: TestClient, db: Database, content_type: str) -> None:
    """S-CSRF-1: a form post cannot create a comment, even with a JSON body."""
    make_site(db)
    response = client.post(
        URL,
        content=json.dumps(comment_payload()).encode(),
        headers={"Origin": ORIGIN, "Content-Type": content_type},
    )
    assert response.status_code == 415


def test_writes_need_an_allowed_origin(client: TestClient, db: Database) -> None:
    """S-CSRF-2: an unknown or missing Origin cannot write."""
    make_site(db)
    assert post_comment(client, origin="https://evil.example").status_code == 403
    response = client.post(URL, json=comment_payload())
    assert response.status_code == 403
    assert "Origin" in response.json()["error"]["message"]


def test_oversized_body_is_413(client: TestClient, db: Database) -> None:
    """D-SIZE-1: a body over the limit is refused before parsing."""
    make_site(db)
    big = json.dumps(comment_payload(body="x" * 70_000)).encode()
    response = client.post(
        URL, content=big, headers={"Origin": ORIGIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 413

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield b"x" * 1000

    streamed = client.post(
        URL, content=chunks(), headers={"Origin": ORIGIN, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


def test_cors_answers_only_registered_origins(client: TestClient, db: Database) -> None:
    """S-CORS-1: ACAO echoes registered origins only, with Vary: Origin; moderator API has none."""
    make_site(db)
    preflight = client.options(
        URL,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "Origin" in preflight.headers["vary"]
    denied = client.options(
        URL, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert denied.status_code == 403
    assert "access-control-allow-origin" not in denied.headers
    read = client.get(URL, params={"thread": "t"}, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in read.headers
    read_ok = client.get(URL, params={"thread": "t"}, headers={"Origin": ORIGIN})
    assert read_ok.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-credentials" not in read_ok.headers
    token = make_moderator(db, "news")
    moderation = client.get(
        "/api/v1/moderation/comments",
        params={"site": "news"},
        headers={**auth(token), "Origin": ORIGIN},
    )
    assert moderation.status_code == 200
    assert "access-control-allow-origin" not in moderation.headers
    assert moderation.headers["cache-control"] == "no-store"


def test_security_headers_on_every_answer(client: TestClient, db: Database) -> None:
    """S-HDR-1: nosniff and a referrer policy everywhere, errors included."""
    make_site(db)
    for response in (
        client.get(URL, params={"thread": "t"}),
        client.get("/api/v1/sites/nope/comments", params={"thread": "t"}),
        client.get("/healthz"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"]


def test_query_validation_is_422(client: TestClient, db: Database) -> None:
    make_site(db)
    assert client.get(URL).status_code == 422
    assert client.get(URL, params={"thread": "t", "limit": 1000}).status_code == 422
    assert client.get(URL, params={"thread": "t", "sort": "random"}).status_code == 422
