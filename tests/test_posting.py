"""Posting a comment, the one path every database shares (service.comments.posting): cheap
checks before any costly work, the costly work off the event loop, refusals that store
nothing, and an Idempotency-Key retry answered as the first post."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from service import moderation
from service.app import create_app
from service.comments import rendering, spamcheck
from service.comments.models import Comment
from service.db import Database
from service.settings import Settings
from tests.factories import OPEN_POLICY, ORIGIN, comment_payload, make_site, post_comment
from tests.live import run_async

URL = "/api/v1/sites/news/comments"
# How late /healthz may answer while a slow post is being checked (the post takes 2 s).
HEALTHZ_BOUND_S = 1.0
SLOW_POST_S = 2.0


def _stored(db: Database) -> list[str]:
    with db.read() as session:
        return [c.body for c in session.exec(select(Comment).order_by(Comment.id)).all()]


@pytest.fixture
def costly_work(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every call of the costly per-comment work: Markdown rendering, the moderation
    pipeline and the learned spam filter (each still does its work)."""
    called: list[str] = []
    # Posting renders through rendering.render_bounded (service.comments.screening).
    work = (
        (rendering, "render_bounded", "render"),
        (moderation, "moderate", "moderate"),
        (spamcheck, "assess", "assess"),
    )
    for module, attribute, name in work:
        real = getattr(module, attribute)

        def counting(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            called.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, attribute, counting)
    return called


def test_a_flood_limited_post_costs_no_rendering_moderation_or_scoring(
    client: TestClient, db: Database, costly_work: list[str]
) -> None:
    """D-RATE-1: a post refused by the flood limit is refused before it is rendered,
    moderated or scored, and stores nothing; an accepted post does all three."""
    limits = {"ip": None, "thread": None, "author": {"limit": 1, "window_seconds": 60}}
    make_site(db, policy={**OPEN_POLICY, "rate_limits": limits})
    assert post_comment(client, body="one").status_code == 201
    assert sorted(set(costly_work)) == ["assess", "moderate", "render"]
    costly_work.clear()
    refused = post_comment(client, body="two")
    assert refused.status_code == 429, refused.text
    assert refused.headers["retry-after"]
    assert costly_work == []
    assert _stored(db) == ["one"]


def test_a_duplicate_and_a_closed_or_oversized_post_cost_no_costly_work(
    tmp_path: Path, database_url: str, costly_work: list[str]
) -> None:
    """D-SIZE-1, D-RATE-1: a duplicate (409), a body over the server's MARGIN_MAX_BODY_CHARS (422,
    saying what is wrong) and a foreign thread_url (422) are refused by the cheap checks."""
    settings = Settings(
        database_url=database_url, key_file=tmp_path / "keys.json", max_body_chars=100
    )
    app = create_app(settings)
    with TestClient(app, base_url="http://margin.test") as client:
        db: Database = app.state.margin.db
        make_site(db)
        assert post_comment(client, body="same words").status_code == 201
        costly_work.clear()
        duplicate = post_comment(client, body="same words")
        assert duplicate.status_code == 409, duplicate.text
        too_long = post_comment(client, body="x" * 101)
        assert too_long.status_code == 422, too_long.text
        assert "at most 100 characters" in too_long.text
        foreign = post_comment(client, body="fine", thread_url="https://evil.example/a")
        assert foreign.status_code == 422, foreign.text
        assert costly_work == []
        assert _stored(db) == ["same words"]
        # The limit counts characters: 100 of them are fine.
        assert post_comment(client, body="y" * 100).status_code == 201
    db.dispose()


@pytest.mark.parametrize(
    ("name", "send", "status"),
    [
        ("duplicate", lambda c: post_comment(c, body="same words"), 409),
        (
            "missing field",
            lambda c: c.post(URL, json={"body": "x"}, headers={"Origin": ORIGIN}),
            422,
        ),
        ("unknown field", lambda c: post_comment(c, status="approved"), 422),
        ("blank body", lambda c: post_comment(c, body="   "), 422),
        (
            "not JSON",
            lambda c: c.post(
                URL,
                content=b"{not json",
                headers={"Origin": ORIGIN, "Content-Type": "application/json"},
            ),
            400,
        ),
        (
            "not an object",
            lambda c: c.post(
                URL,
                content=b"[1, 2]",
                headers={"Origin": ORIGIN, "Content-Type": "application/json"},
            ),
            422,
        ),
        ("form post", lambda c: c.post(URL, data={"body": "x"}, headers={"Origin": ORIGIN}), 415),
        ("no Origin", lambda c: c.post(URL, json=comment_payload()), 403),
        ("foreign Origin", lambda c: post_comment(c, origin="https://elsewhere.example"), 403),
        (
            "bad Idempotency-Key",
            lambda c: post_comment(c, headers={"Idempotency-Key": " " * 200}),
            422,
        ),
        ("foreign thread_url", lambda c: post_comment(c, thread_url="https://evil.example/a"), 422),
    ],
)
def test_refusals_and_errors_store_nothing(
    client: TestClient, db: Database, name: str, send: Any, status: int
) -> None:
    """S-INPUT-1, D-SIZE-1: every refusal or validation error is answered with its status and the
    error envelope (CORS headers on what a site's origin sent), and stores nothing."""
    make_site(db)
    post_comment(client, body="same words")
    answer = send(client)
    assert answer.status_code == status, (name, answer.text)
    assert "error" in answer.json(), name
    assert _stored(db) == ["same words"]


def test_a_new_comment_is_answered_after_its_commit_with_cors(
    client: TestClient, db: Database
) -> None:
    """A 201 carries the comment (never the email) and the site's CORS header, and the
    comment is published at once."""
    make_site(db)
    created = post_comment(client, body="posted")
    assert created.status_code == 201, created.text
    assert created.headers["access-control-allow-origin"] == ORIGIN
    assert "email" not in created.text
    assert _stored(db) == ["posted"]
    page = client.get(URL, params={"thread": comment_payload()["thread"]}).json()
    assert [c["id"] for c in page["comments"]] == [created.json()["id"]]


def test_an_idempotent_retry_is_answered_as_the_first_post(
    client: TestClient, db: Database, costly_work: list[str]
) -> None:
    """R-DUP-1: a retried post with the same Idempotency-Key gets the first answer (before any costly
    work); a different body with the same key is a 409; one comment."""
    make_site(db)
    headers = {"Idempotency-Key": "retry-1"}
    first = post_comment(client, body="once", headers=headers)
    costly_work.clear()
    again = post_comment(client, body="once", headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert costly_work == []
    other = post_comment(client, body="something else", headers=headers)
    assert other.status_code == 409, other.text
    assert _stored(db) == ["once"]


@pytest.fixture
def slow_rendering(monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """Rendering that takes SLOW_POST_S of blocking time (as a pathological text could),
    recording when it started and ended (time.monotonic)."""
    times: dict[str, float] = {}
    started = threading.Event()
    real = rendering.render_bounded

    def slow(body: str) -> rendering.Rendered:
        times["started"] = time.monotonic()
        started.set()
        time.sleep(SLOW_POST_S)  # blocks whatever thread runs it, as CPU work would
        times["ended"] = time.monotonic()
        return real(body)

    monkeypatch.setattr(rendering, "render_bounded", slow)
    return times


def test_healthz_answers_while_a_slow_post_is_processed(
    client: TestClient, db: Database, slow_rendering: dict[str, float]
) -> None:
    """D-TIME-1: the costly work of one comment never runs on the event loop: while a post
    spends 2 s in it, /healthz (and every other request) is answered at once. (With posting
    on the event loop, /healthz waited the whole 2 s: issue 19.)"""
    make_site(db)
    app = client.app

    async def scenario() -> tuple[int, int, float]:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://margin.test") as http:
            post = asyncio.create_task(
                http.post(URL, json=comment_payload(body="slow"), headers={"Origin": ORIGIN})
            )
            deadline = time.monotonic() + 30
            while "started" not in slow_rendering and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            health = await http.get("/healthz")
            answered_at = time.monotonic()
            created = await post
        return health.status_code, created.status_code, answered_at

    health_status, post_status, answered_at = run_async(scenario)
    assert (health_status, post_status) == (200, 201)
    assert answered_at - slow_rendering["started"] < HEALTHZ_BOUND_S
    assert answered_at < slow_rendering["ended"], "answered only after the slow post's work"
    assert _stored(db) == ["slow"]
