"""New comments posted without routing (service.comments.fastpost) get exactly the route's
answers: the same 201, the same refusals, the same validation errors, and a fault on the fast
path leaves the post to the route without storing it twice."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from service.comments import fastpost, posting, router
from service.comments.models import Comment
from service.db import Database
from tests.factories import ORIGIN, comment_payload, make_site, post_comment

URL = "/api/v1/sites/news/comments"
# Differ from one comment to the next whichever path answers.
VARYING = {"id", "edit_token", "html"}


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the posts the route itself answered (the fast path has its own reference)."""
    answered: list[int] = []
    respond = router.created_response

    def counting(created: Any) -> Any:
        answered.append(created.id)
        return respond(created)

    monkeypatch.setattr(router, "created_response", counting)
    return answered


def _without_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastpost.FastPosts, "_site", lambda self, scope: None)


def _stored(db: Database) -> list[str]:
    with db.read() as session:
        return [c.body for c in session.exec(select(Comment).order_by(Comment.id)).all()]


def _comparable(response: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    body = response.json()
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in VARYING}
        if isinstance(body.get("comment"), dict):
            body["comment"] = {k: v for k, v in body["comment"].items() if k not in VARYING}
    headers = {
        k: v for k, v in response.headers.items() if k not in ("x-request-id", "content-length")
    }
    return response.status_code, body, headers


def test_a_new_comment_is_posted_without_routing_with_the_routes_answer(
    client: TestClient, db: Database, routed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path answers 201 with the route's body and headers (CORS and security headers
    included), stores the comment once, and the comment is published as usual."""
    make_site(db)
    fast = post_comment(client, body="fast")
    assert fast.status_code == 201
    assert routed == []  # answered before routing
    _without_fast_path(monkeypatch)
    slow = post_comment(client, body="routed")
    assert slow.status_code == 201
    assert routed == [slow.json()["id"]]
    assert _comparable(fast) == _comparable(slow)
    assert fast.headers["access-control-allow-origin"] == ORIGIN
    assert "email" not in fast.text
    assert _stored(db) == ["fast", "routed"]
    page = client.get(URL, params={"thread": comment_payload()["thread"]}).json()
    assert [c["id"] for c in page["comments"]] == [fast.json()["id"], slow.json()["id"]]


@pytest.mark.parametrize(
    ("name", "send"),
    [
        ("duplicate", lambda c: post_comment(c, body="same words")),
        ("missing field", lambda c: c.post(URL, json={"body": "x"}, headers={"Origin": ORIGIN})),
        ("unknown field", lambda c: post_comment(c, status="approved")),
        ("blank body", lambda c: post_comment(c, body="   ")),
        (
            "not JSON",
            lambda c: c.post(
                URL,
                content=b"{not json",
                headers={"Origin": ORIGIN, "Content-Type": "application/json"},
            ),
        ),
        (
            "not an object",
            lambda c: c.post(
                URL,
                content=b"[1, 2]",
                headers={"Origin": ORIGIN, "Content-Type": "application/json"},
            ),
        ),
        (
            "form post",
            lambda c: c.post(URL, data={"body": "x"}, headers={"Origin": ORIGIN}),
        ),
        ("no Origin", lambda c: c.post(URL, json=comment_payload())),
        ("foreign Origin", lambda c: post_comment(c, origin="https://elsewhere.example")),
        ("bad Idempotency-Key", lambda c: post_comment(c, headers={"Idempotency-Key": " " * 200})),
        ("foreign thread_url", lambda c: post_comment(c, thread_url="https://evil.example/a")),
    ],
)
def test_refusals_and_errors_are_the_routes_own(
    client: TestClient,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    send: Any,
) -> None:
    """S-INPUT-1: every refusal or validation error on the fast path is byte-for-byte the
    route's (status, body and headers), and stores nothing."""
    make_site(db)
    post_comment(client, body="same words")
    fast = send(client)
    assert fast.status_code >= 400, name
    _without_fast_path(monkeypatch)
    slow = send(client)
    assert _comparable(fast) == _comparable(slow), name
    assert _stored(db) == ["same words"]


def test_a_fault_on_the_fast_path_leaves_the_post_to_the_route(
    client: TestClient, db: Database, routed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """R-CRASH-1: an error that is not a refusal (here: a fault before the write) hands the
    request, body included, to the route, which stores the comment exactly once."""
    make_site(db)

    async def broken_on_loop(*_: object) -> None:
        raise RuntimeError("a fault on the fast path")

    def broken_on_thread(*_: object) -> None:
        raise RuntimeError("a fault on the fast path")

    monkeypatch.setattr(posting, "create_on_loop", broken_on_loop)
    monkeypatch.setattr(posting, "create_on_loop_postgres", broken_on_loop)
    monkeypatch.setattr(fastpost.FastPosts, "_create", broken_on_thread)
    answer = post_comment(client, body="kept once")
    assert answer.status_code == 201
    assert routed == [answer.json()["id"]]
    assert _stored(db) == ["kept once"]


def test_an_idempotent_retry_is_answered_as_the_first_post(
    client: TestClient, db: Database, routed: list[int]
) -> None:
    """A retried post with the same Idempotency-Key gets the first answer; one comment. (On
    PostgreSQL the fast path leaves the replay to the route, which reads the first comment
    through the ORM.)"""
    make_site(db)
    headers = {"Idempotency-Key": "retry-1"}
    first = post_comment(client, body="once", headers=headers)
    again = post_comment(client, body="once", headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["edit_token"] == first.json()["edit_token"]
    assert routed == ([] if db.is_sqlite else [first.json()["id"]])
    assert _stored(db) == ["once"]
