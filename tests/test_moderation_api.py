"""The moderator API: queue, decisions with reasons, tenancy, the event log."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import col, select

from service.db import Database
from service.review.events import verify_chain
from service.review.models import ModerationEvent
from tests.factories import auth, decide, make_moderator, make_site, post_comment

HELD = {"mode": "premoderate_all", "require_form_token": False}


def test_queue_lists_pending_with_reasons_oldest_first(client: TestClient, db: Database) -> None:
    make_site(db, policy=HELD)
    token = make_moderator(db, "news")
    ids = [
        post_comment(client, body=f"held {i}", email=f"p{i}@example.org").json()["id"]
        for i in range(5)
    ]
    page = client.get(
        "/api/v1/moderation/comments", params={"site": "news", "limit": 2}, headers=auth(token)
    ).json()
    assert [i["id"] for i in page["items"]] == ids[:2]
    first = page["items"][0]
    assert first["status"] == "pending" and first["reason"]
    assert first["moderation"]["verdicts"], "each item carries every check's verdict"
    assert "email" not in first and "email_lookup" not in first
    rest = client.get(
        "/api/v1/moderation/comments",
        params={"site": "news", "limit": 10, "cursor": page["next_cursor"]},
        headers=auth(token),
    ).json()
    assert [i["id"] for i in rest["items"]] == ids[2:]
    assert rest["next_cursor"] is None


def test_decision_requires_a_reason_and_a_known_action(client: TestClient, db: Database) -> None:
    """S-MOD-3: a moderator action without a reason is refused."""
    make_site(db, policy=HELD)
    token = make_moderator(db, "news")
    cid = post_comment(client).json()["id"]
    url = f"/api/v1/moderation/comments/{cid}/decision"
    assert (
        client.post(
            url, json={"action": "approve", "reason": "  "}, headers=auth(token)
        ).status_code
        == 422
    )
    assert client.post(url, json={"action": "approve"}, headers=auth(token)).status_code == 422
    assert (
        client.post(url, json={"action": "publish", "reason": "x"}, headers=auth(token)).status_code
        == 422
    )
    ok = client.post(url, json={"action": "approve", "reason": "on topic"}, headers=auth(token))
    assert ok.status_code == 200 and ok.json()["status"] == "approved"


def test_bulk_decisions_are_all_or_nothing(client: TestClient, db: Database) -> None:
    make_site(db, policy=HELD)
    make_site(db, "other", policy=HELD)
    token = make_moderator(db, "news")
    ours = [
        post_comment(client, body=f"b{i}", email=f"b{i}@example.org").json()["id"] for i in range(3)
    ]
    theirs = post_comment(client, "other", body="elsewhere").json()["id"]
    refused = client.post(
        "/api/v1/moderation/decisions",
        json={"ids": [*ours, theirs], "action": "approve", "reason": "batch"},
        headers=auth(token),
    )
    assert refused.status_code == 404
    queue = client.get(
        "/api/v1/moderation/comments", params={"site": "news"}, headers=auth(token)
    ).json()
    assert len(queue["items"]) == 3, "nothing changed"
    done = client.post(
        "/api/v1/moderation/decisions",
        json={"ids": ours, "action": "spam", "reason": "ads"},
        headers=auth(token),
    )
    assert done.status_code == 200
    assert {i["status"] for i in done.json()["items"]} == {"spam"}


def test_moderator_of_one_site_gets_404_for_another(client: TestClient, db: Database) -> None:
    """S-AUTHZ-1: cross-site access answers 404, never 403 (no existence oracle)."""
    make_site(db, policy=HELD)
    make_site(db, "other", policy=HELD)
    ours = make_moderator(db, "news", pii=True)
    theirs_id = post_comment(client, "other").json()["id"]
    checks = [
        client.get("/api/v1/moderation/comments", params={"site": "other"}, headers=auth(ours)),
        client.get("/api/v1/moderation/events", params={"site": "other"}, headers=auth(ours)),
        decide(client, ours, theirs_id),
        client.post(
            f"/api/v1/moderation/comments/{theirs_id}/reveal-email",
            json={"purpose": "curious about this one", "category": "other"},
            headers=auth(ours),
        ),
        client.get(
            "/api/v1/moderation/comments", params={"site": "no-such-site"}, headers=auth(ours)
        ),
        decide(client, ours, 999_999),
    ]
    for response in checks:
        assert response.status_code == 404, response.text


def test_every_decision_is_in_a_verifiable_event_log(client: TestClient, db: Database) -> None:
    make_site(db, policy=HELD)
    token = make_moderator(db, "news")
    cid = post_comment(client).json()["id"]
    decide(client, token, cid, "approve", "fine")
    decide(client, token, cid, "reject", "second look: insulting")
    events = client.get(
        "/api/v1/moderation/events", params={"site": "news"}, headers=auth(token)
    ).json()["items"]
    assert [(e["actor"], e["action"], e["to_status"]) for e in reversed(events)] == [
        ("system", "auto_hold", "pending"),
        ("moderator", "approve", "approved"),
        ("moderator", "reject", "rejected"),
    ]
    assert events[0]["reason"] == "second look: insulting"
    with db.read() as session:
        rows = list(session.exec(select(ModerationEvent).order_by(col(ModerationEvent.id))).all())
    assert verify_chain(rows) == []
    rows[1].reason = "edited afterwards"
    assert verify_chain(rows) != []


def test_event_log_is_append_only_in_the_database(client: TestClient, db: Database) -> None:
    """S-AUDIT-1: the database refuses updates and deletes on the log."""
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    make_site(db, policy=HELD)
    post_comment(client)
    for statement in ("UPDATE moderation_events SET reason = 'x'", "DELETE FROM moderation_events"):
        with pytest.raises(DBAPIError, match="append-only"), db.write_engine.begin() as conn:
            conn.execute(text(statement))
